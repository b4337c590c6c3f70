"""``gradwise anomalies`` on a table larger than its memory budget: record batch by record
batch, with the definitions of :class:`gradwise.AutoencoderAnomalyDetector`.

1. One pass collects the statistics (:func:`gradwise.tabular.stream.scan`, every row a
   training row): levels, fills, and the sums that give each completed feature's mean and
   standard deviation (:func:`gradwise.tabular.stream.completed_moments`, the detector's
   standardization).
2. The autoencoder trains on standardized record batches (:func:`gradwise.data.fit_batches`),
   shuffled within a buffer; 10% of the rows, chosen by a seeded hash of their position, are
   held out for early stopping (at most :data:`gradwise.cli.stream.DEV_SAMPLE` of them in
   memory), as the detector holds out a random 10%.
3. A pass computes every row's reconstruction error (one float a row, the only thing kept per
   row); the threshold is the detector's: the ``1 - contamination`` quantile of the errors.
4. A last pass writes each row's line, error, flag and worst-reconstructed columns to
   ``--out`` as the rows come (a temporary file renamed at the end), and keeps the most
   anomalous rows to print.
"""
import numpy as np

#: Share of the rows held out for early stopping, as the detector's ``validation_fraction``.
HELD_OUT = 0.1
#: Rows of a record batch at most: each is standardized and scored in float64, which a wide
#: one-hot encoding makes large.
RECORD_ROWS = 8192
#: Bytes of float32 rows shuffled together, and held out in memory for early stopping (at
#: most :data:`gradwise.cli.stream.BUFFER_ROWS` and :data:`gradwise.cli.stream.DEV_SAMPLE`
#: rows): bounded in bytes, so that a wide encoding does not multiply them.
BUFFER_BYTES, HELD_OUT_BYTES = 64 << 20, 32 << 20


