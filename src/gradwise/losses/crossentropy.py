"""Cross-entropies: binary, categorical (one-hot or integer labels) and binary focal."""
from ..backend import kernels as _kernels
from ..backend import xp
from .base import EPSILON, Loss, _check_bool, _check_number, _check_y, _sigmoid


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
        pc = xp.clip(p, EPSILON, 1.0 - EPSILON)
        losses = -(y * xp.log(pc)).sum(axis=1)
        if not need_grad:
            return losses, None
        grad = xp.divide(y, pc)
        xp.negative(grad, out=grad)
        grad[pc != p] = 0.0
        return losses, grad

    def _compute(self, y_true, y_pred, sample_weight, need_grad):
        if not self.from_logits:
            return super()._compute(y_true, y_pred, sample_weight, need_grad)
        # Softmax, loss and gradient in one dispatch (compiled during a training call that
        # chose the kernels): value, gradient and value_and_gradient agree exactly.
        y, z, w, shape = self._align(y_true, y_pred, sample_weight)
        value, grad = _kernels.softmax_crossentropy(z, y, w, self._use_compiled, need_grad)
        return value, None if grad is None else grad.reshape(shape)

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
