"""Batch normalization (Ioffe & Szegedy 2015)."""
import math

from .._backend import xp
from .base import Layer


class BatchNormalization(Layer):
    """Normalizes each unit over the batch, then scales by ``gamma`` and shifts by ``beta``.

    Parameters
    ----------
    momentum : float, default 0.99
        ``running = momentum * running + (1 - momentum) * batch``.
    epsilon : float, default 1e-3
        Added to the variance before the square root.

    Notes
    -----
    Training, for a batch ``x`` of shape (n, d):
    ``mu = mean(x)``, ``var = mean((x - mu)**2)`` (biased), ``xhat = (x - mu) / sqrt(var + eps)``,
    ``y = gamma * xhat + beta``. Inference, and training while frozen (``trainable=False``),
    use ``running_mean`` and ``running_var`` instead.
    Backward (training): ``dgamma = sum(dy * xhat)``, ``dbeta = sum(dy)``,
    ``dx = (gamma / sqrt(var + eps)) * (dy - mean(dy) - xhat * mean(dy * xhat))``.
    Parameters: ``gamma``, ``beta`` (trainable); ``running_mean``, ``running_var`` (state):
    4 numbers per unit, 2 of them trainable.
    """

    def __init__(self, momentum=0.99, epsilon=1e-3, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        if not (0.0 <= momentum < 1.0):
            raise ValueError(f"Expected a number in [0, 1), received momentum={momentum}")
        if not (math.isfinite(epsilon) and epsilon > 0):
            raise ValueError(f"Expected a positive number, received epsilon={epsilon}")
        self.momentum, self.epsilon = float(momentum), float(epsilon)

    def _create_params(self, input_dim, rng):
        return {"gamma": xp.ones(input_dim), "beta": xp.zeros(input_dim)}

    def _create_state(self, input_dim):
        return {"running_mean": xp.zeros(input_dim), "running_var": xp.ones(input_dim)}

    def forward(self, x, training=False):
        # A frozen batch norm runs in inference mode, as in Keras: fine-tuning on top of it
        # must not shift the statistics the pretrained layers after it were trained with.
        if not training or not self.trainable:
            self._xhat = None
            self._inv_std = 1.0 / xp.sqrt(self.state["running_var"] + self.epsilon)
            return (x - self.state["running_mean"]) * (self._inv_std * self.params["gamma"]) + self.params["beta"]
        mean = x.mean(axis=0)
        centered = x - mean
        var = xp.einsum("ij,ij->j", centered, centered) / x.shape[0]
        self._inv_std = 1.0 / xp.sqrt(var + self.epsilon)
        self._xhat = centered
        self._xhat *= self._inv_std
        if not self.deterministic:
            self._update_running(mean, var)
        return self._xhat * self.params["gamma"] + self.params["beta"]

    def _update_running(self, mean, var):
        m = self.momentum
        self.state["running_mean"] *= m
        self.state["running_mean"] += (1 - m) * mean
        self.state["running_var"] *= m
        self.state["running_var"] += (1 - m) * var

    def backward(self, dy):
        if self._xhat is None:  # inference mode: a fixed affine map per unit
            return dy * (self._inv_std * self.params["gamma"])
        xhat = self._xhat
        dgamma = xp.einsum("ij,ij->j", dy, xhat)
        dbeta = dy.sum(axis=0)
        if self.trainable:
            self.grads["gamma"][...] = dgamma
            self.grads["beta"][...] = dbeta
        n = dy.shape[0]
        dx = xhat * (dgamma / n)
        dx += dbeta / n
        xp.subtract(dy, dx, out=dx)
        dx *= self._inv_std * self.params["gamma"]
        return dx

    def get_config(self):
        config = super().get_config()
        config.update(momentum=self.momentum, epsilon=self.epsilon)
        return config
