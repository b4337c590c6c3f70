"""Stray cells: a column of numbers or ISO dates but for a few cells (``inf``, ``1e400``,
``2023-02-30``, ``03/15/2024``, ``n.a.``) is never silently read as text (one-hot categories)
nor its stray cells silently as missing.

Such a column is reported with its stray cells (file line and value), and the user chooses: fix
the file, read those cells as missing (``impute``, to be filled like the other gaps), or read
the column as categories (``categorical``). The checks run in Arrow's compute kernels, on a
sample first, so a genuine text column costs almost nothing.
"""
import numpy as np

from .arrays import floats, from_numpy, mask, scalar, valid
from .columns import ISO_DATE, _nulls_where, _pa
from .errors import TableError, warn

__all__ = ["check_stray_cells"]

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
    return looks & np.isfinite(values)


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


def _stray(present_text, present_rows, kind_checks, sample=2000):
    """``(kind, rows)`` of the first kind whose check fails on a few present cells only."""
    n = len(present_rows)
    for kind, check in kind_checks:
        head = check(present_text.slice(0, sample))
        if (~head).sum() > STRAY_SHARE * len(head) + 1:  # clearly not this kind: skip the rest
            continue
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
        null = ~valid(column.raw)
        bad = ~null & ~np.isfinite(floats(column.raw))  # inf, -inf, nan written as numbers
        n = int((~null).sum())
        if bad.any() and n - int(bad.sum()) >= MIN_GOOD:
            return "number", np.flatnonzero(bad)
        return None, None
    rows = np.flatnonzero(~column.gaps())
    if len(rows) < MIN_GOOD:
        return None, None
    text = column.text().take(from_numpy(rows))
    return _stray(text, rows, (("number", _finite_numbers), ("date", _iso_dates)))


def check_stray_cells(table, column, impute):
    """Refuse (``TableError`` naming the cells) a column of numbers or dates but for a few
    cells; with ``impute``, read those cells as missing, with a note (a
    :class:`~gradwise.tabular.errors.TableWarning`) naming them, and return
    True. Returns False when the column has no stray cells."""
    kind, rows = find_stray_cells(column)
    if kind is None:
        return False
    shown = ", ".join(f"{table.where(int(row)).split(' of ')[0]} {_cell(table, column, row)!r}"
                      for row in rows[:SHOWN])
    more = f" and {len(rows) - SHOWN} more" if len(rows) > SHOWN else ""
    what = "finite numbers" if kind == "number" else "ISO dates (YYYY-MM-DD)"
    if not impute:
        raise TableError("path", f"column {column.name!r} of {table.path!r} holds {what} but "
                                 f"for {len(rows)} cell(s): {shown}{more}", "stray", column.name)
    if not column.native:  # the stray cells become empty, that is missing
        pa, pc = _pa()
        blank = np.zeros(table.num_rows, dtype=bool)
        blank[rows] = True
        column._text = pc.if_else(from_numpy(blank), scalar(""), column.text())
    warn(f"column {column.name!r}: {len(rows)} cell(s) that are not {what} read as missing: "
         f"{shown}{more}", kind="note")
    return True


def _cell(table, column, row):
    if column.native:  # as the file writes it ("1e400", not inf)
        return table.cell_text(column.name, int(row))
    return column.text()[int(row)].as_py()
