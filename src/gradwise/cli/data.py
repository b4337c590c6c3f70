"""The data and networks of the ``gradwise`` command: loading, splitting, the model file's
metadata (so that ``gradwise predict`` encodes new rows as training did)."""
import math
from collections import namedtuple

import numpy as np

#: The data of a run. ``splits`` is ``[(X, y)]`` for train, dev and test with raw (encoded)
#: features: the network standardizes them itself, with ``moments`` (mean, scale) of the
#: training split in its first layer. With ``impute`` ("median" or "mean"), missing numbers
#: are filled with the training split's statistics, kept in ``columns``. Regression targets are
#: standardized with ``y_mean`` and ``y_std``; classification targets index ``classes``.
#: ``train_dev`` is ``(X, y)`` held out of the training file when the dev set is a file of its
#: own (see :func:`prepare`), else None; ``sources`` says where each split came from.
Prepared = namedtuple("Prepared", "splits task outputs classes y_mean y_std moments description "
                                  "n_features feature_names columns target impute train_dev "
                                  "sources")

from ..tabular.saved import ANOMALY_KIND, METADATA_KIND, read_saved_model  # noqa: F401
from .flags import options
from .guard import column_names

#: The hidden layers of the command's networks, and the levels above which a text column is
#: embedded, unless ``--hidden`` and ``--embed-threshold`` say otherwise. Their options default
#: to None: ``train --init-from`` refuses them given (the pretrained model decides both) and
#: its record of how the model was made leaves them out.
HIDDEN, EMBED_THRESHOLD = "128,128", 20


def load(args):
    """``(X, y, task, description, feature_names, columns, target)`` from ``--data`` (or digits)."""
    if args.data is None:
        from sklearn.datasets import load_digits
        X, y = load_digits(return_X_y=True)
        names = [f"pixel_{i // 8}_{i % 8}" for i in range(64)]
        columns = [{"name": name, "kind": "number"} for name in names]
        return (X, y, "classification", "digits (scikit-learn, 1797 images of 8x8 pixels)",
                names, columns, "digit")
    if not args.target:
        raise ValueError("--target: name the column to predict, e.g. --target price.")
    from ..tabular.csv import read_csv
    X, y, names, task, columns = read_csv(args.data, args.target, impute=args.impute is not None,
                                          drop=_names(args.drop),
                                          categorical=_names(args.categorical),
                                          encoding=args.encoding,
                                          embed_threshold=getattr(args, "embed_threshold", None))
    if args.task != "auto":
        task = args.task
    if task == "regression" and y.dtype.kind not in "fiu":
        raise ValueError(f"--task: regression needs a numeric target; column {args.target!r} "
                         "has text.")
    description = f"{args.data} ({len(X)} rows, {len(names)} features, target {args.target!r})"
    return X, y, task, description, names, columns, args.target


_names = column_names  # the commands' spelling of it


