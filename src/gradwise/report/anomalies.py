"""The HTML page of ``gradwise anomalies --report``: one self-contained file, plots as SVG.

Sections: the data and the detector, the training loss, the distribution of reconstruction
errors with the threshold, the most anomalous rows with their worst-reconstructed columns and,
when a known label column was given, the ranking's precision-recall and ROC curves.
"""
import html

import numpy as np

from . import (_STYLE, _pre, _pyplot, _section, _svg, _table, flagged_precision_recall,
               model_summary, pr_roc_figure)

#: Rows listed in the page's table of the most anomalous rows.
TOP_ROWS = 25


def anomaly_report(detector, errors, flagged, lines, worst, data_description, labels=None,
                   positive=None, title="gradwise anomaly report"):
    """The page as an HTML string.

    Parameters
    ----------
    detector : AutoencoderAnomalyDetector
        Fitted.
    errors : array of shape (n_samples,)
        Each row's mean squared reconstruction error (``-detector.score_samples``).
    flagged : bool array of shape (n_samples,)
    lines : array of shape (n_samples,)
        Each row's line in the CSV file.
    worst : list of str
        Each row's worst-reconstructed columns, as text.
    data_description : str
    labels : array of shape (n_samples,), optional
        A known label per row (text), shown with the rows and scored against.
    positive : bool array of shape (n_samples,), optional
        With ``labels``: the rows of the rarer label, for the curves.
    """
    plt = _pyplot()
    threshold = -detector.offset_
    parts = [f"<h1>{html.escape(title)}</h1>", f"<p>{html.escape(data_description)}</p>"]
    facts = (f"{int(flagged.sum())} of {len(errors)} rows flagged: reconstruction error above "
             f"{threshold:.4g}, the {100 * (1 - detector.contamination):g}th percentile of the "
             f"rows' errors (contamination {detector.contamination:g}); {detector.n_iter_} epochs")
    parts += _section("Detector", f"<p>{html.escape(facts)}</p>"
                      + _pre(model_summary(detector.autoencoder_.model)))
    parts += _section("Training loss", _loss_curve(plt, detector.loss_curve_))
    parts += _section("Reconstruction errors", _histogram(plt, errors, threshold))
    parts += _section(f"The {min(TOP_ROWS, len(errors))} most anomalous rows",
                      _top_rows(errors, flagged, lines, worst, labels))
    if labels is not None and positive is not None and 0 < positive.sum() < len(positive):
        parts += _section("Against the known label", _curves(plt, errors, positive, flagged))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


def write_anomaly_report(path, *args, **options):
    """Write :func:`anomaly_report` to ``path`` atomically; returns ``path``."""
    from ..io.files import atomic_write as _atomic_write
    page = anomaly_report(*args, **options).encode("utf-8")
    _atomic_write(path, lambda file: file.write(page), suffix=".html")
    return path


def _loss_curve(plt, losses):
    figure, axis = plt.subplots(figsize=(5, 3.2))
    axis.plot(np.arange(1, len(losses) + 1), losses)
    axis.set(xlabel="epoch", ylabel="mean squared reconstruction error", yscale="log")
    return _svg(plt, figure)


def _histogram(plt, errors, threshold):
    """Errors on a log scale (they span orders of magnitude), the threshold as a line."""
    positive = np.maximum(errors, np.finfo(float).tiny)
    figure, axis = plt.subplots(figsize=(6, 3.2))
    axis.hist(np.log10(positive), bins=50, color="#4a7ab5")
    axis.axvline(np.log10(max(threshold, np.finfo(float).tiny)), color="#c0392b",
                 label=f"threshold {threshold:.3g}")
    axis.set(xlabel="log10 reconstruction error", ylabel="rows")
    axis.legend()
    quantiles = np.percentile(errors, [50, 90, 99])
    summary = (f"median {quantiles[0]:.4g}, 90th percentile {quantiles[1]:.4g}, 99th percentile "
               f"{quantiles[2]:.4g}, largest {errors.max():.4g}")
    return _svg(plt, figure) + f"<p>{html.escape(summary)}</p>"


def _top_rows(errors, flagged, lines, worst, labels):
    order = np.argsort(-errors, kind="stable")[:TOP_ROWS]
    header = ["line", "error", "flagged", "worst reconstructed columns"]
    if labels is not None:
        header.append("label")
    rows = [[int(lines[i]), f"{errors[i]:.4g}", "yes" if flagged[i] else "no", worst[i]]
            + ([labels[i]] if labels is not None else []) for i in order]
    return _table(header, rows)


def _curves(plt, errors, positive, flagged):
    from ..metrics import ranking_scores
    figure = pr_roc_figure(plt, {None: (positive, errors)})
    precision, recall = flagged_precision_recall(positive, flagged)
    scores = ranking_scores(positive, errors)
    rows = [["average precision", f"{scores['avg_prec']:.4f}"],
            ["ROC AUC", f"{scores['roc_auc']:.4f}"],
            ["precision of the flagged rows", precision],
            ["recall of the flagged rows", recall]]
    return _svg(plt, figure) + _table(["ranking by error", "value"], rows)
