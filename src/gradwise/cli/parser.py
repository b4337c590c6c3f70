"""The ``gradwise`` command line's arguments: one parser per command, shared option groups."""
import argparse
import math
import re

from . import (anomalies as _cli_anomalies, demo as _cli_demo, gradcheck as _cli_gradcheck,
               info as _cli_info)
from .data import EMBED_THRESHOLD, HIDDEN
from .guard import seed, shown
from .stream import add_memory_budget as _add_memory_budget

_DESCRIPTION = ("Train, tune and inspect deep feed-forward networks on your CSV files "
                "(or on scikit-learn's digits), predict new rows, and find anomalous rows.")
_EPILOG = """examples:
  gradwise demo-data                               # the example CSV files below, made up
  gradwise train                                   # digits, 64-128-128-10 ReLU, Adam
  gradwise train --data houses.csv --target price  # your CSV (regression or classification)
  gradwise tune --trials 30 --jobs 2               # hyperparameter search on digits (Optuna)
  gradwise train --data churn.csv --target churned --save churn.npz --report churn.html
  gradwise predict --model churn.npz --data new_customers.csv --out predictions.csv
  gradwise anomalies --data payments.csv --drop id --label fraud   # the label only scores
  gradwise info --model churn.npz                  # how a saved model was made, its results
  gradwise export --model churn.npz --onnx churn.onnx  # for onnxruntime, encoding included
  gradwise gradcheck --model churn.npz             # backprop against finite differences
"""


#: The largest value of each count option: far above any sensible run, so that a mistyped
#: number (``--epochs 99999999999999999999``) is refused by name here instead of failing deep
#: in NumPy or running for ever. Memory bounds the network's widths (``--hidden``) instead.
MOST = {"epochs": 1_000_000, "patience": 1_000_000, "batch-size": 100_000_000,
        "cv": 1_000_000, "repeats": 10_000, "trials": 1_000_000, "jobs": 10_000,
        "explain": 1_000_000, "rows": 10_000, "embed-threshold": 1_000_000_000}


def positive_int(most):
    """argparse type: an integer from 1 to ``most`` (the option's name is added by argparse)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = 0
        if not 1 <= value <= most:
            bound = f", at most {most}" if value > most else ""
            raise argparse.ArgumentTypeError(f"expected a positive integer{bound}, received "
                                             f"{shown(text)}")
        return value
    return parse


def _count(option):
    """argparse type of the count ``--option`` (a key of :data:`MOST`)."""
    return positive_int(MOST[option])


def finite_float(text):
    """argparse type: a finite number (NaN and infinity are refused by name here)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {shown(text)}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, received {shown(text)}")
    return value


def _add_data_options(command):
    command.add_argument("--data", help="table with a header row: .csv, .tsv, .parquet or a "
                                        "folder of Parquet files (default: scikit-learn's "
                                        "digits)")
    command.add_argument("--target", help="name of the target column of --data")
    command.add_argument("--task", choices=["auto", "classification", "regression"], default="auto",
                         help="auto: classification for a text target or a few integers, "
                              "regression otherwise")
    command.add_argument("--seed", type=seed, default=0,
                         help="seeds the train/dev/test split and the initialization (default 0)")
    command.add_argument("--test-data", metavar="FILE",
                         help="a test set of its own (same columns as --data); --data then "
                              "splits 75/25 into train and dev")
    command.add_argument("--dev-data", metavar="FILE",
                         help="a dev set of its own (needs --test-data, from the same "
                              "distribution); --data then keeps 10%% as a train-dev set, which "
                              "tells variance from data mismatch")
    _add_column_options(command)
    command.add_argument("--embed-threshold", type=_count("embed-threshold"), metavar="LEVELS",
                         help="text columns with more distinct values than this get learned "
                              "embedding vectors (about 1.6 * levels**0.56 wide, at most 16) "
                              f"instead of one-hot features (default {EMBED_THRESHOLD})")
    command.add_argument("--human-error", type=finite_float, metavar="ERROR",
                         help="human-level (Bayes) error for the bias/variance diagnosis: an "
                              "error rate for classes, an MSE of standardized targets otherwise "
                              "(default 0)")
    command.add_argument("--class-weight", choices=["none", "balanced"], default="none",
                         help="balanced: weight each class by the inverse of its frequency in "
                              "the training split, for imbalanced classes")