def prepare(loaded, seed, impute=None, files=None):
    """Encode the classes, split, and take the statistics of the training split (with
    ``impute``, ``"median"`` or ``"mean"``, those that fill missing numbers too).

    ``files`` maps ``"dev"`` and ``"test"`` to ``(X, y_cells)`` read from files of their own
    (:func:`load_split_file`). Without them the data splits 60/20/20 into train/dev/test; with
    a test file only, 75/25 into train/dev; with dev and test files, the training file keeps
    10% as a train-dev set: data from the training distribution that the network does not
    train on, which tells variance (train to train-dev) from data mismatch (train-dev to dev).
    """
    import gradwise as gw
    from ..tabular.csv import complete, fill_values
    from ..layers.normalization import standard_moments
    X, y, task, description, names, columns, target = loaded
    files = files or {}
    classes, y_mean, y_std = None, 0.0, 1.0
    if task == "classification":
        classes, y = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError("--target: classification needs at least two classes.")
    files = {name: (Xf, _file_targets(yf, task, classes, name)) for name, (Xf, yf) in files.items()}
    held_out, sources = _split_plan(files)
    stratify = task == "classification"
    if stratify:
        _check_class_counts(classes, np.bincount(y, minlength=len(classes)),
                            3 if held_out is None else 2)
    if held_out is None:
        split = gw.data.train_dev_test_split(X, y, ratios=(0.6, 0.2, 0.2), stratify=stratify,
                                             seed=seed)
        held = [(split[i], split[i + 3]) for i in range(3)]
        del split
    else:  # one part of the training file held out, the rest from files
        n_held = math.ceil(held_out * len(X))
        train_rows, held_rows = gw.data.split_indices(
            len(X), [len(X) - n_held, n_held], y if stratify else None, seed)
        held = [(X[train_rows], y[train_rows]), (X[held_rows], y[held_rows]), None]
    splits = [held[0], files.get("dev", held[1]), files.get("test", held[2])]
    train_dev = held[1] if "dev" in files else None
    extra = [] if train_dev is None else [train_dev]
    if impute is not None:
        columns = fill_values(splits[0][0], columns, impute)
        # one part at a time, each let go once completed (a copy with fills and indicators)
        parts, held, train_dev, splits, extra = splits + extra, None, None, None, None
        for i, (Xs, ys) in enumerate(parts):
            parts[i] = None
            Xs, added = complete(Xs, columns)
            parts[i] = (Xs, ys)
        if added:  # the count printed at loading is the network's input width
            description = description.replace(
                f", {len(names)} features,",
                f", {len(names) + len(added)} features ({len(added)} of them 'is missing' "
                "indicators),")
        names = names + added
        splits, extra = parts[:3], parts[3:]
    if task == "regression":  # standardize the target too; report errors in its units
        from ..tabular.csv import check_target_scale
        with np.errstate(over="ignore", invalid="ignore"):
            y_mean, y_std = float(splits[0][1].mean()), float(splits[0][1].std() or 1.0)
        check_target_scale(target, y_mean, y_std, np.abs(y).max())
        splits = [(Xs, (ys - y_mean) / y_std) for Xs, ys in splits]
        extra = [(Xs, (ys - y_mean) / y_std) for Xs, ys in extra]
    outputs = len(classes) if task == "classification" else 1
    return Prepared(splits, task, outputs, classes, y_mean, y_std,
                    standard_moments(splits[0][0]), description, splits[0][0].shape[1], names,
                    columns, target, impute, extra[0] if extra else None, sources)


def _check_class_counts(classes, counts, parts):
    """Refuse a class with fewer rows than the ``parts`` of the stratified split drawn from
    the training file (one row of each class in each), naming the class by its label."""
    rare = [(label_text(label), int(count))
            for label, count in zip(classes, counts) if count < parts]
    if rare:
        from .guard import shown as cut
        shown = ", ".join(f"{cut(label)} ({count})" for label, count in rare[:5])
        more = f" and {len(rare) - 5} more" if len(rare) > 5 else ""
        raise ValueError(f"--target: {len(rare)} class(es) with fewer than {parts} rows: "
                         f"{shown}{more}; a stratified split of --data needs {parts} of each "
                         "(one per split): drop or merge those classes, or check that the "
                         "target column is the one meant.")


def _split_plan(files):
    """The share of the training file held out (as dev, or as train-dev when the dev set is a
    file), None for the 60/20/20 split, and where each split comes from (a dev file comes
    with a test file: :func:`gradwise.cli.guard.check_held_out`)."""
    if "dev" in files:
        return 0.1, {"train": "90% of --data", "train-dev": "10% of --data",
                     "dev": "--dev-data", "test": "--test-data"}
    if "test" in files:
        return 0.25, {"train": "75% of --data", "dev": "25% of --data", "test": "--test-data"}
    return None, None


def load_and_prepare(args):
    """:func:`prepare` of :func:`load` with the split files: the table read whole is let go
    when this returns, so that training does not keep it beside its own splits."""
    loaded = load(args)
    return prepare(loaded, args.seed, args.impute, load_files(args, loaded))


def load_files(args, loaded):
    """``--dev-data`` and ``--test-data``, encoded as the training file (for :func:`prepare`)."""
    files = {}
    for name in ("dev", "test"):
        path = getattr(args, f"{name}_data")
        if path is None:
            continue
        if args.data is None:
            raise ValueError(f"--{name}-data: give the training file with --data too.")
        files[name] = load_split_file(path, f"--{name}-data", loaded[5], loaded[6],
                                      args.impute is not None, args.encoding)
    return files


def load_split_file(path, option, columns, target, impute, encoding="utf-8"):
    """``(X, y_cells)`` of a dev or test file, encoded as the training file was (rows without a
    target left out, with a warning)."""
    import sys

    from ..tabular.csv import encode_csv, missing_cells
    with options(path=option):
        X, y_cells, unknown = encode_csv(path, columns, target, impute=impute,
                                         encoding=encoding)
    if y_cells is None:
        raise ValueError(f"{option}: {path!r} has no column {target!r}.")
    if unknown:
        print(f"gradwise: warning: {option}: {unknown} category cell(s) not seen in training "
              f"were encoded as all zeros: {unknown.described()}.", file=sys.stderr)
    present = ~missing_cells([str(cell) for cell in y_cells])
    if not present.any():
        raise ValueError(f"{option}: column {target!r} of {path!r} has no values.")
    if not present.all():
        print(f"gradwise: warning: {option}: {int((~present).sum())} row(s) without a value in "
              f"{target!r} were left out.", file=sys.stderr)
    return X[present], np.asarray(y_cells)[present]


