"""Stochastic gradient descent, with momentum and Nesterov momentum."""
from ..backend import xp
from .base import Optimizer, _unit


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.01
    momentum : float, default 0.0
        ``mu`` in ``[0, 1)``.
    nesterov : bool, default False

    Notes
    -----
    As ``torch.optim.SGD`` with zero dampening (:math:`b_0 = 0`):

    .. math:: b_t = \\mu b_{t-1} + g_t, \\quad
              \\theta_t = \\theta_{t-1} - \\eta \\, (g_t + \\mu b_t \\text{ if nesterov else } b_t)
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = _unit("momentum", momentum)
        self.nesterov = bool(nesterov)

    def _slots(self):
        return (("momentum", 0.0),) if self.momentum else ()

    def _step(self, params, grads, rate, t):
        step, mu = self._scratch, self.momentum
        if mu:
            buf = self.state["momentum"]
            buf *= mu
            buf += grads
            if self.nesterov:
                xp.multiply(buf, mu, out=step)
                step += grads
                step *= rate
            else:
                xp.multiply(buf, rate, out=step)
        else:
            xp.multiply(grads, rate, out=step)
        params -= step

    def _hyper(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}
