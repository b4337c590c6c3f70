"""``gradwise anomalies``: rows of a CSV ranked by how badly an autoencoder reconstructs them.

No labels are needed: the autoencoder learns to reconstruct the (mostly normal) rows of the
file, and the rows it reconstructs worst are the anomalies. With ``--label`` naming a known
0/1 or two-class column (say, confirmed fraud), the ranking is also scored against it.
"""
import contextlib
import math
import sys

import numpy as np

from .guard import seed

#: How many of the most anomalous rows are printed.
_SHOWN = 10


def add_parser(commands, add_column_options, positive_int):
    command = commands.add_parser(
        "anomalies", help="rank the rows of a CSV by an autoencoder's reconstruction error "
                          "(no labels needed) and flag the most anomalous ones")
    command.add_argument("--data", required=True,
                         help="table with a header row: .csv, .tsv, .parquet or a folder of "
                              "Parquet files")
    command.add_argument("--label", help="a known two-class column to score the ranking "
                                         "against (left out of the features)")
    add_column_options(command)
    command.add_argument("--contamination", type=float, default=0.01,
                         help="share of rows flagged as anomalies (default 0.01)")
    command.add_argument("--hidden", default=None,
                         help="encoder widths, the last is the code size; the decoder mirrors "
                              "them (default 32,8; below 9 features, 32 and a code of one "
                              "unit fewer than the features)")
    command.add_argument("--noise", type=float, default=0.0,
                         help="Gaussian noise on the standardized inputs in training "
                              "(a denoising autoencoder; default 0)")
    command.add_argument("--epochs", type=positive_int, default=200,
                         help="at most this many epochs; training stops early on a held-out 10%%")
    command.add_argument("--seed", type=seed, default=0)
    command.add_argument("--quiet", action="store_true",
                         help="do not print the reconstruction loss per epoch")
    command.add_argument("--out", help="CSV file for every row's score and flag "
                                       "(default: print only the most anomalous rows)")
    command.add_argument("--save", metavar="FILE.npz",
                         help="save the detector with its column encoding and threshold, so "
                              "that gradwise predict scores new rows")
    from .stream import add_memory_budget
    add_memory_budget(command, "one pass of statistics, training epochs of batches, then a "
                               "pass of errors and one writing --out")
    command.add_argument("--report", metavar="FILE.html",
                         help="write an HTML page: the errors' distribution and threshold, the "
                              "most anomalous rows, the curves against --label")
    return command


def run(args, hidden_sizes):
    """Fit the detector on every row, write the scores, print the top rows (and the scores
    against ``--label``). Returns the anomaly scores, in file order."""
    import gradwise as gw
    from . import data as _cli_data
    from ..tabular.csv import complete, fill_values, read_csv
    from .flags import options
    encoder = _check_options(args, hidden_sizes)
    with options(target="--label"):
        X, labels, names, _, spec, lines = read_csv(
            args.data, args.label, impute=args.impute is not None,
            drop=_cli_data._names(args.drop), categorical=_cli_data._names(args.categorical),
            with_lines=True, encoding=args.encoding)
    check_rows(len(X), args.contamination, args.data)
    rare = _rare_label(args.label, labels) if labels is not None else None
    if args.impute is not None:  # no split here: every row is training data
        spec = fill_values(X, spec, args.impute)
        X, _ = complete(X, spec)
    encoder = encoder_for(args, X.shape[1], encoder)
    detector = gw.AutoencoderAnomalyDetector(
        tuple(encoder), noise_stddev=args.noise, max_iter=args.epochs,
        contamination=args.contamination, random_state=args.seed,
        verbose=0 if args.quiet else 1)
    with identity_warning_said():
        detector.fit(X)
    errors = -detector.score_samples(X)  # mean squared reconstruction error, standardized
    flagged = detector.predict(X) == -1
    worst = worst_columns(detector.autoencoder_, (X - detector.mean_) / detector.scale_, spec)
    description = f"{args.data} ({len(X)} rows, {X.shape[1]} features)"
    print(f"data: {description}; autoencoder "
          f"{'-'.join(map(str, [X.shape[1], *encoder, *encoder[-2::-1], X.shape[1]]))}, "
          f"{detector.n_iter_} epochs; {int(flagged.sum())} rows flagged "
          f"(contamination {args.contamination:g})")
    _print_top(errors, lines, args.label, labels, worst)
    if labels is not None:
        print("\n" + against_labels(args.label, labels == rare, errors, flagged))
    if args.out:
        _write_scores(args.out, lines, errors, flagged, worst, args.label, labels)
        print(f"\nscores written to {args.out}")
    if args.report:
        from ..report.anomalies import write_anomaly_report
        text = None if labels is None else np.array([_cli_data.label_text(v) for v in labels])
        write_anomaly_report(args.report, detector, errors, flagged, lines, worst,
                             description, labels=text,
                             positive=None if labels is None else labels == rare)
        print(f"report written to {args.report}")
    if args.save:
        _save(args, detector, spec, description, errors, flagged)
    return errors


