"""Layers: ``Dense``, activation layers, ``Dropout``, ``AlphaDropout``, ``BatchNormalization``,
``LayerNormalization``, ``Normalization``, ``GaussianNoise``, ``Residual`` blocks and the
variational autoencoder's ``Sampling``."""
from .._registry import resolve
from .activation import ELU, Activation, LeakyReLU, PReLU, RReLU
from .base import Layer
from .dense import Dense
from .dropout import AlphaDropout, Dropout
from .noise import GaussianNoise
from .normalization import BatchNormalization, LayerNormalization, Normalization
from .residual import Residual
from .sampling import Sampling

_REGISTRY = {cls.__name__: cls for cls in (
    Dense, Activation, LeakyReLU, RReLU, PReLU, ELU, Dropout, BatchNormalization, GaussianNoise,
    Normalization, Residual, LayerNormalization, AlphaDropout, Sampling)}


def serialize(layer):
    """``{"class_name": ..., "config": ...}`` for a layer."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config):
    """Build a layer from :func:`serialize`'s output; unknown types raise ``ValueError``."""
    if not isinstance(config, dict) or config.get("class_name") not in _REGISTRY:
        name = config.get("class_name") if isinstance(config, dict) else config
        raise ValueError(f"Unknown layer type {name!r}; expected one of {sorted(_REGISTRY)}.")
    return resolve(config, _REGISTRY, "layer", "layers")


def register(cls):
    """Make a user-defined ``Layer`` subclass loadable from configs and model files."""
    _REGISTRY[cls.__name__] = cls
    return cls


__all__ = ["Layer", "Dense", "Activation", "LeakyReLU", "RReLU", "PReLU", "ELU", "Dropout",
           "BatchNormalization", "GaussianNoise", "Normalization", "Residual", "LayerNormalization",
           "AlphaDropout", "Sampling", "serialize", "deserialize", "register"]