def _file_targets(cells, task, classes, name):
    """A dev or test file's target cells as the training split's targets: class indices, or
    numbers."""
    option = f"--{name}-data"
    if task == "classification":
        known = {label_text(c): i for i, c in enumerate(classes)}
        labels = [label_text(cell) for cell in cells]
        unseen = sorted(set(labels) - set(known))
        if unseen:
            raise ValueError(f"{option}: labels {listed(unseen)} are not among the training "
                             f"file's classes {listed(list(known))}.")
        return np.array([known[label] for label in labels])
    try:
        return np.asarray(cells, dtype=np.float64)
    except ValueError:
        raise ValueError(f"{option}: the target column has text; the task is regression.") from None


def listed(labels, most=5):
    """At most ``most`` class labels for a message, each cut short (a cell may be megabytes),
    with how many more there are: ``['a', 'b', ...] and 12 more``."""
    from .guard import shown
    more = f" and {len(labels) - most} more" if len(labels) > most else ""
    return "[" + ", ".join(shown(label) for label in labels[:most]) + "]" + more


def network(n_features, hidden, outputs, task, learning_rate, moments, l2=0.0, dropout=0.0,
            seed=None, auc=False, columns=None):
    """A compiled ReLU network (He initialization, Adam) that standardizes its input with
    ``moments``, with L2 on every kernel and dropout after every hidden layer when not zero,
    reporting accuracy (and ROC AUC with ``auc``) or MAE. The embedded categories of the
    ``columns`` spec get a ``CategoryEmbedding`` after the standardization (their codes kept
    as they are)."""
    import gradwise as gw
    from .guard import check_network_size
    check_network_size([n_features, *hidden, outputs])
    regularizer = gw.regularizers.L2(l2) if l2 else None
    layers = [gw.layers.Normalization(mean=moments[0], scale=moments[1])]
    embedding = embedding_layer(columns, moments)
    if embedding is not None:
        layers.append(embedding)
    for units in hidden:
        layers.append(gw.layers.Dense(units, activation="relu", kernel_initializer="he_normal",
                                      kernel_regularizer=regularizer))
        if dropout:
            layers.append(gw.layers.Dropout(dropout))
    last = "softmax" if outputs > 1 else None
    layers.append(gw.layers.Dense(outputs, activation=last, kernel_regularizer=regularizer))
    return compile_network(gw.Sequential(layers, input_dim=n_features, seed=seed), task,
                           learning_rate, auc)


def embedding_width(levels):
    """The width of an embedded category's vectors: ``min(16, round(1.6 * levels**0.56))``, the
    rule of thumb of fast.ai's tabular models, capped at 16."""
    return int(min(16, max(2, round(1.6 * levels ** 0.56))))


def embedding_layer(columns, moments):
    """A ``CategoryEmbedding`` for the embedded categories of the ``columns`` spec (None when
    there are none), with ``moments`` set to mean 0 and scale 1 at their codes, in place."""
    if not columns or not any(column.get("embed") for column in columns):
        return None
    import gradwise as gw
    from ..tabular.spec import _positions
    positions, levels = [], []
    for column, position in zip(columns, _positions(columns)):
        if column.get("embed"):
            positions.append(int(position))
            levels.append(len(column["levels"]) + 1)  # row 0: levels not seen in training
    moments[0][positions], moments[1][positions] = 0.0, 1.0
    return gw.layers.CategoryEmbedding(positions, levels,
                                       [embedding_width(n - 1) for n in levels])


def compile_network(model, task, learning_rate, auc=False):
    """``model`` compiled as the command's networks are: Adam, softmax cross-entropy reporting
    accuracy (and ROC AUC with ``auc``), or MSE reporting MAE."""
    import gradwise as gw
    loss, metrics = (("categorical_crossentropy", ["accuracy"] + ["auc"] * auc)
                     if task == "classification" else ("mse", ["mae"]))
    model.compile(optimizer=gw.optimizers.Adam(learning_rate), loss=loss, metrics=metrics)
    return model


