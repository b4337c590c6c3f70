"""What each column of an Arrow table is (number, ISO date or category) and its encoding into
a C-ordered float32 matrix, one column at a time in Arrow's compute kernels: no Python object
per cell.

The rules are those of the hand-written CSV reader they replace: cells are stripped; a column
is numeric when every cell is a finite number or missing (empty, or a marker such as ``NA``); in
files not separated by commas a decimal comma (``1,5``) is a decimal point; a column of ISO dates
(``2024-03-15``, with or without a time) becomes year, month, day, weekday (and hour); any other
column is a category, one-hot encoded, or, with more levels than ``embed_threshold``, one
integer code for a :class:`~gradwise.layers.CategoryEmbedding` (0 for a level not seen in
training, the levels from 1).
"""
import numpy as np

from .arrays import floats, from_numpy, mask, rows, scalar, strings, to_numpy, valid, views
from .errors import TableError, shown_cell, warn

#: How a missing category cell is encoded when missing values are imputed: a level of its own.
MISSING_LEVEL = "(missing)"
#: Cells that stand for a missing number in common exports (pandas, R, spreadsheets).
MARKERS = ("na", "n/a", "nan", "null", "none", "?", "-", "#n/a")
#: An ISO date, with an optional time after "T" or a space.
ISO_DATE = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
#: A number written with a decimal comma ("-1,5", ",25", "3,0e-2"), as in ";"-separated files.
DECIMAL_COMMA = r"^([+-]?\d*),(\d+(?:[eE][+-]?\d+)?)$"
_DATE_PARTS = ["year", "month", "day", "weekday"]
#: The largest magnitude a feature can have: float32's. A larger number (``1e39``) would be
#: infinite in the float32 matrix, so it counts as a cell that is not a finite number.
LARGEST = float(np.finfo(np.float32).max)


def finite(values, largest=LARGEST):
    """Mask of the float64 ``values`` that are finite numbers at most ``largest`` in size (by
    default those the float32 matrix can hold)."""
    with np.errstate(invalid="ignore"):
        return np.abs(values) <= largest


def _pa():
    import pyarrow as pa
    import pyarrow.compute as pc
    return pa, pc


def _empty(text):
    """Mask of the empty cells of a text array."""
    pa, pc = _pa()
    return mask(pc.equal(text, scalar("")))


def _missing(text):
    """Mask of the stripped text cells that are missing: empty, or a marker such as ``NA``."""
    pa, pc = _pa()
    return _empty(text) | mask(pc.is_in(pc.utf8_lower(text), value_set=strings(MARKERS)))


def _nulls_where(gaps, text):
    """``text`` with null cells where the NumPy mask ``gaps`` is True."""
    pa, pc = _pa()
    return pc.if_else(from_numpy(gaps), scalar(None, pa.string()), text)


def _distinct(text):
    """``(cells, index)``: the distinct cells of a text column (an Arrow array, a null among
    them when the column has some) and the position of each row's cell among them (int32)."""
    pa, pc = _pa()
    encoded = pc.dictionary_encode(text, null_encoding="encode").combine_chunks()
    return encoded.dictionary, to_numpy(encoded.indices)


