"""Callbacks called at the seams of the training loop.

A callback overrides any of ``on_train_begin(logs)``, ``on_epoch_begin(epoch, logs)``,
``on_batch_begin(batch, logs)``, ``on_batch_end(batch, logs)``, ``on_epoch_end(epoch, logs)``,
``on_train_end(logs)``. ``logs`` at the end of an epoch maps ``"loss"``, each metric and their
``val_`` twins to floats. A callback stops training by setting ``self.model.stop_training``.
"""
import csv
import inspect
import math
import os
import sys
import time
import warnings

import numpy as np

from ._registry import Configurable, resolve


class Callback(Configurable):
    """Base class: every hook does nothing."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        """``{"epochs": ..., "steps": ..., "verbose": ...}`` of the run (steps may be None)."""
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass


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
            callback.set_params({"epochs": epochs, "steps": steps, "verbose": verbose})

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


def _current_rate(model):
    return float(model.optimizer.current_learning_rate)


class ReduceLROnPlateau(MonitorMixin, Callback):
    """Multiplies the learning rate by ``factor`` when ``monitor`` stops improving.

    Parameters
    ----------
    monitor : str, default "val_loss"
    factor : float in (0, 1), default 0.1
        ``new_lr = max(lr * factor, min_lr)``.
    patience : int, default 10
        Epochs without improvement (outside cooldown) before a reduction.
    mode : {"auto", "min", "max"}
    min_delta : float, default 1e-4
        Smallest change counted as an improvement.
    cooldown : int, default 0
        After a reduction, the counter is set to ``cooldown`` and decremented at each epoch
        end; no wait is counted while it is above 0 (Keras' rule: with ``cooldown=2`` and
        ``patience=1`` the next reduction comes two epochs later).
    min_lr : float, default 0
        Lower bound on the rate.
    verbose : int, default 0

    Notes
    -----
    As Keras: the optimizer's ``learning_rate`` becomes a float; a schedule is replaced by
    its current value times ``factor``. ``self.reductions`` lists ``(epoch, new_lr)``.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0, verbose=0):
        super().__init__()
        if not (isinstance(factor, (int, float)) and 0.0 < factor < 1.0):
            raise ValueError(f"Expected a number in (0, 1), received factor={factor!r}")
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"Expected a non-negative integer, received {name}={value!r}")
        if not (isinstance(min_lr, (int, float)) and math.isfinite(min_lr) and min_lr >= 0):
            raise ValueError(f"Expected a non-negative number, received min_lr={min_lr!r}")
        self._init_monitor(monitor, mode, min_delta)
        self.factor, self.patience, self.cooldown = float(factor), patience, cooldown
        self.min_lr, self.verbose = float(min_lr), verbose

    def on_train_begin(self, logs=None):
        self.wait, self.cooldown_counter, self.reductions = 0, 0, []
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        value = self._current(logs)
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(value):
            self.best, self.wait = value, 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            old = _current_rate(self.model)
            if old > self.min_lr:
                new = max(old * self.factor, self.min_lr)
                self.model.optimizer.learning_rate = new
                self.reductions.append((epoch, new))
                if self.verbose:
                    print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new:.3g}.")
            self.cooldown_counter, self.wait = self.cooldown, 0

    def get_config(self):
        return {"monitor": self.monitor, "factor": self.factor, "patience": self.patience,
                "mode": self.mode, "min_delta": self.min_delta, "cooldown": self.cooldown,
                "min_lr": self.min_lr, "verbose": self.verbose}


