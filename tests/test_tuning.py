"""Hyperparameter tuning on Optuna: scales of the dimensions, determinism, TPE against random
search, pruning, divergence, coarse to fine, real data, worker processes and bad input."""
import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import gradwise as gw
from gradwise import tuning

pytest.importorskip("optuna")


# -- a cheap problem whose answer is known: linear regression by full-batch gradient descent ---
def _linear_data(n=200, d=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2 * n, d)) * np.linspace(0.5, 2.0, d)  # spread curvatures
    y = X @ rng.normal(size=d) + 0.3 * rng.normal(size=2 * n)
    return X[:n], y[:n], X[n:], y[n:]


LINEAR_EPOCHS = 6


def _linear_build(params):
    """Zero initial weights and full batches: the dev loss is a function of the rate alone."""
    model = gw.Sequential([gw.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer=gw.optimizers.SGD(params["learning_rate"]), loss="mse")
    return model


def _reference_dev_loss(learning_rate, X, y, X_dev, y_dev, epochs=LINEAR_EPOCHS):
    """The same training written out in float64 NumPy: w -= lr * 2/n X^T (Xw + b - y)."""
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        residual = X @ w + b - y
        w, b = w - learning_rate * 2 * X.T @ residual / len(X), b - learning_rate * 2 * residual.mean()
    return np.mean((X_dev @ w + b - y_dev) ** 2)


def _tune_linear(space=None, **options):
    X, y, X_dev, y_dev = _linear_data()
    space = space or {"learning_rate": tuning.LogUniform(1e-4, 1e1)}
    settings = dict(n_trials=10, epochs=LINEAR_EPOCHS, batch_size=None, pruning=False)
    return tuning.tune(_linear_build, space, X, y, (X_dev, y_dev), **{**settings, **options})


def _digits_build(params):
    model = gw.Sequential([
        gw.layers.Dense(params["units"], activation="relu", kernel_initializer="he_normal",
                        kernel_regularizer=gw.regularizers.L2(params["l2"])),
        gw.layers.Dropout(params["dropout"]),
        gw.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=gw.optimizers.Adam(params["learning_rate"]),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model


DIGITS_SPACE = {"learning_rate": tuning.LogUniform(1e-4, 1e-1),
                "l2": tuning.LogUniform(1e-6, 1e-3),
                "dropout": tuning.Uniform(0.0, 0.3),
                "units": tuning.IntUniform(16, 128, log=True),
                "batch_size": tuning.Choice([32, 64])}


# -- scales ------------------------------------------------------------------------------------
def test_random_draws_follow_each_dimension_scale():
    space = {"learning_rate": tuning.LogUniform(1e-4, 1.0),
             "width": tuning.IntUniform(1, 1000, log=True),
             "rate": tuning.Uniform(-1.0, 2.0),
             "kind": tuning.Choice(["a", 3, None])}
    result = _tune_linear(space, n_trials=300, epochs=1, sampler="random")
    params = [t["params"] for t in result.trials]
    decades = np.floor(np.log10([p["learning_rate"] for p in params])).astype(int)
    counts = np.bincount(decades + 4, minlength=4)
    # Log scale: a quarter per decade (binomial sd 7.5 of 75); a linear scale would put 90%
    # of the draws in [0.1, 1] and under 0.1% in [1e-4, 1e-3].
    assert counts.sum() == 300 and counts.min() >= 50 and counts.max() <= 100, counts
    assert all(isinstance(p["width"], int) for p in params)
    widths = np.array([p["width"] for p in params])
    assert widths.min() >= 1 and widths.max() <= 1000
    assert 0.35 < np.mean(widths < 32) < 0.65  # log scale: 1-31 as likely as 32-1000
    rates = np.array([p["rate"] for p in params])
    assert rates.min() >= -1.0 and rates.max() <= 2.0 and 0.35 < np.mean(rates < 0.5) < 0.65
    kinds = [p["kind"] for p in params]
    assert set(map(repr, kinds)) == {"'a'", "3", "None"}


# -- determinism -------------------------------------------------------------------------------
def _signature(result):
    return [(t["number"], t["params"], t["score"], t["state"], t["epochs"], t["seed"])
            for t in result.trials]


def test_same_seed_gives_identical_trials_and_another_seed_does_not():
    X, y, X_dev, y_dev = _linear_data()

    def build(params):  # random initialization and shuffling: the model seed matters
        model = gw.Sequential([gw.layers.Dense(4, activation="tanh"), gw.layers.Dense(1)])
        model.compile(optimizer=gw.optimizers.Adam(params["learning_rate"]), loss="mse")
        return model

    def run(seed, n_trials=6):
        return tuning.tune(build, {"learning_rate": tuning.LogUniform(1e-3, 1e-1)}, X, y,
                           (X_dev, y_dev), n_trials=n_trials, epochs=3, batch_size=32, seed=seed)

    first, second, other = run(0), run(0), run(1)
    assert _signature(first) == _signature(second)
    assert first.best_params == second.best_params and first.best_score == second.best_score
    assert [t["params"] for t in first.trials] != [t["params"] for t in other.trials]
    assert [t["seed"] for t in first.trials] != [t["seed"] for t in other.trials]
    assert len({t["seed"] for t in first.trials}) == 6  # every trial has its own seed
    fresh = run(None, n_trials=2)
    assert _signature(run(fresh.seed, n_trials=2)) == _signature(fresh)  # the drawn seed is kept


# -- Bayesian optimization against random search -------------------------------------------
def test_tpe_finds_the_known_best_learning_rate_region_better_than_random_search():
    X, y, X_dev, y_dev = _linear_data()
    grid = np.logspace(-4, 1, 501)
    with np.errstate(all="ignore"):
        reference = np.array([_reference_dev_loss(rate, X, y, X_dev, y_dev) for rate in grid])
    best = np.nanmin(reference)
    good = grid[reference <= 2 * best]  # one interval of rates around the optimum
    assert np.all(np.diff(np.flatnonzero(reference <= 2 * best)) == 1)
    gaps, shares = {}, {}
    for sampler in ("random", "bayesian"):
        runs = [_tune_linear(n_trials=30, sampler=sampler, seed=seed) for seed in range(4)]
        gaps[sampler] = np.mean([run.best_score - best for run in runs])
        later = np.array([t["params"]["learning_rate"] for run in runs for t in run.trials[10:]])
        shares[sampler] = np.mean((later >= good.min()) & (later <= good.max()))
    assert gaps["bayesian"] < 0.5 * gaps["random"], gaps
    assert shares["bayesian"] > shares["random"] + 0.05, shares


def test_scores_are_the_training_curves_best_values():
    X, y, X_dev, y_dev = _linear_data()
    result = _tune_linear(n_trials=5, sampler="random")
    for trial in result.trials:
        expected = min(_reference_dev_loss(trial["params"]["learning_rate"], X, y, X_dev, y_dev,
                                           epochs=e) for e in range(1, LINEAR_EPOCHS + 1))
        assert trial["score"] == pytest.approx(expected, rel=1e-4)
    assert result.best_score == min(t["score"] for t in result.trials)


# -- pruning and divergence ------------------------------------------------------------------
def test_pruning_stops_hopeless_trials_early(digits_split):
    X, X_dev, y, y_dev = digits_split
    space = {**DIGITS_SPACE, "learning_rate": tuning.LogUniform(1e-7, 1e-1)}  # many too small
    options = dict(n_trials=14, epochs=6, sampler="random", objective="val_loss", seed=3)
    pruned_run = tuning.tune(_digits_build, space, X, y, (X_dev, y_dev), pruning=True, **options)
    full_run = tuning.tune(_digits_build, space, X, y, (X_dev, y_dev), pruning=False, **options)
    pruned = [t for t in pruned_run.trials if t["state"] == "pruned"]
    assert pruned and all(2 <= t["epochs"] < 6 for t in pruned)  # pruning from the 2nd epoch
    assert all(t["state"] == "complete" and t["epochs"] == 6 for t in full_run.trials)
    # The random sampler draws the same points either way, and every model has its own seed:
    # the pruned run reports the first epochs of the full run's curves, and its complete
    # trials have the same scores.
    curves = [trial.intermediate_values for trial in full_run.study.trials]
    for with_pruning, without in zip(pruned_run.trials, full_run.trials):
        assert with_pruning["params"] == without["params"]
        reported = pruned_run.study.trials[with_pruning["number"]].intermediate_values
        assert reported == {k: v for k, v in curves[with_pruning["number"]].items() if k in reported}
        if with_pruning["state"] == "complete":
            assert with_pruning["score"] == without["score"]
    # The median rule, recomputed from the curves: at its last epoch, each pruned trial's best
    # value so far was worse than the median of the trials completed before it.
    for trial in pruned:
        last = trial["epochs"] - 1
        earlier = [curves[t["number"]][last] for t in pruned_run.trials
                   if t["number"] < trial["number"] and t["state"] == "complete"]
        assert len(earlier) >= 5
        best_so_far = min(curves[trial["number"]][e] for e in range(last + 1))
        assert best_so_far > np.median(earlier)
    assert sum(t["epochs"] for t in pruned_run.trials) < 14 * 6


def test_a_diverging_trial_is_recorded_and_the_search_goes_on():
    X, y, X_dev, y_dev = _linear_data()
    space = {"learning_rate": tuning.Choice([0.05, 1e4])}  # 1e4 overflows float32 in a few steps
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _tune_linear(space, n_trials=8, sampler="random", epochs=20)
    diverged = [t for t in result.trials if t["state"] == "diverged"]
    assert diverged and all(t["params"]["learning_rate"] == 1e4 for t in diverged)
    assert all(t["epochs"] < 20 for t in diverged)  # stopped at the first non-finite loss
    assert result.best_params == {"learning_rate": 0.05} and math.isfinite(result.best_score)
    assert not [w for w in caught if "loss became" in str(w.message)]  # expected, not shown
    assert "diverged" in result.table()


# -- coarse to fine --------------------------------------------------------------------------
def _result_with(trials, mode="min"):
    return tuning.TuningResult(None, math.nan, None, trials, None, "val_loss", mode, 0)


def _trial(number, score, state="complete", **params):
    return {"number": number, "params": params, "score": score, "state": state, "epochs": 5,
            "seed": number}


def test_narrow_closed_form_bounds_and_choices():
    space = {"lr": tuning.LogUniform(1e-4, 1.0), "drop": tuning.Uniform(0.0, 0.5),
             "units": tuning.IntUniform(16, 256, log=True), "batch": tuning.Choice([32, 64, 128])}
    best = [_trial(0, 0.10, lr=1e-3, drop=0.0, units=32, batch=32),
            _trial(1, 0.20, lr=1e-2, drop=0.2, units=64, batch=128)]
    others = [_trial(i, 1.0 + i, lr=0.5, drop=0.5, units=256, batch=64) for i in range(2, 10)]
    pruned = [_trial(10, 0.01, "pruned", lr=0.9, drop=0.4, units=200, batch=64),
              _trial(11, math.nan, "diverged", lr=1.0, drop=0.4, units=200, batch=64)]
    fine = tuning.narrow(space, _result_with(best + others + pruned), top=0.2, margin=0.1)
    # 10 complete trials, top 20%: trials 0 and 1. Padding 0.1 of the range on its scale.
    assert fine["lr"].low == pytest.approx(1e-3 * 10 ** (-0.1 * 4))
    assert fine["lr"].high == pytest.approx(1e-2 * 10 ** (0.1 * 4))
    assert (fine["drop"].low, fine["drop"].high) == (0.0, pytest.approx(0.25))  # clipped at 0
    ratio = 16 ** 0.1  # 0.1 of log(256/16)
    assert (fine["units"].low, fine["units"].high) == (math.floor(32 / ratio), math.ceil(64 * ratio))
    assert fine["units"].log and fine["batch"] == tuning.Choice([32, 128])
    maximized = tuning.narrow(space, _result_with(best + others, mode="max"), top=0.1, margin=0.0)
    assert maximized["lr"] == tuning.Choice([0.5]) and maximized["batch"] == tuning.Choice([64])


def test_narrow_rejects_bad_arguments():
    space = {"lr": tuning.LogUniform(1e-4, 1.0)}
    result = _result_with([_trial(0, 0.1, lr=1e-3)])
    with pytest.raises(ValueError, match="top"):
        tuning.narrow(space, result, top=0)
    with pytest.raises(ValueError, match="margin"):
        tuning.narrow(space, result, margin=-1)
    with pytest.raises(TypeError, match="result"):
        tuning.narrow(space, {"lr": 1e-3})
    with pytest.raises(ValueError, match=r"space\['lr'\]"):
        tuning.narrow({"lr": tuning.LogUniform(0.1, 1.0)}, result)
    with pytest.raises(ValueError, match="no trial completed"):
        tuning.narrow(space, _result_with([_trial(0, 0.1, "pruned", lr=1e-3)]))


# -- real data -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits_search(digits_split):
    X, X_dev, y, y_dev = digits_split
    return tuning.tune(_digits_build, DIGITS_SPACE, X, y, (X_dev, y_dev), n_trials=6, epochs=6,
                       objective="val_accuracy", seed=0)


@pytest.mark.slow
def test_tuning_on_digits_finds_an_accurate_network(digits_search, digits_split):
    assert digits_search.mode == "max" and digits_search.best_score >= 0.95  # 0.967-0.986, seeds 0-7
    X, X_dev, y, y_dev = digits_split
    model = _digits_build(digits_search.best_params)  # the best trial, rebuilt from its seed
    model.seed = digits_search.best_trial["seed"]
    history = model.fit(X, y, epochs=6, batch_size=digits_search.best_params["batch_size"],
                        validation_data=(X_dev, y_dev), verbose=0)
    assert max(history.history["val_accuracy"]) == digits_search.best_score
    table = digits_search.table(top=3).splitlines()
    assert table[0].split() == ["trial", "val_accuracy", "epochs", *DIGITS_SPACE]
    assert table[2].split()[0] == str(digits_search.best_trial["number"]) and len(table) == 7
    # 6 complete trials are too few to estimate importances: the last line says so
    assert table[-1] == ("importance: needs 8 complete trials with different scores "
                         "(6 complete)") and digits_search.importances() == {}


def test_narrow_on_a_real_search_keeps_the_best_trials(digits_search):
    fine = tuning.narrow(DIGITS_SPACE, digits_search, top=0.5)
    for trial in digits_search.best_trials(0.5):
        for name, dimension in fine.items():
            assert dimension.contains(trial["params"][name])
            original = DIGITS_SPACE[name]
            if hasattr(original, "low") and hasattr(dimension, "low"):
                assert original.low <= dimension.low and dimension.high <= original.high


@pytest.mark.slow
def test_two_worker_processes_complete_every_trial(digits_split, tmp_path):
    X, X_dev, y, y_dev = digits_split
    log = tmp_path / "pids.txt"

    def build(params):  # a closure: sent to the workers by cloudpickle
        with open(log, "a") as file:
            file.write(f"{os.getpid()}\n")
        return _digits_build(params)

    result = tuning.tune(build, DIGITS_SPACE, X, y, (X_dev, y_dev), n_trials=6, epochs=3,
                         n_jobs=2, seed=0)
    pids = log.read_text().split()  # the parent's probe, then one line per trial
    assert len(pids) == 7 and pids.count(str(os.getpid())) == 1  # every trial in a worker
    assert [t["number"] for t in result.trials] == list(range(6)) and len(result.study.trials) == 6
    assert len({t["seed"] for t in result.trials}) == 6
    for trial in result.trials:
        assert trial["state"] in ("complete", "pruned")
        assert all(DIGITS_SPACE[k].contains(v) for k, v in trial["params"].items())
        assert math.isfinite(trial["score"]) and 1 <= trial["epochs"] <= 3
    model = _digits_build(result.best_params)  # a worker's best trial, rebuilt here
    model.seed = result.best_trial["seed"]
    history = model.fit(X, y, epochs=3, batch_size=result.best_params["batch_size"],
                        validation_data=(X_dev, y_dev), verbose=0)
    assert min(history.history["val_loss"]) == pytest.approx(result.best_score, rel=1e-4)


def test_random_search_in_worker_processes_is_repeatable():
    # Without pruning, a random search's trials (points, seeds, scores) do not depend on which
    # worker asks the storage for a trial number first, nor on the number of processes.
    def summary(result):
        return sorted((round(t["params"]["learning_rate"], 12), t["seed"], round(t["score"], 5))
                      for t in result.trials)

    runs = [_tune_linear(n_trials=6, n_jobs=2, sampler="random", seed=3) for _ in range(2)]
    assert summary(runs[0]) == summary(runs[1])
    assert len({t["seed"] for t in runs[0].trials}) == 6
    other = _tune_linear(n_trials=6, n_jobs=2, sampler="random", seed=4)
    assert summary(other) != summary(runs[0])
    here = _tune_linear(n_trials=6, n_jobs=1, sampler="random", seed=3)
    by_number = {t["number"]: t for t in runs[0].trials}
    for trial in here.trials:  # trial n: the same point and seed in one process as in workers
        twin = by_number[trial["number"]]
        assert (trial["params"], trial["seed"]) == (twin["params"], twin["seed"])
        assert trial["score"] == pytest.approx(twin["score"], rel=1e-5)


def test_random_search_draws_each_trial_from_the_seed_and_its_number():
    # The sampler alone, on an Optuna study: trial n's point is a function of (seed, n).
    optuna = pytest.importorskip("optuna")
    from gradwise.tuning._random import TrialSeededRandomSampler

    def points(seed, order):
        study = optuna.create_study(sampler=TrialSeededRandomSampler(seed))
        trials = [study.ask() for _ in range(4)]
        drawn = {}
        for index in order:  # asked in another order: the same point for each number
            drawn[trials[index].number] = (trials[index].suggest_float("a", 1e-4, 1.0, log=True),
                                           trials[index].suggest_int("b", 1, 100))
        return drawn

    assert points(7, [0, 1, 2, 3]) == points(7, [3, 1, 0, 2])
    assert points(7, [0, 1, 2, 3]) != points(8, [0, 1, 2, 3])
    assert len({value for value, _ in points(7, [0, 1, 2, 3]).values()}) == 4


# -- fit options, logging and the optional dependency ----------------------------------------
def test_callbacks_and_a_batch_size_dimension_reach_every_fit():
    class Recorder(gw.callbacks.Callback):
        steps = []

        def on_train_begin(self, logs=None):
            self.steps.append(self.params["steps"])

    recorder = Recorder()
    space = {"learning_rate": tuning.LogUniform(1e-3, 1e-1), "batch_size": tuning.Choice([10, 50])}
    result = _tune_linear(space, n_trials=6, callbacks=[recorder], sampler="random")
    assert recorder.steps == [math.ceil(200 / t["params"]["batch_size"]) for t in result.trials]
    stopper = gw.callbacks.EarlyStopping(patience=0, min_delta=1e9)  # stops after 2 epochs
    stopped = _tune_linear(n_trials=3, callbacks=[stopper])
    assert [t["epochs"] for t in stopped.trials] == [2, 2, 2]


def test_optuna_logging_is_silent_by_default():
    # Optuna's logger does not propagate to the root logger, so records are collected by a
    # handler on Optuna's own logger rather than by pytest's caplog.
    import logging
    import optuna

    class Collect(logging.Handler):
        def __init__(self):
            super().__init__()
            self.messages = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    collect = Collect()
    logging.getLogger("optuna").addHandler(collect)
    before = optuna.logging.get_verbosity()
    try:
        _tune_linear(n_trials=2)
        assert not [m for m in collect.messages if "Trial 0 finished" in m]
        _tune_linear(n_trials=2, verbose=1)  # our one line per trial, not Optuna's
        assert not [m for m in collect.messages if "Trial 0 finished" in m]
        _tune_linear(n_trials=2, verbose=2)
        assert [m for m in collect.messages if "Trial 0 finished" in m]
    finally:
        logging.getLogger("optuna").removeHandler(collect)
    assert optuna.logging.get_verbosity() == before


def test_missing_optuna_asks_for_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ImportError, match=r'pip install "gradwise\[tune\]"'):
        _tune_linear(n_trials=1)


def test_importing_gradwise_and_tuning_does_not_import_optuna():
    code = "import sys, gradwise, gradwise.tuning; print('optuna' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


# -- bad input, refused before any training --------------------------------------------------
@pytest.mark.parametrize("options, error, message", [
    ({"n_trials": 0}, ValueError, "n_trials=0"),
    ({"n_trials": 2.5}, TypeError, "n_trials=2.5"),
    ({"sampler": "nope"}, ValueError, "sampler='nope'"),
    ({"objective": "val_accuracy"}, ValueError, "objective='val_accuracy'"),
    ({"objective": "loss"}, ValueError, "objective='loss'"),
    ({"mode": "sideways"}, ValueError, "mode='sideways'"),
    ({"epochs": 0}, ValueError, "epochs=0"),
    ({"n_jobs": 0}, ValueError, "n_jobs=0"),
    ({"seed": -1}, ValueError, "seed=-1"),
    ({"timeout": 0}, ValueError, "timeout=0"),
    ({"pruning": "yes"}, TypeError, "pruning='yes'"),
    ({"pruner": "patience"}, ValueError, "pruner='patience'"),
    ({"strategy": "fine_to_coarse"}, ValueError, "strategy='fine_to_coarse'"),
    ({"strategy": "coarse_to_fine", "n_trials": 1}, ValueError, "n_trials >= 2"),
    ({"sampler": "gp", "n_trials": 5}, ValueError, r"max\(5, 2 \* 1 dimensions\) = 5 random .*n_trials=5"),
    ({"sampler": "gp", "space": {"learning_rate": tuning.Choice([1e-3, 1e-2])}}, ValueError,
     "sampler='gp': .*only Choice dimensions"),
    ({"callbacks": ["stop"]}, TypeError, "callbacks"),
    ({"space": {}}, ValueError, "space: expected at least one dimension"),
    ({"space": [1e-3]}, TypeError, "space: expected a dict"),
    ({"space": {"learning_rate": 1e-3}}, TypeError, r"space\['learning_rate'\]"),
    ({"space": {"learning_rate": tuning.Uniform(1e-3, 1e-1),
                "batch_size": tuning.Choice([0, 32])}}, ValueError, r"space\['batch_size'\]"),
    ({"build": None}, TypeError, "build: expected a callable"),
    ({"build": lambda p: "model"}, TypeError, "build: expected a function returning a compiled"),
    ({"build": lambda p: gw.Sequential([gw.layers.Dense(1)])}, ValueError,
     "build: expected a compiled model"),
    ({"build": lambda p: _linear_build(p).build(8)}, ValueError, "build: expected a model not built"),
    ({"validation_data": np.zeros((3, 8))}, ValueError, "validation_data"),
    ({"validation_data": (np.zeros((3, 5)), np.zeros(3))}, ValueError, "validation_data X"),
    ({"X": np.zeros((199, 8))}, ValueError, "X and y"),
    ({"y": np.zeros((200, 3))}, ValueError, "y: mean_squared_error expects targets"),
])
def test_bad_input_is_refused_before_any_training(monkeypatch, options, error, message):
    def no_training(*args, **kwargs):
        raise AssertionError("trained before checking the input")
    monkeypatch.setattr(gw.Sequential, "fit", no_training)
    X, y, X_dev, y_dev = _linear_data()
    arguments = {"build": _linear_build, "space": {"learning_rate": tuning.LogUniform(1e-3, 1.0)},
                 "X": X, "y": y, "validation_data": (X_dev, y_dev)}
    arguments.update(options)
    with pytest.raises(error, match=message):
        tuning.tune(**arguments)


@pytest.mark.parametrize("make, error, message", [
    (lambda: tuning.LogUniform(0, 1), ValueError, "0 < low < high"),
    (lambda: tuning.LogUniform(1e-2, 1e-3), ValueError, "low < high"),
    (lambda: tuning.Uniform(1.0, 1.0), ValueError, "low < high"),
    (lambda: tuning.Uniform(0.0, math.inf), TypeError, "high=inf"),
    (lambda: tuning.IntUniform(1.5, 3), TypeError, "low=1.5"),
    (lambda: tuning.IntUniform(0, 8, log=True), ValueError, "positive bounds"),
    (lambda: tuning.Choice([]), ValueError, "at least one value"),
    (lambda: tuning.Choice("abc"), TypeError, "list of values"),
    (lambda: tuning.Choice([1, 1]), ValueError, "distinct"),
    (lambda: tuning.Choice([1, True]), ValueError, "distinct"),  # Optuna records both as 1
    (lambda: tuning.Choice([0, False, "a"]), ValueError, "distinct"),
    (lambda: tuning.Choice([1, 1.0]), ValueError, "distinct"),
    (lambda: tuning.Choice([0.5, math.nan]), ValueError, "other than NaN"),
    (lambda: tuning.Choice([[1, 2]]), TypeError, "None, bool, int, float or str"),
])
def test_malformed_dimensions_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("value, fix", [
    ([16, 32], "Choice([16, 32])"),
    ((1e-4, 1e-1), "LogUniform(0.0001, 0.1)"),
    ((-1.0, 1.0), "Uniform(-1.0, 1.0)"),
    (0.5, "Choice([0.5])"),
])
def test_a_value_that_is_not_a_dimension_gets_a_fix_that_works(value, fix):
    with pytest.raises(TypeError, match=r"space\['units'\]: expected a dimension") as caught:
        tuning.tune(_linear_build, {"units": value}, np.zeros((4, 8)), np.zeros(4),
                    (np.zeros((2, 8)), np.zeros(2)))
    assert fix in str(caught.value)
    assert isinstance(eval(fix, vars(tuning)), tuning.Dimension)  # the advice itself is valid


def test_dimensions_round_trip_through_their_config():
    for dimension in (tuning.LogUniform(1e-4, 1e-1), tuning.Uniform(0.0, 0.5),
                      tuning.IntUniform(16, 256, log=True), tuning.Choice([32, "x", None])):
        assert type(dimension).from_config(dimension.get_config()) == dimension
        assert repr(dimension).startswith(type(dimension).__name__ + "(")


# -- studies kept in a database: resuming, sharing between processes --------------------------
def test_a_stored_study_resumes_with_new_draws(tmp_path):
    url = f"sqlite:///{tmp_path / 'tuning.db'}"
    first = _tune_linear(n_trials=3, storage=url, study_name="linear", sampler="random")
    again = _tune_linear(n_trials=2, storage=url, study_name="linear", sampler="random")
    assert [t["number"] for t in again.trials] == [0, 1, 2, 3, 4]
    assert [t["params"] for t in again.trials[:3]] == [t["params"] for t in first.trials]
    rates = [t["params"]["learning_rate"] for t in again.trials]
    assert len(set(rates)) == 5  # the resumed sampler does not repeat the first draws
    assert len({t["seed"] for t in again.trials}) == 5
    X, y, X_dev, y_dev = _linear_data()
    for trial in again.trials:  # every stored score is the training it claims
        expected = _reference_dev_loss(trial["params"]["learning_rate"], X, y, X_dev, y_dev)
        if math.isfinite(expected) and expected < 1e6:
            assert trial["score"] == pytest.approx(expected, rel=1e-3)
    assert again.best_score == min(t["score"] for t in again.trials if t["state"] == "complete")


def test_a_stored_study_resumed_over_other_hyperparameters_warns_and_shows_them_all(tmp_path):
    url = f"sqlite:///{tmp_path / 'tuning.db'}"
    wider = {"learning_rate": tuning.LogUniform(1e-4, 1e1), "batch_size": tuning.Choice([10, 50])}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a new study, or the same space again: no warning
        _tune_linear(n_trials=5, storage=url, study_name="s", sampler="random")
        _tune_linear(n_trials=4, storage=url, study_name="s", sampler="random")
    with pytest.warns(UserWarning, match=r"study 's' holds 9 earlier trial\(s\) over other "
                                         r"hyperparameters .*it adds batch_size.*use another "
                                         r"study_name"):
        result = _tune_linear(wider, n_trials=5, storage=url, study_name="s", sampler="random")
    with pytest.warns(UserWarning, match=r"it leaves out batch_size"):
        _tune_linear(n_trials=1, storage=url, study_name="s", sampler="random")
    lines = result.table(top=14).splitlines()
    assert lines[0].split()[3:] == ["learning_rate", "batch_size"]
    cells = {int(line.split()[0]): line.split()[-1] for line in lines[2:-2]}
    for trial in result.trials:  # '-' exactly where a trial had no batch size
        if trial["state"] == "complete":
            assert cells[trial["number"]] == str(trial["params"].get("batch_size", "-"))
    assert "-" in cells.values() and set(cells.values()) - {"-"} <= {"10", "50"}
    assert set(result.importances()) <= {"learning_rate", "batch_size"}


def test_two_processes_share_one_stored_study(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    code = ("import sys; sys.path.insert(0, {tests!r}); import test_tuning as t; "
            "t._tune_linear(n_trials=3, storage={url!r}, study_name='shared', seed={seed})")
    tests = os.path.dirname(os.path.abspath(__file__))
    runs = [subprocess.Popen([sys.executable, "-c", code.format(tests=tests, url=url, seed=s)],
                             stderr=subprocess.PIPE, text=True) for s in (1, 2)]
    for run in runs:
        assert run.wait(timeout=120) == 0, run.stderr.read()
    import optuna
    study = optuna.load_study(study_name="shared", storage=url)
    assert len(study.trials) == 6
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)


def test_worker_processes_use_the_stored_study(tmp_path):
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    result = _tune_linear(n_trials=4, storage=url, study_name="w", n_jobs=2)
    assert sorted(t["number"] for t in result.trials) == [0, 1, 2, 3]
    import optuna
    assert len(optuna.load_study(study_name="w", storage=url).trials) == 4


def test_a_trial_whose_process_died_is_failed_by_the_next_search(tmp_path, monkeypatch):
    """A process killed mid-trial (SIGKILL, a machine lost: no clean-up runs) leaves its trial
    RUNNING in the shared study; the next search on the study marks it FAILED once it has sent
    no heartbeat for the grace period, and runs its own trials."""
    import signal
    import sqlite3
    import time
    url = f"sqlite:///{tmp_path / 'lost.db'}"
    code = ("import sys; sys.path.insert(0, {tests!r}); import test_tuning as t; "
            "t._tune_linear(n_trials=1, epochs=10**6, storage={url!r}, study_name='lost')")
    tests = os.path.dirname(os.path.abspath(__file__))
    lost = subprocess.Popen([sys.executable, "-c", code.format(tests=tests, url=url)],
                            stderr=subprocess.DEVNULL)

    def beating():  # the trial RUNNING, with its first heartbeat
        try:
            with sqlite3.connect(tmp_path / "lost.db", timeout=1) as db:
                return ([row[0] for row in db.execute("SELECT state FROM trials")] == ["RUNNING"]
                        and db.execute("SELECT count(*) FROM trial_heartbeats").fetchone()[0])
        except sqlite3.Error:  # not made yet
            return False
    try:
        deadline = time.monotonic() + 120
        while not beating():
            assert lost.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        lost.send_signal(signal.SIGKILL)
        lost.wait()
    from gradwise.tuning import _study
    monkeypatch.setattr(_study, "GRACE_SECONDS", 1)
    time.sleep(3)  # the database's clock counts whole seconds
    result = _tune_linear(n_trials=2, storage=url, study_name="lost", sampler="random")
    assert [t["state"] for t in result.trials] == ["fail", "complete", "complete"]


@pytest.mark.parametrize("options, message", [
    (dict(storage="tuning.db"), "storage"),
    (dict(storage=3), "storage"),
    (dict(storage="sqlite:///x.db", study_name=""), "study_name"),
])
def test_bad_storage_options_are_refused(options, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=message):
        _tune_linear(**options)
    assert not (tmp_path / "x.db").exists()


def test_a_stored_study_of_other_data_or_another_objective_is_refused(tmp_path):
    """The best trial of a study mixing two data sets, or two objectives, would compare
    scores that cannot be compared."""
    url = f"sqlite:///{tmp_path / 'mixed.db'}"
    space = {"learning_rate": tuning.LogUniform(1e-4, 1e1)}
    X, y, X_dev, y_dev = _linear_data()
    options = dict(n_trials=1, epochs=1, batch_size=None, pruning=False, storage=url,
                   study_name="m")
    tuning.tune(_linear_build, space, X, y, (X_dev, y_dev), **options)
    wider = np.hstack([X, X[:, :1]]), np.hstack([X_dev, X_dev[:, :1]])
    with pytest.raises(ValueError) as error:
        tuning.tune(_linear_build, space, wider[0], y, (wider[1], y_dev), **options)
    assert str(error.value) == (
        "study_name: the stored study 'm' scores its trials by val_loss on 8 input features; "
        "this search by val_loss on 9 input features: their scores cannot be compared; use "
        "another study_name.")

    def with_mae(params):
        model = _linear_build(params)
        model.compile(optimizer=gw.optimizers.SGD(params["learning_rate"]), loss="mse",
                      metrics=["mae"])
        return model
    with pytest.raises(ValueError, match="by val_loss on 8 input features; this search by "
                                         "val_mae on 8"):
        tuning.tune(with_mae, space, X, y, (X_dev, y_dev), objective="val_mae", **options)
    again = tuning.tune(_linear_build, space, X, y, (X_dev, y_dev), **options)  # same: resumes
    assert len(again.trials) == 2


def _refused_before_training(url):
    calls = []

    def build(params):
        calls.append(params)
        return _linear_build(params)
    X, y, X_dev, y_dev = _linear_data()
    with pytest.raises((ValueError, ImportError)) as error:
        tuning.tune(build, {"learning_rate": tuning.LogUniform(1e-4, 1e1)}, X, y, (X_dev, y_dev),
                    n_trials=2, epochs=2, storage=url)
    assert not calls  # refused before any model was built
    message = str(error.value)
    assert message.startswith("storage: ") and "--" not in message and "\n" not in message
    return message


def test_a_database_file_that_cannot_be_opened_is_refused_before_any_training(tmp_path):
    garbage = tmp_path / "notes.db"
    garbage.write_bytes(b"not a database, and it stays as it is\n" * 100)
    message = _refused_before_training(f"sqlite:///{garbage}")
    assert message == (f"storage: {str(garbage)!r} is not a database SQLite can open (file is "
                       f"not a database).")
    assert garbage.read_bytes() == b"not a database, and it stays as it is\n" * 100
    assert _refused_before_training(f"sqlite:///{tmp_path}").endswith(
        "is a directory, not a database file.")
    assert "No module named 'pymssql'" in _refused_before_training("mssql+pymssql://u:p@h/db")


def test_a_database_server_that_does_not_answer_is_refused_in_one_line_without_password():
    pytest.importorskip("psycopg")
    message = _refused_before_training("postgresql://user:secret@127.0.0.1:1/db")
    assert message.startswith("storage: cannot connect to postgresql://user:***@127.0.0.1:1/db: ")
    assert "secret" not in message and "refused" in message


def test_a_stored_study_of_the_other_direction_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'd.db'}"
    _tune_linear(n_trials=1, storage=url, study_name="d")  # minimizes val_loss
    with pytest.raises(ValueError, match="study_name"):
        _tune_linear(n_trials=1, storage=url, study_name="d", mode="max")


POSTGRES = os.environ.get("GRADWISE_TEST_POSTGRES_URL")


@pytest.mark.skipif(not POSTGRES, reason="no PostgreSQL server: set GRADWISE_TEST_POSTGRES_URL "
                                         "(.ci/run starts one where it can)")
def test_a_postgresql_study_is_shared_by_worker_processes_and_resumed():
    name = f"gradwise-test-{os.getpid()}"
    first = _tune_linear(n_trials=2, storage=POSTGRES, study_name=name, n_jobs=2)
    again = _tune_linear(n_trials=2, storage=POSTGRES, study_name=name)
    assert len(first.trials) == 2 and [t["number"] for t in again.trials] == [0, 1, 2, 3]
    assert all(t["state"] == "complete" for t in again.trials)
    import optuna
    optuna.delete_study(study_name=name, storage=POSTGRES)


def test_class_weight_reaches_every_trial_and_is_checked_first():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=300) > 1.2).astype(int)  # about 12% positives
    X_dev, y_dev = X[:100], y[:100]

    def build(params):
        model = gw.Sequential([gw.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer=gw.optimizers.SGD(params["learning_rate"]),
                      loss="binary_crossentropy")
        return model

    space = {"learning_rate": tuning.Choice([0.3])}
    weights = {0: 1.0, 1: 8.0}
    result = tuning.tune(build, space, X, y, (X_dev, y_dev), n_trials=1, epochs=5,
                         batch_size=None, pruning=False, class_weight=weights)
    direct = build({"learning_rate": 0.3})
    direct.seed = result.trials[0]["seed"]
    history = direct.fit(X, y, epochs=5, batch_size=None, validation_data=(X_dev, y_dev),
                         class_weight=weights, verbose=0)
    assert result.best_score == pytest.approx(min(history.history["val_loss"]), rel=1e-6)
    plain = tuning.tune(build, space, X, y, (X_dev, y_dev), n_trials=1, epochs=5,
                        batch_size=None, pruning=False)
    assert plain.best_score != pytest.approx(result.best_score, rel=1e-3)
    with pytest.raises((TypeError, ValueError), match="class_weight"):
        tuning.tune(build, space, X, y, (X_dev, y_dev), n_trials=1, class_weight=[1, 8])


def test_a_later_optuna_gets_its_own_journal_writer(monkeypatch, tmp_path):
    # The quicker writer copies Optuna 4/5's line format; another major version gets Optuna's.
    import optuna
    from optuna.storages.journal import JournalFileBackend

    from gradwise.tuning._parallel import _journal_backend
    assert type(_journal_backend(str(tmp_path / "a.log"))).__name__ == "TemporaryJournal"
    monkeypatch.setattr(optuna, "__version__", "6.0.0")
    theirs = _journal_backend(str(tmp_path / "b.log"))
    assert type(theirs) is JournalFileBackend
    storage = optuna.storages.JournalStorage(theirs)
    study = optuna.create_study(storage=storage, study_name="s")
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=2)
    assert len(optuna.load_study(study_name="s", storage=storage).trials) == 2