def _add_column_options(command):
    """How the columns of --data become features."""
    add_encoding_option(command)
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


def add_encoding_option(command):
    command.add_argument("--encoding", default="utf-8",
                         help="text encoding of a CSV --data file, e.g. latin-1 or cp1252 "
                              "(default utf-8)")


class _Parser(argparse.ArgumentParser):
    """argparse's parser whose errors are one ``gradwise: error:`` line (exit status 2).

    A value that starts with a minus sign and a digit (``-1G``, ``-1e-3``, ``-5,3``), or is
    ``-inf``, is the option's value, as a plain negative number is: no option looks like that.
    argparse itself reads ``-1`` and ``-1.5`` as values (3.14 also ``-1e-3``) but anything else
    as an option, and says "expected one argument" of ``--memory-budget -1G`` instead of what
    is wrong with -1G.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"^-(\.?\d|inf)", re.IGNORECASE)

    def error(self, message):
        command = self.prog.split()[1:] if self.prog != "gradwise" else []
        see = f" (see gradwise {' '.join(command)} --help)" if command else " (see gradwise --help)"
        self.exit(2, f"gradwise: error: {message}{see}\n")


def _parser():
    parser = _Parser(prog="gradwise", description=_DESCRIPTION, epilog=_EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"gradwise {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="on an error, show the Python traceback too")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_train_parser(commands)
    _add_tune_parser(commands)
    _add_predict_parser(commands)
    _cli_anomalies.add_parser(commands, _add_column_options, _count("epochs"))
    _cli_info.add_parser(commands)
    _cli_info.add_export_parser(commands)
    _cli_gradcheck.add_parser(commands, _add_column_options, _count("rows"))
    _cli_demo.add_parser(commands)
    for command in commands.choices.values():  # --debug after the command name works too
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="on an error, show the Python traceback too")
    return parser


def _add_train_parser(commands):
    train = commands.add_parser("train", help="train a network and report train/dev/test results")
    _add_data_options(train)
    train.add_argument("--hidden", help=f"hidden layer sizes, e.g. 64,32 (default {HIDDEN})")
    train.add_argument("--epochs", type=_count("epochs"), default=100,
                       help="at most this many epochs (default 100); early stopping on dev")
    train.add_argument("--batch-size", type=_count("batch-size"), default=64,
                       help="mini-batch size (default 64)")
    train.add_argument("--learning-rate", type=float, default=1e-3,
                       help="Adam's learning rate (default 0.001)")
    train.add_argument("--l2", type=float, default=0.0,
                       help="L2 penalty lam/2 * sum(W**2) on every kernel (default 0)")
    train.add_argument("--dropout", type=float, default=0.0,
                       help="inverted-dropout rate after every hidden layer (default 0)")
    train.add_argument("--patience", type=_count("patience"), default=10,
                       help="epochs without a better dev loss before stopping (default 10)")
    train.add_argument("--quiet", action="store_true", help="do not print the loss per epoch")
    train.add_argument("--init-from", metavar="MODEL.npz",
                       help="start from a model saved by train/tune --save: its columns' "
                            "encoding and all its layers but the output one (transfer learning)")
    train.add_argument("--freeze", action="store_true",
                       help="with --init-from: keep the copied layers' weights, train only the "
                            "new output layer")
    _add_memory_budget(train, "one pass of statistics, then shuffled batches each epoch")
    train.add_argument("--cv", type=_count("cv"), metavar="K",
                       help="K-fold cross-validation: each fold the test set once (the other "
                            "rows split 75/25 into train and dev); prints each fold's test "
                            "scores with their mean and standard deviation")
    train.add_argument("--repeats", type=_count("repeats"), metavar="N",
                       help="train N times with seeds --seed .. --seed+N-1 (another split and "
                            "initialization each) and print each run's test scores with their "
                            "mean and standard deviation")
    _add_output_options(train)


def _add_tune_parser(commands):
    tune = commands.add_parser(
        "tune", help="search the learning rate, then momentum, batch size, width, depth and "
                     "decay, with L2 and dropout (needs Optuna), then train the best "
                     "configuration and report train/dev/test results")
    _add_data_options(tune)
    tune.add_argument("--trials", type=_count("trials"), default=20, help="number of trials")
    tune.add_argument("--sampler", choices=["bayesian", "random", "gp"], default="bayesian",
                      help="bayesian: Optuna's TPE; random: random search; gp: a Gaussian process "
                           "with expected improvement (scikit-learn)")
    tune.add_argument("--strategy", choices=["direct", "coarse-to-fine"], default="direct",
                      help="coarse-to-fine: half the trials on the whole space, the other half "
                           "around the best quarter of them (default direct)")
    tune.add_argument("--space", default="3", metavar="N",
                      help="how many tiers of hyperparameters to search, most important first: "
                           "1 learning-rate; 2 momentum-batch-units (Adam's beta_1, batch size, "
                           "units); 3 layers-decay (layers, learning-rate decay); 4 all (Adam's "
                           "beta_2); L2 and dropout always (default 3)")
    tune.add_argument("--jobs", type=_count("jobs"), default=1,
                      help="trials run in parallel processes")
    tune.add_argument("--quiet", action="store_true",
                      help="do not print a line per finished trial")
    tune.add_argument("--epochs", type=_count("epochs"), default=30, help="epochs per trial")
    tune.add_argument("--batch-size", type=_count("batch-size"), default=64,
                      help="mini-batch size with --space 1 (from tier 2 the batch size is "
                           "searched; default 64)")
    tune.add_argument("--patience", type=_count("patience"), default=10,
                      help="early-stopping patience")
    tune.add_argument("--pruner", choices=["median", "hyperband", "successive-halving"],
                      default="median",
                      help="how hopeless trials are stopped: median rule, Hyperband, or "
                           "successive halving (default median)")
    tune.add_argument("--no-pruning", action="store_true", help="run every trial to the end")
    tune.add_argument("--storage", metavar="URL",
                      help="keep the study in a database (sqlite:///tune.db, postgresql://...): "
                           "runs with the same --study resume it, machines share it")
    tune.add_argument("--study", default="gradwise-tune", help="study name in --storage")
    _add_output_options(tune)


def _add_predict_parser(commands):
    predict = commands.add_parser(
        "predict", help="predict the rows of a CSV with a model saved by train/tune --save, "
                        "or score them with a detector saved by anomalies --save")
    predict.add_argument("--model", required=True, help="model file written by --save")
    predict.add_argument("--data", required=True,
                         help="table (.csv, .tsv, .parquet or a folder of Parquet files) with "
                              "the training's feature columns")
    add_encoding_option(predict)
    predict.add_argument("--out", help="CSV file for the predictions (default: print them)")
    _add_memory_budget(predict, "each batch encoded, predicted and written before the next is "
                               "read")
    predict.add_argument("--explain", type=_count("explain"), metavar="K",
                         help="add each row's K columns that moved its prediction most "
                              "(gradient times input from the training mean, in log-odds of the "
                              "predicted class or in target units)")
    predict.add_argument("--threshold", type=float,
                         help="two classes: predict the positive (rarer) class where its "
                              "probability reaches this value (default: the likelier class); "
                              "--report suggests the one that maximizes F1 on the dev split")


def _add_output_options(command):
    command.add_argument("--report", metavar="FILE.html",
                         help="write an HTML report (learning curves, errors, diagnosis)")
    command.add_argument("--save", metavar="FILE.npz",
                         help="save the model with its column encoding, for gradwise predict")
