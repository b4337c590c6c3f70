"""Search-space dimensions and the coarse-to-fine narrowing of a space.

A space is a dict ``{name: dimension}``. Each dimension draws its value through Optuna's
``trial.suggest_*`` (so random search and TPE see the right scale) and knows how to shrink
itself around a set of good values (:func:`narrow`).
"""
import math
import numbers
from collections.abc import Mapping

from .._registry import Configurable

__all__ = ["Dimension", "Uniform", "LogUniform", "OneMinusLogUniform", "IntUniform", "Choice",
           "check_space", "narrow"]

#: Types Optuna stores for categorical choices (anything else is not JSON-serializable).
_CHOICE_TYPES = (type(None), bool, int, float, str)


def _check_real(value, argument, owner):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{owner}: expected a finite number, received {argument}={value!r}")
    return float(value)


def _check_integer(value, argument, owner):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: expected an integer, received {argument}={value!r}")
    return int(value)


class Dimension(Configurable):
    """One hyperparameter's range. Subclasses define ``suggest``, ``center`` and ``narrowed``."""

    def suggest(self, trial, name):
        """Draw this dimension's value for ``trial`` (an ``optuna.Trial``) under ``name``."""
        raise NotImplementedError

    def center(self):
        """A value inside the range (used to check ``build`` before any training)."""
        raise NotImplementedError

    def distribution(self):
        """The Optuna distribution ``suggest`` draws from."""
        raise NotImplementedError

    def narrowed(self, values, margin):
        """A dimension covering ``values`` (the best trials' values), padded by ``margin``."""
        raise NotImplementedError

    def decode(self, stored):
        """The value a trial's build sees, from the one Optuna stores (the same but for
        :class:`OneMinusLogUniform`, which stores ``1 - value``)."""
        return stored

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    __hash__ = None


class _Interval(Dimension):
    """A numeric range ``[low, high]``, on the linear or the logarithmic scale."""

    log = False
    integer = False

    def __init__(self, low, high):
        owner = type(self).__name__
        check = _check_integer if self.integer else _check_real
        low, high = check(low, "low", owner), check(high, "high", owner)
        if self.log and low <= 0:
            raise ValueError(f"{owner}: expected 0 < low < high (a log scale needs positive "
                             f"bounds), received low={low!r}, high={high!r}")
        if not low < high:
            raise ValueError(f"{owner}: expected low < high, received low={low!r}, high={high!r}")
        self.low, self.high = low, high

    def _to_scale(self, value):
        return math.log(value) if self.log else value

    def _from_scale(self, value):
        return math.exp(value) if self.log else value

    def center(self):
        middle = self._from_scale((self._to_scale(self.low) + self._to_scale(self.high)) / 2)
        return round(middle) if self.integer else middle

    def narrowed(self, values, margin):
        """``[min(values), max(values)]`` widened on each side by ``margin`` times the full
        range, measured on the dimension's scale, and clipped to ``[low, high]``.

        A range that collapses to one value (``margin=0`` and one distinct value) becomes
        ``Choice([value])``.
        """
        pad = margin * (self._to_scale(self.high) - self._to_scale(self.low))
        smallest, largest = min(values), max(values)
        low = max(self.low, self._from_scale(self._to_scale(smallest) - pad))
        high = min(self.high, self._from_scale(self._to_scale(largest) + pad))
        if self.integer:
            low, high = math.floor(low), math.ceil(high)
        low, high = min(low, smallest), max(high, largest)  # rounding never drops a best value
        return type(self)(low, high, **self._extra_config()) if low < high else Choice([smallest])

    def contains(self, value):
        return isinstance(value, numbers.Real) and self.low <= value <= self.high

    def _extra_config(self):
        return {}

    def get_config(self):
        return {"low": self.low, "high": self.high, **self._extra_config()}


class Uniform(_Interval):
    """A float drawn uniformly from ``[low, high]`` (e.g. a dropout rate, a momentum).

    Parameters
    ----------
    low, high : float
        Finite, ``low < high``.
    """

    def suggest(self, trial, name):
        return trial.suggest_float(name, self.low, self.high)

    def distribution(self):
        from optuna.distributions import FloatDistribution
        return FloatDistribution(self.low, self.high)