def test_one_minus_log_uniform_samples_beta_as_the_course_does():
    import optuna
    beta = tuning.OneMinusLogUniform(0.9, 0.999)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    draws = np.array([beta.suggest(study.ask(), "beta_1") for _ in range(4000)])
    assert draws.min() >= 0.9 and draws.max() <= 0.999
    r = np.log10(1 - draws)  # r = log10(1 - beta) ~ U(-3, -1)
    assert abs(np.mean(r) + 2) < 0.03 and abs(np.var(r) - 4 / 12) < 0.02
    assert 0.45 < np.mean(draws < 0.99) < 0.55  # a linear scale: 0.9 of the draws
    assert beta.center() == pytest.approx(0.99)  # 1 - 10**-2, the middle of the scale
    narrowed = beta.narrowed([0.95, 0.99], margin=0.0)
    assert (narrowed.low, narrowed.high) == pytest.approx((0.95, 0.99))
    for low, high in ((0.5, 1.0), (-0.1, 0.5), (0.9, 0.9)):
        with pytest.raises(ValueError, match="OneMinusLogUniform"):
            tuning.OneMinusLogUniform(low, high)


def test_a_search_over_beta_hands_build_and_the_result_beta_not_one_minus_beta():
    seen = []
    X, y, X_dev, y_dev = _linear_data()

    def build(params):
        seen.append(params["beta_1"])
        model = _linear_build({"learning_rate": 0.05})
        model.optimizer.beta_1 = params["beta_1"]
        return model
    space = {"beta_1": tuning.OneMinusLogUniform(0.9, 0.999)}
    result = tuning.tune(build, space, X, y, (X_dev, y_dev), n_trials=6, sampler="random",
                         epochs=2, batch_size=None, pruning=False, strategy="coarse_to_fine")
    values = [t["params"]["beta_1"] for t in result.trials]
    assert all(0.9 <= v <= 0.999 for v in values) and 0.9 <= result.best_params["beta_1"] <= 0.999
    assert sorted(values) == sorted(seen[-len(values):])  # what build saw
    stored = [t.params["beta_1"] for t in result.study.trials]
    assert np.allclose(sorted(1 - np.array(stored)), sorted(values))  # Optuna keeps 1 - beta