def _save(args, detector, spec, description, errors, flagged):
    """The detector in one model file: autoencoder, column encoding, standardization,
    threshold, and how it was made (for ``gradwise predict`` and ``gradwise info``)."""
    from . import data as _cli_data
    made = _cli_data.provenance(args, description, {"training rows": {
        "flagged": int(flagged.sum()), "epochs": detector.n_iter_,
        "median error": float(np.median(errors))}})
    detector.autoencoder_.save(args.save, metadata={
        "kind": _cli_data.ANOMALY_KIND, "version": 1, "columns": spec, "impute": args.impute,
        "label": args.label, "mean": detector.mean_.tolist(), "scale": detector.scale_.tolist(),
        "threshold": -detector.offset_, "provenance": made})
    print(f"detector written to {args.save} (use: gradwise predict --model {args.save} "
          "--data new.csv)")


def encoder_for(args, n_features, encoder):
    """The encoder widths for ``n_features`` features: ``encoder`` (from ``--hidden``), or by
    default 32 and a code narrower than the input, of at most 8 units (``args.hidden`` is set
    to them, as the run's provenance records it). Warns, in the command's words, when no
    layer is narrower than the input and ``--noise`` is 0: nothing then stops the autoencoder
    from learning the identity, which reconstructs anomalies as well as normal rows."""
    import sys
    if encoder is None:
        encoder = [32, max(1, min(8, n_features - 1))]
        args.hidden = ",".join(map(str, encoder))
    if min(encoder) >= n_features and args.noise == 0:
        print(f"gradwise: warning: --hidden {args.hidden} on {n_features} feature(s): no layer "
              f"is narrower than the input, so the autoencoder can learn the identity and "
              f"reconstruct anomalies as well as normal rows; give a last width below "
              f"{n_features}, or --noise above 0.", file=sys.stderr)
    return encoder


@contextlib.contextmanager
def identity_warning_said():
    """Leave out the library's warning of the same (it names its own arguments): the command
    has said it with its options (:func:`encoder_for`)."""
    import warnings
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"encoder_units=", category=UserWarning)
        yield


def _check_options(args, hidden_sizes):
    """The encoder widths (None: chosen from the number of features, :func:`encoder_for`),
    after every option is checked (before any work)."""
    encoder = None if args.hidden is None else hidden_sizes(args.hidden)
    if not 0 < args.contamination <= 0.5:
        raise ValueError(f"--contamination: expected a share in (0, 0.5], received "
                         f"{args.contamination!r}.")
    if not 0 <= args.noise < math.inf:
        raise ValueError(f"--noise: expected a standard deviation >= 0, received {args.noise!r}.")
    from .data import _names
    for option in ("drop", "categorical"):
        if args.label and args.label in _names(getattr(args, option)):
            raise ValueError(f"--{option}: {args.label!r} is the --label column (it only scores "
                             "the detector; it is never a feature).")
    return encoder


def min_rows(contamination):
    """The fewest rows a detector is trained on: enough that the ``contamination`` share
    flags at least one row, and that the 10% held out for early stopping holds some (10)."""
    return max(10, math.ceil(1.0 / contamination - 1e-9))


def check_rows(n_rows, contamination, path):
    """Refuse a table too small for the detector (:func:`min_rows`), before training."""
    needed = min_rows(contamination)
    if n_rows < needed:
        raise ValueError(f"--data: {path!r} has {n_rows} row(s), too few for an anomaly "
                         f"detector: it needs at least {needed}, so that a tenth of them is "
                         "held out to stop training and the --contamination share "
                         f"({contamination:g}) of them is at least one row; give more rows or "
                         "a larger --contamination.")


def worst_columns(autoencoder, Z, spec, top=3):
    """For each row of standardized ``Z``, the ``top`` CSV columns with the largest share of its
    squared reconstruction error (a category's levels and a column's "is missing" indicator
    count for the column), as text such as ``"amount 71%; hour 12%"``."""
    from ..tabular.spec import sum_by_column
    squared = np.square(autoencoder.reconstruct(Z).astype(np.float64) - Z)
    names, by_column = sum_by_column(squared, spec)
    shares = by_column / np.maximum(by_column.sum(axis=1, keepdims=True), 1e-300)
    order = np.argsort(-shares, axis=1, kind="stable")[:, :top]
    return ["; ".join(f"{names[j]} {100 * shares[i, j]:.0f}%" for j in row)
            for i, row in enumerate(order)]


