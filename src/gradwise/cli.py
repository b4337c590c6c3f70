"""The ``gradwise`` command line.

``gradwise train`` trains the main job on scikit-learn's digits (embedded default);
``gradwise train --data FILE.csv --target COLUMN`` does the same on a user's CSV;
``gradwise tune`` searches learning rate, L2, dropout, width and depth on the dev split, then
trains the best configuration; ``gradwise anomalies`` ranks rows by an autoencoder's
reconstruction error. ``train`` and ``tune`` can write an HTML report (``--report``) and the
model with its column encoding (``--save``), which ``gradwise predict`` applies to new rows.
"""
import argparse
import functools
import sys

from . import _cli_anomalies, _cli_data, _cli_info, _cli_results

_DESCRIPTION = ("Train, tune and inspect deep feed-forward networks on your CSV files "
                "(or on scikit-learn's digits), predict new rows, and find anomalous rows.")
_EPILOG = """examples:
  gradwise train                                   # digits, 64-128-128-10 ReLU, Adam
  gradwise train --data houses.csv --target price  # your CSV (regression or classification)
  gradwise tune --trials 30 --jobs 2               # hyperparameter search on digits (Optuna)
  gradwise train --data churn.csv --target churned --save churn.npz --report churn.html
  gradwise predict --model churn.npz --data new_customers.csv --out predictions.csv
  gradwise anomalies --data payments.csv --drop id --out scores.csv   # no labels needed
  gradwise info --model churn.npz                  # how a saved model was made, its results
  gradwise export --model churn.npz --onnx churn.onnx  # for onnxruntime, encoding included
"""


