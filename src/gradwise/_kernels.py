"""Optional compiled kernels for the hot loop, with the NumPy formulas as the fallback.

When Numba is installed (a dependency of gradwise, but the engine runs without it), the
element-wise work of a training step is fused into single passes over memory: the bias add and
ReLU, the ReLU derivative and the bias gradient, the softmax cross-entropy from logits, and the
Adam update. Each kernel computes the formula of its NumPy twin with the same operations (the
tests compare both); only the number of passes over memory and of Python calls changes.

Loading Numba costs about half a second (its import and LLVM's start-up), more than a short
run saves, so by default the kernels are loaded only when a run is expected to save clearly
more than that (:func:`request`, called by ``fit`` and ``train_on_batch``). The environment
variable ``GRADWISE_KERNELS`` chooses: ``auto`` (default), ``always`` or ``never``.
"""
import math
import os

#: Seconds a run must be expected to save before the kernels are loaded (about twice the
#: start-up cost of Numba with its on-disk cache warm).
PAYBACK_SECONDS = 1.0

_state = {"mode": None, "tried": False, "kernels": None}


def _mode():
    if _state["mode"] is None:
        mode = os.environ.get("GRADWISE_KERNELS", "auto").strip().lower()
        _state["mode"] = mode if mode in ("auto", "always", "never") else "auto"
    return _state["mode"]


def load():
    """Compile (or load from the disk cache) the kernels once; None if Numba is unavailable."""
    if not _state["tried"] and _mode() != "never":
        _state["tried"] = True
        try:
            _state["kernels"] = _compile()
        except Exception:  # Numba missing, or unable to compile here: NumPy fallback
            _state["kernels"] = None
    return _state["kernels"]


def kernels():
    """The loaded kernels as a namespace, or None (NumPy path)."""
    if _state["kernels"] is None and _mode() == "always":
        return load()
    return _state["kernels"]


def step_saving(n_params, batch_size, n_units):
    """Seconds one training step is expected to save with the kernels.

    Measured on the benchmark networks: about 10 us of Python calls per step, 2 ns per
    parameter (the Adam update's passes) and 1.2 ns per activation (bias, ReLU and softmax
    passes), within about 30%.
    """
    return 10e-6 + 2e-9 * n_params + 1.2e-9 * batch_size * n_units


def request(expected_saving):
    """Load the kernels when ``expected_saving`` seconds repay their start-up (auto mode)."""
    if _mode() == "auto" and expected_saving >= PAYBACK_SECONDS:
        load()
    return kernels()


def _compile():
    import types

    import numba
    import numpy as np

    jit = numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")

    @jit
    def bias_relu(z, b):
        """z = max(z + b, 0) in place, row by row."""
        n, k = z.shape
        for i in range(n):
            for j in range(k):
                value = z[i, j] + b[j]
                z[i, j] = value if value > 0 else 0.0

    @jit
    def bias_add(z, b):
        n, k = z.shape
        for i in range(n):
            for j in range(k):
                z[i, j] += b[j]

    @jit
    def relu_backward_bias(da, a, dz, db):
        """dz = da * (a > 0); db = column sums of dz."""
        n, k = da.shape
        for j in range(k):
            db[j] = 0.0
        for i in range(n):
            for j in range(k):
                value = da[i, j] if a[i, j] > 0 else 0.0
                dz[i, j] = value
                db[j] += value

    @jit
    def column_sums(dz, db):
        n, k = dz.shape
        for j in range(k):
            db[j] = 0.0
        for i in range(n):
            for j in range(k):
                db[j] += dz[i, j]

    @jit
    def softmax_crossentropy(z, y, weights, use_weights, dz):  # noqa: C901 (one fused pass)
        """Mean (optionally weighted) -sum(y log softmax(z)) and its gradient (p*sum(y) - y)/n."""
        n, k = z.shape
        total = 0.0
        for i in range(n):
            top = z[i, 0]
            for j in range(1, k):
                if z[i, j] > top:
                    top = z[i, j]
            norm = 0.0
            for j in range(k):
                e = math.exp(z[i, j] - top)
                dz[i, j] = e
                norm += e
            log_norm = math.log(norm) + top
            w = weights[i] if use_weights else 1.0
            mass = 0.0
            loss = 0.0
            for j in range(k):
                mass += y[i, j]
                loss += y[i, j] * (log_norm - z[i, j])
            total += w * loss
            scale = w / n
            for j in range(k):
                dz[i, j] = scale * (dz[i, j] / norm * mass - y[i, j])
        return total / n

    @jit
    def adam(p, g, m, v, beta_1, beta_2, step, eps_hat, tiny):
        """m, v moments in place; p -= m / (sqrt(v) + eps_hat) * step.

        The scalars must have the arrays' dtype so float32 stays float32 (and vectorizes);
        the operations are those of the NumPy path, in the same order. One difference: a first
        moment below ``tiny`` (the smallest normal number) is flushed to zero. Units whose
        gradient has become exactly zero (dead ReLUs) see ``m`` decay geometrically through
        the subnormal range, where x86 arithmetic is some 100 times slower; flushing changes
        the update by less than ``tiny / eps``.
        """
        for i in range(p.size):
            gi = g[i]
            square = gi * gi
            mi = beta_1 * (m[i] - gi) + gi
            mi = mi * (abs(mi) >= tiny)  # a multiply, not a branch, so the loop vectorizes
            vi = beta_2 * (v[i] - square) + square
            m[i] = mi
            v[i] = vi
            p[i] -= mi / (np.sqrt(vi) + eps_hat) * step

    return types.SimpleNamespace(bias_relu=bias_relu, bias_add=bias_add,
                                 relu_backward_bias=relu_backward_bias, column_sums=column_sums,
                                 softmax_crossentropy=softmax_crossentropy, adam=adam)
