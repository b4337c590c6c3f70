"""Bad input is refused at the front door with a message naming the argument."""
import numpy as np
import pytest

import gradwise as gw


@pytest.fixture
def model():
    m = gw.Sequential([gw.layers.Dense(4, activation="relu"),
                       gw.layers.Dense(3, activation="softmax")], input_dim=5, seed=0)
    m.compile(optimizer="adam", loss="categorical_crossentropy")
    return m


@pytest.fixture
def data(rng):
    return rng.normal(size=(10, 5)), np.arange(10) % 3


def test_wrong_number_of_columns(model, data):
    X, y = data
    with pytest.raises(ValueError, match=r"X: expected 5 features.*received 4"):
        model.fit(X[:, :4], y, verbose=0)
    model.fit(X, y, verbose=0)
    with pytest.raises(ValueError, match="X: expected 5 features"):
        model.predict(X[:, :4])


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_features(model, data, value):
    X, y = data
    X = X.copy()
    X[3, 2] = value
    with pytest.raises(ValueError, match="X: contains NaN or infinity.*row 3, column 2"):
        model.fit(X, y, verbose=0)
    with pytest.raises(ValueError, match="X: contains NaN"):
        model.predict(X)


def test_nothing_is_trained_before_checks_fail(model, data):
    X, y = data
    model.build()
    before = model.params_buffer.copy()
    with pytest.raises(ValueError):
        model.fit(X, np.full(10, 7), verbose=0)
    np.testing.assert_array_equal(model.params_buffer, before)
    assert model.optimizer.iterations == 0


@pytest.mark.parametrize("labels, pattern", [
    (np.full(10, 3), "y: .*categorical_crossentropy"),
    (np.full(10, -1), "y: "),
    (np.eye(4)[np.arange(10) % 4], "y: "),
    (np.array(["a"] * 10), "y"),
])
def test_labels_that_do_not_fit_the_loss(model, data, labels, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        model.fit(data[0], labels, verbose=0)


def test_binary_labels_outside_zero_one(data):
    m = gw.Sequential([gw.layers.Dense(1, activation="sigmoid")], input_dim=5)
    m.compile(loss="binary_crossentropy")
    with pytest.raises(ValueError, match="y: "):
        m.fit(data[0], np.arange(10), verbose=0)


def test_mismatched_lengths_and_empty_arrays(model, data):
    X, y = data
    with pytest.raises(ValueError, match="X and y have different numbers of samples"):
        model.fit(X, y[:5], verbose=0)
    with pytest.raises(ValueError, match="X: expected at least one sample"):
        model.fit(np.empty((0, 5)), np.empty(0), verbose=0)
    with pytest.raises(ValueError, match="X: expected a 2-D array"):
        model.fit(X[0], y[:1], verbose=0)


def test_non_numeric_features(model):
    with pytest.raises(TypeError, match="X: expected numeric data"):
        model.fit(np.array([["a"] * 5] * 3), [0, 1, 2], verbose=0)


@pytest.mark.parametrize("kwargs, error, pattern", [
    (dict(batch_size=0), ValueError, "batch_size=0"),
    (dict(batch_size=-4), ValueError, "batch_size=-4"),
    (dict(batch_size=2.5), TypeError, "batch_size"),
    (dict(epochs=0), ValueError, "epochs=0"),
    (dict(validation_split=1.5), ValueError, "validation_split"),
    (dict(class_weight={7: 2.0}), ValueError, "class_weight"),
    (dict(sample_weight=np.ones(3)), ValueError, "sample_weight"),
    (dict(callbacks=["early"]), TypeError, "callbacks"),
    (dict(validation_data=(np.ones((2, 5)),)), ValueError, "validation_data"),
])
def test_bad_fit_arguments(model, data, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        model.fit(*data, verbose=0, **kwargs)


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(loss="cross_entropyy"), "loss"),
    (dict(loss="mse", optimizer="adamm"), "optimizer"),
    (dict(loss="mse", metrics=["accuracyy"]), "accuracy"),
    (dict(loss=None), "loss"),
])
def test_unknown_names_in_compile(kwargs, pattern):
    m = gw.Sequential([gw.layers.Dense(2)], input_dim=3)
    with pytest.raises(ValueError, match=pattern):
        m.compile(**kwargs)


def test_fit_before_compile_and_bad_layers():
    with pytest.raises(RuntimeError, match="compile"):
        gw.Sequential([gw.layers.Dense(2)], input_dim=3).fit(np.ones((2, 3)), [0, 1])
    with pytest.raises(TypeError, match="layers"):
        gw.Sequential(["dense"])
    with pytest.raises(ValueError, match="input_dim=0"):
        gw.Sequential([gw.layers.Dense(2)], input_dim=0)


def test_validation_data_errors_name_validation_data():
    m = gw.Sequential([gw.layers.Dense(3, activation="softmax")], input_dim=2, seed=0)
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    X, y = np.ones((6, 2)), np.array([0, 1, 2, 0, 1, 2])
    with pytest.raises(ValueError, match=r"^validation_data y: ") as caught:
        m.fit(X, y, validation_data=(X, np.array([0, 1, 7, 0, 1, 2])), verbose=0)
    assert "y: " not in str(caught.value)[len("validation_data y: "):][:3]
    with pytest.raises(ValueError, match=r"^validation_data sample_weight: "):
        m.fit(X, y, validation_data=(X, y, np.ones(4)), verbose=0)
    with pytest.raises(ValueError, match=r"^y: "):  # the training targets keep their name
        m.fit(X, np.array([0, 1, 7, 0, 1, 2]), verbose=0)


@pytest.mark.parametrize("layers, fragment", [
    (gw.layers.Dense(1), "received one Dense; write Sequential([layer, ...])"),
    (3, "expected a list of layers, received int"),
])
def test_layers_that_are_not_a_list_are_refused(layers, fragment):
    with pytest.raises(TypeError, match=r"^layers: ") as caught:
        gw.Sequential(layers, input_dim=10)
    assert fragment in str(caught.value)
