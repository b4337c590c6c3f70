"""Data practice: train/dev/test splits, standardization fitted on training data only, and
mini-batches, including batches streamed from a memory-mapped ``.npy`` file larger than memory.

Examples
--------
>>> import numpy as np, gradwise as gw
>>> X, y = np.arange(40.0).reshape(20, 2), np.repeat([0, 1], 10)
>>> X_tr, X_dev, X_te, y_tr, y_dev, y_te = gw.train_dev_test_split(X, y, (0.6, 0.2, 0.2), seed=0)
>>> len(X_tr), len(X_dev), len(X_te)
(12, 4, 4)
>>> scaler = gw.Standardizer().fit(X_tr)
>>> X_dev = scaler.transform(X_dev)
"""
import math
import numbers

import numpy as np

from ._training import apply_class_weight, prepare, prepare_validation, train
from ._validation import check_positive_int
from .layers.normalization import standard_moments

__all__ = ["train_dev_test_split", "split_indices", "Standardizer", "iterate_minibatches",
           "MemmapBatches", "batches_from_memmap", "batches_from_table", "fit_batches"]

_SPLITS = ("train", "dev", "test")


# -- splitting -------------------------------------------------------------------------------
def _check_ratios(ratios):
    try:
        values = [float(r) for r in ratios]
    except TypeError:
        raise TypeError(f"ratios: expected 3 numbers (train, dev, test), received {ratios!r}") from None
    if (len(values) != 3 or not all(math.isfinite(v) for v in values)
            or not (values[0] > 0 and values[1] > 0 and values[2] >= 0)):
        raise ValueError("ratios: expected 3 numbers (train, dev, test), train and dev positive "
                         f"and test positive or 0, received {ratios!r}")
    if abs(sum(values) - 1.0) > 1e-9:
        raise ValueError(f"ratios: expected numbers summing to 1, received {ratios!r} "
                         f"(sum {sum(values):.12g})")
    return values