class LearningRateScheduler(Callback):
    """Sets the learning rate at each epoch start to ``schedule(epoch, lr)``.

    Parameters
    ----------
    schedule : callable ``(epoch, lr) -> float``
        ``epoch`` counts from 0, ``lr`` is the current rate (a float). A callable of one
        argument is called as ``schedule(epoch)``.
    verbose : int, default 0

    Notes
    -----
    Not serializable (it holds a Python function): ``get_config`` raises ``TypeError``. For a
    serializable schedule, give the optimizer a :mod:`gradwise.schedules` object with
    ``by="epoch"``.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"schedule: expected a callable (epoch, lr) -> lr, received {schedule!r}.")
        self.schedule, self.verbose = schedule, verbose
        try:
            self._arity = len(inspect.signature(schedule).parameters)
        except (TypeError, ValueError):
            self._arity = 2

    def on_epoch_begin(self, epoch, logs=None):
        old = _current_rate(self.model)
        rate = self.schedule(epoch) if self._arity == 1 else self.schedule(epoch, old)
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating)) or not (
                math.isfinite(rate) and rate > 0):
            raise ValueError(f"schedule: expected a positive finite learning rate, received {rate!r} "
                             f"at epoch {epoch}.")
        self.model.optimizer.learning_rate = float(rate)
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {rate:.3g}.")

    def get_config(self):
        raise TypeError("LearningRateScheduler holds a Python function and cannot be serialized; "
                        "use an optimizer schedule from gradwise.schedules with by='epoch'.")


class ModelCheckpoint(MonitorMixin, Callback):
    """Saves the model at epoch ends (by default only when ``monitor`` improves).

    Parameters
    ----------
    filepath : str or path
        May hold format fields filled from ``epoch`` (1-based) and the logs, e.g.
        ``"ckpt-{epoch:02d}-{val_loss:.3f}.npz"``.
    monitor : str, default "val_loss"
    save_best_only : bool, default True
        Save only when ``monitor`` improves on the best value seen so far.
    mode : {"auto", "min", "max"}
    verbose : int, default 0

    Notes
    -----
    Files are written by :func:`gradwise.io.save_model`: into a temporary file of the same
    directory, then renamed over the target with ``os.replace``, so a crash never leaves a
    half-written checkpoint. ``self.saved`` lists ``(epoch, path)``.
    """

    def __init__(self, filepath, monitor="val_loss", save_best_only=True, mode="auto", verbose=0):
        super().__init__()
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"filepath: expected a str or path, received {filepath!r}.")
        self.filepath = os.fspath(filepath)
        self._init_monitor(monitor, mode, 0.0)
        self.save_best_only, self.verbose = bool(save_best_only), verbose

    def on_train_begin(self, logs=None):
        self.saved = []
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            value = self._current(logs)
            if value is None or not math.isfinite(value) or not self._improved(value):
                return
            self.best = value
        path = self.filepath.format(epoch=epoch + 1, **logs)
        from .io import save_model  # io imports callbacks' siblings; import late
        save_model(self.model, path)
        self.saved.append((epoch, path))
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved model to {path}.")

    def get_config(self):
        return {"filepath": self.filepath, "monitor": self.monitor,
                "save_best_only": self.save_best_only, "mode": self.mode, "verbose": self.verbose}


class CSVLogger(Callback):
    """Writes one CSV row per epoch: ``epoch`` then the logs (keys of the first epoch, sorted).

    Parameters
    ----------
    filename : str or path
    separator : str, default ","
    append : bool, default False
        Append to an existing file (no second header) instead of overwriting it.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(f"filename: expected a str or path, received {filename!r}.")
        self.filename, self.separator, self.append = os.fspath(filename), separator, bool(append)
        self._file = None

    def on_train_begin(self, logs=None):
        has_rows = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._writer, self.keys, self._header_done = None, None, has_rows

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            self._writer = csv.writer(self._file, delimiter=self.separator)
            if not self._header_done:
                self._writer.writerow(["epoch"] + self.keys)
        self._writer.writerow([epoch] + [logs.get(k, "NA") for k in self.keys])
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None

    def get_config(self):
        return {"filename": self.filename, "separator": self.separator, "append": self.append}


_REGISTRY = {cls.__name__: cls for cls in (History, EarlyStopping, TerminateOnNaN, ProgbarLogger,
                                           ReduceLROnPlateau, LearningRateScheduler,
                                           ModelCheckpoint, CSVLogger)}


def get(identifier):
    return resolve(identifier, _REGISTRY, "callback", "callbacks", accept=(Callback,))


def serialize(callback):
    return {"class_name": type(callback).__name__, "config": callback.get_config()}
