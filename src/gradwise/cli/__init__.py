"""The ``gradwise`` command line.

``gradwise train`` trains the main job on scikit-learn's digits (embedded default);
``gradwise train --data FILE.csv --target COLUMN`` does the same on a user's CSV;
``gradwise tune`` searches the learning rate, then (``--space``) Adam's beta_1, the batch size,
the width, the depth and the learning-rate decay, with L2 and dropout, on the dev split, then
trains the best configuration; ``gradwise anomalies`` ranks rows by an autoencoder's
reconstruction error. ``train`` and ``tune`` can write an HTML report (``--report``) and the
model with its column encoding (``--save``), which ``gradwise predict`` applies to new rows.
"""
import functools
import math
import sys

from . import (anomalies as _cli_anomalies, data as _cli_data, flags as _flags,
               gradcheck as _cli_gradcheck, info as _cli_info, results as _cli_results)
from . import demo as _cli_demo, guard as _guard
from .parser import _parser


def _hidden(text):
    """``--hidden``'s layer sizes: positive integers separated by commas, at least one (an
    empty item is refused, not skipped: ``--hidden ,`` trained a network without hidden
    layers)."""
    items = text.split(",")
    try:
        sizes = [int(item) for item in items]
    except ValueError:
        empty = ("" if all(item.strip() for item in items) else
                 " (one of its sizes is empty)" if text.strip() else
                 " (no sizes: give at least one hidden layer)")
        raise ValueError(f"--hidden: expected sizes like 128,128{empty}, received "
                         f"{_guard.shown(text)}.") from None
    if any(s <= 0 for s in sizes):
        raise ValueError(f"--hidden: expected positive sizes, received {_guard.shown(text)}.")
    _guard.check_network_size([1, *sizes, 1])  # before reading data: the hidden layers alone
    return sizes


def _describe(data):
    sizes = [len(Xs) for Xs, _ in data.splits]
    if data.sources is None:
        return (f"task: {data.task}; split 60/20/20: {sizes[0]} train, {sizes[1]} dev, "
                f"{sizes[2]} test")
    counts = dict(zip(("train", "dev", "test"), sizes))
    if data.train_dev is not None:
        counts["train-dev"] = len(data.train_dev[0])
    return f"task: {data.task}; " + ", ".join(
        f"{counts[name]} {name} ({source})" for name, source in data.sources.items())


def _widths(data, hidden):
    return "-".join(map(str, [data.n_features, *hidden, data.outputs]))


def _fit_and_report(model, data, args, epochs, verbose, monitor="val_loss", tuning=None):
    """Train with early stopping on the dev split (keeping the epoch with the best ``monitor``),
    print loss and metric per split, then write the report (with the search that chose the
    model, ``tuning``) and the model file when asked. After a search, ``args`` stay the
    options given (how the model was made says so) and the best trial's batch size trains."""
    import gradwise as gw
    health = gw.GradientHealth() if args.report else None  # one record per epoch, for the page
    if verbose and data.task == "regression":
        print(f"(epoch lines: loss and mae of the standardized target (y - mean) / std, mean "
              f"{data.y_mean:.6g}, std {data.y_std:.6g}; the table after training is in the "
              "target's units)")
    best = tuning.best_params if tuning is not None else {}
    history, stop = _fit(model, data, args, epochs, verbose, monitor,
                         [health] if health else [], say_kept=True,
                         batch_size=best.get("batch_size", args.batch_size))
    table = _cli_results.scores(model, data)
    _cli_results.print_table("split", table)
    _cli_results.imbalance_note(data, args)
    diagnosis = _cli_results.diagnosis_line(model, data, args, table,
                                            stopped_early=stop.stopped_epoch is not None)
    facts = _cli_data.metadata(data)
    made = _cli_data.provenance(args, data.description, table, best_parameters=best or None)
    if args.report:
        from ..tabular.spec import feature_columns
        from ..report import write_report
        write_report(args.report, model, history, dict(zip(("train", "dev", "test"), data.splits)),
                     data_description=data.description, feature_names=data.feature_names,
                     class_names=facts["classes"], target_scale=data.y_std,
                     gradient_health=health, human_error=args.human_error,
                     feature_groups=feature_columns(data.columns), target_offset=data.y_mean,
                     scores=table, provenance={**made, "command line": _command_line(args)},
                     tuning=tuning, diagnosis=diagnosis)
        print(f"\nreport written to {args.report}")
    if args.save:
        gw.save_model(model, args.save, include_optimizer=False,
                      metadata={**facts, "provenance": made})
        print(f"model written to {args.save} (use: gradwise predict --model {args.save} "
              "--data new.csv)")
    return model


