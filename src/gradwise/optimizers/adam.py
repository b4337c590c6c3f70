"""Adam and its variants: AdamW (decoupled weight decay) and Nadam (Nesterov momentum)."""
import math

from ..backend import kernels as _kernels
from ..backend import xp
from .base import Optimizer, _check, _unit

_MAX_DECAY_RUNS = 64  # past this many contiguous runs, a mask multiply beats sliced loops


class Adam(Optimizer):
    """Adam: bias-corrected first and second moments.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    beta_1, beta_2 : float, default 0.9, 0.999
        Moment decays, in ``[0, 1)``.
    epsilon : float, default 1e-8
    epsilon_hat : bool, default False
        Add ``epsilon`` to the root of the uncorrected ``v_t`` (the original paper's
        "epsilon hat" form, as Keras and scikit-learn's MLP do) instead of the corrected one
        (as ``torch.optim.Adam``). The two differ only where ``v_t`` is tiny.

    Notes
    -----
    As ``torch.optim.Adam`` by default:

    .. math:: m_t = \\beta_1 m_{t-1} + (1-\\beta_1) g_t, \\quad
              v_t = \\beta_2 v_{t-1} + (1-\\beta_2) g_t^2, \\\\
              \\theta_t = \\theta_{t-1} - \\eta \\,
              \\frac{m_t / (1-\\beta_1^t)}{\\sqrt{v_t / (1-\\beta_2^t)} + \\epsilon}

    With ``epsilon_hat``, ``theta_t = theta_{t-1} - eta sqrt(1-beta_2^t) / (1-beta_1^t)
    m_t / (sqrt(v_t) + epsilon)``: the same step with ``epsilon / sqrt(1-beta_2^t)`` in place
    of ``epsilon``.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 epsilon_hat=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _unit("beta_1", beta_1)
        self.beta_2 = _unit("beta_2", beta_2)
        self.epsilon = _check("epsilon", epsilon)
        if not isinstance(epsilon_hat, bool):
            raise TypeError(f"epsilon_hat: expected True or False, received {epsilon_hat!r}")
        self.epsilon_hat = epsilon_hat

    def _root_epsilon(self, root_c2):
        """What is added to ``sqrt(v_t)`` (uncorrected): ``epsilon``, or ``epsilon *
        sqrt(1 - beta_2^t)`` for epsilon added to the corrected root."""
        return self.epsilon if self.epsilon_hat else self.epsilon * root_c2

    def _slots(self):
        return (("m", 0.0), ("v", 0.0))

    def _moments(self, grads):
        """Update m and v in place; leaves ``g**2`` in the scratch buffer."""
        m, v, sq = self.state["m"], self.state["v"], self._scratch
        m -= grads  # b1*m + (1-b1)*g written as b1*(m - g) + g
        m *= self.beta_1
        m += grads
        xp.multiply(grads, grads, out=sq)
        v -= sq
        v *= self.beta_2
        v += sq
        return m, v

    def _step(self, params, grads, rate, t):
        root_c2 = math.sqrt(1.0 - self.beta_2 ** t)
        # sqrt(v/c2) + eps == (sqrt(v) + eps*sqrt(c2)) / sqrt(c2): one pass fewer.
        _kernels.adam(params, grads, self.state["m"], self.state["v"], self._scratch,
                      self.beta_1, self.beta_2, rate * root_c2 / (1.0 - self.beta_1 ** t),
                      self._root_epsilon(root_c2), self._use_compiled)

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "epsilon_hat": self.epsilon_hat}


class AdamW(Adam):
    """Adam with decoupled weight decay, applied before the Adam step as in torch.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    weight_decay : float, default 0.01
        ``lambda >= 0``; only the entries of ``decay_mask`` (see :meth:`build`) decay.
    beta_1, beta_2, epsilon
        As :class:`Adam`.

    Notes
    -----
    With mask :math:`k \\in \\{0, 1\\}^n` (all ones by default):

    .. math:: \\theta \\leftarrow \\theta - \\eta \\lambda \\, k \\odot \\theta, \\quad
              \\text{then the Adam update of } \\theta.
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.01, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self.weight_decay = _check("weight_decay", weight_decay, low_open=False,
                                   kind="non-negative number")

    def _allocate(self, size, dtype):
        super()._allocate(size, dtype)
        self._decay_runs = [slice(None)]
        self._decay_factor = None
        if self.decay_mask is not None:
            edges = xp.flatnonzero(xp.diff(self.decay_mask.astype(xp.int8), prepend=0, append=0))
            if len(edges) // 2 <= _MAX_DECAY_RUNS:
                self._decay_runs = [slice(a, b) for a, b in zip(edges[0::2], edges[1::2])]
            else:
                self._decay_runs, self._decay_factor = [], self.decay_mask.astype(dtype)

    def _step(self, params, grads, rate, t):
        shrink = rate * self.weight_decay
        if shrink:
            for run in self._decay_runs:
                params[run] *= 1.0 - shrink
            if self._decay_factor is not None:
                xp.multiply(params, self._decay_factor, out=self._scratch)
                self._scratch *= shrink
                params -= self._scratch
        super()._step(params, grads, rate, t)

    def _hyper(self):
        return {"weight_decay": self.weight_decay, **super()._hyper()}


class Nadam(Adam):
    """Nadam: Adam with Nesterov momentum and torch's momentum-decay schedule.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.002
    beta_1, beta_2, epsilon
        As :class:`Adam`.
    momentum_decay : float, default 4e-3
        ``psi >= 0``.

    Notes
    -----
    As ``torch.optim.NAdam``, with :math:`\\mu_t = \\beta_1 (1 - \\tfrac12 0.96^{t\\psi})` and
    :math:`\\Pi_t = \\prod_{i \\le t} \\mu_i` (kept in ``state["mu_product"]``):

    .. math:: \\theta_t = \\theta_{t-1} - \\eta \\left[
              \\frac{(1-\\mu_t)\\, g_t}{1 - \\Pi_t} + \\frac{\\mu_{t+1}\\, m_t}{1 - \\Pi_t \\mu_{t+1}}
              \\right] \\Big/ \\left(\\sqrt{v_t / (1-\\beta_2^t)} + \\epsilon\\right)
    """

    def __init__(self, learning_rate=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 momentum_decay=4e-3, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self.momentum_decay = _check("momentum_decay", momentum_decay, low_open=False,
                                     kind="non-negative number")

    def _allocate(self, size, dtype):
        super()._allocate(size, dtype)
        self._numerator = xp.empty(size, dtype)
        self.state["mu_product"] = xp.ones(1, xp.float64)

    def _mu(self, t):
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** (t * self.momentum_decay))

    def _step(self, params, grads, rate, t):
        m, v = self._moments(grads)
        mu, mu_next = self._mu(t), self._mu(t + 1)
        product = self.state["mu_product"]
        product *= mu
        prod = float(product[0])
        coef_g = (1.0 - mu) / (1.0 - prod)
        coef_m = mu_next / (1.0 - prod * mu_next)
        root_c2 = math.sqrt(1.0 - self.beta_2 ** t)
        num = xp.multiply(m, coef_m / coef_g, out=self._numerator)
        num += grads
        denom = xp.sqrt(v, out=self._scratch)
        denom += self._root_epsilon(root_c2)
        xp.divide(num, denom, out=num)
        num *= rate * coef_g * root_c2
        params -= num

    def _hyper(self):
        return {**super()._hyper(), "momentum_decay": self.momentum_decay}
