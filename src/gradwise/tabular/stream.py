"""Tables larger than memory: record batches of a Parquet file or folder (or a CSV file), one
pass of statistics, then encoded mini-batches with a bounded shuffle buffer.

Which split a row belongs to is decided by a seeded hash of its position in the table
(:func:`row_splits`), so it is the same in every pass and every process, and no row is in two
splits. Memory holds one record batch and the shuffle buffer, whatever the table's length.
"""
import os
import re

import numpy as np

from .errors import TableError, warn

#: Bytes of CSV text Arrow reads at a time while streaming.
CSV_BLOCK = 4 << 20
#: Splits by name, as :func:`row_splits` numbers them.
SPLITS = {"train": 0, "dev": 1, "test": 2}


def row_splits(positions, seed=0, ratios=(0.6, 0.2, 0.2)):
    """The split of each row position: 0 train, 1 dev, 2 test.

    Notes
    -----
    ``u = splitmix64(position + seed * 2**32) / 2**64`` is uniform in [0, 1); a row is in
    train when ``u < r_train``, in dev when ``u < r_train + r_dev``, else in test. SplitMix64
    (Steele, Lea and Flood 2014) mixes every bit of its input, so neighbouring rows fall
    independently.
    """
    z = np.asarray(positions, dtype=np.uint64) + np.uint64(seed) * np.uint64(1 << 32)
    with np.errstate(over="ignore"):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    cuts = np.cumsum(ratios)[:2]
    return np.searchsorted(cuts, u, side="right").astype(np.int8)


