"""Callbacks that watch a monitored value: early stopping, NaN guard, learning-rate changes."""
import inspect
import math
import warnings

import numpy as np

from .base import Callback


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
        At the end of training, put back the weights (and batch-norm statistics) of the best
        epoch, whether the patience ran out or the last epoch was reached (unlike Keras, which
        restores only when it stops training), and when training ends in
        ``TrainingDiverged``. ``best_epoch`` says which epoch that was (None before the
        monitored value was first seen).
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
        if self.restore_best_weights and self.best_weights is not None:
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
