"""Model files: one ``.npz`` archive of arrays plus a JSON description; never pickle.

The archive holds the JSON description as a uint8 array ``"description.json"``, the weights
(``get_weights(include_state=True)`` order) as ``"weights/0000"``, ... and the optimizer's moment
buffers as ``"optimizer/<slot>"``. Loading opens it with ``allow_pickle=False``, checks every
layer type, array name, shape and dtype against the description and the rebuilt model, and only
then copies the arrays in. Writes go to a temporary file of the target's directory renamed
into place with ``os.replace``, so a crash never leaves a half-written file.

:func:`export_onnx` (from :mod:`gradwise.io.onnx`, needs the optional ``onnx`` package)
writes an ONNX file computing ``predict``, with the same atomic write.

Examples
--------
>>> import gradwise as gw
>>> # gw.save_model(model, "digits.npz"); model = gw.load_model("digits.npz")
>>> # gw.io.export_onnx(model, "digits.onnx")
"""
import json
import os
import tempfile
import warnings

import numpy as np

from .. import losses, metrics as metrics_module, optimizers
from .._registry import strict_serialization
from ..layers import _REGISTRY as _LAYER_TYPES
from .onnx import export_onnx

__all__ = ["export_onnx", "load_model", "save_model"]

FORMAT, VERSION = "gradwise-model", 1
_DESCRIPTION = "description.json"


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
    path = os.fspath(path)
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
            "slots": {k: list(v.shape) for k, v in optimizer.state.items()}}
        arrays.update({f"optimizer/{k}": v for k, v in optimizer.state.items()})
    text = json.dumps(description).encode("utf-8")
    arrays[_DESCRIPTION] = np.frombuffer(text, dtype=np.uint8)
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
    _atomic_write(path, lambda file: np.savez(file, **arrays), suffix=".npz")


def _unwritable(path):
    """Why ``path`` cannot be written as a file (a directory, or in a missing directory), or
    None; checked before any work whose result would go there."""
    if os.path.isdir(path):
        return f"{path!r} is a directory; give a file name"
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        return f"the directory of {path!r} does not exist"
    return None


def _atomic_write(path, write, suffix=""):
    """Call ``write(file)`` on a temporary file of ``path``'s directory, then rename it to ``path``.

    The temporary file is flushed and synced before ``os.replace``, and removed if anything
    fails (including ``KeyboardInterrupt``), so ``path`` is either untouched or complete.
    """
    directory = os.path.dirname(os.path.abspath(path))
    handle, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=directory)
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _umask():
    mask = os.umask(0)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


def load_model(path, compile=True):
    """Read a model written by :func:`save_model`.

    Parameters
    ----------
    path : str or path
    compile : bool, default True
        Restore the loss, optimizer (with its state) and metrics when the file has them.

    Returns
    -------
    Sequential
        With ``metadata``, the dict given to :func:`save_model` (empty if none).

    Raises
    ------
    ValueError
        Not a gradwise model file, an unknown layer type, or arrays missing, extra, or of the
        wrong shape or dtype. Nothing is returned half-loaded.
    """
    from ..model import Sequential

    with np.load(os.fspath(path), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    description = _read_description(arrays, path)
    config = description["model"]
    for index, layer in enumerate(config.get("layers", [])):
        name = layer.get("class_name") if isinstance(layer, dict) else layer
        if name not in _LAYER_TYPES:
            raise ValueError(f"{path}: layer {index} has unknown type {name!r}; expected one of "
                             f"{sorted(_LAYER_TYPES)} (a layer of your own loads once "
                             "decorated with @gw.register).")
    try:
        model = Sequential.from_config(config)
    except ValueError as error:  # e.g. an activation or regularizer of the user's own
        raise ValueError(f"{path}: {error}") from None
    if config.get("input_dim") is not None:
        model.build()
    expected = model.get_weights(include_state=True) if model.built else []
    weights = _check_weights(arrays, description, expected, path)
    compile_config = description.get("compile")
    if compile and compile_config:
        try:
            model.compile(optimizer=compile_config["optimizer"], loss=compile_config["loss"],
                          metrics=compile_config.get("metrics") or None)
        except ValueError as error:  # e.g. a loss of the user's own, not registered
            raise ValueError(f"{path}: {error}") from None
        _check_optimizer_state(model, arrays, description.get("optimizer_state"), path)
    if weights:
        model.set_weights(weights, include_state=True)
    if compile and compile_config and description.get("optimizer_state"):
        state = description["optimizer_state"]
        for key in state["slots"]:
            model.optimizer.state[key][...] = arrays[f"optimizer/{key}"]
        model.optimizer.iterations, model.optimizer.epoch = state["iterations"], state["epoch"]
    model.metadata = description.get("metadata") or {}
    return model


def _read_description(arrays, path):
    raw = arrays.get(_DESCRIPTION)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        raise ValueError(f"{path}: not a gradwise model file (no {_DESCRIPTION!r} entry).")
    try:
        description = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: unreadable model description ({error}).") from None
    if not isinstance(description, dict) or description.get("format") != FORMAT:
        raise ValueError(f"{path}: not a gradwise model file (format {description.get('format')!r}).")
    if description.get("version") != VERSION:
        raise ValueError(f"{path}: unsupported model file version {description.get('version')!r}; "
                         f"this gradwise reads version {VERSION}.")
    if not isinstance(description.get("model"), dict):
        raise ValueError(f"{path}: the description has no model config.")
    return description


def _check_weights(arrays, description, expected, path):
    table = description.get("weights", [])
    names = sorted(n for n in arrays if n.startswith("weights/"))
    if len(table) != len(expected) or len(names) != len(expected):
        raise ValueError(f"{path}: the model needs {len(expected)} weight arrays; the file "
                         f"describes {len(table)} and holds {len(names)}.")
    weights = []
    for index, (entry, target) in enumerate(zip(table, expected)):
        array = arrays.get(f"weights/{index:04d}")
        where = f"{entry.get('layer')}.{entry.get('key')}"
        if array is None:
            raise ValueError(f"{path}: weight array {index} ({where}) is missing.")
        if array.shape != target.shape or list(array.shape) != list(entry.get("shape", [])):
            raise ValueError(f"{path}: {where} has shape {array.shape}; the model expects "
                             f"{target.shape}.")
        if array.dtype.kind != "f" or not np.isfinite(array).all():
            raise ValueError(f"{path}: {where} must hold finite floats, found dtype {array.dtype}.")
        weights.append(array)
    return weights


def _check_optimizer_state(model, arrays, state, path):
    if not state:
        return
    slots = model.optimizer.state
    for key, shape in state.get("slots", {}).items():
        array = arrays.get(f"optimizer/{key}")
        if key not in slots or array is None or list(array.shape) != list(shape) \
                or array.shape != slots[key].shape:
            raise ValueError(f"{path}: optimizer state {key!r} does not match the model's "
                             f"optimizer ({type(model.optimizer).__name__}).")
