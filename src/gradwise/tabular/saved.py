"""Model files written by the ``gradwise`` command: reading them back with the facts of their
column encoding, and scoring rows with a saved anomaly detector.

A classifier or regressor's metadata has ``kind`` :data:`METADATA_KIND`, its ``task``,
``target``, ``columns`` (the encoding of :func:`gradwise.tabular.csv.read_csv`), ``impute``,
``classes``, ``positive``, ``y_mean`` and ``y_std``. A detector's has ``kind``
:data:`ANOMALY_KIND`, its ``columns``, ``impute``, ``label``, the standardization ``mean`` and
``scale`` and the ``threshold`` on the reconstruction error.
"""
import numpy as np

from .errors import TableError

METADATA_KIND = "gradwise-cli-model"
ANOMALY_KIND = "gradwise-cli-anomalies"


def read_saved_model(path):
    """``(model, facts)``: the network of a model file the command wrote, and its metadata.

    Raises
    ------
    TableError
        About ``path``: the file cannot be loaded (with the remedy ``"table-not-model"``
        when it is text, a table given as the model), lacks the column encoding, or its
        metadata does not match its network (before any row is read).
    """
    from ..io.loading import load_model
    try:
        model = load_model(path)
    except (OSError, ValueError) as error:
        raise TableError("path", f"cannot load {path!r}: {error}",
                         "table-not-model" if _is_text(path) else None) from None
    facts = model.metadata
    if facts.get("kind") not in (METADATA_KIND, ANOMALY_KIND):
        raise TableError("path", f"{path!r} was not saved by 'gradwise train', 'tune' or "
                                 "'anomalies'", "not-saved")
    problem = _columns_problem(facts.get("columns"), facts.get("impute") is not None) \
        or _width_problem(model, facts["columns"]) \
        or (_detector_problem(model, facts) if facts["kind"] == ANOMALY_KIND
            else _predictor_problem(model, facts))
    if problem:
        raise TableError("path", f"{path!r} does not hold together: {problem}; the file was "
                                 "changed or damaged since it was saved.")
    return model, facts


def _is_text(path):
    """Whether the file ``path`` starts as text does (a table given as the model)."""
    from ..io._archive import text_start
    try:
        with open(path, "rb") as handle:
            start = handle.read(64)
    except OSError:
        return False
    return bool(start) and text_start(start) is not None


#: The parts a date column may encode to (see :mod:`gradwise.tabular.columns`).
DATE_PARTS = ("year", "month", "day", "weekday", "hour")
TASKS = ("classification", "regression")


def _columns_problem(columns, imputed):
    """What is wrong with the metadata's column encoding ``columns`` (None when nothing is):
    each a ``{"name", "kind"}`` object of a known kind with its levels or date parts, names
    not repeated, and (``imputed``) the values that fill a missing number."""
    if not isinstance(columns, list) or not columns:
        return "its metadata lists no columns"
    names = set()
    for number, column in enumerate(columns, start=1):
        name = column.get("name") if isinstance(column, dict) else None
        where = f"column {number} of its metadata" + (f" ({name!r})" if name else "")
        if not isinstance(name, str) or not name:
            return f"{where} has no name"
        if name in names:
            return f"{where} repeats the name of an earlier one"
        names.add(name)
        kind = column.get("kind")
        if kind == "category":
            levels = column.get("levels")
            if not (isinstance(levels, list) and all(isinstance(level, str) for level in levels)
                    and len(set(levels)) == len(levels)):
                return f"{where} is a category without a list of distinct levels"
        elif kind == "date":
            parts = column.get("parts")
            if not (isinstance(parts, list) and parts and set(parts) <= set(DATE_PARTS)
                    and len(set(parts)) == len(parts)):
                return f"{where} is a date whose parts are not some of {list(DATE_PARTS)}"
        elif kind != "number":
            return (f"{where} has kind {kind!r}; a column's kind is number, date or "
                    "category")
        if imputed and kind != "category" and not _fills(column.get("fill"), column):
            return f"{where} has no value to fill its missing cells with (it was imputed)"
    return None


