"""Conformance of every layer and activation: float64 central-difference gradient checks of
the input and parameter gradients, and edge shapes (one sample, one feature)."""
import numpy as np
import pytest

import gradwise as gw
from gradwise.gradcheck import check_layer

TOLERANCE = 1e-7
ACTIVATIONS = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "abs_relu",
               "softmax"]


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
        "layer_norm": lambda: gw.layers.LayerNormalization(),
        "alpha_dropout": lambda: gw.layers.AlphaDropout(0.2),
        # width-keeping layers only, as the factory does not know the width (see below for Dense),
        # and smooth where one feature makes the layer norm's output exactly beta = 0
        "residual": lambda: gw.layers.Residual([gw.layers.LayerNormalization(),
                                                gw.layers.Activation("tanh"), gw.layers.Activation("sigmoid")]),
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
    np.testing.assert_array_equal(gw.activations.abs_relu(z), [[2.0, 0.5, 3.0]])
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


@pytest.mark.parametrize("shape", [(6, 5), (1, 5), (6, 1)], ids=str)
def test_residual_block_of_dense_layers_matches_finite_differences(shape, rng):
    width = shape[1]
    block = gw.layers.Residual([
        gw.layers.Dense(3, activation="tanh"), gw.layers.BatchNormalization(),
        gw.layers.Dense(width, activation="tanh", kernel_regularizer=gw.regularizers.L2(0.1)),
    ]).build(width, np.random.default_rng(0), dtype=np.float64)
    assert sorted(block.params) == ["0/W", "0/b", "1/beta", "1/gamma", "2/W", "2/b"]
    differences = check_layer(block, _inputs(shape, rng), rng)
    for key, difference in differences.items():
        if shape[0] == 1 and key in ("0/W", "0/b"):
            continue  # one sample: batch norm removes everything before it, both are ~0
        assert difference < TOLERANCE, (shape, key, difference)


def test_residual_adds_its_input_to_its_layers_output(rng):
    inner = gw.layers.Dense(3, activation="relu")
    block = gw.layers.Residual([inner]).build(3, rng, dtype=np.float64)
    x = rng.normal(size=(4, 3))
    np.testing.assert_array_equal(block.forward(x), x + np.maximum(x @ inner.params["W"]
                                                                   + inner.params["b"], 0))
    assert block.count_params() == 12
    block.params["0/W"] = np.zeros((3, 3))  # writes go to the inner layer
    block.params["0/b"][...] = 0.0
    np.testing.assert_array_equal(block.forward(x), x)


def test_residual_rejects_blocks_that_change_the_width_and_non_layers():
    block = gw.layers.Residual([gw.layers.Dense(8, activation="relu"), gw.layers.Dense(3)],
                               name="block")
    with pytest.raises(ValueError, match=r"Residual 'block': its layers map 5 features to 3.*"
                                         r"layer of 5 units"):
        block.build(5)
    with pytest.raises(TypeError, match="layers"):
        gw.layers.Residual(gw.layers.Dense(3))
    with pytest.raises(TypeError, match="layers"):
        gw.layers.Residual([])
    with pytest.raises(TypeError, match="Layer instances"):
        gw.layers.Residual([gw.layers.Dense(3), "relu"])


def test_alpha_dropout_keeps_zero_mean_unit_variance_and_uses_the_keras_affine_map():
    rate = 0.2
    layer = gw.layers.AlphaDropout(rate).build(1000, np.random.default_rng(1), dtype=np.float64)
    alpha_prime = -1.0507009873554805 * 1.6732632423543772
    a = ((1 - rate) * (1 + rate * alpha_prime**2)) ** -0.5
    assert layer.a == pytest.approx(a, rel=1e-15) and layer.b == pytest.approx(-a * rate * alpha_prime)
    x = np.random.default_rng(2).normal(size=(400, 1000))
    y = layer.forward(x, training=True)
    slopes = layer.backward(np.ones_like(x))  # a where kept, 0 where dropped
    assert set(np.unique(slopes)) == {0.0, a}
    keep = slopes / a
    assert abs(1 - keep.mean() - rate) < 0.005
    np.testing.assert_allclose(y, a * (x * keep + alpha_prime * (1 - keep)) + layer.b, rtol=1e-12,
                               atol=1e-14)
    assert abs(y.mean()) < 0.01 and abs(y.var() - 1.0) < 0.01
    np.testing.assert_array_equal(layer.forward(x, training=False), x)


def test_alpha_dropout_training_gradient_with_the_mask_held_fixed(rng):
    from _finite_differences import numeric_gradient, relative_difference
    layer = gw.layers.AlphaDropout(0.3).build(4, None, dtype=np.float64)
    readout = rng.normal(size=(5, 4))

    def objective(x):
        layer.rng = np.random.default_rng(7)  # the same mask at every evaluation
        return float(np.sum(layer.forward(x, training=True) * readout))

    x = rng.normal(size=(5, 4))
    objective(x)
    exact = layer.backward(readout)
    assert relative_difference(numeric_gradient(objective, x.copy()), exact) < TOLERANCE


def test_layer_normalization_normalizes_each_sample(rng):
    layer = gw.layers.LayerNormalization(epsilon=1e-3).build(6, rng, dtype=np.float64)
    layer.params["gamma"][...] = rng.normal(size=6)
    layer.params["beta"][...] = rng.normal(size=6)
    x = rng.normal(loc=3.0, scale=2.0, size=(5, 6))
    mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    expected = (x - mu) / np.sqrt(var + 1e-3) * layer.params["gamma"] + layer.params["beta"]
    np.testing.assert_allclose(layer.forward(x, training=True), expected, rtol=1e-12)
    np.testing.assert_array_equal(layer.forward(x[:1]), layer.forward(x)[:1])  # no batch statistics
    with pytest.raises(ValueError, match="epsilon=0"):
        gw.layers.LayerNormalization(epsilon=0)


def test_abs_relu_derivative_is_the_sign_away_from_zero(rng):
    # Central differences of |z| at points at least 0.1 from the kink, where |z| is linear.
    z = rng.normal(size=(5, 7))
    z[np.abs(z) < 0.1] += 0.3
    activation = gw.activations.get("abs_relu")
    da = rng.normal(size=z.shape)
    h = 1e-6
    numeric = (np.abs(z + h) - np.abs(z - h)) / (2 * h) * da
    np.testing.assert_allclose(activation.backward(z, np.abs(z), da), numeric, rtol=1e-8)
    np.testing.assert_array_equal(activation.backward(np.zeros((1, 2)), np.zeros((1, 2)),
                                                      np.ones((1, 2))), [[0.0, 0.0]])
