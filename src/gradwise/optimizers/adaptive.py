"""Per-parameter adaptive rates from squared gradients: AdaGrad and RMSprop."""
from ..backend import xp
from .base import Optimizer, _check, _unit


class Adagrad(Optimizer):
    """Adagrad: per-coordinate rates from the sum of squared gradients.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.01
    initial_accumulator_value : float, default 0.0
        Starting value of ``s`` (``>= 0``).
    epsilon : float, default 1e-10

    Notes
    -----
    As ``torch.optim.Adagrad`` without ``lr_decay``:

    .. math:: s_t = s_{t-1} + g_t^2, \\quad
              \\theta_t = \\theta_{t-1} - \\eta \\, \\frac{g_t}{\\sqrt{s_t} + \\epsilon}
    """

    def __init__(self, learning_rate=0.01, initial_accumulator_value=0.0, epsilon=1e-10,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = _check(
            "initial_accumulator_value", initial_accumulator_value, low_open=False,
            kind="non-negative number")
        self.epsilon = _check("epsilon", epsilon)

    def _slots(self):
        return (("accumulator", self.initial_accumulator_value),)

    def _step(self, params, grads, rate, t):
        acc, step = self.state["accumulator"], self._scratch
        xp.multiply(grads, grads, out=step)
        acc += step
        xp.sqrt(acc, out=step)
        step += self.epsilon
        xp.divide(grads, step, out=step)
        step *= rate
        params -= step

    def _hyper(self):
        return {"initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class RMSprop(Optimizer):
    """RMSprop: gradients scaled by a running root mean square, with optional momentum.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    rho : float, default 0.9
        Decay of the mean square, in ``[0, 1)`` (``alpha`` in torch).
    momentum : float, default 0.0
        ``mu`` in ``[0, 1)``.
    epsilon : float, default 1e-8

    Notes
    -----
    As ``torch.optim.RMSprop`` (not centered):

    .. math:: v_t = \\rho v_{t-1} + (1 - \\rho) g_t^2, \\quad
              u_t = \\frac{g_t}{\\sqrt{v_t} + \\epsilon}, \\quad
              b_t = \\mu b_{t-1} + u_t, \\quad \\theta_t = \\theta_{t-1} - \\eta \\, b_t

    (with :math:`\\mu = 0`, :math:`b_t = u_t`).
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-8, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _unit("rho", rho)
        self.momentum = _unit("momentum", momentum)
        self.epsilon = _check("epsilon", epsilon)

    def _slots(self):
        return (("velocity", 0.0),) + ((("momentum", 0.0),) if self.momentum else ())

    def _step(self, params, grads, rate, t):
        vel, step = self.state["velocity"], self._scratch
        xp.multiply(grads, grads, out=step)
        vel -= step  # rho*v + (1-rho)*g^2 as v + ... in three passes, no extra buffer
        vel *= self.rho
        vel += step
        xp.sqrt(vel, out=step)
        step += self.epsilon
        xp.divide(grads, step, out=step)
        if self.momentum:
            buf = self.state["momentum"]
            buf *= self.momentum
            buf += step
            xp.multiply(buf, rate, out=step)
        else:
            step *= rate
        params -= step

    def _hyper(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon}