class Column:
    """One column of a table, analysed once: ``text`` (stripped cells, decimal commas read,
    for text columns), ``numbers`` (float64 with NaN for missing cells, for numeric ones),
    ``dates`` (for date columns) and the type it was stored as. The views each check needs
    (gaps, a numeric column's values, the distinct cells) are made once and kept.

    Text is stripped and checked once per distinct cell (:meth:`distinct`), and the result
    given to each row through its position among them: a column of categories holds few
    distinct cells, and the per-row text is made only for the checks that need it.

    A number larger than ``largest`` in size counts as no finite number: by default those the
    float32 matrix cannot hold (a target is read in float64, with ``largest=np.inf``)."""

    def __init__(self, table, name, largest=LARGEST):
        pa, pc = _pa()
        self.name, self.table, self.largest = name, table, largest
        column = table.data.column(name)
        self.type = column.type
        if pa.types.is_dictionary(self.type):
            column, self.type = column.cast(self.type.value_type), self.type.value_type
        if pa.types.is_duration(self.type):  # a length of time: a number (of its unit)
            column, self.type = column.cast(pa.int64()), pa.int64()
        self.raw = column
        self.native = not (pa.types.is_string(self.type) or pa.types.is_large_string(self.type))
        if self.native and not (pa.types.is_integer(self.type) or pa.types.is_floating(self.type)
                                or pa.types.is_decimal(self.type) or pa.types.is_boolean(self.type)
                                or pa.types.is_temporal(self.type) or pa.types.is_null(self.type)):
            raise TableError("path", f"column {name!r} of {table.path!r} holds {self.type} "
                                     "values; only numbers, text, booleans and dates can be "
                                     "encoded", "drop", name)
        self._text = self._gaps = self._views = self._distinct = None

    # -- views of the cells ----------------------------------------------------------------
    @property
    def is_temporal(self):
        pa, _ = _pa()
        return pa.types.is_temporal(self.type) and not pa.types.is_time(self.type)

    @property
    def is_numeric_type(self):
        pa, _ = _pa()
        return (pa.types.is_integer(self.type) or pa.types.is_floating(self.type)
                or pa.types.is_decimal(self.type) or pa.types.is_null(self.type))

    def distinct(self):
        """``(cells, index)``: the distinct cells, stripped (no nulls: a missing cell is "";
        decimal commas read as points in files not separated by commas), as an Arrow string
        array (two raw cells may strip to one), and the position of each row's cell among
        them, a NumPy int32 array. Every one of the cells is some row's."""
        if self._distinct is None:
            pa, pc = _pa()
            column = self.raw
            if self.native:  # each cell as text, as written by Arrow
                column = pc.cast(column, pa.string())
            cells, index = _distinct(column)
            cells = pc.utf8_trim_whitespace(pc.fill_null(cells, scalar("")))
            if self.table.delimiter not in (None, ","):
                cells = pc.replace_substring_regex(cells, DECIMAL_COMMA, r"\1.\2")
            self._distinct = cells, index
        return self._distinct

    def text(self):
        """Stripped text cells, one a row (see :meth:`distinct`)."""
        if self._text is None:
            pa, _ = _pa()
            self._text = pa.chunked_array([self.text_at(slice(None))])
        return self._text

    def text_at(self, rows):
        """The stripped text cells (an Arrow array) of the rows ``rows`` (a NumPy index)."""
        cells, index = self.distinct()
        return cells.take(from_numpy(index[rows]))

    def empty(self):
        """Empty cells (stripped): a mask."""
        cells, index = self.distinct()
        return _empty(cells)[index]

    def read_as_missing(self, rows):
        """Read the cells at the row indices ``rows`` of a text column as missing (empty)."""
        pa, pc = _pa()
        blank = np.zeros(len(self.raw), dtype=bool)
        blank[rows] = True
        self._text = pc.if_else(from_numpy(blank), scalar(""), self.text())
        self._distinct = _distinct(self._text)  # stripped already
        self._gaps = None

    @property
    def stored_numbers(self):
        """True for a column Arrow stored as integers or floats: its values are read from
        Arrow's buffers chunk by chunk (:meth:`number_rows`), with no copy of the column."""
        pa, _ = _pa()
        return self.native and (pa.types.is_integer(self.type) or pa.types.is_floating(self.type))

    def number_rows(self, start, stop):
        """The stored values of rows ``start:stop`` of a :attr:`stored_numbers` column (a view
        of Arrow's buffer where it can be: do not change it); a missing cell's value is
        whatever its slot holds (see :meth:`gaps`)."""
        if self._views is None:
            self._views = views(self.raw)
        return rows(*self._views, start, stop)

    def gaps(self):
        """Missing cells: null, empty, or a marker such as ``NA``; for stored floats, also NaN
        and the numbers not finite (infinite, or larger than ``largest``). The mask is kept
        only when it marks a cell (a byte a row per column: 200 MB for 20 columns of 10M
        rows); otherwise each call gives a new all-False one."""
        pa, pc = _pa()
        if self._gaps is None:
            if self.native and pa.types.is_floating(self.type):
                starts, parts = views(self.raw)
                gaps = np.concatenate([~finite(part, self.largest) for part in parts]
                                      or [np.zeros(0, dtype=bool)])
                if self.raw.null_count:
                    gaps |= ~valid(self.raw)
            elif self.native:
                gaps = ~valid(self.raw)
            else:
                cells, index = self.distinct()
                gaps = _missing(cells)[index]
            self._gaps = gaps if gaps.any() else False
        if self._gaps is False:
            return np.zeros(len(self.raw), dtype=bool)
        return self._gaps

    def numbers(self):
        """float64 values with NaN for missing cells (a new array), or None when a present
        cell is not a finite number (a text column)."""
        pa, pc = _pa()
        if self.native:
            if not self.is_numeric_type:
                return None
            values = floats(self.raw)
            values[self.gaps()] = np.nan
            return values
        if not self._sample_is_numeric():  # one cell that is no number decides
            return None
        text, gaps = self.text(), self.gaps()
        if gaps.all():  # only gaps: empty (a numeric column), or text such as "none" and "-"
            return np.full(len(gaps), np.nan) if self.empty().all() else None
        try:
            values = floats(pc.cast(_nulls_where(gaps, text), pa.float64()))
        except pa.ArrowInvalid:
            return None
        if not finite(values[~gaps], self.largest).all():
            return None
        values[gaps] = np.nan
        return values

    def _sample_is_numeric(self, rows=2000):
        """False when one of the first ``rows`` stripped cells is neither a finite number nor
        a missing marker (then the column is text, whatever the other cells are)."""
        pa, pc = _pa()
        text = self.text_at(slice(0, rows))
        gaps = _missing(text)
        try:
            values = floats(pc.cast(_nulls_where(gaps, text), pa.float64()))
        except pa.ArrowInvalid:
            return False
        return bool(finite(values[~gaps], self.largest).all())

    def date_parts(self, parts=None):
        """``(n, len(parts))`` float32 date features (NaN rows where missing), or None when a
        present cell is not an ISO date. ``parts`` None decides them (an hour when times are
        written); the parts used are in ``self.parts``."""
        pa, pc = _pa()
        if self.is_temporal:
            gaps = self.gaps()
            moments = self.raw
            if parts is None:  # a time written in a cell (not in a missing one)
                timed = pa.types.is_timestamp(self.type) and bool(mask(pc.not_equal(
                    pc.hour(moments), scalar(0))).any())
        else:
            if parts is not None and self.gaps().all():  # a date column's missing cells only
                self.parts = parts
                return np.full((len(self.gaps()), len(parts)), np.nan, dtype=np.float32)
            if self.native:
                return None
            head = self.text_at(slice(0, 2000))
            if not (mask(pc.match_substring_regex(head, ISO_DATE)) | _missing(head)).all():
                return None  # one present cell that is no ISO date decides
            text, gaps = self.text(), self.gaps()
            present = _nulls_where(gaps, text)
            if gaps.all() or not (mask(pc.match_substring_regex(text, ISO_DATE)) | gaps).all():
                return None
            try:
                moments = pc.cast(present, pa.timestamp("us"))
            except pa.ArrowInvalid:  # "2024-02-30": text that looks like a date and is not one
                return None
            if parts is None:
                timed = bool(mask(pc.greater(pc.utf8_length(present), scalar(10))).any())
        if parts is None:
            parts = _DATE_PARTS + ["hour"] * timed
        self.parts = parts
        compute = {"year": pc.year, "month": pc.month, "day": pc.day,
                   "weekday": pc.day_of_week, "hour": pc.hour}
        out = np.empty((len(gaps), len(parts)), dtype=np.float32)  # small integers: exact
        if pa.types.is_date(moments.type):  # days only (a record batch of a streamed table
            moments = pc.cast(moments, pa.timestamp("s"))  # whose later batches have times)
        for j, part in enumerate(parts):
            starts, values = views(compute[part](moments))  # a null's slot: set NaN below
            for start, chunk in zip(starts, values):
                out[start:start + len(chunk), j] = chunk
        out[gaps] = np.nan
        return out

    def categories(self):
        """``(levels, index)``: the distinct cells as category levels (stripped text, "" as
        :data:`MISSING_LEVEL`; two may be one level) and each row's position among them."""
        pa, pc = _pa()
        cells, index = self.distinct()
        return pc.if_else(pc.equal(cells, scalar("")), scalar(MISSING_LEVEL), cells), index

    def category_text(self):
        """The cells as category levels, one a row (see :meth:`categories`)."""
        pa, _ = _pa()
        levels, index = self.categories()
        return pa.chunked_array([levels.take(from_numpy(index))])

    def first_bad_number(self):
        """The row index and text of the first present cell that is not a finite number."""
        pa, pc = _pa()
        text, gaps = self.text(), self.gaps()
        for start in range(0, len(gaps), 65536):
            stop = min(start + 65536, len(gaps))
            chunk = text.slice(start, stop - start)
            try:
                values = floats(pc.cast(_nulls_where(gaps[start:stop], chunk), pa.float64()))
                if finite(values[~gaps[start:stop]], self.largest).all():
                    continue
            except pa.ArrowInvalid:
                pass
            for offset, cell in enumerate(chunk.to_pylist()):
                if not gaps[start + offset] and not _finite(cell, self.largest):
                    return start + offset, cell
        return None


