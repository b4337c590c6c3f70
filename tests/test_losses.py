import zlib

import numpy as np
import pytest
from sklearn.metrics import log_loss, mean_absolute_error, mean_squared_error

from _finite_differences import numeric_gradient, relative_difference
from gradwise import losses
from gradwise.losses import (BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
                             Huber, LogCosh, MeanAbsoluteError, MeanSquaredError,
                             NegativeLogLikelihood, Poisson, SquaredHinge)

SHAPES = [(1, 1), (1, 4), (7, 1), (5, 3)]


def smooth_point(loss, shape, rng):
    """Targets and predictions away from kinks and clipping, in float64."""
    n, k = shape
    if isinstance(loss, CategoricalCrossentropy):
        y = np.eye(k)[rng.integers(0, k, n)]
        if loss.from_logits:
            return y, rng.normal(0, 2, shape)
        p = rng.uniform(0.1, 0.9, shape)
        return y, (p if k == 1 else p / p.sum(axis=1, keepdims=True))
    if isinstance(loss, BinaryCrossentropy):
        y = rng.integers(0, 2, shape).astype(float)
        return y, (rng.normal(0, 2, shape) if loss.from_logits else rng.uniform(0.05, 0.95, shape))
    if isinstance(loss, NegativeLogLikelihood) and loss.distribution == "bernoulli":
        y = rng.integers(0, 2, shape).astype(float)
        return y, (rng.normal(0, 2, shape) if loss.from_logits else rng.uniform(0.05, 0.95, shape))
    if isinstance(loss, Poisson):
        return rng.integers(0, 6, shape).astype(float), rng.uniform(0.2, 4.0, shape)
    if isinstance(loss, SquaredHinge):  # 0/1 labels, margins 1 - t p kept away from the kink at 0
        y = rng.integers(0, 2, shape).astype(float)
        violation = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 1.5, shape)
        return y, (2 * y - 1) * (1 - violation)
    y = rng.normal(size=shape)
    magnitude = rng.choice([rng.uniform(0.1, 0.8), rng.uniform(1.3, 3.0)], size=shape)
    return y, y + rng.choice([-1.0, 1.0], size=shape) * magnitude


ALL_LOSSES = [MeanSquaredError(), MeanAbsoluteError(), Huber(), Huber(delta=0.5),
              BinaryCrossentropy(), BinaryCrossentropy(from_logits=True),
              CategoricalCrossentropy(), CategoricalCrossentropy(from_logits=True),
              BinaryFocalCrossentropy(), BinaryFocalCrossentropy(from_logits=True),
              BinaryFocalCrossentropy(gamma=1.5, alpha=0.25),
              BinaryFocalCrossentropy(gamma=0.5, alpha=0.75, from_logits=True),
              Poisson(), LogCosh(), SquaredHinge(), NegativeLogLikelihood(),
              NegativeLogLikelihood(from_logits=True), NegativeLogLikelihood("gaussian")]


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=repr)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_matches_central_differences(loss, shape, weighted):
    rng = np.random.default_rng(zlib.crc32(repr((loss, shape, weighted)).encode()))
    y, p = smooth_point(loss, shape, rng)
    w = rng.uniform(0.2, 3.0, shape[0]) if weighted else None
    g_num = numeric_gradient(lambda x: loss(y, x, sample_weight=w), p.copy())
    value, g = loss.value_and_gradient(y, p, sample_weight=w)
    assert g.shape == p.shape and g.dtype == np.float64
    assert relative_difference(g_num, g) < 1e-7
    assert value == loss(y, p, sample_weight=w)
    np.testing.assert_array_equal(g, loss.gradient(y, p, sample_weight=w))


@pytest.mark.parametrize("loss", [BinaryCrossentropy(from_logits=True), CategoricalCrossentropy(True),
                                  BinaryFocalCrossentropy(from_logits=True)], ids=repr)
def test_logit_gradient_with_soft_labels(loss):
    rng = np.random.default_rng(3)
    y = rng.uniform(0, 1, (4, 3))
    z = rng.normal(0, 2, (4, 3))
    g_num = numeric_gradient(lambda x: loss(y, x), z.copy())
    assert relative_difference(g_num, loss.gradient(y, z)) < 1e-7


