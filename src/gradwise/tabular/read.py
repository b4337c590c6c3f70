"""Reading a user's table with Apache Arrow: a CSV or TSV file, a Parquet file or a folder of
Parquet files, into a ``pyarrow.Table``.

CSV cells are read as text (Arrow's multi-threaded reader), exactly as written: the encoding
(:mod:`gradwise.tabular.columns`) decides what is a number, a date or a category, as the
hand-written reader did. Parquet columns keep their types. Rows are counted from the top of the
file: :class:`Lines` turns a row index into its file line (CSV) or row number (Parquet) for
error messages, reading the file again only when asked.
"""
import contextlib
import csv
import os
import re
import sys
import threading

import numpy as np

from .errors import TableError, warn

#: The file kinds ``path`` may name (a folder is read as Parquet files).
SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")


class Table:
    """A table read from ``path``: ``data`` (a ``pyarrow.Table``), ``kind`` ("csv" or
    "parquet"), ``delimiter`` and ``encoding`` (CSV) and ``lines`` (a :class:`Lines`)."""

    def __init__(self, data, path, kind, delimiter=None, lines=None, encoding="utf-8",
                 unnamed=frozenset()):
        self.data, self.path, self.kind, self.delimiter = data, path, kind, delimiter
        self.lines = lines if lines is not None else Lines.counted(data.num_rows)
        self.encoding, self.unnamed = encoding, unnamed  # columns whose header cell is empty

    @property
    def num_rows(self):
        return self.data.num_rows

    @property
    def column_names(self):
        return self.data.column_names

    def where(self, row):
        """``"line 12 of 'file.csv'"`` or ``"row 12 of 'file.parquet'"`` for a row index."""
        unit = "row" if self.kind == "parquet" else "line"
        return f"{unit} {self.lines[row]} of {self.path!r}"

    def filter(self, keep):
        """The rows where the boolean mask ``keep`` is True (their lines follow them)."""
        from .arrays import from_numpy
        keep = np.asarray(keep, dtype=bool)
        return Table(self.data.filter(from_numpy(keep)), self.path, self.kind, self.delimiter,
                     self.lines.subset(np.flatnonzero(keep)), self.encoding, self.unnamed)

    def cell_text(self, name, row):
        """The text of one cell as the file writes it (read again from its line for a CSV
        file)."""
        if self.kind == "csv":
            return csv_cell(self.path, int(self.lines[row]), self.delimiter, name,
                            self.encoding)
        value = self.data.column(name)[row].as_py()
        return "" if value is None else str(value)

    def select(self, names):
        """The columns ``names`` only."""
        return Table(self.data.select(names), self.path, self.kind, self.delimiter, self.lines,
                     self.encoding)


class Lines:
    """The file line of each row (CSV: read from the file on first use) or its row number
    counted from ``first`` (Parquet from 1; rows given in memory from 2, as below a header).
    Index it like an array; ``subset`` follows a filter of the rows."""

    def __init__(self, compute, index=None):
        self._compute, self._index, self._base, self._lines = compute, index, None, None

    @classmethod
    def counted(cls, rows, first=1):
        return cls(lambda: np.arange(first, first + rows))

    @classmethod
    def given(cls, lines):
        """Lines already known (an array with one line per row)."""
        return cls(lambda: lines)

    def base(self):
        if self._base is None:
            self._base = self._compute()
        return self._base

    def subset(self, keep):
        index = keep if self._index is None else self._index[keep]
        child = Lines(self.base, index)
        return child

    def _all(self):
        if self._lines is None:
            base = self.base()
            self._lines = base if self._index is None else base[self._index]
        return self._lines

    def __getitem__(self, index):
        return self._all()[index]

    def __len__(self):
        return len(self._all())

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self._all(), dtype=dtype)


