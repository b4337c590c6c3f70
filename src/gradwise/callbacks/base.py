"""The callback protocol, the history, the progress display and the list the loop calls."""
import sys
import time

from .._registry import Configurable


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
