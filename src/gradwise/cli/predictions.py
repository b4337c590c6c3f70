"""``gradwise predict``: network outputs turned back into labels or target units, as a CSV."""
import csv
import io
import sys

import numpy as np


def check_threshold(facts, threshold):
    """A ``--threshold`` needs a two-class model that knows its positive class."""
    if threshold is None:
        return
    if facts["task"] != "classification" or len(facts["classes"]) != 2:
        raise ValueError("--threshold: only for a model of two classes.")
    if facts.get("positive") is None:
        raise ValueError("--threshold: the model file does not name its positive class; save "
                         "it again with this version of gradwise.")
    if not 0 < threshold < 1:
        raise ValueError(f"--threshold: expected a probability between 0 and 1, received "
                         f"{threshold!r}.")


def predictions_table(model, facts, X, threshold=None):
    """``(header, rows, predicted)`` for the rows ``X`` (encoded as in training).

    Classification: the predicted class, then one probability column per class; with a
    ``threshold`` (two classes), the positive class wherever its probability reaches it.
    Regression: the prediction in the target's units (the network predicts standardized
    targets).
    """
    output = np.asarray(model.predict(X), dtype=np.float64)
    column = f"predicted_{facts['target']}"
    if facts["task"] == "classification":
        classes = np.asarray(facts["classes"])  # the command's networks end in a softmax
        predicted = classes[output.argmax(axis=1)]
        if threshold is not None:
            positive = int(np.flatnonzero(classes == facts["positive"])[0])
            predicted = np.where(output[:, positive] >= threshold, classes[positive],
                                 classes[1 - positive])
        header = [column] + [f"probability_{c}" for c in classes]
        rows = [[label, *(f"{p:.6g}" for p in row)] for label, row in zip(predicted, output)]
        return header, rows, predicted
    predicted = output[:, 0] * facts["y_std"] + facts["y_mean"]
    return [column], [[f"{value:.6g}"] for value in predicted], predicted


def _embedded_shares(model, shares, scale):
    """An embedded category's share: its vector times the gradient there (from the unknown
    level's zero vector), which the ``CategoryEmbedding`` layer records while explaining."""
    from ..layers import CategoryEmbedding
    for layer in model.layers:
        if isinstance(layer, CategoryEmbedding):
            for column, attribution in zip(layer.columns, layer.attributions):
                shares[:, column] = np.asarray(attribution, dtype=np.float64) * scale


def explanations(model, facts, X, predicted, top):
    """For each row, the ``top`` input columns that moved its prediction most, as text such as
    ``"income +0.21; city -0.08"``.

    The attribution of a column is gradient times input, taken from the training rows' mean
    (the network's ``Normalization`` layer): ``sum_j dF/dx_j * (x_j - mean_j)`` over the
    column's features (every level of a category, and its "is missing" indicator), the
    first-order share of ``F(x) - F(mean)``; for an embedded category, its vector times the
    gradient there (the share of ``F`` from the unknown level's zero vector). ``F`` is the
    log-odds of the predicted class (``log(p / (1 - p))``, which keeps its slope where the
    probability saturates), or the prediction in the target's units.
    """
    from ..tabular.spec import sum_by_column
    from ..explain import input_gradients
    from ..layers import Normalization
    first = model.layers[0]
    if not isinstance(first, Normalization):
        raise ValueError("--explain: the model does not start with the Normalization layer "
                         "that gradwise train saves; save it again with this gradwise.")
    if facts["task"] == "classification":
        classes = np.asarray(facts["classes"])
        chosen = np.array([int(np.flatnonzero(classes == label)[0]) for label in predicted])
        space, scale = "log_odds", 1.0
    else:
        chosen, space, scale = None, "output", facts["y_std"]
    gradients = input_gradients(model, X, chosen, space=space).astype(np.float64)
    shares = gradients * (X - np.asarray(first.state["mean"], dtype=np.float64)) * scale
    _embedded_shares(model, shares, scale)
    try:
        names, by_column = sum_by_column(shares, facts["columns"])
    except ValueError as error:
        raise ValueError(f"--explain: {error}") from None
    order = np.argsort(-np.abs(by_column), axis=1, kind="stable")[:, :top]
    return ["; ".join(f"{names[j]} {by_column[i, j]:+.3g}" for j in row)
            for i, row in enumerate(order)]