def record_batches(path, batch_rows=65536, columns=None, text_columns=(), encoding="utf-8"):
    """Yield ``(Table, first_position)`` for consecutive record batches of ``path`` (a
    Parquet file, a folder of them, or a CSV file).

    ``columns`` limits a Parquet file's columns; ``text_columns`` are CSV columns read as text
    (the encoding then decides what their cells are, as for a table read whole), ``encoding``
    the CSV file's text encoding."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .read import Table, parquet_files
    path = os.fspath(path)
    if os.path.isdir(path) or path.lower().endswith((".parquet", ".pq")):
        files = parquet_files(path) if os.path.isdir(path) else [path]
        position = 0
        for name in files:
            try:
                # pre_buffer=False: with it, the reader caches every column chunk it has read
                # until the file is closed, which grows with the rows read (the whole file)
                handle = pq.ParquetFile(name, pre_buffer=False)
                for batch in handle.iter_batches(batch_size=batch_rows, columns=columns):
                    table = Table(pa.Table.from_batches([batch]), name, "parquet")
                    table.lines = _offset_lines(position, batch.num_rows)
                    yield table, position
                    position += batch.num_rows
            except (pa.ArrowInvalid, OSError) as error:
                raise TableError("path", f"{name!r} is not a readable Parquet file "
                                         f"({str(error).splitlines()[0]}); is it complete?") \
                    from None
        return
    from .read import check_plain_text, csv_head, wide_encoding
    check_plain_text(path)
    if wide_encoding(encoding):
        csv_head(path, encoding)  # a file that is no text in that encoding is said to be so
        raise TableError("encoding", f"a CSV file in {encoding} cannot be read in record "
                                     "batches (its line breaks are not single bytes); convert "
                                     f"{path!r} to UTF-8 first (iconv -f {encoding} -t UTF-8)")
    yield from _csv_batches(path, batch_rows, text_columns, encoding)


def estimated_rows(path):
    """The rows of a table: a Parquet file's or folder's from its metadata, a CSV file's
    estimated from its size and the line breaks of its first megabyte."""
    import pyarrow.parquet as pq

    from .read import parquet_files
    path = os.fspath(path)
    if os.path.isdir(path) or path.lower().endswith((".parquet", ".pq")):
        files = parquet_files(path) if os.path.isdir(path) else [path]
        return sum(pq.ParquetFile(name).metadata.num_rows for name in files)
    with open(path, "rb") as handle:
        head = handle.read(1 << 20)
    return int(os.path.getsize(path) * head.count(b"\n") / max(len(head), 1))


def _offset_lines(position, rows):
    from .read import Lines
    return Lines(lambda: np.arange(position + 1, position + 1 + rows))


def _csv_batches(path, batch_rows, text_columns=(), encoding="utf-8"):
    """A CSV file block by block: types inferred from the first block (integers read as floats,
    so that a later block's fractions still fit), ``text_columns`` read as text; a column that
    a later block cannot convert to its type is read as text in that block. Each row carries
    its file line: counted on from the chunk's first line when every line of the chunk is a
    row, else read off the chunk's text (blank lines, quoted fields over several lines)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from .arrays import from_numpy
    from .read import (NULL_MARKERS, Lines, Table, _arrow_encoding, _csv_error,
                       blank_candidates, blank_rows_left_out, check_decoded, csv_chunks,
                       csv_head, first_rows_types, read_csv_rows)
    skip, delimiter, header, unnamed = csv_head(path, encoding)
    as_text = {name: pa.string() for name in header if name in set(text_columns)}

    read = pacsv.ReadOptions(column_names=header, encoding=_arrow_encoding(encoding))

    def parse(newlines_in_values):
        return pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=newlines_in_values)

    def convert(types):
        return pacsv.ConvertOptions(
            column_types=types, null_values=NULL_MARKERS, strings_can_be_null=False,
            quoted_strings_can_be_null=False, true_values=[], false_values=[])

    def read_block(chunk, types):
        """The chunk's rows with ``types``; a column whose cells this chunk cannot convert
        to its type (a stray cell, a date that is not one) is read as text, for the reader
        of its cells to name them or read them as missing."""
        types = dict(types)
        while True:
            try:
                return read_csv_rows(pa.py_buffer(chunk), read, parse, convert(types),
                                     quoted=b'"' in chunk)
            except pa.ArrowInvalid as error:
                found = re.search(r"CSV column #(\d+).*conversion error", str(error))
                if found is None or types.get(header[int(found.group(1))]) == pa.string():
                    raise
                types[header[int(found.group(1))]] = pa.string()

    try:
        types, position, line = None, 0, skip + 2  # the first line after the header
        left_out, first_left_out = 0, None  # rows of blank cells, as a read of the whole file
        for chunk in csv_chunks(path, skip + 1, CSV_BLOCK):
            block = read_block(chunk, types or as_text)
            check_decoded(block, path, encoding)
            if types is None:  # the first block's types (integers as floats) for every block;
                # a column of empty cells and markers there is text (a later block's "NA" in
                # a text column a level, as in a table read whole), not nulls
                types = first_rows_types(block.schema, as_text, nulls=pa.string())
                if any(pa.types.is_null(t) for t in block.schema.types):  # again, as text
                    block = read_block(chunk, types)
                else:
                    block = block.cast(pa.schema([(name, types[name]) for name in header]))
            blank = blank_candidates(block)
            lines, blank_text, line = _chunk_lines(chunk, line, block.num_rows, delimiter,
                                                   len(header), encoding, len(blank) > 0)
            blank = blank[blank_text[blank]] if len(blank) else blank
            if len(blank):  # rows of blank cells (",,"), left out as read_table leaves them
                keep = np.ones(block.num_rows, dtype=bool)
                keep[blank] = False
                first_left_out = first_left_out or int(lines[blank[0]])
                left_out += len(blank)
                block, lines = block.filter(from_numpy(keep)), lines[keep]
            for offset in range(0, block.num_rows, batch_rows):  # at most batch_rows a batch
                batch = block.slice(offset, batch_rows)
                table = Table(batch, path, "csv", delimiter,
                              Lines.given(lines[offset:offset + batch.num_rows]), encoding,
                              unnamed)
                yield table, position
                position += batch.num_rows
        if not position:  # as read_table refuses a file of no rows
            raise TableError("path", f"{path!r} needs a header row and at least one data row.")
        if left_out:
            warn(blank_rows_left_out(left_out, first_left_out))
    except (UnicodeError, LookupError) as error:
        raise _csv_error(path, delimiter, encoding, header, error) from None
    except pa.ArrowInvalid as error:
        if "UTF8" in str(error) or "Expected" in str(error):
            raise _csv_error(path, delimiter, encoding, header, error) from None
        raise TableError("path", f"cannot stream {path!r}: {str(error).splitlines()[0]}; "
                                 "save it as Parquet to stream it.") from None