def _print_top(errors, lines, label, labels, worst):
    """The file lines, errors and worst-reconstructed columns of the most anomalous rows (with
    their label)."""
    from .data import label_text
    print(f"\n{'line':>8} {'error':>10}" + (f"  {label}" if labels is not None else "")
          + "  worst reconstructed columns")
    for row in np.argsort(-errors, kind="stable")[:_SHOWN]:
        known = f"  {label_text(labels[row])}" if labels is not None else ""
        print(f"{lines[row]:>8} {errors[row]:>10.4g}{known}  {worst[row]}")


def predict(args, model, facts, X, label_cells, lines):
    """``gradwise predict`` with a detector saved by ``anomalies --save``, on the file's encoded
    rows ``X``: each row's reconstruction error and flag (error above the training threshold)."""
    from ..tabular.saved import saved_errors
    autoencoder, Z, errors = saved_errors(model, facts, X)
    flagged = errors > facts["threshold"]
    _write_scores(args.out, lines, errors, flagged, worst_columns(autoencoder, Z, facts["columns"]),
                  None, None)
    report = sys.stderr if args.out is None else sys.stdout
    print(f"{int(flagged.sum())} of {len(X)} rows flagged (reconstruction error above "
          f"{facts['threshold']:.4g})", file=report)
    if label_cells is not None:  # the file has the known column: score the ranking against it
        from ..tabular.csv import missing_cells
        known = ~missing_cells([str(cell) for cell in label_cells])
        rare = _rare_label(facts["label"], label_cells[known])
        print(against_labels(facts["label"], label_cells[known] == rare, errors[known],
                              flagged[known]), file=report)
    return errors


def _write_scores(path, lines, errors, flagged, worst, label, labels):
    """Every row's file line, reconstruction error, flag and worst-reconstructed columns (and
    label), to ``path`` or standard output."""
    from .predictions import write_table
    write_table(path, *score_rows(lines, errors, flagged, worst, label, labels))


def score_rows(lines, errors, flagged, worst, label, labels):
    """``(header, rows)`` of :func:`_write_scores`."""
    from . import data as _cli_data
    header = ["line", "reconstruction_error", "anomaly", "worst_columns"] + (
        [label] if labels is not None else [])
    rows = [[int(lines[i]), f"{errors[i]:.6g}", int(flagged[i]), worst[i]]
            + ([_cli_data.label_text(labels[i])] if labels is not None else [])
            for i in range(len(errors))]
    return header, rows


def _rare_label(column, labels):
    """The rarer of the two classes of ``--label``, checked before any training."""
    values, counts = np.unique(labels, return_counts=True)
    if len(values) != 2:
        raise ValueError(f"--label: expected a column of two classes, {column!r} has "
                         f"{len(values)}.")
    return values[np.argmin(counts)]


def against_labels(column, positive, errors, flagged):
    """ROC AUC and average precision of the errors for the ``positive`` rows (the rarer
    label), and the precision and recall of the flagged rows."""
    from ..metrics import ranking_scores
    from ..report import flagged_precision_recall
    precision, recall = flagged_precision_recall(positive, flagged)
    scores = ranking_scores(positive, errors)
    return (f"against {column!r} ({int(positive.sum())} rows of the rarer class): ROC AUC "
            f"{scores['roc_auc']:.4f}, average precision {scores['avg_prec']:.4f}; flagged "
            f"rows: precision {precision}, recall {recall}")


def against_label_codes(column, texts, label_codes, errors, flagged):
    """The ranking scored against the known column, its cells given as codes of ``texts``:
    the rows with a value, the rarer of its two classes positive (as in memory)."""
    from ..tabular.csv import missing_cells
    known = ~missing_cells(texts)[label_codes]
    label_codes = label_codes[known]
    counts = np.bincount(label_codes, minlength=len(texts))
    present = sorted(np.flatnonzero(counts), key=lambda code: texts[code])
    if len(present) != 2:
        raise ValueError(f"--label: expected a column of two classes, {column!r} has "
                         f"{len(present)}.")
    rare = min(present, key=lambda code: counts[code])  # the first in text order on a tie
    return against_labels(column, label_codes == rare, errors[known], flagged[known])