def score_against(facts, predicted, y_text):
    """A line comparing the predictions with the file's own target column (its rows that
    have a target value)."""
    from ..tabular.csv import missing_cells
    present = ~missing_cells([str(cell) for cell in y_text])
    if not present.any():
        return f"column {facts['target']!r} has no values to score against"
    predicted, y_text = np.asarray(predicted)[present], np.asarray(y_text)[present]
    skipped = "" if present.all() else f" ({int((~present).sum())} row(s) without a value not scored)"
    return _score(facts, predicted, y_text) + skipped


def _score(facts, predicted, y_text):
    if facts["task"] == "classification":
        from .data import label_text
        y_text = np.array([label_text(cell) for cell in y_text])  # "1.0" and "1" are one class
        return _class_line(facts, y_text, np.asarray(predicted), sorted(set(y_text.tolist())))
    try:
        actual = y_text.astype(float)
    except ValueError:
        raise ValueError(f"--data: column {facts['target']!r} is not numeric; the model "
                         "predicts numbers.") from None
    return _regression_line(facts, actual, predicted)


def _class_line(facts, truth, predicted, labels, positive=None, weights=None):
    """The scores of predicted labels against true ones (any labels, or codes of ``labels``
    with ``positive`` the positive class's code); ``labels`` are the true labels' texts;
    ``weights`` the rows each (true, predicted) pair stands for (:class:`ScoreTally`)."""
    from ..metrics import classification_scores
    scores = classification_scores(truth, predicted, weights)
    unseen = sorted(set(labels) - set(facts["classes"]))
    note = f" ({len(unseen)} label(s) not seen in training: {unseen[:5]})" if unseen else ""
    line = (f"accuracy against column {facts['target']!r}: {scores['accuracy']:.4f}, "
            f"balanced accuracy {scores['bal_acc']:.4f}, macro F1 "
            f"{scores['macro_f1']:.4f}")
    if facts.get("positive") is not None:  # two classes: how the rarer one fares
        from ..report import flagged_precision_recall
        positive = facts["positive"] if positive is None else positive
        precision, recall = flagged_precision_recall(truth == positive, predicted == positive,
                                                     weights)
        line += f"; {facts['positive']!r}: precision {precision}, recall {recall}"
    return line + note


def _regression_line(facts, actual, predicted):
    from ..metrics import regression_scores
    return _regression_text(facts, regression_scores(actual, predicted))


def _regression_text(facts, scores):
    r2 = "-" if np.isnan(scores["r2"]) else f"{scores['r2']:.4f}"
    return (f"mean absolute error against column {facts['target']!r}: "
            f"{scores['mae']:.6g}, root mean squared error {scores['rmse']:.6g}, R2 {r2}")


class ScoreTally:
    """:func:`score_against` over record batches, in memory that does not grow with the rows:
    for classes, a :class:`~gradwise.metrics.ClassTally` of label codes given as the labels
    arrive (the same bits as every row scored); for numbers, a
    :class:`~gradwise.metrics.RegressionTally`. No text is kept.

    Call :meth:`add` with each batch's predictions and target cells, then :meth:`line`.
    """

    def __init__(self, facts):
        from ..metrics import ClassTally, RegressionTally
        self.facts, self.skipped, self.rows, self.seen = facts, 0, 0, False
        self.classes = facts["task"] == "classification"
        self.codes = {}  # label text -> code
        self.tally = ClassTally() if self.classes else RegressionTally()

    def _code(self, labels):
        labels, inverse = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
        codes = [self.codes.setdefault(label, len(self.codes)) for label in labels.tolist()]
        return np.asarray(codes, dtype=np.int64)[inverse]

    def add(self, predicted, y_text):
        from ..tabular.csv import missing_cells
        self.seen = True
        cells, inverse = np.unique(np.asarray(y_text).astype(str), return_inverse=True)
        present = ~missing_cells(cells.tolist())[inverse]  # decided on the distinct cells
        self.skipped += int((~present).sum())
        self.rows += int(present.sum())
        predicted, y_text = np.asarray(predicted)[present], np.asarray(y_text)[present]
        if self.classes:
            from .data import label_text
            truth = self._code([label_text(cell) for cell in cells])[inverse][present]
            self.tally.add(truth, self._code(predicted.tolist()))
            return
        try:
            actual = y_text.astype(float)
        except ValueError:
            raise ValueError(f"--data: column {self.facts['target']!r} is not numeric; the "
                             "model predicts numbers.") from None
        self.tally.add(actual, np.asarray(predicted, dtype=np.float64))

    def line(self):
        if not self.rows:
            return f"column {self.facts['target']!r} has no values to score against"
        skipped = (f" ({self.skipped} row(s) without a value not scored)" if self.skipped
                   else "")
        if not self.classes:
            return _regression_text(self.facts, self.tally.scores()) + skipped
        truth, predicted, weights = self.tally.pairs()
        labels = np.array(list(self.codes))
        positive = self.codes.get(self.facts.get("positive"), -1)
        return _class_line(self.facts, truth, predicted, labels[np.unique(truth)].tolist(),
                           positive, weights) + skipped


