"""Metrics reported during training: accuracies, ROC AUC and regression errors; and the scores
of finished predictions (:func:`classification_scores`, :func:`regression_scores`,
:func:`ranking_scores`, and :class:`ClassTally` / :class:`RegressionTally` for predictions
that arrive batch by batch), the one place the command line and the reports take them from.

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
           "get", "classification_scores", "regression_scores", "ranking_scores", "ClassTally",
           "RegressionTally"]


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


def _binary_auc(positive, scores):
    """scikit-learn's ROC AUC of ``scores`` for the ``positive`` rows; None with one class."""
    from sklearn.metrics import roc_auc_score
    positive = xp.asarray(positive, dtype=bool)
    if positive.all() or not positive.any():
        return None
    return float(roc_auc_score(positive, xp.asarray(scores, dtype=xp.float64)))


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


def classification_scores(y_true, y_pred, sample_weight=None):
    """Accuracy, balanced accuracy and macro F1 of predicted labels, by scikit-learn.

    Parameters
    ----------
    y_true, y_pred : arrays of shape (n_samples,)
        Class labels (any comparable labels, or class indices).
    sample_weight : array of shape (n_samples,), optional
        Rows counted this many times (:class:`ClassTally` gives each (true, predicted) pair
        once, weighted by its count).

    Returns
    -------
    dict
        ``{"accuracy", "bal_acc", "macro_f1"}`` as floats.

    Notes
    -----
    Balanced accuracy is the mean recall over the classes of ``y_true`` (a class only
    predicted counts in no recall); macro F1 the unweighted mean of the per-class F1 scores
    (0 for a class never predicted). Unlike accuracy, neither rewards ignoring a rare class.
    """
    import warnings

    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
    y_true, y_pred = xp.asarray(y_true), xp.asarray(y_pred)
    with warnings.catch_warnings():  # "y_pred contains classes not in y_true": as documented
        warnings.simplefilter("ignore", UserWarning)
        balanced = balanced_accuracy_score(y_true, y_pred, sample_weight=sample_weight)
    return {"accuracy": float(accuracy_score(y_true, y_pred, sample_weight=sample_weight)),
            "bal_acc": float(balanced),
            "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0,
                                       sample_weight=sample_weight))}


class ClassTally:
    """:func:`classification_scores` of predictions that arrive batch by batch, in memory of
    the number of classes squared, whatever the number of rows.

    Parameters
    ----------
    n_classes : int, default 0
        Labels are class indices ``0 .. n_classes - 1``; a larger index seen by :meth:`add`
        widens the tally (for labels coded as they arrive).

    Attributes
    ----------
    counts : ndarray of shape (n_classes, n_classes), int64
        ``counts[t, p]``: rows of true class ``t`` predicted ``p`` (the confusion matrix).

    Notes
    -----
    Accuracy, balanced accuracy and macro F1 depend on the rows only through the confusion
    matrix, so :meth:`scores` gives scikit-learn each distinct (true, predicted) pair once,
    weighted by its count. Every sum it makes is of whole numbers, exact in float64, so the
    scores have the same bits as :func:`classification_scores` of all the rows at once.
    """

    def __init__(self, n_classes=0):
        self.n_classes = int(n_classes)
        self.counts = xp.zeros((self.n_classes, self.n_classes), dtype=xp.int64)

    def add(self, y_true, y_pred):
        """Count the class indices ``y_true`` and ``y_pred``, arrays of shape (batch,)."""
        y_true, y_pred = xp.asarray(y_true, dtype=xp.int64), xp.asarray(y_pred, dtype=xp.int64)
        k = max(self.n_classes, int(y_true.max(initial=-1)) + 1, int(y_pred.max(initial=-1)) + 1)
        if k > self.n_classes:
            grown = xp.zeros((k, k), dtype=xp.int64)
            grown[:self.n_classes, :self.n_classes] = self.counts
            self.counts, self.n_classes = grown, k
        self.counts += xp.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)

    @property
    def rows(self):
        return int(self.counts.sum())

    def pairs(self):
        """``(y_true, y_pred, counts)``: each (true, predicted) pair seen, and its rows."""
        truth, predicted = xp.nonzero(self.counts)
        return truth, predicted, self.counts[truth, predicted]

    def scores(self):
        """``{"accuracy", "bal_acc", "macro_f1"}`` of every row added."""
        return classification_scores(*self.pairs())


