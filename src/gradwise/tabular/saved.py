"""Model files written by the ``gradwise`` command: reading them back with the facts of their
column encoding, and scoring rows with a saved anomaly detector.

A classifier or regressor's metadata has ``kind`` :data:`METADATA_KIND`, its ``task``,
``target``, ``columns`` (the encoding of :func:`gradwise.tabular.csv.read_csv`), ``impute``,
``classes``, ``positive``, ``y_mean`` and ``y_std``. A detector's has ``kind``
:data:`ANOMALY_KIND`, its ``columns``, ``impute``, ``label``, the standardization ``mean`` and
``scale`` and the ``threshold`` on the reconstruction error.
"""
import numpy as np

from .errors import TableError

METADATA_KIND = "gradwise-cli-model"
ANOMALY_KIND = "gradwise-cli-anomalies"


def read_saved_model(path):
    """``(model, facts)``: the network of a model file the command wrote, and its metadata.

    Raises
    ------
    TableError
        About ``path``: the file cannot be loaded, or lacks the column encoding.
    """
    from ..io.loading import load_model
    try:
        model = load_model(path)
    except (OSError, ValueError) as error:
        raise TableError("path", f"cannot load {path!r}: {error}") from None
    facts = model.metadata
    if facts.get("kind") not in (METADATA_KIND, ANOMALY_KIND):
        raise TableError("path", f"{path!r} was not saved by 'gradwise train', 'tune' or "
                                 "'anomalies'", "not-saved")
    return model, facts


def saved_errors(model, facts, X):
    """``(autoencoder, Z, errors)`` of a saved detector (``model`` loaded from its file,
    ``facts`` its metadata) on encoded rows ``X``: the standardized rows
    ``Z = (X - mean) / scale`` and their mean squared reconstruction errors, shape (n_rows,)."""
    from ..autoencoder import Autoencoder
    autoencoder = Autoencoder._from_model(model)
    Z = (X - np.asarray(facts["mean"])) / np.asarray(facts["scale"])
    return autoencoder, Z, autoencoder._errors(Z)