def test_closed_form_regression_values():
    y, p = np.array([[0.0, 0.0]]), np.array([[1.0, 2.0]])
    assert MeanSquaredError()(y, p) == pytest.approx(2.5)
    assert MeanAbsoluteError()(y, p) == pytest.approx(1.5)
    # Huber(1): 0.5 * 0.5**2 inside; 1 * (2 - 0.5) outside.
    assert Huber()(y, np.array([[0.5, -2.0]])) == pytest.approx((0.125 + 1.5) / 2)
    np.testing.assert_allclose(Huber().gradient(y, np.array([[0.5, -2.0]])), [[0.25, -0.5]])
    np.testing.assert_allclose(MeanAbsoluteError().gradient(y, np.array([[0.0, -3.0]])), [[0.0, -0.5]])


def test_closed_form_poisson_log_cosh_and_squared_hinge_values():
    # Poisson (Keras): mean(p - y log(p + 1e-7)).
    y, p = np.array([[2.0, 0.0]]), np.array([[3.0, 0.5]])
    assert Poisson()(y, p) == pytest.approx((3 - 2 * np.log(3 + 1e-7) + 0.5) / 2, rel=1e-12)
    np.testing.assert_allclose(Poisson().gradient(y, p), [[(1 - 2 / (3 + 1e-7)) / 2, 0.5]])
    # log cosh: log(cosh(d)) where cosh is finite, |d| - log 2 where it overflows.
    d = np.array([[0.0, 1.0, -3.0, 0.25]])
    assert LogCosh()(np.zeros_like(d), d) == pytest.approx(np.mean(np.log(np.cosh(d))), rel=1e-12)
    np.testing.assert_allclose(LogCosh().gradient(np.zeros_like(d), d), np.tanh(d) / 4)
    with np.errstate(over="raise"):
        value = LogCosh()(np.array([[1.0]]), np.array([[-999.0]]))
    assert value == pytest.approx(1000.0 - np.log(2.0), rel=1e-15)
    # squared hinge with 0/1 labels read as -1/1: margins 1 - t p = 1.5, 0.5 and 0 (met).
    y, p = np.array([[0.0, 1.0, 1.0]]), np.array([[0.5, 0.5, 2.0]])
    assert SquaredHinge()(y, p) == pytest.approx((1.5**2 + 0.5**2 + 0.0) / 3, rel=1e-12)
    np.testing.assert_allclose(SquaredHinge().gradient(y, p), [[2 * 1.5 / 3, -2 * 0.5 / 3, 0.0]])
    # the same labels given as -1/1 give the same loss
    assert SquaredHinge()(2 * y - 1, p) == SquaredHinge()(y, p)


def test_negative_log_likelihood_sums_each_row_and_is_a_normalized_density():
    x, p = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]), np.array([[0.9, 0.2, 0.6], [0.5, 0.1, 0.7]])
    expected = -np.mean(np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=1))
    assert NegativeLogLikelihood()(x, p) == pytest.approx(expected, rel=1e-12)
    # Gaussian with unit variance: -log N(x; m, 1) per feature, summed; checked against SciPy.
    from scipy.stats import norm
    m = np.array([[0.3, -1.0, 2.0], [0.0, 0.5, -0.5]])
    gaussian = NegativeLogLikelihood("gaussian")
    assert gaussian(x, m) == pytest.approx(-np.mean(norm.logpdf(x, loc=m).sum(axis=1)), rel=1e-12)
    assert gaussian.logits_activation is None and NegativeLogLikelihood().logits_activation == "sigmoid"
    with pytest.raises(ValueError, match="distribution='poisson'"):
        NegativeLogLikelihood("poisson")
    with pytest.raises(ValueError, match="from_logits"):
        NegativeLogLikelihood("gaussian", from_logits=True)


def test_new_losses_check_their_targets():
    with pytest.raises(ValueError, match=r"y: poisson expects non-negative counts.*-1"):
        Poisson().prepare_targets([1.0, -1.0], 1)
    with pytest.raises(ValueError, match=r"y: squared_hinge expects labels in \{-1, 1\} or \{0, 1\}.*2"):
        SquaredHinge().prepare_targets([0, 1, 2], 1)
    with pytest.raises(ValueError, match="squared_hinge"):
        SquaredHinge().prepare_targets([-1, 0, 1], 1)
    np.testing.assert_array_equal(SquaredHinge().prepare_targets([0, 1, 1], 1, np.float64)[:, 0],
                                  [-1, 1, 1])
    np.testing.assert_array_equal(SquaredHinge().prepare_targets([-1, 1], 1, np.float64)[:, 0],
                                  [-1, 1])


