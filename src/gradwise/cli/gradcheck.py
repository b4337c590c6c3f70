"""``gradwise gradcheck``: back-propagation against finite differences (float64) on a saved
model, or on the network ``gradwise train`` builds, with the verdict and each layer's table."""
import numpy as np

from .data import HIDDEN
from .guard import seed


def add_parser(commands, add_column_options, positive_int):
    command = commands.add_parser(
        "gradcheck", help="check back-propagation against finite differences (float64) on a "
                          "saved model or on the network train builds; prints the verdict and "
                          "each layer's relative difference")
    command.add_argument("--model", help="model file (from --save or gw.save_model; it needs "
                                         "its loss); default: the network gradwise train "
                                         "builds on --data, or on digits")
    command.add_argument("--data", help="CSV rows to check on. With --model, a model saved by "
                                        "the command encodes them (targets from its target "
                                        "column when present); default: random standard "
                                        "normal rows of the model's width")
    command.add_argument("--target", help="without --model: the column of --data to predict")
    command.add_argument("--task", choices=["auto", "classification", "regression"],
                         help="without --model: as for gradwise train (default auto)")
    command.add_argument("--hidden",
                         help=f"without --model: hidden layer sizes (default {HIDDEN})")
    add_column_options(command)
    command.add_argument("--rows", type=positive_int, default=8,
                         help="rows in the checked batch (default 8); the check costs two "
                              "forward passes of them per parameter")
    command.add_argument("--seed", type=seed, default=0,
                         help="seeds the network's initialization and the rows drawn (default 0)")
    return command


def run(args, hidden_sizes):
    """Print what is checked, the table and the verdict; the exit status is 1 when the
    verdict is "bug" (as a test runner fails), else 0."""
    return 1 if check(args, hidden_sizes).verdict == "bug" else 0


def check(args, hidden_sizes):
    """Print what is checked, the table and the verdict; returns the ``GradcheckResult``."""
    import gradwise as gw
    rng = np.random.default_rng(args.seed)
    if args.model is None:
        args.task = args.task or "auto"
        model, X, y, description = _default_network(args, hidden_sizes(args.hidden or HIDDEN))
    else:
        model, X, y, description = _saved_model(args, rng)
    if len(X) > args.rows:
        rows = np.sort(rng.choice(len(X), size=args.rows, replace=False))
        X, y = X[rows], y[rows]
    if not model.built:
        model.build()
    trainable = sum(layer.count_params() for layer in model.layers if layer.trainable)
    print(f"data: {description}; {len(X)} rows checked")
    print(f"network: {_widths(model)}, {trainable:,} trainable parameters, checked in float64 "
          f"by central differences (epsilon 1e-7), two forward passes per parameter")
    result = gw.gradcheck(model, X, y)
    print()
    print(result.report())
    return result


def _widths(model):
    sizes = [model.input_dim] + [layer.units for layer in model.layers if hasattr(layer, "units")]
    return "-".join(map(str, sizes))


def _default_network(args, hidden):
    """The network and training split of ``gradwise train`` (digits without --data)."""
    from . import data as _cli_data
    data = _cli_data.prepare(_cli_data.load(args), args.seed, args.impute)
    model = _cli_data.network(data.n_features, hidden, data.outputs, data.task, 1e-3,
                              data.moments, seed=args.seed)
    X, y = data.splits[0]
    return model, X, y, f"{data.description}, training split"


#: The options of the network gradwise train builds, which a saved model has already chosen.
_WITHOUT_MODEL = {
    **dict.fromkeys(("target", "drop", "categorical", "impute"),
                    "a saved model encodes --data as it was trained"),
    "task": "a saved model's loss is its task",
    "hidden": "a saved model's layers are checked as they are"}


def _saved_model(args, rng):
    import gradwise as gw
    for option, why in _WITHOUT_MODEL.items():
        if getattr(args, option) is not None:
            raise ValueError(f"--{option}: only without --model; {why}.")
    try:
        model = gw.load_model(args.model)
    except (OSError, ValueError) as error:
        raise ValueError(f"--model: cannot load {args.model!r}: {error}") from None
    if model.loss is None:
        raise ValueError(f"--model: {args.model!r} has no loss to check (saved before compile).")
    if args.data is None:
        X = rng.standard_normal((args.rows, model.input_dim))
        return model, X, _random_targets(model, len(X), rng), \
            f"{args.rows} random standard normal rows, random targets"
    from ..tabular.csv import encode_saved
    from .data import read_cli_model
    model, facts = read_cli_model(args.model)
    target = facts.get("target") if facts.get("task") else None
    X, y_text, _, _, _ = encode_saved(args.data, facts["columns"], target,
                                      fill=facts.get("impute") is not None,
                                      encoding=args.encoding)
    if y_text is None:
        return model, X, _random_targets(model, len(X), rng), \
            f"{args.data} encoded as the model's columns, random targets"
    present, y = _file_targets(facts, y_text)
    return model, X[present], y, f"{args.data} with its column {facts['target']!r}"


def _random_targets(model, n, rng):
    """Targets the model's loss accepts: class indices, 0/1 labels or values in [0, 1)."""
    from ..losses import BinaryCrossentropy, CategoricalCrossentropy
    if isinstance(model.loss, CategoricalCrossentropy):
        return rng.integers(0, model.output_dim, size=n)
    if isinstance(model.loss, BinaryCrossentropy):
        return rng.integers(0, 2, size=(n, model.output_dim))
    return rng.uniform(size=(n, model.output_dim))


def _file_targets(facts, y_text):
    """The rows that have a target value, and the targets as the network was trained on them:
    class indices, or standardized values."""
    from ..tabular.csv import missing_cells
    from .data import label_text
    present = ~missing_cells([str(cell) for cell in y_text])
    if not present.any():
        raise ValueError(f"--data: column {facts['target']!r} has no values.")
    cells = np.asarray(y_text)[present]
    if facts["task"] == "classification":
        index = {label: i for i, label in enumerate(facts["classes"])}
        labels = [label_text(cell) for cell in cells]
        unknown = sorted(set(labels) - set(index))
        if unknown:
            from .data import listed
            raise ValueError(f"--data: column {facts['target']!r} has classes the model does "
                             f"not know: {listed(unknown)}.")
        return present, np.array([index[label] for label in labels])
    values = np.asarray(cells, dtype=np.float64)
    return present, (values - facts["y_mean"]) / facts["y_std"]
