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

from ._registry import Configurable, family, resolve, serialize

__all__ = [
    "LearningRateSchedule", "PowerDecay", "ExponentialDecay", "PiecewiseConstant",
    "CosineDecay", "LinearWarmup", "OneCycle", "Cyclic", "get", "serialize",
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


class OneCycle(LearningRateSchedule):
    """Smith's one-cycle policy: a warm-up to ``max_learning_rate``, then a long annealing.

    The rate rises from ``max_learning_rate / div_factor`` to ``max_learning_rate`` over the first
    ``pct_start`` of ``total_steps``, then falls to ``max_learning_rate / (div_factor *
    final_div_factor)``, both along half cosines: the formula of PyTorch's
    ``torch.optim.lr_scheduler.OneCycleLR(anneal_strategy="cos")`` (which also cycles the
    momentum; this schedule sets the learning rate only). A natural partner of the
    learning-rate finder (:func:`gradwise.find_learning_rate`): take its suggestion, or a little
    more, as ``max_learning_rate``.

    Parameters
    ----------
    max_learning_rate : float
        ``lr_max > 0``, the peak.
    total_steps : int
        ``T >= 2``, the number of updates of the whole run (epochs times batches per epoch, or
        epochs with ``by="epoch"``). Later steps keep the final rate.
    pct_start : float, default 0.3
        Fraction of the run spent warming up, in (0, 1).
    div_factor : float, default 25.0
        ``lr_0 = lr_max / div_factor``.
    final_div_factor : float, default 1e4
        ``lr_min = lr_0 / final_div_factor``.
    three_phase : bool, default False
        If True, warm up, come back down to ``lr_0`` over as many steps, then anneal to
        ``lr_min`` (fast.ai's variant).
    by : {"step", "epoch"}, default "step"

    Notes
    -----
    With :math:`a(s, e, x) = e + (s - e)(1 + \\cos \\pi x)/2` (from ``s`` at ``x = 0`` to ``e`` at
    ``x = 1``) and the phase ends :math:`t_1 = p T - 1` and :math:`t_2 = T - 1`:

    .. math:: \\eta(t) = \\begin{cases}
              a(\\eta_0, \\eta_{max}, t / t_1) & t \\le t_1 \\\\
              a(\\eta_{max}, \\eta_{min}, (t - t_1)/(t_2 - t_1)) & t_1 < t \\le t_2 \\\\
              \\eta_{min} & t > t_2 \\end{cases}

    With ``three_phase`` the ends are :math:`pT - 1`, :math:`2pT - 2` and :math:`T - 1`, going
    :math:`\\eta_0 \\to \\eta_{max} \\to \\eta_0 \\to \\eta_{min}`.

    Examples
    --------
    >>> schedule = OneCycle(1.0, total_steps=10, pct_start=0.3, div_factor=4, final_div_factor=10)
    >>> [round(schedule(t), 4) for t in (0, 1, 2, 9)]
    [0.25, 0.625, 1.0, 0.025]
    """

    def __init__(self, max_learning_rate, total_steps, pct_start=0.3, div_factor=25.0,
                 final_div_factor=1e4, three_phase=False, by="step"):
        super().__init__(by)
        self.max_learning_rate = _number("max_learning_rate", max_learning_rate)
        if isinstance(total_steps, bool) or not isinstance(total_steps, numbers.Integral) \
                or total_steps < 2:
            raise ValueError(f"Expected an integer of at least 2, received total_steps={total_steps!r}")
        self.total_steps = int(total_steps)
        self.pct_start = _number("pct_start", pct_start)
        if self.pct_start >= 1:
            raise ValueError(f"Expected a number in (0, 1), received pct_start={pct_start!r}")
        self.div_factor = _number("div_factor", div_factor)
        self.final_div_factor = _number("final_div_factor", final_div_factor)
        self.three_phase = bool(three_phase)
        initial = self.max_learning_rate / self.div_factor
        minimum = initial / self.final_div_factor
        warm = self.pct_start * self.total_steps - 1
        if self.three_phase:
            self._phases = [(warm, initial, self.max_learning_rate),
                            (2 * warm, self.max_learning_rate, initial),
                            (self.total_steps - 1, initial, minimum)]
        else:
            self._phases = [(warm, initial, self.max_learning_rate),
                            (self.total_steps - 1, self.max_learning_rate, minimum)]
        ends = [end for end, _, _ in self._phases]
        if not all(0 < a < b for a, b in zip(ends, ends[1:])):
            raise ValueError(f"pct_start={pct_start!r} leaves a phase of total_steps="
                             f"{total_steps} without steps; expected pct_start * total_steps > 1"
                             + (" and pct_start < 0.5 with three_phase" if self.three_phase else "")
                             + ".")

    def __call__(self, step):
        start = 0.0
        for end, high, low in self._phases:
            if step <= end:
                return _cosine_between(high, low, (step - start) / (end - start))
            start = end
        return self._phases[-1][2]

    def get_config(self):
        return {"max_learning_rate": self.max_learning_rate, "total_steps": self.total_steps,
                "pct_start": self.pct_start, "div_factor": self.div_factor,
                "final_div_factor": self.final_div_factor, "three_phase": self.three_phase,
                **super().get_config()}


def _cosine_between(start, end, fraction):
    """``start`` at ``fraction = 0`` to ``end`` at 1 along a half cosine (OneCycleLR's ``_anneal_cos``)."""
    return end + (start - end) / 2.0 * (math.cos(math.pi * fraction) + 1.0)


class Cyclic(LearningRateSchedule):
    """Cyclical learning rates (Smith, 2017): the rate goes back and forth between two bounds.

    The three policies of the paper, with the formula of PyTorch's
    ``torch.optim.lr_scheduler.CyclicLR`` (which can also cycle the momentum; this schedule
    sets the learning rate only). The learning-rate finder (:func:`gradwise.find_learning_rate`)
    gives the bounds: the paper takes them where the loss starts and stops falling.

    Parameters
    ----------
    base_learning_rate : float
        ``lr_low > 0``, the lower bound.
    max_learning_rate : float
        ``lr_high >= lr_low``, the upper bound (reached by ``"triangular"`` in every cycle).
    step_size_up : float, default 2000
        ``u > 0`` steps from the lower to the upper bound.
    step_size_down : float, optional
        ``d > 0`` steps back down; default ``step_size_up``.
    mode : {"triangular", "triangular2", "exp_range"}, default "triangular"
        ``"triangular"``: constant amplitude; ``"triangular2"``: the amplitude halves every
        cycle; ``"exp_range"``: the amplitude is multiplied by ``gamma`` every step.
    gamma : float, default 1.0
        ``0 < gamma <= 1``, for ``"exp_range"``.
    by : {"step", "epoch"}, default "step"

    Notes
    -----
    With the cycle length :math:`L = u + d`, the cycle :math:`c = \\lfloor 1 + t/L \\rfloor`, the
    position in it :math:`x = 1 + t/L - c` and :math:`r = u / L`:

    .. math:: h = \\begin{cases} x / r & x \\le r \\\\ (x - 1)/(r - 1) & x > r \\end{cases},
              \\qquad \\eta(t) = \\eta_{low} + (\\eta_{high} - \\eta_{low})\\, h \\, s

    with :math:`s = 1` (triangular), :math:`2^{1 - c}` (triangular2) or :math:`\\gamma^t`
    (exp_range).

    Examples
    --------
    >>> schedule = Cyclic(0.1, 1.0, step_size_up=2)
    >>> [round(schedule(t), 4) for t in range(5)]
    [0.1, 0.55, 1.0, 0.55, 0.1]
    """

    MODES = ("triangular", "triangular2", "exp_range")

    def __init__(self, base_learning_rate, max_learning_rate, step_size_up=2000.0,
                 step_size_down=None, mode="triangular", gamma=1.0, by="step"):
        super().__init__(by)
        self.base_learning_rate = _number("base_learning_rate", base_learning_rate)
        self.max_learning_rate = _number("max_learning_rate", max_learning_rate)
        if self.max_learning_rate < self.base_learning_rate:
            raise ValueError(f"Expected max_learning_rate >= base_learning_rate="
                             f"{self.base_learning_rate!r}, received max_learning_rate="
                             f"{max_learning_rate!r}")
        self.step_size_up = _number("step_size_up", step_size_up)
        self.step_size_down = (None if step_size_down is None
                               else _number("step_size_down", step_size_down))
        if mode not in self.MODES:
            raise ValueError(f"Expected one of {', '.join(self.MODES)}, received mode={mode!r}")
        self.mode = mode
        self.gamma = _number("gamma", gamma)
        if self.gamma > 1:
            raise ValueError(f"Expected a number in (0, 1], received gamma={gamma!r}")

    def __call__(self, step):
        up = self.step_size_up
        length = up + (up if self.step_size_down is None else self.step_size_down)
        ratio = up / length
        cycle = math.floor(1 + step / length)
        x = 1.0 + step / length - cycle
        height = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
        if self.mode == "triangular2":
            height *= 1.0 / 2.0 ** (cycle - 1)
        elif self.mode == "exp_range":
            height *= self.gamma ** step
        return self.base_learning_rate + (self.max_learning_rate - self.base_learning_rate) * height

    def get_config(self):
        return {"base_learning_rate": self.base_learning_rate,
                "max_learning_rate": self.max_learning_rate, "step_size_up": self.step_size_up,
                "step_size_down": self.step_size_down, "mode": self.mode, "gamma": self.gamma,
                **super().get_config()}


_REGISTRY = {
    "power_decay": PowerDecay,
    "exponential_decay": ExponentialDecay,
    "piecewise_constant": PiecewiseConstant,
    "cosine_decay": CosineDecay,
    "linear_warmup": LinearWarmup,
    "one_cycle": OneCycle,
    "cyclic": Cyclic,
}
_REGISTRY.update({cls.__name__: cls for cls in list(_REGISTRY.values())})
family(LearningRateSchedule, _REGISTRY, "learning-rate schedule")


def get(identifier, argument="learning_rate"):
    """Return a schedule from a config dict or a schedule object; errors name ``argument``.

    Names alone (``"cosine_decay"``) resolve too, but every schedule needs arguments, so in
    practice a config dict ``{"class_name": "CosineDecay", "config": {...}}`` is passed.
    """
    return resolve(identifier, _REGISTRY, "learning-rate schedule", argument,
                   accept=(LearningRateSchedule,))
