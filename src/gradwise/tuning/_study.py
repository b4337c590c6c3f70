"""Optuna plumbing: the optional import, samplers, the pruner and derived seeds."""
import contextlib

import numpy as np

#: Streams of derived seeds, so that no two uses of the search seed overlap.
SAMPLER_STREAM, TRIAL_STREAM, WORKER_STREAM = 0, 1, 2
STUDY_NAME = "gradwise-tune"


def import_optuna():
    """Import Optuna, or say how to install it."""
    try:
        import optuna
    except ImportError:
        raise ImportError('Hyperparameter tuning needs Optuna: pip install "gradwise[tune]" '
                          '(or pip install optuna).') from None
    return optuna


def derive_seed(seed, stream, index=0):
    """An independent 32-bit seed for ``(seed, stream, index)`` (NumPy's ``SeedSequence``)."""
    return int(np.random.SeedSequence([seed, stream, index]).generate_state(1)[0])


def startup_trials(n_trials):
    """Random trials before TPE models the results: a third of the budget, from 2 to 10."""
    return max(2, min(10, n_trials // 3))


def make_sampler(kind, seed, n_trials):
    """``"random"``: Optuna's RandomSampler; ``"bayesian"``: its TPE sampler, with Optuna's
    default (independent, univariate) density models after ``startup_trials`` random trials."""
    optuna = import_optuna()
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials(n_trials))


def make_pruner(pruning):
    """Optuna's MedianPruner, or no pruning.

    Once 5 trials have completed, a trial whose best value so far at an epoch (the second or
    later) is worse than the median of the completed trials' values at that epoch is stopped.
    """
    optuna = import_optuna()
    if not pruning:
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)


@contextlib.contextmanager
def optuna_logging(verbose):
    """Optuna's per-trial INFO lines only when ``verbose``; warnings always."""
    optuna = import_optuna()
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO if verbose else optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(previous)