def read_table(path, encoding="utf-8", columns=None, text_columns=(), exact=()):
    """The table at ``path`` (see the module): a :class:`Table`.

    Parameters
    ----------
    path : str or path-like
        A ``.csv`` / ``.tsv`` file (the separator, comma, semicolon, tab or bar, read off the
        header), a ``.parquet`` file, or a folder of ``.parquet`` files with one schema.
    encoding : str, default "utf-8"
        The text encoding of a CSV file (``"latin-1"``, ``"cp1252"``, ...).
    columns : list of str, optional
        Read only these columns (Parquet).
    text_columns : list of str, optional
        CSV columns read as text even when their cells are numbers (categories such as zip
        codes, whose levels are the cells as written).
    exact : list of str, optional
        CSV columns of numbers kept in float64 (a target). The other columns of numbers
        are held in float32, the matrix's type, as each block of the file is read (see
        :func:`read_csv_rows`), unless their first rows hold integers beyond 2**24.

    Raises
    ------
    TableError
        About ``path``: missing or unreadable, no header or no row, a row with the wrong
        number of fields or a quoted field that never closes (naming its line), a repeated
        column name, a corrupt Parquet file, or a folder whose files do not share one schema.
        About ``path`` when ``encoding`` is UTF-8, else about ``encoding``: text not in that
        encoding (naming the line and byte offset where it stops decoding, or that its lines
        do not break in it); about ``encoding``: one that is unknown or no encoding of text
        files.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        return _read_parquet_folder(path, columns)
    if not os.path.exists(path):
        raise TableError("path", f"cannot read {path!r}: No such file or directory.")
    if not os.path.isfile(path):  # /dev/stdin, /dev/zero, a pipe: a table is read twice
        raise TableError("path", f"{path!r} is not a regular file (a device or pipe); save the "
                                 "table to a file first.")
    check_fits_in_memory(path)
    if path.lower().endswith((".parquet", ".pq")):
        return _read_parquet(path, columns)
    check_plain_text(path)
    return _read_csv(path, encoding, text_columns, exact)


#: The first bytes of files that are not a CSV file's text, and what to do with them (none
#: of them text a CSV header could start with; bzip2's carries its block's magic number).
_NOT_TEXT = [
    (re.compile(rb"\x1f\x8b"), "gzip-compressed", "decompress it first (gunzip)"),
    (re.compile(rb"BZh[1-9]1AY&SY"), "bzip2-compressed", "decompress it first (bunzip2)"),
    (re.compile(rb"\xfd7zXZ\x00"), "xz-compressed", "decompress it first (unxz)"),
    (re.compile(rb"\x28\xb5\x2f\xfd"), "zstd-compressed", "decompress it first (unzstd)"),
    (re.compile(rb"\x04\x22\x4d\x18"), "lz4-compressed", "decompress it first (unlz4)"),
    (re.compile(rb"PK\x03\x04"), "a zip archive (a spreadsheet such as .xlsx is one)",
     "extract the CSV file from it, or save the sheet as CSV"),
]


def check_plain_text(path):
    """Refuse a file given as CSV that is compressed, an archive or a Parquet file (by its
    first bytes, and a Parquet file's last ones too), naming what it is and the remedy,
    before it is read as text."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(16)
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(size - 4, 0))
            end = handle.read(4)
    except OSError:
        return  # said by the reader, with the reason
    if start.startswith(b"PAR1") and end == b"PAR1" and size >= 12:
        raise TableError("path", f"{path!r} is a Parquet file, not CSV text; give it a name "
                                 "ending in .parquet.")
    for magic, what, remedy in _NOT_TEXT:
        if magic.match(start):
            raise TableError("path", f"{path!r} is {what}, not CSV text; {remedy}.")


# -- CSV -----------------------------------------------------------------------------------
#: The cells read as missing in a column of numbers or dates (any case of the markers).
NULL_MARKERS = sorted({variant for marker in ("", "na", "n/a", "nan", "null", "none", "?", "-",
                                              "#n/a")
                       for variant in (marker, marker.upper(), marker.capitalize(),
                                       marker.title())})


#: The csv module's field size limit while gradwise reads: a cell may be as long as a line.
_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)  # a C long, 32 bits on Windows
_field_limit_lock = threading.Lock()
_long_field_readers, _process_field_limit = 0, None


@contextlib.contextmanager
def _long_fields():
    """Let Python's ``csv`` module read fields of any length (its limit is 131,072
    characters, where Arrow's reader has none) while gradwise reads a file's rows, and give
    the process its own limit back afterwards (once the readers of every thread are done)."""
    global _long_field_readers, _process_field_limit
    with _field_limit_lock:
        if not _long_field_readers:
            _process_field_limit = csv.field_size_limit(_FIELD_LIMIT)
        _long_field_readers += 1
    try:
        yield
    finally:
        with _field_limit_lock:
            _long_field_readers -= 1
            if not _long_field_readers:
                csv.field_size_limit(_process_field_limit)


#: Bytes a block of the whole-file CSV reader parses (Arrow parses blocks in parallel).
CSV_READ_BLOCK = 1 << 20
#: Bytes of a CSV file read at a time when its numbers are held in float32 as it is read
#: (:func:`read_csv_rows`); Arrow parses each piece's blocks in parallel.
CSV_NARROW_PIECE = 32 << 20
#: Bytes of a CSV file's first rows whose types are the types of the whole file's columns.
CSV_TYPES_BLOCK = 1 << 20


