"""Reading a user's table (CSV, TSV, Parquet or a folder of Parquet files) into features and a
target, with clear errors.

The file is read by Apache Arrow (:mod:`gradwise.tabular.read`) and each column encoded by
Arrow's compute kernels (:mod:`gradwise.tabular.columns`) into one C-ordered float32 matrix.
"""
import functools

import numpy as np

from .arrays import small_pages
from .columns import MISSING_LEVEL, Column, encode, finite, infer_spec
from .errors import TableError, warn
from .read import read_table, release_unused, table_from_columns
from .spec import _positions, _width, feature_names
from .stray import check_stray_cells

__all__ = ["MISSING_LEVEL", "read_csv", "encode_csv", "encode_saved", "fill_values", "complete",
           "missing_cells"]


@small_pages()
def read_csv(path, target, impute=False, drop=(), categorical=(), with_lines=False,
             encoding="utf-8", embed_threshold=None):
    """Return ``(X, y, feature_names, task, columns)`` from a table with a header row.

    ``path`` is a ``.csv`` or ``.tsv`` file (separator read off the header), a ``.parquet``
    file or a folder of ``.parquet`` files. Numeric columns are used as they are; ISO date
    columns (``2024-03-15``, with or without a time) become year, month, day, weekday (and
    hour); text columns are one-hot encoded, or, with more than ``embed_threshold`` levels
    (None: never), become one integer code for a ``CategoryEmbedding`` layer. The task is
    classification when the target is text or a small set of integers, regression otherwise.
    ``columns`` describes the encoding (``{"name", "kind": "number", "missing"}``, ``{"name",
    "kind": "date", "parts", "missing"}`` or ``{"name", "kind": "category", "levels"}`` with
    ``"embed": True`` when embedded, per input column), so that :func:`encode_csv` can apply
    it to new files. ``X`` is float32, C-ordered.

    Missing cells (empty, or a marker such as ``NA`` in a numeric column) are an error unless
    ``impute``: then missing numbers are NaN in ``X``, for :func:`complete` to fill with
    statistics of the training rows, and a missing category is a level of its own. Rows whose
    target is missing are dropped, with a warning.

    Columns named in ``drop`` are ignored; those in ``categorical`` are one-hot encoded even
    when their cells are numbers (codes such as zip codes or product ids). ``target`` None reads
    features only (``y`` and ``task`` None); ``with_lines`` adds the file line of each row.
    ``encoding`` is the text encoding of a CSV file.

    Raises
    ------
    TableError
        A ``ValueError`` naming the argument: missing or unreadable file, no header, unknown
        target column, ragged rows, a quoted field that never closes, text that is not in
        ``encoding``, a column of an unsupported type, or missing cells without ``impute``.
    """
    table = read_table(path, encoding=encoding, text_columns=categorical,
                       exact=[] if target is None else [target])
    columns = table.column_names
    check_named_columns(columns, target, drop, categorical)
    empty = [name for name in table.unnamed - {target, *drop}
             if Column(table, name).gaps().all()]
    leave_out_unnamed(path, columns, empty)
    y, task = None, None
    if target is not None:
        table, y = _target(table, target)
        task = _task(y, len(y)) if y.dtype.kind == "f" else "classification"
    names = [name for name in columns if name != target and name not in {*drop, *empty}]
    check_feature_names(path, names, target, drop)
    spec, analysed = infer_spec(table, names, categorical, embed_threshold,
                                check=functools.partial(check_stray_cells, impute=impute))
    X = encode(table, spec, impute, analysed)[0]
    lines = np.asarray(table.lines) if with_lines else None
    del table, analysed
    release_unused()  # the table's memory, which Arrow's allocator would keep
    return (X, y, feature_names(spec), task, spec) + ((lines,) if with_lines else ())


