"""gradcheck on whole models: small differences for correct back-propagation, large for a
deliberately broken layer, and a per-layer breakdown that points at the broken one."""
import numpy as np
import pytest

import gradwise as gw

REGULARIZERS = {"l1": gw.regularizers.L1(0.01), "l2": gw.regularizers.L2(0.1),
                "l1l2": gw.regularizers.L1L2(0.01, 0.1)}


def _data(rng, n=12, d=5, classes=3):
    X = rng.normal(size=(n, d))
    return X, rng.integers(0, classes, size=n)


def _model(**dense_kwargs):
    return gw.Sequential([
        gw.layers.Dense(6, activation="tanh", **dense_kwargs),
        gw.layers.BatchNormalization(),
        gw.layers.Dropout(0.5),
        gw.layers.PReLU(),
        gw.layers.Dense(3, activation="softmax"),
    ], input_dim=5, seed=0)


@pytest.mark.parametrize("loss", ["categorical_crossentropy", "mse", "mae", "huber"])
def test_gradcheck_is_tiny_for_a_correct_model(loss, rng):
    X, y = _data(rng)
    model = _model()
    model.compile(optimizer="sgd", loss=loss)
    target = y if loss == "categorical_crossentropy" else np.eye(3)[y]
    assert gw.gradcheck(model, X, target) < 1e-7


@pytest.mark.parametrize("name", sorted(REGULARIZERS))
def test_gradcheck_includes_regularization(name, rng):
    X, y = _data(rng)
    model = _model(kernel_regularizer=REGULARIZERS[name])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert gw.gradcheck(model, X, y) < 1e-7


def test_gradcheck_with_sigmoid_output_and_sample_weights(rng):
    X = rng.normal(size=(10, 4))
    y = (X[:, 0] > 0).astype(int)
    model = gw.Sequential([gw.layers.Dense(5, activation="elu"),
                           gw.layers.Dense(1, activation="sigmoid")], input_dim=4, seed=1)
    model.compile(loss="binary_crossentropy")
    assert gw.gradcheck(model, X, y, sample_weight=rng.uniform(0.5, 2, size=10)) < 1e-7


def test_gradcheck_flags_a_broken_backward_and_names_the_layer(rng, monkeypatch):
    X, y = _data(rng)
    model = _model()
    model.compile(loss="categorical_crossentropy")
    original = gw.layers.PReLU.backward

    def broken(self, dy):
        dx = original(self, dy)
        self.grads["alpha"] *= 1.5  # wrong parameter gradient
        return dx * 0.7  # wrong input gradient

    monkeypatch.setattr(gw.layers.PReLU, "backward", broken)
    total, per_layer = gw.gradcheck(model, X, y, per_layer=True)
    assert total > 1e-3
    prelu = next(layer.name for layer in model.layers if isinstance(layer, gw.layers.PReLU))
    assert per_layer[prelu] > 1e-3
    last = model.layers[-1].name
    assert per_layer[last] < 1e-7  # layers above the broken one are still right


def test_gradcheck_leaves_the_model_unchanged(rng):
    X, y = _data(rng)
    model = _model()
    model.compile(loss="categorical_crossentropy")
    model.build()
    before = model.get_weights(include_state=True)
    gw.gradcheck(model, X, y)
    for a, b in zip(before, model.get_weights(include_state=True)):
        np.testing.assert_array_equal(a, b)
    assert model.dtype == np.float32