def write_table(path, header, rows):
    """Write the CSV to ``path`` atomically, or to standard output when ``path`` is None;
    text cells that a spreadsheet would run as formulas are neutralized (:func:`safe_cell`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    _write_rows(writer, [header])
    _write_rows(writer, rows)
    if path is None:
        sys.stdout.write(buffer.getvalue())
        return
    from ..io.files import atomic_write
    data = buffer.getvalue().encode("utf-8")
    check_free_space(path, len(data))
    atomic_write(path, lambda file: file.write(data), suffix=".csv")


def safe_cell(value):
    """A CSV cell that a spreadsheet will not run as a formula (OWASP's advice on CSV
    injection): text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets
    a leading ``'``, unless it is a number (``-1.5``, ``+3``)."""
    if not isinstance(value, str) or not value or value[0] not in "=+-@\t\r":
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def _write_rows(writer, rows):
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)


def write_streamed(path, parts, expected_rows=None):
    """Write the CSV of ``parts`` (an iterable of ``(header, rows)``, the header written once)
    as :func:`write_table` writes it, part by part: to standard output, or to a temporary file
    in ``path``'s directory renamed to ``path`` at the end (atomic). Returns the rows written.

    With ``expected_rows`` (the rows of all parts, or an estimate), the first part's bytes a
    row give the file's size, and a disk without that much free space is refused before the
    first byte is written.

    Raises
    ------
    ValueError
        When ``parts`` is empty (no rows), or the disk has too little space; ``path`` is then
        untouched.
    OSError
        ``ENOSPC`` naming ``path`` when the disk fills up all the same
        (:func:`gradwise.io.files.atomic_write` removes the temporary file).
    """
    count = 0

    def write(text_file):
        nonlocal count
        writer = csv.writer(text_file, lineterminator="\n")
        for header, rows in parts:
            if not count:
                first = io.StringIO()
                _write_rows(csv.writer(first, lineterminator="\n"), [header])
                _write_rows(csv.writer(first, lineterminator="\n"), rows)
                first = first.getvalue()
                if path is not None and expected_rows and rows:
                    check_free_space(path, int(len(first.encode("utf-8")) / len(rows)
                                               * expected_rows * 1.05))
                text_file.write(first)
            else:
                _write_rows(writer, rows)
            count += len(rows)
            text_file.flush()
        if not count:
            raise ValueError("--data: the table has no rows.")

    if path is None:
        write(sys.stdout)
        return count
    from ..io.files import atomic_write

    def write_bytes(file):
        text_file = io.TextIOWrapper(file, encoding="utf-8", newline="")
        write(text_file)
        text_file.flush()
        text_file.detach()
    atomic_write(path, write_bytes, suffix=".csv")
    return count


def check_free_space(path, size):
    """Refuse to write ``size`` bytes to ``path`` when its disk has less free space (the
    temporary file is written whole before it replaces ``path``)."""
    import os
    import shutil
    folder = os.path.dirname(os.path.abspath(path))
    free = shutil.disk_usage(folder).free
    if size > free:
        raise ValueError(f"--out: {path!r} needs {size / 2**20:.1f} MB, the disk of {folder!r} "
                         f"has {free / 2**20:.1f} MB free; write it to another disk.")
