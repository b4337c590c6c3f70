"""Regression losses: mean squared error, mean absolute error, Huber, Poisson, log-cosh."""
import math

from ..backend import xp
from .base import EPSILON, Loss, _check_number


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


class Poisson(Loss):
    """Poisson negative log-likelihood (up to terms free of ``p``), Keras's ``poisson``.

    For count targets ``y >= 0`` and predicted rates ``p > 0``: use a positive output
    (e.g. a ``relu`` or ``sigmoid`` output, or rates kept positive by the data); a negative
    prediction has no logarithm and makes the loss NaN, which stops training.

    Notes
    -----
    ``L = mean(p - y log(p + eps))`` with ``eps = 1e-7`` (Keras's ``epsilon()``), the negative
    log-likelihood of ``y ~ Poisson(p)`` without ``log(y!)``;
    ``dL/dp = (1 - y / (p + eps)) / N`` with N = n_samples * n_outputs.
    """

    name = "poisson"
    _expects = "non-negative counts"

    def _terms(self, y, p, need_grad):
        shifted = p + EPSILON
        losses = p - y * xp.log(shifted)
        if not need_grad:
            return losses, None
        grad = xp.divide(y, shifted, out=shifted)
        xp.subtract(1.0, grad, out=grad)
        return losses, grad

    def _prepare(self, y, k, dtype):
        if float(y.min()) < 0:
            raise ValueError(f"y: {self.name} expects {self._expects}; received a minimum of "
                             f"{float(y.min()):g}.")
        return super()._prepare(y, k, dtype)


class LogCosh(Loss):
    """Logarithm of the hyperbolic cosine of the error, Keras's ``log_cosh``.

    About ``d**2 / 2`` for small errors and ``|d| - log 2`` for large ones: a smooth Huber loss.

    Notes
    -----
    With ``d = p - y``: ``L = mean(log cosh d)``, computed without overflow as
    ``|d| + log1p(exp(-2|d|)) - log 2``; ``dL/dp = tanh(d) / N`` with N = n_samples * n_outputs.
    """

    name = "log_cosh"

    def _terms(self, y, p, need_grad):
        d = p - y
        a = xp.abs(d)
        losses = a + xp.log1p(xp.exp(-2.0 * a)) - _LOG2
        return losses, (xp.tanh(d, out=d) if need_grad else None)


_LOG2 = math.log(2.0)
