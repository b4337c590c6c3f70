"""Initializer variances against the formulas of Glorot, He and LeCun."""
import numpy as np
import pytest

import gradwise as gw

FAN_IN, FAN_OUT = 300, 500
EXPECTED_VARIANCE = {
    "glorot_normal": 2 / (FAN_IN + FAN_OUT), "glorot_uniform": 2 / (FAN_IN + FAN_OUT),
    "he_normal": 2 / FAN_IN, "he_uniform": 2 / FAN_IN,
    "lecun_normal": 1 / FAN_IN, "lecun_uniform": 1 / FAN_IN,
    "random_normal": 0.01 ** 2,
}
UNIFORM_LIMIT = {"glorot_uniform": np.sqrt(6 / (FAN_IN + FAN_OUT)), "he_uniform": np.sqrt(6 / FAN_IN),
                 "lecun_uniform": np.sqrt(3 / FAN_IN)}


@pytest.mark.parametrize("name", sorted(EXPECTED_VARIANCE))
def test_variance_matches_formula(name):
    W = gw.initializers.get(name)((FAN_IN, FAN_OUT), np.random.default_rng(0))
    assert W.shape == (FAN_IN, FAN_OUT)
    # 150,000 draws: the sample variance is within 2% of the true one with overwhelming odds.
    assert abs(W.var() / EXPECTED_VARIANCE[name] - 1) < 0.02
    assert abs(W.mean()) < 0.01 * np.sqrt(EXPECTED_VARIANCE[name]) * 10
    if name in UNIFORM_LIMIT:
        assert np.abs(W).max() <= UNIFORM_LIMIT[name]
        assert np.abs(W).max() > 0.99 * UNIFORM_LIMIT[name]


def test_normal_draws_are_not_truncated():
    W = gw.initializers.get("he_normal")((1000, 1000), np.random.default_rng(0))
    assert np.abs(W).max() > 2.5 * np.sqrt(2 / 1000)


