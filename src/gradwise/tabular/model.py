"""Models saved by the ``gradwise`` command, used from Python on raw rows.

``gradwise train --save churn.npz`` stores the network with the encoding of the CSV's columns
(one-hot levels, imputation fills) and the target's classes or scaling. :func:`load_csv_model`
gives them back as one object whose ``predict`` takes rows as raw as the training file: a CSV
path, a pandas DataFrame or a dict of columns. Detectors saved by ``gradwise anomalies --save``
load the same way and score rows with ``reconstruction_error`` and ``is_anomaly``.

Examples
--------
>>> import gradwise as gw
>>> model = gw.load_csv_model("churn.npz")  # doctest: +SKIP
>>> model.predict({"tenure": [3, 40], "plan": ["basic", "pro"]})  # doctest: +SKIP
array(['yes', 'no'], dtype='<U3')
"""
import numpy as np

from .errors import TableError
from .saved import ANOMALY_KIND, read_saved_model, saved_errors

__all__ = ["CSVModel", "load_csv_model"]


def load_csv_model(path):
    """Load a model file written by ``gradwise train``, ``tune`` or ``anomalies --save``.

    Raises
    ------
    TableError
        A ``ValueError`` about ``path``: the file cannot be read, was not written by the
        command (it lacks the column encoding), or its metadata does not match its network
        (classes, column encoding, task, scaling or threshold: edited or damaged).
    """
    model, facts = read_saved_model(path)
    return CSVModel(model, facts, path)


class CSVModel:
    """A saved network with the encoding of its CSV columns (see :func:`load_csv_model`).

    Attributes
    ----------
    network : Sequential
        The network, which takes the encoded features.
    columns : list of str
        The CSV columns it reads, in the training file's order.
    task : {"classification", "regression", "anomaly detection"}
    classes : list of str or None
        The class labels, as the CSV wrote them.
    target : str or None
    metadata : dict
        Everything the model file records (encoding, scaling, how it was made).
    """

    def __init__(self, network, metadata, path=None):
        self.network, self.metadata, self.path = network, metadata, path
        self.columns = [column["name"] for column in metadata["columns"]]
        self.detector = metadata["kind"] == ANOMALY_KIND
        self.task = "anomaly detection" if self.detector else metadata["task"]
        self.classes = None if self.detector else metadata.get("classes")
        self.target = None if self.detector else metadata.get("target")

    def encode(self, data):
        """The network's input for ``data`` (a CSV path, a DataFrame or a dict of columns):
        shape (n_rows, n_features), with missing numbers filled as in training."""
        from .csv import _encode, complete, encode_saved
        impute = self.metadata.get("impute") is not None
        spec = self.metadata["columns"]
        if isinstance(data, (str, bytes)) or hasattr(data, "__fspath__"):
            try:
                return encode_saved(data, spec, fill=impute)[0]
            except TableError as error:  # the file is this method's ``data``
                raise TableError("data", error.detail, error.remedy, error.column) from None
        columns = _text_columns(data, self.columns)
        lines = np.arange(2, 2 + len(next(iter(columns.values()))))
        X = _encode(columns, lines, spec, "data", impute, remedy="no-fills", argument="data")[0]
        return complete(X, spec)[0] if impute else X

    def predict_proba(self, data):
        """Class probabilities, shape (n_rows, n_classes), columns in the order of
        ``classes``."""
        if self.task != "classification":
            raise ValueError(f"predict_proba: the model's task is {self.task}, not "
                             "classification.")
        return np.asarray(self.network.predict(self.encode(data)), dtype=np.float64)

    def predict(self, data):
        """The predicted class label of each row, or its predicted value in the target's units
        (regression), shape (n_rows,)."""
        if self.detector:
            raise ValueError("predict: an anomaly detector scores rows; use "
                             "reconstruction_error or is_anomaly.")
        if self.task == "classification":
            return np.asarray(self.classes)[self.predict_proba(data).argmax(axis=1)]
        output = np.asarray(self.network.predict(self.encode(data)), dtype=np.float64)
        return output[:, 0] * self.metadata["y_std"] + self.metadata["y_mean"]

    def reconstruction_error(self, data):
        """A detector's anomaly score per row: the mean squared reconstruction error of the
        standardized row, shape (n_rows,)."""
        self._check_detector("reconstruction_error")
        return saved_errors(self.network, self.metadata, self.encode(data))[2]

    def is_anomaly(self, data):
        """Whether each row's reconstruction error exceeds the detector's threshold."""
        self._check_detector("is_anomaly")
        return self.reconstruction_error(data) > self.metadata["threshold"]

    def _check_detector(self, method):
        if not self.detector:
            raise ValueError(f"{method}: the model predicts (its task is {self.task}); only "
                             "an anomaly detector scores rows by their reconstruction error; "
                             "use predict.")

    def __repr__(self):
        return (f"CSVModel(task={self.task!r}, target={self.target!r}, "
                f"columns={len(self.columns)})")


def _text_columns(data, names):
    """``{column: [text cells]}`` from a DataFrame or a dict of sequences; missing values
    (None, NaN) become empty cells, as in a CSV."""
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # pandas / polars frames
        data = {str(name): list(data[name]) for name in data.columns}
    if not isinstance(data, dict):
        raise TypeError(f"data: expected a CSV path, a DataFrame or a dict of columns, "
                        f"received {type(data).__name__}.")
    absent = [name for name in names if name not in data]
    if absent:
        raise ValueError(f"data: columns {absent} are missing; the model reads {names}.")
    lengths = {len(data[name]) for name in names}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError("data: expected columns of one and the same length, at least one row.")
    return {name: [_cell(value) for value in data[name]] for name in names}


def _cell(value):
    """A value as the CSV would have written it: "" for a missing one, "3" for 3.0 (so that a
    category coded 3 matches its level)."""
    if value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    return "" if text in ("<NA>", "NaT") else text  # pandas' missing markers
