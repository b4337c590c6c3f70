"""Losses with mean reduction and exact gradients.

``loss(y_true, y_pred)`` is a float, ``loss.gradient(y_true, y_pred)`` exactly its derivative
(shaped like ``y_pred``), ``loss.value_and_gradient`` both in one pass (the training loop's call).
With ``from_logits=True`` the cross-entropies take logits: the model fuses them with its final
sigmoid/softmax. Example: ``get("mse")([[0.0, 0.0]], [[1.0, 2.0]])`` is 2.5.
"""
import numbers

from . import _kernels
from ._backend import DEFAULT_DTYPE, xp
from ._registry import Configurable, resolve, serialize

#: Probabilities are clipped to ``[EPSILON, 1 - EPSILON]`` inside the logarithms.
EPSILON = 1e-7

__all__ = ["Loss", "MeanSquaredError", "MeanAbsoluteError", "Huber", "BinaryCrossentropy",
           "CategoricalCrossentropy", "BinaryFocalCrossentropy", "get", "serialize", "EPSILON"]


def _sigmoid(z):
    """Logistic function, stable for large ``|z|`` (no overflow in ``exp``)."""
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1.0, e) / (1.0 + e)


def _log_softmax(z):
    """Row-wise ``log(softmax(z))`` of a (n_samples, n_classes) array, after subtracting row maxima."""
    s = z - z.max(axis=1, keepdims=True)
    s -= xp.log(xp.exp(s).sum(axis=1, keepdims=True))
    return s


def _kernel_ready(y_true, y_pred, sample_weight):
    """Prepared 2-D targets and logits of one float dtype, as the training loop passes them."""
    arrays = (y_true, y_pred) if sample_weight is None else (y_true, y_pred, sample_weight)
    return (all(isinstance(a, xp.ndarray) and a.dtype == y_pred.dtype and a.flags.c_contiguous
                for a in arrays)
            and y_pred.dtype.kind == "f" and y_pred.ndim == 2 and y_true.shape == y_pred.shape
            and (sample_weight is None or sample_weight.shape == (y_pred.shape[0],)))


def _check_bool(value, argument):
    if not isinstance(value, (bool, xp.bool_)):
        raise TypeError(f"Expected a boolean, received {argument}={value!r}.")
    return bool(value)


