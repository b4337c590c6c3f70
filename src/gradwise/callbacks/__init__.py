"""Callbacks called at the seams of the training loop.

A callback overrides any of ``on_train_begin(logs)``, ``on_epoch_begin(epoch, logs)``,
``on_batch_begin(batch, logs)``, ``on_batch_end(batch, logs)``, ``on_epoch_end(epoch, logs)``,
``on_train_end(logs)``. ``logs`` at the end of an epoch maps ``"loss"``, each metric and their
``val_`` twins to floats. A callback stops training by setting ``self.model.stop_training``.
"""
from .._registry import family, resolve, serialize
from .base import Callback, CallbackList, History, ProgbarLogger
from .files import CSVLogger, ModelCheckpoint
from .monitoring import (EarlyStopping, LearningRateScheduler, MonitorMixin, ReduceLROnPlateau,
                         TerminateOnNaN)
from .tensorboard import TensorBoard

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping",
           "TerminateOnNaN", "ReduceLROnPlateau", "LearningRateScheduler", "ModelCheckpoint",
           "CSVLogger", "TensorBoard", "MonitorMixin", "get", "serialize"]


_REGISTRY = {cls.__name__: cls for cls in (History, EarlyStopping, TerminateOnNaN, ProgbarLogger,
                                           ReduceLROnPlateau, LearningRateScheduler,
                                           ModelCheckpoint, CSVLogger, TensorBoard)}
family(Callback, _REGISTRY, "callback")


def get(identifier):
    """A callback from its class name, a ``{"class_name", "config"}`` dict or an instance.

    Raises
    ------
    ValueError
        Unknown name; the message lists the known ones.
    """
    return resolve(identifier, _REGISTRY, "callback", "callbacks", accept=(Callback,))