@pytest.mark.parametrize("name, activation, target", [
    ("poisson", "relu", lambda rng, n: rng.poisson(2.0, (n, 1)).astype(float)),
    ("log_cosh", "linear", lambda rng, n: rng.normal(size=(n, 2))),
    ("squared_hinge", "linear", lambda rng, n: rng.integers(0, 2, (n, 1))),
])
def test_new_losses_gradcheck_in_a_model_and_survive_the_model_file(name, activation, target,
                                                                    tmp_path):
    import gradwise as gw
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(12, 3)), target(rng, 12)
    model = gw.Sequential([gw.layers.Dense(4, activation="tanh"),
                           gw.layers.Dense(y.shape[1], activation=activation,
                                           bias_initializer=gw.initializers.Constant(2.0))],
                          input_dim=3, seed=0, dtype="float64")
    model.compile(optimizer="adam", loss=name)
    assert gw.gradcheck(model, X, y, epsilon=1e-6) < 1e-7
    model.fit(X, y, epochs=3, batch_size=4, verbose=0)
    model.save(tmp_path / "m.npz")
    again = gw.load_model(tmp_path / "m.npz")
    assert type(again.loss) is type(model.loss) and again.loss.name == name
    assert again.evaluate(X, y)["loss"] == pytest.approx(model.evaluate(X, y)["loss"], rel=1e-12)


def test_closed_form_cross_entropy_values():
    y = np.array([[0.0, 1.0, 0.0]])
    assert CategoricalCrossentropy()(y, np.array([[0.2, 0.7, 0.1]])) == pytest.approx(-np.log(0.7))
    # Not renormalized: the row sums to 0.6.
    assert CategoricalCrossentropy()(y, np.array([[0.2, 0.35, 0.05]])) == pytest.approx(-np.log(0.35))
    bce = BinaryCrossentropy()(np.array([[1.0], [0.0]]), np.array([[0.8], [0.3]]))
    assert bce == pytest.approx(-(np.log(0.8) + np.log(0.7)) / 2)
    focal = BinaryFocalCrossentropy(gamma=2.0, alpha=0.25)
    assert focal(np.array([[1.0]]), np.array([[0.9]])) == pytest.approx(0.25 * 0.1**2 * -np.log(0.9))
    assert focal(np.array([[0.0]]), np.array([[0.9]])) == pytest.approx(0.75 * 0.9**2 * -np.log(0.1))


