"""Stray cells: a column of numbers or ISO dates but for a few cells (``inf``, ``1e400``,
``2023-02-30``, ``03/15/2024``, ``n.a.``) is never silently read as text (one-hot categories)
nor its stray cells silently as missing.

Such a column is reported with its stray cells (file line and value), and the user chooses: fix
the file, read those cells as missing (``impute``, to be filled like the other gaps), or read
the column as categories (``categorical``). The checks run in Arrow's compute kernels, on a
sample first, so a genuine text column costs almost nothing.
"""
import numpy as np

from .arrays import floats, mask, strings, valid
from .columns import ISO_DATE, LARGEST, _nulls_where, _pa, finite
from .errors import TableError, shown_cell, warn

__all__ = ["check_stray_cells", "StrayCells"]

#: A column is "numbers (or dates) but for a few cells" when at most this share of its present
#: cells are not, and at least this many are.
STRAY_SHARE, MIN_GOOD = 0.1, 3
#: How many stray cells a message shows.
SHOWN = 5
#: A number as a CSV writes it (what Python's ``float`` reads, less ``inf``/``nan`` words).
NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


def _finite_numbers(text):
    """Mask of the cells of a text array that are finite numbers."""
    pa, pc = _pa()
    looks = mask(pc.match_substring_regex(text, NUMBER))
    if not looks.any():
        return looks
    values = floats(pc.cast(_nulls_where(~looks, text), pa.float64()))
    return looks & finite(values)


def _iso_dates(text):
    """Mask of the cells of a text array that are real ISO dates (``2023-02-30`` is not)."""
    pa, pc = _pa()
    looks = mask(pc.match_substring_regex(text, ISO_DATE))
    if not looks.any():
        return looks
    day = pc.utf8_slice_codeunits(_nulls_where(~looks, text), 0, 10)
    parsed = pc.strptime(day, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2023-02-30 over to 2023-03-02: a real date writes back as it was read
    same = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), day)
    return looks & mask(same)


def _stray(column, present_rows, kind_checks, sample=2000):
    """``(kind, rows)`` of the first kind whose check fails on a few of the present cells
    (the rows ``present_rows`` of the text column ``column``) only."""
    n = len(present_rows)
    head, present_text = column.text_at(present_rows[:sample]), None
    for kind, check in kind_checks:
        looks = check(head)
        if (~looks).sum() > STRAY_SHARE * len(looks) + 1:  # clearly not this kind: skip the rest
            continue
        if present_text is None:
            present_text = column.text_at(present_rows)
        good = check(present_text)
        bad = n - int(good.sum())
        if bad and n - bad >= MIN_GOOD and bad <= STRAY_SHARE * n:
            return kind, present_rows[~good]
    return None, None


def find_stray_cells(column):
    """``(kind, rows)``: ``"number"`` or ``"date"`` and the row indices of the present cells of
    :class:`~gradwise.tabular.columns.Column` ``column`` that are not, when the column is that
    kind but for a few cells; else ``(None, None)``."""
    pa, pc = _pa()
    if column.native:
        if not pa.types.is_floating(column.type):
            return None, None
        if not column.gaps().any():  # no null, NaN or infinite cell
            return None, None
        present = valid(column.raw)
        bad = column.gaps() & present  # inf, -inf, nan written as numbers
        n = int(present.sum())
        if bad.any() and n - int(bad.sum()) >= MIN_GOOD:
            return "number", np.flatnonzero(bad)
        return None, None
    rows = np.flatnonzero(~column.gaps())
    if len(rows) < MIN_GOOD:
        return None, None
    return _stray(column, rows, (("number", _finite_numbers), ("date", _iso_dates)))


def check_stray_cells(table, column, impute):
    """Refuse (``TableError`` naming the cells) a column of numbers or dates but for a few
    cells; with ``impute``, read those cells as missing, with a note (a
    :class:`~gradwise.tabular.errors.TableWarning`) naming them, and return
    True. Returns False when the column has no stray cells."""
    kind, rows = find_stray_cells(column)
    if kind is None:
        return False
    _refuse_or_note(table.path, column.name, kind, len(rows), _shown(table, column, rows),
                    impute)
    if not column.native:  # the stray cells become empty, that is missing
        column.read_as_missing(rows)
    return True


def _shown(table, column, rows):
    """The first :data:`SHOWN` cells ``rows`` of ``column``, as ``line 12 'oops'``."""
    return [f"{table.where(int(row)).split(' of ')[0]} {shown_cell(_cell(table, column, row))}"
            for row in rows[:SHOWN]]


