"""Reading a user's CSV into features and a target, with clear errors."""
import csv
import re
import sys

import numpy as np

from .dates import date_features, date_spec
from .errors import TableError
from .spec import _positions, _width
from .stray import handle_stray_cells


#: How a missing category cell is encoded when missing values are imputed: a level of its own.
MISSING_LEVEL = "(missing)"


def read_csv(path, target, impute=False, drop=(), categorical=(), with_lines=False):
    """Return ``(X, y, feature_names, task, columns)`` from a CSV file with a header row.

    Numeric columns are used as they are; ISO date columns (``2024-03-15``, with or without a
    time) become year, month, day, weekday (and hour); text columns are one-hot encoded. The
    task is classification when the target is text or a small set of integers, regression
    otherwise. ``columns`` describes the encoding (``{"name", "kind": "number", "missing"}``,
    ``{"name", "kind": "date", "parts", "missing"}`` or ``{"name", "kind": "category",
    "levels"}`` per input column), so that :func:`encode_csv` can apply it
    to new files.

    Missing cells (empty, or a marker such as ``NA`` in a numeric column) are an error unless
    ``impute``: then missing numbers are NaN in ``X``, for :func:`complete` to fill with
    statistics of the training rows, and a missing category is a level of its own. Rows whose
    target is missing are dropped, with a warning.

    Columns named in ``drop`` are ignored; those in ``categorical`` are one-hot encoded even
    when their cells are numbers (codes such as zip codes or product ids). ``target`` None reads
    features only (``y`` and ``task`` None); ``with_lines`` adds the file line of each row.

    Raises
    ------
    TableError
        A ``ValueError`` naming the argument: missing file, no header, unknown target column,
        ragged rows, or missing cells without ``impute``.
    """
    columns, lines = _read_columns(path)
    if target is not None and target not in columns:
        raise TableError("target", f"column {target!r} is not in the header; columns are "
                                   f"{list(columns)}.")
    for argument, names in (("drop", drop), ("categorical", categorical)):
        unknown = [name for name in names if name not in columns]
        if unknown:
            raise TableError(argument, f"columns {unknown} are not in the header; columns are "
                                       f"{list(columns)}.")
        if target is not None and target in names:
            raise TableError(argument, f"{target!r} is the target column.")
    y_cells = None
    if target is not None:
        columns, lines = _drop_rows_without_target(columns, lines, target)
        y_cells = columns.pop(target)
    for name in drop:
        del columns[name]
    handle_stray_cells(columns, lines, categorical, impute, _is_missing, path,
                       warn=lambda text: print(text, file=sys.stderr))
    spec, numbers = _column_spec(columns, categorical)
    if not spec:
        raise TableError("path", f"{path!r} has no feature columns besides the target.")
    X, names, _ = _encode(columns, lines, spec, path, impute, numbers)
    y, task = None, None
    if y_cells is not None:
        y_numbers = _as_numbers(y_cells)
        task = _task(y_numbers, len(y_cells))
        y = np.array(y_cells) if y_numbers is None else y_numbers
    return (X, y, names, task, spec) + ((lines,) if with_lines else ())


def _column_spec(columns, categorical):
    """``(spec, numbers)``: each column's encoding (number, ISO date, or category with its
    levels) and the parsed numeric columns; identifier-like columns are flagged."""
    spec, numbers = [], {}
    for name, cells in columns.items():
        values = None if name in categorical else _numeric_column(cells)
        if values is not None:
            numbers[name] = values
            spec.append({"name": name, "kind": "number", "missing": bool(np.isnan(values).any())})
            _warn_if_identifier(name, values, "integer column", "")
            continue
        gaps = [_is_missing(cell) for cell in cells]
        dated = None if name in categorical else date_spec(name, cells, gaps)
        if dated is not None:
            spec.append(dated)
            continue
        levels = sorted({MISSING_LEVEL if cell == "" else cell for cell in cells})
        if len(levels) > 50 and len(levels) > len(cells) // 2:
            _warn_if_identifier(name, None, "text column", f" ({len(levels)} distinct values in "
                                f"{len(cells)} rows, one-hot encoded as as many features)")
        spec.append({"name": name, "kind": "category", "levels": levels})
    return spec, numbers


