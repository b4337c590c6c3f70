"""A training run, written once for ``Sequential.fit``, ``train_on_batch``,
``data.fit_batches``, the learning-rate finder and tuning.

A run is a sequence of named steps, with the callbacks at the seams of the last one:

1. :func:`prepare`: the model is compiled; the inputs are checked and the model is built on
   them; the flat buffers are packed (again after layers were frozen or unfrozen); a final
   sigmoid/softmax is fused with its cross-entropy.
2. :func:`choose_compute_path`: the compiled kernels or their NumPy references, for this call
   alone, from the model's ``kernels`` setting and the size of the run (see
   :mod:`gradwise.backend.kernels`); :func:`compute_path` holds the choice for the call.
3. :func:`run_epochs`: ``on_train_begin``; per epoch ``on_epoch_begin``, the batches
   (:func:`train_epoch`: ``on_batch_begin``, one step, ``on_batch_end``), the validation
   scores, ``on_epoch_end``; ``on_train_end``. A callback stops the run by setting
   ``model.stop_training``; a loss that is not finite ends it with :class:`TrainingDiverged`.

:func:`train` runs steps 2 and 3. Around them: batching, class weights, validation splits and
running averages.
"""
import math

import numpy as np

from ._validation import check_fraction, check_same_length
from .backend import kernels as _kernels
from .callbacks.base import CallbackList


class TrainingDiverged(FloatingPointError):
    """The training loss became NaN or infinite, and training stopped.

    Raised by ``fit``, ``fit_batches`` and the estimators after the callbacks' ``on_train_end``
    ran: with ``EarlyStopping(restore_best_weights=True)`` the model then holds the weights
    of the best epoch; otherwise it holds those of the step that diverged.

    Attributes
    ----------
    loss : float
        The non-finite batch loss.
    epoch, batch : int
        Where it happened, counted from 0 (the message counts from 1).
    learning_rate : float or None
        The optimizer's learning rate at that step.
    restored_epoch : int or None
        The epoch (from 0) whose weights were restored, or None.
    history : History
        The epochs completed before the divergence (``history.history``).
    """

    def __init__(self, loss, epoch, batch, learning_rate=None, restored_epoch=None,
                 history=None):
        self.loss, self.epoch, self.batch = loss, epoch, batch
        self.learning_rate, self.restored_epoch, self.history = (learning_rate, restored_epoch,
                                                                 history)
        rate = "" if learning_rate is None else f" (learning_rate={learning_rate:g})"
        kept = ("the model holds the weights of that step" if restored_epoch is None else
                f"the weights of epoch {restored_epoch + 1}, the best, were restored")
        super().__init__(
            f"The training loss became {loss} at epoch {epoch + 1}, batch {batch + 1}: training "
            f"diverged and was stopped; {kept}. Likely causes: a learning rate too large{rate}: "
            "try one 10 times smaller, or clip gradients (clipnorm); or inputs not "
            "standardized: scale the features to mean 0 and variance 1 (gw.Standardizer, "
            "fitted on the training data).")


    def __reduce__(self):  # picklable (e.g. from a worker process), without the history
        return type(self), (self.loss, self.epoch, self.batch, self.learning_rate,
                            self.restored_epoch)


TrainingDiverged.__module__ = "gradwise"  # its public home: gw.TrainingDiverged


class _NonFiniteLoss(Exception):
    """Raised inside an epoch; :func:`run_epochs` turns it into :class:`TrainingDiverged`."""

    def __init__(self, loss, batch):
        super().__init__(loss, batch)
        self.loss, self.batch = loss, batch


# -- step 1: preparation --------------------------------------------------------------------
def prepare(model, X=None, y=None, sample_weight=None, names=("X", "y", "sample_weight")):
    """Make ``model`` ready to train; returns the prepared ``(X, y, sample_weight)``.

    The model must be compiled; ``X`` (and ``y``, ``sample_weight``) are checked and converted
    to the model's dtype, the targets to what the loss expects, and an unbuilt model is built
    for ``X``'s width. Then the buffers are packed and the output fused with the loss. With
    ``X`` None (an already built model) only those last steps run.
    """
    model._check_compiled()
    prepared = None if X is None else model._prepare(X, y, sample_weight, names)
    model._ensure_packed()
    model._configure_fusion()
    return prepared


def prepare_validation(model, validation_data):
    """``(X_val, y_val[, sample_weight_val])`` checked and converted as the training data."""
    X, y, sample_weight = unpack_validation_data(validation_data)
    return model._prepare(X, y, sample_weight, ("validation_data X", "validation_data y",
                                                "validation_data sample_weight"))


# -- step 2: the compute path ---------------------------------------------------------------
def expected_saving(model, steps, batch_size):
    """Seconds ``steps`` training steps of ``batch_size`` rows are expected to save with the
    compiled kernels (:func:`gradwise.backend.kernels.step_saving`)."""
    return steps * _kernels.step_saving(model.params_buffer.size, batch_size, model._total_units)


