"""The training loop's pieces: the epoch loop shared by ``Sequential.fit`` and
``data.fit_batches``, batching, class weights, validation splits and running averages."""
import math

import numpy as np

from ._validation import check_fraction, check_same_length


def class_indices(y):
    """Class index per sample of prepared targets: argmax of one-hot rows, or the 0/1 label."""
    return y.argmax(axis=1) if y.shape[1] > 1 else np.rint(y[:, 0]).astype(int)


def apply_class_weight(class_weight, y, sample_weight):
    """Multiply per-sample weights by ``class_weight[class of the sample]``.

    Classes missing from ``class_weight`` keep weight 1; keys that are not classes of the
    loss raise ``ValueError``. ``"balanced"`` weights each class present in ``y`` by
    ``n_samples / (n_classes present * count)`` (scikit-learn's rule), so every class carries
    the same total weight.
    """
    if class_weight is None:
        return sample_weight
    n_classes = max(y.shape[1], 2)
    if isinstance(class_weight, str) and class_weight == "balanced":
        counts = np.bincount(class_indices(y), minlength=n_classes)
        present = np.flatnonzero(counts)
        class_weight = {int(c): len(y) / (len(present) * counts[c]) for c in present}
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight: expected a dict {{class index: weight}} or "
                        f"'balanced', received {class_weight!r}.")
    table = np.ones(n_classes)
    for key, weight in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or not 0 <= key < n_classes:
            raise ValueError(f"class_weight: expected integer class indices in [0, {n_classes}), "
                             f"received key {key!r}.")
        if not (np.isfinite(weight) and weight >= 0):
            raise ValueError(f"class_weight: expected non-negative finite weights, received "
                             f"{weight!r} for class {key}.")
        table[key] = weight
    weights = table[class_indices(y)]
    return weights if sample_weight is None else weights * sample_weight


def split_validation(X, y, sample_weight, validation_split):
    """Hold out the last ``validation_split`` fraction (before any shuffling, as Keras)."""
    validation_split = check_fraction(validation_split, "validation_split")
    n_val = int(round(len(X) * validation_split))
    if validation_split and (n_val == 0 or n_val == len(X)):
        raise ValueError(f"validation_split={validation_split} leaves an empty training or "
                         f"validation set for {len(X)} samples.")
    if n_val == 0:
        return (X, y, sample_weight), None
    cut = len(X) - n_val
    sw_train, sw_val = (None, None) if sample_weight is None else (sample_weight[:cut], sample_weight[cut:])
    return (X[:cut], y[:cut], sw_train), (X[cut:], y[cut:], sw_val)


def unpack_validation_data(validation_data):
    """``(X, y)`` or ``(X, y, sample_weight)``."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError("validation_data: expected a tuple (X_val, y_val) or "
                         "(X_val, y_val, sample_weight_val).")
    X, y = validation_data[0], validation_data[1]
    sw = validation_data[2] if len(validation_data) == 3 else None
    check_same_length(X, y, "validation_data X", "validation_data y")
    return X, y, sw


def iterate_batches(n_samples, batch_size):
    """Yield ``(batch_index, slice)`` over ``n_samples``; ``batch_size=None`` is one batch."""
    size = n_samples if batch_size is None else batch_size
    for index, start in enumerate(range(0, n_samples, size)):
        yield index, slice(start, min(start + size, n_samples))


class RunningMean:
    """Sample-weighted running means of batch logs, as an epoch's reported values."""

    def __init__(self):
        self.totals, self.count = {}, 0

    def add(self, logs, n):
        for key, value in logs.items():
            self.totals[key] = self.totals.get(key, 0.0) + float(value) * n
        self.count += n

    def result(self):
        return {key: total / self.count for key, total in self.totals.items()} if self.count else {}


def run_training(model, epoch_batches, epochs, callback_list, validation=None):
    """The epoch loop, with callbacks at its seams.

    Parameters
    ----------
    model : Sequential
        Compiled, built and packed, with its loss fused.
    epoch_batches : callable ``epoch -> iterable of (X, y, sample_weight)``
        Prepared batches (validated arrays of the model's dtype, targets as the loss wants).
    epochs : range
        The epoch numbers to run.
    validation : tuple (X, y, sample_weight) of prepared arrays, optional
        Evaluated at the end of each epoch into ``val_*`` logs.
    """
    model.stop_training = False
    callback_list.on_train_begin()
    for epoch in epochs:
        model.optimizer.epoch = epoch
        callback_list.on_epoch_begin(epoch)
        logs = run_epoch(model, epoch_batches(epoch), callback_list, epoch)
        if validation is not None and not model.stop_training:
            logs.update({f"val_{k}": v for k, v in model._evaluate_prepared(*validation).items()})
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end()
    return model.history


def run_epoch(model, batches, callback_list, epoch):
    """Train on each batch (augmented if the model has an augmenter); mean logs of the epoch."""
    running = RunningMean()
    for batch, (X, y, sample_weight) in enumerate(batches):
        callback_list.on_batch_begin(batch)
        if model._augment is not None:
            X, y = model._augment(X, y, model._shuffle_rng)
        loss, raw = model._train_step(X, y, sample_weight)
        logs = {"loss": loss, **model._metric_values(y, raw)}
        running.add(logs, len(X))
        callback_list.on_batch_end(batch, logs)
        if not math.isfinite(loss):
            model._stop_on_nonfinite(loss, epoch, batch)
        if model.stop_training:
            break
    if running.count == 0:
        raise ValueError(f"batches: no batch in epoch {epoch + 1}; pass a re-iterable source of "
                         "batches (e.g. MemmapBatches), not a one-shot generator.")
    return running.result()