def _refuse_or_note(path, name, kind, count, shown, impute):
    """Refuse ``count`` stray cells of column ``name`` (``TableError``), or with ``impute``
    note that they are read as missing."""
    cells = ", ".join(shown) + (f" and {count - SHOWN} more" if count > SHOWN else "")
    what = (f"finite numbers (at most {LARGEST:.1e} in size)" if kind == "number"
            else "ISO dates (YYYY-MM-DD)")
    if not impute:
        raise TableError("path", f"column {name!r} of {path!r} holds {what} but for {count} "
                                 f"cell(s): {cells}", "stray", name)
    warn(f"column {name!r}: {count} cell(s) that are not {what} read as missing: {cells}",
         kind="note")


def stray_rows(column, kind):
    """Row indices of the present cells of ``column`` that are not of ``kind`` (``"number"``:
    finite numbers, ``"date"``: ISO dates), the column's kind being decided already (by the
    first record batch of a streamed table)."""
    pa, pc = _pa()
    if column.native:  # integers and dates are what Arrow read; floats may be inf or nan
        if not pa.types.is_floating(column.type):
            return np.empty(0, dtype=np.int64)
        return np.flatnonzero(valid(column.raw) & ~finite(floats(column.raw)))
    rows = np.flatnonzero(~column.gaps())
    check = _finite_numbers if kind == "number" else _iso_dates
    return rows[~check(column.text_at(rows))]


#: The present cells of a column whose share of numbers (or dates) says whether it may be such a
#: column at all (``_stray``'s sample): the column's first ones in the file.
HEAD = 2000
_KINDS = (("number", _finite_numbers), ("date", _iso_dates))


class _Tally:
    """One column's cells over a whole streamed file: how many are present, and for each kind
    ("number", "date") how many are of it, how many of the first :data:`HEAD` present ones
    are not, and the first :data:`SHOWN` that are not (as ``line 12 'oops'``)."""

    def __init__(self, name, types):
        self.name, self.types, self.present = name, types, 0
        self.good, self.head, self.head_bad = ({kind: 0 for kind, _ in _KINDS} for _ in range(3))
        self.shown = {kind: [] for kind, _ in _KINDS}
        self.markers = False  # a missing cell written as a marker ("NA"), not left empty

    def possible(self, kind, final=True):
        """False when the column's first present cells rule ``kind`` out, as ``_stray``'s
        sample does: all of them (``final``) or, while counting, the first :data:`HEAD`."""
        if not final and (self.head[kind] < HEAD or (
                kind == "number" and self.types.get(self.name) != "string")):
            return True  # (the cells of a float column are counted to the end)
        return self.head_bad[kind] <= STRAY_SHARE * self.head[kind] + 1

    def add(self, table, column):
        """Count the cells of :class:`~gradwise.tabular.columns.Column` ``column`` of the
        record batch ``table`` (its rows that have a target). Returns, for each kind counted,
        the mask of its present cells not of that kind (None: none), ``{}`` when the column
        is text whatever its other cells are."""
        pa, _ = _pa()
        if self.present and not any(self.possible(kind, final=False) for kind, _ in _KINDS):
            return {}  # nothing left to count
        if column.native:  # what Arrow read: numbers (inf and nan not finite ones) or dates
            present = valid(column.raw)
            floating = pa.types.is_floating(column.type)
            numeric = floating or pa.types.is_integer(column.type) or pa.types.is_decimal(
                column.type)
            # the present cells not of each kind (None: none of them)
            bad = {"number": (present & column.gaps() if floating else None if numeric
                              else present),
                   "date": None if column.is_temporal else present}
        else:
            gaps = column.gaps()
            if not self.present and not self.markers:  # matters while no cell is present
                self.markers = bool((gaps & ~column.empty()).any())
            present = ~gaps
            rows = np.flatnonzero(present)
            live = [(kind, check) for kind, check in _KINDS if self.possible(kind, final=False)]
            text = column.text_at(rows) if live and len(rows) else None
            bad = {}
            for kind, check in live:
                bad[kind] = np.zeros(len(present), dtype=bool)
                bad[kind][rows] = True if text is None else ~check(text)
        self._count(table, column, present, bad)
        return bad

    def _count(self, table, column, present, bad):
        """Add the batch's ``present`` cells (a mask) and, for each kind, those ``bad[kind]``
        (a mask, or None for none) that are not of it."""
        n = int(present.sum())
        self.present += n
        for kind, not_kind in bad.items():
            if self.head[kind] < HEAD:  # the column's first present cells in the file
                first = np.flatnonzero(present)[:HEAD - self.head[kind]]
                self.head[kind] += len(first)
                self.head_bad[kind] += 0 if not_kind is None else int(not_kind[first].sum())
            count = 0 if not_kind is None else int(not_kind.sum())
            self.good[kind] += n - count
            missing = SHOWN - len(self.shown[kind])
            if count and missing > 0:
                self.shown[kind] += _shown(table, column, np.flatnonzero(not_kind)[:missing])

    def kind(self, written=True):
        """``(kind, stray)``: what a table read whole makes of this column, "number" or
        "date" with the count of its ``stray`` cells, or ``("category", 0)``.

        As :func:`find_stray_cells` and :func:`gradwise.tabular.columns.infer_spec` decide it
        on the type Arrow gives the column read whole (:class:`FileTypes`): floats are numbers,
        their infinite cells stray whatever their share; dates are dates; a column of
        markers only is numbers, all missing; text is numbers (or dates) when at most 10% of
        its present cells are not, else categories. Text with no present cell is categories
        when some missing cell is a marker ("NA", a level then) and some row ``written`` a
        cell, else numbers, all missing."""
        n, arrow = self.present, self.types.get(self.name)
        if arrow in ("null", "temporal"):
            return ("number" if arrow == "null" else "date"), 0
        if arrow == "float":
            bad = n - self.good["number"]
            return "number", (bad if bad and n - bad >= MIN_GOOD else 0)
        if not n:
            return ("category" if self.markers and written else "number"), 0
        for kind, _ in _KINDS:  # as find_stray_cells, on the column's cells in the whole file
            bad = n - self.good[kind]
            if n >= MIN_GOOD and self.possible(kind) and bad and n - bad >= MIN_GOOD \
                    and bad <= STRAY_SHARE * n:
                return kind, bad
        for kind, _ in _KINDS:
            if self.possible(kind) and self.good[kind] == n:
                return kind, 0
        return "category", 0


