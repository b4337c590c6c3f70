"""Optimizers that update one flat parameter buffer in place (clipping in :mod:`.clipping`).

Update rules as documented for ``torch.optim``, hyperparameters named as in Keras; every class
also takes the keyword arguments of :class:`Optimizer` (clipping, ``name``). A step is a handful
of in-place ufuncs over the whole buffer into scratch arrays allocated once.

Examples
--------
>>> import numpy as np
>>> from gradwise import optimizers
>>> params, grads = np.array([1.0, -2.0]), np.array([0.5, 0.5])
>>> optimizers.get("sgd").update(params, grads)
>>> params
array([ 0.995, -2.005])
"""
from .._registry import family, resolve, serialize
from .clipping import clip_gradients
from .adam import Adam, AdamW, Nadam
from .adaptive import Adagrad, RMSprop
from .base import Optimizer
from .lbfgs import LBFGS
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Nadam", "LBFGS",
           "clip_gradients", "get", "serialize"]


_REGISTRY = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam,
             "adamw": AdamW, "nadam": Nadam, "lbfgs": LBFGS}
_REGISTRY.update({cls.__name__: cls for cls in list(_REGISTRY.values())})
family(Optimizer, _REGISTRY, "optimizer")


def get(identifier, argument="optimizer"):
    """Return an optimizer from a name (``"adam"``), a config dict or an optimizer object;
    errors name ``argument``."""
    return resolve(identifier, _REGISTRY, "optimizer", argument, accept=(Optimizer,))
