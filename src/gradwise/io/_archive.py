"""Bounded reading of a model file's ``.npz`` archive: sizes are checked before bytes are read.

A model file is a zip archive of ``.npy`` members. Before any member's data is read, this module
checks the archive's table of contents (member names and their declared uncompressed sizes) and
each member's ``.npy`` header (dtype and shape): every member must be one the format defines
(``description.json``, ``weights/NNNN``, ``optimizer/<slot>``), hold a plain (non-object) dtype,
and declare exactly as many bytes as its header's shape needs. The description is limited in
size (:data:`MAX_DESCRIPTION_BYTES`) and nesting depth (:data:`MAX_DEPTH`). Nothing is ever
unpickled and no member is extracted to disk.

Errors are ``ValueError`` naming the file and what was wrong; a missing file is the usual
``OSError``.
"""
import json
import os
import re
import zipfile

import numpy as np

__all__ = ["MAX_DEPTH", "MAX_DESCRIPTION_BYTES", "read_archive"]

#: Largest description (JSON) read, in bytes.
MAX_DESCRIPTION_BYTES = 64 * 2**20
#: Deepest nesting of lists and objects allowed in the description.
MAX_DEPTH = 64
_DESCRIPTION = "description.json"
_MEMBER = re.compile(r"(description\.json|weights/\d{4,}|optimizer/[A-Za-z0-9_]+)\.npy")


def read_archive(path):
    """Return ``(description, headers, read)`` for the model file at ``path``.

    Parameters
    ----------
    path : str or path

    Returns
    -------
    description : dict
        The parsed JSON description (checked: a JSON object of bounded size and depth).
    headers : dict
        ``{name: (shape, dtype)}`` for every array member except the description, from the
        ``.npy`` headers alone (no data read).
    read : callable
        ``read(name)`` returns that member's array; call it only after checking its header.

    Raises
    ------
    ValueError
        Empty, truncated or not a zip archive (a CSV file, say); a member the format does not
        define; a member whose size disagrees with its header; an object dtype; a description
        that is too large, too deep, not JSON, or not a JSON object.
    """
    path = os.fspath(path)
    _check_is_zip(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as error:
        raise ValueError(f"{path}: not a gradwise model file: a damaged or truncated zip "
                         f"archive ({error}).") from None
    with archive:
        infos = {}
        for info in archive.infolist():
            if not _MEMBER.fullmatch(info.filename) or info.filename in infos:
                raise ValueError(f"{path}: not a gradwise model file: unexpected member "
                                 f"{info.filename!r} (a model file holds only description.json, "
                                 "weights/NNNN and optimizer/<slot> arrays).")
            infos[info.filename] = info
        headers = {}
        for name, info in infos.items():
            headers[name[:-4]] = _header(archive, info, path)
        if _DESCRIPTION not in headers:
            raise ValueError(f"{path}: not a gradwise model file (no {_DESCRIPTION!r} entry).")
        shape, dtype = headers.pop(_DESCRIPTION)
        if dtype != np.uint8 or len(shape) != 1:
            raise ValueError(f"{path}: not a gradwise model file ({_DESCRIPTION!r} is not text).")
        if shape[0] > MAX_DESCRIPTION_BYTES:
            raise ValueError(f"{path}: the model description is {shape[0]:,} bytes; at most "
                             f"{MAX_DESCRIPTION_BYTES:,} are read.")
        description = _parse(_read(archive, infos[_DESCRIPTION + ".npy"], path), path)
        return description, headers, _Reader(path, infos)


class _Reader:
    """Reads one member at a time, reopening the archive (so no handle outlives the call)."""

    def __init__(self, path, infos):
        self.path, self.infos = path, infos

    def __call__(self, name):
        with zipfile.ZipFile(self.path) as archive:
            return _read(archive, self.infos[name + ".npy"], self.path)


def _check_is_zip(path):
    with open(path, "rb") as file:
        start = file.read(64)
    if not start:
        raise ValueError(f"{path}: not a gradwise model file: the file is empty.")
    if start.startswith(b"PK\x03\x04") or start.startswith(b"PK\x05\x06"):
        return
    text = text_start(start)
    if start.startswith(b"\x93NUMPY"):
        kind = "a single NumPy array (.npy), not a model archive"
    elif text is not None:
        kind = f"a text file starting {text!r}: a table, perhaps, not a model archive"
    else:
        kind = "a binary file that is not a zip archive"
    raise ValueError(f"{path}: not a gradwise model file ({kind}). Model files are written by "
                     "gradwise.save_model, and by the gradwise command's train, tune and "
                     "anomalies.")


#: Control characters that text holds (tab, line breaks, form feed); any other is binary.
_TEXT_CONTROLS = set("\t\n\r\f")


def text_start(start):
    """The first line (at most 40 characters) of a file whose first bytes ``start`` read as
    UTF-8 text without control characters but tabs and line breaks, else None (binary)."""
    try:
        text = start.decode("utf-8")
    except UnicodeDecodeError as error:  # a character that the bytes read cut is still text
        if error.start < len(start) - 3 or error.reason != "unexpected end of data":
            return None
        text = start[:error.start].decode("utf-8")
    if any(ord(c) < 32 and c not in _TEXT_CONTROLS or ord(c) == 127 for c in text):
        return None
    lines = text.splitlines()
    return lines[0][:40] if lines else ""


def _header(archive, info, path):
    """The (shape, dtype) of a ``.npy`` member, from its header only; sizes checked."""
    where = f"{path}: member {info.filename!r}"
    try:
        with archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
            else:
                raise ValueError(f"unsupported .npy version {version}")
            offset = member.tell()
    except (ValueError, EOFError, OSError, zipfile.BadZipFile, SyntaxError, TypeError,
            NotImplementedError) as error:
        raise ValueError(f"{where} is not a readable array ({error}).") from None
    if dtype.hasobject or dtype.kind not in "biuf":
        raise ValueError(f"{where} has dtype {dtype}; model files hold numbers only "
                         "(object arrays would need pickle, which is never loaded).")
    if any(not isinstance(n, int) or n < 0 for n in shape):
        raise ValueError(f"{where} has an invalid shape {shape}.")
    size = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if info.file_size != offset + size:
        raise ValueError(f"{where} declares shape {shape} ({size:,} bytes) but holds "
                         f"{info.file_size - offset:,} bytes.")
    return tuple(shape), dtype


def _read(archive, info, path):
    try:
        with archive.open(info) as member:
            return np.lib.format.read_array(member, allow_pickle=False)
    except (ValueError, EOFError, OSError, zipfile.BadZipFile, NotImplementedError) as error:
        raise ValueError(f"{path}: member {info.filename!r} is damaged ({error}).") from None


def _parse(raw, path):
    try:
        description = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        error = "nested too deeply" if isinstance(error, RecursionError) else error
        raise ValueError(f"{path}: unreadable model description ({error}).") from None
    if not isinstance(description, dict):
        raise ValueError(f"{path}: not a gradwise model file (the description is a JSON "
                         f"{type(description).__name__}, not an object).")
    if _depth(description) > MAX_DEPTH:
        raise ValueError(f"{path}: the model description is nested deeper than {MAX_DEPTH} "
                         "levels.")
    return description


def _depth(value):
    """Deepest nesting of lists and dicts in ``value``, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest
