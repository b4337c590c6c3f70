"""Callbacks that write files: model checkpoints (atomic) and a CSV log of the epochs."""
import csv
import math
import os

from .base import Callback
from .monitoring import MonitorMixin


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
        if "{" not in self.filepath:  # refused before the first epoch, not after it
            from ..io.files import check_writable
            check_writable(self.filepath, "filepath")
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
        from ..io.saving import save_model  # saving imports the losses and optimizers: late
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
        self._writer = None  # bound to the closed file, and it would make the callback unpicklable

    def get_config(self):
        return {"filename": self.filename, "separator": self.separator, "append": self.append}
