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


def test_dense_accepts_a_callable_and_defaults_to_glorot_uniform():
    layer = gw.layers.Dense(3, kernel_initializer=lambda shape, rng: np.full(shape, 0.5))
    layer.build(2, np.random.default_rng(0))
    np.testing.assert_array_equal(layer.params["W"], 0.5)
    assert not layer.params["b"].any()
    assert type(gw.layers.Dense(3).kernel_initializer).__name__ == "GlorotUniform"


def test_unknown_initializer_names_the_argument():
    with pytest.raises(ValueError, match="kernel_initializer.*he_normal"):
        gw.initializers.get("he_gaussian")
