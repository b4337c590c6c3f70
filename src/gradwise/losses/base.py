"""The loss base class and the checks its subclasses share."""

from ..backend import DEFAULT_DTYPE, xp
from .._registry import Configurable
from .._validation import check_number, check_positive_int

#: Probabilities are clipped to ``[EPSILON, 1 - EPSILON]`` inside the logarithms.
EPSILON = 1e-7

def _sigmoid(z):
    """Logistic function, stable for large ``|z|`` (no overflow in ``exp``)."""
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1.0, e) / (1.0 + e)


def _check_bool(value, argument):
    if not isinstance(value, (bool, xp.bool_)):
        raise TypeError(f"Expected a boolean, received {argument}={value!r}.")
    return bool(value)


def _check_number(value, argument, positive=False, high=float("inf")):
    """Return ``value`` as a float after checking it is finite, >= 0 (or > 0) and <= ``high``."""
    what = "a positive number" if positive else "a non-negative number"
    bounded = high != float("inf")
    return check_number(value, argument, low_open=positive, high=high if bounded else None,
                        high_open=False, kind=what + (f" at most {high:g}" if bounded else ""))


def _check_y(y):
    """Turn user targets into a finite numeric 1-D or 2-D array, or raise naming ``y``."""
    try:
        arr = xp.asarray(y)
        if arr.dtype.kind == "O":
            arr = arr.astype(xp.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"y: expected a numeric array of labels or targets; {err}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"y: expected numeric labels or targets, received an array of dtype {arr.dtype}.")
    if arr.dtype.kind == "b":
        arr = arr.astype(xp.int8)
    if arr.ndim not in (1, 2):
        raise ValueError(f"y: expected a 1-D or 2-D array, received shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"y: expected at least one sample, received an empty array of shape {arr.shape}.")
    if arr.dtype.kind == "f" and not xp.isfinite(arr).all():
        raise ValueError("y: expected finite values, received NaN or infinite entries.")
    return arr

class Loss(Configurable):
    """Base class: mean reduction, sample weights and shape handling around ``_terms``.

    Subclasses implement ``_terms(y, p, need_grad) -> (losses, dlosses)``, where ``losses`` holds
    per-element losses (n_samples, n_outputs) or per-sample losses (n_samples,), and ``dlosses`` is
    the derivative of their sum with respect to ``p`` (a new array, or None).

    Notes
    -----
    With ``m`` the number of terms (all elements, or samples for per-sample losses) and
    weights ``w`` of shape (n_samples,), the value is ``sum_i w_i * sum_j l_ij / m`` (Keras'
    "sum over batch size": divided by the count, not by ``sum(w)``).
    """

    name = "loss"
    #: Set by the training call for its duration: compiled kernels or NumPy references
    #: (see :mod:`gradwise.backend.kernels`).
    _use_compiled = False
    #: Final activation this loss can be fused with when ``from_logits=True`` (None: no fusion).
    logits_activation = None

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Mean loss (float) of ``y_pred`` (n_samples, n_outputs) against prepared ``y_true``."""
        return self._compute(y_true, y_pred, sample_weight, need_grad=False)[0]

    def gradient(self, y_true, y_pred, sample_weight=None):
        """Derivative of ``self(y_true, y_pred, sample_weight)`` with respect to ``y_pred``."""
        return self._compute(y_true, y_pred, sample_weight, need_grad=True)[1]

    def value_and_gradient(self, y_true, y_pred, sample_weight=None):
        """Return ``(value, gradient)`` computed in one pass, sharing intermediates."""
        return self._compute(y_true, y_pred, sample_weight, need_grad=True)

    def _compute(self, y_true, y_pred, sample_weight, need_grad):
        y, p, w, shape = self._align(y_true, y_pred, sample_weight)
        losses, dlosses = self._terms(y, p, need_grad)
        count = losses.size
        if w is None:
            value = float(losses.sum()) / count
        else:
            per_sample = losses.sum(axis=1) if losses.ndim == 2 else losses
            value = float(w @ per_sample) / count
        if not need_grad:
            return value, None
        if w is None:
            dlosses *= 1.0 / count
        else:
            dlosses *= (w * (1.0 / count))[:, None]
        return value, dlosses.reshape(shape)

    def _align(self, y_true, y_pred, sample_weight):
        y_pred = xp.asarray(y_pred)
        if y_pred.dtype.kind != "f":
            y_pred = y_pred.astype(xp.float64)
        shape = y_pred.shape
        if y_pred.ndim == 1:
            y_pred = y_pred.reshape(-1, 1)
        elif y_pred.ndim != 2:
            raise ValueError(f"y_pred: expected shape (n_samples, n_outputs), received {shape}.")
        y_true = self._match_targets(xp.asarray(y_true), y_pred)
        if sample_weight is None:
            return y_true, y_pred, None, shape
        w = xp.asarray(sample_weight, dtype=y_pred.dtype).reshape(-1)
        if w.shape[0] != y_pred.shape[0]:
            raise ValueError(f"sample_weight: expected shape ({y_pred.shape[0]},), "
                             f"received shape {xp.shape(sample_weight)}.")
        return y_true, y_pred, w, shape

    def _match_targets(self, y_true, y_pred):
        if y_true.shape != y_pred.shape:
            if y_true.ndim not in (1, 2) or y_true.size != y_pred.size or y_true.shape[0] != y_pred.shape[0]:
                raise ValueError(f"y_true: expected shape {y_pred.shape} like y_pred, received {y_true.shape}.")
            y_true = y_true.reshape(y_pred.shape)
        return xp.asarray(y_true, dtype=y_pred.dtype)

    def prepare_targets(self, y, n_outputs, dtype=DEFAULT_DTYPE):
        """Validate user targets for a network with ``n_outputs`` units and convert them.

        Parameters
        ----------
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        n_outputs : int
        dtype : numpy dtype of the result

        Returns
        -------
        ndarray of shape (n_samples, n_outputs) and dtype ``dtype`` (a new array).

        Raises
        ------
        TypeError
            Non-numeric ``y``.
        ValueError
            Empty, non-finite or mis-shaped ``y``, or labels outside what the loss expects; the
            message names ``y`` and the expectation.
        """
        n_outputs = check_positive_int(n_outputs, "n_outputs")
        return self._prepare(_check_y(y), n_outputs, dtype)

    _expects = "targets"

    def _prepare(self, y, k, dtype):
        if y.ndim == 1 and k == 1:
            y = y.reshape(-1, 1)
        if y.shape[1:] != (k,):
            alt = " or (n_samples,)" if k == 1 else ""
            raise ValueError(f"y: {self.name} expects {self._expects} of shape (n_samples, {k}){alt} "
                             f"for a network with {k} output(s); received shape {y.shape}.")
        return xp.array(y, dtype=dtype)

    @classmethod
    def from_config(cls, config):
        """Build from ``get_config()`` output (a ``"name"`` key, as Keras writes, is ignored)."""
        return cls(**{k: v for k, v in config.items() if k != "name"})
