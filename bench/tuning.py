"""Samplers compared at the same trial budget: random search, TPE, the Gaussian process (GP with
expected improvement) and coarse to fine (random search, then random search in the space
narrowed around the best coarse trials), on scikit-learn data sets.

    python -m bench.tuning                      # 4 tasks x 10 seeds x 40 trials
    python -m bench.tuning --quick              # a smoke test: every task, 2 seeds, 14 trials
    python -m bench.tuning --seeds 20 --json tuning.json --only digits

Tasks (60/20/20 split per task, standardized on train; one hidden ReLU layer, Adam; few
epochs per trial so that a trial is cheap and the learning rate matters):
- digits: 10 classes, dev accuracy (maximized), 4 epochs per trial;
- breast_cancer: 2 classes, dev ROC AUC (maximized), 3 epochs per trial;
- diabetes: regression on the standardized target, dev MAE (minimized), 8 epochs per trial;
- digits-1epoch: the harder setting, digits with 1 epoch per trial and a larger space
  (also beta_1 and the batch size).
Search space: learning rate LogUniform(1e-5, 1), units IntUniform(4, 256, log), L2
LogUniform(1e-6, 1e-1), dropout Uniform(0, 0.6). No pruning, so that every trial of every
sampler is one full training. Each seed seeds the split's trials and samplers (the split is
fixed per task).

Reported per task and sampler:
- the best dev score after 10, 20 and 40 trials, median over seeds;
- wins / ties / losses against random search at the same seed (best dev score after all
  trials) and the two-sided sign-test p-value (scipy.stats.binomtest over the non-tied seeds);
- the test score of the best configuration retrained (same seed, same epochs), median;
- seconds spent choosing each trial: from the end of the previous trial to the start of the
  next one's training (Optuna's bookkeeping, which is the same for all, plus the sampler),
  mean over trials.
"""
from __future__ import annotations

import os
import sys

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _common as common  # type: ignore
else:
    from . import _common as common

common.set_thread_env(1)

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

SAMPLERS = {"random": ("random", "direct"), "tpe": ("bayesian", "direct"),
            "gp": ("gp", "direct"), "coarse-to-fine": ("random", "coarse_to_fine")}


def _split(X, y, seed=0):
    import numpy as np
    from sklearn.model_selection import train_test_split
    X_train, X_rest, y_train, y_rest = train_test_split(X, y, test_size=0.4, random_state=seed)
    X_dev, X_test, y_dev, y_test = train_test_split(X_rest, y_rest, test_size=0.5,
                                                    random_state=seed)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0) + 1e-8
    parts = [((Xs - mean) / std).astype(np.float32) for Xs in (X_train, X_dev, X_test)]
    return parts, [y_train, y_dev, y_test]


def tasks():
    """name -> (data parts, outputs, objective, epochs, larger space)."""
    from sklearn import datasets
    out = {}
    X, y = datasets.load_digits(return_X_y=True)
    out["digits"] = (_split(X, y), 10, "val_accuracy", 4, False)
    X, y = datasets.load_breast_cancer(return_X_y=True)
    out["breast_cancer"] = (_split(X, y), 2, "val_auc", 3, False)
    X, y = datasets.load_diabetes(return_X_y=True)
    (Xs, ys) = _split(X, y)
    scale = ys[0].std()
    ys = [(v - ys[0].mean()) / scale for v in ys]
    out["diabetes"] = ((Xs, ys), 1, "val_mae", 8, False)
    X, y = datasets.load_digits(return_X_y=True)
    out["digits-1epoch"] = (_split(X, y), 10, "val_accuracy", 1, True)
    return out


def space(larger):
    from gradwise import tuning
    dims = {"learning_rate": tuning.LogUniform(1e-5, 1.0),
            "units": tuning.IntUniform(4, 256, log=True),
            "l2": tuning.LogUniform(1e-6, 1e-1),
            "dropout": tuning.Uniform(0.0, 0.6)}
    if larger:
        dims["beta_1"] = tuning.Uniform(0.5, 0.999)
        dims["batch_size"] = tuning.Choice([16, 32, 64, 128, 256])
    return dims


class Build:
    """A picklable build function: one hidden ReLU layer, Adam."""

    def __init__(self, outputs, objective):
        self.outputs, self.objective = outputs, objective

    def __call__(self, params):
        import gradwise as gw
        l2 = gw.regularizers.L2(params["l2"])
        last = "softmax" if self.outputs > 1 else None
        model = gw.Sequential([
            gw.layers.Dense(params["units"], activation="relu", kernel_initializer="he_normal",
                            kernel_regularizer=l2),
            gw.layers.Dropout(params["dropout"]),
            gw.layers.Dense(self.outputs, activation=last, kernel_regularizer=l2)])
        optimizer = gw.optimizers.Adam(params["learning_rate"],
                                       beta_1=params.get("beta_1", 0.9))
        if self.outputs > 1:
            metrics = ["accuracy"] + (["auc"] if self.objective == "val_auc" else [])
            model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=metrics)
        else:
            model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
        return model