def test_zeros_and_same_rng_same_weights():
    assert not gw.initializers.get("zeros")((3, 2), None).any()
    a = gw.initializers.get("he_uniform")((4, 4), np.random.default_rng(7))
    b = gw.initializers.get("he_uniform")((4, 4), np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_dense_accepts_a_callable_and_defaults_to_auto():
    layer = gw.layers.Dense(3, kernel_initializer=lambda shape, rng: np.full(shape, 0.5))
    layer.build(2, np.random.default_rng(0))
    np.testing.assert_array_equal(layer.params["W"], 0.5)
    assert not layer.params["b"].any()
    assert type(gw.layers.Dense(3).kernel_initializer).__name__ == "Auto"


def test_unknown_initializer_names_the_argument():
    with pytest.raises(ValueError, match="kernel_initializer.*he_normal"):
        gw.initializers.get("he_gaussian")


# -- kernel_initializer="auto": by the activation, resolved when the layer is built ----------
AUTO = {"relu": "he_normal", "leaky_relu": "he_normal", "elu": "he_normal",
        "selu": "lecun_normal", "linear": "glorot_uniform", "sigmoid": "glorot_uniform",
        "tanh": "glorot_uniform", "softmax": "glorot_uniform", "abs_relu": "glorot_uniform"}


@pytest.mark.parametrize("activation", sorted(AUTO))
def test_auto_draws_exactly_what_the_course_recommends(activation):
    layer = gw.layers.Dense(40, activation=activation)  # "auto" is the default
    layer.build(30, np.random.default_rng(7), dtype=np.float64)
    expected = gw.initializers.get(AUTO[activation])((30, 40), np.random.default_rng(7))
    np.testing.assert_array_equal(layer.params["W"], expected)


def test_auto_variance_follows_the_formula_of_its_choice():
    W = gw.layers.Dense(FAN_OUT, activation="relu").build(FAN_IN, np.random.default_rng(0),
                                                          dtype=np.float64).params["W"]
    assert abs(W.var() / (2 / FAN_IN) - 1) < 0.02
    W = gw.layers.Dense(FAN_OUT, activation="selu").build(FAN_IN, np.random.default_rng(0),
                                                          dtype=np.float64).params["W"]
    assert abs(W.var() / (1 / FAN_IN) - 1) < 0.02


def test_auto_config_round_trips_and_explicit_glorot_stays_glorot():
    layer = gw.layers.Dense(3, activation="relu")
    config = layer.get_config()
    assert config["kernel_initializer"] == {"class_name": "Auto", "config": {}}
    clone = gw.layers.Dense.from_config(config)
    assert isinstance(clone.kernel_initializer, gw.initializers.Auto)
    assert clone.get_config() == config
    keras = gw.layers.Dense(3, activation="relu", kernel_initializer="glorot_uniform")
    assert keras.get_config()["kernel_initializer"]["class_name"] == "GlorotUniform"
    W = keras.build(5, np.random.default_rng(1), dtype=np.float64).params["W"]
    np.testing.assert_array_equal(
        W, gw.initializers.GlorotUniform()((5, 3), np.random.default_rng(1)))


def test_a_config_without_kernel_initializer_keeps_the_earlier_default():
    config = gw.layers.Dense(3, activation="relu").get_config()
    del config["kernel_initializer"]  # as hand-written or early configs have it
    layer = gw.layers.Dense.from_config(config)
    assert type(layer.kernel_initializer) is gw.initializers.GlorotUniform


def test_old_model_files_load_to_identical_weights(tmp_path):
    # Files written before "auto" store glorot_uniform explicitly (or, hand-made, nothing).
    import json
    model = gw.Sequential([gw.layers.Dense(8, activation="relu",
                                           kernel_initializer="glorot_uniform"),
                           gw.layers.Dense(2)], input_dim=4, seed=0)
    model.compile(loss="mse")
    model.build()
    path = tmp_path / "old.npz"
    gw.save_model(model, path)
    with np.load(path) as archive:
        arrays = dict(archive)
    description = json.loads(arrays["description.json"].tobytes())
    for layer in description["model"]["layers"]:
        layer["config"]["kernel_initializer"] = {"class_name": "GlorotUniform", "config": {}}
    bare = json.loads(json.dumps(description))
    for layer in bare["model"]["layers"]:
        del layer["config"]["kernel_initializer"]
    X = np.random.default_rng(0).normal(size=(5, 4))
    for name, text in (("explicit", description), ("bare", bare)):
        arrays["description.json"] = np.frombuffer(json.dumps(text).encode(), dtype=np.uint8)
        np.savez(tmp_path / f"{name}.npz", **arrays)
        loaded = gw.load_model(tmp_path / f"{name}.npz")
        for a, b in zip(loaded.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
        assert all(type(layer.kernel_initializer) is gw.initializers.GlorotUniform
                   for layer in loaded.layers)


def test_auto_called_without_a_layer_is_glorot_uniform():
    np.testing.assert_array_equal(
        gw.initializers.get("auto")((6, 4), np.random.default_rng(3)),
        gw.initializers.get("glorot_uniform")((6, 4), np.random.default_rng(3)))


def test_estimators_default_to_scikit_learns_initialization_and_take_auto():
    """The estimators are drop-ins for scikit-learn's MLP, so by default (None) they draw its
    initial weights; ``kernel_initializer="auto"`` picks by the activation as Dense does."""
    from sklearn.datasets import load_iris
    assert gw.MLPClassifier().get_params()["kernel_initializer"] is None
    assert gw.MLPRegressor().get_params()["kernel_initializer"] is None
    X, y = load_iris(return_X_y=True)
    clf = gw.MLPClassifier((8,), kernel_initializer="auto", max_iter=1, random_state=0)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    first = clf.model_.layers[0]
    assert type(first.kernel_initializer).__name__ == "Auto"
