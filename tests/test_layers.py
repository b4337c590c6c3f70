"""Conformance of every layer and activation: float64 central-difference gradient checks of
the input and parameter gradients, and edge shapes (one sample, one feature)."""
import numpy as np
import pytest

import gradwise as gw
from gradwise.gradcheck import check_layer

TOLERANCE = 1e-7
ACTIVATIONS = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "softmax"]


def _layers():
    cases = {f"dense-{name}": (lambda name=name: gw.layers.Dense(4, activation=name))
             for name in ACTIVATIONS}
    cases.update({f"activation-{name}": (lambda name=name: gw.layers.Activation(name))
                  for name in ACTIVATIONS})
    cases.update({
        "dense-no-bias": lambda: gw.layers.Dense(3, use_bias=False),
        "leaky_relu": lambda: gw.layers.LeakyReLU(0.2),
        "elu": lambda: gw.layers.ELU(0.7),
        "rrelu": lambda: gw.layers.RReLU(0.1, 0.3),
        "prelu": lambda: gw.layers.PReLU(0.1),
        "dropout": lambda: gw.layers.Dropout(0.4),
        "batch_norm": lambda: gw.layers.BatchNormalization(),
        "gaussian_noise": lambda: gw.layers.GaussianNoise(0.3),
        "normalization": lambda: gw.layers.Normalization(),
    })
    return cases


LAYERS = _layers()


def _inputs(shape, rng):
    x = rng.normal(size=shape)
    # Keep samples away from the kinks of relu-like functions so differences are smooth.
    x[np.abs(x) < 0.05] += 0.2
    return x


def _built(factory, input_dim, rng):
    layer = factory().build(input_dim, np.random.default_rng(0), dtype=np.float64)
    if "W" in layer.params:  # move pre-activations away from kinks as well
        layer.params["W"][...] = rng.normal(size=layer.params["W"].shape)
    layer.deterministic = True  # stochastic layers are checked in their inference behaviour
    return layer


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("shape", [(6, 5), (1, 5), (6, 1), (1, 1)], ids=str)
def test_layer_gradients_match_finite_differences(name, shape, rng):
    if name.endswith("softmax") and "activation" in name and shape[1] == 1:
        pytest.skip("softmax over one unit is constant 1: its gradient is exactly zero")
    layer = _built(LAYERS[name], shape[1], rng)
    x = _inputs(shape, rng)
    differences = check_layer(layer, x, rng)
    for key, difference in differences.items():
        if name == "batch_norm" and shape[0] == 1 and key == "input":
            continue  # one sample: the normalized output is constant, both gradients are ~0
        assert difference < TOLERANCE, (name, shape, key, difference)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_output_shape_and_config_round_trip(name, rng):
    layer = _built(LAYERS[name], 3, rng)
    y = layer.forward(_inputs((2, 3), rng), training=False)
    assert y.shape == (2, layer.output_dim(3))
    clone = gw.layers.deserialize(gw.layers.serialize(layer))
    assert type(clone) is type(layer)
    assert clone.get_config() == layer.get_config()


def test_dense_forward_is_affine_then_activation(rng):
    layer = gw.layers.Dense(3, activation="relu").build(2, rng, dtype=np.float64)
    x = rng.normal(size=(4, 2))
    expected = np.maximum(x @ layer.params["W"] + layer.params["b"], 0)
    np.testing.assert_allclose(layer.forward(x), expected)
    assert layer.params["W"].shape == (2, 3) and layer.params["b"].shape == (3,)


def test_inverted_dropout_scales_survivors_and_is_identity_at_inference(rng):
    layer = gw.layers.Dropout(0.25).build(1000, np.random.default_rng(1), dtype=np.float64)
    x = np.ones((50, 1000))
    y = layer.forward(x, training=True)
    assert set(np.unique(y)) <= {0.0, 1 / 0.75}
    assert abs((y == 0).mean() - 0.25) < 0.01
    assert abs(y.mean() - 1.0) < 0.02  # expectation preserved
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), y)  # same mask
    np.testing.assert_array_equal(layer.forward(x, training=False), x)