def run(args, encoder):
    """The streamed ``gradwise anomalies``; returns every row's error, in file order."""
    from ..autoencoder import Autoencoder
    from ..callbacks import EarlyStopping
    from ..data import fit_batches
    from ..optimizers import Adam
    from ..tabular import stream
    from . import data as _cli_data
    from . import anomalies as _cli_anomalies
    from .anomalies import check_rows
    from .flags import options
    from .stream import BATCH_ROWS, DEV_SAMPLE, _sample
    if args.report:
        raise ValueError("--report: the page needs every row in memory; a streamed run "
                         "(over --memory-budget) writes --out instead (or raise "
                         "--memory-budget).")
    with options(target="--label"):
        stats = stream.scan(args.data, args.label, seed=args.seed, ratios=(1.0, 0.0, 0.0),
                            impute=args.impute or False, drop=_cli_data._names(args.drop),
                            categorical=_cli_data._names(args.categorical),
                            task="classification" if args.label else None,
                            batch_rows=min(BATCH_ROWS, RECORD_ROWS), encoding=args.encoding)
    if args.label and len(stats.classes) != 2:
        raise ValueError(f"--label: expected a column of two classes, {args.label!r} has "
                         f"{len(stats.classes)}.")
    check_rows(stats.sums["rows"], args.contamination, args.data)
    mean, scale = stream.completed_moments(stats)
    n_features, n_rows = len(mean), stats.sums["rows"]
    rng = np.random.RandomState(args.seed)  # as the detector draws its network's seed
    encoder = _cli_anomalies.encoder_for(args, n_features, encoder)
    with _cli_anomalies.identity_warning_said():
        autoencoder = Autoencoder(tuple(encoder), noise_stddev=args.noise,
                                  input_dim=n_features, seed=int(rng.randint(2**31 - 1)),
                                  dtype="float32")
    autoencoder.compile(optimizer=Adam(1e-3), loss="mse")
    rows = _Standardized(stats, mean, scale)
    train = _Standardized(stats, mean, scale, part=0, batch_size=min(200, n_rows),
                          seed=args.seed)
    with options(target="--label"):
        held_out = _sample(_Standardized(stats, mean, scale, part=1, shuffle=False),
                           max(1, min(DEV_SAMPLE, HELD_OUT_BYTES // (4 * n_features))))
        stop = EarlyStopping(patience=10, restore_best_weights=True)
        history = fit_batches(autoencoder.model, train, epochs=args.epochs, callbacks=[stop],
                              validation_data=held_out, verbose=0 if args.quiet else 2)
        if stop.best_weights is not None:
            autoencoder.model.set_weights(stop.best_weights, include_state=True)
        errors, labels, codes = _errors(autoencoder, rows, args.label)
    threshold = -float(np.percentile(-errors, 100.0 * args.contamination))  # the detector's
    flagged = errors > threshold
    epochs = len(history.history["loss"])
    description = f"{args.data} ({len(errors)} rows, {n_features} features, streamed)"
    print(f"data: {description}; autoencoder "
          f"{'-'.join(map(str, [n_features, *encoder, *encoder[-2::-1], n_features]))}, "
          f"{epochs} epochs; {int(flagged.sum())} rows flagged "
          f"(contamination {args.contamination:g})")
    with options(target="--label"):
        top = _write(args, autoencoder, rows, errors, flagged)
    _print_top(errors, top, args.label)
    if args.label:
        from .anomalies import against_label_codes
        print("\n" + against_label_codes(args.label, list(codes), labels, errors, flagged))
    if args.out:
        print(f"\nscores written to {args.out}")
    if args.save:
        made = _cli_data.provenance(args, description, {"training rows": {
            "flagged": int(flagged.sum()), "epochs": epochs,
            "median error": float(np.median(errors))}})
        autoencoder.save(args.save, metadata={
            "kind": _cli_data.ANOMALY_KIND, "version": 1, "columns": stats.spec,
            "impute": args.impute, "label": args.label, "mean": mean.tolist(),
            "scale": scale.tolist(), "threshold": threshold, "provenance": made})
        print(f"detector written to {args.save} (use: gradwise predict --model {args.save} "
              "--data new.csv)")
    return errors


class _Standardized:
    """Re-iterable standardized rows of the table (``part`` 0: those trained on, 1: those held
    out, None: all), record batch by record batch: ``Z = (complete(X) - mean) / scale``.

    Iterating gives ``(Z, Z)`` mini-batches of ``batch_size`` in float32, shuffled within
    :data:`BUFFER_BYTES` (``part`` given); :meth:`record_batches` gives
    ``(table, Z)`` per record batch in float64, the precision of the detector's scores."""

    def __init__(self, stats, mean, scale, part=None, batch_size=65536, shuffle=True, seed=0):
        self.stats, self.mean, self.scale, self.part = stats, mean, scale, part
        self.batch_size, self.shuffle = int(batch_size), shuffle
        self.rng = np.random.default_rng(seed)

    def record_batches(self):
        from ..tabular import stream
        from ..tabular.csv import encode_filled, target_values
        stats = self.stats
        for table, start in stats.batches():
            keep = np.ones(table.num_rows, dtype=bool)
            if stats.target is not None:
                keep &= ~target_values(table, stats.target)[1]
            if self.part is not None:
                positions = np.arange(start, start + table.num_rows)
                keep &= stream.row_splits(positions, stats.seed,
                                          (1 - HELD_OUT, HELD_OUT, 0.0)) == self.part
            if not keep.any():
                continue
            table = table.filter(keep)
            X = encode_filled(table, stats.spec, stats.impute)
            yield table, (X.astype(np.float64) - self.mean) / self.scale

    def __iter__(self):
        from .stream import BUFFER_ROWS
        held, limit = [], max(1, min(BUFFER_ROWS, BUFFER_BYTES // (4 * len(self.mean))))
        for _, Z in self.record_batches():
            held.append(Z.astype(np.float32))
            if sum(map(len, held)) >= limit:
                yield from self._cut(np.concatenate(held))
                held = []
        if held:
            yield from self._cut(np.concatenate(held))

    def _cut(self, Z):
        order = self.rng.permutation(len(Z)) if self.shuffle else np.arange(len(Z))
        for start in range(0, len(Z), self.batch_size):
            rows = Z[order[start:start + self.batch_size]]
            yield rows, rows


def _errors(autoencoder, rows, label):
    """Every row's reconstruction error (float64) and, with a ``label``, its label's code
    (int32) and the codes ``{label text: code}``."""
    from ..tabular.csv import target_values
    from .data import label_text
    errors, labels, codes = [], [], {}
    for table, Z in rows.record_batches():
        errors.append(autoencoder._errors(Z))
        if label:
            cells, inverse = np.unique(target_values(table, label)[0], return_inverse=True)
            known = [codes.setdefault(label_text(cell), len(codes)) for cell in cells.tolist()]
            labels.append(np.asarray(known, dtype=np.int32)[inverse])
    if not errors:
        raise ValueError("--data: the table has no rows.")
    return np.concatenate(errors), (np.concatenate(labels) if labels else None), codes


def _write(args, autoencoder, rows, errors, flagged):
    """Write every row's scores to ``--out`` (when given) batch by batch; return the most
    anomalous rows' ``{row: (line, worst columns, label)}``."""
    from ..tabular.csv import target_values
    from . import anomalies as _cli_anomalies
    from .predictions import write_streamed
    top = {int(row): None for row in np.argsort(-errors, kind="stable")[:_cli_anomalies._SHOWN]}
    spec = rows.stats.spec

    def parts():
        first = 0
        for table, Z in rows.record_batches():
            count = len(Z)
            batch = slice(first, first + count)
            shown = [row - first for row in top if first <= row < first + count]
            lines = np.asarray(table.lines)
            labels = (target_values(table, args.label)[0] if args.label else None)
            if args.out:
                worst = _cli_anomalies.worst_columns(autoencoder, Z, spec)
                yield _cli_anomalies.score_rows(lines, errors[batch], flagged[batch], worst,
                                                args.label, labels)
            else:
                worst = dict(zip(shown, _cli_anomalies.worst_columns(autoencoder, Z[shown], spec)
                                 if shown else []))
                worst = [worst.get(i, "") for i in range(count)]
            for i in shown:
                top[first + i] = (int(lines[i]), worst[i],
                                  None if labels is None else labels[i])
            first += count

    if args.out:
        write_streamed(args.out, parts(), len(errors))
    else:
        for _ in parts():
            pass
    return top


def _print_top(errors, top, label):
    """The most anomalous rows, as :func:`gradwise.cli.anomalies._print_top` prints them."""
    from .data import label_text
    print(f"\n{'line':>8} {'error':>10}" + (f"  {label}" if label else "")
          + "  worst reconstructed columns")
    for row, (line, worst, value) in top.items():
        known = f"  {label_text(value)}" if label else ""
        print(f"{line:>8} {errors[row]:>10.4g}{known}  {worst}")
