"""A training report as one self-contained HTML file (plots inline as SVG, no external assets).

Sections: the network, learning curves, loss and metrics on each split, the bias/variance
diagnosis, the test-set confusion matrix and per-class scores (classification) or predicted
against actual values (regression), for two classes the precision-recall and ROC curves with
the decision threshold that maximizes F1 on the dev split, permutation importance of the
features on the dev split, the gradient-health table when a
:class:`~gradwise.GradientHealth` callback was used, and the hyperparameter search (each
trial's dev score, each hyperparameter's importance) after a tuning.

Plots need matplotlib (``pip install "gradwise[report]"``); it is imported only here.

Examples
--------
>>> # history = model.fit(X_train, y_train, validation_data=(X_dev, y_dev), epochs=30)
>>> # gw.report.write_report("report.html", model, history,
>>> #                        {"train": (X_train, y_train), "dev": (X_dev, y_dev),
>>> #                         "test": (X_test, y_test)}, feature_names=columns)
"""
import html
import os

import numpy as np

from ..diagnostics import diagnose
from ..explain import _labels, _ModelAdapter, permutation_importance
from ..io.files import atomic_write as _atomic_write
from ..model import Sequential
from .generative import vae_report, write_vae_report
from .pieces import _STYLE, _pre, _pyplot, _section, _svg, _table, model_summary

_CLASSIFICATION_LOSSES = ("categorical_crossentropy", "binary_crossentropy",
                          "binary_focal_crossentropy")
_TOP_FEATURES = 15