def _command_line(args):
    import shlex
    return "gradwise " + " ".join(shlex.quote(a) for a in getattr(args, "argv", sys.argv[1:]))


def _fit(model, data, args, epochs, verbose, monitor="val_loss", callbacks=(), say_kept=False,
         batch_size=None):
    """Train with early stopping on the dev split, in mini-batches of ``batch_size`` (default
    ``--batch-size``); returns ``(history, early_stopping)``.
    EarlyStopping puts back the weights of the epoch with the best ``monitor`` at the end,
    whether or not its patience ran out. A run
    whose loss becomes NaN or infinite ends in :class:`guard.Diverged`, worded with the
    command's options."""
    import warnings

    import numpy as np

    import gradwise as gw
    stop = gw.callbacks.EarlyStopping(monitor=monitor, patience=args.patience,
                                      restore_best_weights=True)
    rate = getattr(args, "learning_rate", None)
    with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
        # a diverging run is reported once, by the guard, not by the engine as well
        warnings.filterwarnings("ignore", "EarlyStopping: monitored value", RuntimeWarning)
        try:
            history = model.fit(*data.splits[0], epochs=epochs,
                                batch_size=args.batch_size if batch_size is None else batch_size,
                                validation_data=data.splits[1], verbose=verbose,
                                callbacks=[stop, *callbacks],
                                class_weight=_cli_data.class_weight(data, args.class_weight))
        except gw.TrainingDiverged as error:
            raise _guard.diverged(f"the training loss became {error.loss} at epoch "
                                  f"{error.epoch + 1}", rate) from None
    _guard.check_converged(history, model, rate)
    if say_kept and stop.best_epoch is not None:
        ran = len(history.history.get("loss", []))
        why = (f"early stopping after {args.patience} epochs without a better {monitor}"
               if stop.stopped_epoch is not None else f"the best {monitor} of all {ran}")
        print(f"kept the weights of epoch {stop.best_epoch + 1} of {ran} ({monitor} "
              f"{stop.best:.4f}; {why})")
    return history, stop


def _compare(args, hidden):
    """``--repeats N`` or ``--cv K``: several trainings and their test scores, with the mean and
    standard deviation of each score.

    ``--repeats``: seeds ``seed .. seed+N-1``, another split and initialization each time (how
    much of a result is the luck of one split). ``--cv``: K-fold cross-validation, each fold
    the test set once (stratified for classes), the other rows split 75/25 into train and dev.
    """
    import numpy as np
    if args.save or args.report:
        raise ValueError(f"{'--cv' if args.cv else '--repeats'}: compares runs; --save and "
                         "--report take one run.")
    if args.cv is not None and (args.repeats is not None or args.test_data or args.dev_data):
        raise ValueError("--cv: its folds are the test sets; it cannot be combined with "
                         "--repeats, --test-data or --dev-data.")
    count = args.cv if args.cv is not None else args.repeats
    if count < 2:
        option = "--cv" if args.cv is not None else "--repeats"
        raise ValueError(f"{option}: expected at least 2 runs to compare, received {count}.")
    loaded = _cli_data.load(args)
    runs = {}
    for name, part, files, seed in _runs(args, loaded, count):
        data = _cli_data.prepare(part, seed, args.impute, files)
        model = _cli_data.network(data.n_features, hidden, data.outputs, data.task,
                                  args.learning_rate, data.moments, l2=args.l2,
                                  dropout=args.dropout, seed=seed, columns=data.columns)
        _fit(model, data, args, args.epochs, verbose=0)
        runs[name] = _cli_data.split_scores(model, data, *data.splits[2])
    print(f"data: {loaded[3]}")
    if args.cv:
        print(f"task: {data.task}; {count}-fold cross-validation: each fold of about "
              f"{len(loaded[0]) // count} rows the test set once, the other rows 75/25 train "
              f"and dev; network {_widths(data, hidden)}; test scores")
    else:
        print(f"{_describe(data)}; network {_widths(data, hidden)}; {count} runs, test scores")
    values = np.array([list(scores.values()) for scores in runs.values()])
    columns = list(next(iter(runs.values())))
    summary = {"mean": dict(zip(columns, values.mean(axis=0))),
               "std": dict(zip(columns, values.std(axis=0, ddof=1)))}
    _cli_results.print_table("fold" if args.cv else "seed", {**runs, **summary})
    return summary