def _target(table, target):
    """``(table, y)``: the rows with a target value (the others left out with a warning) and
    the target: float64 numbers, or text."""
    values, gaps = target_values(table, target)
    if gaps.all():
        raise TableError("target", f"column {target!r} has no values.")
    if values.dtype.kind == "f":
        check_finite_target(table, target, values, gaps)
    if gaps.any():
        warn(f"{int(gaps.sum())} row(s) without a value in {target!r} (the first at "
             f"{table.where(int(np.argmax(gaps))).split(' of ')[0]}) were left out")
        table, values = table.filter(~gaps), values[~gaps]
    return table, values


def target_values(table, target):
    """``(values, gaps)``: the cells of column ``target`` of a table (or of one record batch
    of a streamed file), as float64 numbers (NaN where missing) when the column reads as
    numbers, else as stripped text ("" where missing); and the mask of the missing ones."""
    column = Column(table, target, largest=np.inf)
    values = column.numbers()
    if values is None:
        values = _text_array(column)
        return values, values == ""
    return values, np.isnan(values)


def check_named_columns(columns, target, drop=(), categorical=()):
    """Refuse a ``target``, ``drop`` or ``categorical`` name that is not one of the header's
    ``columns``, and the target named in ``drop`` or ``categorical``."""
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


def leave_out_unnamed(path, columns, empty):
    """Warn that the columns ``empty``, with no name in the header and no value in any row
    (what a comma at the end of every line makes), are left out."""
    for name in sorted(empty, key=list(columns).index):
        warn(f"column {list(columns).index(name) + 1} of {path!r} has no name in the header "
             f"and no value in any row (a separator at the end of every line?); it is left out")


def check_feature_names(path, names, target, drop):
    """Refuse a table with no feature column ``names`` left: every column the ``target`` or
    in ``drop``."""
    if names:
        return
    if target is None:
        raise TableError("path", f"{path!r} has no feature columns left once the columns to "
                                 "drop are left out.")
    raise TableError("path", f"{path!r} has no feature columns besides the target"
                             + (" and the columns to drop." if drop else "."))


def check_finite_target(table, target, values, gaps):
    """Refuse a target cell that is a number but not a finite one (``inf``, ``1e400``),
    naming its line: no network learns it, and no standardization holds it."""
    bad = ~(np.isfinite(values) | gaps)
    if bad.any():
        row = int(np.argmax(bad))
        raise TableError("target", f"column {target!r} has {float(values[row])!r} at "
                                   f"{table.where(row)}, not a finite number; fix or drop "
                                   "that row.")


def check_target_scale(target, mean, std, largest):
    """Refuse a regression target whose training mean or standard deviation is not finite in
    float64 (values near 1e154 and beyond, whose squares overflow)."""
    if not (np.isfinite(mean) and np.isfinite(std)):
        raise TableError("target", f"column {target!r} has values too large to standardize (up "
                                   f"to {largest:.3g}); rescale it, e.g. in thousands or as a "
                                   "logarithm.")


def _text_array(column):
    """A NumPy text array of the stripped cells of a :class:`Column`, through its distinct
    cells (no Python string per cell)."""
    cells, index = column.distinct()
    return np.array(cells.to_pylist(), dtype=str)[index]


@small_pages()
def encode_csv(path, spec, target=None, impute=False, with_lines=False, encoding="utf-8"):
    """Encode a new table with the ``columns`` spec of :func:`read_csv`.

    Returns ``(X, y, unknown)``: ``y`` is the target column's text cells (None when the file
    has no ``target`` column), ``unknown`` counts category cells not seen in training, which
    are encoded as all zeros (one-hot) or code 0 (embedded). Extra columns are ignored; a
    missing one is an error. Missing numbers are NaN when ``impute`` (see :func:`complete`),
    an error otherwise. ``with_lines`` adds the file line of each row.
    """
    texts = [c["name"] for c in spec if c["kind"] == "category"]
    table = read_table(path, encoding=encoding, text_columns=texts,
                       exact=[] if target is None else [target])
    y = new_table_target(table, spec, target)
    X, unknown = encode(table, spec, impute, remedy="no-fills")
    lines = np.asarray(table.lines) if with_lines else None
    del table
    release_unused()
    return (X, y, unknown) + ((lines,) if with_lines else ())


