"""One dispatch per hot operation: the compiled kernels against their NumPy references, the
choice of path made by each call, and the same bits whatever ran before in the process.

Every test here pins the path it tests (``use_compiled=...``, ``compile(kernels=...)`` or
``GRADWISE_KERNELS``), so no result depends on the order the tests run in.
"""
import subprocess
import sys
import types

import numpy as np
import pytest

import gradwise as gw
from gradwise._training import choose_compute_path
from gradwise.backend import kernels as _kernels

pytest.importorskip("numba")

#: Measured: the compiled softmax cross-entropy sums each row sequentially, NumPy pairwise;
#: over 200 random float32 cases (1-300 rows, 2-40 classes) the loss differed by at most
#: 1.6e-7 relative and the gradient by 5e-7 of its largest entry (2e-15 and 1e-15 in float64).
SOFTMAX_RTOL = {np.float32: 4e-7, np.float64: 4e-15}
SOFTMAX_GRAD_TOL = {np.float32: 1.5e-6, np.float64: 4e-15}


def _both(function):
    """``function(use_compiled)`` on each path: (compiled result, NumPy result)."""
    assert _kernels.available()
    return function(True), function(False)


def _assert_bits_equal(compiled, reference):
    for a, b in zip(compiled, reference):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, units", [(37, 13), (1000, 1)])  # one unit: a contiguous column
def test_bias_and_relu_kernels_give_the_numpy_bits(dtype, rows, units, rng):
    z0 = rng.normal(size=(rows, units)).astype(dtype)
    b = rng.normal(size=units).astype(dtype)
    da = rng.normal(size=(rows, units)).astype(dtype)
    a = np.maximum(z0 + b, 0)

    def run(use_compiled):
        relu = _kernels.bias_relu(z0.copy(), b, use_compiled)
        added = _kernels.bias_add(z0.copy(), b, use_compiled)
        dz, db = np.empty_like(da), np.empty(units, dtype)
        _kernels.relu_backward_bias(da, a, dz, db, use_compiled)
        sums = np.empty(units, dtype)
        _kernels.column_sums(da, sums, use_compiled)
        return relu, added, dz, db, sums

    compiled, reference = _both(run)
    _assert_bits_equal(compiled, reference)
    np.testing.assert_array_equal(reference[0], np.maximum(z0 + b, 0))  # the formulas
    np.testing.assert_allclose(reference[3], (da * (a > 0)).sum(axis=0), rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_kernel_gives_the_numpy_bits(dtype, rng):
    start = rng.normal(size=1000).astype(dtype)
    grads = [rng.normal(size=1000).astype(dtype) for _ in range(5)]
    grads[3][:100] = 0  # dead units: their first moments decay

    def train(use_compiled):
        optimizer, params = gw.optimizers.Adam(0.01), start.copy()
        optimizer._use_compiled = use_compiled
        for g in grads:
            optimizer.update(params, g.copy())
        return params, optimizer.state["m"], optimizer.state["v"]

    _assert_bits_equal(*_both(train))


@pytest.mark.parametrize("use_compiled", [True, False])
def test_both_adam_paths_flush_subnormal_first_moments(use_compiled):
    tiny = np.finfo(np.float32).tiny
    params = np.ones(4, np.float32)
    optimizer = gw.optimizers.Adam(1e-3)
    optimizer._use_compiled = use_compiled
    optimizer.update(params, np.array([1, -1, 1, 1], np.float32))
    optimizer.state["m"][:2] = [tiny / 4, -tiny / 8]  # as a dead unit's moment decays
    optimizer.update(params, np.zeros(4, np.float32))
    assert optimizer.state["m"][0] == 0 and optimizer.state["m"][1] == 0
    assert optimizer.state["m"][2] == pytest.approx(0.09)  # normal values follow the rule


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weighted", [False, True])
def test_softmax_crossentropy_kernel_within_the_measured_rounding(dtype, weighted, rng):
    for _ in range(20):
        n, k = rng.integers(1, 200), rng.integers(2, 30)
        logits = (rng.normal(size=(n, k)) * rng.uniform(0.1, 10)).astype(dtype)
        y = np.eye(k, dtype=dtype)[rng.integers(0, k, n)]
        w = rng.uniform(0.5, 2, n).astype(dtype) if weighted else None
        (v1, g1), (v2, g2) = _both(lambda c: _kernels.softmax_crossentropy(logits, y, w, c))
        assert v1 == pytest.approx(v2, rel=SOFTMAX_RTOL[dtype])
        assert np.abs(g1 - g2).max() <= SOFTMAX_GRAD_TOL[dtype] * np.abs(g2).max()
    # The NumPy reference against the formula in float64: log-sum-exp minus the true logit.
    z = rng.normal(size=(6, 4))
    labels = rng.integers(0, 4, 6)
    value, grad = _kernels.softmax_crossentropy(z, np.eye(4)[labels], None, False)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert value == pytest.approx(np.mean(-np.log(p[np.arange(6), labels])), rel=1e-13)
    np.testing.assert_allclose(grad, (p - np.eye(4)[labels]) / 6, rtol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "linear", "tanh"])
