"""Stray cells: a column of numbers or ISO dates but for a few cells (``inf``, ``2023-02-30``,
``03/15/2024``, ``n.a.``) is never silently read as text (one-hot categories).

Such a column is reported with its stray cells (file line and value), and the user chooses: fix
the file, or read those cells as missing (``impute``), to be filled like the other gaps.
"""
import numpy as np

from .dates import _ISO, _parses

__all__ = ["handle_stray_cells"]

#: A column is "numbers (or dates) but for a few cells" when at most this share of its
#: present cells are not, and at least this many are.
_STRAY_SHARE, _MIN_GOOD = 0.1, 3
_SHOWN = 5


def _finite_number(cell):
    try:
        return bool(np.isfinite(float(cell)))
    except ValueError:
        return False


def _iso_date(cell):
    return bool(_ISO.match(cell)) and _parses(cell)


def stray_cells(cells, missing):
    """``(kind, indices)``: ``"number"`` or ``"date"`` and the indices of the present cells
    that are not, when the column is that kind but for a few cells; else ``(None, [])``."""
    present = [i for i, cell in enumerate(cells) if not missing(cell)]
    for kind, good in (("number", _finite_number), ("date", _iso_date)):
        bad = [i for i in present if not good(cells[i])]
        if bad and len(present) - len(bad) >= _MIN_GOOD \
                and len(bad) <= _STRAY_SHARE * len(present):
            return kind, bad
    return None, []


def handle_stray_cells(columns, lines, categorical, impute, missing, path, warn=print):
    """Check every column not named in ``categorical``; with ``impute`` blank the stray cells
    (they become missing values, with a note), else raise ``ValueError`` naming them.

    Parameters
    ----------
    columns : dict
        Column name to its list of stripped text cells (changed in place with ``impute``).
    lines : array of int
        The file line of each row.
    categorical : collection of str
        Columns read as categories whatever their cells.
    impute : bool
    missing : callable
        ``missing(cell)``: whether a cell stands for a missing value.
    path : str
        The file, for the messages.
    """
    for name, cells in columns.items():
        if name in categorical:
            continue
        kind, bad = stray_cells(cells, missing)
        if not bad:
            continue
        shown = ", ".join(f"line {lines[i]} {cells[i]!r}" for i in bad[:_SHOWN])
        more = f" and {len(bad) - _SHOWN} more" if len(bad) > _SHOWN else ""
        what = "finite numbers" if kind == "number" else "ISO dates (YYYY-MM-DD)"
        if not impute:
            raise ValueError(
                f"--data: column {name!r} of {path!r} holds {what} but for {len(bad)} "
                f"cell(s): {shown}{more}. Fix those cells, or read them as missing values "
                f"with --impute median (or read the column as categories with --categorical "
                f"{name}).")
        for i in bad:
            cells[i] = ""
        warn(f"gradwise: note: column {name!r}: {len(bad)} cell(s) that are not {what} read "
             f"as missing: {shown}{more}.")