def _read_csv(path, encoding, text_columns=(), exact=()):
    import pyarrow as pa
    import pyarrow.csv as pacsv
    header_line, delimiter, header, unnamed = _header(path, encoding)
    quoted = _check_quotes(path, encoding) > 0

    def parse(newlines_in_values):
        def invalid(row):  # a blank line (spaces only) is no row; any other is an error
            return "skip" if not row.text.strip() else "error"
        return pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=invalid,
                                  newlines_in_values=newlines_in_values)

    def convert(types):
        # Numbers and ISO dates are parsed by Arrow's reader (in parallel); a column with any
        # other cell stays text, as do ``text_columns``; the missing markers are null.
        return pacsv.ConvertOptions(column_types=types, strings_can_be_null=False,
                                    quoted_strings_can_be_null=False, null_values=NULL_MARKERS,
                                    true_values=[], false_values=[])

    as_text = {name: pa.string() for name in header if name in set(text_columns)}
    rows = pacsv.ReadOptions(column_names=header, encoding=_arrow_encoding(encoding))
    read = pacsv.ReadOptions(column_names=header, skip_rows=header_line + 1,
                             encoding=_arrow_encoding(encoding), block_size=CSV_READ_BLOCK)
    try:
        # The types of the first rows, given to the whole read: Arrow then converts each
        # block as it is parsed, where inferring them holds every parsed block to the end
        # (about the file's size again). Integers are read as floats (a later block may hold
        # a fraction); a later cell that does not convert (text in numbers, a column empty at
        # first) makes the whole file read again with its types inferred, as they would be.
        first = (next(csv_chunks(path, header_line + 1, CSV_TYPES_BLOCK), None)
                 if _ascii_lines(encoding) else None)  # UTF-16 line breaks are two bytes
        types, narrow = dict(as_text), ()
        if first is not None:
            head = read_csv_rows(pa.py_buffer(first), rows, parse, convert(as_text), quoted)
            types = first_rows_types(head.schema, as_text)
            # Narrowing saves memory from the third piece on (a piece's float64 buffers,
            # once cast, hold the next piece's; Arrow's allocator keeps them from the
            # matrix); and a type left out is inferred over the whole file
            if os.path.getsize(path) > 2 * CSV_NARROW_PIECE and set(types) >= set(header):
                narrow = narrow_columns(head, types, exact)
        try:
            data = read_csv_rows(path, read, parse, convert(types), quoted, narrow)
        except pa.ArrowInvalid as error:
            if "conversion error" not in str(error):
                raise
            data = read_csv_rows(path, read, parse, convert(as_text), quoted)
    except (pa.ArrowInvalid, UnicodeError, LookupError) as error:
        raise _csv_error(path, delimiter, encoding, header, error) from None
    check_decoded(data, path, encoding)
    if data.num_rows == 0:
        raise TableError("path", f"{path!r} needs a header row and at least one data row.")
    lines = Lines(lambda: csv_row_lines(path, delimiter, encoding, len(header)))
    return _without_blank_rows(Table(data, path, "csv", delimiter, lines, encoding, unnamed),
                               path)


def first_rows_types(schema, as_text, nulls=None):
    """The column types a CSV file is read with, from those Arrow gave its first rows
    (``schema``): integers as floats (a later block may hold a fraction), the ``as_text``
    columns as text, and a column of nulls there (empty cells and markers only) as ``nulls``
    (None: left out, for Arrow to infer)."""
    import pyarrow as pa
    types = {}
    for name, type in zip(schema.names, schema.types):
        if not pa.types.is_null(type):
            types[name] = pa.float64() if pa.types.is_integer(type) else type
        elif nulls is not None:
            types[name] = nulls
    return {**types, **as_text}


#: Integers up to this size are exact in float32 (the identifier check needs them exact).
EXACT_IN_FLOAT32 = 2.0 ** 24


def narrow_columns(head, types, exact=()):
    """The columns of ``types`` read as float64 that the whole read holds in float32 (see
    :func:`read_csv_rows`): not in ``exact``, and no integer of the first rows (``head``)
    beyond 2**24 in size (up to 2**53, where float64 stops holding every integer too):
    float32 would merge neighbouring identifiers, which the identifier check counts."""
    import pyarrow as pa
    from .arrays import floats
    narrow = []
    for name, type in types.items():
        if type != pa.float64() or name in exact:
            continue
        values = np.abs(floats(head.column(name)))
        with np.errstate(invalid="ignore"):
            wide = ((values > EXACT_IN_FLOAT32) & (values <= 2.0 ** 53)
                    & (values == np.round(values)))
        if not wide.any():
            narrow.append(name)
    return narrow


def _ascii_lines(encoding):
    """True when ``encoding`` writes line breaks, commas and quotes as ASCII does."""
    try:
        return '\n,"'.encode(_python_encoding(encoding)).endswith(b'\n,"')  # after a BOM
    except (LookupError, UnicodeError):
        return False


def read_csv_rows(source, read, parse, convert, quoted, narrow=()):
    """``pyarrow.csv.read_csv`` of ``source`` (a path or a buffer) with the options ``read``,
    ``parse(newlines_in_values)`` and ``convert``. With ``narrow`` (columns of float64
    numbers; ``source`` a path), the file is read :data:`CSV_NARROW_PIECE` bytes of whole
    rows at a time (:func:`_file_pieces`), those columns of each piece cast to float32 before
    the next is read (:func:`_narrowed`): the file's numbers are then held in the matrix's
    type, half the memory, while the matrix is filled (10M rows of 20 numbers: 0.8 GB less
    at the peak), with the values the matrix would have had from float64.

    Arrow splits a file into blocks at line breaks without looking at quotes, unless told that
    values may hold line breaks (which makes splitting slower): a block that ends inside a
    quoted field cuts its row in two, silently when the second half has as many fields as the
    header. So a file with quotes (``quoted``) whose text cells come back holding line breaks,
    or that fails, is read again with quotes followed (and fails again if it is malformed).

    A row longer than a block of ``read`` (a cell of megabytes) makes the source read again
    with blocks that hold its longest line."""
    import pyarrow as pa
    try:
        return _read_rows(source, read, parse, convert, quoted, narrow)
    except pa.ArrowInvalid as error:
        if "straddling object" not in str(error):  # "... straddles two block boundaries"
            raise
    longer = _block_options(read, 2 * _longest_line(source) + CSV_READ_BLOCK)
    return _read_rows(source, longer, parse, convert, quoted, narrow)