def _fills(fill, column):
    """Whether ``fill`` fills a missing cell of the number or date ``column``: one finite
    number, or one per date part."""
    wanted = 1 if column["kind"] == "number" else len(column["parts"])
    values = [fill] if column["kind"] == "number" else fill
    return (isinstance(values, list) and len(values) == wanted
            and all(_finite_number(value) for value in values))


def _finite_number(value):
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and bool(np.isfinite(value)))


def _width_problem(model, spec):
    """Whether the features that the column encoding ``spec`` makes are the network's inputs
    (and its embedded categories the network's embedding's columns and levels)."""
    from .spec import _positions, feature_names
    features = len(feature_names(spec))
    if features != model.input_dim:
        return (f"its {len(spec)} columns encode to {features} features, but its network "
                f"takes {model.input_dim}")
    embedded = {int(position): len(column["levels"]) + 1
                for column, position in zip(spec, _positions(spec)) if column.get("embed")}
    tables = {}
    for layer in model.layers:
        if type(layer).__name__ == "CategoryEmbedding":
            tables.update(zip(layer.columns, layer.levels))
    if embedded != tables:
        return (f"its embedded columns (feature: levels with the unknown one) are {embedded}, "
                f"but its network's embedding tables are {tables}")
    return None


def _predictor_problem(model, facts):
    """What is wrong with the task and target facts of a classifier or regressor."""
    task, outputs = facts.get("task"), model.output_dim
    if task not in TASKS:
        return f"its task is {task!r}; a model's task is classification or regression"
    if not isinstance(facts.get("target"), str):
        return f"its target column is {facts.get('target')!r}, not a name"
    if task == "regression":
        if outputs != 1:
            return f"it is a regression, but its network has {outputs} outputs, not 1"
        if not (_finite_number(facts.get("y_mean")) and _finite_number(facts.get("y_std"))
                and facts["y_std"] > 0):
            return (f"its target scaling (y_mean {facts.get('y_mean')!r}, y_std "
                    f"{facts.get('y_std')!r}) is not a finite mean and a positive deviation")
        return None
    classes = facts.get("classes")
    if not (isinstance(classes, list) and all(isinstance(label, str) for label in classes)
            and len(set(classes)) == len(classes) and len(classes) >= 2):
        return f"its classes {classes!r} are not a list of two or more distinct labels"
    if len(classes) != outputs:
        return (f"it lists {len(classes)} classes, but its network's output layer has "
                f"{outputs} units")
    if facts.get("positive") is not None and facts["positive"] not in classes:
        return f"its positive class {facts['positive']!r} is not one of its classes {classes}"
    return None


def _detector_problem(model, facts):
    """What is wrong with the standardization and threshold facts of an anomaly detector."""
    width = model.input_dim
    if model.output_dim != width:
        return (f"its network takes {width} features but reconstructs {model.output_dim}, "
                "not an autoencoder's")
    for name in ("mean", "scale"):
        values = facts.get(name)
        if not (isinstance(values, list) and len(values) == width
                and all(_finite_number(value) for value in values)):
            return f"its standardization {name!r} is not {width} finite numbers"
    if any(value <= 0 for value in facts["scale"]):
        return "its standardization 'scale' holds a number that is not positive"
    if not _finite_number(facts.get("threshold")):
        return f"its threshold {facts.get('threshold')!r} is not a finite number"
    return None


def saved_errors(model, facts, X):
    """``(autoencoder, Z, errors)`` of a saved detector (``model`` loaded from its file,
    ``facts`` its metadata) on encoded rows ``X``: the standardized rows
    ``Z = (X - mean) / scale`` and their mean squared reconstruction errors, shape (n_rows,)."""
    from ..autoencoder import Autoencoder
    autoencoder = Autoencoder._from_model(model)
    Z = (X - np.asarray(facts["mean"])) / np.asarray(facts["scale"])
    return autoencoder, Z, autoencoder._errors(Z)