def write_report(path, model, history, splits, **options):
    """Write :func:`training_report`'s HTML to ``path`` atomically; returns ``path``.

    Everything is computed before the file is opened, and the file is written to a temporary
    name renamed into place, so a failure never leaves a partial report.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a file name, received {type(path).__name__}.")
    page = training_report(model, history, splits, **options).encode("utf-8")
    _atomic_write(path, lambda file: file.write(page), suffix=".html")
    return path


def training_report(model, history, splits, title="gradwise training report",
                    data_description=None, feature_names=None, class_names=None,
                    human_error=None, gradient_health=None, target_scale=1.0, random_state=0,
                    positive_class=None, feature_groups=None, tuning=None, target_offset=0.0,
                    scores=None, provenance=None, diagnosis=None):
    """The report as an HTML string.

    Parameters
    ----------
    model : Sequential
        Compiled and trained.
    history : History or dict
        What ``fit`` returned (or its ``.history`` dict of per-epoch lists).
    splits : dict
        ``{"train": (X, y), "dev": (X, y), "test": (X, y)}``; ``"train"`` is required, the
        others are used when present. ``X`` (n_samples, n_features), ``y`` as ``fit`` took it.
    data_description : str, optional
    feature_names : sequence of str, optional
        One per column of ``X``; default ``x0, x1, ...``.
    class_names : sequence of str, optional
        Names of the classes ``0 .. k-1`` of a classifier.
    human_error : float, optional
        Passed to :func:`gradwise.diagnose`.
    gradient_health : GradientHealth, optional
    target_scale : float, default 1.0
        Multiplies regression targets and predictions in the predicted-vs-actual plot (to show
        them in their original units when the model was trained on standardized targets).
    random_state : int, default 0
        For the permutation importance.
    positive_class : int, optional
        For two classes, the index of the class the precision-recall and ROC curves detect;
        default the rarer class of the training split.
    feature_groups : sequence of str, optional
        The variable each feature encodes (e.g. the CSV column of a one-hot level): permutation
        importance then shuffles a variable's features together and reports one row per
        variable.
    tuning : TuningResult, optional
        The search that chose the model's hyperparameters: adds each trial's dev score
        against its number and the importance of each hyperparameter.
    target_offset : float, default 0.0
        Added to regression targets and predictions after ``target_scale`` (the mean of
        targets the model was trained on standardized).
    scores : dict, optional
        ``{split: {score: value}}`` to show as the results table instead of ``evaluate``'s
        values (e.g. the scores a command printed, in the target's units).
    provenance : dict, optional
        How the model was made (command, options, data, date, version): shown in a section
        of its own.
    diagnosis : DiagnosisReport or str, optional
        The bias/variance diagnosis to show (e.g. the one a command printed, with its advice
        in the command's words) instead of :func:`gradwise.diagnose`'s of ``splits``; a str
        says why none is made (imbalanced classes, whose error rate says little).
    """
    curves = _check_inputs(model, history, splits)
    task = "classification" if model.loss.name in _CLASSIFICATION_LOSSES else "regression"
    names = _feature_names(feature_names, model.input_dim)
    plt = _pyplot()
    parts = [f"<h1>{html.escape(title)}</h1>"]
    if data_description:
        parts.append(f"<p>{html.escape(data_description)}</p>")
    if provenance:
        parts += _section("How this model was made", _provenance_table(provenance))
    parts += _section("Network", _pre(model_summary(model)))
    parts += _section("Learning curves", _learning_curves(plt, curves))
    parts += _section("Results", _results_table(model, splits) if scores is None else
                      _scores_table(scores, task))
    if diagnosis is not None or "dev" in splits:
        report = diagnosis if diagnosis is not None else diagnose(
            model, splits["train"], splits["dev"], human_error=human_error)
        parts += _section("Bias and variance", _pre(str(report)))  # a note when none is made
    evaluation = splits.get("test", splits.get("dev", splits["train"]))
    split_name = next(name for name in ("test", "dev", "train") if name in splits)
    if task == "classification":
        parts += _section(f"Confusion matrix ({split_name})",
                          _confusion(plt, model, evaluation, class_names))
        if max(model.output_dim, 2) == 2:
            positive = _positive_class(model, splits, positive_class)
            label = str(class_names[positive]) if class_names is not None else str(positive)
            parts += _section(f"Precision-recall and ROC curves (class {label} positive)",
                              _binary_curves(plt, model, splits, positive))
    else:
        parts += _section(f"Predicted against actual ({split_name})",
                          _scatter(plt, model, evaluation, target_scale, target_offset))
    importance_split = splits.get("dev", evaluation)
    parts += _section("Permutation importance (dev)" if "dev" in splits else
                      "Permutation importance", _importance(plt, model, importance_split, names,
                                                             random_state, feature_groups))
    if gradient_health is not None:
        parts += _section("Gradient health", _pre(gradient_health.table()))
    if tuning is not None:
        from .tuning import search_section
        parts += _section("Hyperparameter search", search_section(plt, tuning))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


# -- checks ----------------------------------------------------------------------------------
def _check_inputs(model, history, splits):
    if not isinstance(model, Sequential) or not model.built or model.loss is None:
        raise ValueError("model: expected a compiled, trained gw.Sequential.")
    curves = getattr(history, "history", history)
    if not isinstance(curves, dict) or not curves.get("loss"):
        raise ValueError("history: expected what fit returned (per-epoch 'loss' and others).")
    if not isinstance(splits, dict) or "train" not in splits:
        raise ValueError("splits: expected a dict with at least a 'train' entry, e.g. "
                         "{'train': (X, y), 'dev': (X, y), 'test': (X, y)}.")
    unknown = set(splits) - {"train", "dev", "test"}
    if unknown:
        raise ValueError(f"splits: unknown names {sorted(unknown)}; expected train, dev, test.")
    for name, pair in splits.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"splits[{name!r}]: expected a pair (X, y).")
    return curves


def _feature_names(feature_names, n_features):
    if feature_names is None:
        return [f"x{i}" for i in range(n_features)]
    names = [str(name) for name in feature_names]
    if len(names) != n_features:
        raise ValueError(f"feature_names: expected {n_features} names, received {len(names)}.")
    return names


def _learning_curves(plt, curves):
    metrics = [k for k in curves if not k.startswith("val_") and k not in ("lr", "learning_rate")]
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.2), squeeze=False)
    for axis, metric in zip(axes[0], metrics):
        epochs = np.arange(1, len(curves[metric]) + 1)
        axis.plot(epochs, curves[metric], label="train")
        if f"val_{metric}" in curves:
            axis.plot(epochs, curves[f"val_{metric}"], label="dev")
        axis.set_xlabel("epoch")
        axis.set_title(metric)
        axis.legend()
    return _svg(plt, figure)


def _results_table(model, splits):
    results = {name: model.evaluate(*splits[name]) for name in ("train", "dev", "test")
               if name in splits}
    keys = list(next(iter(results.values())))
    rows = [(name, len(splits[name][0]), *(f"{values[k]:.4f}" for k in keys))
            for name, values in results.items()]
    return _table(("split", "samples", *keys), rows)


def _scores_table(scores, task):
    keys = list(next(iter(scores.values())))
    rows = [(name, *(f"{values[k]:.4f}" for k in keys)) for name, values in scores.items()]
    note = ("" if task == "classification" else
            "<p>loss: the mean squared error of standardized targets; the other scores in the "
            "target's units.</p>")
    return _table(("split", *keys), rows) + note


def _provenance_table(provenance):
    rows = []
    for key, value in provenance.items():
        if key == "scores":
            continue
        if key == "best_parameters":  # as the command printed them
            from .tuning import parameter_text
            value = ", ".join(f"{k}={parameter_text(v)}" for k, v in value.items())
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        rows.append((key.replace("_", " "), value))
    return _table(None, rows, kind="facts")


def _confusion(plt, model, pair, class_names):
    from sklearn.metrics import ConfusionMatrixDisplay, classification_report
    X, y = pair
    truth = _labels(model, y).astype(int)  # class indices, from labels or one-hot rows
    predicted = _ModelAdapter(model).predict(X)
    n_classes = max(model.output_dim, 2)
    labels = list(range(n_classes))
    names = [str(c) for c in class_names] if class_names is not None else [str(c) for c in labels]
    figure, axis = plt.subplots(figsize=(1.2 + 0.45 * n_classes, 1.0 + 0.45 * n_classes))
    ConfusionMatrixDisplay.from_predictions(truth, predicted, labels=labels, display_labels=names,
                                            ax=axis, colorbar=False)
    text = classification_report(truth, predicted, labels=labels, target_names=names, digits=4,
                                 zero_division=0)
    return _svg(plt, figure) + _pre(text)


def _positive_class(model, splits, positive_class):
    if positive_class is None:
        counts = np.bincount(_labels(model, splits["train"][1]).astype(int), minlength=2)
        return int(counts.argmin())
    if positive_class not in (0, 1):
        raise ValueError(f"positive_class: expected 0 or 1, received {positive_class!r}.")
    return positive_class


def positive_scores(model, X, positive):
    """The model's probability of class ``positive`` (0 or 1) for each row of ``X``."""
    p = np.asarray(_ModelAdapter(model).predict_proba(X), dtype=np.float64)
    return p[:, positive]


def best_f1_threshold(truth, scores):
    """The score threshold (predict positive when ``score >= threshold``) with the highest F1
    on ``(truth, scores)``, and that F1."""
    from sklearn.metrics import precision_recall_curve
    precision, recall, thresholds = precision_recall_curve(truth, scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))[:-1]
    best = int(np.argmax(f1))
    return float(thresholds[best]), float(f1[best])


def _binary_curves(plt, model, splits, positive):
    """PR and ROC curves on dev and test, and each split's precision and recall at 0.5 and at
    the threshold that maximizes F1 on dev (train when there is no dev split)."""
    from ..metrics import ranking_scores
    curves = {}
    for name in ("train", "dev", "test"):
        if name in splits:
            truth = _labels(model, splits[name][1]).astype(int) == positive
            if 0 < truth.sum() < len(truth):
                curves[name] = (truth, positive_scores(model, splits[name][0], positive))
    if not curves:
        return "<p>No split holds both classes.</p>"
    tuned_on = "dev" if "dev" in curves else next(iter(curves))
    threshold, _ = best_f1_threshold(*curves[tuned_on])
    figure = pr_roc_figure(plt, {name: pair for name, pair in curves.items() if name != "train"},
                           threshold)
    ranked = {name: ranking_scores(*pair) for name, pair in curves.items()}
    rows = [[name, int(truth.sum()), f"{ranked[name]['avg_prec']:.4f}",
             f"{ranked[name]['roc_auc']:.4f}",
             *flagged_precision_recall(truth, scores >= 0.5),
             *flagged_precision_recall(truth, scores >= threshold)]
            for name, (truth, scores) in curves.items()]
    note = (f"<p>Threshold {threshold:.4g} maximizes F1 on the {tuned_on} split; predicting the "
            f"positive class when its probability is at least that trades precision for recall "
            f"as the table shows (gradwise predict --threshold {threshold:.4g}).</p>")
    table = _table(("split", "positives", "avg precision", "ROC AUC", "precision @0.5",
                    "recall @0.5", f"precision @{threshold:.3g}", f"recall @{threshold:.3g}"),
                   rows)
    return _svg(plt, figure) + table + note


def pr_roc_figure(plt, curves, threshold=None):
    """Precision-recall and ROC curves side by side, one line per ``{label: (truth, scores)}``
    (a legend when the lines are labelled); with ``threshold``, a dot on each precision-recall
    curve where the scores reach it."""
    from sklearn.metrics import precision_recall_curve, roc_curve
    figure, (pr_axis, roc_axis) = plt.subplots(1, 2, figsize=(9, 3.8))
    for label, (truth, scores) in curves.items():
        precision, recall, _ = precision_recall_curve(truth, scores)
        line, = pr_axis.plot(recall, precision, label=label)
        if threshold is not None:
            at_threshold, recall_at = flagged_precision_recall(truth, scores >= threshold)
            if at_threshold != "-":  # the chosen threshold's point on the curve
                pr_axis.plot(float(recall_at), float(at_threshold), "o", color=line.get_color())
        false_positive, true_positive, _ = roc_curve(truth, scores)
        roc_axis.plot(false_positive, true_positive, label=label)
    title = "precision-recall" + ("" if threshold is None else
                                  f" (dots: threshold {threshold:.3g})")
    pr_axis.set(xlabel="recall", ylabel="precision", title=title)
    roc_axis.plot([0, 1], [0, 1], color="gray", linewidth=1)
    roc_axis.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    if any(label is not None for label in curves):
        for axis in (pr_axis, roc_axis):
            axis.legend()
    return figure


def flagged_precision_recall(truth, flagged, weights=None):
    """Precision and recall of the ``flagged`` rows (boolean arrays) for the ``truth`` ones, as
    text with 4 decimals; "-" where there is nothing to divide by (no row flagged, none true).
    ``weights``: the rows each entry stands for (whole numbers), 1 when None."""
    weights = np.ones(len(truth), dtype=np.int64) if weights is None else np.asarray(weights)
    hits, marked, true = (int(weights[rows].sum()) for rows in (flagged & truth, flagged, truth))
    return (f"{hits / marked:.4f}" if marked else "-", f"{hits / true:.4f}" if true else "-")


def _scatter(plt, model, pair, scale, offset=0.0):
    X, y = pair
    actual = np.asarray(y, dtype=np.float64).reshape(len(X), -1)[:, 0] * scale + offset
    predicted = np.asarray(model.predict(X), dtype=np.float64)[:, 0] * scale + offset
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    axis.scatter(actual, predicted, s=8, alpha=0.6)
    low, high = min(actual.min(), predicted.min()), max(actual.max(), predicted.max())
    axis.plot([low, high], [low, high], color="gray", linewidth=1)
    axis.set_xlabel("actual")
    axis.set_ylabel("predicted")
    errors = predicted - actual
    summary = (f"mean absolute error {np.mean(np.abs(errors)):.4g}, root mean squared error "
               f"{np.sqrt(np.mean(errors ** 2)):.4g}, over {len(errors)} rows")
    return _svg(plt, figure) + f"<p>{html.escape(summary)}</p>"


def _importance(plt, model, pair, names, random_state, groups=None):
    """Permutation importance: the drop in accuracy (R^2 for regression; ROC AUC for two
    classes, which a rare class does not reduce to noise) when a feature is shuffled."""
    two_classes = model.loss.name in _CLASSIFICATION_LOSSES and max(model.output_dim, 2) == 2
    truth = _labels(model, pair[1])
    scoring, score_name = (("roc_auc", "ROC AUC") if two_classes and len(np.unique(truth)) == 2
                           else (None, "score"))
    result = permutation_importance(model, *pair, n_repeats=5, random_state=random_state,
                                    scoring=scoring, groups=groups)
    if groups is not None:
        names = [str(group) for group in result.groups]
    order = np.argsort(result.importances_mean)[::-1][:_TOP_FEATURES]
    figure, axis = plt.subplots(figsize=(6, 0.8 + 0.3 * len(order)))
    axis.barh([names[i] for i in order][::-1], result.importances_mean[order][::-1],
              xerr=result.importances_std[order][::-1], color="#4a7ab5")
    axis.set_xlabel(f"drop in {score_name} when the feature is shuffled")
    rows = [(names[i], f"{result.importances_mean[i]:.4f}", f"{result.importances_std[i]:.4f}")
            for i in order]
    return _svg(plt, figure) + _table(("feature", "importance", "std"), rows)
