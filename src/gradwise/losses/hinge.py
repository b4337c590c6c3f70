"""Margin losses for -1/1 (or 0/1) labels: the squared hinge."""
from ..backend import xp
from .base import Loss


def hinge_labels(y):
    """Keras's conversion: labels that are all 0 or 1 become -1/1 (``2y - 1``); others stay."""
    if bool(xp.all((y == 0) | (y == 1))):
        return 2.0 * y - 1.0
    return y


class SquaredHinge(Loss):
    """Squared hinge loss, Keras's ``squared_hinge``, for a linear (score) output.

    Labels are -1/1, or 0/1 converted to -1/1 as Keras does (when every label is 0 or 1).
    Predict with the sign of the output (positive means the class labelled 1).

    Notes
    -----
    With ``t`` the -1/1 labels and ``m = max(1 - t p, 0)`` the margin violation:
    ``L = mean(m**2)``; ``dL/dp = -2 t m / N`` with N = n_samples * n_outputs (0 where the
    margin is met, and differentiable at ``t p = 1``).
    """

    name = "squared_hinge"
    _expects = "labels in {-1, 1} or {0, 1}"

    def _terms(self, y, p, need_grad):
        t = hinge_labels(y)
        margin = 1.0 - t * p
        xp.maximum(margin, 0.0, out=margin)
        losses = margin * margin
        if not need_grad:
            return losses, None
        margin *= t
        margin *= -2.0
        return losses, margin

    def _prepare(self, y, k, dtype):
        values = xp.unique(y)
        if not (set(values.tolist()) <= {0, 1} or set(values.tolist()) <= {-1, 1}):
            shown = ", ".join(f"{v:g}" for v in values[:5].tolist())
            raise ValueError(f"y: {self.name} expects {self._expects}; received values "
                             f"{shown}{', ...' if len(values) > 5 else ''}.")
        return hinge_labels(super()._prepare(y, k, dtype)).astype(dtype, copy=False)
