"""Stray cells: a column of numbers or ISO dates but for a few cells (``inf``, ``1e400``,
``2023-02-30``, ``03/15/2024``, ``n.a.``) is never silently read as text (one-hot categories)
nor its stray cells silently as missing.

Such a column is reported with its stray cells (file line and value), and the user chooses: fix
the file, read those cells as missing (``impute``, to be filled like the other gaps), or read
the column as categories (``categorical``). The checks run in Arrow's compute kernels, on a
sample first, so a genuine text column costs almost nothing.
"""
import numpy as np

from .arrays import floats, mask, valid
from .columns import ISO_DATE, LARGEST, _nulls_where, _pa, finite
from .errors import TableError, warn

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
    return [f"{table.where(int(row)).split(' of ')[0]} {_cell(table, column, row)!r}"
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


class StrayCells:
    """The stray cells of a streamed table's number and date columns, record batch by record
    batch (after the first, which :func:`check_stray_cells` checked as a table read whole),
    refused or noted once at the end as :func:`check_stray_cells` does for a whole table. As
    for a whole table, a column with a gap in any batch is marked ``"missing"`` in ``spec``,
    and a date column with a time of day in any batch gets its hour."""

    def __init__(self, spec, impute):
        self.columns = [column for column in spec if column["kind"] in ("number", "date")]
        self.impute, self.found, self.path = impute, {}, None

    def check(self, table):
        """Note the stray cells of the record batch ``table``."""
        from .columns import Column
        self.path = table.path
        for column in self.columns:
            cells = Column(table, column["name"])
            rows = stray_rows(cells, column["kind"])
            if column["kind"] == "date" and "hour" not in column["parts"] and not len(rows) \
                    and cells.date_parts() is not None and "hour" in cells.parts:
                column["parts"] = column["parts"] + ["hour"]  # times in any batch, as whole
            if not column["missing"]:  # gaps anywhere give the column its "is missing" feature
                column["missing"] = bool(len(rows)) or bool(
                    cells.raw.null_count if cells.native else cells.gaps().any())
            if not len(rows):
                continue
            count, shown = self.found.get(column["name"], (0, []))
            shown += _shown(table, cells, rows[:SHOWN - len(shown)])
            self.found[column["name"]] = (count + len(rows), shown)

    def finish(self):
        """Refuse the stray cells found (``TableError``) or, with ``impute``, note them."""
        kinds = {column["name"]: column["kind"] for column in self.columns}
        for name, (count, shown) in self.found.items():
            _refuse_or_note(self.path, name, kinds[name], count, shown, self.impute)


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
