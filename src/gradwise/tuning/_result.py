"""What a search returns: the best configuration, every trial, and a printable table."""
import math
from dataclasses import dataclass, field

__all__ = ["TuningResult", "trials_from_study"]

_STATES = ("complete", "pruned", "diverged")
#: Complete trials needed before importances are estimated: below this a random forest over
#: the trials says nothing a reader can trust.
MIN_TRIALS_FOR_IMPORTANCE = 8


@dataclass
class TuningResult:
    """The outcome of :func:`tune`.

    Attributes
    ----------
    best_params : dict or None
        Parameters of the best complete trial (None when no trial completed).
    best_score : float
        Its score (NaN when no trial completed).
    best_trial : dict or None
        The best complete trial, as an entry of ``trials``.
    trials : list of dict
        One dict per trial, by trial number: ``number``, ``params``, ``score`` (the best value
        of the objective over the epochs run, NaN if none was finite), ``state``
        (``"complete"``, ``"pruned"`` or ``"diverged"``), ``epochs`` (epochs run) and
        ``seed`` (the seed its model was given).
    study : optuna.study.Study
        The Optuna study, in memory (``study.trials_dataframe()``, Optuna's plots, ...).
    objective : str
        The monitored value, e.g. ``"val_loss"``.
    mode : {"min", "max"}
        Whether lower or higher scores are better.
    seed : int
        The seed of the search (drawn from fresh entropy when ``tune(seed=None)``).

    Notes
    -----
    The best trial's model is rebuilt exactly by ``model = build(result.best_params)``,
    ``model.seed = result.best_trial["seed"]`` and the same ``fit`` settings.
    """

    best_params: dict
    best_score: float
    best_trial: dict
    trials: list
    study: object = field(repr=False)
    objective: str = "val_loss"
    mode: str = "min"
    seed: int = 0
    _importances: dict = field(default=None, repr=False, compare=False)

    def importances(self):
        """How much each hyperparameter mattered: ``{name: share}``, largest first, summing to 1.

        Optuna's ``get_param_importances`` with its default fANOVA evaluator (a random forest
        of scikit-learn trees fitted to the complete trials' scores, then the share of the
        scores' variance each parameter explains alone), seeded for repeatable numbers.
        Parameters that took a single value are left out. Empty (``{}``) with fewer than
        ``MIN_TRIALS_FOR_IMPORTANCE`` (8) complete trials or equal scores: too few to tell.
        """
        if self._importances is None:
            self._importances = self._estimate_importances()
        return dict(self._importances)

    def _estimate_importances(self):
        complete = [t for t in self.trials if t["state"] == "complete"]
        if (len(complete) < MIN_TRIALS_FOR_IMPORTANCE
                or len({t["score"] for t in complete}) < 2 or self.study is None):
            return {}
        import optuna
        names = dict.fromkeys(name for t in complete for name in t["params"])
        varying = [name for name in names
                   if len({repr(t["params"].get(name)) for t in complete}) > 1]
        if not varying:
            return {}
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
        return optuna.importance.get_param_importances(self.study, evaluator=evaluator,
                                                       params=varying)

    def best_trials(self, top=1.0):
        """The complete trials, best first: the ``ceil(top * n_complete)`` best (at least one).

        Raises
        ------
        ValueError
            No trial completed.
        """
        complete = [t for t in self.trials if t["state"] == "complete"]
        if not complete:
            raise ValueError("result: no trial completed (all were pruned or diverged); "
                             "widen or lower the learning-rate range and search again")
        ranked = sorted(complete, key=lambda t: (-t["score"] if self.mode == "max" else t["score"],
                                                 t["number"]))
        return ranked[:max(1, math.ceil(top * len(complete)))]

    def table(self, top=10):
        """Plain-text table of the ``top`` best complete trials, then the count per state.

        Parameters
        ----------
        top : int, default 10
            Number of rows.
        """
        counts = {state: sum(t["state"] == state for t in self.trials) for state in _STATES}
        summary = (f"{len(self.trials)} trials: " + ", ".join(f"{n} {s}" for s, n in counts.items())
                   + f"; best {self.objective} is {'highest' if self.mode == 'max' else 'lowest'}")
        if not counts["complete"]:
            return summary
        rows = self.best_trials(1.0)[:top]
        names = list(dict.fromkeys(name for t in rows for name in t["params"]))  # a stored
        header = ["trial", self.objective, "epochs", *names]  # study's space may have changed
        body = [[str(t["number"]), _format(t["score"]), str(t["epochs"]),
                 *(_format(t["params"][name]) if name in t["params"] else "-" for name in names)]
                for t in rows]
        widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
        lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths))
                 for row in [header, ["-" * w for w in widths], *body]]
        return "\n".join([*lines, summary, self._importance_line()])

    def _importance_line(self):
        shares = self.importances()
        if not shares:
            complete = sum(t["state"] == "complete" for t in self.trials)
            return (f"importance: needs {MIN_TRIALS_FOR_IMPORTANCE} complete trials with "
                    f"different scores ({complete} complete)")
        return "importance (fANOVA): " + ", ".join(f"{name} {share:.2f}"
                                                   for name, share in shares.items())

    def __str__(self):
        return self.table()


def _format(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _state_name(frozen_trial, complete, pruned):
    if frozen_trial.state == complete:
        return "complete"
    if frozen_trial.user_attrs.get("diverged"):
        return "diverged"
    return "pruned" if frozen_trial.state == pruned else frozen_trial.state.name.lower()


def trials_from_study(study, space=None):
    """One dict per finished trial of ``study``, in trial-number order (see ``TuningResult``);
    with the ``space`` searched, each parameter as ``build`` saw it (``Dimension.decode``)."""
    from optuna.trial import TrialState

    trials = []
    for frozen in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        if not frozen.state.is_finished():
            continue
        attributes = frozen.user_attrs
        params = {name: (space[name].decode(value) if space and name in space else value)
                  for name, value in frozen.params.items()}
        trials.append({"number": frozen.number, "params": params,
                       "score": float(attributes.get("score", math.nan)),
                       "state": _state_name(frozen, TrialState.COMPLETE, TrialState.PRUNED),
                       "epochs": int(attributes.get("epochs", 0)),
                       "seed": attributes.get("seed")})
    return trials
