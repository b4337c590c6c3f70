"""``TensorBoard``: scalars and weight/gradient histograms as TensorBoard event files."""
import os

from .base import Callback

_INSTALL = ("gw.callbacks.TensorBoard needs the optional package tensorboardX: "
            "pip install 'gradwise[tensorboard]' (or pip install tensorboardX).")


def _summary_writer():
    try:
        from tensorboardX import SummaryWriter
    except ImportError as error:
        raise ImportError(_INSTALL) from error
    return SummaryWriter


class TensorBoard(Callback):
    """Write the training's scalars and per-layer histograms to ``log_dir`` for TensorBoard.

    After each epoch: every value of the epoch's logs (``loss``, metrics and their ``val_``
    twins) and the learning rate of the epoch (its schedule's value at that epoch), as scalars
    named after their log keys (``learning_rate`` for the rate); every ``histogram_freq`` epochs, a histogram of each
    layer's parameters (``dense_1/W``, ``dense_1/b``, ...) and of their gradients
    (``dense_1/W_grad``: those of the epoch's last batch). The step is the epoch number
    (0-based). Written through the optional ``tensorboardX`` package
    (``pip install 'gradwise[tensorboard]'``); view with ``tensorboard --logdir LOG_DIR``.

    Parameters
    ----------
    log_dir : str or path-like, default "logs"
        Directory of the event files (created if missing); each training run adds a file.
    histogram_freq : int, default 1
        Epochs between histograms; 0 writes none.
    write_grads : bool, default True
        Also write gradient histograms.

    Raises
    ------
    ImportError
        At construction, when tensorboardX is not installed (the message gives the pip
        command).
    """

    def __init__(self, log_dir="logs", histogram_freq=1, write_grads=True):
        super().__init__()
        self._writer_class = _summary_writer()
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"histogram_freq: expected a non-negative integer, received "
                             f"{histogram_freq!r}.")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq, self.write_grads = histogram_freq, bool(write_grads)
        self.writer = None

    def on_train_begin(self, logs=None):
        self.writer = self._writer_class(self.log_dir)

    def on_epoch_end(self, epoch, logs=None):
        if self.writer is None:  # used outside fit's loop
            self.on_train_begin()
        for key, value in (logs or {}).items():
            self.writer.add_scalar(key, float(value), epoch)
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and not getattr(optimizer, "full_batch", False):
            self.writer.add_scalar("learning_rate", float(optimizer.current_learning_rate), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._histograms(epoch)
        self.writer.flush()

    def _histograms(self, epoch):
        for layer in self.model.layers:
            for key, value in layer.params.items():
                self.writer.add_histogram(f"{layer.name}/{key}", value.ravel(), epoch)
                grad = layer.grads.get(key)
                if self.write_grads and grad is not None:
                    self.writer.add_histogram(f"{layer.name}/{key}_grad", grad.ravel(), epoch)

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def get_config(self):
        return {"log_dir": self.log_dir, "histogram_freq": self.histogram_freq,
                "write_grads": self.write_grads}