class FileTypes:
    """The type Arrow gives each column of a table read whole, from its record batches (every
    row, with a target or not): "null" (missing markers only), "float" (numbers: the whole
    read takes integers as floats), "temporal" or "string". A CSV batch's column read as text
    (a streamed file's block is typed by the first one) is typed by its cells: markers are
    nulls, and the others are floats or dates when Arrow converts every one of them."""

    def __init__(self):
        self.types = {}

    def get(self, name):
        return self.types.get(name, "null")

    def add(self, table, names):
        """Take in the columns ``names`` of the record batch ``table`` (all its rows)."""
        for name in names:
            now = self.get(name)
            if now == "string":  # once text, always
                continue
            found = _arrow_type(table, name)
            self.types[name] = now if found == "null" else (
                found if now in ("null", found) else "string")


def _arrow_type(table, name):
    """The type of column ``name`` of the record batch ``table`` (see :class:`FileTypes`)."""
    pa, pc = _pa()
    from .read import NULL_MARKERS
    raw = table.data.column(name)
    kind = raw.type.value_type if pa.types.is_dictionary(raw.type) else raw.type
    if raw.null_count == len(raw) or pa.types.is_null(kind):
        return "null"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "float"
    if pa.types.is_temporal(kind):
        return "temporal"
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)) or table.kind != "csv":
        return "string"
    cells = pc.filter(raw, pc.invert(pc.is_in(raw, value_set=strings(NULL_MARKERS))))
    if not len(cells):
        return "null"
    cells = pc.utf8_trim_whitespace(cells)
    for arrow, type in (("float", pa.float64()), ("temporal", pa.timestamp("s"))):
        try:  # a few cells first: a failed cast of many is slow, and text fails at once
            pc.cast(cells.slice(0, 100), type)
            pc.cast(cells, type)
            return arrow
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    return "string"