class LogUniform(_Interval):
    """A float whose logarithm is uniform on ``[log(low), log(high)]``.

    The scale for learning rates and regularization strengths: each decade of
    ``[1e-4, 1e-1]`` gets the same share of random draws (a linear scale would put 90% of
    them in the last decade).

    Parameters
    ----------
    low, high : float
        ``0 < low < high``.

    Notes
    -----
    A draw is ``low * (high / low) ** u`` with ``u ~ U(0, 1)``.
    """

    log = True

    def suggest(self, trial, name):
        return trial.suggest_float(name, self.low, self.high, log=True)

    def distribution(self):
        from optuna.distributions import FloatDistribution
        return FloatDistribution(self.low, self.high, log=True)


class OneMinusLogUniform(_Interval):
    """A float in ``[low, high]`` below 1 whose distance to 1, ``1 - value``, is log-uniform.

    The scale for the beta of an exponentially weighted average (momentum, Adam's
    ``beta_1`` and ``beta_2``, RMSprop's ``rho``), as the deep-learning course samples it:
    for beta in ``[0.9, 0.999]`` draw ``r ~ U(-3, -1)`` and take ``beta = 1 - 10**r``. Beta
    averages over about ``1 / (1 - beta)`` steps, so 0.9 to 0.99 (10 to 100 steps) gets as many
    draws as 0.99 to 0.999 (100 to 1000 steps); a linear scale would put 90% of them in the
    first.

    Parameters
    ----------
    low, high : float
        ``0 <= low < high < 1``.

    Notes
    -----
    Optuna stores and samples ``1 - beta`` (log-uniform on ``[1 - high, 1 - low]``) under the
    dimension's name; trials, results and ``build`` see beta (:meth:`decode`).
    """

    def __init__(self, low, high):
        super().__init__(low, high)
        if not 0 <= self.low < self.high < 1:
            raise ValueError(f"OneMinusLogUniform: expected 0 <= low < high < 1, received "
                             f"low={low!r}, high={high!r}")

    def _to_scale(self, value):  # -log(1 - beta): increasing with beta
        return -math.log1p(-value)

    def _from_scale(self, value):
        return -math.expm1(-value)

    def suggest(self, trial, name):
        return self.decode(trial.suggest_float(name, 1 - self.high, 1 - self.low, log=True))

    def decode(self, stored):
        return 1 - stored

    def distribution(self):
        from optuna.distributions import FloatDistribution
        return FloatDistribution(1 - self.high, 1 - self.low, log=True)


class IntUniform(_Interval):
    """An integer in ``[low, high]`` (both included), uniform or on the log scale.

    Parameters
    ----------
    low, high : int
        ``low < high``; with ``log=True``, ``1 <= low``.
    log : bool, default False
        Draw on the log scale: as likely to land in 16-32 as in 128-256 (layer widths).
    """

    integer = True

    def __init__(self, low, high, log=False):
        if not isinstance(log, bool):
            raise TypeError(f"IntUniform: expected True or False, received log={log!r}")
        self.log = log
        super().__init__(low, high)

    def suggest(self, trial, name):
        return trial.suggest_int(name, self.low, self.high, log=self.log)

    def distribution(self):
        from optuna.distributions import IntDistribution
        return IntDistribution(self.low, self.high, log=self.log)

    def contains(self, value):
        return isinstance(value, numbers.Integral) and super().contains(value)

    def _extra_config(self):
        return {"log": self.log}


class Choice(Dimension):
    """One of a list of values (batch sizes, activation names, optimizer names, ...).

    Parameters
    ----------
    choices : list
        Distinct values of types None, bool, int, float or str (what Optuna can store).
    """

    def __init__(self, choices):
        if isinstance(choices, (str, bytes)) or not hasattr(choices, "__iter__"):
            raise TypeError(f"Choice: expected a list of values, received choices={choices!r}")
        choices = list(choices)
        if not choices:
            raise ValueError("Choice: expected at least one value, received choices=[]")
        for value in choices:
            if not isinstance(value, _CHOICE_TYPES):
                raise TypeError(f"Choice: expected values of type None, bool, int, float or "
                                f"str, received {value!r} ({type(value).__name__}) in choices")
            if isinstance(value, float) and value != value:
                raise ValueError(f"Choice: expected values other than NaN, received "
                                 f"choices={choices!r}")
        # Optuna finds a value's index with ==, so 1, 1.0 and True would be recorded as one.
        if any(a == b for i, a in enumerate(choices) for b in choices[i + 1:]):
            raise ValueError(f"Choice: expected distinct values (1, 1.0 and True count as the "
                             f"same value), received choices={choices!r}")
        self.choices = choices

    def suggest(self, trial, name):
        return trial.suggest_categorical(name, self.choices)

    def distribution(self):
        from optuna.distributions import CategoricalDistribution
        return CategoricalDistribution(self.choices)

    def center(self):
        return self.choices[0]

    def narrowed(self, values, margin):
        """The choices seen among ``values``, in their original order."""
        return Choice([c for c in self.choices if any(_same(c, v) for v in values)])

    def contains(self, value):
        return any(_same(c, value) for c in self.choices)

    def get_config(self):
        return {"choices": list(self.choices)}


