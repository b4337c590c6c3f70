"""Hyperparameter tuning on Optuna: random search on the right scale, coarse to fine (by hand
with :func:`narrow`, or ``tune(strategy="coarse_to_fine")``), Bayesian optimization (TPE, or
a Gaussian process with expected improvement: ``sampler="gp"``), pruning of hopeless trials
(median rule, successive halving, Hyperband), the importance of each hyperparameter, and trials
in parallel processes.

Optuna is an optional dependency (``pip install "gradwise[tune]"``), imported only when a
search runs, so ``import gradwise`` does not need it.

Examples
--------
>>> import gradwise as gw
>>> from gradwise import tuning
>>> space = {"learning_rate": tuning.LogUniform(1e-4, 1e-1),
...          "l2": tuning.LogUniform(1e-6, 1e-2),
...          "dropout": tuning.Uniform(0.0, 0.5),
...          "units": tuning.IntUniform(16, 256, log=True),
...          "batch_size": tuning.Choice([32, 64, 128])}
>>> def build(params):
...     model = gw.Sequential([
...         gw.layers.Dense(params["units"], activation="relu",
...                         kernel_regularizer=gw.regularizers.L2(params["l2"])),
...         gw.layers.Dropout(params["dropout"]),
...         gw.layers.Dense(10, activation="softmax")])
...     model.compile(optimizer=gw.optimizers.Adam(params["learning_rate"]),
...                   loss="categorical_crossentropy", metrics=["accuracy"])
...     return model
>>> # coarse = tuning.tune(build, space, X_train, y_train, (X_dev, y_dev), n_trials=30,
>>> #                      sampler="random", objective="val_accuracy")
>>> # fine = tuning.tune(build, tuning.narrow(space, coarse), X_train, y_train,
>>> #                    (X_dev, y_dev), n_trials=30, sampler="bayesian",
>>> #                    objective="val_accuracy")
>>> # print(fine.table()); fine.best_params
"""
from ._result import TuningResult
from ._search import tune
from ._space import Choice, Dimension, IntUniform, LogUniform, OneMinusLogUniform, Uniform, narrow

__all__ = ["tune", "narrow", "TuningResult", "Dimension", "Uniform", "LogUniform",
           "OneMinusLogUniform", "IntUniform",
           "Choice", "GPSampler"]


def __getattr__(name):
    """``GPSampler`` subclasses Optuna's sampler, so it is imported only when asked for."""
    if name == "GPSampler":
        from ._gp import GPSampler
        return GPSampler
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