def _block_options(read, block_size):
    """The ``pyarrow.csv.ReadOptions`` ``read`` with blocks of ``block_size`` bytes (at most
    Arrow's largest, 2**31 - 1)."""
    import pyarrow.csv as pacsv
    return pacsv.ReadOptions(
        use_threads=read.use_threads, block_size=min(block_size, 2**31 - 1),
        skip_rows=read.skip_rows, skip_rows_after_names=read.skip_rows_after_names,
        column_names=read.column_names,
        autogenerate_column_names=read.autogenerate_column_names, encoding=read.encoding)


def _longest_line(source, block=1 << 24):
    """The length in bytes of the longest line of ``source`` (a path, or a buffer of CSV
    text), its line break included; a file is read ``block`` bytes at a time."""
    def blocks():
        if isinstance(source, (str, os.PathLike)):
            with open(source, "rb") as handle:
                while data := handle.read(block):
                    yield data
        else:
            yield source
    longest, start, offset = 0, 0, 0  # the longest so far; where the current line starts
    for data in blocks():
        ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n")) + offset + 1
        if len(ends):
            longest = max(longest, int(np.diff(ends, prepend=start).max()))
            start = int(ends[-1])
        offset += len(memoryview(data))
    return max(longest, offset - start)


def _read_rows(source, read, parse, convert, quoted, narrow=()):
    """:func:`read_csv_rows` with blocks of ``read``'s size."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    def read_all(newlines_in_values):
        def arrow(data, options):
            return pacsv.read_csv(data, read_options=options,
                                  parse_options=parse(newlines_in_values), convert_options=convert)
        if not narrow:
            return arrow(source, read)
        piece = pacsv.ReadOptions(column_names=read.column_names, encoding=read.encoding,
                                  block_size=read.block_size)
        pieces = [_narrowed(arrow(pa.py_buffer(chunk), piece), narrow)
                  for chunk in _file_pieces(source, read.skip_rows, CSV_NARROW_PIECE)]
        return pa.concat_tables(pieces) if pieces else arrow(source, read)  # no row
    try:
        data = read_all(False)
    except pa.ArrowInvalid:  # "Expected 2 columns, got 1", "parser got out of sync", ...
        if not quoted:
            raise
        data = None
    if quoted and (data is None or _line_breaks_in_text(data)):
        data = read_all(True)
    return data


def _file_pieces(path, skip_lines, size):
    """The rows of the file ``path`` after its first ``skip_lines`` lines, as memory-mapped
    buffers (no copy of the file) of about ``size`` bytes that end at a line break outside
    quotes (:func:`_last_row_end`, as :func:`csv_chunks` cuts them)."""
    import mmap
    with open(path, "rb") as handle:
        for _ in range(skip_lines):
            handle.readline()
        start = handle.tell()
        if start >= os.fstat(handle.fileno()).st_size:
            return
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    codes, end = np.frombuffer(mapped, dtype=np.uint8), len(mapped)

    def quotes(begin, stop, step=1 << 20):  # a megabyte at a time: its mask stays in cache
        return sum(int(np.count_nonzero(codes[at:min(at + step, stop)] == ord('"')))
                   for at in range(begin, stop, step))
    while start < end:
        stop, window = end, size
        while start + window < end:
            cut = _last_row_end(mapped, start, start + window, quotes)
            if cut >= start:
                stop = cut + 1
                break
            window *= 2  # no row ends within the window: a longer one
        yield memoryview(mapped)[start:stop]
        start = stop


def _last_row_end(text, start, stop, quotes):
    """The position of the last line break of ``text[start:stop]`` outside quotes (an even
    count of ``"`` from ``start`` before it, as ``quotes(begin, end)`` counts them), or a
    position before ``start`` when there is none."""
    cut = text.rfind(b"\n", start, stop)
    count = quotes(start, cut) if cut >= start else 0
    while cut >= start and count % 2:  # inside a quoted field: an earlier break
        previous = text.rfind(b"\n", start, cut)
        count -= quotes(max(previous, start), cut)
        cut = previous
    return cut


def _narrowed(table, narrow):
    """``table`` with its float64 columns ``narrow`` cast to float32: each value
    rounded to the nearest float, as filling the float32 matrix from float64 rounds it, and
    one larger than float32's largest in size made infinite (the nearest float of one just
    beyond is that largest, which would make a number the matrix cannot hold look like one
    it can)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from .arrays import scalar  # not pa.scalar, which imports pandas
    largest = float(np.finfo(np.float32).max)
    for name in narrow:
        index = table.schema.get_field_index(name)
        column = table.column(index)
        low, high = pc.min_max(column).values()
        if (high.as_py() or 0.0) > largest or (low.as_py() or 0.0) < -largest:
            beyond = pc.greater(pc.abs(column), scalar(largest))
            column = pc.if_else(beyond, pc.multiply(column, scalar(float("inf"))), column)
        table = table.set_column(index, name, pc.cast(column, pa.float32(), safe=False))
    return table


