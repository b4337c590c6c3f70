"""gradwise: deep feed-forward networks on NumPy, with the practice of training well.

>>> import gradwise as gw
>>> model = gw.Sequential([gw.layers.Dense(64, activation="relu"),
...                        gw.layers.Dense(10, activation="softmax")], input_dim=64, seed=0)
>>> model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
"""
from . import (activations, callbacks, initializers, layers, losses, metrics, optimizers,
               regularizers, schedules)
from .gradcheck import check_layer, gradcheck
from .model import Sequential
from . import explain, transfer
from .diagnostics import GradientHealth, diagnose
from . import augmentation, data, io
from .data import Standardizer, train_dev_test_split
from .io import load_model, save_model
from .lr_finder import find_learning_rate
from .estimators import MLPClassifier, MLPRegressor

__version__ = "0.1.0"

__all__ = ["Sequential", "MLPClassifier", "MLPRegressor", "activations", "callbacks", "initializers", "layers", "losses",
           "metrics", "optimizers", "regularizers", "schedules", "gradcheck", "check_layer",
           "augmentation", "data", "io", "Standardizer", "train_dev_test_split", "load_model",
           "save_model", "find_learning_rate",
           "explain", "transfer", "diagnose", "GradientHealth"]