def new_table_target(table, spec, target=None, path=None):
    """The ``target`` column's text cells of a table new to a model whose columns ``spec``
    gives (None when the table has no such column), after checking that the table has every
    column of ``spec`` (extra columns are ignored); errors name ``path`` (default the
    table's)."""
    names = [column["name"] for column in spec]
    absent = [name for name in names if name not in table.column_names]
    if absent:
        source = path or table.path
        raise TableError("path", f"columns {absent} are missing from {source!r}; the model was "
                                 f"trained on {names}.")
    if target is None or target not in table.column_names:
        return None
    return _text_array(Column(table, target))


def encode_filled(table, spec, impute, remedy="impute"):
    """``table`` encoded as ``spec`` says (:func:`~gradwise.tabular.columns.encode`), with
    ``impute`` its missing numbers filled with the spec's fills (:func:`complete`)."""
    X = encode(table, spec, impute, remedy=remedy)[0]
    return complete(X, spec)[0] if impute else X


def encode_saved(path, spec, target=None, fill=False, encoding="utf-8"):
    """``(X, y, unknown, lines, gaps)``: a new table encoded as a saved model's ``spec`` says
    (see :func:`encode_csv`), with ``fill`` its missing numbers filled with the spec's fills
    (:func:`complete`); ``gaps`` counts the cells filled."""
    X, y, unknown, lines = encode_csv(path, spec, target, impute=fill, with_lines=True,
                                      encoding=encoding)
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
    names of the appended features; ``X`` keeps its float dtype (float64 for other input)."""
    X = np.asarray(X)
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    indicators = [column for column in spec if column.get("indicator")]
    out = np.empty((len(X), X.shape[1] + len(indicators)), dtype=dtype)
    out[:, :X.shape[1]] = X
    names, extra = [], X.shape[1]
    for column, position in zip(spec, _positions(spec)):
        if column["kind"] not in ("number", "date"):
            continue
        gaps = np.isnan(out[:, position])
        if column.get("indicator"):
            out[:, extra] = gaps
            names.append(f"{column['name']} is missing")
            extra += 1
        if gaps.any():
            out[gaps, position:position + _width(column)] = column["fill"]
    return out, names


def missing_cells(cells):
    """A boolean mask of a column's missing cells: empty ones, and markers such as NA when the
    other cells are numbers (in a text column "none" or "-" may be a value)."""
    column = Column(table_from_columns({"cells": cells}), "cells")
    numbers = column.numbers()
    if numbers is not None:
        return np.isnan(numbers)
    return column.empty()


def _encode(columns, lines, spec, path, impute, parsed=None, remedy="impute", argument="path"):
    """``(X, names, unknown)``: ``columns`` (``{name: [text cells]}``, rows given in memory)
    encoded as ``spec`` says; errors about ``argument``, naming rows as lines from 2."""
    table = table_from_columns(columns)
    try:
        X, unknown = encode(table, spec, impute, remedy=remedy)
    except TableError as error:
        detail = error.detail.replace(" of 'data'", "").replace(" in 'data'", "")
        raise TableError(argument, detail, error.remedy, error.column) from None
    return X, feature_names(spec)[:X.shape[1]], unknown


def _as_numbers(cells):
    """The cells as float64 numbers, or None when one is not a finite number."""
    try:
        values = np.array([float(c) for c in cells])
    except ValueError:
        return None
    return values if finite(values).all() else None


def _task(y_numbers, n):
    """Classification for a text target (None) or a few integers, regression otherwise."""
    if y_numbers is None:
        return "classification"
    if not np.all(y_numbers == np.round(y_numbers)):  # fractions (or NaN)
        return "regression"
    ordered = np.sort(y_numbers)  # the distinct values counted as np.unique would, without
    levels = int(np.count_nonzero(ordered[1:] != ordered[:-1])) + (len(ordered) > 0)  # numpy.ma
    return "classification" if levels <= max(2, min(20, n // 5)) else "regression"


def _numeric_column(cells):
    """The numbers of a column of text cells with NaN for missing cells (empty, or a marker
    such as NA), or None for a text column."""
    return Column(table_from_columns({"cells": cells}), "cells").numbers()