def _line_breaks_in_text(data):
    """True when a text cell of the Arrow table ``data`` may hold a line break (a byte of its
    text columns' character buffers is one)."""
    import pyarrow as pa
    for column in data.columns:
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        for chunk in column.chunks:
            characters = chunk.buffers()[2]
            if characters is not None and characters.size:
                values = np.frombuffer(characters, dtype=np.uint8)
                if (values == 10).any() or (values == 13).any():
                    return True
    return False


def csv_chunks(path, skip_lines, size):
    """The text of a CSV file after its first ``skip_lines`` lines, in chunks of about ``size``
    bytes that end at a line break outside quotes (an even count of ``"`` before it), so that
    each chunk holds whole rows. Memory holds one chunk."""
    with open(path, "rb") as handle:
        for _ in range(skip_lines):
            handle.readline()
        held = b""
        while True:
            block = handle.read(size)
            if not block:
                break
            held += block
            cut = _last_row_end(held, 0, len(held),
                                lambda begin, stop, text=held: text.count(b'"', begin, stop))
            if cut >= 0:
                yield held[:cut + 1]
                held = held[cut + 1:]
        if held.strip():
            yield held


def release_unused():
    """Give the memory that Arrow's allocator keeps after its tables are freed back to the
    system (mimalloc and jemalloc keep it for later allocations; a table read once and encoded
    has no later ones, and the memory would stay with the process through training)."""
    import pyarrow as pa
    pa.default_memory_pool().release_unused()
    _malloc_trim()


def _malloc_trim():
    import ctypes
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def check_fits_in_memory(path, factor=2):
    """Refuse, before reading it, a file whose table (about ``factor`` times its size in
    memory) would not fit in this machine's memory."""
    try:
        size = os.stat(path).st_size
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (OSError, ValueError, AttributeError):
        return
    if factor * size > memory:
        raise TableError("path", f"{path!r} is {size:,} bytes; reading it whole needs about "
                                 f"{factor * size:,} bytes of memory, more than this machine's "
                                 f"{memory:,}. Read it in batches, or use a sample of its rows.")


#: The longest header line read before the file is judged not to be a table.
LONGEST_HEADER = 1 << 20


def csv_head(path, encoding):
    """``(lines before the header, delimiter, header, unnamed)`` of a CSV file, checked: a
    header row is there (at most 1 MB long), and names each column once; an unnamed column
    gets ``unnamed_<position>`` (those names are ``unnamed``). Then every data row's quotes
    are checked to close."""
    head = _header(path, encoding)
    _check_quotes(path, encoding)
    return head


def _header(path, encoding):
    """:func:`csv_head` but for the quotes of the data rows."""
    try:
        _text_codec(encoding)
        _check_line_breaks(path, encoding)
        head = _first_line(path, encoding)
    except OSError as error:
        raise TableError("path", f"cannot read {path!r}: {error.strerror}.") from None
    except (UnicodeError, LookupError) as error:
        raise _csv_error(path, ",", encoding, [], error) from None
    if head is None:
        raise TableError("path", f"{path!r} needs a header row and at least one data row.")
    header_line, text = head
    delimiter = "\t" if path.lower().endswith(".tsv") else _delimiter(text)
    with _long_fields():
        raw = next(csv.reader([text], delimiter=delimiter))
    header = [h.strip() or f"unnamed_{i + 1}" for i, h in enumerate(raw)]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise TableError("path", f"the header names columns {repeated} more than once (in "
                                 f"{path!r}); give each column its own name.")
    unnamed = frozenset(name for name, cell in zip(header, raw) if not cell.strip())
    return header_line, delimiter, header, unnamed


def csv_cell(path, line, delimiter, name, encoding):
    """The text of column ``name`` (stripped) in the row of a CSV file that starts at file
    line ``line`` (a message's cell: read with Python's csv module, once)."""
    import itertools
    header = _header(path, encoding)[2]  # the file was checked when it was read
    with open(path, encoding=_python_encoding(encoding), errors="replace", newline="") as handle, \
            _long_fields():
        row = next(csv.reader(itertools.islice(handle, line - 1, None), delimiter=delimiter), [])
    index = header.index(name)
    return row[index].strip() if index < len(row) else ""


def _arrow_encoding(encoding):
    return "utf8" if encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig") \
        else encoding


