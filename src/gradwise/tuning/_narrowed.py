"""Coarse to fine in one study: the fine stage's sampler draws from the space narrowed around
the coarse stage's best trials, while every trial keeps the full space's distributions.

Keeping the full distributions in the study is what lets the two stages share it: the
sampler of the fine stage (random, TPE or GP) learns from the coarse trials too, Optuna's
parameter importances compare all trials, and a resumed study sees one space.
"""
import math

import optuna

from ._result import TuningResult, trials_from_study
from ._space import Choice, narrow

__all__ = ["NarrowedSampler", "narrowed_distributions", "COARSE_SHARE", "TOP", "MARGIN"]

#: Share of the trial budget spent on the coarse stage.
COARSE_SHARE = 0.5
#: The best share of the complete coarse trials that the fine stage surrounds (at least 3).
TOP = 0.25
#: Padding on each side, as a share of a dimension's full range on its scale.
MARGIN = 0.1


def narrowed_distributions(space, study, objective, mode):
    """``{name: distribution or ("fixed", value)}``: the numeric dimensions of ``space``
    narrowed by :func:`~gradwise.tuning.narrow` around the best complete trials of ``study``
    (the best ``TOP`` share, at least 3). Choices keep all their values: a few coarse trials
    say little about each choice. None when no trial completed."""
    trials = trials_from_study(study, space)
    complete = sum(t["state"] == "complete" for t in trials)
    if not complete:
        return None
    result = TuningResult(None, math.nan, None, trials, study, objective, mode)
    fine = narrow(space, result, top=min(1.0, max(TOP, 3 / complete)), margin=MARGIN)
    narrowed = {}
    for name, dimension in space.items():
        if isinstance(dimension, Choice):
            continue
        smaller = fine[name]
        narrowed[name] = (("fixed", smaller.choices[0]) if isinstance(smaller, Choice)
                          else smaller.distribution())
    return narrowed


class NarrowedSampler(optuna.samplers.BaseSampler):
    """``base``, drawing each parameter of ``narrowed`` from its narrowed distribution.

    Parameters
    ----------
    base : optuna.samplers.BaseSampler
    narrowed : dict
        ``{name: optuna distribution}`` inside the space's own, or ``{name: ("fixed", value)}``.
    """

    def __init__(self, base, narrowed):
        self.base = base
        self.fixed = {n: v[1] for n, v in narrowed.items() if isinstance(v, tuple)}
        self.narrowed = {n: v for n, v in narrowed.items() if not isinstance(v, tuple)}

    def infer_relative_search_space(self, study, trial):
        space = self.base.infer_relative_search_space(study, trial)
        return {name: self.narrowed.get(name, distribution) for name, distribution in space.items()
                if name not in self.fixed}

    def sample_relative(self, study, trial, search_space):
        return self.base.sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        if param_name in self.fixed:
            return self.fixed[param_name]
        return self.base.sample_independent(study, trial, param_name,
                                            self.narrowed.get(param_name, param_distribution))

    def before_trial(self, study, trial):
        self.base.before_trial(study, trial)

    def after_trial(self, study, trial, state, values):
        self.base.after_trial(study, trial, state, values)

    def reseed_rng(self):
        self.base.reseed_rng()

    @property
    def choice_seconds(self):
        return getattr(self.base, "choice_seconds", 0.0)