def class_weight(data, how):
    """``fit``'s ``class_weight`` for ``--class-weight``: ``"balanced"`` (each class weighs the
    same in the loss: ``n / (n_classes * count)`` in the training split) or None."""
    if how == "none":
        return None
    if data.task != "classification":
        raise ValueError("--class-weight: only for classification; the task is regression.")
    return "balanced"


def tuning_objective(data):
    """What ``gradwise tune`` maximizes or minimizes on the dev split: MAE for regression;
    ROC AUC for two classes or when a class is 5 times rarer than the most common (accuracy
    rewards ignoring it, and moves in steps of one row); accuracy otherwise. Not the loss: it
    includes the L2 penalty, which would favour small L2 strengths whatever they do."""
    if data.task != "classification":
        return "val_mae"
    return "val_auc" if data.outputs == 2 or rare_class(data)[2] >= 5 else "val_accuracy"


def rare_class(data):
    """``(index, share, ratio)`` of the rarest class in the training split: its share of the
    rows and how many times rarer it is than the most common class."""
    counts = np.bincount(data.splits[0][1], minlength=data.outputs)
    rare = int(counts.argmin())
    return rare, float(counts[rare] / counts.sum()), float(counts.max() / counts[rare])


def split_scores(model, data, X, y):
    """The loss and the task's scores on one split, by name.

    Regression: the mean absolute and root mean squared errors in the target's units, and R^2
    (the share of the target's variance on the split that the predictions explain).
    Classification: accuracy, balanced accuracy (the mean of the per-class recalls) and macro
    F1, which, unlike accuracy, do not reward ignoring a rare class; with two classes also ROC
    AUC and average precision with the rarer class as the positive one.
    """
    from ..metrics import ClassTally, ranking_scores, regression_scores
    values, predicted = model.evaluate(X, y, return_predictions=True)  # one forward pass
    loss, outputs = values["loss"], np.asarray(predicted, dtype=np.float64)
    if data.task != "classification":  # in the target's units
        scores = Scores(loss=loss, **regression_scores(y * data.y_std,
                                                       outputs[:, 0] * data.y_std))
        targets = model.loss.prepare_targets(y, model.output_dim, model.dtype)
        scores.error = float(model.loss(targets, predicted))  # as gw.diagnose measures it
        return scores
    tally = ClassTally(data.outputs)  # the confusion matrix: the same scores, bit for bit,
    tally.add(y, outputs.argmax(axis=1))  # as of every row, in a tenth of the time
    scores = Scores(loss=loss, **tally.scores())
    scores.error = 1.0 - scores["accuracy"]
    if data.outputs == 2:
        rare = rare_class(data)[0]
        scores.update(ranking_scores(y == rare, outputs[:, rare]))
    return scores


class Scores(dict):
    """A split's scores by name, and ``error``: what the bias/variance diagnosis compares
    (``1 - accuracy``, or the loss without its penalty), as :func:`gradwise.diagnose` measures
    it."""

    error = None


def metadata(data):
    """What ``gradwise predict`` needs besides the network, as JSON types."""
    return {"kind": METADATA_KIND, "version": 1, "task": data.task, "target": data.target,
            "columns": data.columns, "impute": data.impute,
            "classes": None if data.classes is None else [label_text(c) for c in data.classes],
            "positive": (label_text(data.classes[rare_class(data)[0]])
                         if data.task == "classification" and data.outputs == 2 else None),
            "y_mean": data.y_mean, "y_std": data.y_std}


def provenance(args, description, scores=None, best_parameters=None):
    """How a saved model was made, for ``gradwise info``: the command and its options (not
    the output paths), after a search the ``best_parameters`` it trained with, the data it
    read, its results per split, when, with which gradwise."""
    import datetime

    import gradwise
    skip = {"save", "report", "out", "storage"}  # where results went, not how they were made
    options = {key: value for key, value in sorted(vars(args).items())
               if key not in skip and isinstance(value, (str, int, float, bool, type(None)))}
    tuned = {} if best_parameters is None else {"best_parameters": dict(best_parameters)}
    return {"command": args.command, "options": options, **tuned, "data": description,
            "scores": scores, "gradwise_version": gradwise.__version__,
            "saved": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def label_text(value):
    """A class label as the CSV would write it: ``1`` for a numeric 1.0, text unchanged."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(int(number)) if number.is_integer() else repr(number)


def read_cli_model(path, option="--model"):
    """A model saved by ``gradwise train/tune/anomalies --save`` and its metadata; errors name
    ``option``."""
    with options(path=option):
        return read_saved_model(path)