def _warn_if_identifier(name, values, kind, detail):
    """Warn about a column that looks like a row identifier: many distinct text values, or
    distinct integers counting up one by one."""
    if values is not None:
        present = values[~np.isnan(values)]
        steps = np.diff(np.sort(present))
        if len(present) < 20 or np.any(present != np.round(present)) or not np.all(steps == 1):
            return
        detail = f" (distinct integers {int(present.min())}..{int(present.max())})"
    print(f"gradwise: warning: {kind} {name!r} looks like an identifier{detail}; leave it out "
          f"with --drop {name} unless it carries meaning.", file=sys.stderr)


def encode_csv(path, spec, target=None, impute=False, with_lines=False):
    """Encode a new CSV with the ``columns`` spec of :func:`read_csv`.

    Returns ``(X, y, unknown)``: ``y`` is the target column's text cells (None when the file
    has no ``target`` column), ``unknown`` counts category cells not seen in training, which
    are encoded as all zeros. Extra columns are ignored; a missing one is an error. Missing
    numbers are NaN when ``impute`` (see :func:`complete`), an error otherwise.
    ``with_lines`` adds the file line of each row.
    """
    columns, lines = _read_columns(path)
    absent = [c["name"] for c in spec if c["name"] not in columns]
    if absent:
        raise TableError("path", f"columns {absent} are missing from {path!r}; the model was "
                                 f"trained on {[c['name'] for c in spec]}.")
    y = np.array(columns[target]) if target is not None and target in columns else None
    X, _, unknown = _encode(columns, lines, spec, path, impute, remedy="no-fills")
    return (X, y, unknown) + ((lines,) if with_lines else ())


def encode_saved(path, spec, target=None, fill=False):
    """``(X, y, unknown, lines, gaps)``: a new CSV encoded as a saved model's ``spec`` says
    (see :func:`encode_csv`), with ``fill`` its missing numbers filled with the spec's fills
    (:func:`complete`); ``gaps`` counts the cells filled."""
    X, y, unknown, lines = encode_csv(path, spec, target, impute=fill, with_lines=True)
    gaps = int(np.isnan(X).sum()) if fill else 0
    if fill:
        X, _ = complete(X, spec)
    return X, y, unknown, lines, gaps


def fill_values(X, spec, strategy):
    """``spec`` with each numeric column's ``fill`` (the ``"median"`` or ``"mean"`` of ``X``'s
    present values, from the training rows) and ``indicator`` (whether the column had missing
    values, and so gets a 0/1 "is missing" feature)."""
    reduce = {"median": np.median, "mean": np.mean}[strategy]
    filled = []
    for column, position in zip(spec, _positions(spec)):
        column = dict(column)
        if column["kind"] in ("number", "date"):
            block = X[:, position:position + _width(column)]
            present = block[~np.isnan(block[:, 0])]
            if len(present) == 0:
                raise TableError("X", f"column {column['name']!r} has no values in the "
                                      "training split to impute from", "drop", column["name"])
            fills = [float(reduce(values)) for values in present.T]
            column["fill"] = fills[0] if column["kind"] == "number" else fills
            column["indicator"] = column.pop("missing", False)
        filled.append(column)
    return filled


def complete(X, spec):
    """Fill ``X``'s missing numbers with the ``spec``'s fills and append one 0/1 feature per
    column with an ``indicator`` (1 where the value was missing). Returns ``(X, names)``, the
    names of the appended features."""
    X = np.array(X, dtype=np.float64)
    indicators, names = [], []
    for column, position in zip(spec, _positions(spec)):
        if column["kind"] not in ("number", "date"):
            continue
        gaps = np.isnan(X[:, position])
        if column.get("indicator"):
            indicators.append(gaps.astype(np.float64))
            names.append(f"{column['name']} is missing")
        if gaps.any():
            X[gaps, position:position + _width(column)] = column["fill"]
    return (np.column_stack([X, *indicators]) if indicators else X), names