def _first_line(path, encoding):
    """``(lines before the header, header text)`` of the first non-blank line, or None; a
    header or first row without a line break in :data:`LONGEST_HEADER` characters is refused
    (``/dev/zero`` renamed, a binary file)."""
    with open(path, encoding=_python_encoding(encoding), newline="") as handle:
        for number in range(LONGEST_HEADER):
            line = handle.readline(LONGEST_HEADER)
            if not line:
                break
            if len(line) >= LONGEST_HEADER and not line.endswith("\n"):
                raise TableError("path", f"{path!r} has no line break in its first "
                                         f"{LONGEST_HEADER:,} characters; not a CSV file?")
            if line.strip():
                following = handle.readline(LONGEST_HEADER)  # a first row that never ends
                if len(following) >= LONGEST_HEADER and not following.endswith("\n"):
                    raise TableError("path", f"line {number + 2} of {path!r} has no line break "
                                             f"in its first {LONGEST_HEADER:,} characters; not "
                                             "a CSV file?")
                return number, line.rstrip("\r\n")
    return None


def _byte_order_mark(path):
    """``"utf-32"`` or ``"utf-16"`` when the file starts with that encoding's byte-order
    mark, else None."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(4)
    except OSError:
        return None
    if start in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return "utf-32"
    return "utf-16" if start[:2] in (b"\xff\xfe", b"\xfe\xff") else None


def wide_encoding(encoding):
    """True for UTF-16 and UTF-32 (any byte order): text whose line breaks are not the single
    byte ``\\n``, which a reader of byte chunks cannot cut at."""
    import codecs
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    return name.startswith(("utf-16", "utf-32"))


def _python_encoding(encoding):
    """Python's name of ``encoding``; UTF-8 with its byte-order mark skipped."""
    return "utf-8-sig" if _arrow_encoding(encoding) == "utf8" else encoding


