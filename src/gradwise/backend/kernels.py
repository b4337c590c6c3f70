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
        """dz = da * (a > 0); db = column sums of dz.

        The sums gather in a local array (which cannot alias the inputs) and the mask is a
        multiply in the arrays' precision, so the inner loop vectorizes: 30% faster than a
        branch accumulating into ``db`` directly, with the same additions in the same order.
        """
        n, k = da.shape
        zero = da.dtype.type(0)
        sums = np.zeros(k, db.dtype)
        for i in range(n):
            da_row, a_row, dz_row = da[i], a[i], dz[i]
            for j in range(k):
                value = da_row[j] * (a_row[j] > zero)
                dz_row[j] = value
                sums[j] += value
        db[:] = sums

    @jit
    def column_sums(dz, db):
        n, k = dz.shape
        for j in range(k):
            db[j] = 0.0
        for i in range(n):
            for j in range(k):
                db[j] += dz[i, j]

    @jit
    def shift_rows(z, shifted):
        """shifted = z - max of each row (the stable form of the softmax)."""
        n, k = z.shape
        for i in range(n):
            top = z[i, 0]
            for j in range(1, k):
                top = max(top, z[i, j])
            for j in range(k):
                shifted[i, j] = z[i, j] - top

    @jit
    def softmax_crossentropy(shifted, exp_shifted, y, weights, use_weights, norms, masses):
        """Softmax cross-entropy from the shifted logits ``s`` and ``e = exp(s)``.

        Overwrites ``e`` with the gradient ``w (p sum(y) - y) / n`` (``p = e / sum(e)``), writes
        each row's ``sum(e)`` to ``norms`` and ``w sum(y)`` to ``masses``, and returns
        ``sum(w y s) / n``; the loss is ``masses @ log(norms) / n`` minus that. The exp and the
        log are left to NumPy, whose vectorized versions are far faster than scalar ones here.
        """
        n, k = shifted.shape
        dot = 0.0
        for i in range(n):
            norm = exp_shifted[i, 0]
            mass = y[i, 0]
            ys = y[i, 0] * shifted[i, 0]
            for j in range(1, k):
                norm += exp_shifted[i, j]
                mass += y[i, j]
                ys += y[i, j] * shifted[i, j]
            w = weights[i] if use_weights else 1.0
            norms[i] = norm
            masses[i] = w * mass
            dot += w * ys
            scale = w / n
            coefficient = scale * mass / norm
            for j in range(k):
                exp_shifted[i, j] = coefficient * exp_shifted[i, j] - scale * y[i, j]
        return dot / n

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
                                 shift_rows=shift_rows, softmax_crossentropy=softmax_crossentropy,
                                 adam=adam)
