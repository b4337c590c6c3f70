"""The ``gradwise`` command line.

``gradwise train`` trains the main job on scikit-learn's digits (embedded default);
``gradwise train --data FILE.csv --target COLUMN`` does the same on a user's CSV;
``gradwise tune`` searches learning rate, L2, dropout, width and depth on the dev split, then
trains the best configuration.
"""
import argparse
import functools
import sys
from collections import namedtuple

import numpy as np

_EPILOG = """examples:
  gradwise train                                   # digits, 64-128-128-10 ReLU, Adam
  gradwise train --data houses.csv --target price  # your CSV (regression or classification)
  gradwise tune --trials 30 --jobs 2               # hyperparameter search on digits (Optuna)
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
    command.add_argument("--task", choices=["auto", "classification", "regression"], default="auto")
    command.add_argument("--seed", type=int, default=0)


def _parser():
    parser = argparse.ArgumentParser(prog="gradwise", description=__doc__.splitlines()[0],
                                     epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a network and report train/dev/test results")
    _add_data_options(train)
    train.add_argument("--hidden", default="128,128", help="hidden layer sizes, e.g. 128,128")
    train.add_argument("--epochs", type=int, default=100)
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--learning-rate", type=float, default=1e-3)
    train.add_argument("--patience", type=int, default=10, help="early-stopping patience (epochs)")
    train.add_argument("--quiet", action="store_true", help="do not print the loss per epoch")
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
    return parser


def _load(args):
    if args.data is None:
        from sklearn.datasets import load_digits
        X, y = load_digits(return_X_y=True)
        return X, y, "classification", "digits (scikit-learn, 1797 images of 8x8 pixels)"
    if not args.target:
        raise ValueError("--target: name the column to predict, e.g. --target price.")
    from ._csv import read_csv
    X, y, names, task = read_csv(args.data, args.target)
    if args.task != "auto":
        task = args.task
    return X, y, task, f"{args.data} ({len(X)} rows, {len(names)} features, target {args.target!r})"


def _hidden(text):
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"--hidden: expected sizes like 128,128, received {text!r}.") from None
    if any(s <= 0 for s in sizes):
        raise ValueError(f"--hidden: expected positive sizes, received {text!r}.")
    return sizes


#: The data of a run: ``splits`` is ``[(X, y)]`` for train, dev and test, standardized on the
#: training split; ``y_std`` converts standardized regression errors back to target units.
Prepared = namedtuple("Prepared", "splits task outputs y_std description n_features")


def _prepare(X, y, task, description, seed):
    """Encode the classes, split 60/20/20 and standardize on the training split."""
    import gradwise as gw
    classes, y_std = None, 1.0
    if task == "classification":
        classes, y = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError("--target: classification needs at least two classes.")
    X_train, X_dev, X_test, y_train, y_dev, y_test = gw.data.train_dev_test_split(
        X, y, ratios=(0.6, 0.2, 0.2), stratify=task == "classification", seed=seed)
    scaler = gw.data.Standardizer().fit(X_train)  # training statistics only
    splits = [(scaler.transform(Xs), ys)
              for Xs, ys in ((X_train, y_train), (X_dev, y_dev), (X_test, y_test))]
    if task == "regression":  # standardize the target too; report errors in its units
        y_mean, y_std = splits[0][1].mean(), splits[0][1].std() or 1.0
        splits = [(Xs, (ys - y_mean) / y_std) for Xs, ys in splits]
    outputs = len(classes) if task == "classification" else 1
    return Prepared(splits, task, outputs, y_std, description, X.shape[1])


def _loss_and_metrics(task):
    return (("categorical_crossentropy", ["accuracy"]) if task == "classification"
            else ("mse", ["mae"]))


def _network(n_features, hidden, outputs, task, learning_rate, l2=0.0, dropout=0.0, seed=None):
    """A compiled ReLU network (He initialization, Adam), with L2 on every kernel and dropout
    after every hidden layer when they are not zero."""
    import gradwise as gw
    regularizer = gw.regularizers.L2(l2) if l2 else None
    layers = []
    for units in hidden:
        layers.append(gw.layers.Dense(units, activation="relu", kernel_initializer="he_normal",
                                      kernel_regularizer=regularizer))
        if dropout:
            layers.append(gw.layers.Dropout(dropout))
    last = "softmax" if outputs > 1 else None
    layers.append(gw.layers.Dense(outputs, activation=last, kernel_regularizer=regularizer))
    model = gw.Sequential(layers, input_dim=n_features, seed=seed)
    loss, metrics = _loss_and_metrics(task)
    model.compile(optimizer=gw.optimizers.Adam(learning_rate), loss=loss, metrics=metrics)
    return model


def _describe(data):
    sizes = [len(Xs) for Xs, _ in data.splits]
    return f"task: {data.task}; split 60/20/20: {sizes[0]} train, {sizes[1]} dev, {sizes[2]} test"


def _widths(data, hidden):
    return "-".join(map(str, [data.n_features, *hidden, data.outputs]))


def _fit_and_report(model, data, args, epochs, verbose):
    """Train with early stopping on the dev split, then print loss and metric per split."""
    import gradwise as gw
    metric = model.metrics[0].__name__
    stop = gw.callbacks.EarlyStopping(patience=args.patience, restore_best_weights=True)
    model.fit(*data.splits[0], epochs=epochs, batch_size=args.batch_size,
              validation_data=data.splits[1], callbacks=[stop], verbose=verbose)
    print(f"\n{'split':<6} {'loss':>10} {metric:>10}")
    for name, (Xs, ys) in zip(("train", "dev", "test"), data.splits):
        result = model.evaluate(Xs, ys)
        value = result[metric] * (1 if data.task == "classification" else data.y_std)
        print(f"{name:<6} {result['loss']:>10.4f} {value:>10.4f}")
    return model


def train(args):
    X, y, task, description = _load(args)
    hidden = _hidden(args.hidden)
    data = _prepare(X, y, task, description, args.seed)
    model = _network(data.n_features, hidden, data.outputs, data.task, args.learning_rate,
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


def _network_from_params(params, n_features, outputs, task):
    """The tuning ``build`` function (module level, so worker processes can unpickle it)."""
    return _network(n_features, [params["units"]] * params["layers"], outputs, task,
                    params["learning_rate"], l2=params["l2"], dropout=params["dropout"])


def tune(args):
    """Search on the dev split, print the best trials, then train and report the best one."""
    import gradwise as gw
    from . import tuning
    data = _prepare(*_load(args), args.seed)
    build = functools.partial(_network_from_params, n_features=data.n_features,
                              outputs=data.outputs, task=data.task)
    # Accuracy and MAE, not the loss: the loss includes the L2 penalty, which would favour
    # small L2 strengths whatever they do to the dev error.
    objective = "val_accuracy" if data.task == "classification" else "val_mae"
    print(f"data: {data.description}")
    print(f"{_describe(data)}; {args.trials} trials ({args.sampler} sampler) of up to "
          f"{args.epochs} epochs, {args.jobs} at a time; best {objective} wins")
    stop = gw.callbacks.EarlyStopping(patience=args.patience)
    result = tuning.tune(build, _tuning_space(), *data.splits[0], data.splits[1],
                         n_trials=args.trials, sampler=args.sampler, objective=objective,
                         epochs=args.epochs, batch_size=args.batch_size, callbacks=[stop],
                         pruning=not args.no_pruning, n_jobs=args.jobs, seed=args.seed)
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
    return _fit_and_report(model, data, args, args.epochs, verbose=0)


def main(argv=None):
    args = _parser().parse_args(argv)
    command = {"train": train, "tune": tune}[args.command]
    expected = (ValueError, TypeError) + ((ImportError,) if command is tune else ())  # Optuna
    try:
        command(args)
    except expected as error:
        print(f"gradwise: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
