"""``gradwise train --init-from MODEL``: start from the layers of a model the command saved.

The new CSV is encoded with the pretrained model's column encoding (its one-hot levels, fills
and input standardization), so the reused layers see the features they learned from. Every
layer but the output one is copied with its weights; a new output layer fits the new target.
With ``--freeze`` the copied layers keep their weights (feature extraction); without it they
are fine-tuned with the new layer.
"""
import numpy as np


def load(args):
    """``(loaded, pretrained)``: the tuple :func:`gradwise.cli.data.load` returns, with the
    features encoded as the pretrained model's, and the pretrained network."""
    from . import data as _cli_data
    from ..tabular.csv import _as_numbers, _task, complete
    from ..tabular.spec import feature_names
    check_options(args)
    pretrained, facts = _read(args.init_from)
    spec = facts["columns"]
    if args.target in [column["name"] for column in spec]:
        raise ValueError(f"--target: {args.target!r} is an input column of the pretrained "
                         "model; predict a column it did not read.")
    impute = facts.get("impute") is not None
    X, y_cells = _cli_data.load_split_file(args.data, "--data", spec, args.target, impute,
                                           args.encoding)
    y_cells = [str(cell) for cell in y_cells]
    if impute:  # with the pretrained model's fills, as its layers saw the data
        X, _ = complete(X, spec)
    y_numbers = _as_numbers(y_cells)
    task = args.task if args.task != "auto" else _task(y_numbers, len(y_cells))
    if task == "regression" and y_numbers is None:
        raise ValueError(f"--task: regression needs a numeric target; column {args.target!r} "
                         "has text.")
    y = np.array(y_cells) if y_numbers is None else y_numbers
    description = (f"{args.data} ({len(X)} rows, encoded as {args.init_from}'s "
                   f"{len(spec)} columns, target {args.target!r})")
    loaded = (X, y, task, description, feature_names(spec), spec, args.target)
    return loaded, pretrained


def network(pretrained, outputs, task, learning_rate, freeze, seed):
    """The pretrained layers up to its output layer (copied, frozen with ``freeze``), a new
    output layer for ``outputs``, compiled as the command's networks are."""
    import gradwise as gw
    last = max(i for i, layer in enumerate(pretrained.layers)
               if isinstance(layer, gw.layers.Dense))
    layers = gw.transfer.reuse_layers(pretrained, last, freeze=freeze)
    layers.append(gw.layers.Dense(outputs, activation="softmax" if outputs > 1 else None))
    from .data import compile_network
    return compile_network(gw.Sequential(layers, input_dim=pretrained.input_dim, seed=seed),
                           task, learning_rate)


def check_options(args):
    """Refuse, before any work, the options that ``--init-from`` leaves unused: the columns are
    encoded as the pretrained model's, its layers (and their regularization) are reused."""
    if args.data is None or not args.target:
        raise ValueError("--init-from: give the CSV to train on with --data and its target "
                         "with --target.")
    given = [option for option, value in (("--impute", args.impute), ("--drop", args.drop),
                                          ("--categorical", args.categorical),
                                          ("--embed-threshold", args.embed_threshold),
                                          ("--dev-data", args.dev_data),
                                          ("--test-data", args.test_data),
                                          ("--repeats", args.repeats),
                                          ("--cv", args.cv)) if value is not None]
    if given:
        raise ValueError(f"--init-from: the columns are encoded as the pretrained model's; "
                         f"{', '.join(given)} cannot be combined with it.")
    layers = [option for option, value in (("--hidden", args.hidden), ("--l2", args.l2),
                                           ("--dropout", args.dropout))
              if value is not None and value != 0]
    if layers:
        raise ValueError(f"--init-from: the network is the pretrained model's layers and a new "
                         f"output layer; {', '.join(layers)} cannot be combined with it.")


def _read(path):
    from . import data as _cli_data
    model, facts = _cli_data.read_cli_model(path, "--init-from")
    if facts["kind"] != _cli_data.METADATA_KIND:
        raise ValueError(f"--init-from: {path!r} is an anomaly detector; start from a model "
                         "saved by 'gradwise train' or 'tune'.")
    return model, facts