def _chunk_lines(chunk, first, rows, delimiter, width, encoding, with_blank=False):
    """``(lines, blank, next_line)``: the file line of each of the ``rows`` rows Arrow read
    from the bytes ``chunk``, whose first line is ``first``, whether each row's cells are all
    blank (``",,"``; read off the text only ``with_blank``, else all False), and the first
    line after the chunk."""
    import io

    from .read import _python_encoding, row_lines
    physical = chunk.count(b"\n") + (not chunk.endswith(b"\n"))
    blank = []
    if physical == rows and not with_blank:  # every line a row: no blank line, no field
        lines = np.arange(first, first + rows, dtype=np.int64)
    else:
        text = chunk.decode(_python_encoding(encoding), errors="replace")
        lines = row_lines(io.StringIO(text, newline=""), delimiter, width, first, blank=blank)
    return lines, np.array(blank or [False] * rows, dtype=bool), first + chunk.count(b"\n")


def exact_batches(batches, rows):
    """The tables of ``batches`` (``(Table, position)`` pairs) regrouped into tables of exactly
    ``rows`` rows, the last shorter.

    A network's outputs for a row can depend, in their last bits, on the rows computed with it
    (BLAS picks its kernels by the matrix's shape); ``Sequential.predict`` computes rows in
    chunks of 8192 from the first, so batches of a multiple of 8192 rows give every row the
    bits that predicting the whole table at once gives it.
    """
    import pyarrow as pa

    from .read import Lines, Table
    held, count = [], 0

    def joined(parts, first, size):
        try:
            data = pa.concat_tables([part.data for part in parts],
                                    promote_options="permissive").slice(first, size)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            raise TableError("path", f"the files of {parts[0].path!r} do not share one schema "
                                     f"({str(error).splitlines()[0]}).") from None
        lines = np.concatenate([np.asarray(part.lines) for part in parts])[first:first + size]
        head = parts[0]
        return Table(data, head.path, head.kind, head.delimiter, Lines(lambda: lines),
                     head.encoding, head.unnamed)

    start = 0  # rows of held[0] already given
    for table, _ in batches:
        held.append(table)
        count += table.num_rows
        while count - start >= rows:
            yield joined(held, start, rows)
            start += rows
            while held and start >= held[0].num_rows:  # drop the tables given whole
                start -= held[0].num_rows
                count -= held[0].num_rows
                held.pop(0)
    if count - start > 0:
        yield joined(held, start, count - start)


def saved_batches(path, spec, target=None, fill=False, encoding="utf-8", batch_rows=65536):
    """Yield ``(X, y, unknown, lines, gaps)`` record batch by record batch: a table too large
    for memory encoded as a saved model's ``spec`` says, each batch as
    :func:`gradwise.tabular.csv.encode_saved` encodes a table read whole (``y`` the target's
    text cells or None, ``unknown`` an :class:`~gradwise.tabular.columns.Unseen`, ``lines``
    each row's file line, ``gaps`` the missing numbers filled with the spec's fills when
    ``fill``).

    Every CSV column is read as text (the spec decides what its cells are), so that a cell that
    is no number names its line as when the table is read whole. Every batch but the last has
    ``batch_rows`` rows (:func:`exact_batches`).
    """
    from .columns import encode
    from .csv import complete, new_table_target
    names = [column["name"] for column in spec]
    for table in exact_batches(record_batches(path, batch_rows, text_columns=names + [target],
                                              encoding=encoding), batch_rows):
        y = new_table_target(table, spec, target, path)
        X, unknown = encode(table, spec, fill, remedy="no-fills")
        gaps = int(np.isnan(X).sum()) if fill else 0
        if fill:
            X = complete(X, spec)[0]
        yield X, y, unknown, np.asarray(table.lines), gaps


#: Rows of a record batch whose moments are summed at a time, in float64.
MOMENT_ROWS = 4096

#: Values per feature kept for the median (``impute="median"``).
RESERVOIR = 100_000


