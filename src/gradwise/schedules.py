"""Learning-rate schedules: plain callables ``step -> learning rate``.

An optimizer evaluates its schedule once per update. Each schedule says, through ``by``, which
counter it wants: ``"step"`` (the optimizer's ``iterations``, the number of updates already
applied, so the first update sees ``t = 0``) or ``"epoch"`` (the optimizer's ``epoch``, set by
the training loop at the start of each epoch).

Examples
--------
>>> from gradwise import schedules
>>> schedule = schedules.ExponentialDecay(0.1, decay_steps=100)
>>> round(schedule(100), 6)
0.01
>>> schedules.get({"class_name": "PowerDecay",
...                "config": {"initial_learning_rate": 0.1, "decay_steps": 10}})(10)
0.05
"""
import bisect
import math
import numbers

from ._registry import Configurable, resolve, serialize

__all__ = [
    "LearningRateSchedule", "PowerDecay", "ExponentialDecay", "PiecewiseConstant",
    "CosineDecay", "LinearWarmup", "get", "serialize",
]


def _number(name, value, positive=True, allow_zero=False):
    """Return ``value`` as a float, or raise a Keras-style ValueError naming ``name``."""
    kind = "non-negative" if allow_zero else "positive"
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok and positive:
        ok = value > 0 or (allow_zero and value == 0)
    if not ok:
        raise ValueError(f"Expected a {kind} number, received {name}={value!r}")
    return float(value)


class LearningRateSchedule(Configurable):
    """Base class: a callable from a step (or epoch) number to a learning rate.

    Parameters
    ----------
    by : {"step", "epoch"}, default "step"
        Which counter the optimizer passes: its ``iterations`` or its ``epoch``.
    """

    def __init__(self, by="step"):
        if by not in ("step", "epoch"):
            raise ValueError(f"Expected 'step' or 'epoch', received by={by!r}")
        self.by = by

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        """Return the constructor arguments as a JSON-friendly dict."""
        return {"by": self.by}


class PowerDecay(LearningRateSchedule):
    """Power (inverse-time) decay.

    Parameters
    ----------
    initial_learning_rate : float
        ``lr0 > 0``.
    decay_steps : float
        ``s > 0``: after ``s`` steps the rate is ``lr0 / 2**power``.
    power : float, default 1.0
        ``p >= 0``.
    by : {"step", "epoch"}, default "step"

    Notes
    -----
    .. math:: \\eta(t) = \\frac{\\eta_0}{(1 + t/s)^p}
    """

    def __init__(self, initial_learning_rate, decay_steps, power=1.0, by="step"):
        super().__init__(by)
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _number("decay_steps", decay_steps)
        self.power = _number("power", power, allow_zero=True)

    def __call__(self, step):
        return self.initial_learning_rate / (1.0 + step / self.decay_steps) ** self.power

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "power": self.power, **super().get_config()}


class ExponentialDecay(LearningRateSchedule):
    """Exponential decay: the rate is multiplied by ``decay_rate`` every ``decay_steps``.

    Parameters
    ----------
    initial_learning_rate : float
        ``lr0 > 0``.
    decay_steps : float
        ``s > 0``.
    decay_rate : float, default 0.1
        ``r > 0``.
    staircase : bool, default False
        Decay in whole steps of ``s`` (``floor(t / s)``) instead of continuously.
    by : {"step", "epoch"}, default "step"

    Notes
    -----
    .. math:: \\eta(t) = \\eta_0 \\, r^{t/s}
              \\quad (\\text{or } r^{\\lfloor t/s \\rfloor} \\text{ with staircase})
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate=0.1, staircase=False,
                 by="step"):
        super().__init__(by)
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _number("decay_steps", decay_steps)
        self.decay_rate = _number("decay_rate", decay_rate)
        self.staircase = bool(staircase)

    def __call__(self, step):
        exponent = step / self.decay_steps
        if self.staircase:
            exponent = math.floor(exponent)
        return self.initial_learning_rate * self.decay_rate ** exponent

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, **super().get_config()}


class PiecewiseConstant(LearningRateSchedule):
    """Constant rates between boundaries (step decay), with Keras' semantics.

    Parameters
    ----------
    boundaries : sequence of float, shape (n,)
        Strictly increasing step numbers.
    values : sequence of float, shape (n + 1,)
        Positive learning rates: ``values[0]`` for ``t <= boundaries[0]``, ``values[i]`` for
        ``boundaries[i-1] < t <= boundaries[i]``, ``values[n]`` for ``t > boundaries[n-1]``.
    by : {"step", "epoch"}, default "step"

    Notes
    -----
    .. math:: \\eta(t) = v_i \\quad \\text{for } b_{i-1} < t \\le b_i,
              \\; b_{-1} = -\\infty, \\; b_n = +\\infty
    """

    def __init__(self, boundaries, values, by="step"):
        super().__init__(by)
        boundaries = [_number("boundaries", b, positive=False) for b in boundaries]
        values = [_number("values", v) for v in values]
        if any(b >= c for b, c in zip(boundaries, boundaries[1:])):
            raise ValueError(f"Expected strictly increasing numbers, received boundaries={boundaries!r}")
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"Expected len(boundaries) + 1 = {len(boundaries) + 1} learning rates, "
                             f"received values={values!r}")
        self.boundaries = boundaries
        self.values = values

    def __call__(self, step):
        return self.values[bisect.bisect_left(self.boundaries, step)]

    def get_config(self):
        return {"boundaries": list(self.boundaries), "values": list(self.values),
                **super().get_config()}


class CosineDecay(LearningRateSchedule):
    """Cosine decay from ``lr0`` to ``alpha * lr0`` over ``decay_steps`` (SGDR without restarts).

    Parameters
    ----------
    initial_learning_rate : float
        ``lr0 > 0``.
    decay_steps : float
        ``s > 0``; the rate stays at ``alpha * lr0`` after ``s`` steps.
    alpha : float, default 0.0
        Final fraction of ``lr0``, in ``[0, 1]``.
    by : {"step", "epoch"}, default "step"

    Notes
    -----
    .. math:: \\eta(t) = \\eta_0 \\left[\\alpha + (1 - \\alpha)\\,
              \\tfrac12 \\left(1 + \\cos\\frac{\\pi \\min(t, s)}{s}\\right)\\right]
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, by="step"):
        super().__init__(by)
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _number("decay_steps", decay_steps)
        self.alpha = _number("alpha", alpha, allow_zero=True)
        if self.alpha > 1:
            raise ValueError(f"Expected a number in [0, 1], received alpha={alpha!r}")

    def __call__(self, step):
        fraction = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * (self.alpha + (1.0 - self.alpha) * cosine)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, **super().get_config()}


