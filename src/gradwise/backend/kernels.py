"""The hot loop's element-wise operations: one dispatch function per operation, with its NumPy
reference and its compiled (Numba) kernel written side by side.

Each operation below is one public function taking ``use_compiled``: False runs the NumPy
reference, True the compiled kernel (when Numba is installed and the arrays are ones the kernel
takes: one float dtype, C-contiguous; otherwise the NumPy reference). The kernel fuses the
same formula into one pass over memory and one Python call; its loops are the plain Python
functions named ``_<operation>_loops``, compiled on first use.

Which path a training call runs is decided once, by :func:`choose`, from that call's own
configuration: the setting (``compile(kernels=...)``, else the environment variable
``GRADWISE_KERNELS``: ``auto`` (default), ``always`` or ``never``) and, in ``auto``, the size of
the run (whether the kernels are expected to save more than their start-up cost). The
decision never depends on what ran earlier in the process: the compiled functions are cached
once loaded, but a cache is not a decision.

The two paths give bit-identical results for the bias and ReLU operations and for Adam (same
operations, same order, same precision; a bias gradient is summed row after row on both, a
one-unit layer's too). The softmax cross-entropy sums each row in a
different order (the kernel sequentially, NumPy pairwise), so its values differ in the last
bits (about 1e-7 relative in float32); see the README for what that means for trained weights.
"""
import os

from . import xp

#: The settings of ``GRADWISE_KERNELS`` and of ``Sequential.compile(kernels=...)``.
MODES = ("auto", "always", "never")

#: Seconds a run must be expected to save before ``auto`` compiles the kernels: about the
#: start-up cost of Numba with its on-disk cache warm (importing Numba and llvmlite, loading
#: the kernels: 0.84 to 1.15 s on the 2-core benchmark machine, ``python -m bench.payback``).
PAYBACK_SECONDS = 1.0

_loaded = {}  # the compiled functions once made (or None when Numba cannot make them)
_TINY = {xp.dtype(t): t(xp.finfo(t).tiny) for t in (xp.float32, xp.float64)}


# -- the decision --------------------------------------------------------------------------
def setting(kernels=None):
    """The setting in force: ``kernels`` if given, else ``GRADWISE_KERNELS`` (read now).

    An unknown value of the environment variable means ``auto``; an unknown ``kernels``
    argument raises ``ValueError``.
    """
    if kernels is None:
        value = os.environ.get("GRADWISE_KERNELS", "auto").strip().lower()
        return value if value in MODES else "auto"
    if kernels not in MODES:
        raise ValueError(f"Expected kernels None, 'auto', 'always' or 'never', received "
                         f"kernels={kernels!r}")
    return kernels


def choose(kernels, expected_saving):
    """Whether a call runs the compiled kernels: ``always``, or ``auto`` when the call is
    expected to save at least :data:`PAYBACK_SECONDS`; never without Numba."""
    mode = setting(kernels)
    if mode == "never" or (mode == "auto" and expected_saving < PAYBACK_SECONDS):
        return False
    return available()


def step_saving(n_params, batch_size, n_units):
    """Seconds one training step is expected to save with the kernels.

    Measured on the benchmark networks with ``train_on_batch``: about 10 us of Python calls
    per step, 2 ns per parameter (the Adam update's passes) and 1.2 ns per activation (bias,
    ReLU and softmax passes), within about 30%. Inside ``fit`` (``python -m bench.payback``)
    small networks save more than this predicts (25-128-128-2 at batch 64: 98 to 174 us
    measured against 70 predicted) and the widest less (200-512-512-10: 387 to 980 against
    831), with run-to-run spreads as large as the differences; the estimate errs towards the
    NumPy path for small networks, whose runs the start-up would weigh most.
    """
    return 10e-6 + 2e-9 * n_params + 1.2e-9 * batch_size * n_units


def available():
    """True when the compiled kernels can run here (compiles them, or loads Numba's disk
    cache, on the first call)."""
    return _kernels() is not None


def _kernels():
    if "kernels" not in _loaded:
        try:
            _loaded["kernels"] = _compile()
        except Exception:  # Numba missing, or unable to compile here: NumPy only
            _loaded["kernels"] = None
    return _loaded["kernels"]


def _kernel_for(use_compiled, *arrays):
    """The kernels when this call should and can use them (Numba there, and arrays of one
    float dtype, C-contiguous), else None: a plain loop, as it runs several times a step."""
    if not use_compiled:
        return None
    kernels = _kernels()
    dtype = arrays[0].dtype
    if kernels is None or dtype.kind != "f":
        return None
    for array in arrays:
        if not isinstance(array, xp.ndarray) or array.dtype != dtype or not array.flags.c_contiguous:
            return None
    return kernels