class Reservoir:
    """A uniform sample of at most ``size`` of the values seen, per feature, by Algorithm R
    (Vitter 1985) with a seeded generator: the same values in the same order give the same
    sample.

    Notes
    -----
    The ``t``-th value (from 1) is kept while ``t <= size``; after that it replaces the kept
    value at ``j`` when ``j``, drawn uniformly from ``0 .. t - 1``, is below ``size``. Every
    value seen is then in the sample with probability ``size / t``.
    """

    def __init__(self, n_features, size=RESERVOIR, seed=0):
        self.size, self.rng = int(size), np.random.default_rng(seed)
        self.kept = [np.empty(0) for _ in range(n_features)]
        self.seen = np.zeros(n_features, dtype=np.int64)

    def add(self, feature, values):
        """Offer the 1-d ``values`` (in order) to ``feature``'s sample."""
        values = np.asarray(values, dtype=np.float64)
        kept, seen = self.kept[feature], int(self.seen[feature])
        room = max(self.size - len(kept), 0)
        if room:
            kept = np.concatenate([kept, values[:room]])
        rest = values[room:]
        if len(rest):
            draws = self.rng.integers(0, seen + room + 1 + np.arange(len(rest)))
            replace = draws < self.size
            slots, taken = draws[replace], rest[replace]
            last = len(slots) - 1 - np.unique(slots[::-1], return_index=True)[1]
            kept[slots[last]] = taken[last]  # a slot replaced twice keeps the later value
        self.kept[feature] = kept
        self.seen[feature] = seen + len(values)

    def median(self, feature):
        return float(np.median(self.kept[feature]))


class Statistics:
    """One pass over a table: each column's encoding (levels, date parts, fills) and the
    training rows' moments of the encoded features, with the target's classes or moments.

    Attributes
    ----------
    spec : list of dict
        The column encoding, as :func:`gradwise.tabular.csv.read_csv` returns it, with the
        fills of numeric and date columns when ``impute``: the training rows' means, or their
        medians (``impute="median"``), taken from a seeded reservoir sample of at most
        :data:`RESERVOIR` values per feature (Vitter's Algorithm R): exact when the training
        rows' values fit in it, an estimate otherwise.
    mean, scale : ndarray
        Moments of each encoded feature over the training rows (the "is missing" indicators
        included), for a ``Normalization`` layer; embedded codes get mean 0 and scale 1.
    classes : list or None
        Sorted class labels (text) for classification.
    y_mean, y_std : float
        The target's moments over the training rows (regression).
    counts : dict
        Rows per split.
    class_counts : dict
        Training rows per target value (classification: for class weights), at most 1000
        values counted.
    """

    def batches(self):
        """Yield ``(Table, first_position)`` for the record batches of the table scanned,
        their stray cells read as missing (the scan refused them unless ``impute``)."""
        from .stray import blank_stray_cells
        for table, start in record_batches(self.path, self.batch_rows, **self.read):
            yield (blank_stray_cells(table, self.spec) if self.impute else table), start


def scan(path, target, seed=0, ratios=(0.6, 0.2, 0.2), impute=False, drop=(), categorical=(),
         embed_threshold=None, task=None, batch_rows=65536, encoding="utf-8"):
    """The :class:`Statistics` of ``path`` in one pass of record batches (and a second one for
    the moments of the encoded features).

    Each column gets the kind it gets when the table is read whole (numbers, ISO dates, text;
    rows without a target left out): decided on the first batch with a row that has a target,
    and checked against the counts of the whole file at the end of the pass (see
    :class:`~gradwise.tabular.stray.StrayCells`). A column whose share of cells that are not
    numbers (or dates) is near the 10% that makes it text, and is uneven over the file, can
    be decided otherwise on its first batch: then the pass is made again with the file's
    kinds, and only the warnings of that second pass are given. The levels of text columns,
    the gaps and times of day, and the stray cells of number and date columns (refused naming
    their lines, or with ``impute`` read as missing, as for a table read whole) come from every
    batch. ``impute``: False, True or ``"mean"`` (fills are the training rows' means), or
    ``"median"``. ``target`` None: features only (every column but ``drop``).
    """
    import warnings
    given = (path, target, seed, ratios, impute, drop, categorical, embed_threshold, task,
             batch_rows, encoding)
    said, kinds = [], None
    try:
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            stats, kinds = _scan(*given)
    finally:
        if not kinds:  # this pass stands (or was refused): what it said is said
            registry = {}
            for told in said:
                warnings.warn_explicit(told.message, told.category, told.filename,
                                       told.lineno, registry=registry, source=told.source)
    if not kinds:
        return stats
    stats, again = _scan(*given, kinds=kinds)
    if again:  # cannot be: the second pass starts with the file's kinds
        raise RuntimeError(f"the kinds of columns {sorted(again)} of {path!r} changed between "
                           "two scans of the file")
    return stats


