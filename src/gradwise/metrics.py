"""Metrics reported during training: accuracies, ROC AUC and regression errors.

Each metric is a function ``metric(y_true, y_pred) -> float`` whose ``__name__`` is the key in
the training history. ``y_true`` is the loss-prepared target (one-hot rows for categorical
cross-entropy, (n_samples, k) 0/1 labels for binary cross-entropy, (n_samples, k) floats for
regression) and ``y_pred`` the network output (probabilities, or raw outputs for regression).
1-D arrays are read as one output per sample.

Most metrics are averaged over the batches of an epoch for the training logs. A metric that
ranks the whole set (``auc``) has ``per_batch = False``: it is computed on validation data and
by ``evaluate`` only, over all their rows at once.

Examples
--------
>>> import numpy as np
>>> from gradwise import metrics
>>> metrics.get("acc")(np.array([[1, 0], [0, 1]]), np.array([[0.9, 0.1], [0.6, 0.4]]))
0.5
"""
from .backend import xp
from ._registry import resolve

__all__ = ["accuracy", "auc", "binary_accuracy", "categorical_accuracy", "mse", "mae", "rmse", "r2",
           "get"]


def _as_2d(y_true, y_pred):
    y_true, y_pred = xp.asarray(y_true), xp.asarray(y_pred)
    if y_pred.ndim == 1:
        y_pred = y_pred.reshape(-1, 1)
    if y_true.ndim == 1:
        y_true = y_true.reshape(-1, 1)
    if y_true.shape[0] != y_pred.shape[0] or y_pred.ndim != 2 or y_true.ndim != 2:
        raise ValueError(f"y_true and y_pred: expected matching (n_samples, n_outputs) arrays, "
                         f"received shapes {y_true.shape} and {y_pred.shape}.")
    return y_true, y_pred


def _labels(y):
    """Class index per row: argmax of one-hot/probability rows, or the integer label column."""
    return y[:, 0].astype(xp.intp) if y.shape[1] == 1 else xp.argmax(y, axis=1)