def _runs(args, loaded, count):
    """``(name, loaded data, split files, seed)`` of each run of :func:`_compare`."""
    if args.cv is None:
        files = _cli_data.load_files(args, loaded)
        return [(str(seed), loaded, files, seed)
                for seed in range(args.seed, args.seed + count)]
    from sklearn.model_selection import KFold, StratifiedKFold
    X, y = loaded[0], loaded[1]
    if count > len(X):  # in the command's words (scikit-learn's: "n_splits=... n_samples=...")
        raise ValueError(f"--cv: expected at most {len(X)} folds, one row of --data each "
                         f"(it has {len(X)} rows), received {count}.")
    if loaded[2] == "classification":  # every test fold needs a row of every class
        import collections
        label, rarest = min(collections.Counter(list(y)).items(),
                            key=lambda item: item[1])
        if count > rarest:
            raise ValueError(f"--cv: class {_guard.shown(_cli_data.label_text(label))} has "
                             f"{rarest} row(s), fewer than the {count} folds: some test folds "
                             f"would hold none of it and score it as undefined; expected at "
                             f"most {rarest} folds.")
    folds = (StratifiedKFold if loaded[2] == "classification" else KFold)(
        count, shuffle=True, random_state=args.seed)
    try:
        splits = list(folds.split(X, y))
    except ValueError as error:  # a class with fewer rows than folds
        raise ValueError(f"--cv: {error}") from None
    return [(str(k + 1), (X[train], y[train], *loaded[2:]), {"test": (X[test], y[test])},
             args.seed) for k, (train, test) in enumerate(splits)]


def _defaults(args):
    """Fill in the defaults of ``--hidden`` and ``--embed-threshold`` (None when not given).
    With ``--init-from`` the pretrained model's layers and encoding are used: the options that
    would be ignored are refused (:func:`transfer.check_options`), and those defaults stay
    unset, so that the record of how the model was made does not list them."""
    if getattr(args, "init_from", None):
        from . import transfer as _cli_transfer
        _cli_transfer.check_options(args)
        return
    if args.command == "train" and args.hidden is None:
        args.hidden = _cli_data.HIDDEN
    if args.embed_threshold is None:
        args.embed_threshold = _cli_data.EMBED_THRESHOLD


def train(args):
    _defaults(args)
    hidden = None if args.init_from else _hidden(args.hidden)
    if not 0 <= args.l2 < math.inf:
        raise ValueError(f"--l2: expected a penalty >= 0, received {args.l2!r}.")
    if not 0 < args.learning_rate < math.inf:
        raise ValueError(f"--learning-rate: expected a rate > 0, received {args.learning_rate!r}.")
    if not 0 <= args.dropout < 1:
        raise ValueError(f"--dropout: expected a rate in [0, 1), received {args.dropout!r}.")
    if args.freeze and not args.init_from:
        raise ValueError("--freeze: freezes the layers copied by --init-from; give it too.")
    from . import stream as _cli_stream
    if _cli_stream.should_stream(args):
        return _cli_stream.train(args, hidden)
    if args.init_from:
        return _train_from(args)
    if args.repeats is not None or args.cv is not None:
        return _compare(args, hidden)
    data = _cli_data.load_and_prepare(args)
    _cli_results.check_human_error(args, data)
    model = _cli_data.network(data.n_features, hidden, data.outputs, data.task,
                              args.learning_rate, data.moments, l2=args.l2, dropout=args.dropout,
                              seed=args.seed, columns=data.columns)
    print(f"data: {data.description}")
    print(f"{_describe(data)}; network {_widths(data, hidden)}")
    return _fit_and_report(model, data, args, args.epochs, verbose=0 if args.quiet else 2)


