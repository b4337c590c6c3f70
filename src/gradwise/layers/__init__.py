"""Layers: ``Dense``, activation layers, ``Dropout``, ``AlphaDropout``, ``BatchNormalization``,
``LayerNormalization``, ``Normalization``, ``GaussianNoise``, ``Residual`` blocks, the
variational autoencoder's ``Sampling`` and ``CategoryEmbedding``."""
from .._registry import family, register, resolve, serialize
from .activation import ELU, Activation, LeakyReLU, PReLU, RReLU
from .base import Layer
from .dense import Dense
from .dropout import AlphaDropout, Dropout
from .embedding import CategoryEmbedding
from .noise import GaussianNoise
from .normalization import BatchNormalization, LayerNormalization, Normalization
from .residual import Residual
from .sampling import Sampling

_REGISTRY = {cls.__name__: cls for cls in (
    Dense, Activation, LeakyReLU, RReLU, PReLU, ELU, Dropout, BatchNormalization, GaussianNoise,
    Normalization, Residual, LayerNormalization, AlphaDropout, Sampling,
    CategoryEmbedding)}

family(Layer, _REGISTRY, "layer")


def deserialize(config):
    """Build a layer from :func:`serialize`'s output; unknown types raise ``ValueError``."""
    if not isinstance(config, dict) or config.get("class_name") not in _REGISTRY:
        name = config.get("class_name") if isinstance(config, dict) else config
        raise ValueError(f"Unknown layer type {name!r}; expected one of {sorted(_REGISTRY)} "
                         "(a layer of your own loads once decorated with @gw.register).")
    return resolve(config, _REGISTRY, "layer", "layers")

# ``register`` is ``gw.register``, kept here under its earlier name ``gw.layers.register``.


__all__ = ["Layer", "Dense", "Activation", "LeakyReLU", "RReLU", "PReLU", "ELU", "Dropout",
           "BatchNormalization", "GaussianNoise", "Normalization", "Residual", "LayerNormalization",
           "AlphaDropout", "Sampling", "CategoryEmbedding", "serialize", "deserialize", "register"]
