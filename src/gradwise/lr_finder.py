"""Learning-rate range test (Smith, 2017; the fastai "LR finder").

Train for a short run while the learning rate grows exponentially from ``min_lr`` to
``max_lr``, record the smoothed loss, and suggest a rate from the curve. The model's weights,
its batch-norm statistics, its layers' random generators and its optimizer (moments, counters,
learning rate or schedule) are put back afterwards, so the call leaves no trace.

Examples
--------
>>> # result = gw.find_learning_rate(model, X_train, y_train)
>>> # result.suggestion, result.learning_rates, result.losses
"""
import copy
import math
from dataclasses import dataclass, field

import numpy as np

from ._training import choose_compute_path, compute_path, prepare

__all__ = ["find_learning_rate", "LearningRateFinderResult"]


@dataclass
class LearningRateFinderResult:
    """The curve of a learning-rate range test.

    Attributes
    ----------
    learning_rates : ndarray of shape (n_steps,)
        The rate of each step taken (fewer than ``steps`` when the loss exploded).
    losses : ndarray of shape (n_steps,)
        Bias-corrected exponentially smoothed training loss after each step.
    raw_losses : ndarray of shape (n_steps,)
        The batch losses themselves.
    suggestion : float
        The rate where the smoothed loss falls fastest against ``log10(rate)``, looking only
        at the steps between the first tenth of the sweep (skipped: the smoothed loss is still
        a handful of single batches there) and the minimum of the smoothed loss.
    min_loss_rate : float
        The rate at the minimum of the smoothed loss after the first tenth of the sweep;
        ``min_loss_rate / 10`` is the other usual rule of thumb.
    stopped_early : bool
        True when the sweep stopped because the loss exceeded 4 times its best value (or
        became NaN/infinite).
    """

    learning_rates: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    suggestion: float
    min_loss_rate: float
    stopped_early: bool = False
    extra: dict = field(default_factory=dict)

    def __getitem__(self, key):  # result["suggestion"] works as for a dict
        return getattr(self, key)




def find_learning_rate(model, X, y, min_lr=1e-6, max_lr=1.0, steps=100, batch_size=32,
                       beta=0.98, diverge_factor=4.0, seed=0):
    """Sweep the learning rate exponentially over a short training run.

    Parameters
    ----------
    model : Sequential
        Compiled; built on ``X`` if needed. Restored afterwards (weights, state, optimizer).
    X : array of shape (n_samples, n_features)
    y : array of shape (n_samples,) or (n_samples, n_outputs)
    min_lr, max_lr : float, default 1e-6 and 1.0
        ``0 < min_lr < max_lr``; step ``i`` uses ``min_lr * (max_lr/min_lr)**(i/(steps-1))``.
    steps : int >= 2, default 100
        Number of mini-batch updates (the data are cycled, reshuffled on each pass).
    batch_size : int, default 32
    beta : float in [0, 1), default 0.98
        Smoothing of the loss: ``avg = beta*avg + (1-beta)*loss``, divided by ``1 - beta**(i+1)``.
    diverge_factor : float > 1, default 4.0
        Stop when the smoothed loss exceeds ``diverge_factor`` times its best value.
    seed : int or None
        Seeds the batch order.

    Returns
    -------
    LearningRateFinderResult
    """
    from ._validation import check_fraction, check_positive_int, check_positive_number

    min_lr, max_lr = check_positive_number(min_lr, "min_lr"), check_positive_number(max_lr, "max_lr")
    if min_lr >= max_lr:
        raise ValueError(f"Expected min_lr < max_lr, received min_lr={min_lr}, max_lr={max_lr}")
    steps = check_positive_int(steps, "steps")
    if steps < 2:
        raise ValueError(f"Expected at least 2 steps, received steps={steps}")
    batch_size = check_positive_int(batch_size, "batch_size")
    check_fraction(beta, "beta")
    if check_positive_number(diverge_factor, "diverge_factor") <= 1:
        raise ValueError(f"Expected a number > 1, received diverge_factor={diverge_factor}")
    X, y, _ = prepare(model, X, y)
    batch_size = min(batch_size, len(X))
    saved = _snapshot(model)
    try:
        rates = min_lr * (max_lr / min_lr) ** (np.arange(steps) / (steps - 1))
        with compute_path(model, choose_compute_path(model, steps, batch_size)):
            curve = _sweep(model, X, y, rates, batch_size, beta, diverge_factor,
                           np.random.default_rng(seed))
    finally:
        _restore(model, saved)
    return _result(*curve)


def _sweep(model, X, y, rates, batch_size, beta, diverge_factor, rng):
    taken, smoothed, raw = [], [], []
    average, best, stopped = 0.0, math.inf, False
    batches = _cycle(len(X), batch_size, rng)
    for i, rate in enumerate(rates):
        model.optimizer.learning_rate = float(rate)
        rows = next(batches)
        loss = float(model._train_step(X[rows], y[rows])[0])
        average = beta * average + (1 - beta) * loss
        value = average / (1 - beta ** (i + 1))
        taken.append(rate), raw.append(loss), smoothed.append(value)
        if not math.isfinite(value) or value > diverge_factor * best:
            stopped = True
            break
        best = min(best, value)
    return np.array(taken), np.array(smoothed), np.array(raw), stopped


def _cycle(n, batch_size, rng):
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            yield order[start:start + batch_size]


def _result(rates, losses, raw, stopped):
    finite = np.where(np.isfinite(losses), losses, np.inf)
    skip = len(rates) // 10  # the first smoothed values are little more than single batches
    lowest = skip + int(np.argmin(finite[skip:]))  # a lucky early batch is not the minimum
    if lowest - skip >= 1:
        window = slice(skip, lowest + 1)
        slopes = np.gradient(losses[window], np.log10(rates[window]))
        suggestion = float(rates[skip + int(np.argmin(slopes))])
    else:  # the loss never went down: the smallest rate tried is the only safe answer
        suggestion = float(rates[0])
    return LearningRateFinderResult(rates, losses, raw, suggestion, float(rates[lowest]), stopped)


def _snapshot(model):
    return {"weights": model.get_weights(include_state=True),
            "optimizer": copy.deepcopy(model.optimizer.__dict__),
            "rngs": [copy.deepcopy(g.bit_generator.state) for g in model.random_generators()],
            "stop_training": model.stop_training}


def _restore(model, saved):
    model.set_weights(saved["weights"], include_state=True)
    model.optimizer.__dict__.clear()
    model.optimizer.__dict__.update(saved["optimizer"])
    for generator, state in zip(model.random_generators(), saved["rngs"]):
        generator.bit_generator.state = state  # a block's inner layers' too
    model.stop_training = saved["stop_training"]