def test_probability_clipping_is_consistent():
    y = np.array([[0.0, 1.0]])
    p = np.array([[1.0, 0.0]])
    value, g = CategoricalCrossentropy().value_and_gradient(y, p)
    assert value == pytest.approx(-np.log(1e-7))
    np.testing.assert_array_equal(g, [[0.0, 0.0]])
    value, g = BinaryCrossentropy().value_and_gradient(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
    assert value == pytest.approx(-np.log(1e-7), rel=1e-6)
    np.testing.assert_array_equal(g, [[0.0, 0.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_from_huge_logits_is_finite_and_exact(dtype):
    y = np.array([[1.0], [0.0], [1.0], [0.0]], dtype=dtype)
    z = np.array([[-1000.0], [1000.0], [1000.0], [-1000.0]], dtype=dtype)
    value, g = BinaryCrossentropy(from_logits=True).value_and_gradient(y, z)
    assert value == pytest.approx(500.0)  # (1000 + 1000 + 0 + 0) / 4
    assert g.dtype == dtype and np.isfinite(g).all()
    np.testing.assert_allclose(g, [[-0.25], [0.25], [0.0], [0.0]])
    value = CategoricalCrossentropy(from_logits=True)(np.array([[1.0, 0.0]]), np.array([[-1e4, 1e4]]))
    assert value == pytest.approx(2e4)


def test_from_logits_matches_probabilities_and_fused_gradient():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(6, 4))
    y = np.eye(4)[rng.integers(0, 4, 6)]
    soft = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    cce = CategoricalCrossentropy(from_logits=True)
    assert cce(y, z) == pytest.approx(CategoricalCrossentropy()(y, soft), rel=1e-12)
    np.testing.assert_allclose(cce.gradient(y, z), (soft - y) / 6, atol=1e-15)
    yb = rng.integers(0, 2, (6, 4)).astype(float)
    sig = 1 / (1 + np.exp(-z))
    bce = BinaryCrossentropy(from_logits=True)
    assert bce(yb, z) == pytest.approx(BinaryCrossentropy()(yb, sig), rel=1e-12)
    np.testing.assert_allclose(bce.gradient(yb, z), (sig - yb) / 24, atol=1e-15)
    focal = BinaryFocalCrossentropy(gamma=1.0, alpha=0.4, from_logits=True)
    assert focal(yb, z) == pytest.approx(BinaryFocalCrossentropy(1.0, 0.4)(yb, sig), rel=1e-12)


@pytest.mark.parametrize("from_logits", [False, True])
def test_focal_with_gamma_zero_is_binary_crossentropy(from_logits):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, (5, 2)).astype(float)
    p = rng.normal(size=(5, 2)) if from_logits else rng.uniform(0.05, 0.95, (5, 2))
    a, b = BinaryFocalCrossentropy(0.0, None, from_logits), BinaryCrossentropy(from_logits)
    assert a(y, p) == pytest.approx(b(y, p), rel=1e-12)
    np.testing.assert_allclose(a.gradient(y, p), b.gradient(y, p), rtol=1e-12)


def test_against_sklearn_references():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 3, 20)
    P = rng.dirichlet(np.ones(3), 20)
    w = rng.uniform(0.5, 2.0, 20)
    y = np.eye(3)[labels]
    cce = CategoricalCrossentropy()
    assert cce(y, P) == pytest.approx(log_loss(labels, P, labels=[0, 1, 2]), rel=1e-10)
    # sklearn averages by sum(w); gradwise divides by n (Keras' sum over batch size).
    assert cce(y, P, w) * 20 / w.sum() == pytest.approx(log_loss(labels, P, sample_weight=w), rel=1e-10)
    yb, pb = rng.integers(0, 2, 20), rng.uniform(0.05, 0.95, 20)
    assert BinaryCrossentropy()(yb, pb) == pytest.approx(log_loss(yb, pb), rel=1e-10)
    Y, Q = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    assert MeanSquaredError()(Y, Q) == pytest.approx(mean_squared_error(Y, Q), rel=1e-12)
    assert MeanAbsoluteError()(Y, Q) == pytest.approx(mean_absolute_error(Y, Q), rel=1e-12)
    weighted = MeanSquaredError()(Y, Q, w) * 20 / w.sum()
    assert weighted == pytest.approx(mean_squared_error(Y, Q, sample_weight=w), rel=1e-12)


def test_sample_weight_is_sum_over_batch_size():
    y, p = np.array([[0.0], [0.0]]), np.array([[1.0], [3.0]])
    assert MeanSquaredError()(y, p, sample_weight=[2.0, 0.0]) == pytest.approx(1.0)
    assert MeanSquaredError()(y, p, sample_weight=np.ones(2)) == MeanSquaredError()(y, p)
    with pytest.raises(ValueError, match="sample_weight"):
        MeanSquaredError()(y, p, sample_weight=[1.0, 2.0, 3.0])


def test_shapes_dtypes_and_integer_labels():
    y, p = np.array([1.0, 2.0, 3.0]), np.array([[1.0], [2.0], [5.0]], dtype=np.float32)
    value, g = MeanSquaredError().value_and_gradient(y, p)  # (n,) vs (n, 1): no broadcasting
    assert isinstance(value, float) and value == pytest.approx(4 / 3)
    assert g.shape == (3, 1) and g.dtype == np.float32
    assert MeanSquaredError().gradient(y, p[:, 0]).shape == (3,)
    with pytest.raises(ValueError, match="y_true"):
        MeanSquaredError()(np.zeros((3, 2)), p)
    probs = np.array([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]])
    cce = CategoricalCrossentropy()
    assert cce(np.array([1, 0]), probs) == pytest.approx(cce(np.eye(3)[[1, 0]], probs))