def categorical_accuracy(y_true, y_pred):
    """Fraction of samples whose arg-max prediction is the true class.

    Parameters
    ----------
    y_true : array of shape (n_samples, k) one-hot, or (n_samples,) integer labels
    y_pred : array of shape (n_samples, k)

    Notes
    -----
    ``mean_i [argmax_j y_pred_ij == argmax_j y_true_ij]``.
    """
    y_true, y_pred = _as_2d(y_true, y_pred)
    return int(xp.count_nonzero(_labels(y_true) == xp.argmax(y_pred, axis=1))) / y_pred.shape[0]


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Fraction of elements whose thresholded prediction matches the 0/1 label.

    Parameters
    ----------
    y_true : array of shape (n_samples, k) with 0/1 labels
    y_pred : array of shape (n_samples, k) of probabilities
    threshold : float

    Notes
    -----
    ``mean_ij [(y_pred_ij > threshold) == (y_true_ij > 0.5)]``.
    """
    y_true, y_pred = _as_2d(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred: expected the same shape, received {y_true.shape} "
                         f"and {y_pred.shape}.")
    return int(xp.count_nonzero((y_pred > threshold) == (y_true > 0.5))) / y_pred.size


def accuracy(y_true, y_pred):
    """Categorical accuracy when there are several outputs, binary accuracy for one output.

    Parameters
    ----------
    y_true : array of shape (n_samples, k), or (n_samples,)
    y_pred : array of shape (n_samples, k), or (n_samples,)

    Notes
    -----
    ``k > 1``: ``mean_i [argmax y_pred_i == argmax y_true_i]``; ``k == 1``:
    ``mean_i [(y_pred_i > 0.5) == (y_true_i > 0.5)]``.
    """
    y_true, y_pred = _as_2d(y_true, y_pred)
    if y_pred.shape[1] > 1:
        return categorical_accuracy(y_true, y_pred)
    return binary_accuracy(y_true, y_pred)


def _average_ranks(scores):
    """1-based ranks of ``scores``, ties sharing the mean of their ranks."""
    order = xp.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    starts = xp.flatnonzero(xp.concatenate([[True], sorted_scores[1:] != sorted_scores[:-1]]))
    ends = xp.concatenate([starts[1:], [len(scores)]])
    ranks = xp.empty(len(scores))
    ranks[order] = xp.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def _binary_auc(positive, scores):
    n_positive = int(xp.count_nonzero(positive))
    n_negative = len(positive) - n_positive
    if n_positive == 0 or n_negative == 0:
        return None
    rank_sum = _average_ranks(xp.asarray(scores, dtype=xp.float64))[positive].sum()
    return (rank_sum - n_positive * (n_positive + 1) / 2.0) / (n_positive * n_negative)


def auc(y_true, y_pred):
    """Area under the ROC curve: the probability that a random positive row scores above a
    random negative one (ties count one half).

    One output: 0/1 labels against the predicted probability. Several outputs: the mean over
    the outputs (classes, one-vs-rest) of each one's AUC, skipping an output whose labels are
    all equal; NaN when every output is skipped. With two softmax outputs this is the AUC of
    either class. Computed on whole sets (``per_batch = False``): validation data and
    ``evaluate``, not the training batches.

    Notes
    -----
    Mann-Whitney: ``AUC = (R_pos - n_pos (n_pos + 1) / 2) / (n_pos n_neg)`` with ``R_pos`` the
    sum of the positives' ranks among all scores.
    """
    y_true, y_pred = _as_2d(y_true, y_pred)
    if y_true.shape[1] == 1 and y_pred.shape[1] > 1:  # class indices against class scores
        y_true = _labels(y_true)[:, None] == xp.arange(y_pred.shape[1])[None, :]
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred: expected the same shape, received {y_true.shape} "
                         f"and {y_pred.shape}.")
    areas = [_binary_auc(y_true[:, j] > 0.5, y_pred[:, j]) for j in range(y_pred.shape[1])]
    areas = [area for area in areas if area is not None]
    return float(sum(areas) / len(areas)) if areas else float("nan")


auc.per_batch = False


def _residuals(y_true, y_pred):
    y_true, y_pred = _as_2d(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred: expected the same shape, received {y_true.shape} "
                         f"and {y_pred.shape}.")
    return y_pred - y_true


def mse(y_true, y_pred):
    """Mean squared error over all elements: ``mean((y_pred - y_true)**2)``.

    Parameters
    ----------
    y_true, y_pred : arrays of shape (n_samples, k) or (n_samples,)
    """
    d = _residuals(y_true, y_pred).ravel()
    return float(xp.dot(d, d)) / d.size


def mae(y_true, y_pred):
    """Mean absolute error over all elements: ``mean(|y_pred - y_true|)``.

    Parameters
    ----------
    y_true, y_pred : arrays of shape (n_samples, k) or (n_samples,)
    """
    return float(xp.abs(_residuals(y_true, y_pred)).mean())


def rmse(y_true, y_pred):
    """Root mean squared error over all elements: ``sqrt(mean((y_pred - y_true)**2))``.

    Parameters
    ----------
    y_true, y_pred : arrays of shape (n_samples, k) or (n_samples,)
    """
    return mse(y_true, y_pred) ** 0.5


def r2(y_true, y_pred):
    """Coefficient of determination, averaged uniformly over outputs (as scikit-learn).

    Parameters
    ----------
    y_true, y_pred : arrays of shape (n_samples, k) or (n_samples,)

    Notes
    -----
    Per output ``R2_j = 1 - sum_i (y_ij - p_ij)**2 / sum_i (y_ij - mean_i y_ij)**2``; an output
    with constant ``y`` scores 1 if predicted exactly, else 0.
    """
    d = _residuals(y_true, y_pred)
    y_true = xp.asarray(y_true, dtype=xp.float64).reshape(d.shape)
    ss_res = (d * d).sum(axis=0)
    ss_tot = ((y_true - y_true.mean(axis=0)) ** 2).sum(axis=0)
    safe = ss_tot > 0
    score = xp.where(safe, 1.0 - ss_res / xp.where(safe, ss_tot, 1.0), (ss_res == 0).astype(float))
    return float(score.mean())


_REGISTRY = {
    "accuracy": accuracy, "acc": accuracy,
    "binary_accuracy": binary_accuracy, "categorical_accuracy": categorical_accuracy,
    "mse": mse, "mean_squared_error": mse,
    "mae": mae, "mean_absolute_error": mae,
    "rmse": rmse, "root_mean_squared_error": rmse,
    "r2": r2,
    "auc": auc, "roc_auc": auc,
}


def get(identifier):
    """Return a metric function from its name (``"accuracy"``, ``"mse"``...) or a callable.

    Raises
    ------
    ValueError
        Unknown name; the message lists the known ones.
    TypeError
        Neither a name nor a callable.
    """
    return resolve(identifier, _REGISTRY, "metric", "metrics")