# -- bias + ReLU (Dense forward) -----------------------------------------------------------
def bias_relu(z, b, use_compiled=False):
    """``z = max(z + b, 0)`` in place, ``z`` (n, k) and ``b`` (k,); returns ``z``."""
    kernels = _kernel_for(use_compiled, z, b)
    if kernels is not None:
        kernels.bias_relu(z, b)
        return z
    z += b
    return xp.maximum(z, 0, out=z)


def _bias_relu_loops(z, b):
    n, k = z.shape
    for i in range(n):
        for j in range(k):
            value = z[i, j] + b[j]
            z[i, j] = value if value > 0 else 0.0


def bias_add(z, b, use_compiled=False):
    """``z = z + b`` in place, ``z`` (n, k) and ``b`` (k,); returns ``z``."""
    kernels = _kernel_for(use_compiled, z, b)
    if kernels is not None:
        kernels.bias_add(z, b)
        return z
    z += b
    return z


def _bias_add_loops(z, b):
    n, k = z.shape
    for i in range(n):
        for j in range(k):
            z[i, j] += b[j]


# -- ReLU backward + bias gradient (Dense backward) ----------------------------------------
def relu_backward_bias(da, a, dz, db, use_compiled=False):
    """``dz = da * (a > 0)`` and ``db = column sums of dz`` (shapes (n, k), (n, k), (n, k),
    (k,)), written into ``dz`` and ``db``."""
    kernels = _kernel_for(use_compiled, da, a, dz, db)
    if kernels is not None:
        kernels.relu_backward_bias(da, a, dz, db)
        return
    xp.multiply(da, a > 0, out=dz)
    _sum_rows(dz, db)


def _relu_backward_bias_loops(da, a, dz, db):
    # The sums gather in a local array (which cannot alias the inputs) and the mask is a
    # multiply in the arrays' precision, so the inner loop vectorizes. Rows are added in
    # order, as NumPy's column sums of a C-contiguous array add them.
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


def column_sums(dz, db, use_compiled=False):
    """``db = sum over rows of dz`` ((n, k) -> (k,)), written into ``db``."""
    kernels = _kernel_for(use_compiled, dz, db)
    if kernels is not None:
        kernels.column_sums(dz, db)
        return
    _sum_rows(dz, db)


def _sum_rows(a, out):
    """``out = sum over the rows of a``, row after row, as the kernels add them. NumPy adds
    the rows of a C-ordered array in order, except a single column, which is contiguous and
    which it sums pairwise: that one is summed in order here (the last of its running sums)."""
    if a.shape[1] == 1:
        out[0] = xp.cumsum(a[:, 0])[-1]
    else:
        xp.sum(a, axis=0, out=out)


def _column_sums_loops(dz, db):
    n, k = dz.shape
    sums = np.zeros(k, db.dtype)
    for i in range(n):
        for j in range(k):
            sums[j] += dz[i, j]
    db[:] = sums


# -- softmax cross-entropy from logits (the fused output layer and loss) -------------------
def softmax_crossentropy(z, y, w=None, use_compiled=False, need_grad=True):
    """Mean softmax cross-entropy of logits ``z`` (n, k) against targets ``y`` (n, k), with
    optional sample weights ``w`` (n,), and its gradient with respect to ``z``.

    Returns ``(value, gradient)`` (gradient None when not ``need_grad`` on the NumPy path).

    Notes
    -----
    ``L = sum_i w_i l_i / n`` with ``l_i = -sum_j y_ij log softmax(z_i)_j`` and
    ``dL/dz_ij = w_i (s_i softmax(z_i)_j - y_ij) / n``, ``s_i = sum_j y_ij``.
    """
    arrays = (z, y) if w is None else (z, y, w)
    kernels = _kernel_for(use_compiled and z.ndim == 2 and y.shape == z.shape, *arrays)
    if kernels is None:
        return _softmax_crossentropy_numpy(z, y, w, need_grad)
    n = z.shape[0]
    shifted, grad = xp.empty_like(z), xp.empty_like(z)
    norms, masses = xp.empty(n, z.dtype), xp.empty(n, z.dtype)
    kernels.shift_rows(z, shifted)
    xp.exp(shifted, out=grad)  # NumPy's vectorized exp and log are far faster than scalar ones
    weights = z[:1, 0] if w is None else w
    dot = kernels.softmax_crossentropy(shifted, grad, y, weights, w is not None, norms, masses)
    return float(masses @ xp.log(norms, out=norms)) / n - dot, grad


def _softmax_crossentropy_numpy(z, y, w, need_grad):
    log_p = z - z.max(axis=1, keepdims=True)
    log_p -= xp.log(xp.exp(log_p).sum(axis=1, keepdims=True))
    losses = -(y * log_p).sum(axis=1)
    n = losses.size
    value = float(losses.sum()) / n if w is None else float(w @ losses) / n
    if not need_grad:
        return value, None
    grad = xp.exp(log_p, out=log_p)
    grad *= y.sum(axis=1, keepdims=True)
    xp.subtract(grad, y, out=grad)
    if w is None:
        grad *= 1.0 / n
    else:
        grad *= (w * (1.0 / n))[:, None]
    return value, grad