def test_batch_norm_training_and_inference_statistics(rng):
    layer = gw.layers.BatchNormalization(momentum=0.9, epsilon=1e-3).build(3, rng, dtype=np.float64)
    x = rng.normal(loc=5.0, scale=2.0, size=(64, 3))
    y = layer.forward(x, training=True)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), x.var(axis=0) / (x.var(axis=0) + 1e-3))
    np.testing.assert_allclose(layer.state["running_mean"], 0.1 * x.mean(axis=0))
    np.testing.assert_allclose(layer.state["running_var"], 0.9 + 0.1 * x.var(axis=0))
    expected = (x - layer.state["running_mean"]) / np.sqrt(layer.state["running_var"] + 1e-3)
    np.testing.assert_allclose(layer.forward(x, training=False), expected)
    assert layer.count_params() == 6 and layer.count_state() == 6


def test_rrelu_draws_slopes_in_range_in_training_and_uses_mean_at_inference():
    layer = gw.layers.RReLU(0.1, 0.3).build(200, np.random.default_rng(0), dtype=np.float64)
    x = -np.ones((10, 200))
    slopes = -layer.forward(x, training=True)
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03
    np.testing.assert_allclose(layer.forward(x, training=False), -0.2)


def test_gaussian_noise_has_requested_spread_only_in_training():
    layer = gw.layers.GaussianNoise(0.5).build(100, np.random.default_rng(0), dtype=np.float64)
    x = np.zeros((200, 100))
    assert abs(layer.forward(x, training=True).std() - 0.5) < 0.01
    np.testing.assert_array_equal(layer.forward(x, training=False), x)


def test_activation_closed_forms():
    z = np.array([[-2.0, 0.5, 3.0]])
    np.testing.assert_allclose(gw.activations.sigmoid(z), 1 / (1 + np.exp(-z)))
    np.testing.assert_allclose(gw.activations.leaky_relu(z, 0.1), [[-0.2, 0.5, 3.0]])
    np.testing.assert_allclose(gw.activations.elu(z), [[np.exp(-2) - 1, 0.5, 3.0]])
    selu = gw.activations.selu(z)
    np.testing.assert_allclose(selu[0, 2], 1.0507009873554805 * 3.0)
    np.testing.assert_allclose(gw.activations.softmax(z), np.exp(z) / np.exp(z).sum())
    big = gw.activations.softmax(np.array([[1000.0, 0.0]]))
    assert np.isfinite(big).all() and big[0, 0] == 1.0
    assert np.isfinite(gw.activations.sigmoid(np.array([-1000.0, 1000.0]))).all()


@pytest.mark.parametrize("bad, error", [
    (dict(units=0), ValueError), (dict(units=-3), ValueError), (dict(units=2.5), TypeError),
    (dict(units=4, activation="swishy"), ValueError),
    (dict(units=4, kernel_initializer="glorious"), ValueError),
])
def test_dense_rejects_bad_arguments_with_named_messages(bad, error):
    with pytest.raises(error) as info:
        gw.layers.Dense(**bad)
    argument = [k for k in bad if k != "units"] or ["units"]
    assert argument[-1] in str(info.value)


def test_dropout_rejects_rate_outside_unit_interval():
    with pytest.raises(ValueError, match="rate"):
        gw.layers.Dropout(1.0)


def test_frozen_batch_norm_back_propagates_through_its_inference_map(rng):
    layer = _built(lambda: gw.layers.BatchNormalization(), 3, rng)
    layer.state["running_mean"][...] = [0.5, -1.0, 2.0]
    layer.state["running_var"][...] = [4.0, 0.25, 1.0]
    layer.trainable = False
    differences = check_layer(layer, _inputs((5, 3), rng), rng, training=True)
    assert differences["input"] < TOLERANCE
