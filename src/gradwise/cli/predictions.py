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
    from ..metrics import classification_scores, regression_scores
    if facts["task"] == "classification":
        from .data import label_text
        y_text = np.array([label_text(cell) for cell in y_text])  # "1.0" and "1" are one class
        predicted = np.asarray(predicted)
        scores = classification_scores(y_text, predicted)
        unseen = sorted(set(y_text) - set(facts["classes"]))
        note = f" ({len(unseen)} label(s) not seen in training: {unseen[:5]})" if unseen else ""
        line = (f"accuracy against column {facts['target']!r}: {scores['accuracy']:.4f}, "
                f"balanced accuracy {scores['bal_acc']:.4f}, macro F1 "
                f"{scores['macro_f1']:.4f}")
        if facts.get("positive") is not None:  # two classes: how the rarer one fares
            from ..report import flagged_precision_recall
            precision, recall = flagged_precision_recall(y_text == facts["positive"],
                                                         predicted == facts["positive"])
            line += f"; {facts['positive']!r}: precision {precision}, recall {recall}"
        return line + note
    try:
        actual = y_text.astype(float)
    except ValueError:
        raise ValueError(f"--data: column {facts['target']!r} is not numeric; the model "
                         "predicts numbers.") from None
    scores = regression_scores(actual, predicted)
    r2 = "-" if np.isnan(scores["r2"]) else f"{scores['r2']:.4f}"
    return (f"mean absolute error against column {facts['target']!r}: "
            f"{scores['mae']:.6g}, root mean squared error {scores['rmse']:.6g}, R2 {r2}")


def write_table(path, header, rows):
    """Write the CSV to ``path`` atomically, or to standard output when ``path`` is None;
    text cells that a spreadsheet would run as formulas are neutralized (:func:`safe_cell`)."""
    from .guard import safe_cell
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([safe_cell(cell) for cell in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    if path is None:
        sys.stdout.write(buffer.getvalue())
        return
    from ..io.files import atomic_write
    data = buffer.getvalue().encode("utf-8")
    check_free_space(path, len(data))
    atomic_write(path, lambda file: file.write(data), suffix=".csv")


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
