"""``gradwise train`` on a table larger than its memory budget: streamed record batches.

One pass collects the statistics (:func:`gradwise.tabular.stream.scan`: column encoding,
standardization moments, fills, classes); each epoch then reads the training rows' record
batches, shuffled within a buffer (:class:`gradwise.tabular.stream.TableBatches`). A row's split
is decided by a seeded hash of its position, so it never moves. Early stopping watches a dev
sample of at most :data:`DEV_SAMPLE` rows held in memory; the final scores cover every dev and
test row, a record batch at a time, tallied in memory that does not grow with the rows.
"""
import os
import sys

import numpy as np

from . import guard

#: Dev rows held in memory for early stopping.
DEV_SAMPLE = 50_000
#: Rows shuffled together in a streamed epoch.
BUFFER_ROWS = 200_000
#: Rows of a record batch that streamed predict and anomalies read at a time.
BATCH_ROWS = 65536
#: Share of the machine's memory that ``--memory-budget`` takes by default.


def add_memory_budget(command, how):
    """``--memory-budget``: when ``--data`` is streamed, and ``how``."""
    command.add_argument("--memory-budget", metavar="SIZE",
                         help="stream --data in record batches when an in-memory run would "
                              "need more than this (e.g. 2G, 500M; default a quarter of the "
                              f"machine's memory): {how}")


def estimated_memory(path):
    """Bytes an in-memory run needs for the table at ``path``, about: three times its text
    (CSV: Arrow's cells, the float32 matrix and its splits) or its Parquet data once read
    (:func:`_parquet_bytes`)."""
    if os.path.isdir(path):
        import pyarrow.parquet as pq
        from ..tabular.read import parquet_files
        return 3 * sum(_parquet_bytes(pq, name) for name in parquet_files(path))
    if path.lower().endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq
        return 3 * _parquet_bytes(pq, path)
    return 3 * os.path.getsize(path)


def _parquet_bytes(pq, path):
    """Bytes of the Parquet file's table once read: its rows times the widths of its columns'
    types (a column of text or another type of no fixed width counted 16 bytes a row: its
    offset and a short text), or the size of its uncompressed pages if larger. The pages
    alone can be many times smaller than the table: a column of numbers with few distinct
    values is stored as a dictionary and codes of a few bits (10M rows of 20 such columns:
    349 MB of pages for 2 GB in memory, which then took 3.3 GB to read)."""
    try:
        parquet = pq.ParquetFile(path)
        meta, schema = parquet.metadata, parquet.schema_arrow
    except Exception:  # unreadable: the reader says why
        return 0
    width = 0.0
    for field in schema:
        try:
            width += field.type.bit_width / 8
        except ValueError:  # no fixed width
            width += 16
    pages = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    return int(max(meta.num_rows * width, pages))


def should_stream(args):
    """Whether ``--data`` is larger than the memory budget (and so is streamed); a bad
    ``--memory-budget`` is refused first, whatever the data."""
    budget = guard.parse_budget(args.memory_budget)
    if args.data is None or not os.path.exists(args.data):
        return False
    return estimated_memory(args.data) > budget


