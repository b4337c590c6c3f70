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


# -- the result: a float with a verdict, a table and the largest differences ---------------
@pytest.mark.parametrize("difference, expected", [
    (0.0, "correct"), (3e-9, "correct"), (9.99e-8, "correct"), (1e-7, "inspect"),
    (1e-5, "inspect"), (1e-3, "inspect"), (1.01e-3, "bug"), (0.5, "bug"), (float("nan"), "bug")])
def test_verdict_bands(difference, expected):
    from gradwise.gradcheck import verdict
    assert verdict(difference) == expected


class _SlightlyOff(gw.layers.Layer):
    """``y = x * s`` whose backward scales the gradient of ``s`` by ``1 + error``."""

    def __init__(self, error, **kwargs):
        super().__init__(**kwargs)
        self.error = error

    def _create_params(self, input_dim, rng):
        return {"s": rng.uniform(0.5, 1.5, size=input_dim)}

    def forward(self, x, training=False):
        self._x = x
        return x * self.params["s"]

    def backward(self, dy):
        self.grads["s"][...] = (dy * self._x).sum(axis=0) * (1 + self.error)
        return dy * self.params["s"]


def _off_by(error, rng):
    X, y = _data(rng)
    model = gw.Sequential([gw.layers.Dense(4, activation="tanh"), _SlightlyOff(error, name="off"),
                           gw.layers.Dense(3, activation="softmax")], input_dim=5, seed=0)
    model.compile(loss="categorical_crossentropy")
    return gw.gradcheck(model, X, y)


@pytest.mark.parametrize("error, expected", [(0.0, "correct"), (2e-5, "inspect"),
                                             (0.5, "bug")])
def test_a_backward_off_by_a_factor_gets_the_verdict_of_its_size(error, expected, rng):
    result = _off_by(error, rng)
    assert result.verdict == expected, float(result)
    if error:  # only the off layer's parameter is wrong, and the table says so
        rows = {(row.layer, row.parameter): row.difference for row in result.table}
        assert rows[("off", "s")] == pytest.approx(error / (2 + error), rel=1e-2)
        assert all(d < 1e-7 for key, d in rows.items() if key != ("off", "s"))
        assert result.largest[0].layer == "off" and result.largest[0].parameter == "s"


def test_the_result_is_a_float_with_a_table_and_the_largest_differences(rng):
    X, y = _data(rng)
    model = _model()
    model.compile(loss="categorical_crossentropy")
    result = gw.gradcheck(model, X, y, n_largest=4)
    assert isinstance(result, float) and float(result) == result and result * 2 == 2 * float(result)
    assert result < 1e-7 and f"{result:.1e}" == f"{float(result):.1e}"
    assert str(result) == repr(float(result)) and "verdict='correct'" in repr(result)
    trainable = [(layer.name, key, value.size) for layer in model.layers
                 for key, value in layer.params.items()]
    assert [(r.layer, r.parameter, r.size) for r in result.table] == trainable
    assert set(result.per_layer) == {name for name, _, _ in trainable}
    gaps = [entry.difference for entry in result.largest]
    assert len(gaps) == 4 and gaps == sorted(gaps, reverse=True)
    for entry in result.largest:  # each entry names a real parameter entry
        layer = next(l for l in model.layers if l.name == entry.layer)
        assert len(entry.index) == layer.params[entry.parameter].ndim
        assert entry.difference == pytest.approx(abs(entry.backprop - entry.numerical))
    text = result.report()
    assert "relative difference" in text and "correct" in text
    assert all(name in text for name, _, _ in trainable)
    legacy, per_layer = gw.gradcheck(model, X, y, per_layer=True)
    assert per_layer == legacy.per_layer and float(legacy) == float(result)
