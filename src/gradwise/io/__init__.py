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
import re
import tempfile
import warnings

import numpy as np

from .. import losses, metrics as metrics_module, optimizers
from ..layers import _REGISTRY as _LAYER_TYPES
from ._archive import read_archive
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
    fails (including ``KeyboardInterrupt``), so ``path`` is either untouched or complete. Its
    name carries the writer's process id (``.tmp-gradwise-<pid>-...``): a writer killed
    outright (SIGKILL, power loss) cannot remove it, so each write first removes the
    temporaries of writers no longer running.
    """
    directory = os.path.dirname(os.path.abspath(path))
    _remove_stale_temporaries(directory)
    handle, tmp = tempfile.mkstemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-", suffix=suffix,
                                   dir=directory)
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


_TMP_PREFIX = ".tmp-gradwise-"
_TMP_NAME = re.compile(re.escape(_TMP_PREFIX) + r"(\d+)-")


def _remove_stale_temporaries(directory):
    """Remove ``directory``'s temporaries whose writing process (same machine) has ended."""
    try:
        names = [n for n in os.listdir(directory) if n.startswith(_TMP_PREFIX)]
    except OSError:
        return
    for name in names:
        match = _TMP_NAME.match(name)
        if match is None or _process_alive(int(match.group(1))):
            continue
        try:
            os.remove(os.path.join(directory, name))
        except OSError:  # another writer removed it first, or no permission: leave it
            pass