def _scan(path, target, seed, ratios, impute, drop, categorical, embed_threshold, task,
          batch_rows, encoding, kinds=None):
    """``(stats, None)`` of :func:`scan`, or ``(None, kinds)`` when the first batch decided a
    column's kind otherwise than the whole file (``kinds``: the file's, by column name), to be
    made again with ``kinds``."""
    from .columns import BatchColumns, infer_spec, width
    from .csv import (check_feature_names, check_finite_target, check_named_columns,
                      check_target_scale, leave_out_unnamed, target_values)
    stats, spec, levels, targets, written, early = Statistics(), None, {}, set(), {}, {}
    y_sum = y_sq = y_largest = 0.0
    counts, without, first, trained = np.zeros(3, dtype=np.int64), 0, None, {}
    kinds = kinds or {}
    categorical = tuple(categorical) + tuple(name for name, kind in kinds.items()
                                             if kind == "category")
    read = {"text_columns": categorical, "encoding": encoding}
    from .stray import FileTypes, StrayCells
    types = FileTypes()  # the columns' types read whole, for the kinds' check at the end
    for table, start in record_batches(path, batch_rows, **read):
        names = [name for name in table.column_names if name != target and name not in drop]
        types.add(table, [name for name in names if name not in categorical])
        if start == 0:  # the names and columns, checked as for a table read whole
            header, unnamed = table.column_names, table.unnamed
            check_named_columns(table.column_names, target, drop, categorical)
            check_feature_names(path, names, target, drop)
        split = row_splits(np.arange(start, start + table.num_rows), seed, ratios)
        as_read = table
        if target is not None:
            y, gaps = target_values(table, target)
            if y.dtype.kind == "f":
                check_finite_target(table, target, y, gaps)
            if gaps.any():  # left out of every split, and of the columns' kinds, gaps and
                if not without:  # levels, as when the table is read whole
                    first = table.where(int(np.argmax(gaps))).split(" of ")[0]
                without += int(gaps.sum())
                y, split, table = y[~gaps], split[~gaps], table.filter(~gaps)
        if spec is None and not table.num_rows:  # no row with a target yet: the kinds come
            # from the first batch that has one, as a table read whole leaves these rows out
            # first; only whether they wrote a cell in each column is kept (see below)
            for name in names:
                early[name] = early.get(name, False) or _written(as_read, name)
            continue
        cells = BatchColumns(table)  # each column's views, shared by the checks below
        if spec is None:  # decided by the first batch, checked as a table read whole
            stray = StrayCells(impute, types, kinds)
            spec, _ = infer_spec(table, names, categorical, check=stray.first, kinds=kinds)
            stray.start(spec)
            written = dict(early)
        elif table.num_rows:
            stray.check(table, cells)
        if not impute and table.num_rows:
            stray.check_gaps(table, cells)
        for column in spec:
            if column["kind"] == "category":
                text = cells[column["name"]].category_text()
                levels.setdefault(column["name"], set()).update(
                    text.unique().to_pylist())
            if not written.get(column["name"]):  # a cell not missing, in any row
                written[column["name"]] = _written(as_read, column["name"])
        if target is None:
            counts += np.bincount(split, minlength=3)
            continue
        counts += np.bincount(split, minlength=3)
        train = split == 0
        if y.dtype.kind == "f" and len(y):
            with np.errstate(over="ignore", invalid="ignore"):
                y_sum += float(np.sum(y[train]))
                y_sq += float(np.sum(y[train] ** 2))
            y_largest = max(y_largest, float(np.abs(y).max()))
        if len(targets) <= 1000:
            targets.update(np.unique(y).tolist())
            for value, count in zip(*np.unique(y[train], return_counts=True)):
                trained[value.item()] = trained.get(value.item(), 0) + int(count)
    if spec is None and without:
        raise TableError("target", f"column {target!r} has no values.")
    if spec is None:
        raise TableError("path", f"{path!r} has no rows.")
    differ = stray.finish(written)
    if differ:
        return None, differ
    empty = [column["name"] for column in spec
             if column["name"] in unnamed and not written[column["name"]]]
    if empty:  # no name, no value: a separator at the end of every line, left out
        leave_out_unnamed(path, header, empty)
        spec = [column for column in spec if column["name"] not in empty]
        check_feature_names(path, [column["name"] for column in spec], target, drop)
    if target is not None and not counts.sum():
        raise TableError("target", f"column {target!r} has no values.")
    if without:
        warn(f"{without} row(s) without a value in {target!r} (the first at {first}) were "
             "left out")
    for column in spec:
        name = column["name"]
        if column["kind"] == "category" and name not in categorical and not written[name]:
            # missing cells only, in every row of a CSV file: read whole, Arrow types such a
            # column as nulls, a number column whose every value is missing
            column["kind"], column["missing"] = "number", True
            column.pop("levels", None)
            continue
        if column["kind"] == "category":
            column["levels"] = sorted(levels[column["name"]])
            if embed_threshold is not None and len(column["levels"]) > embed_threshold:
                column["embed"] = True
    if not impute:  # before any training, as the table read whole is refused on encoding
        stray.refuse_gaps(spec)
    stats.counts = dict(zip(SPLITS, counts.tolist()))
    stats.class_counts = trained
    numeric = all(isinstance(v, float) for v in targets)
    integral = numeric and all(float(v).is_integer() for v in targets)
    stats.task = task or ("classification" if not numeric or (integral and len(targets) <= 20)
                          else "regression")
    stats.classes = sorted(targets, key=lambda v: (isinstance(v, str), v)) \
        if stats.task == "classification" else None
    n_train = max(counts[0], 1)
    stats.y_mean = y_sum / n_train
    with np.errstate(over="ignore", invalid="ignore"):
        stats.y_std = float(np.sqrt(max(y_sq / n_train - stats.y_mean ** 2, 0.0))) or 1.0
    if stats.task == "regression":
        check_target_scale(target, stats.y_mean, stats.y_std, y_largest)
    stats.spec, stats.target, stats.seed, stats.ratios = spec, target, seed, ratios
    stats.impute = {True: "mean", False: None}.get(impute, impute)
    stats.path, stats.batch_rows, stats.read = path, batch_rows, read
    _moments(stats, width)
    return stats, None