def _drop_rows_without_target(columns, lines, target):
    gaps = missing_cells(columns[target])
    if not gaps.any():
        return columns, lines
    if gaps.all():
        raise TableError("target", f"column {target!r} has no values.")
    print(f"gradwise: warning: {int(gaps.sum())} row(s) without a value in {target!r} (the first "
          f"at line {lines[int(np.argmax(gaps))]}) were left out.", file=sys.stderr)
    keep = np.flatnonzero(~gaps)
    return {name: [cells[i] for i in keep] for name, cells in columns.items()}, lines[keep]


def _read_columns(path):
    """``(columns, lines)``: the header's columns and their stripped text cells, checked for
    shape, and the file line of each row (blank lines are skipped, so errors can name them)."""
    rows, lines = [], []
    _check_size(path)
    try:  # utf-8-sig: spreadsheet exports often start with a byte-order mark
        with open(path, newline="", encoding="utf-8-sig") as handle:
            delimiter = _delimiter(handle)
            reader = csv.reader(handle, delimiter=delimiter)
            for row in reader:
                if row and any(cell.strip() for cell in row):
                    rows.append(row)
                    lines.append(reader.line_num)
    except OSError as error:
        raise TableError("path", f"cannot read {path!r}: {error.strerror}.") from None
    except csv.Error as error:  # a field over the csv module's limit: an unclosed quote?
        raise TableError("path", f"{path!r} line {reader.line_num}: {error}; a quote opened "
                                 "and never closed reads the rest of the file as one "
                                 "field.") from None
    except UnicodeDecodeError as error:
        raise TableError("path", f"{path!r} is not UTF-8 text (byte {error.start}); save it as "
                                 "UTF-8 CSV.") from None
    if len(rows) < 2:
        raise TableError("path", f"{path!r} needs a header row and at least one data row.")
    # An unnamed column (a spreadsheet's or pandas' row index) gets a name --drop can use.
    header = [h.strip() or f"unnamed_{i + 1}" for i, h in enumerate(rows[0])]
    body = rows[1:]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise TableError("path", f"the header names columns {repeated} more than once (in "
                                 f"{path!r}); give each column its own name.")
    for line, row in zip(lines[1:], body):
        if len(row) != len(header):
            raise TableError("path", f"line {line} has {len(row)} fields, the header of "
                                     f"{path!r} has {len(header)}.")
    columns = {name: [row[i].strip() for row in body] for i, name in enumerate(header)}
    if delimiter != ",":  # ";"-separated exports write decimal commas: 1,5 is 1.5
        columns = {name: [_DECIMAL_COMMA.sub(r"\1.\2", cell) for cell in cells]
                   for name, cells in columns.items()}
    return columns, np.array(lines[1:])


#: A number written with a decimal comma ("-1,5", ",25", "3,0e-2"), as in ";"-separated files.
_DECIMAL_COMMA = re.compile(r"^([+-]?\d*),(\d+(?:[eE][+-]?\d+)?)$")


#: The longest header line read before the file is judged not to be a CSV (``/dev/zero``).
_LONGEST_HEADER = 2**20


def _check_size(path):
    """Refuse a file whose rows, as Python text, would not fit in memory (about 4 bytes of
    memory per byte of file), before reading it."""
    import os
    try:
        size = os.stat(path).st_size
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (OSError, ValueError, AttributeError):
        return
    if 4 * size > memory:
        raise ValueError(f"--data: {path!r} is {size:,} bytes; reading it needs about "
                         f"{4 * size:,} bytes of memory, more than this machine's {memory:,}. "
                         "Use a sample of its rows.")


