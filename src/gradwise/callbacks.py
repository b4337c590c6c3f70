"""Callbacks called at the seams of the training loop.

A callback overrides any of ``on_train_begin(logs)``, ``on_epoch_begin(epoch, logs)``,
``on_batch_begin(batch, logs)``, ``on_batch_end(batch, logs)``, ``on_epoch_end(epoch, logs)``,
``on_train_end(logs)``. ``logs`` at the end of an epoch maps ``"loss"``, each metric and their
``val_`` twins to floats. A callback stops training by setting ``self.model.stop_training``.
"""
import math
import sys
import time
import warnings

import numpy as np

from ._registry import resolve


class Callback:
    """Base class: every hook does nothing."""

    def __init__(self):
        self.model = None

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class History(Callback):
    """Records the epoch logs: ``history.history["loss"]`` is the list of epoch losses."""

    def on_train_begin(self, logs=None):
        self.epoch, self.history = [], {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class ProgbarLogger(Callback):
    """Progress display: ``verbose=1`` a bar per epoch (on a terminal), ``2`` one line per epoch."""

    def __init__(self, verbose=1, epochs=1, steps=None, stream=None):
        super().__init__()
        self.verbose, self.epochs, self.steps = verbose, epochs, steps
        self.stream = stream or sys.stdout

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._epoch = time.perf_counter(), epoch

    def on_batch_end(self, batch, logs=None):
        if self.verbose != 1 or not self.steps or not self.stream.isatty():
            return
        done = int(30 * (batch + 1) / self.steps)
        self.stream.write(f"\rEpoch {self._epoch + 1}/{self.epochs} [{'=' * done}{'.' * (30 - done)}] "
                          f"{batch + 1}/{self.steps} - loss: {logs['loss']:.4f}")
        self.stream.flush()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._start
        values = " - ".join(f"{k}: {v:.4f}" for k, v in (logs or {}).items())
        prefix = "\r" if self.verbose == 1 and self.stream.isatty() else ""
        self.stream.write(f"{prefix}Epoch {epoch + 1}/{self.epochs} - {seconds:.2f}s - {values}\n")
        self.stream.flush()


class CallbackList:
    """Calls each hook on every callback, History first (it is what ``fit`` returns)."""

    def __init__(self, callbacks, model, verbose=0, epochs=1, steps=None):
        callbacks = list(callbacks or [])
        for callback in callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks: expected Callback instances, received "
                                f"{type(callback).__name__}.")
        model.history = History()
        self.callbacks = [model.history] + callbacks
        if verbose:
            self.callbacks.append(ProgbarLogger(verbose, epochs, steps))
        for callback in self.callbacks:
            callback.set_model(model)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args):
            for callback in self.callbacks:
                getattr(callback, hook)(*args)
        return call


def _monitor_mode(monitor, mode):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"Expected mode 'auto', 'min' or 'max', received mode={mode!r}")
    if mode == "auto":
        mode = "max" if any(k in monitor for k in ("acc", "auc", "r2", "f1", "precision", "recall")) else "min"
    return mode


class MonitorMixin:
    """Tracks the best value of ``monitor`` with ``min_delta`` (shared by early stopping and
    learning-rate reduction)."""

    def _init_monitor(self, monitor, mode, min_delta):
        self.monitor, self.min_delta = monitor, abs(float(min_delta))
        self.mode = _monitor_mode(monitor, mode)
        self.best = math.inf if self.mode == "min" else -math.inf

    def _current(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"{type(self).__name__}: monitored value {self.monitor!r} is not in the "
                          f"logs (available: {sorted(logs or {})}).", RuntimeWarning, stacklevel=3)
        return value

    def _improved(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(MonitorMixin, Callback):
    """Stops training when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Parameters
    ----------
    monitor : str, default "val_loss"
    min_delta : float, default 0
        Smallest change counted as an improvement.
    patience : int, default 0
        Epochs without improvement before stopping.
    mode : {"auto", "min", "max"}
    restore_best_weights : bool, default False
        At the end of training, put back the weights (and batch-norm statistics) of the best epoch.
    start_from_epoch : int, default 0
        Epochs of warm-up before improvement is tracked.
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto",
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"Expected a non-negative integer, received patience={patience!r}")
        self._init_monitor(monitor, mode, min_delta)
        self.patience, self.restore_best_weights = patience, restore_best_weights
        self.start_from_epoch = start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch, self.best_weights = 0, None, None, None
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        value = self._current(logs)
        if value is None or epoch < self.start_from_epoch:
            return
        if math.isfinite(value) and self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights(include_state=True)
            return
        self.wait += 1
        if self.wait >= self.patience or not math.isfinite(value):
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.model.stop_training and self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights, include_state=True)

    def get_config(self):
        return {"monitor": self.monitor, "min_delta": self.min_delta, "patience": self.patience,
                "mode": self.mode, "restore_best_weights": self.restore_best_weights,
                "start_from_epoch": self.start_from_epoch}


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch loss is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"Batch {batch}: invalid loss {loss}, terminating training")
            self.model.stop_training = True


_REGISTRY = {cls.__name__: cls for cls in (History, EarlyStopping, TerminateOnNaN, ProgbarLogger)}


def get(identifier):
    return resolve(identifier, _REGISTRY, "callback", "callbacks", accept=(Callback,))


def serialize(callback):
    return {"class_name": type(callback).__name__, "config": callback.get_config()}