def _delimiter(header):
    """The field separator, from the header line: the most frequent of ``,`` ``;`` tab and
    ``|`` (a comma when none occurs)."""
    counts = {separator: header.count(separator) for separator in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _check_quotes(path, encoding):
    """The number of double quotes in the file; refuse an odd number (a quoted field that
    never closes, which Arrow would read to the end of the file as one cell), naming the line
    it opens on."""
    count = _quote_count(path)
    if count % 2:
        line = _unclosed_quote_line(path, encoding)
        raise TableError("path", f"line {line} of {path!r} opens a quoted field that never "
                                 "closes; add the closing quote (\").")
    return count


def _quote_count(path, block=1 << 20):
    """The number of double quotes in the file ``path``, read a block at a time into one
    buffer (which stays in the cache) and counted by NumPy."""
    count, buffer = 0, bytearray(block)
    view = np.frombuffer(buffer, dtype=np.uint8)
    with open(path, "rb", buffering=0) as handle:
        while size := handle.readinto(buffer):
            count += int(np.count_nonzero(view[:size] == ord('"')))
    return count


def _unclosed_quote_line(path, encoding):
    """The line where the last quoted field that does not close opens."""
    opened, number = None, 0
    with open(path, encoding=_python_encoding(encoding), errors="replace", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            if line.count('"') % 2:
                opened = number if opened is None else None
    return opened or number


def _csv_error(path, delimiter, encoding, header, error):
    text = str(error)
    if isinstance(error, LookupError):
        return TableError("encoding", f"unknown text encoding {encoding!r}.")
    if "UTF8" in text or isinstance(error, UnicodeError):
        return _encoding_error(path, encoding)
    if "Expected" in text and "columns" in text:
        found = _ragged_row(path, delimiter, encoding, len(header))
        if found is not None:
            line, fields = found
            return TableError("path", f"line {line} has {fields} fields, the header of "
                                      f"{path!r} has {len(header)}.")
    return TableError("path", f"cannot read {path!r} as CSV: {text}.")


def check_decoded(data, path, encoding):
    """Refuse the Arrow table ``data`` read from the CSV file ``path`` when a column came back
    as bytes: Arrow's reader types a column so when its cells are not UTF-8 text (a file in
    another encoding whose first such cell lies beyond the rows the header check decodes)."""
    import pyarrow as pa
    if any(pa.types.is_binary(type) or pa.types.is_large_binary(type)
           for type in data.schema.types):
        raise _encoding_error(path, encoding)


def _encoding_error(path, encoding, found=None):
    """The error of a file that is not text in ``encoding``: where it first cannot be decoded
    (``found``, else looked for: :func:`_undecodable`), with the encoding that reads it when
    one does (its byte-order mark's, or UTF-8, the default). It concerns ``path`` when the
    encoding is UTF-8 (the default), else ``encoding``."""
    import codecs
    utf8 = _arrow_encoding(encoding) == "utf8"
    name, argument = ("UTF-8", "path") if utf8 else (encoding, "encoding")
    wide = _byte_order_mark(path)
    if wide and not codecs.lookup(encoding).name.startswith(wide):
        # latin-1, the usual suggestion, would read it as NULs between the letters
        return TableError(argument, f"{path!r} is {wide.upper()} text (it starts with its "
                                    f"byte-order mark), not {name}", wide)
    found = found or _undecodable(path, _python_encoding(encoding), name)
    detail = f"{path!r} is not {name} text" + (f" ({found})" if found else "")
    if not utf8 and _undecodable(path, "utf-8-sig") is None:
        return TableError(argument, f"{detail}; it is UTF-8 text, the default encoding.")
    return TableError(argument, detail, "encoding")


def _undecodable(path, encoding, name=None, block=1 << 20):
    """Where the file ``path`` first cannot be decoded as ``encoding`` (Python's name; the
    message's is ``name``, by default the same), said for a message: the bytes, their line and
    offset (``"ascii cannot decode byte 0xc3 on line 2, at byte offset 12"``); None when the
    whole file decodes."""
    import codecs
    name = name or encoding
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    ascii_lines = _ascii_lines(encoding)  # else lines are counted in the decoded text
    offset, line = 0, 1  # the bytes given to the decoder before a block; the block's line
    with open(path, "rb") as handle:
        while True:
            data = handle.read(block)
            pending = decoder.getstate()[0]  # bytes of a character that a block cut
            try:
                text = decoder.decode(data, final=not data)
            except UnicodeDecodeError as error:  # its positions count from the pending bytes
                valid = max(error.start - len(pending), 0)
                if ascii_lines:
                    line += data[:valid].count(b"\n")
                else:
                    with contextlib.suppress(UnicodeError):  # the text before the error
                        line += decoder.decode(data[:valid]).count("\n")
                bad = error.object[error.start:error.end][:4]
                shown = " ".join(f"0x{byte:02x}" for byte in bad)
                return (f"{name} cannot decode byte{'s' * (len(bad) > 1)} {shown} on line "
                        f"{line}, at byte offset {max(offset + valid, 0):,}")
            except UnicodeError as error:  # "UTF-16 stream does not start with BOM"
                if "BOM" in str(error):
                    return (f"it does not start with the byte-order mark that {name} needs; "
                            f"{name}-le and {name}-be name the byte order instead")
                return f"{name} cannot decode it: {error}"
            if not data:
                return None
            line += data.count(b"\n") if ascii_lines else text.count("\n")
            offset += len(data)


def _text_codec(encoding):
    """Check that ``encoding`` reads text files: a ``LookupError`` when Python does not know
    it; a :class:`TableError` when it is no text encoding (``rot13``, ``hex``) or does not
    decode a file's text a piece at a time (``idna``, ``punycode``: domain names)."""
    import codecs
    codec = codecs.lookup(encoding)
    sample = "a,b\n1,2\n"
    try:
        works = (getattr(codec, "_is_text_encoding", True)
                 and codec.incrementaldecoder().decode(codec.encode(sample)[0]) == sample)
    except (UnicodeError, TypeError, AttributeError):
        works = False
    if not works:
        raise TableError("encoding", f"{encoding!r} is not an encoding of text files; give "
                                     "one such as utf-8, latin-1 or cp1252.")


def _check_line_breaks(path, encoding, size=1 << 16):
    """Refuse a file whose first ``size`` bytes hold line-break bytes (``\\n``) that
    ``encoding`` does not read as any line break: text in another encoding (UTF-8 read as
    UTF-16-LE or as EBCDIC), whose lines would run together into one."""
    import codecs
    with open(path, "rb") as handle:
        start = handle.read(size)
    if b"\n" not in start:
        return
    text = codecs.getincrementaldecoder(_python_encoding(encoding))("replace").decode(start)
    if "\n" not in text and "\r" not in text:
        raise _encoding_error(path, encoding, f"read as {encoding}, it has no line break "
                                              "where its bytes hold ASCII ones")


def _ragged_row(path, delimiter, encoding, width):
    """``(line, fields)`` of the first non-blank row without ``width`` fields."""
    with open(path, encoding=_python_encoding(encoding), errors="replace", newline="") as handle, \
            _long_fields():
        reader = csv.reader(handle, delimiter=delimiter)
        for row in reader:
            if row and any(cell.strip() for cell in row) and len(row) != width:
                return reader.line_num, len(row)
    return None


def _without_blank_rows(table, path):
    """Drop rows whose cells are all blank (``",,"``), as the lines between records; a row
    of missing markers (``NA,NA``) is a row."""
    rows = blank_candidates(table.data)
    if not len(rows):
        return table
    lines, blank_text = csv_row_lines(path, table.delimiter, table.encoding,
                                      len(table.column_names), with_blank=True)
    table.lines = Lines.given(lines)  # read in the same pass
    rows = rows[blank_text[rows]]
    if not len(rows):
        return table
    keep = np.ones(table.num_rows, dtype=bool)
    keep[rows] = False
    if not keep.any():
        raise TableError("path", f"{path!r} needs a header row and at least one data row.")
    warn(blank_rows_left_out(len(rows), table.lines[int(rows[0])]))
    return table.filter(keep)


def blank_candidates(data):
    """The rows of the Arrow table ``data`` whose cells are all null or spaces: the rows of
    blank cells, and rows of missing markers (``NA,NA``), which only the text tells apart."""
    candidates = _blank(data.column(0))
    if not candidates.any():
        return np.zeros(0, dtype=np.int64)
    from .arrays import from_numpy
    rows = np.flatnonzero(candidates)
    blank = np.ones(len(rows), dtype=bool)
    for name in data.column_names[1:]:
        blank &= _blank(data.column(name).take(from_numpy(rows)))
    return rows[blank]


def blank_rows_left_out(count, line):
    """The warning for ``count`` rows of blank cells left out, the first at file ``line``."""
    return (f"{count} row(s) whose cells are all empty (the first at line {line}) were left "
            "out; the other rows keep their order")


def _blank(column):
    """Null cells, and text cells of spaces only."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from .arrays import mask, scalar
    blank = pc.is_null(column)
    if pa.types.is_string(column.type):
        blank = pc.or_(blank, pc.equal(pc.utf8_trim_whitespace(column), scalar("")))
    return mask(blank, null=True)


def csv_row_lines(path, delimiter, encoding, width, with_blank=False):
    """The file line of each row that :func:`read_table`'s reader makes of a CSV file (empty
    lines and lines of spaces skipped; rows of blank cells kept, to be dropped later), read
    with Python's ``csv`` module: for error messages and row reports. ``with_blank``: also a
    mask of the rows whose cells are all blank (``",,"``), from the same pass."""
    blank = []
    with open(path, encoding=_python_encoding(encoding), errors="replace", newline="") as handle:
        lines = row_lines(handle, delimiter, width, blank=blank)[1:]
    return (lines, np.array(blank[1:], dtype=bool)) if with_blank else lines


def row_lines(handle, delimiter, width, first=1, blank=None):
    """The line (counted from ``first``) where each row of the CSV text ``handle`` starts, as
    Arrow reads rows: empty lines and lines of spaces are no rows; a quoted field over several
    lines keeps its row at its first line. ``blank``, a list, gets for each row whether its
    cells are all blank."""
    lines, start = [], first
    with _long_fields():
        reader = csv.reader(handle, delimiter=delimiter)
        for row in reader:
            written = row and any(cell.strip() for cell in row)
            if row and (len(row) == width or written):
                lines.append(start)
                if blank is not None:
                    blank.append(not written)
            start = reader.line_num + first  # the next row starts on the following line
    return np.array(lines, dtype=np.int64)


# -- Parquet -------------------------------------------------------------------------------
def _read_parquet(path, columns=None):
    import pyarrow as pa
    import pyarrow.parquet as pq
    try:
        data = pq.read_table(path, columns=columns)
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as error:
        raise TableError("path", f"{path!r} is not a readable Parquet file "
                                 f"({_first_sentence(error)}); is it complete?") from None
    if data.num_rows == 0:
        raise TableError("path", f"{path!r} has no rows.")
    return Table(data, path, "parquet")


def _read_parquet_folder(path, columns=None):
    import pyarrow as pa
    files = parquet_files(path)
    schema, first = None, None
    import pyarrow.parquet as pq
    for name in files:
        try:
            found = pq.read_schema(name)
        except (pa.ArrowInvalid, OSError) as error:
            raise TableError("path", f"{name!r} is not a readable Parquet file "
                                     f"({_first_sentence(error)}); is it complete?") from None
        if schema is None:
            schema, first = found, name
        elif not found.equals(schema):
            raise TableError("path", f"the files of folder {path!r} do not share one schema: "
                                     f"{_schema_difference(first, schema, name, found)}.")
    tables = [_read_parquet(name, columns).data for name in files]
    data = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    return Table(data, path, "parquet")


def parquet_files(path):
    """The ``.parquet`` files of a folder, sorted by name; an error when there are none."""
    names = sorted(os.path.join(path, name) for name in os.listdir(path)
                   if name.lower().endswith((".parquet", ".pq")) and not name.startswith((".", "_")))
    if not names:
        raise TableError("path", f"folder {path!r} has no .parquet files.")
    return names


def _schema_difference(first, schema, name, found):
    a, b = dict(zip(schema.names, schema.types)), dict(zip(found.names, found.types))
    only_a, only_b = [n for n in a if n not in b], [n for n in b if n not in a]
    if only_a or only_b:
        return (f"{os.path.basename(first)} has columns {only_a} that "
                f"{os.path.basename(name)} lacks" if only_a else
                f"{os.path.basename(name)} has columns {only_b} that "
                f"{os.path.basename(first)} lacks")
    for column in a:
        if a[column] != b[column]:
            return (f"column {column!r} is {a[column]} in {os.path.basename(first)} and "
                    f"{b[column]} in {os.path.basename(name)}")
    return f"{os.path.basename(first)} and {os.path.basename(name)} order their columns apart"


def _first_sentence(error):
    return str(error).strip().split("\n")[0].rstrip(".")


def table_from_columns(columns):
    """A :class:`Table` of text cells from ``{column: [cells]}`` (rows given in memory)."""
    import pyarrow as pa
    from .arrays import strings
    data = pa.table({name: strings([str(cell) for cell in cells])
                     for name, cells in columns.items()})
    return Table(data, "data", "memory", ",", Lines.counted(data.num_rows, first=2))
