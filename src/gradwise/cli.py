"""The ``gradwise`` command line.

``gradwise train`` trains the main job on scikit-learn's digits (embedded default);
``gradwise train --data FILE.csv --target COLUMN`` does the same on a user's CSV.
"""
import argparse
import sys

import numpy as np

_EPILOG = """examples:
  gradwise train                                   # digits, 64-128-128-10 ReLU, Adam
  gradwise train --data houses.csv --target price  # your CSV (regression or classification)
"""


def _parser():
    parser = argparse.ArgumentParser(prog="gradwise", description=__doc__.splitlines()[0],
                                     epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a network and report train/dev/test results")
    train.add_argument("--data", help="CSV file with a header row (default: scikit-learn's digits)")
    train.add_argument("--target", help="name of the target column of --data")
    train.add_argument("--task", choices=["auto", "classification", "regression"], default="auto")
    train.add_argument("--hidden", default="128,128", help="hidden layer sizes, e.g. 128,128")
    train.add_argument("--epochs", type=int, default=100)
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--learning-rate", type=float, default=1e-3)
    train.add_argument("--patience", type=int, default=10, help="early-stopping patience (epochs)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--quiet", action="store_true", help="do not print the loss per epoch")
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


def train(args):
    import gradwise as gw
    X, y, task, description = _load(args)
    hidden = _hidden(args.hidden)
    classes = None
    if task == "classification":
        classes, y = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError("--target: classification needs at least two classes.")
    X_train, X_dev, X_test, y_train, y_dev, y_test = gw.data.train_dev_test_split(
        X, y, ratios=(0.6, 0.2, 0.2), stratify=task == "classification", seed=args.seed)
    scaler = gw.data.Standardizer().fit(X_train)  # training statistics only
    splits = [(scaler.transform(Xs), ys)
              for Xs, ys in ((X_train, y_train), (X_dev, y_dev), (X_test, y_test))]
    if task == "regression":  # standardize the target too; report errors in its units
        y_mean, y_std = splits[0][1].mean(), splits[0][1].std() or 1.0
        splits = [(Xs, (ys - y_mean) / y_std) for Xs, ys in splits]
    outputs = len(classes) if task == "classification" else 1
    layers = [gw.layers.Dense(h, activation="relu", kernel_initializer="he_normal") for h in hidden]
    last = "softmax" if outputs > 1 else None
    layers.append(gw.layers.Dense(outputs, activation=last))
    model = gw.Sequential(layers, input_dim=X.shape[1], seed=args.seed)
    loss, metrics = (("categorical_crossentropy", ["accuracy"]) if task == "classification"
                     else ("mse", ["mae"]))
    model.compile(optimizer=gw.optimizers.Adam(args.learning_rate), loss=loss, metrics=metrics)
    print(f"data: {description}")
    print(f"task: {task}; split 60/20/20: {len(splits[0][0])} train, {len(splits[1][0])} dev, "
          f"{len(splits[2][0])} test; network {'-'.join(map(str, [X.shape[1], *hidden, outputs]))}")
    stop = gw.callbacks.EarlyStopping(patience=args.patience, restore_best_weights=True)
    model.fit(*splits[0], epochs=args.epochs, batch_size=args.batch_size,
              validation_data=splits[1], callbacks=[stop], verbose=0 if args.quiet else 2)
    print(f"\n{'split':<6} {'loss':>10} {metrics[0]:>10}")
    for name, (Xs, ys) in zip(("train", "dev", "test"), splits):
        result = model.evaluate(Xs, ys)
        value = result[metrics[0]] * (1 if task == "classification" else y_std)
        print(f"{name:<6} {result['loss']:>10.4f} {value:>10.4f}")
    return model


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if args.command == "train":
            train(args)
    except (ValueError, TypeError) as error:
        print(f"gradwise: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
