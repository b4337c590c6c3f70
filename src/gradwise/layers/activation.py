"""Activation layers: a named activation, and the ReLU variants with their own parameters."""
import math

from .. import activations
from ..backend import xp
from .base import Layer


class Activation(Layer):
    """Applies an activation function element-wise (row-wise for softmax).

    Parameters
    ----------
    activation : str or gradwise.activations.Activation
    """

    def __init__(self, activation, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.activation = activations.get(activation)
        self.fused_output = False

    def forward(self, x, training=False):
        self._z = x
        if self.fused_output:
            self._a = x
            return x
        self._a = self.activation.forward(x, out=self._buffer("a", x.shape) if training else None)
        return self._a

    def backward(self, dy):
        if self.fused_output:
            return dy
        return self.activation.backward(self._z, self._a, dy, out=self._buffer("dx", dy.shape))

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class LeakyReLU(Activation):
    """``max(z, alpha * z)`` with a fixed small slope ``alpha`` (default 0.01)."""

    def __init__(self, alpha=0.01, name=None, trainable=True):
        super().__init__(activations.LeakyReLU(alpha), name=name, trainable=trainable)
        self.alpha = self.activation.alpha

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "alpha": self.alpha}


class ELU(Activation):
    """Exponential linear unit with parameter ``alpha`` (default 1.0)."""

    def __init__(self, alpha=1.0, name=None, trainable=True):
        super().__init__(activations.ELU(alpha), name=name, trainable=trainable)
        self.alpha = self.activation.alpha

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "alpha": self.alpha}


class RReLU(Layer):
    """Randomized leaky ReLU (Xu et al. 2015).

    In training each negative input gets its own slope drawn uniformly from
    ``[lower, upper]``; at inference (and in gradient checks) the slope is the mean
    ``(lower + upper) / 2``.
    """

    stochastic = True

    def __init__(self, lower=1 / 8, upper=1 / 3, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        if not (math.isfinite(lower) and math.isfinite(upper) and 0 <= lower <= upper):
            raise ValueError(
                f"Expected 0 <= lower <= upper, received lower={lower}, upper={upper}")
        self.lower, self.upper = float(lower), float(upper)

    def forward(self, x, training=False):
        if training and not self.deterministic:
            slope = self.rng.uniform(self.lower, self.upper, size=x.shape).astype(x.dtype)
        else:
            slope = xp.asarray((self.lower + self.upper) / 2, dtype=x.dtype)
        self._slope = xp.where(x > 0, xp.asarray(1, dtype=x.dtype), slope)
        return x * self._slope

    def backward(self, dy):
        return dy * self._slope

    def get_config(self):
        config = super().get_config()
        config.update(lower=self.lower, upper=self.upper)
        return config


class PReLU(Layer):
    """Parametric ReLU (He et al. 2015): ``max(z, 0) + alpha * min(z, 0)`` with a learned
    slope ``alpha`` per unit, shape (units,), initialised to ``alpha_initializer`` (0.25).

    Notes
    -----
    ``d alpha = sum_rows(dy * min(z, 0))``, ``dz = dy`` where ``z > 0``, else ``alpha * dy``.
    """

    def __init__(self, alpha_initializer=0.25, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.alpha_initializer = float(alpha_initializer)

    def _create_params(self, input_dim, rng):
        return {"alpha": xp.full((input_dim,), self.alpha_initializer)}

    def forward(self, x, training=False):
        self._x = x
        self._neg = xp.minimum(x, 0)
        return xp.maximum(x, 0) + self.params["alpha"] * self._neg

    def backward(self, dy):
        if self.trainable:
            xp.sum(dy * self._neg, axis=0, out=self.grads["alpha"])
        return xp.where(self._x > 0, dy, dy * self.params["alpha"])

    def get_config(self):
        config = super().get_config()
        config["alpha_initializer"] = self.alpha_initializer
        return config
