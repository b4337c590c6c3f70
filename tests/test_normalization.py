"""The Normalization layer: the Standardizer's statistics inside the model, saved with it."""
import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

import gradwise as gw
from gradwise.gradcheck import check_layer


def test_adapt_matches_scikit_learn_standard_scaler(rng):
    X = rng.normal(3.0, 5.0, size=(40, 4))
    X[:, 2] = 7.0  # a constant column is centred, not divided by zero
    layer = gw.layers.Normalization().adapt(X)
    np.testing.assert_allclose(layer.forward(X), StandardScaler().fit_transform(X), atol=1e-12)
    np.testing.assert_allclose(layer.state["scale"], StandardScaler().fit(X).scale_)
    assert layer.count_params() == 0 and layer.count_state() == 8


def test_gradient_with_adapted_statistics(rng):
    layer = gw.layers.Normalization().adapt(rng.normal(2.0, 3.0, size=(30, 5)))
    differences = check_layer(layer, rng.normal(size=(6, 5)), rng)
    assert max(differences.values()) < 1e-7, differences


def test_model_on_raw_features_equals_model_on_standardized_ones(digits_split, tmp_path):
    X_train, X_test, y_train, _ = digits_split
    raw_train, raw_test = X_train * 4.0 + 8.0, X_test * 4.0 + 8.0  # undo-like shift and scale

    def model(first):
        net = gw.Sequential(first + [gw.layers.Dense(16, activation="relu"),
                                     gw.layers.Dense(10, activation="softmax")],
                            input_dim=64, seed=0)
        return net.compile(loss="categorical_crossentropy").build()
    with_layer = model([gw.layers.Normalization().adapt(raw_train)])
    scaler = gw.data.Standardizer().fit(raw_train)
    plain = model([])
    plain.set_weights(with_layer.get_weights())  # Normalization has no trainable weights
    np.testing.assert_allclose(with_layer.predict(raw_test),
                               plain.predict(scaler.transform(raw_test)), atol=1e-5)
    with_layer.fit(raw_train, y_train, epochs=2, verbose=0)
    gw.save_model(with_layer, tmp_path / "m.npz")
    loaded = gw.load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.predict(raw_test), with_layer.predict(raw_test))
    np.testing.assert_allclose(loaded.layers[0].state["mean"], scaler.mean_, rtol=1e-6)


def test_statistics_survive_a_float32_model_build(rng):
    X = rng.normal(10.0, 2.0, size=(50, 3))
    layer = gw.layers.Normalization().adapt(X)  # float64 until the model builds it
    gw.Sequential([layer, gw.layers.Dense(2)], input_dim=3, seed=0).build()
    assert layer.dtype == np.float32
    np.testing.assert_allclose(layer.state["mean"], X.mean(axis=0), rtol=1e-6)


def test_given_statistics_and_errors():
    layer = gw.layers.Normalization(mean=[1.0, 2.0], scale=[2.0, 4.0]).build(2, dtype=np.float64)
    np.testing.assert_allclose(layer.forward(np.array([[3.0, 6.0]])), [[1.0, 1.0]])
    with pytest.raises(ValueError, match="both or neither"):
        gw.layers.Normalization(mean=[0.0])
    with pytest.raises(ValueError, match="scale > 0"):
        gw.layers.Normalization(mean=[0.0], scale=[0.0])
    with pytest.raises(ValueError, match="input_dim"):
        gw.layers.Normalization(mean=[0.0], scale=[1.0]).build(3)
    with pytest.raises(ValueError, match="NaN"):
        gw.layers.Normalization().adapt(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="2 features"):
        layer.adapt(np.ones((4, 3)))