def _check_number(value, argument, positive=False, high=float("inf")):
    """Return ``value`` as a float after checking it is finite, >= 0 (or > 0) and <= ``high``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Expected a number, received {argument}={value!r}.")
    value = float(value)
    if not (xp.isfinite(value) and (value > 0 if positive else value >= 0) and value <= high):
        what = "a positive number" if positive else "a non-negative number"
        bounds = "" if high == float("inf") else f" at most {high:g}"
        raise ValueError(f"Expected {what}{bounds}, received {argument}={value!r}.")
    return value


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
        if isinstance(n_outputs, bool) or not isinstance(n_outputs, numbers.Integral) or n_outputs < 1:
            raise ValueError(f"Expected a positive integer, received n_outputs={n_outputs!r}.")
        return self._prepare(_check_y(y), int(n_outputs), dtype)

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


class MeanSquaredError(Loss):
    """Mean squared error over all elements.

    Notes
    -----
    ``L = mean((p - y)**2)``; ``dL/dp = 2 (p - y) / N`` with N = n_samples * n_outputs.
    """

    name = "mean_squared_error"

    def _terms(self, y, p, need_grad):
        d = p - y
        losses = d * d
        if need_grad:
            d *= 2.0
        return losses, d


class MeanAbsoluteError(Loss):
    """Mean absolute error over all elements.

    Notes
    -----
    ``L = mean(|p - y|)``; ``dL/dp = sign(p - y) / N`` (0 where ``p == y``).
    """

    name = "mean_absolute_error"

    def _terms(self, y, p, need_grad):
        d = p - y
        losses = xp.abs(d)
        return losses, (xp.sign(d, out=d) if need_grad else None)


class Huber(Loss):
    """Huber loss: quadratic for ``|p - y| <= delta``, linear beyond.

    Parameters
    ----------
    delta : float > 0

    Notes
    -----
    With ``d = p - y`` and ``c = clip(d, -delta, delta)``, each element is ``c * (d - c/2)``
    (``d**2/2`` inside, ``delta * (|d| - delta/2)`` outside); ``dL/dp = c / N``.
    """

    name = "huber"

    def __init__(self, delta=1.0):
        self.delta = _check_number(delta, "delta", positive=True)

    def _terms(self, y, p, need_grad):
        d = p - y
        c = xp.clip(d, -self.delta, self.delta)
        losses = c * 0.5
        xp.subtract(d, losses, out=losses)
        losses *= c
        return losses, c

    def get_config(self):
        return {"delta": self.delta}


class BinaryCrossentropy(Loss):
    """Binary cross-entropy, mean over all elements.

    Parameters
    ----------
    from_logits : bool
        If True, ``y_pred`` are logits ``z`` and the stable form is used.

    Notes
    -----
    Probabilities: ``l = -(y log pc + (1 - y) log(1 - pc))`` with ``pc = clip(p, eps, 1 - eps)``;
    ``dl/dp = (pc - y) / (pc (1 - pc))`` where ``p`` is not clipped, 0 where it is.
    Logits: ``l = max(z, 0) - z y + log1p(exp(-|z|))``, ``dl/dz = sigmoid(z) - y``.
    Both are divided by N = n_samples * n_outputs.
    """

    name = "binary_crossentropy"
    logits_activation = "sigmoid"

    def __init__(self, from_logits=False):
        self.from_logits = _check_bool(from_logits, "from_logits")

    def _terms(self, y, p, need_grad):
        if self.from_logits:
            e = xp.exp(-xp.abs(p))
            losses = xp.maximum(p, 0.0) - p * y + xp.log1p(e)
            if not need_grad:
                return losses, None
            grad = xp.where(p >= 0, 1.0, e).astype(p.dtype, copy=False)
            grad /= 1.0 + e
            return losses, xp.subtract(grad, y, out=grad)
        pc = xp.clip(p, EPSILON, 1.0 - EPSILON)
        log_q = xp.log1p(-pc)
        losses = xp.log(pc) - log_q
        losses *= y
        losses += log_q
        xp.negative(losses, out=losses)
        if not need_grad:
            return losses, None
        grad = (pc - y) / (pc * (1.0 - pc))
        grad[pc != p] = 0.0
        return losses, grad

    _expects = "0/1 labels"

    def _prepare(self, y, k, dtype):
        low, high = float(y.min()), float(y.max())
        if low < 0 or high > 1:
            raise ValueError(f"y: {self.name} expects labels in [0, 1]; received values in "
                             f"[{low:g}, {high:g}].")
        return super()._prepare(y, k, dtype)

    def get_config(self):
        return {"from_logits": self.from_logits}


class CategoricalCrossentropy(Loss):
    """Categorical cross-entropy, mean over samples.

    Parameters
    ----------
    from_logits : bool
        If True, ``y_pred`` are logits ``z`` and log-softmax is used.

    Notes
    -----
    Probabilities (taken as given, not renormalized): ``L_i = -sum_j y_ij log clip(p_ij, eps,
    1 - eps)``; ``dL_i/dp_ij = -y_ij / p_ij`` where ``p_ij`` is not clipped, 0 where it is.
    Logits: ``L_i = -sum_j y_ij log_softmax(z_i)_j``; ``dL_i/dz_ij = s_i softmax(z_i)_j - y_ij``
    with ``s_i = sum_j y_ij`` (``softmax - y`` for one-hot rows). Both are divided by n_samples.
    Integer labels (n_samples,) are accepted and one-hot encoded.
    """

    name = "categorical_crossentropy"
    logits_activation = "softmax"

    def __init__(self, from_logits=False):
        self.from_logits = _check_bool(from_logits, "from_logits")

    def _match_targets(self, y_true, y_pred):
        n, k = y_pred.shape
        if k > 1 and y_true.shape in ((n,), (n, 1)):
            return self._prepare(_check_y(y_true), k, y_pred.dtype)
        return super()._match_targets(y_true, y_pred)

    def _terms(self, y, p, need_grad):
        if self.from_logits:
            log_p = _log_softmax(p)
            losses = -(y * log_p).sum(axis=1)
            if not need_grad:
                return losses, None
            grad = xp.exp(log_p, out=log_p)
            grad *= y.sum(axis=1, keepdims=True)
            return losses, xp.subtract(grad, y, out=grad)
        pc = xp.clip(p, EPSILON, 1.0 - EPSILON)
        losses = -(y * xp.log(pc)).sum(axis=1)
        if not need_grad:
            return losses, None
        grad = xp.divide(y, pc)
        xp.negative(grad, out=grad)
        grad[pc != p] = 0.0
        return losses, grad

    def _compute(self, y_true, y_pred, sample_weight, need_grad):
        fused = _kernels.kernels() if self.from_logits else None
        if fused is not None and _kernel_ready(y_true, y_pred, sample_weight):
            # Softmax, loss and gradient in one compiled pass (the training loop's call);
            # value, gradient and value_and_gradient all come from it, so they agree exactly.
            n = y_pred.shape[0]
            shifted, grad = xp.empty_like(y_pred), xp.empty_like(y_pred)
            norms, masses = xp.empty(n, y_pred.dtype), xp.empty(n, y_pred.dtype)
            fused.shift_rows(y_pred, shifted)
            xp.exp(shifted, out=grad)
            weights = y_pred[:1, 0] if sample_weight is None else sample_weight
            dot = fused.softmax_crossentropy(shifted, grad, y_true, weights,
                                             sample_weight is not None, norms, masses)
            return float(masses @ xp.log(norms, out=norms)) / n - dot, grad
        return super()._compute(y_true, y_pred, sample_weight, need_grad)

    def _prepare(self, y, k, dtype):
        if k < 2:
            raise ValueError(f"n_outputs: {self.name} needs at least 2 output units, received "
                             f"n_outputs={k}; use binary_crossentropy for a single output.")
        expected = f"{self.name} expects integer labels in [0, {k}) or one-hot rows of length {k}"
        if y.ndim == 2 and y.shape[1] == k:
            sums = y.sum(axis=1)
            worst = int(xp.argmax(xp.abs(sums - 1.0)))
            if y.min() < 0 or abs(sums[worst] - 1.0) > 1e-3:
                raise ValueError(f"y: {expected}; received rows with negative entries or not summing "
                                 f"to 1 (row {worst} sums to {float(sums[worst]):g}).")
            return xp.array(y, dtype=dtype)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(f"y: {expected}; received shape {y.shape}.")
        if y.dtype.kind == "f" and not (y == xp.floor(y)).all():
            bad = float(y[y != xp.floor(y)][0])
            raise ValueError(f"y: {expected}; received non-integer labels such as {bad:g}.")
        low, high = float(y.min()), float(y.max())
        if low < 0 or high >= k:
            raise ValueError(f"y: {expected}; received labels in [{low:g}, {high:g}].")
        one_hot = xp.zeros((y.shape[0], k), dtype=dtype)
        one_hot[xp.arange(y.shape[0]), y.astype(xp.intp)] = 1
        return one_hot

    def get_config(self):
        return {"from_logits": self.from_logits}


class BinaryFocalCrossentropy(BinaryCrossentropy):
    """Binary focal cross-entropy (Lin et al., 2017), mean over all elements.

    Parameters
    ----------
    gamma : float >= 0
        Focusing parameter; ``gamma=0`` with ``alpha=None`` is binary cross-entropy.
    alpha : float in [0, 1] or None
        Weight of the positive class (``1 - alpha`` for the negative); None for no balancing.
    from_logits : bool

    Notes
    -----
    With ``p`` the probability (``clip(p, eps, 1 - eps)``, or ``sigmoid(z)`` from logits),
    ``q = y (1 - p) + (1 - y) p`` (one minus the probability of the true class),
    ``a = y alpha + (1 - y)(1 - alpha)`` (1 when alpha is None) and ``bce`` as in
    `BinaryCrossentropy`: ``l = a q**gamma bce``. Its derivative is
    ``a (-gamma q**(gamma-1) (2y - 1) J bce + q**gamma dbce)`` with ``J = dp/dz = p(1 - p)`` and
    ``dbce = p - y`` from logits, or ``J = 1`` and ``dbce = (p - y)/(p(1 - p))`` (0 where clipped)
    from probabilities. Divided by N = n_samples * n_outputs.
    """

    name = "binary_focal_crossentropy"

    def __init__(self, gamma=2.0, alpha=None, from_logits=False):
        super().__init__(from_logits)
        self.gamma = _check_number(gamma, "gamma")
        self.alpha = None if alpha is None else _check_number(alpha, "alpha", high=1.0)

    def _terms(self, y, p, need_grad):
        if self.from_logits:
            bce = xp.maximum(p, 0.0) - p * y + xp.log1p(xp.exp(-xp.abs(p)))
            prob, comp = _sigmoid(p), _sigmoid(-p)
        else:
            prob = xp.clip(p, EPSILON, 1.0 - EPSILON)
            comp = 1.0 - prob
            bce = -(y * xp.log(prob) + (1.0 - y) * xp.log(comp))
        q = y * comp + (1.0 - y) * prob
        focal = q ** self.gamma
        weight = 1.0 if self.alpha is None else y * self.alpha + (1.0 - y) * (1.0 - self.alpha)
        losses = weight * focal * bce
        if not need_grad:
            return losses, None
        with xp.errstate(divide="ignore", invalid="ignore"):
            q_power = xp.where(q > 0, q ** (self.gamma - 1.0), 0.0).astype(p.dtype, copy=False)
        dfocal = (-self.gamma) * (2.0 * y - 1.0) * q_power
        if self.from_logits:
            dfocal *= prob * comp
            dbce = prob - y
        else:
            dbce = (prob - y) / (prob * comp)
        grad = weight * (dfocal * bce + focal * dbce)
        if not self.from_logits:
            grad[prob != p] = 0.0
        return losses, grad

    def get_config(self):
        return {"gamma": self.gamma, "alpha": self.alpha, "from_logits": self.from_logits}


_REGISTRY = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "huber": Huber,
    "bce": BinaryCrossentropy, "binary_crossentropy": BinaryCrossentropy,
    "cce": CategoricalCrossentropy, "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": CategoricalCrossentropy,
    "focal": BinaryFocalCrossentropy, "binary_focal_crossentropy": BinaryFocalCrossentropy,
}
_REGISTRY.update({cls.__name__: cls for cls in set(_REGISTRY.values())})


def get(identifier):
    """Return a loss from a name (``"mse"``), a config dict or a `Loss` object.

    Raises
    ------
    ValueError
        Unknown name or malformed config.
    TypeError
        Any other kind of identifier.
    """
    return resolve(identifier, _REGISTRY, "loss", "loss", accept=(Loss,))
