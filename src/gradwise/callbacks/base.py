"""The callback protocol, the history, the progress display and the list the loop calls."""
import math
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


def format_duration(seconds):
    """``"4.2s"`` under a minute, ``"3:05"`` under an hour, ``"1:02:03"`` beyond."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgbarLogger(Callback):
    """Progress display: ``verbose=1`` a bar per epoch (on a terminal), ``2`` one line per epoch.

    On a terminal the bar shows the time spent in the epoch and an estimate of what remains of
    it, and each epoch's closing line the estimated time left for the run; where the output is
    not a terminal (a file, a pipe) there is one line per epoch and no bar.

    Parameters
    ----------
    verbose : {1, 2}
    epochs : int
        The last epoch number of the run (``fit``'s ``epochs``).
    steps : int, optional
        Batches per epoch; no bar without it.
    stream : file-like, default ``sys.stdout``
        Anything with ``write``, ``flush`` and ``isatty``.

    Notes
    -----
    Estimates are linear: with ``k`` of ``n`` batches done in ``t`` seconds, the epoch's
    remainder is ``t (n - k) / k``; with ``e`` epochs done of this run in ``T`` seconds, the
    run's remainder is ``T / e`` times the epochs left. The bar is redrawn at most every
    ``interval`` seconds (and always at an epoch's last batch).
    """

    interval = 0.05

    def __init__(self, verbose=1, epochs=1, steps=None, stream=None):
        super().__init__()
        self.verbose, self.epochs, self.steps = verbose, epochs, steps
        self.stream = stream or sys.stdout
        self._clock = time.perf_counter

    def _on_terminal(self):
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def on_train_begin(self, logs=None):
        self._run_start, self._epochs_done = self._clock(), 0

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._epoch, self._drawn = self._clock(), epoch, -math.inf
        if not hasattr(self, "_run_start"):  # called outside fit's loop
            self.on_train_begin()

    def on_batch_end(self, batch, logs=None):
        if self.verbose != 1 or not self.steps or not self._on_terminal():
            return
        now = self._clock()
        if now - self._drawn < self.interval and batch + 1 < self.steps:
            return
        self._drawn = now
        elapsed = now - self._start
        remaining = elapsed * (self.steps - batch - 1) / (batch + 1)
        done = int(30 * (batch + 1) / self.steps)
        self.stream.write(f"\rEpoch {self._epoch + 1}/{self.epochs} [{'=' * done}{'.' * (30 - done)}] "
                          f"{batch + 1}/{self.steps} - {format_duration(elapsed)} - "
                          f"ETA {format_duration(remaining)} - loss: {logs['loss']:.4f}\x1b[K")
        self.stream.flush()

    def on_epoch_end(self, epoch, logs=None):
        now = self._clock()
        seconds = now - self._start
        self._epochs_done += 1
        values = " - ".join(f"{k}: {v:.4f}" for k, v in (logs or {}).items())
        line = f"Epoch {epoch + 1}/{self.epochs} - {seconds:.2f}s - {values}"
        if self._on_terminal():
            left = max(self.epochs - epoch - 1, 0)
            if left:
                eta = (now - self._run_start) / self._epochs_done * left
                line += f" - ETA {format_duration(eta)}"
            if self.verbose == 1:  # over the bar, erasing what is left of it
                line = f"\r{line}\x1b[K"
        self.stream.write(line + "\n")
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
