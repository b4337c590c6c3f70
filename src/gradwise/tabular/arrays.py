"""Arrow arrays to NumPy and back through their buffers, without pyarrow's pandas bridge.

pyarrow converts between Arrow and NumPy or Python values (``Array.to_numpy``, ``pa.array``,
``pa.scalar``, a Python value passed to a compute function) through its pandas bridge, which
imports pandas the first time: 0.3 to 0.7 s, more than Arrow takes to read a 200,000-row CSV
file. Reading and encoding a table converts through these functions instead, which read and
write the arrays' buffers (the Arrow columnar format: a validity bitmap, then the values, bits
for booleans), so pandas is never imported.
"""
import contextlib

import numpy as np


def _arrow():
    import pyarrow as pa
    import pyarrow.compute as pc
    return pa, pc


def _dtype(type):
    """The NumPy dtype of an Arrow integer or floating type (booleans are read as uint8)."""
    pa, _ = _arrow()
    if pa.types.is_floating(type):
        kind = "f"
    elif pa.types.is_signed_integer(type):
        kind = "i"
    elif pa.types.is_unsigned_integer(type):
        kind = "u"
    else:
        raise TypeError(f"no NumPy view of Arrow {type} values")
    return np.dtype(f"{kind}{type.bit_width // 8}")


def to_numpy(array):
    """The values of an Arrow array or chunked array of numbers or booleans, as one new (writable)
    NumPy array. A null cell's value is whatever its slot of the buffer holds: see
    :func:`valid`, :func:`floats` and :func:`mask` for arrays with nulls."""
    pa, pc = _arrow()
    if pa.types.is_boolean(array.type):
        return to_numpy(pc.cast(array, pa.uint8())).view(bool)
    parts = views(array)[1]
    return np.concatenate(parts) if parts else np.empty(0, _dtype(array.type))


def views(array):
    """``(starts, parts)``: zero-copy NumPy views of the values of each chunk of an Arrow array
    (or chunked array) of numbers, and the row where each starts. A null cell's value is
    whatever its slot holds."""
    pa, _ = _arrow()
    dtype = _dtype(array.type)
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    parts = [np.frombuffer(chunk.buffers()[1], dtype=dtype, count=len(chunk),
                           offset=chunk.offset * dtype.itemsize)
             for chunk in chunks if len(chunk)]
    starts = np.cumsum([0] + [len(part) for part in parts])
    return starts, parts


def rows(starts, parts, start, stop):
    """The values of rows ``start:stop`` of the chunk views of :func:`views`: a view when
    they lie in one chunk, else a (small) new array."""
    first = int(np.searchsorted(starts, start, side="right")) - 1
    last = int(np.searchsorted(starts, stop, side="left"))
    pieces = [parts[i][max(start - starts[i], 0):stop - starts[i]] for i in range(first, last)]
    return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


def valid(array):
    """A NumPy mask of the cells of ``array`` that are not null."""
    _, pc = _arrow()
    if array.null_count == 0:
        return np.ones(len(array), dtype=bool)
    return to_numpy(pc.is_valid(array))


def floats(array):
    """The cells of an Arrow array of numbers as float64, NaN where null."""
    pa, pc = _arrow()
    # safe=False: an integer beyond 2**53 is rounded to the nearest float (Arrow's safe cast
    # refuses it), as NumPy rounds it
    values = to_numpy(array if array.type == pa.float64()
                      else pc.cast(array, pa.float64(), safe=False))
    if array.null_count:
        values[~valid(array)] = np.nan
    return values


def mask(array, null=False):
    """A boolean Arrow array as a NumPy mask, its null cells ``null``."""
    _, pc = _arrow()
    if array.null_count:  # Kleene logic: null or True is True, null and False is False
        array = (pc.or_kleene(array, pc.is_null(array)) if null
                 else pc.and_kleene(array, pc.is_valid(array)))
    return to_numpy(array)


def from_numpy(values):
    """An Arrow array (no nulls) of a 1-d NumPy array of booleans or numbers."""
    pa, _ = _arrow()
    values = np.ascontiguousarray(values)
    if values.dtype == bool:
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values),
                                 [None, pa.py_buffer(values)])


def strings(values):
    """An Arrow ``string`` array (no nulls) of a list of Python strings."""
    pa, _ = _arrow()
    data = [value.encode("utf-8") for value in values]
    offsets = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum([len(item) for item in data], out=offsets[1:])
    type = pa.string() if offsets[-1] < 2**31 else pa.large_string()
    if type == pa.string():
        offsets = offsets.astype(np.int32)
    return pa.Array.from_buffers(type, len(data), [None, pa.py_buffer(offsets),
                                                   pa.py_buffer(b"".join(data))])


def scalar(value, type=None):
    """An Arrow scalar of a Python ``str``, ``bool``, ``int`` or ``float`` (as ``string``,
    ``bool``, ``int64``, ``float64``), or, for None, a null of ``type``."""
    pa, _ = _arrow()
    if value is None:
        return pa.nulls(1, type)[0]
    if isinstance(value, str):
        return strings([value])[0]
    return from_numpy(np.array([value]))[0]


@contextlib.contextmanager
def small_pages():
    """NumPy's new arrays on ordinary pages within the block (a decorator too).

    NumPy advises Linux to back each array of 4 MB or more with transparent huge pages. Where
    the kernel then defragments memory on demand (``defrag`` ``madvise``, a common default),
    the first writes to a new large array wait while memory is compacted, which on a machine
    whose memory is fragmented costs more than the writes themselves: reading and encoding a
    1M-row CSV file took 1.8 to 2.9 s with the advice and 1.1 to 1.3 s without, on the same
    machine. Reading a table writes each of its arrays once, in order, which huge pages do not
    speed up. NumPy's setting is restored on leaving (it has no public setter but the
    ``NUMPY_MADVISE_HUGEPAGE`` variable read at import; without the private one, nothing
    changes)."""
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # NumPy 1.x
        try:
            from numpy.core.multiarray import _set_madvise_hugepage
        except ImportError:
            _set_madvise_hugepage = None
    if _set_madvise_hugepage is None:
        yield
        return
    before = _set_madvise_hugepage(False)
    try:
        yield
    finally:
        _set_madvise_hugepage(before)