def _same(a, b):
    return type(a) is type(b) and a == b


def check_space(space, argument="space"):
    """Return ``space`` as a dict after checking it maps names to dimensions.

    Raises
    ------
    TypeError
        Not a mapping, a key that is not a string, or a value that is not a dimension.
    ValueError
        An empty space.
    """
    if not isinstance(space, Mapping):
        raise TypeError(f"{argument}: expected a dict {{name: dimension}}, e.g. "
                        f"{{'learning_rate': LogUniform(1e-4, 1e-1)}}, received "
                        f"{type(space).__name__}")
    if not space:
        raise ValueError(f"{argument}: expected at least one dimension, received an empty dict")
    for name, dimension in space.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"{argument}: expected non-empty string keys, received {name!r}")
        if not isinstance(dimension, Dimension):
            raise TypeError(f"{argument}[{name!r}]: expected a dimension (Uniform, LogUniform, "
                            f"IntUniform or Choice), received {dimension!r}"
                            f"{_dimension_hint(dimension)}")
    return dict(space)


def _dimension_hint(value):
    """What the user probably meant by ``value`` in a space: the dimension to write instead."""
    if isinstance(value, (list, tuple)):
        hint = f"; use Choice({list(value)!r}) to choose among these values"
        if (len(value) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                    for v in value) and value[0] < value[1]):
            low, high = value
            scale = "LogUniform" if low > 0 else "Uniform"
            hint += f", or {scale}({low!r}, {high!r}) for the range between them"
        return hint
    if isinstance(value, _CHOICE_TYPES):
        return f"; use Choice([{value!r}]) for a fixed value"
    return ""


def narrow(space, result, top=0.2, margin=0.1):
    """A smaller space around the best trials of a search: the fine step of coarse to fine.

    Parameters
    ----------
    space : dict {name: dimension}
        The space ``result`` was searched on.
    result : TuningResult
        What :func:`tune` returned.
    top : float in (0, 1], default 0.2
        Fraction of the complete trials kept as "best": the ``ceil(top * n_complete)`` with
        the best scores (at least one).
    margin : float >= 0, default 0.1
        Padding on each side, as a fraction of the dimension's full range on its own scale.

    Returns
    -------
    dict {name: dimension}
        For a numeric dimension, on its scale (``log`` for ``LogUniform`` and
        ``IntUniform(log=True)``, linear otherwise), with ``a, b`` the smallest and largest
        value among the best trials and ``w = scale(high) - scale(low)``::

            new_low  = max(low,  inverse(scale(a) - margin * w))
            new_high = min(high, inverse(scale(b) + margin * w))

        (rounded outwards for integers). A ``Choice`` keeps the choices seen among the best
        trials; a numeric range that collapses to a single value becomes ``Choice([value])``.

    Examples
    --------
    >>> # coarse = tune(build, space, X, y, (X_dev, y_dev), n_trials=30, sampler="random")
    >>> # fine = tune(build, narrow(space, coarse), X, y, (X_dev, y_dev), sampler="bayesian")
    """
    from ._result import TuningResult

    space = check_space(space)
    if not isinstance(result, TuningResult):
        raise TypeError(f"result: expected the TuningResult returned by tune, received "
                        f"{type(result).__name__}")
    if isinstance(top, bool) or not isinstance(top, numbers.Real) or not 0 < top <= 1:
        raise ValueError(f"Expected a fraction in (0, 1], received top={top!r}")
    if isinstance(margin, bool) or not isinstance(margin, numbers.Real) or not (
            math.isfinite(margin) and margin >= 0):
        raise ValueError(f"Expected a non-negative number, received margin={margin!r}")
    best = result.best_trials(top)
    narrowed = {}
    for name, dimension in space.items():
        values = [trial["params"].get(name) for trial in best]
        if not all(dimension.contains(value) for value in values):
            raise ValueError(f"space[{name!r}]: the best trials of result hold values {values!r} "
                             f"outside {dimension!r}; pass the space the search used")
        narrowed[name] = dimension.narrowed(values, margin)
    return narrowed
