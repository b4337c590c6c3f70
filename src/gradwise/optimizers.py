"""Optimizers that update one flat parameter buffer in place (clipping in :mod:`.clipping`).

Update rules as documented for ``torch.optim``, hyperparameters named as in Keras; every class
also takes the keyword arguments of :class:`Optimizer` (clipping, ``name``). A step is a handful
of in-place ufuncs over the whole buffer into scratch arrays allocated once.

Examples
--------
>>> import numpy as np
>>> from gradwise import optimizers
>>> params, grads = np.array([1.0, -2.0]), np.array([0.5, 0.5])
>>> optimizers.get("sgd").update(params, grads)
>>> params
array([ 0.995, -2.005])
"""
import math
import numbers

from . import _kernels, schedules
from .clipping import clip_gradients
from ._backend import xp
from ._registry import Configurable, resolve, serialize

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Nadam",
           "clip_gradients", "get", "serialize"]

_MAX_DECAY_RUNS = 64  # past this many contiguous runs, a mask multiply beats sliced loops


def _check(name, value, low=0.0, high=None, low_open=True, kind="positive number"):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (high is None or value < high)
    if not ok:
        raise ValueError(f"Expected a {kind}, received {name}={value!r}")
    return float(value)


def _unit(name, value):
    return _check(name, value, low_open=False, high=1.0, kind="number in [0, 1)")


def _contiguous(params, grads):
    """Arrays the compiled kernels take: one float dtype, C-contiguous."""
    return (params.dtype == grads.dtype and params.dtype.kind == "f"
            and params.flags.c_contiguous and grads.flags.c_contiguous)


