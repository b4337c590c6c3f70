"""Reading a user's CSV into features and a target, with clear errors."""
import csv

import numpy as np


def read_csv(path, target):
    """Return ``(X, y, feature_names, task)`` from a CSV file with a header row.

    Numeric columns are used as they are; text columns are one-hot encoded. The task is
    classification when the target is text or a small set of integers, regression otherwise.

    Raises
    ------
    ValueError
        Missing file, no header, unknown target column, ragged rows or empty cells.
    """
    try:
        with open(path, newline="") as handle:
            rows = list(csv.reader(handle))
    except OSError as error:
        raise ValueError(f"--data: cannot read {path!r}: {error.strerror}.") from None
    rows = [row for row in rows if row and any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise ValueError(f"--data: {path!r} needs a header row and at least one data row.")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    if target not in header:
        raise ValueError(f"--target: column {target!r} is not in the header; columns are {header}.")
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(f"--data: line {number} has {len(row)} fields, the header has {len(header)}.")
    columns = {name: [row[i].strip() for row in body] for i, name in enumerate(header)}
    for name, cells in columns.items():
        if "" in cells:
            raise ValueError(f"--data: column {name!r} has an empty cell at line {cells.index('') + 2}; "
                             "fill or drop missing values first.")
    y_cells = columns.pop(target)
    features, names = [], []
    for name, cells in columns.items():
        numbers = _as_numbers(cells)
        if numbers is not None:
            features.append(numbers[:, None])
            names.append(name)
        else:
            levels = sorted(set(cells))
            features.append((np.array(cells)[:, None] == np.array(levels)[None, :]).astype(float))
            names += [f"{name}={level}" for level in levels]
    if not features:
        raise ValueError("--data: no feature columns besides the target.")
    X = np.hstack(features)
    y_numbers = _as_numbers(y_cells)
    task = _task(y_numbers, len(y_cells))
    y = np.array(y_cells) if y_numbers is None else y_numbers
    return X, y, names, task


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