def train(args, hidden):
    """Train on streamed batches; print the dev and test scores; save the model."""
    import gradwise as gw
    from . import data as _cli_data, results as _cli_results
    from .flags import options
    from ..tabular import stream
    if args.dev_data or args.test_data or args.repeats or args.cv or args.init_from \
            or args.report:
        raise ValueError("--memory-budget: a streamed run takes its dev and test rows from "
                         "--data; --dev-data, --test-data, --repeats, --cv, --init-from and "
                         "--report need the table in memory (raise --memory-budget).")
    if not args.target:
        raise ValueError("--target: name the column to predict, e.g. --target price.")
    if args.human_error is not None:
        raise ValueError("--human-error: a streamed run makes no bias/variance diagnosis (it "
                         "scores the dev and test splits only); raise --memory-budget for "
                         "one.")
    with options():
        stats = stream.scan(args.data, args.target, seed=args.seed,
                            impute=args.impute or False, drop=_cli_data._names(args.drop),
                            categorical=_cli_data._names(args.categorical),
                            embed_threshold=args.embed_threshold, encoding=args.encoding,
                            task=None if args.task == "auto" else args.task)
    outputs = len(stats.classes) if stats.task == "classification" else 1
    if stats.task == "classification" and outputs < 2:
        raise ValueError("--target: classification needs at least two classes.")
    weights = _class_weights(stats, args.class_weight)
    n_features = len(stats.mean)
    model = _cli_data.network(n_features, hidden, outputs, stats.task, args.learning_rate,
                              (stats.mean.copy(), stats.scale.copy()), l2=args.l2,
                              dropout=args.dropout, seed=args.seed, columns=stats.spec)
    indicators = sum(bool(column.get("indicator")) for column in stats.spec)
    which = f" ({indicators} of them 'is missing' indicators)" if indicators else ""
    print(f"data: {args.data} (streamed: {sum(stats.counts.values())} rows, {n_features} "
          f"features{which}, target {args.target!r}; estimated in-memory need above "
          f"--memory-budget)")
    counts = stats.counts
    print(f"task: {stats.task}; split 60/20/20 by a seeded hash of the row position: "
          f"{counts['train']} train, {counts['dev']} dev, {counts['test']} test; network "
          f"{'-'.join(map(str, [n_features, *hidden, outputs]))}")
    with options():
        train_batches = stream.TableBatches(stats, "train", args.batch_size, BUFFER_ROWS,
                                            seed=args.seed)
        dev = _sample(stream.TableBatches(stats, "dev", BATCH_ROWS, BATCH_ROWS, shuffle=False),
                      DEV_SAMPLE)
        stop = gw.callbacks.EarlyStopping(patience=args.patience, restore_best_weights=True)
        gw.data.fit_batches(model, train_batches, epochs=args.epochs, callbacks=[stop],
                            validation_data=dev, verbose=0 if args.quiet else 2,
                            class_weight=weights)
        if stop.best_weights is not None:
            model.set_weights(stop.best_weights, include_state=True)
        table = {name: _streamed_scores(model, stats, name) for name in ("dev", "test")}
    _cli_results.print_table("split", table)
    if args.save:
        facts = {"kind": _cli_data.METADATA_KIND, "version": 1, "task": stats.task,
                 "target": args.target, "columns": stats.spec, "impute": args.impute,
                 "classes": (None if stats.classes is None
                             else [_cli_data.label_text(c) for c in stats.classes]),
                 "positive": None, "y_mean": stats.y_mean, "y_std": stats.y_std}
        made = _cli_data.provenance(args, f"{args.data} (streamed)", table)
        gw.save_model(model, args.save, include_optimizer=False,
                      metadata={**facts, "provenance": made})
        print(f"model written to {args.save} (use: gradwise predict --model {args.save} "
              "--data new.csv)")
    return model


def _class_weights(stats, how):
    """``--class-weight balanced`` as ``fit_batches``' dict: ``n / (n_classes * count)`` per
    class, counted on the training split by the scan (as ``fit``'s ``"balanced"``)."""
    if how == "none":
        return None
    if stats.task != "classification":
        raise ValueError("--class-weight: only for classification; the task is regression.")
    from .._training import balanced_class_weights
    return balanced_class_weights([stats.class_counts.get(label, 0) for label in stats.classes])


def _sample(batches, limit):
    """The first ``limit`` rows of ``batches`` as one ``(X, y)``."""
    parts_X, parts_y, held = [], [], 0
    for X, y in batches:
        parts_X.append(X[:limit - held])
        parts_y.append(y[:limit - held])
        held += len(parts_X[-1])
        if held >= limit:
            break
    if not held:
        raise ValueError("--data: no rows fell in the dev split; give more rows.")
    return np.concatenate(parts_X), np.concatenate(parts_y)


def _streamed_scores(model, stats, split):
    """The loss (row-weighted over batches) and the task's scores of every row of ``split``,
    tallied batch by batch (:class:`~gradwise.metrics.ClassTally`,
    :class:`~gradwise.metrics.RegressionTally`): memory does not grow with the rows."""
    from ..metrics import ClassTally, RegressionTally
    from ..tabular import stream
    classes = stats.task == "classification"
    tally = ClassTally(len(stats.classes)) if classes else RegressionTally()
    loss, rows = 0.0, 0
    for X, y in stream.TableBatches(stats, split, BATCH_ROWS, BATCH_ROWS, shuffle=False):
        loss += model.evaluate(X, y)["loss"] * len(X)
        rows += len(X)
        predicted = np.asarray(model.predict(X))
        if classes:
            tally.add(y, predicted.argmax(axis=1))
        else:
            tally.add((y * stats.y_std).astype(np.float32),
                      (predicted[:, 0] * stats.y_std).astype(np.float32))
    if not rows:
        print(f"gradwise: warning: no rows fell in the {split} split.", file=sys.stderr)
        return {"loss": float("nan")}
    return {"loss": loss / rows, **tally.scores()}
