"""The hyperparameter-search section of ``gradwise tune --report``: the dev score of every
trial against its number, with the best so far, and how much each hyperparameter mattered."""
import html
import math

from .pieces import _svg, _table


def search_section(plt, result):
    """HTML for a :class:`~gradwise.tuning.TuningResult`: a plot of each trial's score
    (complete trials as dots, pruned and diverged ones as crosses at their best score before
    they stopped) with the running best, then the importance of each hyperparameter."""
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
    axis.set_ylabel(f"{result.objective} (dev)")
    axis.legend(loc="best", fontsize="small")
    parts = [_svg(plt, figure)]
    shares = result.importances()
    if shares:
        figure, axis = plt.subplots(figsize=(6.5, 0.4 * len(shares) + 1))
        names = list(shares)[::-1]
        axis.barh(names, [shares[name] for name in names], color="#4a7ab5")
        axis.set_xlabel("importance (share of the score's variance, fANOVA)")
        parts += [_svg(plt, figure),
                  _table(("hyperparameter", "importance"),
                         [(name, f"{share:.3f}") for name, share in shares.items()])]
    else:
        parts.append(f"<p>{html.escape(result._importance_line())}.</p>")
    return "\n".join(parts)
