import numpy as np
import pytest

from _finite_differences import numeric_gradient, relative_difference
from gradwise import regularizers
from gradwise.regularizers import L1, L1L2, L2


ALL = [L1(0.3), L2(0.7), L1L2(l1=0.2, l2=0.5), L1L2()]


@pytest.mark.parametrize("reg", ALL, ids=repr)
@pytest.mark.parametrize("shape", [(1, 1), (4, 3), (5,)])
def test_gradient_matches_central_differences(reg, shape):
    rng = np.random.default_rng(0)
    W = rng.uniform(0.1, 2.0, shape) * rng.choice([-1.0, 1.0], shape)  # away from the kink at 0
    g_num = numeric_gradient(reg, W.copy())
    g = reg.gradient(W)
    assert g.shape == W.shape
    assert relative_difference(g_num, g) < 1e-7


def test_closed_form_values():
    W = np.array([[1.0, -2.0], [3.0, 0.0]])
    assert L1(0.1)(W) == pytest.approx(0.6)
    assert L2(0.1)(W) == pytest.approx(0.05 * 14)
    assert L1L2(0.1, 0.1)(W) == pytest.approx(0.6 + 0.7)
    np.testing.assert_allclose(L1(0.1).gradient(W), [[0.1, -0.1], [0.1, 0.0]])
    np.testing.assert_allclose(L2(0.1).gradient(W), 0.1 * W)
    np.testing.assert_allclose(L1L2(0.1, 0.2).gradient(W), 0.1 * np.sign(W) + 0.2 * W)
    assert isinstance(L2(0.1)(W.astype(np.float32)), float)


@pytest.mark.parametrize("reg", ALL, ids=repr)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_gradient_accumulates_in_place(reg, dtype):
    rng = np.random.default_rng(1)
    W = rng.normal(size=(6, 4)).astype(dtype)
    buffer = rng.normal(size=30).astype(dtype)
    view = buffer[3:27].reshape(6, 4)  # like a layer's view into the flat gradient buffer
    before = view.copy()
    out = reg.add_gradient(W, view)
    assert out is view and out.dtype == dtype
    np.testing.assert_allclose(buffer[3:27].reshape(6, 4), before + reg.gradient(W), rtol=1e-6)
    assert reg.gradient(W).dtype == dtype


def test_get_and_config_round_trips():
    assert isinstance(regularizers.get("l1"), L1)
    assert isinstance(regularizers.get("L2"), L2)
    assert isinstance(regularizers.get("l1_l2"), L1L2) and isinstance(regularizers.get("l1l2"), L1L2)
    assert regularizers.get(None) is None
    reg = L2(1e-4)
    assert regularizers.get(reg) is reg
    for reg in ALL:
        again = regularizers.get(regularizers.serialize(reg))
        assert type(again) is type(reg) and again.get_config() == reg.get_config()
        assert type(reg).from_config(reg.get_config()).get_config() == reg.get_config()
    assert L2(0.5).get_config() == {"l2": 0.5}
    assert L1L2(0.1, 0.2).get_config() == {"l1": 0.1, "l2": 0.2}
    with pytest.raises(ValueError, match="l1_l2"):
        regularizers.get("l3")


@pytest.mark.parametrize("make, error, pattern", [
    (lambda: L2(-1), ValueError, "Expected a non-negative number, received l2=-1"),
    (lambda: L1(float("nan")), ValueError, "l1=nan"),
    (lambda: L1L2(l1=0.1, l2=float("inf")), ValueError, "l2=inf"),
    (lambda: L1("0.1"), TypeError, "l1="),
    (lambda: L2(True), TypeError, "l2=True"),
])
def test_bad_factors(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()