def choose_compute_path(model, steps, batch_size):
    """True when this call runs the compiled kernels: the model's ``kernels`` setting (else
    ``GRADWISE_KERNELS``) and, in ``auto``, this call's own size decide, nothing else."""
    return _kernels.choose(getattr(model, "kernels", None),
                           expected_saving(model, steps, batch_size))


class compute_path:  # noqa: N801 (used as a function: ``with compute_path(model, True):``)
    """Have the model's layers, losses and optimizer run the compiled kernels (or the NumPy
    references) for the duration of a ``with`` block; the references afterwards.

    A class rather than a generator, as ``train_on_batch`` enters it at every step.
    """

    def __init__(self, model, use_compiled):
        self.parts = (*model.layers, model.loss, model._train_loss, model.optimizer)
        self.use_compiled = use_compiled

    def __enter__(self):
        for part in self.parts:
            part._use_compiled = self.use_compiled

    def __exit__(self, *exception):
        for part in self.parts:
            part._use_compiled = False


# -- step 3: the epochs ---------------------------------------------------------------------
def train(model, epoch_batches, epochs, steps, batch_size, callbacks=None, verbose=0,
          validation=None):
    """Steps 2 and 3 of a run on a prepared model; returns the ``History``.

    Parameters
    ----------
    model : Sequential
        Prepared by :func:`prepare`.
    epoch_batches : callable ``epoch -> iterable of (X, y, sample_weight)``
        Prepared batches (validated arrays of the model's dtype, targets as the loss wants).
    epochs : range
        The epoch numbers to run (``epochs.stop`` is the total shown by the progress display).
    steps : int or None
        Batches per epoch, when known.
    batch_size : int
        Rows per batch (for the choice of compute path).
    validation : tuple (X, y, sample_weight) of prepared arrays, optional
        Evaluated at the end of each epoch into ``val_*`` logs.
    """
    callback_list = CallbackList(callbacks, model, verbose, epochs.stop, steps)
    use_compiled = choose_compute_path(model, len(epochs) * (steps or 1), batch_size)
    with compute_path(model, use_compiled):
        return run_epochs(model, epoch_batches, epochs, callback_list, validation)


def run_epochs(model, epoch_batches, epochs, callback_list, validation=None):
    """The epoch loop, with callbacks at its seams (see :func:`train` for the arguments).

    Raises
    ------
    TrainingDiverged
        When a batch loss is NaN or infinite, after ``on_train_end`` (the epoch is not
        completed: it gets no ``on_epoch_end`` and no entry in the history).
    """
    model.stop_training = False
    callback_list.on_train_begin()
    for epoch in epochs:
        model.optimizer.epoch = epoch
        callback_list.on_epoch_begin(epoch)
        try:
            logs = train_epoch(model, epoch_batches(epoch), callback_list, epoch)
        except _NonFiniteLoss as stop:
            model.stop_training = True
            callback_list.on_train_end()
            raise TrainingDiverged(stop.loss, epoch, stop.batch,
                                   model.optimizer.current_learning_rate,
                                   _restored_epoch(callback_list), model.history) from None
        if validation is not None and not model.stop_training:
            logs.update({f"val_{k}": v for k, v in model._evaluate_prepared(*validation).items()})
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end()
    return model.history


def train_epoch(model, batches, callback_list, epoch):
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
            raise _NonFiniteLoss(loss, batch)
        if model.stop_training:
            break
    if running.count == 0:
        raise ValueError(f"batches: no batch in epoch {epoch + 1}; pass a re-iterable source of "
                         "batches (e.g. MemmapBatches), not a one-shot generator.")
    return running.result()


def _restored_epoch(callback_list):
    """The epoch whose weights a callback restored at the end of training, if any."""
    for callback in callback_list.callbacks:
        if getattr(callback, "restore_best_weights", False) and getattr(
                callback, "best_weights", None) is not None:
            return callback.best_epoch
    return None


def class_indices(y):
    """Class index per sample of prepared targets: argmax of one-hot rows, or the 0/1 label."""
    return y.argmax(axis=1) if y.shape[1] > 1 else np.rint(y[:, 0]).astype(int)


def balanced_class_weights(counts):
    """``{class index: n_samples / (n_classes present * count)}`` for the classes of
    ``counts`` (rows per class) present: scikit-learn's "balanced" rule, every class carrying
    the same total weight."""
    counts = np.asarray(counts)
    present = np.flatnonzero(counts)
    return {int(c): counts.sum() / (len(present) * counts[c]) for c in present}


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
        class_weight = balanced_class_weights(np.bincount(class_indices(y), minlength=n_classes))
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


