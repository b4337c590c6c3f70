"""Reading a user's table and encoding its columns for a network.

``csv`` reads a CSV file into columns of cells and encodes them (numbers, one-hot text, ISO
dates, missing values); ``spec`` describes the saved column specification (feature names and
the column each feature came from); ``dates`` turns ISO dates into features; ``model`` serves a
saved model with its encoding (:func:`load_csv_model`).

Errors here name the table's columns, its file lines and this package's own arguments; the
command line adds its option names.
"""
from .model import CSVModel, load_csv_model

__all__ = ["CSVModel", "load_csv_model"]