def _train_from(args):
    """``train --init-from``: the pretrained model's encoding and layers, a new output layer."""
    from . import transfer as _cli_transfer
    loaded, pretrained = _cli_transfer.load(args)
    data = _cli_data.prepare(loaded, args.seed)
    _cli_results.check_human_error(args, data)
    model = _cli_transfer.network(pretrained, data.outputs, data.task, args.learning_rate,
                                  args.freeze, args.seed)
    data = data._replace(impute=pretrained.metadata.get("impute"))  # its fills are in columns
    model.build()
    reused = len(model.layers) - 1
    print(f"data: {data.description}")
    print(f"{_describe(data)}; network {model.input_dim}-"
          + "-".join(str(layer.units) for layer in model.layers if hasattr(layer, "units"))
          + f", {reused} layer(s) from {args.init_from}"
          + (" (frozen)" if args.freeze else " (fine-tuned)"))
    return _fit_and_report(model, data, args, args.epochs, verbose=0 if args.quiet else 2)


def tune(args):
    """Search on the dev split, print the best trials, then train and report the best one."""
    import gradwise as gw
    from .. import tuning
    from ..report.tuning import parameter_text
    from . import search as _cli_search
    _defaults(args)
    space = _cli_search.search_space(_cli_search.parse_space(args.space))
    _cli_search.check_budget(args, space)
    _guard.check_storage(args.storage)
    if not args.study.strip():
        raise ValueError(f"--study: expected a name for the study, received {args.study!r}.")
    data = _cli_data.load_and_prepare(args)
    _cli_results.check_human_error(args, data)
    objective = _cli_data.tuning_objective(data)
    args.jobs = _guard.capped_jobs(args.jobs)
    build = functools.partial(_cli_search.network, n_features=data.n_features,
                              outputs=data.outputs, task=data.task, moments=data.moments,
                              auc=objective == "val_auc", columns=data.columns)
    strategy = args.strategy.replace("-", "_")
    print(f"data: {data.description}")
    print(f"{_describe(data)}; {args.trials} trials ({args.sampler} sampler"
          f"{', coarse to fine' if strategy == 'coarse_to_fine' else ''}) of up to "
          f"{args.epochs} epochs, {args.jobs} at a time, over {', '.join(space)}; best "
          f"{objective} wins")
    if data.task != "classification":
        print(f"({objective} until the table after training: of the standardized target "
              f"(y - mean) / std, mean {data.y_mean:.6g}, std {data.y_std:.6g}; times the std "
              "it is in the target's units, as in that table)")
    stop = gw.callbacks.EarlyStopping(monitor=objective, patience=args.patience)
    result = tuning.tune(build, space, *data.splits[0], data.splits[1],
                         n_trials=args.trials, sampler=args.sampler, objective=objective,
                         epochs=args.epochs, batch_size=args.batch_size, callbacks=[stop],
                         pruning=not args.no_pruning, n_jobs=args.jobs, seed=args.seed,
                         storage=args.storage, study_name=args.study,
                         class_weight=_cli_data.class_weight(data, args.class_weight),
                         strategy=strategy, pruner=args.pruner.replace("-", "_"),
                         verbose=0 if getattr(args, "quiet", False) else 1)
    shown = _labelled(result, data)
    print(f"\n{shown.table()}")
    if result.best_params is None:
        raise ValueError("--trials: no trial completed (all diverged or were pruned); "
                         "run more trials or use --no-pruning.")
    best = result.best_params
    print("\nbest parameters: " + ", ".join(f"{k}={parameter_text(v)}" for k, v in best.items()))
    model = build(best)
    model.seed = result.best_trial["seed"]  # the best trial's own initialization
    print(f"\nretraining the best configuration: network "
          f"{_widths(data, _cli_search.hidden_sizes(best))}")
    # Kept at the epoch of the best objective, the value the trial was scored by; after
    # parallel trials, on one BLAS thread as in the workers: the same sums in the same order.
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1 if args.jobs > 1 else None, user_api="blas"):
        return _fit_and_report(model, data, args, args.epochs, verbose=0, monitor=objective,
                               tuning=shown)


