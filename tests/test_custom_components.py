"""A user's own layer, activation, loss, regularizer and initializer, none registered: each
trains, predicts, evaluates and passes gw.gradcheck; registered with gw.register, each
round-trips through a model file; unregistered, saving refuses with a clear message."""
import numpy as np
import pytest

import gradwise as gw
from gradwise import _registry

from _finite_differences import numeric_gradient, relative_difference


class ScaleShift(gw.layers.Layer):
    """``y = gamma * x + beta`` per unit, with its own backward."""

    def __init__(self, initial_scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.initial_scale = initial_scale

    def _create_params(self, input_dim, rng):
        return {"gamma": np.full(input_dim, self.initial_scale) + rng.normal(0, 0.1, input_dim),
                "beta": np.zeros(input_dim)}

    def forward(self, x, training=False):
        self._x = x
        return x * self.params["gamma"] + self.params["beta"]

    def backward(self, dy):
        self.grads["gamma"][...] = (dy * self._x).sum(axis=0)
        self.grads["beta"][...] = dy.sum(axis=0)
        return dy * self.params["gamma"]

    def get_config(self):
        return {**super().get_config(), "initial_scale": self.initial_scale}


class Softplus(gw.activations.Activation):
    """``log(1 + exp(z))``, derivative ``sigmoid(z)``."""

    name = "my_softplus"

    def forward(self, z, out=None):
        return np.logaddexp(0.0, z)

    def backward(self, z, a, da, out=None):
        return da / (1.0 + np.exp(-z))


class PseudoHuber(gw.losses.Loss):
    """``delta**2 * (sqrt(1 + (d/delta)**2) - 1)`` per element, ``d = p - y``."""

    name = "pseudo_huber"

    def __init__(self, delta=1.0):
        self.delta = float(delta)

    def _terms(self, y, p, need_grad):
        d = p - y
        root = np.sqrt(1.0 + (d / self.delta) ** 2)
        return self.delta ** 2 * (root - 1.0), (d / root if need_grad else None)

    def get_config(self):
        return {"delta": self.delta}


class LogPenalty(gw.regularizers.Regularizer):
    """``lam * sum(log(1 + W**2))``, gradient ``lam * 2W / (1 + W**2)``."""

    def __init__(self, lam=0.01):
        self.lam = float(lam)

    def __call__(self, W):
        return self.lam * float(np.log1p(np.asarray(W) ** 2).sum())

    def gradient(self, W):
        W = np.asarray(W)
        return self.lam * 2 * W / (1 + W ** 2)

    def get_config(self):
        return {"lam": self.lam}


class ScaledNormal(gw.initializers.Initializer):
    """Normal draws with standard deviation ``scale / sqrt(fan_in)``."""

    def __init__(self, scale=1.0):
        self.scale = float(scale)

    def __call__(self, shape, rng):
        return rng.normal(0.0, self.scale / np.sqrt(shape[0]), size=shape)

    def get_config(self):
        return {"scale": self.scale}


def _model(component):
    """A small regression network using one custom component (or all of them)."""
    every = component == "all"
    dense = {}
    if component in ("activation", "all"):
        dense["activation"] = Softplus()
    if component in ("regularizer", "all"):
        dense["kernel_regularizer"] = LogPenalty(0.05)
    if component in ("initializer", "all"):
        dense["kernel_initializer"] = ScaledNormal(0.5)
    layers = [gw.layers.Dense(6, **{"activation": "tanh", **dense})]
    if component in ("layer", "all"):
        layers.append(ScaleShift(0.8))
    layers.append(gw.layers.Dense(2))
    model = gw.Sequential(layers, input_dim=4, seed=3)
    loss = PseudoHuber(0.7) if component in ("loss", "all") or every else "mse"
    model.compile(optimizer=gw.optimizers.Adam(0.02), loss=loss)
    return model


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = np.stack([np.sin(X[:, 0]) + X[:, 1], X[:, 2] * X[:, 3]], axis=1)
    return X, y


COMPONENTS = ["layer", "activation", "loss", "regularizer", "initializer", "all"]


@pytest.mark.parametrize("component", COMPONENTS)
def test_unregistered_component_trains_predicts_evaluates_and_passes_gradcheck(component):
    X, y = _data()
    model = _model(component)
    before = model.evaluate(X, y)["loss"]
    history = model.fit(X, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]
    assert model.evaluate(X, y)["loss"] < before
    assert model.predict(X).shape == (len(X), 2)
    weights = model.get_weights(include_state=True)
    result = gw.gradcheck(model, X[:10], y[:10])
    assert result < 1e-7 and result.verdict == "correct", float(result)
    for a, b in zip(weights, model.get_weights(include_state=True)):  # the model is untouched
        np.testing.assert_array_equal(a, b)
    assert model.dtype == np.float32


def test_evaluate_uses_the_custom_loss_and_penalty_as_written():
    # Closed form: the pseudo-Huber of the predictions plus the log penalty of the kernel.
    X, y = _data(20)
    model = _model("all")
    model.fit(X, y, epochs=2, verbose=0)
    p = model.predict(X).astype(np.float64)
    d = p - y
    expected = np.mean(0.49 * (np.sqrt(1 + (d / 0.7) ** 2) - 1))
    W = model.layers[0].params["W"].astype(np.float64)
    expected += 0.05 * np.log1p(W ** 2).sum()
    assert model.evaluate(X, y)["loss"] == pytest.approx(expected, rel=1e-5)


def test_custom_activation_and_regularizer_gradients_match_central_differences(rng):
    z = rng.normal(size=(3, 4))
    activation = Softplus()
    numeric = numeric_gradient(lambda v: activation.forward(v).sum(), z.copy())
    assert relative_difference(activation.backward(z, activation.forward(z), np.ones_like(z)),
                               numeric) < 1e-8
    penalty = LogPenalty(0.3)
    W = rng.normal(size=(4, 3))
    assert relative_difference(penalty.gradient(W), numeric_gradient(penalty, W.copy())) < 1e-8
    # The training loop adds the gradient in place through add_gradient, which must use it.
    out = np.ones_like(W)
    np.testing.assert_allclose(penalty.add_gradient(W, out), 1 + penalty.gradient(W))


def test_custom_initializer_draws_are_used_with_its_scale():
    model = gw.Sequential([gw.layers.Dense(400, kernel_initializer=ScaledNormal(2.0))],
                          input_dim=100, seed=0).build()
    W = model.layers[0].params["W"]
    assert W.std() == pytest.approx(2.0 / np.sqrt(100), rel=0.02)


def test_gradcheck_of_a_custom_layer_with_a_wrong_backward_is_a_bug():
    class WrongScaleShift(ScaleShift):
        def backward(self, dy):
            dx = super().backward(dy)
            self.grads["gamma"] *= 2.0  # the factor x forgotten twice over
            return dx

    X, y = _data(10)
    model = gw.Sequential([gw.layers.Dense(3, activation="tanh"), WrongScaleShift(name="wrong"),
                           gw.layers.Dense(2)], input_dim=4, seed=0)
    model.compile(loss="mse")
    result = gw.gradcheck(model, X, y)
    assert result.verdict == "bug" and result > 1e-3
    assert result.per_layer["wrong"] > 1e-3
    assert all(entry.layer == "wrong" and entry.parameter == "gamma"
               for entry in result.largest[:3])


def test_layers_with_unregistered_components_are_reused_for_transfer():
    X, y = _data(16)
    model = _model("all")
    model.fit(X, y, epochs=2, verbose=0)
    reused = gw.transfer.reuse_layers(model, 2, freeze=False)
    assert type(reused[0].activation) is Softplus and type(reused[1]) is ScaleShift
    new = gw.Sequential(reused + [gw.layers.Dense(2)], input_dim=4, seed=5)
    new.compile(loss=PseudoHuber(0.7))
    new.build()
    head = model.layers[-1]
    new.layers[-1].params["W"][...] = head.params["W"]
    new.layers[-1].params["b"][...] = head.params["b"]
    np.testing.assert_allclose(new.predict(X), model.predict(X), rtol=1e-6)
    assert gw.gradcheck(new, X[:6], y[:6]) < 1e-7


# -- registration and model files -----------------------------------------------------------
@pytest.fixture
def registered():
    """Subclasses of every component, registered under a package; unregistered afterwards."""
    made = {}
    for base in (ScaleShift, Softplus, PseudoHuber, LogPenalty, ScaledNormal):
        made[base.__name__] = gw.register(type(f"Saved{base.__name__}", (base,), {}),
                                          package="tests")
    yield made
    for cls in made.values():
        found = _registry._family_of(cls)
        found[1].pop(_registry.registered_name(cls), None)
        _registry._NAMES.pop(cls, None)


def _registered_model(made):
    model = gw.Sequential([
        gw.layers.Dense(5, activation=made["Softplus"](), kernel_regularizer=made["LogPenalty"](0.02),
                        kernel_initializer=made["ScaledNormal"](0.5)),
        made["ScaleShift"](0.9),
        gw.layers.Dense(2),
    ], input_dim=4, seed=1)
    model.compile(optimizer="adam", loss=made["PseudoHuber"](0.5))
    return model


def test_registered_components_round_trip_through_a_model_file(registered, tmp_path):
    X, y = _data(32)
    model = _registered_model(registered)
    model.fit(X, y, epochs=3, verbose=0)
    path = tmp_path / "custom.npz"
    gw.save_model(model, path)
    loaded = gw.load_model(path)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    dense = loaded.layers[0]
    assert type(dense.activation) is registered["Softplus"]
    assert type(dense.kernel_regularizer) is registered["LogPenalty"]
    assert dense.kernel_regularizer.lam == 0.02
    assert type(dense.kernel_initializer) is registered["ScaledNormal"]
    assert type(loaded.loss) is registered["PseudoHuber"] and loaded.loss.delta == 0.5
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.evaluate(X, y) == model.evaluate(X, y)
    assert gw.gradcheck(loaded, X[:8], y[:8]) < 1e-7
    assert model.get_config()["layers"][1]["class_name"] == "tests>SavedScaleShift"


@pytest.mark.parametrize("component", ["layer", "activation", "loss", "regularizer", "initializer"])
def test_saving_an_unregistered_component_names_it_and_gw_register(component, tmp_path):
    model = _model(component)
    model.build()
    path = tmp_path / "model.npz"
    with pytest.raises(ValueError, match=r"(ScaleShift|Softplus|PseudoHuber|LogPenalty|"
                                         r"ScaledNormal).*not registered.*gw\.register"):
        gw.save_model(model, path)
    assert not path.exists()
    model.get_config()  # configs in memory still work; only files need the name


def test_loading_a_file_whose_class_is_not_registered_names_it(registered, tmp_path,
                                                               monkeypatch):
    model = _registered_model(registered)
    model.build()
    path = tmp_path / "custom.npz"
    gw.save_model(model, path)
    monkeypatch.delitem(gw.activations._REGISTRY, "tests>SavedSoftplus")
    with pytest.raises(ValueError, match=r"custom\.npz.*'tests>SavedSoftplus'.*gw\.register"):
        gw.load_model(path)
    monkeypatch.delitem(gw.layers._REGISTRY, "tests>SavedScaleShift")
    with pytest.raises(ValueError, match=r"'tests>SavedScaleShift'.*gw\.register"):
        gw.load_model(path)


def test_a_subclass_named_like_a_builtin_is_not_saved_as_the_builtin(tmp_path):
    Dense = type("Dense", (gw.layers.Dense,), {})  # the user's own class called Dense
    model = gw.Sequential([Dense(2)], input_dim=3)
    model.compile(loss="mse")
    model.build()
    with pytest.raises(ValueError, match="not registered"):
        gw.save_model(model, tmp_path / "m.npz")


def test_register_checks_its_arguments():
    assert gw.layers.register is gw.register
    with pytest.raises(TypeError, match="register: expected a subclass"):
        gw.register(dict)
    with pytest.raises(ValueError, match="'Dense' is the name of gradwise's own layer"):
        gw.register(type("Dense", (gw.layers.Dense,), {}))
    with pytest.raises(ValueError, match="'relu' is the name"):
        gw.register(type("Relu", (Softplus,), {}), name="relu")
    with pytest.raises(ValueError, match="package"):
        gw.register(type("X", (Softplus,), {}), package="a>b")


def test_register_serves_optimizers_schedules_and_callbacks():
    class HalfSGD(gw.optimizers.SGD):
        pass

    class Steps(gw.schedules.PiecewiseConstant):
        pass

    class Quiet(gw.callbacks.Callback):
        pass

    try:
        gw.register(HalfSGD)
        gw.register(Steps, name="steps")
        gw.register(Quiet, package="tests")
        assert type(gw.optimizers.get(gw.optimizers.serialize(HalfSGD(0.5)))) is HalfSGD
        schedule = Steps([10], [0.1, 0.01])
        assert gw.schedules.serialize(schedule)["class_name"] == "steps"
        assert type(gw.schedules.get(gw.schedules.serialize(schedule))) is Steps
        assert gw.callbacks.serialize(Quiet())["class_name"] == "tests>Quiet"
        assert type(gw.callbacks.get(gw.callbacks.serialize(Quiet()))) is Quiet
    finally:
        gw.optimizers._REGISTRY.pop("HalfSGD", None)
        gw.schedules._REGISTRY.pop("steps", None)
        gw.callbacks._REGISTRY.pop("tests>Quiet", None)
