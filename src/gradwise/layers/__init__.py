"""Layers: ``Dense``, activation layers, ``Dropout``, ``AlphaDropout``, ``BatchNormalization``,
``LayerNormalization``, ``Normalization``, ``GaussianNoise``, ``Residual`` blocks, the
variational autoencoder's ``Sampling`` and ``CategoryEmbedding``."""
from .._registry import family
from .activation import ELU, Activation, LeakyReLU, PReLU, RReLU
from .base import Layer
from .dense import Dense
from .dropout import AlphaDropout, Dropout
from .embedding import CategoryEmbedding
from .noise import GaussianNoise
from .normalization import BatchNormalization, LayerNormalization, Normalization
from .registry import _REGISTRY, deserialize, register, serialize
from .residual import Residual
from .sampling import Sampling

_REGISTRY.update({cls.__name__: cls for cls in (
    Dense, Activation, LeakyReLU, RReLU, PReLU, ELU, Dropout, BatchNormalization, GaussianNoise,
    Normalization, Residual, LayerNormalization, AlphaDropout, Sampling,
    CategoryEmbedding)})

family(Layer, _REGISTRY, "layer")


# ``register`` is ``gw.register``, kept here under its earlier name ``gw.layers.register``.


__all__ = ["Layer", "Dense", "Activation", "LeakyReLU", "RReLU", "PReLU", "ELU", "Dropout",
           "BatchNormalization", "GaussianNoise", "Normalization", "Residual", "LayerNormalization",
           "AlphaDropout", "Sampling", "CategoryEmbedding", "serialize", "deserialize", "register"]