def _written(table, name):
    """Whether a record batch wrote a cell in column ``name``: one not empty nor a missing
    marker in a CSV file (a Parquet file's column keeps its schema's type, written or not)."""
    from .columns import Column
    return table.kind != "csv" or not Column(table, name).gaps().all()


def _moments(stats, width):
    """Second pass: the training rows' sums of the encoded features (and fills); rows without
    a target value are left out, as when the table is read whole."""
    from .columns import encode
    from .csv import target_values
    total = sq = count = None
    rows = 0
    median = stats.impute == "median"
    # only number and date features can be missing (NaN): one-hot and code features, often
    # most of a wide encoding, are summed without a mask, in float64 row blocks (a float64
    # copy of a wide batch would cost more in fresh memory than the sums)
    filled = np.flatnonzero([column["kind"] in ("number", "date") for column in stats.spec
                             for _ in range(width(column))])
    block = None
    for table, start in stats.batches():
        train = row_splits(np.arange(start, start + table.num_rows), stats.seed,
                           stats.ratios) == 0
        if stats.target is not None:
            train &= ~target_values(table, stats.target)[1]
        X = encode(table.filter(train), stats.spec, impute=True)[0]
        if total is None:
            total, sq, count = (np.zeros(X.shape[1]) for _ in range(3))
            reservoir = Reservoir(X.shape[1], seed=stats.seed) if median else None
            block = np.empty((MOMENT_ROWS, X.shape[1]))
        gappy = X[:, filled].astype(np.float64)
        present = ~np.isnan(gappy)
        gappy[~present] = 0.0
        for first in range(0, len(X), MOMENT_ROWS):
            rows_here = slice(first, first + MOMENT_ROWS)
            part = block[:len(X[rows_here])]
            np.copyto(part, X[rows_here])
            part[:, filled] = gappy[rows_here]
            total += part.sum(axis=0)
            sq += np.square(part, out=part).sum(axis=0)
        count += len(X)
        count[filled] -= (~present).sum(axis=0)
        rows += len(X)
        if median:
            for k, j in enumerate(filled):
                reservoir.add(j, gappy[present[:, k], k])
    mean = total / np.maximum(count, 1)
    var = np.maximum(sq / np.maximum(count, 1) - mean ** 2, 0.0)
    stats.sums = {"total": total, "sq": sq, "count": count, "rows": rows}
    position = 0
    for column in stats.spec:
        size = width(column)
        if column["kind"] in ("number", "date") and stats.impute:
            if not count[position]:
                raise TableError("path", f"column {column['name']!r} has no values in the "
                                         "training split to impute from", "drop",
                                 column["name"])
            block = ([reservoir.median(j) for j in range(position, position + size)] if median
                     else mean[position:position + size].tolist())
            column["fill"] = float(block[0]) if column["kind"] == "number" else block
            column["indicator"] = bool(column.pop("missing", False) or count[position] < rows)
        if column.get("embed"):
            mean[position], var[position] = 0.0, 1.0
        position += size
    scale = np.sqrt(var)
    scale[scale == 0] = 1.0
    indicators = [c for c in stats.spec if c.get("indicator")]
    stats.mean = np.concatenate([mean, np.zeros(len(indicators))])
    stats.scale = np.concatenate([scale, np.ones(len(indicators))])