class BatchColumns(dict):
    """The :class:`Column` of each name of one table (a streamed record batch), made on first
    use and then shared, so that every check of the batch reads its cells' views once."""

    def __init__(self, table):
        super().__init__()
        self.table = table

    def __missing__(self, name):
        self[name] = column = Column(self.table, name)
        return column


def _finite(cell, largest):
    try:
        return bool(finite(float(cell), largest))
    except ValueError:
        return False


# -- what the columns are ------------------------------------------------------------------
def infer_spec(table, names, categorical=(), embed_threshold=None, check=None, kinds=None):
    """``(spec, analysed)``: the encoding of each column of ``names`` (see
    :func:`gradwise.tabular.csv.read_csv`) and its :class:`Column`, analysed once for
    :func:`encode`. Text columns with more than ``embed_threshold`` levels (None: never) are
    embedded (``"embed": True``); identifier-like columns are flagged on stderr. ``check(table,
    column)`` sees each column not in ``categorical`` before its kind is decided (see
    :func:`gradwise.tabular.stray.check_stray_cells`). ``kinds`` maps a column to "number" or
    "date" known already (a streamed table's, from the whole file): it is that kind even when
    every one of its cells here is missing."""
    spec, analysed, kinds = [], {}, kinds or {}
    n = table.num_rows
    for name in names:
        column = analysed[name] = Column(table, name)
        forced, known = name in categorical, kinds.get(name)
        if check is not None and not forced:
            check(table, column)
        if not forced and known != "date" and column.stored_numbers:  # read in encode
            spec.append({"name": name, "kind": "number", "missing": bool(column.gaps().any())})
            head = column.number_rows(0, min(n, 1000))[~column.gaps()[:1000]]
            if np.all(head == np.round(head)):  # no fractions: perhaps an identifier
                _warn_if_identifier(name, column.numbers(), "integer column", "")
            continue
        values = None if forced or known == "date" else column.numbers()
        if values is None and known == "number" and column.gaps().all():  # markers only here
            values = np.full(n, np.nan)
        if values is not None:
            column.cached_numbers = values
            spec.append({"name": name, "kind": "number", "missing": bool(np.isnan(values).any())})
            _warn_if_identifier(name, values, "integer column", "")
            continue
        dated = None if forced or known == "number" else column.date_parts()
        if dated is None and known == "date" and column.gaps().all():
            dated = column.date_parts(list(_DATE_PARTS))
        if dated is not None:
            column.cached_dates = dated
            spec.append({"name": name, "kind": "date", "parts": column.parts,
                         "missing": bool(np.isnan(dated[:, 0]).any())})
            continue
        levels = _levels(column.categories()[0])
        embed = embed_threshold is not None and len(levels) > embed_threshold
        if len(levels) > 50 and len(levels) > n // 2:
            how = ("embedded as learned vectors" if embed
                   else "one-hot encoded as as many features")
            _warn_if_identifier(name, None, "text column", f" ({len(levels)} distinct values in "
                                f"{n} rows, {how})")
        entry = {"name": name, "kind": "category", "levels": levels}
        if embed:
            entry["embed"] = True
        spec.append(entry)
    return spec, analysed