def _shift_rows_loops(z, shifted):
    """shifted = z - max of each row (the stable form of the softmax)."""
    n, k = z.shape
    for i in range(n):
        top = z[i, 0]
        for j in range(1, k):
            top = max(top, z[i, j])
        for j in range(k):
            shifted[i, j] = z[i, j] - top


def _softmax_crossentropy_loops(shifted, exp_shifted, y, weights, use_weights, norms, masses):
    """From the shifted logits ``s`` and ``e = exp(s)``: overwrites ``e`` with the gradient
    ``w (p sum(y) - y) / n`` (``p = e / sum(e)``), writes each row's ``sum(e)`` to ``norms``
    and ``w sum(y)`` to ``masses``, and returns ``sum(w y s) / n``; the loss is
    ``masses @ log(norms) / n`` minus that."""
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


# -- Adam ----------------------------------------------------------------------------------
def adam(params, grads, m, v, scratch, beta_1, beta_2, step_size, eps_hat, use_compiled=False):
    """One Adam update of flat arrays, in place: the moments ``m``, ``v`` and ``params``.

    ``scratch`` is a work array like ``params``; ``step_size`` is ``lr sqrt(1 - beta_2^t) /
    (1 - beta_1^t)`` and ``eps_hat`` is ``epsilon sqrt(1 - beta_2^t)``, so that
    ``params -= m / (sqrt(v) + eps_hat) * step_size`` is torch's update.

    Notes
    -----
    ``m = beta_1 m + (1 - beta_1) g`` (as written: the shorter ``beta_1 (m - g) + g`` cancels
    when ``g^2`` dwarfs ``v``, losing about three digits in float32), then entries of ``m``
    below the smallest normal number are flushed to zero: units whose gradient has become
    exactly zero (dead ReLUs) see ``m`` decay geometrically through the subnormal range, where
    x86 arithmetic is some 100 times slower; flushing changes the update by less than
    ``tiny / eps``. ``v = beta_2 v + (1 - beta_2) g^2``. The scalars take the arrays' dtype, so
    float32 stays float32.
    """
    scalar = params.dtype.type
    tiny = _TINY.get(params.dtype) or scalar(xp.finfo(params.dtype).tiny)
    kernels = _kernel_for(use_compiled, params, grads, m, v)
    if kernels is not None:
        kernels.adam(params, grads, m, v, scalar(beta_1), scalar(1.0 - beta_1), scalar(beta_2),
                     scalar(1.0 - beta_2), scalar(step_size), scalar(eps_hat), tiny)
        return
    m *= scalar(beta_1)
    xp.multiply(grads, scalar(1.0 - beta_1), out=scratch)
    m += scratch
    xp.abs(m, out=scratch)
    xp.greater_equal(scratch, tiny, out=scratch)
    m *= scratch  # a multiply by the 0/1 mask, as the kernel does
    xp.multiply(grads, grads, out=scratch)
    scratch *= scalar(1.0 - beta_2)
    v *= scalar(beta_2)
    v += scratch
    denom = xp.sqrt(v, out=scratch)
    denom += scalar(eps_hat)
    xp.divide(m, denom, out=denom)
    denom *= scalar(step_size)
    params -= denom


def _adam_loops(p, g, m, v, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, step, eps_hat,
                tiny):
    for i in range(p.size):
        gi = g[i]
        square = gi * gi
        mi = m[i] * beta_1 + gi * one_minus_beta_1
        mi = mi * (abs(mi) >= tiny)  # a multiply, not a branch, so the loop vectorizes
        vi = v[i] * beta_2 + square * one_minus_beta_2
        m[i] = mi
        v[i] = vi
        p[i] -= mi / (np.sqrt(vi) + eps_hat) * step


# -- compilation ---------------------------------------------------------------------------
np = xp  # the name the kernels' loops use for NumPy's functions (Numba compiles np.sqrt, ...)

_LOOPS = {"bias_relu": _bias_relu_loops, "bias_add": _bias_add_loops,
          "relu_backward_bias": _relu_backward_bias_loops, "column_sums": _column_sums_loops,
          "shift_rows": _shift_rows_loops, "softmax_crossentropy": _softmax_crossentropy_loops,
          "adam": _adam_loops}


def _compile():
    """Compile every ``_*_loops`` function (or load them from Numba's disk cache)."""
    import types

    import numba

    jit = numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")
    return types.SimpleNamespace(**{name: jit(loops) for name, loops in _LOOPS.items()})