def _labelled(result, data):
    """``result`` to show: for regression, its objective named as the standardized target's
    (``val_mae (standardized target)``), which the trial table and the report's search section
    print, beside scores in the target's units."""
    import dataclasses
    if data.task == "classification":
        return result
    return dataclasses.replace(result, objective=f"{result.objective} (standardized target)")


def predict(args):
    """Predict the rows of a CSV with a model saved by ``--save``; score them if the file
    has the target column."""
    from ..tabular.csv import encode_saved
    from .predictions import (check_threshold, explanations, predictions_table, score_against,
                              write_table)
    model, facts = _cli_data.read_cli_model(args.model)
    detector = facts["kind"] == _cli_data.ANOMALY_KIND
    if detector and args.explain is not None:
        raise ValueError("--explain: explains a classifier's or regressor's predictions; an "
                         "anomaly detector's scores are not explained (gradwise anomalies names "
                         "the columns each row reconstructs worst).")
    if detector and args.threshold is not None:
        raise ValueError("--threshold: for class probabilities; an anomaly detector flags "
                         "rows by the reconstruction error it was saved with.")
    if not detector:
        check_threshold(facts, args.threshold)
    from . import stream as _cli_stream
    if _cli_stream.should_stream(args):
        from .stream_predict import predict as streamed
        return streamed(args, model, facts)
    impute = facts.get("impute")
    X, y_text, unknown, lines, gaps = encode_saved(
        args.data, facts["columns"], facts["label"] if detector else facts["target"],
        fill=impute is not None, encoding=args.encoding)
    if unknown:
        print(f"gradwise: warning: {unknown} category cell(s) not seen in training were encoded "
              f"as all zeros (as the unknown level when embedded): {unknown.described()}.",
              file=sys.stderr)
    if gaps and not detector:
        print(f"gradwise: note: {gaps} missing number(s) filled with the training split's "
              f"{impute}s.", file=sys.stderr)
    if detector:
        return _cli_anomalies.predict(args, model, facts, X, y_text, lines)
    header, rows, predicted = predictions_table(model, facts, X, args.threshold)
    if args.explain:
        header.append("explanation")
        for row, text in zip(rows, explanations(model, facts, X, predicted, args.explain)):
            row.append(text)
    if args.out is not None:  # each row's line in --data, to join the predictions back
        header.append("line")
        for row, line in zip(rows, lines):
            row.append(int(line))
    write_table(args.out, header, rows)
    if args.out is not None:
        print(f"predictions for {len(rows)} rows written to {args.out} (column 'line' gives each "
              f"row's line in {args.data})")
    if y_text is not None:
        print(score_against(facts, predicted, y_text), file=sys.stderr if args.out is None else
              sys.stdout)
    return predicted


def _anomalies(args):
    """``gradwise anomalies``: in memory, or streamed when ``--data`` is over
    ``--memory-budget``."""
    from . import stream as _cli_stream
    encoder = _cli_anomalies._check_options(args, _hidden)
    if _cli_stream.should_stream(args):
        from .stream_anomalies import run as streamed
        return streamed(args, encoder)
    return _cli_anomalies.run(args, _hidden)


def main(argv=None):
    args = _parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for the report's record
    command = {"train": train, "tune": tune, "predict": predict, "info": _cli_info.run,
               "export": _cli_info.export, "demo-data": _cli_demo.run,
               "gradcheck": functools.partial(_cli_gradcheck.run, hidden_sizes=_hidden),
               "anomalies": _anomalies}[args.command]
    with _flags.table_warnings():
        return _guard.run(command, args, message=_flags.message)


if __name__ == "__main__":
    sys.exit(main())