def _levels(text):
    """The distinct values of ``text``, sorted by code point (as Python sorts text)."""
    pa, pc = _pa()
    unique = pc.unique(text)
    return unique.take(pc.array_sort_indices(unique)).to_pylist()


def _warn_if_identifier(name, values, kind, detail):
    """Warn about a column that looks like a row identifier: many distinct text values, or
    distinct integers counting up one by one."""
    if values is not None:
        head = values[:1000]
        head = head[~np.isnan(head)]
        if np.any(head != np.round(head)):  # fractions: quickly ruled out
            return
        present = values[~np.isnan(values)]
        if len(present) < 20 or np.any(present != np.round(present)):
            return
        steps = np.diff(np.sort(present))
        if not np.all(steps == 1):
            return
        detail = f" (distinct integers {int(present.min())}..{int(present.max())})"
    warn(f"{kind} {name!r} looks like an identifier{detail}", "identifier", name)


# -- the matrix ------------------------------------------------------------------------------
from .spec import _width as width  # noqa: E402  (how many features a column encodes to)


class Unseen(int):
    """The count of category cells not seen in training, with ``columns``: for each column
    that has some, ``(cells, [(value, count), ...])``, its most frequent unseen values first.
    ``str(unseen.described())``: ``"'city': 'Nantes' (3), 'Brest' (1); 'plan': 'gold' (2)"``."""

    SHOWN = 3

    def __new__(cls, columns=None):
        columns = columns or {}
        self = super().__new__(cls, sum(cells for cells, _ in columns.values()))
        self.columns = columns
        return self

    @classmethod
    def combined(cls, parts, order=()):
        """One count of the :class:`Unseen` counts ``parts`` (of consecutive record batches):
        cells and value counts added by column, the columns in the order of the names
        ``order`` (the spec's, as :func:`encode` gives them), others after."""
        columns = {}
        for part in parts:
            for name, (cells, values) in part.columns.items():
                total, counts = columns.get(name, (0, {}))
                for value, count in values:
                    counts[value] = counts.get(value, 0) + count
                columns[name] = (total + cells, counts)
        rank = {name: i for i, name in enumerate(order)}
        return cls({name: (cells, sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])))
                    for name, (cells, counts) in sorted(
                        columns.items(), key=lambda item: rank.get(item[0], len(rank)))})

    def described(self):
        parts = []
        for name, (cells, values) in self.columns.items():
            shown = ", ".join(f"{shown_cell(value)} ({count})"
                              for value, count in values[:self.SHOWN])
            more = f" and {len(values) - self.SHOWN} more" if len(values) > self.SHOWN else ""
            parts.append(f"{name!r}: {shown}{more}")
        return "; ".join(parts)