def completed_moments(stats):
    """``(mean, scale)`` of every training row's completed features (missing numbers filled,
    "is missing" indicators appended, as :func:`gradwise.tabular.csv.complete` makes them),
    from the sums of the statistics pass, as
    :func:`gradwise.layers.normalization.standard_moments` defines them on the matrix.

    Notes
    -----
    A feature with ``c`` present values of sum ``s`` and sum of squares ``q`` among ``n`` rows,
    filled with ``f``, has mean ``(s + (n - c) f) / n`` and variance ``(q + (n - c) f^2) / n``
    minus the squared mean; an indicator of ``m = n - c`` gaps has mean ``m / n`` and variance
    ``(m / n)(1 - m / n)``. A (near) constant feature gets scale 1.
    """
    from .spec import _positions, _width
    sums = stats.sums
    n = max(sums["rows"], 1)
    total, sq, count = sums["total"].copy(), sums["sq"].copy(), sums["count"]
    gaps = []
    for column, position in zip(stats.spec, _positions(stats.spec)):
        if column["kind"] not in ("number", "date") or "fill" not in column:
            continue
        size = _width(column)
        fill = np.atleast_1d(np.asarray(column["fill"], dtype=np.float64))
        missing = n - count[position:position + size]
        total[position:position + size] += missing * fill
        sq[position:position + size] += missing * fill ** 2
        if column.get("indicator"):
            gaps.append(missing[0])
    share = np.asarray(gaps, dtype=np.float64) / n
    mean = np.concatenate([total / n, share])
    var = np.concatenate([np.maximum(sq / n - (total / n) ** 2, 0.0), share * (1 - share)])
    scale = np.sqrt(var)
    tiny = 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean))
    return mean, np.where(scale < tiny, 1.0, scale)


