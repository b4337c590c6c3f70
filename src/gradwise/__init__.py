"""gradwise: deep feed-forward networks on NumPy, with the practice of training well.

>>> import gradwise as gw
>>> model = gw.Sequential([gw.layers.Dense(64, activation="relu"),
...                        gw.layers.Dense(10, activation="softmax")], input_dim=64, seed=0)
>>> model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
"""
import importlib as _importlib

from . import (activations, callbacks, explain, initializers, io, layers, losses, metrics,
               optimizers, regularizers, schedules, transfer)
from .diagnostics import GradientHealth, diagnose
from .gradcheck import check_layer, gradcheck
from ._registry import register
from .io import export_onnx, load_model, save_model
from .layers.normalization import recompute_batch_statistics
from .lr_finder import find_learning_rate
from .autoencoder import Autoencoder, VariationalAutoencoder
from .model import Sequential
from ._training import TrainingDiverged
from .backend.threads import set_num_threads

__version__ = "0.1.0"

# Names whose modules import scikit-learn or SciPy load on first use, so that
# ``import gradwise`` stays fast (the engine itself needs only NumPy).
_LAZY = {
    "MLPClassifier": ("estimators", "MLPClassifier"),
    "MLPRegressor": ("estimators", "MLPRegressor"),
    "Standardizer": ("data", "Standardizer"),
    "train_dev_test_split": ("data", "train_dev_test_split"),
    "data": ("data", None),
    "augmentation": ("augmentation", None),
    "estimators": ("estimators", None),
    "AutoencoderAnomalyDetector": ("estimators.anomaly", "AutoencoderAnomalyDetector"),
    "report": ("report", None),
    "tuning": ("tuning", None),
    "tune": ("tuning", "tune"),
    "load_csv_model": ("tabular.model", "load_csv_model"),
    "CSVModel": ("tabular.model", "CSVModel"),
    "csv_model": ("tabular.model", None),
    "tabular": ("tabular", None),
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'gradwise' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = _importlib.import_module(f".{module_name}", __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["Sequential", "MLPClassifier", "MLPRegressor", "activations", "callbacks",
           "initializers", "layers", "losses", "metrics", "optimizers", "regularizers",
           "schedules", "gradcheck", "check_layer", "augmentation", "data", "io", "Standardizer",
           "train_dev_test_split", "load_model", "save_model", "find_learning_rate", "explain",
           "transfer", "diagnose", "GradientHealth", "estimators", "set_num_threads",
           "Autoencoder", "VariationalAutoencoder", "AutoencoderAnomalyDetector", "report",
           "export_onnx", "tuning", "tune", "load_csv_model", "CSVModel", "TrainingDiverged",
           "recompute_batch_statistics", "register"]