def test_dense_layer_gives_the_same_bits_on_both_paths(activation, rng):
    x = rng.normal(size=(6, 4)).astype(np.float32)
    dy = rng.normal(size=(6, 3)).astype(np.float32)

    def step(use_compiled):
        layer = gw.layers.Dense(3, activation=activation).build(4, np.random.default_rng(0))
        layer._use_compiled = use_compiled
        out = layer.forward(x, training=True).copy()
        dx = layer.backward(dy).copy()
        return out, dx, layer.grads["W"].copy(), layer.grads["b"].copy()

    _assert_bits_equal(*_both(step))


def _digits_model(kernels, output="softmax", loss="categorical_crossentropy"):
    model = gw.Sequential([gw.layers.Dense(64, activation="relu"),
                           gw.layers.Dense(64, activation="relu"),
                           gw.layers.Dense(10, activation=output)], input_dim=64, seed=0)
    model.compile(optimizer="adam", loss=loss, kernels=kernels)
    return model


def test_training_paths_agree_bit_for_bit_but_for_the_softmax_rounding(digits_split):
    """Pinned paths on digits: with MSE every operation is bit-identical, so are the weights;
    with the fused softmax cross-entropy they differ by its rounding (measured: 3.4e-6 at
    most, 6e-6 of the largest weight, after 20 epochs; 1.7e-6 after 5)."""
    X, _, y, _ = digits_split

    def weights(kernels, **options):
        model = _digits_model(kernels, **options)
        target = np.eye(10)[y] if options else y
        model.fit(X, target, epochs=5, batch_size=32, verbose=0)
        return model.params_buffer.copy()

    regression = {"output": "linear", "loss": "mse"}
    assert weights("always", **regression).tobytes() == weights("never", **regression).tobytes()
    compiled, reference = weights("always"), weights("never")
    assert not np.array_equal(compiled, reference)  # the two paths really ran
    assert np.abs(compiled - reference).max() <= 5e-6


def test_every_kernel_runs_when_the_call_chooses_them(monkeypatch, digits_split):
    X, _, y, _ = digits_split
    calls = {}
    loaded = _kernels._kernels()

    def counted(name):
        def call(*args):
            calls[name] = calls.get(name, 0) + 1
            return getattr(loaded, name)(*args)
        return call

    spy = types.SimpleNamespace(**{name: counted(name) for name in _kernels._LOOPS})
    monkeypatch.setitem(_kernels._loaded, "kernels", spy)
    model = _digits_model("always")
    model.fit(X[:64], y[:64], epochs=1, batch_size=32, verbose=0)
    assert set(calls) == set(_kernels._LOOPS)  # the output layer is linear: fused logits
    assert all(not part._use_compiled for part in [*model.layers, model.optimizer])
    calls.clear()
    model = _digits_model("never")
    model.fit(X[:64], y[:64], epochs=1, batch_size=32, verbose=0)
    assert calls == {}


