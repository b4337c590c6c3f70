"""Reading a model file written by :func:`gradwise.io.saving.save_model` into a
:class:`~gradwise.Sequential`.

The archive is opened with ``allow_pickle=False``; every layer type, array name, shape and
dtype is checked against the description and the rebuilt model before the arrays are copied in,
so nothing is returned half-loaded.
"""
import os

import numpy as np

from ..layers import _REGISTRY as _LAYER_TYPES
from ._archive import read_archive
from .saving import FORMAT, VERSION


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
                             f"{sorted(_LAYER_TYPES)} (a layer of your own loads once "
                             "decorated with @gw.register).")
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
        for generator, saved in zip(model.random_generators(), state.get("random") or []):
            generator.bit_generator.state = saved  # checked by _check_optimizer_state
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
    if not isinstance(state, dict) or not isinstance(state.get("slots"), dict) \
            or not isinstance(state.get("iterations"), int) \
            or not isinstance(state.get("epoch"), int):
        raise ValueError(f"{path}: the optimizer state's description is invalid.")
    for key, shape in state["slots"].items():
        header = headers.get(f"optimizer/{key}")
        if key not in slots or header is None or list(header[0]) != shape \
                or header[0] != slots[key].shape or header[1].kind != "f":
            raise ValueError(f"{path}: optimizer state {key!r} does not match the model's "
                             f"optimizer ({type(model.optimizer).__name__}).")
    saved = state.get("random")  # absent from files written before it was kept
    if saved is not None:
        generators = model.random_generators()
        if not isinstance(saved, list) or len(saved) != len(generators):
            raise ValueError(f"{path}: the optimizer state's random streams do not match the "
                             f"model ({len(generators)} expected).")
        for generator, value in zip(generators, saved):
            try:  # on a scratch generator of the same kind: nothing is changed before all pass
                type(generator.bit_generator)().state = value
            except (TypeError, ValueError, KeyError) as error:
                raise ValueError(f"{path}: the optimizer state's random streams are invalid "
                                 f"({error}).") from None
