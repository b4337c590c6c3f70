"""The compiled kernels compute the same numbers as the NumPy formulas they replace."""
import numpy as np
import pytest

import gradwise as gw
from gradwise.backend import kernels as _kernels

pytest.importorskip("numba")


@pytest.fixture
def engines(monkeypatch):
    """Run a function once with the compiled kernels and once with NumPy alone."""
    def run(function):
        results = []
        for mode in ("always", "never"):
            monkeypatch.setitem(_kernels._state, "mode", mode)
            monkeypatch.setitem(_kernels._state, "tried", False)
            monkeypatch.setitem(_kernels._state, "kernels", None)
            assert (_kernels.kernels() is not None) == (mode == "always")
            results.append(function())
        return results
    return run


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_kernel_is_bit_identical_to_numpy(engines, dtype, rng):
    start = rng.normal(size=1000).astype(dtype)
    grads = [rng.normal(size=1000).astype(dtype) for _ in range(5)]

    def train():
        optimizer, params = gw.optimizers.Adam(0.01), start.copy()
        for g in grads:
            optimizer.update(params, g.copy())
        return params

    compiled, numpy = engines(train)
    np.testing.assert_array_equal(compiled, numpy)


@pytest.mark.parametrize("weighted", [False, True])
def test_softmax_crossentropy_kernel_matches_numpy(engines, weighted, rng):
    logits = rng.normal(size=(9, 5)) * 3
    y = np.eye(5)[rng.integers(0, 5, 9)]
    w = rng.uniform(0.5, 2, 9) if weighted else None
    loss = gw.losses.CategoricalCrossentropy(from_logits=True)
    (v1, g1), (v2, g2) = engines(lambda: loss.value_and_gradient(y, logits, w))
    assert v1 == pytest.approx(v2, rel=1e-13)
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("activation", ["relu", "linear"])
def test_dense_kernels_match_numpy(engines, activation, rng):
    x = rng.normal(size=(6, 4))
    dy = rng.normal(size=(6, 3))

    def step():
        layer = gw.layers.Dense(3, activation=activation).build(4, np.random.default_rng(0), np.float64)
        out = layer.forward(x, training=True).copy()
        dx = layer.backward(dy).copy()
        return out, dx, layer.grads["W"].copy(), layer.grads["b"].copy()

    for a, b in zip(*engines(step)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_training_on_digits_agrees_between_engines(engines, digits_split):
    X_train, _, y_train, _ = digits_split

    def train():
        model = gw.Sequential([gw.layers.Dense(32, activation="relu"),
                               gw.layers.Dense(10, activation="softmax")], input_dim=64, seed=0)
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        model.fit(X_train[:256], y_train[:256], epochs=2, batch_size=32, verbose=0)
        return model.params_buffer.copy()

    compiled, numpy = engines(train)
    np.testing.assert_allclose(compiled, numpy, rtol=1e-4, atol=1e-5)


def test_import_loads_neither_scikit_learn_nor_numba():
    """``import gradwise`` stays light: heavy modules load on first use."""
    import subprocess
    import sys
    code = ("import sys, gradwise; heavy = [m for m in sys.modules if m.split('.')[0] in "
            "('sklearn', 'scipy', 'numba')]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_auto_mode_loads_kernels_only_for_runs_that_repay_them(monkeypatch, rng):
    monkeypatch.setitem(_kernels._state, "mode", "auto")
    monkeypatch.setitem(_kernels._state, "tried", False)
    monkeypatch.setitem(_kernels._state, "kernels", None)
    X, y = rng.normal(size=(64, 8)), rng.integers(0, 3, 64)
    model = gw.Sequential([gw.layers.Dense(16, activation="relu"),
                           gw.layers.Dense(3, activation="softmax")], input_dim=8, seed=0)
    model.compile(loss="categorical_crossentropy")
    model.fit(X, y, epochs=2, batch_size=32, verbose=0)  # four tiny steps: not worth it
    assert _kernels.kernels() is None
    saving = _kernels.step_saving(model.params_buffer.size, 32, model._total_units)
    epochs = int(_kernels.PAYBACK_SECONDS / (2 * saving)) + 1  # two steps per epoch

    class StopAtOnce(gw.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    # A long run is planned before its first step (here stopped after one epoch).
    model.fit(X, y, epochs=epochs, batch_size=32, verbose=0, callbacks=[StopAtOnce()])
    assert _kernels.kernels() is not None


def test_never_mode_keeps_numpy(monkeypatch):
    monkeypatch.setitem(_kernels._state, "mode", "never")
    monkeypatch.setitem(_kernels._state, "tried", False)
    monkeypatch.setitem(_kernels._state, "kernels", None)
    assert _kernels.request(1e9) is None and _kernels.load() is None


def test_set_num_threads_limits_blas_and_rejects_bad_counts():
    from threadpoolctl import threadpool_info
    from gradwise.backend.threads import _limiter
    gw.set_num_threads(1)
    try:
        assert all(pool["num_threads"] == 1 for pool in threadpool_info() if pool["user_api"] == "blas")
    finally:
        _limiter["controller"].restore_original_limits()
    with pytest.raises(ValueError, match="n_threads=0"):
        gw.set_num_threads(0)


def test_adam_kernel_flushes_subnormal_first_moments(monkeypatch):
    monkeypatch.setitem(_kernels._state, "mode", "always")
    tiny = np.finfo(np.float32).tiny
    params = np.ones(4, np.float32)
    optimizer = gw.optimizers.Adam(1e-3)
    optimizer.update(params, np.array([1, -1, 1, 1], np.float32))
    optimizer.state["m"][:2] = [tiny / 4, -tiny / 8]  # as a dead unit's moment decays
    optimizer.update(params, np.zeros(4, np.float32))
    assert optimizer.state["m"][0] == 0 and optimizer.state["m"][1] == 0
    assert optimizer.state["m"][2] == pytest.approx(0.09)  # normal values follow the rule
