"""Losses with mean reduction and exact gradients.

``loss(y_true, y_pred)`` is a float, ``loss.gradient(y_true, y_pred)`` exactly its derivative
(shaped like ``y_pred``), ``loss.value_and_gradient`` both in one pass (the training loop's call).
With ``from_logits=True`` the cross-entropies take logits: the model fuses them with its final
sigmoid/softmax. Example: ``get("mse")([[0.0, 0.0]], [[1.0, 2.0]])`` is 2.5.
"""
from .._registry import family, resolve, serialize
from .base import EPSILON, Loss
from .crossentropy import BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy
from .hinge import SquaredHinge
from .likelihood import NegativeLogLikelihood
from .regression import Huber, LogCosh, MeanAbsoluteError, MeanSquaredError, Poisson

__all__ = ["Loss", "MeanSquaredError", "MeanAbsoluteError", "Huber", "BinaryCrossentropy",
           "CategoricalCrossentropy", "BinaryFocalCrossentropy", "Poisson", "LogCosh",
           "SquaredHinge", "NegativeLogLikelihood", "get", "serialize", "EPSILON"]


_REGISTRY = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "huber": Huber,
    "bce": BinaryCrossentropy, "binary_crossentropy": BinaryCrossentropy,
    "cce": CategoricalCrossentropy, "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": CategoricalCrossentropy,
    "focal": BinaryFocalCrossentropy, "binary_focal_crossentropy": BinaryFocalCrossentropy,
    "poisson": Poisson, "log_cosh": LogCosh, "logcosh": LogCosh, "squared_hinge": SquaredHinge,
    "negative_log_likelihood": NegativeLogLikelihood,
}
_REGISTRY.update({cls.__name__: cls for cls in set(_REGISTRY.values())})
family(Loss, _REGISTRY, "loss")


def get(identifier):
    """Return a loss from a name (``"mse"``), a config dict or a `Loss` object.

    Raises
    ------
    ValueError
        Unknown name or malformed config.
    TypeError
        Any other kind of identifier.
    """
    return resolve(identifier, _REGISTRY, "loss", "loss", accept=(Loss,))