def _positive_int(text):
    """argparse type: an integer >= 1 (the option's name is added by argparse)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, received {text!r}")
    return value


def _add_data_options(command):
    command.add_argument("--data", help="CSV file with a header row (default: scikit-learn's digits)")
    command.add_argument("--target", help="name of the target column of --data")
    command.add_argument("--task", choices=["auto", "classification", "regression"], default="auto",
                         help="auto: classification for a text target or a few integers, "
                              "regression otherwise")
    command.add_argument("--seed", type=int, default=0,
                         help="seeds the train/dev/test split and the initialization (default 0)")
    command.add_argument("--test-data", metavar="FILE",
                         help="a test set of its own (same columns as --data); --data then "
                              "splits 75/25 into train and dev")
    command.add_argument("--dev-data", metavar="FILE",
                         help="a dev set of its own (needs --test-data, from the same "
                              "distribution); --data then keeps 10%% as a train-dev set, which "
                              "tells variance from data mismatch")
    _add_column_options(command)
    command.add_argument("--human-error", type=float, metavar="ERROR",
                         help="human-level (Bayes) error for the bias/variance diagnosis: an "
                              "error rate for classes, an MSE of standardized targets otherwise "
                              "(default 0)")
    command.add_argument("--class-weight", choices=["none", "balanced"], default="none",
                         help="balanced: weight each class by the inverse of its frequency in "
                              "the training split, for imbalanced classes")


def _add_column_options(command):
    """How the columns of --data become features."""
    command.add_argument("--drop", metavar="COLUMNS",
                         help="comma-separated columns of --data to leave out (identifiers, "
                              "free text, leaks of the target)")
    command.add_argument("--categorical", metavar="COLUMNS",
                         help="comma-separated numeric columns of --data to one-hot encode as "
                              "categories (codes such as zip codes)")
    command.add_argument("--impute", choices=["median", "mean"],
                         help="fill missing numbers (empty or NA cells) with the training "
                              "split's median or mean, and add an 'is missing' feature per "
                              "column that has them; missing text is a category of its own "
                              "(default: missing cells are an error)")


def _parser():
    parser = argparse.ArgumentParser(prog="gradwise", description=_DESCRIPTION,
                                     epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a network and report train/dev/test results")
    _add_data_options(train)
    train.add_argument("--hidden", default="128,128", help="hidden layer sizes, e.g. 128,128")
    train.add_argument("--epochs", type=_positive_int, default=100,
                       help="at most this many epochs (default 100); early stopping on dev")
    train.add_argument("--batch-size", type=_positive_int, default=64,
                       help="mini-batch size (default 64)")
    train.add_argument("--learning-rate", type=float, default=1e-3,
                       help="Adam's learning rate (default 0.001)")
    train.add_argument("--l2", type=float, default=0.0,
                       help="L2 penalty lam/2 * sum(W**2) on every kernel (default 0)")
    train.add_argument("--dropout", type=float, default=0.0,
                       help="inverted-dropout rate after every hidden layer (default 0)")
    train.add_argument("--patience", type=_positive_int, default=10,
                       help="epochs without a better dev loss before stopping (default 10)")
    train.add_argument("--quiet", action="store_true", help="do not print the loss per epoch")
    train.add_argument("--repeats", type=_positive_int, metavar="N",
                       help="train N times with seeds --seed .. --seed+N-1 (another split and "
                            "initialization each) and print each run's test scores with their "
                            "mean and standard deviation")
    _add_output_options(train)
    tune = commands.add_parser(
        "tune", help="search learning rate, L2, dropout, width and depth (needs Optuna), then "
                     "train the best configuration and report train/dev/test results")
    _add_data_options(tune)
    tune.add_argument("--trials", type=_positive_int, default=20, help="number of trials")
    tune.add_argument("--sampler", choices=["bayesian", "random"], default="bayesian",
                      help="bayesian: Optuna's TPE; random: random search")
    tune.add_argument("--jobs", type=_positive_int, default=1, help="trials run in parallel processes")
    tune.add_argument("--epochs", type=_positive_int, default=30, help="epochs per trial")
    tune.add_argument("--batch-size", type=_positive_int, default=64)
    tune.add_argument("--patience", type=_positive_int, default=10, help="early-stopping patience")
    tune.add_argument("--no-pruning", action="store_true", help="run every trial to the end")
    tune.add_argument("--storage", metavar="URL",
                      help="keep the study in a database (sqlite:///tune.db, postgresql://...): "
                           "runs with the same --study resume it, machines share it")
    tune.add_argument("--study", default="gradwise-tune", help="study name in --storage")
    _add_output_options(tune)
    predict = commands.add_parser(
        "predict", help="predict the rows of a CSV with a model saved by train/tune --save, "
                        "or score them with a detector saved by anomalies --save")
    predict.add_argument("--model", required=True, help="model file written by --save")
    predict.add_argument("--data", required=True, help="CSV with the training's feature columns")
    predict.add_argument("--out", help="CSV file for the predictions (default: print them)")
    predict.add_argument("--explain", type=_positive_int, metavar="K",
                         help="add each row's K columns that moved its prediction most "
                              "(gradient times input from the training mean, in log-odds of the "
                              "predicted class or in target units)")
    _cli_anomalies.add_parser(commands, _add_column_options, _positive_int)
    _cli_info.add_parser(commands)
    _cli_info.add_export_parser(commands)
    predict.add_argument("--threshold", type=float,
                         help="two classes: predict the positive (rarer) class where its "
                              "probability reaches this value (default: the likelier class); "
                              "--report suggests the one that maximizes F1 on the dev split")
    return parser


def _add_output_options(command):
    command.add_argument("--report", metavar="FILE.html",
                         help="write an HTML report (learning curves, errors, diagnosis)")
    command.add_argument("--save", metavar="FILE.npz",
                         help="save the model with its column encoding, for gradwise predict")


def _hidden(text):
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"--hidden: expected sizes like 128,128, received {text!r}.") from None
    if any(s <= 0 for s in sizes):
        raise ValueError(f"--hidden: expected positive sizes, received {text!r}.")
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


def _fit_and_report(model, data, args, epochs, verbose, monitor="val_loss"):
    """Train with early stopping on the dev split (keeping the epoch with the best ``monitor``),
    print loss and metric per split, then write the report and the model file when asked."""
    import gradwise as gw
    health = gw.GradientHealth() if args.report else None  # one record per epoch, for the page
    history = _fit(model, data, args, epochs, verbose, monitor, [health] if health else [])
    table = _cli_results.scores(model, data)
    _cli_results.print_table("split", table)
    _cli_results.imbalance_note(data, args)
    _cli_results.diagnosis_line(model, data, args)
    if args.report:
        from ._csv import feature_columns
        from .report import write_report
        write_report(args.report, model, history, dict(zip(("train", "dev", "test"), data.splits)),
                     data_description=data.description, feature_names=data.feature_names,
                     class_names=_cli_data.metadata(data)["classes"], target_scale=data.y_std,
                     gradient_health=health, human_error=args.human_error,
                     feature_groups=feature_columns(data.columns))
        print(f"\nreport written to {args.report}")
    if args.save:
        facts = {**_cli_data.metadata(data),
                 "provenance": _cli_data.provenance(args, data.description, table)}
        gw.save_model(model, args.save, include_optimizer=False, metadata=facts)
        print(f"model written to {args.save} (use: gradwise predict --model {args.save} "
              "--data new.csv)")
    return model


def _fit(model, data, args, epochs, verbose, monitor="val_loss", callbacks=()):
    """Train with early stopping on the dev split, keeping the epoch with the best ``monitor``."""
    import gradwise as gw
    stop = gw.callbacks.EarlyStopping(monitor=monitor, patience=args.patience,
                                      restore_best_weights=True)
    history = model.fit(*data.splits[0], epochs=epochs, batch_size=args.batch_size,
                        validation_data=data.splits[1], verbose=verbose,
                        callbacks=[stop, *callbacks],
                        class_weight=_cli_data.class_weight(data, args.class_weight))
    if stop.best_weights is not None:  # EarlyStopping restores only when it stops (as Keras)
        model.set_weights(stop.best_weights, include_state=True)  # keep the best epoch anyway
    return history


def _repeat(args, loaded, hidden):
    """``--repeats N``: the same training with seeds ``seed .. seed+N-1`` (another split and
    initialization each time), each run's test scores, and their mean and standard deviation:
    how much of a result is the luck of one split."""
    import numpy as np
    runs, files = {}, _cli_data.load_files(args, loaded)
    for seed in range(args.seed, args.seed + args.repeats):
        data = _cli_data.prepare(loaded, seed, args.impute, files)
        model = _cli_data.network(data.n_features, hidden, data.outputs, data.task,
                                  args.learning_rate, data.moments, l2=args.l2,
                                  dropout=args.dropout, seed=seed)
        _fit(model, data, args, args.epochs, verbose=0)
        runs[str(seed)] = _cli_data.split_scores(model, data, *data.splits[2])
    print(f"data: {data.description}")
    print(f"{_describe(data)}; network {_widths(data, hidden)}; {args.repeats} runs, test split")
    values = np.array([list(scores.values()) for scores in runs.values()])
    columns = list(next(iter(runs.values())))
    summary = {"mean": dict(zip(columns, values.mean(axis=0))),
               "std": dict(zip(columns, values.std(axis=0, ddof=1)))}
    _cli_results.print_table("seed", {**runs, **summary})
    return summary


def _check_outputs(args):
    _cli_data.check_output_path(args.report, "--report")
    _cli_data.check_output_path(args.save, "--save")


def train(args):
    _check_outputs(args)
    hidden = _hidden(args.hidden)
    if not args.l2 >= 0:
        raise ValueError(f"--l2: expected a penalty >= 0, received {args.l2!r}.")
    if not 0 <= args.dropout < 1:
        raise ValueError(f"--dropout: expected a rate in [0, 1), received {args.dropout!r}.")
    if args.repeats is not None:
        if args.save or args.report:
            raise ValueError("--repeats: compares runs; --save and --report take one run.")
        if args.repeats < 2:
            raise ValueError("--repeats: expected at least 2 runs to compare, received 1.")
        return _repeat(args, _cli_data.load(args), hidden)
    loaded = _cli_data.load(args)
    data = _cli_data.prepare(loaded, args.seed, args.impute, _cli_data.load_files(args, loaded))
    _cli_results.check_human_error(args, data)
    model = _cli_data.network(data.n_features, hidden, data.outputs, data.task,
                              args.learning_rate, data.moments, l2=args.l2, dropout=args.dropout,
                              seed=args.seed)
    print(f"data: {data.description}")
    print(f"{_describe(data)}; network {_widths(data, hidden)}")
    return _fit_and_report(model, data, args, args.epochs, verbose=0 if args.quiet else 2)


def _tuning_space():
    """What ``gradwise tune`` searches (every hidden layer has the same width)."""
    from . import tuning
    return {"learning_rate": tuning.LogUniform(1e-4, 1e-1),
            "l2": tuning.LogUniform(1e-6, 1e-2),
            "dropout": tuning.Uniform(0.0, 0.5),
            "units": tuning.IntUniform(16, 256, log=True),
            "layers": tuning.IntUniform(1, 3)}


def _network_from_params(params, n_features, outputs, task, moments, auc=False):
    """The tuning ``build`` function (module level, so worker processes can unpickle it)."""
    return _cli_data.network(n_features, [params["units"]] * params["layers"], outputs, task,
                             params["learning_rate"], moments, l2=params["l2"],
                             dropout=params["dropout"], auc=auc)


def tune(args):
    """Search on the dev split, print the best trials, then train and report the best one."""
    import gradwise as gw
    from . import tuning
    _check_outputs(args)
    loaded = _cli_data.load(args)
    data = _cli_data.prepare(loaded, args.seed, args.impute, _cli_data.load_files(args, loaded))
    _cli_results.check_human_error(args, data)
    objective = _cli_data.tuning_objective(data)
    build = functools.partial(_network_from_params, n_features=data.n_features,
                              outputs=data.outputs, task=data.task, moments=data.moments,
                              auc=objective == "val_auc")
    print(f"data: {data.description}")
    print(f"{_describe(data)}; {args.trials} trials ({args.sampler} sampler) of up to "
          f"{args.epochs} epochs, {args.jobs} at a time; best {objective} wins")
    stop = gw.callbacks.EarlyStopping(monitor=objective, patience=args.patience)
    result = tuning.tune(build, _tuning_space(), *data.splits[0], data.splits[1],
                         n_trials=args.trials, sampler=args.sampler, objective=objective,
                         epochs=args.epochs, batch_size=args.batch_size, callbacks=[stop],
                         pruning=not args.no_pruning, n_jobs=args.jobs, seed=args.seed,
                         storage=args.storage, study_name=args.study,
                         class_weight=_cli_data.class_weight(data, args.class_weight))
    print(f"\n{result.table()}")
    if result.best_params is None:
        raise ValueError("--trials: no trial completed (all diverged or were pruned); "
                         "run more trials or use --no-pruning.")
    best = result.best_params
    print("\nbest parameters: " + ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                                             for k, v in best.items()))
    model = build(best)
    model.seed = result.best_trial["seed"]  # the best trial's own initialization
    print(f"\nretraining the best configuration: network "
          f"{_widths(data, [best['units']] * best['layers'])}")
    # Kept at the epoch of the best objective, the value the trial was scored by; after
    # parallel trials, on one BLAS thread as in the workers: the same sums in the same order.
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1 if args.jobs > 1 else None, user_api="blas"):
        return _fit_and_report(model, data, args, args.epochs, verbose=0, monitor=objective)


def predict(args):
    """Predict the rows of a CSV with a model saved by ``--save``; score them if the file
    has the target column."""
    import numpy as np
    from ._csv import complete, encode_csv
    from ._predictions import (check_threshold, explanations, predictions_table, score_against,
                               write_table)
    _cli_data.check_output_path(args.out, "--out")
    model, facts = _cli_data.read_cli_model(args.model)
    if facts["kind"] == _cli_data.ANOMALY_KIND:
        if args.threshold is not None:
            raise ValueError("--threshold: for class probabilities; an anomaly detector flags "
                             "rows by the reconstruction error it was saved with.")
        return _cli_anomalies.predict(args, facts)
    check_threshold(facts, args.threshold)
    impute = facts.get("impute")
    X, y_text, unknown = encode_csv(args.data, facts["columns"], facts["target"],
                                    impute=impute is not None)
    if unknown:
        print(f"gradwise: warning: {unknown} category cell(s) not seen in training were encoded "
              "as all zeros.", file=sys.stderr)
    if impute is not None:
        gaps = int(np.isnan(X).sum())
        X, _ = complete(X, facts["columns"])
        if gaps:
            print(f"gradwise: note: {gaps} missing number(s) filled with the training split's "
                  f"{impute}s.", file=sys.stderr)
    header, rows, predicted = predictions_table(model, facts, X, args.threshold)
    if args.explain:
        header.append("explanation")
        for row, text in zip(rows, explanations(model, facts, X, predicted, args.explain)):
            row.append(text)
    write_table(args.out, header, rows)
    if y_text is not None:
        print(score_against(facts, predicted, y_text), file=sys.stderr if args.out is None else
              sys.stdout)
    return predicted


def main(argv=None):
    args = _parser().parse_args(argv)
    command = {"train": train, "tune": tune, "predict": predict, "info": _cli_info.run,
               "export": _cli_info.export,
               "anomalies": functools.partial(_cli_anomalies.run, hidden_sizes=_hidden)}[args.command]
    optional = ("tune", "train", "export", "anomalies")  # Optuna, matplotlib, onnx
    expected = (ValueError, TypeError) + ((ImportError,) if args.command in optional else ())
    try:
        command(args)
    except expected as error:
        print(f"gradwise: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader left (gradwise ... | head): stop quietly
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
