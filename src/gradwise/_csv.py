"""Reading a user's CSV into features and a target, with clear errors."""
import csv
import sys

import numpy as np


def read_csv(path, target):
    """Return ``(X, y, feature_names, task, columns)`` from a CSV file with a header row.

    Numeric columns are used as they are; text columns are one-hot encoded. The task is
    classification when the target is text or a small set of integers, regression otherwise.
    ``columns`` describes the encoding (``{"name", "kind": "number"}`` or ``{"name", "kind":
    "category", "levels"}`` per input column), so that :func:`encode_csv` can apply it to new
    files.

    Raises
    ------
    ValueError
        Missing file, no header, unknown target column, ragged rows or empty cells.
    """
    columns = _read_columns(path)
    if target not in columns:
        raise ValueError(f"--target: column {target!r} is not in the header; columns are "
                         f"{list(columns)}.")
    y_cells = columns.pop(target)
    spec = []
    for name, cells in columns.items():
        if _as_numbers(cells) is not None:
            spec.append({"name": name, "kind": "number"})
        else:
            levels = sorted(set(cells))
            if len(levels) > 50 and len(levels) > len(cells) // 2:
                print(f"gradwise: warning: text column {name!r} has {len(levels)} distinct values "
                      f"in {len(cells)} rows, one-hot encoded as as many features; drop it if it "
                      "is an identifier or free text.", file=sys.stderr)
            spec.append({"name": name, "kind": "category", "levels": levels})
    if not spec:
        raise ValueError("--data: no feature columns besides the target.")
    X, names, _ = _encode(columns, spec, path)
    y_numbers = _as_numbers(y_cells)
    task = _task(y_numbers, len(y_cells))
    y = np.array(y_cells) if y_numbers is None else y_numbers
    return X, y, names, task, spec


def encode_csv(path, spec, target=None):
    """Encode a new CSV with the ``columns`` spec of :func:`read_csv`.

    Returns ``(X, y, unknown)``: ``y`` is the target column's text cells (None when the file
    has no ``target`` column), ``unknown`` counts category cells not seen in training, which
    are encoded as all zeros. Extra columns are ignored; a missing one is an error.
    """
    columns = _read_columns(path)
    missing = [c["name"] for c in spec if c["name"] not in columns]
    if missing:
        raise ValueError(f"--data: columns {missing} are missing; the model was trained on "
                         f"{[c['name'] for c in spec]}.")
    y = np.array(columns[target]) if target is not None and target in columns else None
    X, _, unknown = _encode(columns, spec, path)
    return X, y, unknown


def _read_columns(path):
    """The header's columns and their stripped text cells, checked for shape and gaps."""
    try:  # utf-8-sig: spreadsheet exports often start with a byte-order mark
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except OSError as error:
        raise ValueError(f"--data: cannot read {path!r}: {error.strerror}.") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"--data: {path!r} is not UTF-8 text (byte {error.start}); save it as "
                         "UTF-8 CSV.") from None
    rows = [row for row in rows if row and any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise ValueError(f"--data: {path!r} needs a header row and at least one data row.")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(f"--data: line {number} has {len(row)} fields, the header has {len(header)}.")
    columns = {name: [row[i].strip() for row in body] for i, name in enumerate(header)}
    for name, cells in columns.items():
        if "" in cells:
            raise ValueError(f"--data: column {name!r} has an empty cell at line {cells.index('') + 2}; "
                             "fill or drop missing values first.")
        _refuse_missing_markers(name, cells)
    return columns


#: Cells that stand for a missing number in common exports (pandas, R, spreadsheets).
_MISSING = {"na", "n/a", "nan", "null", "none", "?", "-", "#n/a"}


def _refuse_missing_markers(name, cells):
    """A numeric column with "NA"-like cells would silently become a text column."""
    marked = [i for i, cell in enumerate(cells) if cell.lower() in _MISSING]
    if marked and len(marked) < len(cells) and all(
            _is_finite_number(cell) for i, cell in enumerate(cells) if cell.lower() not in _MISSING):
        raise ValueError(f"--data: column {name!r} has missing values ({cells[marked[0]]!r} at "
                         f"line {marked[0] + 2}); fill or drop them first.")


def _encode(columns, spec, path):
    features, names, unknown = [], [], 0
    for column in spec:
        cells = columns[column["name"]]
        if column["kind"] == "number":
            numbers = _as_numbers(cells)
            if numbers is None:
                bad = next(i for i, c in enumerate(cells) if not _is_finite_number(c))
                raise ValueError(f"--data: column {column['name']!r} expects numbers, line "
                                 f"{bad + 2} of {path!r} has {cells[bad]!r}.")
            features.append(numbers[:, None])
            names.append(column["name"])
        else:
            levels = np.array(column["levels"])
            one_hot = (np.array(cells)[:, None] == levels[None, :]).astype(float)
            unknown += int((one_hot.sum(axis=1) == 0).sum())
            features.append(one_hot)
            names += [f"{column['name']}={level}" for level in column["levels"]]
    return np.hstack(features), names, unknown


def _is_finite_number(cell):
    try:
        return np.isfinite(float(cell))
    except ValueError:
        return False


def _as_numbers(cells):
    try:
        values = np.array([float(c) for c in cells])
    except ValueError:
        return None
    return values if np.isfinite(values).all() else None


def _task(y_numbers, n):
    if y_numbers is None:
        return "classification"
    integral = np.all(y_numbers == np.round(y_numbers))
    levels = len(np.unique(y_numbers))
    return "classification" if integral and levels <= max(2, min(20, n // 5)) else "regression"