class LinearWarmup(LearningRateSchedule):
    """Linear warm-up in front of a constant rate or another schedule.

    Parameters
    ----------
    schedule : float, LearningRateSchedule or config dict
        What follows the warm-up (a positive number means a constant rate).
    warmup_steps : float
        ``w > 0``: length of the ramp.
    initial_learning_rate : float, default 0.0
        ``lr_init >= 0``: rate at ``t = 0``.
    shift : bool, default True
        If True (as Keras' ``CosineDecay(warmup_steps=...)``), the wrapped schedule starts its own
        clock when the warm-up ends, so it sees ``t - w`` and the ramp ends at its value at 0.
        If False, it sees ``t`` and the ramp ends at its value at ``w``.
    by : {"step", "epoch"}, default "step"
        The counter of this schedule; the wrapped schedule's own ``by`` is ignored.

    Notes
    -----
    With :math:`\\eta_w` the wrapped schedule and :math:`d = w` if ``shift`` else 0:

    .. math:: \\eta(t) = \\begin{cases}
              \\eta_\\text{init} + (\\eta_w(w - d) - \\eta_\\text{init})\\, t / w & t < w \\\\
              \\eta_w(t - d) & t \\ge w \\end{cases}
    """

    def __init__(self, schedule, warmup_steps, initial_learning_rate=0.0, shift=True, by="step"):
        super().__init__(by)
        if isinstance(schedule, (dict, LearningRateSchedule)):
            schedule = get(schedule)
        else:
            schedule = _number("schedule", schedule)
        self.schedule = schedule
        self.warmup_steps = _number("warmup_steps", warmup_steps)
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate,
                                             allow_zero=True)
        self.shift = bool(shift)

    def _after(self, step):
        if isinstance(self.schedule, float):
            return self.schedule
        return self.schedule(step - self.warmup_steps if self.shift else step)

    def __call__(self, step):
        if step >= self.warmup_steps:
            return self._after(step)
        target = self._after(self.warmup_steps)
        return self.initial_learning_rate + (target - self.initial_learning_rate) * (
            step / self.warmup_steps)

    def get_config(self):
        schedule = self.schedule if isinstance(self.schedule, float) else serialize(self.schedule)
        return {"schedule": schedule, "warmup_steps": self.warmup_steps,
                "initial_learning_rate": self.initial_learning_rate, "shift": self.shift,
                **super().get_config()}


_REGISTRY = {
    "power_decay": PowerDecay,
    "exponential_decay": ExponentialDecay,
    "piecewise_constant": PiecewiseConstant,
    "cosine_decay": CosineDecay,
    "linear_warmup": LinearWarmup,
}
_REGISTRY.update({cls.__name__: cls for cls in list(_REGISTRY.values())})


def get(identifier):
    """Return a schedule from a config dict or a schedule object.

    Names alone (``"cosine_decay"``) resolve too, but every schedule needs arguments, so in
    practice a config dict ``{"class_name": "CosineDecay", "config": {...}}`` is passed.
    """
    return resolve(identifier, _REGISTRY, "learning-rate schedule", "learning_rate",
                   accept=(LearningRateSchedule,))