def _delimiter(handle):
    """The field separator, from the header line: the most frequent of ``,`` ``;`` tab and
    ``|`` (a comma when none occurs); the handle is rewound."""
    header = ""
    while not header.strip():
        header = handle.readline(_LONGEST_HEADER)
        if not header:
            break
        if len(header) >= _LONGEST_HEADER and not header.endswith("\n"):
            raise ValueError(f"--data: {handle.name!r} has no line break in its first "
                             f"{_LONGEST_HEADER:,} characters; not a CSV file?")
    handle.seek(0)
    counts = {separator: header.count(separator) for separator in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


#: Cells that stand for a missing number in common exports (pandas, R, spreadsheets).
_MISSING = {"na", "n/a", "nan", "null", "none", "?", "-", "#n/a"}


def _is_missing(cell):
    """Whether a stripped cell stands for a missing number (empty, or a marker such as NA)."""
    return cell == "" or cell.lower() in _MISSING


def missing_cells(cells):
    """A boolean mask of a column's missing cells: empty ones, and markers such as NA when the
    other cells are numbers (in a text column "none" or "-" may be a value)."""
    numbers = _numeric_column(cells)
    if numbers is not None:
        return np.isnan(numbers)
    return np.array([cell == "" for cell in cells], dtype=bool)


def _numeric_column(cells):
    """The column's numbers with NaN for missing cells (empty, or a ``_MISSING`` marker), or
    None for a text column (a cell that is neither a finite number nor missing)."""
    try:  # the common case, every cell a number, parsed in one call
        values = np.array(cells, dtype=np.float64)
        if np.isfinite(values).all():
            return values
    except ValueError:
        pass
    gaps = np.array([_is_missing(cell) for cell in cells], dtype=bool)
    if gaps.all():  # only gaps: empty, or text such as "none" and "-"
        return np.full(len(cells), np.nan) if not any(cells) else None
    try:
        present = np.array([cell for cell, gap in zip(cells, gaps) if not gap], dtype=np.float64)
    except ValueError:
        return None
    if not np.isfinite(present).all():
        return None
    values = np.full(len(cells), np.nan)
    values[~gaps] = present
    return values


def _refuse_missing(name, cells, index, line, remedy, argument):
    cell = "an empty cell" if cells[index] == "" else f"missing values ({cells[index]!r}"
    where = f" at line {line}" + ("" if cells[index] == "" else ")")
    raise TableError(argument, f"column {name!r} has {cell}{where}", remedy)


def _encode(columns, lines, spec, path, impute, parsed=None, remedy="impute", argument="path"):
    """``(X, names, unknown)``: the features of ``columns`` as ``spec`` encodes them (missing
    numbers as NaN when ``impute``, else a :class:`TableError` about ``argument`` suggesting
    ``remedy``); ``parsed`` holds numeric columns already parsed; ``path`` names the source in
    errors."""
    features, names, unknown = [], [], 0
    for column in spec:
        name, cells = column["name"], columns[column["name"]]
        if column["kind"] == "number":
            numbers = (parsed or {}).get(name)
            if numbers is None:
                numbers = _numeric_column(cells)
            if numbers is None:
                bad = next(i for i, c in enumerate(cells)
                           if not (_is_finite_number(c) or _is_missing(c)))
                raise TableError(argument, f"column {name!r} expects numbers, line "
                                           f"{lines[bad]} of {path!r} has {cells[bad]!r}.")
            gaps = np.flatnonzero(np.isnan(numbers))
            if gaps.size and not impute:
                _refuse_missing(name, cells, gaps[0], lines[gaps[0]], remedy, argument)
            features.append(numbers[:, None])
            names.append(name)
        elif column["kind"] == "date":
            gaps = np.array([_is_missing(cell) for cell in cells], dtype=bool)
            if gaps.any() and not impute:
                first = int(np.argmax(gaps))
                _refuse_missing(name, cells, first, lines[first], remedy, argument)
            try:
                features.append(date_features(cells, column["parts"], gaps))
            except ValueError as error:
                raise TableError(argument, f"column {name!r} of {path!r} holds dates; "
                                           f"{error}.") from None
            names += [f"{name}:{part}" for part in column["parts"]]
        else:
            if "" in cells and not impute:
                first = cells.index("")
                _refuse_missing(name, cells, first, lines[first], remedy, argument)
            levels = np.array(column["levels"])
            text = np.array([MISSING_LEVEL if cell == "" else cell for cell in cells])
            one_hot = (text[:, None] == levels[None, :]).astype(float)
            unknown += int((one_hot.sum(axis=1) == 0).sum())
            features.append(one_hot)
            names += [f"{name}={level}" for level in column["levels"]]
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
