"""Regression losses: mean squared error, mean absolute error, Huber."""
from ..backend import xp
from .base import Loss, _check_number


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