def test_the_path_is_decided_by_the_call_and_the_setting(monkeypatch, rng):
    X, y = rng.normal(size=(64, 8)), rng.integers(0, 3, 64)
    model = gw.Sequential([gw.layers.Dense(16, activation="relu"),
                           gw.layers.Dense(3, activation="softmax")], input_dim=8, seed=0)
    model.compile(loss="categorical_crossentropy")
    model.build()
    saving = _kernels.step_saving(model.params_buffer.size, 32, 19)
    long_run = int(_kernels.PAYBACK_SECONDS / saving) + 1
    monkeypatch.setenv("GRADWISE_KERNELS", "auto")
    assert not choose_compute_path(model, 4, 32)  # four tiny steps: not worth it
    assert choose_compute_path(model, long_run, 32)
    assert not choose_compute_path(model, 4, 32)  # a long run before changes nothing
    monkeypatch.setenv("GRADWISE_KERNELS", "never")
    assert not choose_compute_path(model, long_run, 32)
    monkeypatch.setenv("GRADWISE_KERNELS", "always")
    assert choose_compute_path(model, 1, 32)
    model.compile(loss="categorical_crossentropy", kernels="never")  # the model's own setting wins
    assert not choose_compute_path(model, long_run, 32)
    with pytest.raises(ValueError, match="kernels='fast'"):
        model.compile(loss="categorical_crossentropy", kernels="fast")


_SEEDED_RUN = """
import hashlib, sys
import numpy as np
import gradwise as gw
from sklearn.datasets import load_digits

X, y = load_digits(return_X_y=True)
X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-9)


def seeded_run():
    model = gw.Sequential([gw.layers.Dense(32, activation="relu"),
                           gw.layers.Dense(10, activation="softmax")], input_dim=64, seed=7)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(X[:600], y[:600], epochs=3, batch_size=32, verbose=0)
    return hashlib.sha256(model.params_buffer.tobytes()).hexdigest()


print(seeded_run())
"""


def _seeded_weights_in_a_fresh_process():
    out = subprocess.run([sys.executable, "-c", _SEEDED_RUN], capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def test_a_seeded_run_gives_the_same_bits_after_a_large_training(monkeypatch, digits_split):
    """The same seed, data and configuration give the same weights in a fresh process and in
    one that has already trained a large model with the compiled kernels."""
    monkeypatch.setenv("GRADWISE_KERNELS", "auto")  # the subprocess inherits it
    fresh = _seeded_weights_in_a_fresh_process()

    class StopAfterOneEpoch(gw.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True
            self.chosen = self.model.layers[0]._use_compiled

    X, _, y, _ = digits_split
    big = gw.Sequential([gw.layers.Dense(512, activation="relu"),
                         gw.layers.Dense(512, activation="relu"),
                         gw.layers.Dense(10, activation="softmax")], input_dim=64, seed=1)
    big.compile(optimizer="adam", loss="categorical_crossentropy")
    probe = StopAfterOneEpoch()
    # A long run is planned (auto: the kernels repay themselves), stopped after one epoch.
    big.fit(X, y, epochs=1000, batch_size=64, verbose=0, callbacks=[probe])
    assert probe.chosen and _kernels.available()
    namespace = {}
    exec(_SEEDED_RUN.replace("print(seeded_run())", ""), namespace)
    assert namespace["seeded_run"]() == fresh


def test_import_loads_neither_scikit_learn_nor_numba():
    """``import gradwise`` stays light: heavy modules load on first use."""
    code = ("import sys, gradwise; heavy = [m for m in sys.modules if m.split('.')[0] in "
            "('sklearn', 'scipy', 'numba')]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


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