def _unseen_values(text):
    """``(cells, [(value, count), ...])`` of the unseen cells ``text``."""
    pa, pc = _pa()
    counts = pc.value_counts(text)
    values = counts.field("values").to_pylist()
    numbers = counts.field("counts").to_pylist()
    ranked = sorted(zip(values, numbers), key=lambda pair: (-pair[1], pair[0]))
    return len(text), ranked


def encode(table, spec, impute, analysed=None, remedy="impute", dtype=np.float32):
    """``(X, unknown)``: the C-ordered ``(n_rows, n_features)`` matrix of ``table`` as ``spec``
    encodes it, and the category cells not seen in training (an :class:`Unseen` count naming
    the columns and values; they are all zeros one-hot, code 0 embedded). Missing numbers are NaN when ``impute``, else a :class:`TableError` naming the
    column and line and suggesting ``remedy``."""
    pa, pc = _pa()
    analysed = analysed or {}
    widths = [width(column) for column in spec]
    X = np.zeros((table.num_rows, sum(widths)), dtype=dtype)
    position, unknown, holes = 0, {}, []
    pending = _Columns(X)
    for column, size in zip(spec, widths):
        name = column["name"]
        cells = analysed.get(name) or Column(table, name)
        block = X[:, position:position + size]
        if column["kind"] == "number" and cells.stored_numbers:
            gaps = cells.gaps()
            if not impute:
                _refuse_gaps(table, cells, gaps, remedy)
            pending.add(position, cells.number_rows)
            if gaps.any():
                holes.append((position, gaps))
        elif column["kind"] == "number":
            values = getattr(cells, "cached_numbers", None)
            if values is None:
                values = cells.numbers()
            if values is None and cells.gaps().all():  # only missing cells here (markers
                values = np.full(table.num_rows, np.nan)  # such as NA: no number, no text)
            if values is None and not cells.native:
                values = _parsed_numbers(table, cells, impute, remedy)
            if values is None:
                row, text = cells.first_bad_number()
                raise TableError("path", f"column {name!r} expects numbers, "
                                         f"{table.where(row)} has {shown_cell(text)}.")
            if not impute:
                _refuse_gaps(table, cells, np.isnan(values), remedy)
            pending.add(position, values[:, None])
        elif column["kind"] == "date":
            values = getattr(cells, "cached_dates", None)
            if values is None:
                values = cells.date_parts(column["parts"])
            if values is None:
                raise TableError("path", f"column {name!r} of {table.path!r} holds dates; "
                                         f"{_first_non_date(cells)} is not a date.")
            if not impute:
                _refuse_gaps(table, cells, np.isnan(values[:, 0]), remedy)
            pending.add(position, values)
        else:
            if not impute:
                _refuse_gaps(table, cells, cells.empty(), remedy)
            levels, index = cells.categories()
            found = pc.index_in(levels, value_set=strings(column["levels"]))
            codes = to_numpy(found).astype(np.int64)
            codes[~valid(found)] = -1
            codes = codes[index]  # each row's level, -1 when unseen in training
            seen = codes >= 0
            if not seen.all():
                unknown[name] = _unseen_values(levels.take(from_numpy(index[~seen])))
            if column.get("embed"):
                pending.add(position, (codes + 1)[:, None])  # 0: the unknown row
            else:
                rows = np.flatnonzero(seen)
                block[rows, codes[rows]] = 1.0
        position += size
    pending.flush()
    for position, gaps in holes:  # stored numbers' missing cells (null, NaN, too large)
        X[gaps, position] = np.nan
    return X, Unseen(unknown)


