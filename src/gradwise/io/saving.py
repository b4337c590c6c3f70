"""Writing a model file: one ``.npz`` archive of arrays plus a JSON description, never pickle.

The archive holds the JSON description as a uint8 array ``"description.json"``, the weights
(``get_weights(include_state=True)`` order) as ``"weights/0000"``, ... and the optimizer's moment
buffers as ``"optimizer/<slot>"``. The description is ``{"format": FORMAT, "version": VERSION,
"model": model.get_config(), "weights": [{"layer", "key", "kind", "shape"}, ...], "compile":
{"loss", "optimizer", "metrics"} or None, "metadata": {...}, "optimizer_state": {"iterations",
"epoch", "slots": {slot: shape}, "random": [bit generator state, ...]}}`` (``random``: the
states of ``model.random_generators()``, so that training resumed from the file shuffles and
drops out as the uninterrupted run would have). Saving needs only the model's own methods, never the
:class:`~gradwise.Sequential` class (:mod:`gradwise.io.loading` builds one).
"""
import json
import warnings

import numpy as np

from .. import losses, metrics as metrics_module, optimizers
from .._registry import strict_serialization
from .files import atomic_write, check_writable

__all__ = ["save_model", "FORMAT", "VERSION"]

FORMAT, VERSION = "gradwise-model", 1
DESCRIPTION = "description.json"


def save_model(model, path, include_optimizer=True, metadata=None):
    """Write ``model`` (architecture, weights, compile settings, optimizer state) to ``path``.

    Parameters
    ----------
    model : Sequential
        Built (fitted or ``build(input_dim)`` called).
    path : str or path
        The file written, exactly this name (conventionally ending in ``.npz``).
    include_optimizer : bool, default True
        Store the optimizer's moments and counters so training can resume.
    metadata : dict, optional
        JSON-serializable facts kept with the model (column names, class labels, units);
        :func:`load_model` returns them as ``model.metadata``. Default: ``model.metadata``.
    """
    if not getattr(model, "built", False):
        raise ValueError("model: only a built model can be saved; call fit or build(input_dim).")
    path = check_writable(path)
    with strict_serialization():  # a class of the user's own must be registered to load back
        description = {"format": FORMAT, "version": VERSION, "model": model.get_config(),
                       "weights": _weight_table(model), "compile": _compile_config(model)}
    if metadata is None:  # a loaded model keeps what it was saved with
        metadata = getattr(model, "metadata", None) or None
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise TypeError(f"metadata: expected a dict, received {type(metadata).__name__}.")
        try:
            description["metadata"] = json.loads(json.dumps(metadata))
        except (TypeError, ValueError) as error:
            raise TypeError(f"metadata: expected JSON-serializable values; {error}.") from None
    arrays = {f"weights/{i:04d}": w for i, w in enumerate(model.get_weights(include_state=True))}
    optimizer = model.optimizer
    if include_optimizer and optimizer is not None and optimizer.state:
        description["optimizer_state"] = {
            "iterations": optimizer.iterations, "epoch": optimizer.epoch,
            "slots": {k: list(v.shape) for k, v in optimizer.state.items()},
            "random": [g.bit_generator.state for g in model.random_generators()]}
        arrays.update({f"optimizer/{k}": v for k, v in optimizer.state.items()})
    text = json.dumps(description).encode("utf-8")
    arrays[DESCRIPTION] = np.frombuffer(text, dtype=np.uint8)
    _atomic_savez(path, arrays)


def _weight_table(model):
    table = []
    for layer in model.layers:
        for kind, store in (("params", layer.params), ("state", layer.state)):
            table += [{"layer": layer.name, "key": k, "kind": kind, "shape": list(v.shape)}
                      for k, v in store.items()]
    return table

def _compile_config(model):
    if model.loss is None:
        return None
    optimizer = model.optimizer
    try:
        optimizer_config = optimizers.serialize(optimizer)
    except TypeError:  # a plain callable learning rate: keep its current value
        warnings.warn("The optimizer's learning_rate is a plain callable and cannot be saved; "
                      "the file stores its current value instead.", RuntimeWarning, stacklevel=3)
        rate = optimizer.learning_rate
        optimizer.learning_rate = optimizer.current_learning_rate
        try:
            optimizer_config = optimizers.serialize(optimizer)
        finally:
            optimizer.learning_rate = rate
    names = []
    for metric in model.metrics:
        name = getattr(metric, "__name__", None)
        if name in metrics_module._REGISTRY:
            names.append(name)
        else:
            warnings.warn(f"Metric {metric!r} is not a registered name and is not saved.",
                          RuntimeWarning, stacklevel=3)
    return {"loss": losses.serialize(model.loss), "optimizer": optimizer_config, "metrics": names}

def _atomic_savez(path, arrays):
    atomic_write(path, lambda file: np.savez(file, **arrays), suffix=".npz")
