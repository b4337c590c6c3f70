"""``gradwise predict`` on a table larger than its memory budget: record batch by record batch.

Each record batch is encoded with the model file's column encoding (its levels and fills),
predicted, and its rows written at once: to standard output, or to a temporary file in
``--out``'s directory renamed to ``--out`` at the end. The output has the columns and the
formatting of an in-memory run, byte for byte. Unseen categories and filled gaps are counted
over all batches and reported once, at the end. Memory holds one record batch, whatever the
table's length (and, to score against the file's target column, a count per pair of true and
predicted labels, or a few sums).
"""
import sys

import numpy as np


def _batches(args, facts, target):
    from ..tabular import stream
    from .stream import BATCH_ROWS
    return stream.saved_batches(args.data, facts["columns"], target,
                                fill=facts.get("impute") is not None, encoding=args.encoding,
                                batch_rows=BATCH_ROWS)


def _rows(args):
    """The rows of ``--data`` (estimated for a CSV file), for the output's size."""
    from ..tabular.stream import estimated_rows
    return estimated_rows(args.data) if args.out is not None else None


class _Notes:
    """The unseen categories and filled gaps of every batch, reported once."""

    def __init__(self):
        self.unknown, self.gaps = [], 0

    def add(self, unknown, gaps):
        if unknown:
            self.unknown.append(unknown)
        self.gaps += gaps

    def report(self, facts, detector):
        from ..tabular.columns import Unseen
        unknown = Unseen.combined(self.unknown, [c["name"] for c in facts["columns"]])
        if unknown:
            print(f"gradwise: warning: {unknown} category cell(s) not seen in training were "
                  f"encoded as all zeros (as the unknown level when embedded): "
                  f"{unknown.described()}.", file=sys.stderr)
        if self.gaps and not detector:
            print(f"gradwise: note: {self.gaps} missing number(s) filled with the training "
                  f"split's {facts.get('impute')}s.", file=sys.stderr)


def predict(args, model, facts):
    """Predict (or score, with a detector) every row of ``--data``, a batch at a time."""
    from . import data as _cli_data
    from .flags import options
    from .predictions import ScoreTally, write_streamed
    detector = facts["kind"] == _cli_data.ANOMALY_KIND
    if detector:
        return _detector(args, model, facts)
    notes, tally = _Notes(), ScoreTally(facts)

    def parts():
        from .predictions import explanations, predictions_table
        for X, y_text, unknown, lines, gaps in _batches(args, facts, facts["target"]):
            notes.add(unknown, gaps)
            header, rows, predicted = predictions_table(model, facts, X, args.threshold)
            if args.explain:
                header.append("explanation")
                for row, text in zip(rows, explanations(model, facts, X, predicted,
                                                        args.explain)):
                    row.append(text)
            if args.out is not None:
                header.append("line")
                for row, line in zip(rows, lines):
                    row.append(int(line))
            if y_text is not None:
                tally.add(predicted, y_text)
            yield header, rows

    with options():
        count = write_streamed(args.out, parts(), _rows(args))
    notes.report(facts, False)
    if args.out is not None:
        print(f"predictions for {count} rows written to {args.out} (column 'line' gives each "
              f"row's line in {args.data})")
    if tally.seen:
        print(tally.line(), file=sys.stderr if args.out is None else sys.stdout)
    return None


def _detector(args, model, facts):
    """A saved detector's errors and flags, a batch at a time (one float and one label code a
    row are kept, to score the ranking against the known column)."""
    from ..tabular.saved import saved_errors
    from . import anomalies as _cli_anomalies
    from .flags import options
    from .predictions import write_streamed
    notes, errors, labels, codes = _Notes(), [], [], {}

    def parts():
        for X, label_cells, unknown, lines, gaps in _batches(args, facts, facts["label"]):
            notes.add(unknown, gaps)
            autoencoder, Z, batch_errors = saved_errors(model, facts, X)
            flagged = batch_errors > facts["threshold"]
            worst = _cli_anomalies.worst_columns(autoencoder, Z, facts["columns"])
            errors.append(batch_errors)
            if label_cells is not None:
                cells, inverse = np.unique(np.asarray(label_cells, dtype=str),
                                           return_inverse=True)
                known = [codes.setdefault(cell, len(codes)) for cell in cells.tolist()]
                labels.append(np.asarray(known, dtype=np.int32)[inverse])
            yield _cli_anomalies.score_rows(lines, batch_errors, flagged, worst, None, None)

    with options():
        write_streamed(args.out, parts(), _rows(args))
    notes.report(facts, True)
    errors = np.concatenate(errors)
    flagged = errors > facts["threshold"]
    report = sys.stderr if args.out is None else sys.stdout
    print(f"{int(flagged.sum())} of {len(errors)} rows flagged (reconstruction error above "
          f"{facts['threshold']:.4g})", file=report)
    if labels:
        print(_cli_anomalies.against_label_codes(facts["label"], list(codes),
                                                 np.concatenate(labels), errors, flagged),
              file=report)
    return errors

