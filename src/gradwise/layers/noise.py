"""Additive Gaussian noise, a regularizer and a simple data augmentation."""
import math

from .base import Layer


class GaussianNoise(Layer):
    """Adds ``N(0, stddev**2)`` noise to its input during training; identity at inference.

    Notes
    -----
    The noise does not depend on the input, so ``dx = dy``.
    """

    stochastic = True

    def __init__(self, stddev, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        if not (isinstance(stddev, (int, float)) and math.isfinite(stddev) and stddev >= 0):
            raise ValueError(f"Expected a non-negative number, received stddev={stddev!r}")
        self.stddev = float(stddev)

    def forward(self, x, training=False):
        if not training or self.deterministic or self.stddev == 0.0:
            return x
        noise = self.rng.standard_normal(size=x.shape, dtype=x.dtype)
        noise *= self.stddev
        noise += x
        return noise

    def backward(self, dy):
        return dy

    def get_config(self):
        config = super().get_config()
        config["stddev"] = self.stddev
        return config