def regression_scores(y_true, y_pred):
    """Mean absolute error, root mean squared error and R^2, by scikit-learn.

    Parameters
    ----------
    y_true, y_pred : arrays of shape (n_samples,)

    Returns
    -------
    dict
        ``{"mae", "rmse", "r2"}`` as floats; ``r2`` is NaN for a constant ``y_true``.

    Notes
    -----
    ``R2 = 1 - sum (y - p)**2 / sum (y - mean(y))**2``.
    """
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
    y_true = xp.asarray(y_true, dtype=xp.float64)
    y_pred = xp.asarray(y_pred, dtype=xp.float64)
    constant = len(y_true) == 0 or xp.all(y_true == y_true[0])
    return {"mae": float(mean_absolute_error(y_true, y_pred)),
            "rmse": float(xp.sqrt(mean_squared_error(y_true, y_pred))),
            "r2": float("nan") if constant else float(r2_score(y_true, y_pred))}


class RegressionTally:
    """:func:`regression_scores` of predictions that arrive batch by batch, in fixed memory
    whatever the number of rows.

    Notes
    -----
    Kept in float64: the row count ``n``, the sums of ``|y - p|`` and ``(y - p)^2``, the mean
    of ``y`` and its sum of squared deviations ``M2``, merged batch by batch as Chan, Golub
    and LeVeque (1979) combine two sets: with ``d`` the difference of their means,
    ``M2 = M2_a + M2_b + d^2 n_a n_b / (n_a + n_b)``. Then ``MAE = sum |y - p| / n``,
    ``RMSE = sqrt(sum (y - p)^2 / n)`` and ``R2 = 1 - sum (y - p)^2 / M2`` (NaN for a
    constant ``y``), equal to :func:`regression_scores` of all the rows up to rounding.
    """

    def __init__(self):
        self.rows, self.abs_sum, self.sq_sum, self.mean, self.m2 = 0, 0.0, 0.0, 0.0, 0.0
        self.low, self.high = xp.inf, -xp.inf

    def add(self, y_true, y_pred):
        """Add the rows of ``y_true`` and ``y_pred``, arrays of shape (batch,)."""
        y_true = xp.asarray(y_true, dtype=xp.float64)
        error = y_true - xp.asarray(y_pred, dtype=xp.float64)
        n = len(y_true)
        if not n:
            return
        mean = float(y_true.mean())
        m2 = float(((y_true - mean) ** 2).sum())
        total = self.rows + n
        delta = mean - self.mean
        self.m2 += m2 + delta * delta * self.rows * n / total
        self.mean += delta * n / total
        self.rows = total
        self.abs_sum += float(xp.abs(error).sum())
        self.sq_sum += float((error * error).sum())
        self.low, self.high = min(self.low, float(y_true.min())), max(self.high,
                                                                      float(y_true.max()))

    def scores(self):
        """``{"mae", "rmse", "r2"}`` of every row added."""
        n = max(self.rows, 1)
        constant = self.rows == 0 or self.low == self.high
        return {"mae": self.abs_sum / n, "rmse": float(xp.sqrt(self.sq_sum / n)),
                "r2": float("nan") if constant else 1.0 - self.sq_sum / self.m2}


def ranking_scores(positive, scores):
    """ROC AUC and average precision of ``scores`` for the ``positive`` rows, by scikit-learn.

    Parameters
    ----------
    positive : boolean array of shape (n_samples,)
    scores : array of shape (n_samples,)
        Higher for rows more likely positive (a class probability, a reconstruction error).

    Returns
    -------
    dict
        ``{"roc_auc", "avg_prec"}`` as floats, both NaN unless both kinds of rows occur.
    """
    from sklearn.metrics import average_precision_score
    positive = xp.asarray(positive, dtype=bool)
    area = _binary_auc(positive, scores)
    if area is None:
        return {"roc_auc": float("nan"), "avg_prec": float("nan")}
    return {"roc_auc": area, "avg_prec": float(average_precision_score(positive, scores))}


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