def _class_labels(y):
    """Class label per sample for classification targets, or None for regression targets."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot (or probability) rows
        return y.argmax(axis=1)
    if y.dtype.kind in "biu" and (y.ndim == 1 or y.shape[1] == 1):
        return y.ravel()  # what type_of_target says of integers, without its pass over y
    from sklearn.utils.multiclass import type_of_target
    kind = type_of_target(y.ravel() if y.ndim == 2 else y)
    return y.ravel() if kind in ("binary", "multiclass") else None


def train_dev_test_split(X, y, ratios=(0.6, 0.2, 0.2), stratify=None, seed=None):
    """Split ``(X, y)`` into training, development (validation) and test sets.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
    y : array of shape (n_samples,) or (n_samples, n_outputs)
    ratios : tuple of 3 floats summing to 1, default (0.6, 0.2, 0.2)
        Fractions for train, dev and test: e.g. 60/20/20 for small data, 98/1/1 for large.
        Sizes are ``round(ratio * n)`` for dev and test; train takes the rest. Train and dev
        must be positive; test may be 0 (e.g. ``(0.8, 0.2, 0)``), a dev set without a test
        set, fine when no unbiased estimate of the final model is needed.
    stratify : bool or None, default None
        Keep the class proportions in every split. None means: stratify when ``y`` holds
        class labels (binary/multiclass labels or one-hot rows), not for continuous targets.
        When stratifying, every class must appear in every split.
    seed : int, numpy.random.Generator or None
        Seeds the shuffling (:func:`split_indices`).

    Returns
    -------
    X_train, X_dev, X_test, y_train, y_dev, y_test : arrays
        Rows in a random order.
        With a test ratio of 0, ``X_test`` and ``y_test`` are empty: shapes
        ``(0,) + X.shape[1:]`` and ``(0,) + y.shape[1:]``, dtypes of ``X`` and ``y``.

    Raises
    ------
    ValueError
        ``ratios`` not 3 numbers summing to 1 (within 1e-9) with positive train and dev and a
        non-negative test, a train or dev split with no sample (or a test split with none when
        its ratio is positive),
        or (when stratifying) a class left out of a split.
    """
    train_ratio, dev_ratio, test_ratio = _check_ratios(ratios)
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X and y have different numbers of samples: {len(X)} and {len(y)}.")
    n = len(X)
    sizes = {"dev": round(dev_ratio * n), "test": round(test_ratio * n)}
    sizes["train"] = n - sizes["dev"] - sizes["test"]
    splits = _SPLITS if test_ratio > 0 else _SPLITS[:2]
    for split in splits:
        if sizes[split] <= 0:
            raise ValueError(f"ratios={tuple(ratios)!r} leave the {split} split with "
                             f"{sizes[split]} samples out of {n}; use more data or larger ratios.")
    labels = _class_labels(y)
    if stratify is None:
        stratify = labels is not None
    elif stratify and labels is None:
        raise ValueError("stratify=True needs class labels in y; received continuous targets.")
    parts = [sizes[split] for split in _SPLITS]
    if stratify:
        classes, codes = _class_codes(labels)
        counts = np.bincount(codes, minlength=len(classes))
        _check_stratifiable(classes, counts, sizes, splits)
        taken = _stratified_counts(counts, parts)
        for split, row in zip(splits, taken):
            if not row.all():
                raise ValueError(f"The {split} split would have no sample of class "
                                 f"{classes[np.argmin(row)].item()!r}; use more data or larger "
                                 f"ratios={tuple(ratios)!r}.")
        train_idx, dev_idx, test_idx = _partition(n, codes, taken, seed)
    else:
        train_idx, dev_idx, test_idx = _partition(n, None, parts, seed)
    return X[train_idx], X[dev_idx], X[test_idx], y[train_idx], y[dev_idx], y[test_idx]


def split_indices(n_samples, sizes, labels=None, seed=None):
    """Row indices of parts of the given sizes: a seeded random partition of
    ``range(n_samples)``, stratified by ``labels`` when given.

    Parameters
    ----------
    n_samples : int
    sizes : sequence of ints >= 0 summing to ``n_samples``
        Rows per part, e.g. ``[train, dev, test]``.
    labels : array of shape (n_samples,) or None
        Class of each row. Each part then takes from each class about its own share of the
        rows: part ``p`` of size ``s_p`` out of ``R`` rows not yet given takes
        ``r_c * s_p / R`` of the ``r_c`` rows of class ``c`` left, rounded down, and the rows
        still missing go to the classes with the largest remainders (ties: the smaller class
        index); the parts are filled last to first, so the first part takes every row left.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    list of int arrays, one per part, each in a random order

    Notes
    -----
    The same computation as scikit-learn's ``StratifiedShuffleSplit`` (a random order within
    each class, per-class counts by largest remainder), written with NumPy alone: scikit-learn's
    builds its index lists one Python integer per row, which at 10 million rows took 10.4 s
    and 782 MB for one split; this takes a permutation, a stable sort and a few passes.
    """
    sizes = [int(size) for size in sizes]
    if any(size < 0 for size in sizes) or sum(sizes) != n_samples:
        raise ValueError(f"sizes: expected counts >= 0 summing to n_samples={n_samples}, "
                         f"received {sizes}.")
    if labels is None:
        return _partition(n_samples, None, sizes, seed)
    labels = np.asarray(labels)
    if labels.shape != (n_samples,):
        raise ValueError(f"labels: expected shape ({n_samples},), received {labels.shape}.")
    codes = _class_codes(labels)[1]
    return _partition(n_samples, codes, _stratified_counts(np.bincount(codes), sizes), seed)


def _class_codes(labels):
    """``(classes, codes)``: the sorted distinct labels, and each row's index among them, in
    the smallest unsigned integer type that holds it (so that grouping rows by class is a
    radix sort). Small integer labels are counted rather than sorted."""
    if labels.dtype.kind in "biu" and labels.size:
        low = labels.min()
        span = int(labels.max()) - int(low)
        if span < 1 << 16:
            shifted = labels.astype(np.intp) - int(low)
            present = np.bincount(shifted.reshape(-1), minlength=span + 1) > 0
            classes = np.arange(int(low), int(low) + span + 1)[present].astype(labels.dtype)
            codes = (np.cumsum(present) - 1)[shifted]
        else:
            classes = np.unique(labels)
            codes = np.searchsorted(classes, labels)
    else:
        classes, codes = np.unique(labels, return_inverse=True)
    dtype = (np.uint8 if len(classes) <= 1 << 8 else np.uint16 if len(classes) <= 1 << 16
             else np.intp)
    return classes, codes.reshape(-1).astype(dtype)


def _stratified_counts(counts, sizes):
    """Rows of each class per part, shape (parts, classes): each part but the first takes
    from the rows left of each class its share by :func:`_largest_remainder`, filled last to
    first; the first part takes every row left."""
    left = np.asarray(counts, dtype=np.int64).copy()
    taken = np.zeros((len(sizes), len(left)), dtype=np.int64)
    for part in range(len(sizes) - 1, 0, -1):
        taken[part] = _largest_remainder(left, sizes[part])
        left -= taken[part]
    taken[0] = left
    return taken


def _largest_remainder(counts, total):
    """Integers summing to ``total``, in proportion to ``counts`` (Hamilton's method): each
    ``counts * total / counts.sum()`` rounded down, plus one for the largest remainders
    (ties: the smaller index)."""
    if total == 0:
        return np.zeros_like(counts)
    exact = counts * total / counts.sum()
    given = np.floor(exact).astype(np.int64)
    missing = total - int(given.sum())
    given[np.argsort(-(exact - given), kind="stable")[:missing]] += 1
    return given


def _partition(n_samples, codes, taken, seed):
    """The index arrays of :func:`split_indices`: ``taken`` is the rows per part, or with
    ``codes`` the rows per part and class (:func:`_stratified_counts`)."""
    order = _generator(seed, "seed").permutation(n_samples)
    if codes is None:
        return np.split(order, np.cumsum(taken)[:-1])
    # the rows grouped by class, each class in the random order; of class c, the first
    # taken[0, c] go to part 0, the next taken[1, c] to part 1, ...
    grouped = order[np.argsort(codes[order], kind="stable")]
    parts, classes = taken.shape
    part_of = np.empty(n_samples, dtype=np.uint8 if parts <= 256 else np.intp)
    part_of[grouped] = np.repeat(np.tile(np.arange(parts, dtype=part_of.dtype), classes),
                                 taken.T.ravel())
    part_of = part_of[order]
    return [order[part_of == part] for part in range(parts)]


def _check_stratifiable(classes, counts, sizes, splits=_SPLITS):
    for cls, count in zip(classes, counts):
        if count < len(splits):
            raise ValueError(f"Class {cls.item()!r} has {count} sample(s): a stratified "
                             f"{'/'.join(splits)} split needs at least {len(splits)}, one per split.")
    for split in splits:
        if sizes[split] < len(classes):
            raise ValueError(f"The {split} split would hold {sizes[split]} samples, fewer than the "
                             f"{len(classes)} classes: a class would be left empty.")


# -- standardization -------------------------------------------------------------------------
class Standardizer:
    """Standardize features to zero mean and unit variance, with statistics of the training set.

    Parameters
    ----------
    with_mean, with_std : bool, default True

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
    scale_ : ndarray of shape (n_features,)
        Population standard deviation (``ddof=0``, as scikit-learn's ``StandardScaler``);
        columns of (near) zero variance get 1, so they are centred but never divided by zero.
    n_features_in_ : int

    Notes
    -----
    ``transform(X) = (X - mean_) / scale_``. Fit on the training split only and apply the
    same transform unchanged to dev and test data.
    """

    def __init__(self, with_mean=True, with_std=True):
        self.with_mean, self.with_std = bool(with_mean), bool(with_std)

    def fit(self, X):
        """Compute ``mean_`` and ``scale_`` from ``X`` of shape (n_samples, n_features)."""
        X = self._check(X, "X", fitting=True)
        self.n_features_in_ = X.shape[1]
        self.mean_, self.scale_ = standard_moments(X, self.with_mean, self.with_std)
        return self

    def transform(self, X):
        """``(X - mean_) / scale_``, shape (n_samples, n_features), float64."""
        X = self._check(X, "X")
        return (X - self.mean_) / self.scale_

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def inverse_transform(self, X):
        """``X * scale_ + mean_``: undoes :meth:`transform`."""
        X = self._check(X, "X")
        return X * self.scale_ + self.mean_

    def _check(self, X, argument, fitting=False):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] == 0:
            raise ValueError(f"{argument}: expected a 2-D array (n_samples, n_features), "
                             f"received shape {X.shape}.")
        if not np.isfinite(X).all():
            raise ValueError(f"{argument}: contains NaN or infinity.")
        if not fitting:
            if not hasattr(self, "mean_"):
                raise RuntimeError("This Standardizer is not fitted: call fit(X_train) first.")
            if X.shape[1] != self.n_features_in_:
                raise ValueError(f"{argument}: expected {self.n_features_in_} features (columns), "
                                 f"received {X.shape[1]}.")
        return X

    def get_config(self):
        return {"with_mean": self.with_mean, "with_std": self.with_std}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def to_arrays(self):
        """The fitted statistics ``{"mean": (n_features,), "scale": (n_features,)}``."""
        if not hasattr(self, "mean_"):
            raise RuntimeError("This Standardizer is not fitted: call fit(X_train) first.")
        return {"mean": self.mean_.copy(), "scale": self.scale_.copy()}

    @classmethod
    def from_arrays(cls, arrays, config=None):
        """A fitted Standardizer from :meth:`to_arrays` output (and :meth:`get_config`)."""
        mean = np.asarray(arrays["mean"], dtype=np.float64)
        scale = np.asarray(arrays["scale"], dtype=np.float64)
        if mean.ndim != 1 or mean.shape != scale.shape:
            raise ValueError(f"arrays: expected 'mean' and 'scale' of one shape (n_features,), "
                             f"received {mean.shape} and {scale.shape}.")
        if not (np.isfinite(scale).all() and (scale > 0).all()):
            raise ValueError("arrays: 'scale' must hold finite positive numbers.")
        scaler = cls(**(config or {}))
        scaler.mean_, scaler.scale_, scaler.n_features_in_ = mean, scale, mean.shape[0]
        return scaler


# -- mini-batches ----------------------------------------------------------------------------
def _generator(rng, argument="rng"):
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, numbers.Integral):
        return np.random.default_rng(rng)
    raise TypeError(f"{argument}: expected a numpy.random.Generator, an int seed or None, "
                    f"received {rng!r}.")


def iterate_minibatches(X, y=None, batch_size=32, shuffle=True, rng=None):
    """Yield ``(X_batch, y_batch)`` pairs covering ``X`` once.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
    y : array of shape (n_samples, ...) or None
        When None the batches are ``(X_batch, None)``.
    batch_size : int
        The last batch may be smaller.
    shuffle : bool, default True
        Visit the samples in a random order drawn from ``rng``.
    rng : numpy.random.Generator, int or None

    Yields
    ------
    X_batch : array of shape (<= batch_size, n_features)
    y_batch : array of shape (<= batch_size, ...) or None
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    n = len(X)
    if y is not None and len(y) != n:
        raise ValueError(f"X and y have different numbers of samples: {n} and {len(y)}.")
    order = _generator(rng).permutation(n) if shuffle else None
    for start in range(0, n, batch_size):
        rows = slice(start, min(start + batch_size, n)) if order is None else order[start:start + batch_size]
        yield X[rows], (None if y is None else y[rows])


class MemmapBatches:
    """Re-iterable mini-batches read chunk by chunk from memory-mapped arrays.

    Only one chunk of ``chunk_size`` rows is in memory at a time: each chunk is a contiguous
    slice ``source[start:stop]`` copied out of the memory map, shuffled within itself (and the
    chunk order shuffled) when ``shuffle`` is set, then cut into batches. Each ``iter()`` is one
    pass (one epoch), so the object can be given to :func:`fit_batches` for many epochs.

    Parameters
    ----------
    X : path to a ``.npy`` file, or array-like of shape (n_samples, n_features)
        A path is opened with ``numpy.load(path, mmap_mode="r")``; any object with ``shape``
        and slicing (a ``numpy.memmap``) is read by slices.
    y : path, array-like of shape (n_samples, ...) or None
    batch_size : int, default 32
    chunk_size : int, default 65536
        Rows read per chunk (rounded up to a multiple of ``batch_size`` so batches stay full).
    shuffle : bool, default False
        Approximate shuffling: chunk order and rows within a chunk.
    rng : numpy.random.Generator, int or None
    dtype : numpy dtype or None
        Convert each chunk (e.g. to float32); None keeps the stored dtype.
    """

    def __init__(self, X, y=None, batch_size=32, chunk_size=65536, shuffle=False, rng=None,
                 dtype=None):
        self.X, self.y = _open(X, "X"), (None if y is None else _open(y, "y"))
        if len(self.X.shape) < 1 or self.X.shape[0] == 0:
            raise ValueError(f"X: expected at least one sample, received shape {self.X.shape}.")
        if self.y is not None and self.y.shape[0] != self.X.shape[0]:
            raise ValueError(f"X and y have different numbers of samples: {self.X.shape[0]} "
                             f"and {self.y.shape[0]}.")
        self.batch_size = check_positive_int(batch_size, "batch_size")
        chunk_size = check_positive_int(chunk_size, "chunk_size")
        self.chunk_size = -(-chunk_size // self.batch_size) * self.batch_size
        self.shuffle, self.rng, self.dtype = bool(shuffle), _generator(rng), dtype

    def __len__(self):
        """Number of batches per pass."""
        n, c = self.X.shape[0], self.chunk_size
        full, last = divmod(n, c)
        return full * (c // self.batch_size) + math.ceil(last / self.batch_size)

    def chunks(self):
        """Yield ``(X_chunk, y_chunk)`` in memory, one slice of the memory map at a time."""
        n = self.X.shape[0]
        starts = np.arange(0, n, self.chunk_size)
        if self.shuffle:
            starts = self.rng.permutation(starts)
        for start in starts:
            rows = slice(int(start), int(min(start + self.chunk_size, n)))
            X = np.array(self.X[rows], dtype=self.dtype)
            y = None if self.y is None else np.array(self.y[rows])
            yield X, y

    def __iter__(self):
        for X, y in self.chunks():
            yield from iterate_minibatches(X, y, self.batch_size, self.shuffle, self.rng)


def _open(source, argument):
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        return np.load(source, mmap_mode="r", allow_pickle=False)
    if not hasattr(source, "shape") or not hasattr(source, "__getitem__"):
        raise TypeError(f"{argument}: expected a .npy path or an array / numpy.memmap, "
                        f"received {type(source).__name__}.")
    return source


def batches_from_memmap(path_or_array, y=None, batch_size=32, chunk_size=65536, shuffle=False,
                        rng=None, dtype=None):
    """Mini-batches streamed from a memory-mapped ``.npy`` file; see :class:`MemmapBatches`."""
    return MemmapBatches(path_or_array, y, batch_size, chunk_size, shuffle, rng, dtype)


def batches_from_table(path, target, split="train", batch_size=32, buffer_rows=262144,
                       shuffle=True, seed=0, impute=False, drop=(), embed_threshold=None,
                       stats=None):
    """Encoded mini-batches of one split of a table too large for memory: a Parquet file, a
    folder of Parquet files (``pyarrow.dataset``'s layout) or a CSV file, for
    :func:`fit_batches`.

    A first pass collects the statistics (the column encoding, the training rows' feature
    moments, the target's classes; :func:`gradwise.tabular.stream.scan`), unless ``stats`` is
    given; each iteration then reads the record batches, keeps the rows of ``split`` (a seeded
    hash of the row position decides, so the splits never overlap or move), encodes them as
    float32 and shuffles them within ``buffer_rows``. Memory holds one record batch and the
    buffer, whatever the table's length.

    Parameters
    ----------
    path : str or path-like
    target : str
        The target column: class indices (in the order of ``stats.classes``) or, for a numeric
        target of many values, standardized numbers (``stats.y_mean``, ``stats.y_std``).
    split : {"train", "dev", "test"}
        60/20/20 of the rows.
    batch_size, buffer_rows : int
    shuffle : bool
    seed : int
        Seeds the split and the shuffle.
    impute : bool
        Fill missing numbers with the training rows' means (and add "is missing" features).
    drop : list of str
        Columns left out.
    embed_threshold : int or None
        Text columns with more levels than this are one integer code (for a
        ``layers.CategoryEmbedding``) instead of one-hot features.
    stats : Statistics, optional
        Of an earlier call (``batches.stats``), so that another split skips the first pass.

    Returns
    -------
    TableBatches
        Re-iterable; ``len()`` is the batches per pass; ``.stats`` holds ``spec``, ``mean``,
        ``scale`` (for a ``Normalization`` layer), ``classes``, ``counts``.

    Examples
    --------
    >>> train = gw.data.batches_from_table("sales/", "churned", batch_size=256)  # doctest: +SKIP
    >>> dev = gw.data.batches_from_table("sales/", "churned", "dev", stats=train.stats)  # doctest: +SKIP
    >>> gw.data.fit_batches(model, train, epochs=5)  # doctest: +SKIP
    """
    from .tabular.stream import TableBatches, scan
    if stats is None:
        stats = scan(path, target, seed=seed, impute=impute, drop=drop,
                     embed_threshold=embed_threshold)
    return TableBatches(stats, split, batch_size, buffer_rows, shuffle, seed)


# -- training on a stream of batches ---------------------------------------------------------
def fit_batches(model, batches, epochs=1, callbacks=None, validation_data=None, verbose=0,
                augment=None, class_weight=None):
    """Train a compiled model on an iterable of ``(X_batch, y_batch)`` batches.

    Use it when the data do not fit in memory (``model.fit`` takes arrays): each epoch
    iterates ``batches`` once, so pass a re-iterable such as :class:`MemmapBatches` (a one-shot
    generator allows one epoch only).

    Parameters
    ----------
    model : Sequential
        Compiled; built on the first batch if needed.
    batches : iterable of (X_batch, y_batch)
        ``X_batch`` of shape (batch, n_features); ``y_batch`` as ``model.fit`` accepts.
    epochs : int
    callbacks : list of Callback, optional
        Called with the same hooks and logs as in ``model.fit``.
    validation_data : tuple (X_val, y_val), optional
        Evaluated at each epoch end into ``val_*`` logs (in memory).
    augment : callable ``(X_batch, y_batch, rng) -> (X_batch, y_batch)``, optional
        Applied to each prepared training batch, as ``model.fit(augment=...)``.
    class_weight : dict {class index: weight}, optional
        Each training row's loss weighted by its class's weight, as ``model.fit``'s. Not
        ``"balanced"``, which needs the class counts of every batch: compute them (for
        example in one pass) and give ``n_rows / (n_classes * count)`` per class.

    Returns
    -------
    History
        ``history.history["loss"]`` holds the sample-weighted mean batch loss of each epoch.
    """
    epochs = check_positive_int(epochs, "epochs")
    if augment is not None and not callable(augment):
        raise TypeError(f"augment: expected a callable (X, y, rng) -> (X, y), received {augment!r}.")
    model._check_compiled()
    first = None
    if not model.built:  # build from the first batch so validation data can be checked
        first = next(iter(batches), None)
        if first is None:
            raise ValueError("batches: yielded no batch.")
    prepare(model, None if first is None else first[0])
    if class_weight is not None:  # checked before any training, on a row of each class
        if not isinstance(class_weight, dict):
            raise TypeError(f"class_weight: expected a dict {{class index: weight}} (the class "
                            f"counts of every batch are not known here), received "
                            f"{class_weight!r}.")
        rows = (np.eye(model.output_dim) if model.output_dim > 1
                else np.array([[0.0], [1.0]]))  # one-hot targets, or one 0/1 column
        apply_class_weight(class_weight, rows, None)
    validation = None if validation_data is None else prepare_validation(model, validation_data)
    model._augment = augment
    steps = len(batches) if hasattr(batches, "__len__") else None
    batch_size = getattr(batches, "batch_size", None) or (32 if first is None else len(first[0]))

    def prepared(epoch):
        for X, y in batches:
            X, y, _ = model._prepare(X, y)
            yield X, y, apply_class_weight(class_weight, y, None)

    return train(model, prepared, range(epochs), steps, batch_size, callbacks, verbose, validation)
