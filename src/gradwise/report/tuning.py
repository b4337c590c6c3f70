"""The hyperparameter-search section of ``gradwise tune --report``: the best trial's
hyperparameters, the dev score of every trial against its number with the best so far, the best
trials as a table, and how much each hyperparameter mattered."""
import html
import math

from .pieces import _svg, _table

_STATES = ("complete", "pruned", "diverged")


def parameter_text(value):
    """A hyperparameter's value as ``gradwise tune`` prints its best parameters: floats to 3
    significant digits, anything else as it is."""
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def search_section(plt, result, top=10):
    """HTML for a :class:`~gradwise.tuning.TuningResult`: the best trial and its
    hyperparameters, a plot of each trial's score (complete trials as dots, pruned and diverged
    ones as crosses at their best score before they stopped) with the running best, the ``top``
    best complete trials as ``result.table()`` prints them, then the importance of each
    hyperparameter."""
    parts = [_best(result)]
    if result.best_params is not None:
        parts.append(_trials_table(result, top))
    parts += [f"<p>{html.escape(_counts(result))}.</p>", _score_plot(plt, result),
              _importance(plt, result)]
    return "\n".join(parts)


def _best(result):
    if result.best_params is None:
        return "<p>No trial completed (all were pruned or diverged).</p>"
    trial = result.best_trial
    text = (f"Best: trial {trial['number']}, {result.objective} {result.best_score:.4g} "
            f"after {trial['epochs']} epochs. Its hyperparameters:")
    rows = [(name, parameter_text(value)) for name, value in result.best_params.items()]
    return f"<p>{html.escape(text)}</p>" + _table(("hyperparameter", "best value"), rows,
                                                  kind="facts")


def _score_plot(plt, result):
    trials = result.trials
    figure, axis = plt.subplots(figsize=(6.5, 3.2))
    complete = [(t["number"], t["score"]) for t in trials if t["state"] == "complete"]
    stopped = [(t["number"], t["score"]) for t in trials
               if t["state"] != "complete" and math.isfinite(t["score"])]
    if complete:
        axis.plot(*zip(*complete), "o", color="#4a7ab5", label="complete")
    if stopped:
        axis.plot(*zip(*stopped), "x", color="#b55a4a", label="pruned or diverged")
    better = max if result.mode == "max" else min
    best, running = None, []
    for number, score in complete:
        best = score if best is None else better(best, score)
        running.append((number, best))
    if running:
        axis.step(*zip(*running), where="post", color="#222", label="best so far")
    axis.set_xlabel("trial")
    axis.set_ylabel(result.objective)
    axis.set_title("each trial's score on the dev split", fontsize="medium")
    axis.legend(loc="best", fontsize="small")
    return _svg(plt, figure)


def _trials_table(result, top):
    """The rows of ``result.table()``: trial, score, epochs and each hyperparameter ("-" where
    a trial of a stored study had none), best first."""
    complete = result.best_trials(1.0)
    rows = complete[:top]
    names = list(dict.fromkeys(name for t in rows for name in t["params"]))
    body = [(t["number"], _cell(t["score"]), t["epochs"],
             *(_cell(t["params"][name]) if name in t["params"] else "-" for name in names))
            for t in rows]
    caption = (f"The {len(rows)} best of {len(complete)} complete trials"
               if len(rows) < len(complete)
               else f"The {len(rows)} complete trial{'s' * (len(rows) > 1)}") + ", best first:"
    return f"<p>{html.escape(caption)}</p>" + _table(("trial", result.objective, "epochs",
                                                      *names), body)


def _cell(value):
    return f"{value:.4g}" if isinstance(value, float) else str(value)  # as result.table()


def _counts(result):
    counts = {state: sum(t["state"] == state for t in result.trials) for state in _STATES}
    return (f"{len(result.trials)} trials: " + ", ".join(f"{n} {s}" for s, n in counts.items())
            + f"; best {result.objective} is {'highest' if result.mode == 'max' else 'lowest'}")


def _importance(plt, result):
    shares = result.importances()
    if not shares:
        return f"<p>{html.escape(result._importance_line())}.</p>"
    figure, axis = plt.subplots(figsize=(6.5, 0.4 * len(shares) + 1))
    names = list(shares)[::-1]
    axis.barh(names, [shares[name] for name in names], color="#4a7ab5")
    axis.set_xlabel("importance (share of the score's variance, fANOVA)")
    return "\n".join([_svg(plt, figure),
                      _table(("hyperparameter", "importance"),
                             [(name, f"{share:.3f}") for name, share in shares.items()])])