def _process_alive(pid):
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists but is someone else's, or cannot tell: keep its file
    return True


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
        Not a gradwise model file (empty, truncated, not a zip archive, a member the format does
        not define), a description too large, too deep or incomplete, an unknown layer type, or
        arrays missing, extra, or of the wrong shape or dtype. Sizes are checked against the
        file's table of contents and array headers before any array is read, and a network
        larger than the weights the file holds is refused before it is built. Nothing is
        returned half-loaded.
    OSError
        The file cannot be opened.

    Notes
    -----
    Memory use is bounded by the file: an array member is read only once its ``.npy`` header
    (dtype, shape) agrees with its size in the archive and with the description, and the
    network is built only when its kernels (``sum(inputs * units)`` over the layers) fit in
    the weights stored.
    """
    from ..model import Sequential

    path = os.fspath(path)
    description, headers, read = read_archive(path)
    _check_description(description, path)
    config = description["model"]
    for index, layer in enumerate(config.get("layers", [])):
        name = layer.get("class_name") if isinstance(layer, dict) else layer
        if not isinstance(name, str) or name not in _LAYER_TYPES:
            raise ValueError(f"{path}: layer {index} has unknown type {name!r}; expected one of "
                             f"{sorted(_LAYER_TYPES)} (register custom layers with "
                             "gradwise.layers.register).")
    try:
        model = Sequential.from_config(config)
    except (TypeError, KeyError, AttributeError, ValueError) as error:
        raise ValueError(f"{path}: the model description is invalid ({error}).") from None
    table = _check_table(description, headers, path)
    if config.get("input_dim") is not None:
        _check_size_before_build(model, config, table, path)
        try:
            model.build()
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}: the model description is invalid ({error}).") from None
    expected = model.get_weights(include_state=True) if model.built else []
    weights = _check_weights(read, table, expected, path)
    compile_config = description.get("compile")
    if compile and compile_config:
        try:
            model.compile(optimizer=compile_config["optimizer"], loss=compile_config["loss"],
                          metrics=compile_config.get("metrics") or None)
        except (TypeError, KeyError, AttributeError, ValueError) as error:
            raise ValueError(f"{path}: the model's compile settings are invalid "
                             f"({error}).") from None
        _check_optimizer_state(model, headers, description.get("optimizer_state"), path)
    if weights:
        model.set_weights(weights, include_state=True)
    if compile and compile_config and description.get("optimizer_state"):
        state = description["optimizer_state"]
        for key in state["slots"]:
            model.optimizer.state[key][...] = read(f"optimizer/{key}")
        model.optimizer.iterations, model.optimizer.epoch = state["iterations"], state["epoch"]
    metadata = description.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ValueError(f"{path}: the model's metadata is a JSON {type(metadata).__name__}, "
                         "not an object.")
    model.metadata = metadata
    return model


def _check_description(description, path):
    if description.get("format") != FORMAT:
        raise ValueError(f"{path}: not a gradwise model file (format {description.get('format')!r}).")
    if description.get("version") != VERSION:
        raise ValueError(f"{path}: unsupported model file version {description.get('version')!r}; "
                         f"this gradwise reads version {VERSION}.")
    if not isinstance(description.get("model"), dict):
        raise ValueError(f"{path}: the description has no model config.")
    if not isinstance(description["model"].get("layers", []), list):
        raise ValueError(f"{path}: the model config's layers are not a list.")


def _check_table(description, headers, path):
    """The description's weight table, each entry checked against its array's header."""
    table = description.get("weights", [])
    names = sorted(n for n in headers if n.startswith("weights/"))
    if not isinstance(table, list) or not all(isinstance(e, dict) for e in table):
        raise ValueError(f"{path}: the description's weight table is not a list of objects.")
    if names != [f"weights/{i:04d}" for i in range(len(table))]:
        raise ValueError(f"{path}: the description lists {len(table)} weight arrays; the file "
                         f"holds {len(names)} ({', '.join(names[:5]) or 'none'}).")
    for index, entry in enumerate(table):
        shape, dtype = headers[f"weights/{index:04d}"]
        where = f"{entry.get('layer')}.{entry.get('key')}"
        if list(shape) != entry.get("shape"):
            raise ValueError(f"{path}: {where} is described with shape {entry.get('shape')}; the "
                             f"file holds shape {shape}.")
        if dtype.kind != "f":
            raise ValueError(f"{path}: {where} must hold finite floats, found dtype {dtype}.")
    return table


def _check_size_before_build(model, config, table, path):
    """Refuse a network whose kernels alone outgrow the stored weights, before allocating it."""
    stored = sum(int(np.prod(entry["shape"], dtype=object)) for entry in table)
    width, needed = config["input_dim"], 0
    if not isinstance(width, int) or isinstance(width, bool) or width < 1:
        raise ValueError(f"{path}: the model's input_dim must be a positive integer, "
                         f"found {width!r}.")
    for layer in model.layers:
        out = layer.output_dim(width)
        if getattr(layer, "units", None) is not None:
            needed += width * out
        width = out
    if needed > stored:
        raise ValueError(f"{path}: the description's network needs at least {needed:,} weights "
                         f"({needed * model.dtype.itemsize:,} bytes) but the file holds "
                         f"{stored:,}; the file is damaged or not what it claims.")


def _check_weights(read, table, expected, path):
    if len(table) != len(expected):
        raise ValueError(f"{path}: the model needs {len(expected)} weight arrays; the file "
                         f"describes {len(table)}.")
    weights = []
    for index, (entry, target) in enumerate(zip(table, expected)):
        where = f"{entry.get('layer')}.{entry.get('key')}"
        if tuple(entry["shape"]) != target.shape:
            raise ValueError(f"{path}: {where} has shape {tuple(entry['shape'])}; the model "
                             f"expects {target.shape}.")
        array = read(f"weights/{index:04d}")
        if not np.isfinite(array).all():
            raise ValueError(f"{path}: {where} must hold finite floats; it holds NaN or "
                             "infinity (a model saved after training diverged?).")
        weights.append(array)
    return weights


def _check_optimizer_state(model, headers, state, path):
    if not state:
        return
    slots = model.optimizer.state
    if not isinstance(state, dict) or not isinstance(state.get("slots", {}), dict) \
            or not isinstance(state.get("iterations"), int) \
            or not isinstance(state.get("epoch"), int):
        raise ValueError(f"{path}: the optimizer state's description is invalid.")
    for key, shape in state.get("slots", {}).items():
        header = headers.get(f"optimizer/{key}")
        if key not in slots or header is None or list(header[0]) != shape \
                or header[0] != slots[key].shape or header[1].kind != "f":
            raise ValueError(f"{path}: optimizer state {key!r} does not match the model's "
                             f"optimizer ({type(model.optimizer).__name__}).")