class _Columns:
    """Columns of values waiting to be copied into ``X`` a tile of rows at a time.

    Writing one column of a C-ordered matrix touches a cache line of every row, so copying
    the columns one by one passes over all of ``X`` once per column; a tile of ``rows`` rows
    stays in cache while every waiting column is copied into it. A column is an array (they
    wait until their bytes reach half of ``X``'s: memory held beyond the cells' own arrays) or
    a function of a row range giving its values (a column stored as numbers, read from Arrow's
    buffers as the tile is copied: no copy of the column is made)."""

    def __init__(self, X, rows=8192):
        self.X, self.rows, self.waiting, self.held = X, rows, [], 0

    def add(self, position, values):
        """Copy ``values`` (``(n_rows, k)``, or a function of ``(start, stop)`` giving the
        ``(stop - start,)`` values of one column) into ``X[:, position:]``, soon."""
        self.waiting.append((position, values))
        self.held += getattr(values, "nbytes", 0)
        if self.held >= max(self.X.nbytes // 2, 1 << 20):
            self.flush()

    def flush(self):
        X = self.X
        with np.errstate(over="ignore"):  # a number too large for float32: a gap, set after
            for start in range(0, len(X), self.rows):
                stop = min(start + self.rows, len(X))
                for position, values in self.waiting:
                    if callable(values):
                        X[start:stop, position] = values(start, stop)
                    else:
                        X[start:stop, position:position + values.shape[1]] = values[start:stop]
        self.waiting, self.held = [], 0


def _parsed_numbers(table, cells, impute, remedy):
    """The values of a column of text cells that are all numbers but some not finite (``inf``,
    ``1e39``), read as a column Arrow typed as numbers reads them: those cells missing (with
    ``impute``) or refused; None when a present cell is no number."""
    pa, pc = _pa()
    gaps = cells.gaps()
    try:
        values = floats(pc.cast(_nulls_where(gaps, cells.text()), pa.float64()))
    except pa.ArrowInvalid:
        return None
    not_finite = ~gaps & ~finite(values, cells.largest)
    if not impute:
        _refuse_gaps(table, cells, gaps | not_finite, remedy, not_finite)
    values[gaps | not_finite] = np.nan
    return values


def _refuse_gaps(table, cells, gaps, remedy, not_finite=None):
    """Refuse the missing cells ``gaps`` (a mask) of a column read without imputation;
    ``not_finite`` marks those of a text column that are numbers too large for float32."""
    if not gaps.any():
        return
    first = int(np.argmax(gaps))
    cell = cells.text()[first].as_py() if not cells.native else table.cell_text(cells.name, first)
    where = table.where(first)  # "line 4 of 'file.csv'"
    unit, _, source = where.partition(" of ")
    if cell == "":
        what = f"an empty cell at {where}"
    elif (cells.native and cells.raw[first].is_valid) or (
            not_finite is not None and not_finite[first]):  # a number: inf, 1e39
        what = (f"a cell that is not a finite number (at most {LARGEST:.1e} in size): "
                f"{shown_cell(cell)} at {unit}") + (f" in {source}" if source else "")
    else:
        what = (f"missing values ({shown_cell(cell)} at {unit})"
                + (f" in {source}" if source else ""))
    raise TableError("path", f"column {cells.name!r} has {what}", remedy)


def _first_non_date(cells):
    import re
    pattern = re.compile(ISO_DATE)
    gaps = cells.gaps()
    for cell, gap in zip(cells.text().to_pylist(), gaps):
        if gap:
            continue
        if not pattern.match(cell):
            return shown_cell(cell)
        try:
            np.datetime64(cell.replace(" ", "T"), "us")
        except ValueError:
            return shown_cell(cell)
    return "a cell"