class Optimizer(Configurable):
    """Base class: learning rate, clipping, lazily allocated state and the step counter.

    Parameters
    ----------
    learning_rate : float, LearningRateSchedule or callable
        A positive number, a schedule from :mod:`gradwise.schedules` (fed ``epoch`` or
        ``iterations`` according to its ``by``), or any callable ``step -> rate`` (fed
        ``iterations``). Callbacks may assign a new float to ``optimizer.learning_rate``.
    clipnorm, clipvalue, global_clipnorm : float, optional
        Clipping before each update, in place on ``grads`` (see :func:`clip_gradients`).
    name : str, optional
        Defaults to the lower-case class name.

    Attributes
    ----------
    iterations : int
        Number of updates applied; the ``t``-th update (``t = iterations + 1``) uses ``t`` for
        bias correction and evaluates the schedule at ``iterations``.
    epoch : int
        Set by the training loop at each epoch start; what ``by="epoch"`` schedules receive.
    state : dict of ndarray
        The moment buffers (empty before the first update or :meth:`build`).
    """

    def __init__(self, learning_rate, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None):
        self.learning_rate = learning_rate
        for arg, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                           ("global_clipnorm", global_clipnorm)):
            setattr(self, arg, None if value is None else _check(arg, value))
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError("Expected at most one of clipnorm and global_clipnorm, received "
                             f"clipnorm={clipnorm!r} and global_clipnorm={global_clipnorm!r}")
        self.name = type(self).__name__.lower() if name is None else str(name)
        self.iterations = self.epoch = 0
        self.segments = self.decay_mask = self._size = None
        self.state = {}

    @property
    def learning_rate(self):
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, dict):
            value = schedules.get(value)
        elif not callable(value):
            value = _check("learning_rate", value)
        self._learning_rate = value

    @property
    def current_learning_rate(self):
        """The rate the next update uses: the schedule evaluated at its counter."""
        rate = self._learning_rate
        if not callable(rate):
            return rate
        counter = self.epoch if getattr(rate, "by", "step") == "epoch" else self.iterations
        return float(rate(counter))

    def build(self, size, dtype, segments=None, decay_mask=None):
        """Allocate the state for a flat buffer of ``size`` elements of ``dtype``.

        ``segments`` (list of slice, one per parameter array) is what ``clipnorm`` clips
        separately; ``decay_mask`` (bool or 0/1, shape (size,)) marks the entries that get
        AdamW's decoupled weight decay (all of them when omitted).
        """
        if decay_mask is not None:
            decay_mask = xp.asarray(decay_mask).reshape(-1) != 0
            if decay_mask.size != size:
                raise ValueError(f"Expected a decay_mask of size {size}, "
                                 f"received size {decay_mask.size}")
        self.segments = None if segments is None else list(segments)
        self.decay_mask = decay_mask
        self._allocate(int(size), xp.dtype(dtype))

    def _allocate(self, size, dtype):
        self._size, self._dtype = size, dtype
        self._scratch = xp.empty(size, dtype)
        self.state = {name: xp.full(size, fill, dtype) for name, fill in self._slots()}

    def _slots(self):
        """``(name, initial value)`` of each moment buffer."""
        return ()

    def update(self, params, grads):
        """Update ``params`` (shape (n,)) in place from ``grads`` (shape (n,)).

        ``grads`` is clipped in place when clipping is configured, otherwise only read.
        """
        if params.shape != grads.shape or params.ndim != 1:
            raise ValueError(f"Expected flat params and grads of one shape, received "
                             f"{params.shape} and {grads.shape}")
        if self._size is None:
            self._allocate(params.size, params.dtype)
        elif params.size != self._size:
            raise ValueError(f"The optimizer was built for {self._size} parameters, "
                             f"received {params.size}")
        if self.clipnorm or self.clipvalue or self.global_clipnorm:
            clip_gradients(grads, self.clipvalue, self.clipnorm, self.global_clipnorm,
                           self.segments)
        rate = self.current_learning_rate
        self.iterations += 1
        self._step(params, grads, rate, self.iterations)

    def _step(self, params, grads, rate, t):
        raise NotImplementedError

    def reset(self):
        """Forget the moments and the counters (the build's segments and mask are kept)."""
        self.state, self._size = {}, None
        self.iterations = self.epoch = 0

    def _hyper(self):
        return {}  # the subclass's constructor arguments

    def get_config(self):
        """Return the constructor arguments as a JSON-friendly dict."""
        rate = self._learning_rate
        if isinstance(rate, schedules.LearningRateSchedule):
            rate = schedules.serialize(rate)
        elif callable(rate):
            raise TypeError("A plain callable learning_rate cannot be serialized; use a "
                            "schedule from gradwise.schedules")
        return {"name": self.name, "learning_rate": rate, **self._hyper(),
                "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                "global_clipnorm": self.global_clipnorm}

    def __repr__(self):
        return f"{type(self).__name__}(learning_rate={self._learning_rate!r}, **{self._hyper()})"


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


class Adam(Optimizer):
    """Adam: bias-corrected first and second moments.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    beta_1, beta_2 : float, default 0.9, 0.999
        Moment decays, in ``[0, 1)``.
    epsilon : float, default 1e-8

    Notes
    -----
    As ``torch.optim.Adam`` (epsilon outside the root, unlike the original paper's "epsilon
    hat" variant used by Keras):

    .. math:: m_t = \\beta_1 m_{t-1} + (1-\\beta_1) g_t, \\quad
              v_t = \\beta_2 v_{t-1} + (1-\\beta_2) g_t^2, \\\\
              \\theta_t = \\theta_{t-1} - \\eta \\,
              \\frac{m_t / (1-\\beta_1^t)}{\\sqrt{v_t / (1-\\beta_2^t)} + \\epsilon}
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _unit("beta_1", beta_1)
        self.beta_2 = _unit("beta_2", beta_2)
        self.epsilon = _check("epsilon", epsilon)

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
        fused = _kernels.kernels()
        if fused is not None and _contiguous(params, grads):
            # The same float operations in one pass over memory instead of eleven.
            scalar = params.dtype.type
            fused.adam(params, grads, self.state["m"], self.state["v"], scalar(self.beta_1),
                       scalar(self.beta_2), scalar(rate * root_c2 / (1.0 - self.beta_1 ** t)),
                       scalar(self.epsilon * root_c2), scalar(xp.finfo(params.dtype).tiny))
            return
        m, v = self._moments(grads)
        # sqrt(v/c2) + eps == (sqrt(v) + eps*sqrt(c2)) / sqrt(c2): one pass fewer.
        denom = xp.sqrt(v, out=self._scratch)
        denom += self.epsilon * root_c2
        xp.divide(m, denom, out=denom)
        denom *= rate * root_c2 / (1.0 - self.beta_1 ** t)
        params -= denom

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


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
        denom += self.epsilon * root_c2
        xp.divide(num, denom, out=num)
        num *= rate * coef_g * root_c2
        params -= num

    def _hyper(self):
        return {**super()._hyper(), "momentum_decay": self.momentum_decay}


_REGISTRY = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam,
             "adamw": AdamW, "nadam": Nadam}
_REGISTRY.update({cls.__name__: cls for cls in list(_REGISTRY.values())})


def get(identifier):
    """Return an optimizer from a name (``"adam"``), a config dict or an optimizer object."""
    return resolve(identifier, _REGISTRY, "optimizer", "optimizer", accept=(Optimizer,))