class StrayCells:
    """The kinds of a streamed table's columns as the whole file gives them, and their stray
    cells, for :func:`gradwise.tabular.stream.scan`.

    The scan decides each column's kind on its first record batch (:meth:`first`, the check
    of :func:`gradwise.tabular.columns.infer_spec`: stray cells there read as missing for the
    time being), then counts every batch's cells (:meth:`check`). :meth:`finish` compares the
    kinds with the file's: when they agree, it refuses the stray cells or, with ``impute``,
    notes them, once, as :func:`check_stray_cells` does for a whole table; when a column's
    share of stray cells over the file differs from its first batch's, it returns the kinds
    the file gives, for a second scan that starts with them (``kinds``).

    As for a whole table, a number or date column with a gap in any batch is marked
    ``"missing"`` in ``spec``, and a date column with a time of day in any batch gets its hour;
    without ``impute``, the first missing cell of the first column that has one is refused at
    the end of the scan (:meth:`check_gaps`, :meth:`refuse_gaps`), as encoding it whole does.
    """

    def __init__(self, impute, types, kinds=None):
        self.impute, self.types, self.kinds = impute, types, dict(kinds or {})
        self.tallies, self.columns, self.path, self.gaps = {}, [], None, {}

    def first(self, table, column):
        """The check of the first batch's columns (before their kinds are decided): count the
        cells, then read the stray ones as missing: the batch's own, or, for a kind the file
        gave (``kinds``), every cell not of it."""
        self.path = table.path
        self.tallies.setdefault(column.name, _Tally(column.name, self.types)).add(table, column)
        kind = self.kinds.get(column.name)
        if kind in ("number", "date"):
            rows = stray_rows(column, kind)
        else:
            kind, rows = find_stray_cells(column)
        if kind is not None and len(rows) and not column.native:
            column.read_as_missing(rows)

    def start(self, spec):
        """The spec the first batch gave."""
        self.spec = spec
        self.columns = [column for column in spec if column["kind"] in ("number", "date")]

    def check(self, table, columns):
        """Count the cells of the record batch ``table`` (after the first), whose
        :class:`~gradwise.tabular.columns.Column` of each name ``columns`` holds."""
        self.path = table.path
        kinds = {column["name"]: column for column in self.columns}
        for name, tally in self.tallies.items():
            cells = columns[name]
            bad = tally.add(table, cells)
            column = kinds.get(name)
            if column is None:  # text
                continue
            if column["kind"] in bad:  # the stray cells, as the tally found them
                not_kind = bad[column["kind"]]
                rows = np.flatnonzero(not_kind) if not_kind is not None else np.empty(0, int)
            else:
                rows = stray_rows(cells, column["kind"])
            if column["kind"] == "date" and "hour" not in column["parts"] and not len(rows) \
                    and cells.date_parts() is not None and "hour" in cells.parts:
                column["parts"] = column["parts"] + ["hour"]  # times in any batch, as whole
            if not column["missing"]:  # gaps anywhere give the column its "is missing" feature
                column["missing"] = bool(len(rows)) or bool(
                    cells.raw.null_count if cells.native else cells.gaps().any())

    def check_gaps(self, table, columns):
        """Without ``impute``: keep, for each column, the refusal of its first missing cell
        in the record batch ``table`` (rows with a target; ``columns`` holds its
        :class:`~gradwise.tabular.columns.Column` of each name), as encoding the table whole
        makes it, for a number or date column (a cell missing) and for a text one (a cell
        left empty): see :meth:`refuse_gaps`."""
        from .columns import _refuse_gaps
        for column in self.spec:
            name = column["name"]
            found = self.gaps.setdefault(name, {})
            if len(found) == 2:
                continue
            cells = columns[name]
            empty = (lambda: ~valid(cells.raw)) if cells.native else cells.empty  # a stored
            for kind, missing in (("number", cells.gaps), ("category", empty)):  # "" is null
                if kind not in found:
                    try:
                        _refuse_gaps(table, cells, missing(), "impute")
                    except TableError as error:
                        found[kind] = error

    def refuse_gaps(self, spec):
        """Refuse the first missing cell of the first column of ``spec`` (the kinds final)
        that has one, as encoding the table whole does."""
        for column in spec:
            kind = "category" if column["kind"] == "category" else "number"
            error = self.gaps.get(column["name"], {}).get(kind)
            if error is not None:
                raise error

    def finish(self, written):
        """``{name: kind}`` the file gives where the first batch decided otherwise (for a
        second scan), else ``{}`` once the stray cells are refused (``TableError``) or, with
        ``impute``, noted; a column refused in any case is refused now. ``written``: whether
        each column has a cell not missing in any row of the file."""
        decided = {column["name"]: column["kind"] for column in self.spec}
        found, differ = [], {}
        for name in decided:
            tally = self.tallies.get(name)
            if tally is None:  # categories, as asked
                continue
            kind, stray = tally.kind(written.get(name, True))
            unwritten = not tally.present and not written.get(name, True)
            if kind != decided[name] and not (unwritten and decided[name] == "category"):
                differ[name] = kind  # (a text column of markers only, no cell written in the
                # file, is made a number column by the scan itself, with no second pass)
            if stray:
                found.append((name, kind, stray, tally.shown[kind]))
        for name, kind, count, shown in found:
            if not self.impute or not differ:  # refused whichever way it is read
                _refuse_or_note(self.path, name, kind, count, shown, self.impute)
        return differ


def blank_stray_cells(table, spec):
    """``table`` with the stray cells of its number and date columns read as text made empty
    (missing), as :func:`check_stray_cells` makes them with ``impute``; columns Arrow typed
    need nothing (a float that is not finite is read as missing)."""
    from .columns import Column
    for column in spec:
        if column["kind"] not in ("number", "date"):
            continue
        cells = Column(table, column["name"])
        if cells.native:
            continue
        rows = stray_rows(cells, column["kind"])
        if len(rows):
            cells.read_as_missing(rows)
            table.data = table.data.set_column(table.column_names.index(column["name"]),
                                               column["name"], cells.text())
    return table


def _cell(table, column, row):
    if column.native:  # as the file writes it ("1e400", not inf)
        return table.cell_text(column.name, int(row))
    return column.text()[int(row)].as_py()