def test_get_and_config_round_trips():
    assert isinstance(losses.get("mse"), MeanSquaredError)
    assert isinstance(losses.get("mean_absolute_error"), MeanAbsoluteError)
    assert isinstance(losses.get("BCE"), BinaryCrossentropy)
    assert isinstance(losses.get("sparse_categorical_crossentropy"), CategoricalCrossentropy)
    assert isinstance(losses.get("focal"), BinaryFocalCrossentropy)
    assert isinstance(losses.get("poisson"), Poisson)
    assert isinstance(losses.get("log_cosh"), LogCosh)
    assert isinstance(losses.get("squared_hinge"), SquaredHinge)
    assert isinstance(losses.get("negative_log_likelihood"), NegativeLogLikelihood)
    obj = Huber(0.3)
    assert losses.get(obj) is obj
    for loss in ALL_LOSSES:
        again = losses.get(losses.serialize(loss))
        assert type(again) is type(loss) and again.get_config() == loss.get_config()
        assert type(loss).from_config(loss.get_config()).get_config() == loss.get_config()
    assert losses.get({"class_name": "BinaryCrossentropy", "config": {"from_logits": True}}).from_logits
    assert CategoricalCrossentropy().name == "categorical_crossentropy"
    assert BinaryCrossentropy().logits_activation == "sigmoid"
    with pytest.raises(ValueError, match="mse"):
        losses.get("nope")
    with pytest.raises(TypeError):
        losses.get(3)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="delta=0"):
        Huber(delta=0)
    with pytest.raises(ValueError, match="gamma"):
        BinaryFocalCrossentropy(gamma=-1)
    with pytest.raises(ValueError, match="alpha"):
        BinaryFocalCrossentropy(alpha=1.5)
    with pytest.raises(TypeError, match="from_logits"):
        BinaryCrossentropy(from_logits="yes")


def test_prepare_targets_conversions():
    cce = CategoricalCrossentropy()
    out = cce.prepare_targets([2, 0, 1], 3, np.float32)
    np.testing.assert_array_equal(out, np.eye(3)[[2, 0, 1]])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(cce.prepare_targets(np.array([[1.0], [0.0]]), 3, np.float64),
                                  [[0, 1, 0], [1, 0, 0]])
    rows = np.array([[0.2, 0.8], [1.0, 0.0]])
    out = cce.prepare_targets(rows, 2, np.float64)
    np.testing.assert_array_equal(out, rows)
    assert out is not rows
    bce = BinaryCrossentropy()
    assert bce.prepare_targets([0, 1, 1], 1, np.float32).shape == (3, 1)
    assert bce.prepare_targets(np.array([[True, False]]), 2, np.float64).dtype == np.float64
    assert MeanSquaredError().prepare_targets([1.5, 2.5], 1, np.float64).shape == (2, 1)
    assert Huber().prepare_targets(np.ones((4, 2)), 2, np.float32).dtype == np.float32


@pytest.mark.parametrize("loss, y, k, error, pattern", [
    (CategoricalCrossentropy(), [0, 12, 3], 10, ValueError, r"y: .*\[0, 10\).*length 10.*\[0, 12\]"),
    (CategoricalCrossentropy(), [-1, 0], 3, ValueError, r"y: .*\[-1, 0\]"),
    (CategoricalCrossentropy(), [0.5, 1.0], 3, ValueError, "y: .*non-integer.*0.5"),
    (CategoricalCrossentropy(), [[0.5, 0.2]], 2, ValueError, "y: .*sums to 0.7"),
    (CategoricalCrossentropy(), [[1.5, -0.5]], 2, ValueError, "y: .*negative"),
    (CategoricalCrossentropy(), np.ones((2, 4)), 3, ValueError, r"y: .*shape \(2, 4\)"),
    (CategoricalCrossentropy(), [0, 1], 1, ValueError, "n_outputs"),
    (BinaryCrossentropy(), [0, 2], 1, ValueError, r"y: .*\[0, 1\].*\[0, 2\]"),
    (BinaryCrossentropy(), [0, 1], 2, ValueError, r"y: .*\(n_samples, 2\)"),
    (MeanSquaredError(), np.ones((3, 2)), 3, ValueError, r"y: .*\(n_samples, 3\)"),
    (MeanSquaredError(), [1.0, np.nan], 1, ValueError, "y: .*NaN"),
    (BinaryCrossentropy(), [0.0, np.inf], 1, ValueError, "y: .*infinite"),
    (MeanSquaredError(), ["a", "b"], 1, TypeError, "y: .*numeric"),
    (MeanSquaredError(), [], 1, ValueError, "y: .*empty"),
    (MeanSquaredError(), np.ones((2, 2, 2)), 2, ValueError, "y: .*1-D or 2-D"),
    (MeanSquaredError(), [1.0], 0, ValueError, "n_outputs=0"),
])
def test_prepare_targets_rejects_bad_input(loss, y, k, error, pattern):
    with pytest.raises(error, match=pattern):
        loss.prepare_targets(y, k, np.float32)