def run_one(task, sampler, seed, n_trials):
    """One search; returns the best-so-far curve, the test score and the choosing seconds."""
    import numpy as np
    from gradwise import tuning
    (Xs, ys), outputs, objective, epochs, larger = task
    build = Build(outputs, objective)
    kind, strategy = SAMPLERS[sampler]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = tuning.tune(build, space(larger), Xs[0], ys[0], (Xs[1], ys[1]),
                             n_trials=n_trials, sampler=kind, strategy=strategy,
                             objective=objective, epochs=epochs, batch_size=64, pruning=False,
                             seed=seed)
    better = np.fmax if result.mode == "max" else np.fmin
    scores = np.array([t["score"] if t["state"] == "complete" else np.nan for t in result.trials])
    curve = better.accumulate(scores).tolist()
    test = float("nan")
    if result.best_params is not None:
        model = build(result.best_params)
        model.seed = result.best_trial["seed"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(Xs[0], ys[0], epochs=epochs, verbose=0,
                      batch_size=result.best_params.get("batch_size", 64))
        test = float(model.evaluate(Xs[2], ys[2])[objective[4:]])
    choose = [t.user_attrs.get("choice_seconds", np.nan) for t in result.study.trials]
    return {"curve": curve, "test": test, "choose": float(np.nanmean(choose)),
            "maximize": result.mode == "max"}


def summarize(runs, checkpoints):
    """Rows of the table for one task: ``{sampler: {seed: run}}``."""
    import numpy as np
    from scipy.stats import binomtest
    rows = []
    reference = runs["random"]
    for sampler, by_seed in runs.items():
        seeds = sorted(by_seed)
        sign = 1 if by_seed[seeds[0]]["maximize"] else -1
        row = [sampler]
        for k in checkpoints:
            row.append("%.4f" % np.nanmedian([by_seed[s]["curve"][k - 1] for s in seeds]))
        if sampler == "random":
            row += ["-", "-"]
        else:
            diffs = [sign * (by_seed[s]["curve"][-1] - reference[s]["curve"][-1]) for s in seeds]
            wins = sum(d > 1e-12 for d in diffs)
            losses = sum(d < -1e-12 for d in diffs)
            ties = len(diffs) - wins - losses
            p = binomtest(wins, wins + losses, 0.5).pvalue if wins + losses else 1.0
            row += ["%d/%d/%d" % (wins, ties, losses), "%.3f" % p]
        row.append("%.4f" % np.nanmedian([by_seed[s]["test"] for s in seeds]))
        row.append("%.3f" % np.mean([by_seed[s]["choose"] for s in seeds]))
        rows.append(row)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 2 seeds, 14 trials, 1 epoch per trial")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--only", help="comma-separated tasks")
    parser.add_argument("--samplers", default=",".join(SAMPLERS))
    parser.add_argument("--jobs", type=int, default=1,
                        help="searches run at once in worker processes (default 1)")
    parser.add_argument("--json", metavar="FILE", help="save every run's numbers")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.trials = 2, 14
    checkpoints = sorted({min(k, args.trials) for k in (10, 20, 40)})
    all_tasks = tasks()
    names = args.only.split(",") if args.only else list(all_tasks)
    samplers = args.samplers.split(",")
    if "random" not in samplers:
        samplers.insert(0, "random")
    if args.quick:
        all_tasks = {n: (*t[:3], 1, t[4]) for n, t in all_tasks.items()}
    jobs = [(name, sampler, seed) for name in names for sampler in samplers
            for seed in range(args.seeds)]
    started = time.perf_counter()
    if args.jobs > 1:
        from joblib import Parallel, delayed
        outcomes = Parallel(n_jobs=args.jobs)(
            delayed(run_one)(all_tasks[n], s, seed, args.trials) for n, s, seed in jobs)
    else:
        outcomes = [run_one(all_tasks[n], s, seed, args.trials) for n, s, seed in jobs]
    elapsed = time.perf_counter() - started
    results = {}
    for (name, sampler, seed), outcome in zip(jobs, outcomes):
        results.setdefault(name, {}).setdefault(sampler, {})[seed] = outcome
    header = ["sampler", *("best@%d" % k for k in checkpoints), "vs random W/T/L", "sign p",
              "test", "choose s"]
    print("tuning benchmark: %d seeds x %d trials per sampler; %.0f s in all (machine shared "
          "with other work: timings are indicative)" % (args.seeds, args.trials, elapsed))
    for name in names:
        task = all_tasks[name]
        print("\n%s: %s, %d epoch(s) per trial%s" % (
            name, task[2], task[3], ", larger space" if task[4] else ""))
        print(common.render_table(header, summarize(results[name], checkpoints)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": common.machine_info(1), "trials": args.trials,
                       "seeds": args.seeds, "results": results}, f)
    return results


if __name__ == "__main__":
    main()