class TableBatches:
    """Re-iterable encoded mini-batches of one split of a table too large for memory.

    Each pass reads the record batches in order, keeps the rows of ``split`` (by
    :func:`row_splits`), encodes them with the statistics' spec (missing numbers filled with
    the training means when imputing), and shuffles them within a buffer of ``buffer_rows``
    before cutting ``batch_size`` batches. Give it to :func:`gradwise.data.fit_batches`.

    Parameters
    ----------
    stats : Statistics
        From :func:`scan`.
    split : {"train", "dev", "test"}
    batch_size : int
    buffer_rows : int
        Rows shuffled together (memory: ``buffer_rows`` encoded rows).
    shuffle : bool
    seed : int
        Seeds the shuffle; each pass draws a new order from the same generator.
    dtype : numpy dtype, default float32
    """

    def __init__(self, stats, split="train", batch_size=64, buffer_rows=262144, shuffle=True,
                 seed=0, dtype=np.float32):
        if split not in SPLITS:
            raise ValueError(f"split: expected one of {list(SPLITS)}, received {split!r}.")
        self.stats, self.split, self.batch_size = stats, SPLITS[split], int(batch_size)
        self.buffer_rows, self.shuffle, self.dtype = int(buffer_rows), bool(shuffle), dtype
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        count = list(self.stats.counts.values())[self.split]
        return -(-count // self.batch_size)

    def encoded(self):
        """Yield ``(X, y)`` of the split's rows, record batch by record batch."""
        from .csv import encode_filled, target_values
        stats = self.stats
        for table, start in stats.batches():
            keep = row_splits(np.arange(start, start + table.num_rows), stats.seed,
                              stats.ratios) == self.split
            y, gaps = target_values(table, stats.target)
            keep &= ~gaps
            if not keep.any():
                continue
            X = encode_filled(table.filter(keep), stats.spec, stats.impute)
            yield np.ascontiguousarray(X, dtype=self.dtype), self._targets(y[keep])

    def _targets(self, y):
        stats = self.stats
        if stats.task == "classification":
            classes = np.asarray(stats.classes)
            index = np.minimum(np.searchsorted(classes, y), len(classes) - 1)
            unseen = classes[index] != y
            if unseen.any():
                raise TableError("path", f"the target has a class {y[unseen][0]!r} that the "
                                         "statistics pass did not see.")
            return index.astype(np.int64)
        return ((y - stats.y_mean) / stats.y_std).astype(np.float64)

    def __iter__(self):
        split_rows = list(self.stats.counts.values())[self.split]
        buffer = _Buffer(min(self.buffer_rows + self.stats.batch_rows, split_rows))
        held = 0
        for X, y in self.encoded():
            held = buffer.put(held, X, y)
            if held >= self.buffer_rows:
                full = held - held % self.batch_size
                yield from self._batches(*buffer.rows(0, full))
                held = buffer.move_to_front(full, held)
        if held:
            yield from self._batches(*buffer.rows(0, held))

    def _batches(self, X, y):
        """Batches of ``X`` and ``y`` (views of the buffer): copies, as the buffer is reused."""
        order = self.rng.permutation(len(X)) if self.shuffle else np.arange(len(X))
        for start in range(0, len(X), self.batch_size):
            rows = order[start:start + self.batch_size]
            yield X[rows], y[rows]


class _Buffer:
    """The shuffle buffer of :class:`TableBatches`: one ``X`` and one ``y`` array for a whole
    pass, filled record batch by record batch and reused, instead of a new concatenation for
    each buffer's worth of rows (freed buffers of tens of MB are what the C allocator keeps).

    ``capacity``: the buffer's rows plus one record batch, or the split's rows when fewer, so
    that it is allocated once.
    """

    def __init__(self, capacity):
        self.capacity, self.X, self.y = int(capacity), None, None

    def put(self, held, X, y):
        """Write ``X`` and ``y`` after the ``held`` rows; the rows now held."""
        end = held + len(X)
        if self.X is None or end > len(self.X):
            size = max(end, self.capacity)
            grown_X = np.empty((size,) + X.shape[1:], dtype=X.dtype)
            grown_y = np.empty((size,) + y.shape[1:], dtype=y.dtype)
            if held:
                grown_X[:held], grown_y[:held] = self.X[:held], self.y[:held]
            self.X, self.y = grown_X, grown_y
        self.X[held:end], self.y[held:end] = X, y
        return end

    def rows(self, start, stop):
        return self.X[start:stop], self.y[start:stop]

    def move_to_front(self, start, stop):
        """Move the rows ``start:stop`` to the front; the rows now held."""
        rest = stop - start
        if rest:
            self.X[:rest], self.y[:rest] = self.X[start:stop], self.y[start:stop]
        return rest
