"""Inverted dropout (Srivastava et al. 2014)."""
from ..backend import xp
from .base import Layer, _rate


class Dropout(Layer):
    """Drops each unit with probability ``rate`` during training.

    Survivors are scaled by ``1 / (1 - rate)`` so the expected activation is unchanged and
    inference is the identity (inverted dropout).

    Parameters
    ----------
    rate : float in [0, 1)
        Probability of dropping a unit.

    Notes
    -----
    ``keep = (u >= rate) / (1 - rate)`` with ``u ~ U[0, 1)`` per element;
    forward ``y = x * keep``, backward ``dx = dy * keep``.
    """

    stochastic = True

    def __init__(self, rate, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.rate = _rate(rate, "rate")

    def forward(self, x, training=False):
        if not training or self.deterministic or self.rate == 0.0:
            self._keep = None
            return x
        u = self._buffer("u", x.shape)
        self.rng.random(out=u, dtype=u.dtype)
        keep = self._buffer("keep", x.shape)
        xp.greater_equal(u, self.rate, out=keep, casting="unsafe")
        keep *= 1.0 / (1.0 - self.rate)
        self._keep = keep
        return xp.multiply(x, keep, out=self._buffer("y", x.shape))

    def backward(self, dy):
        if self._keep is None:
            return dy
        return xp.multiply(dy, self._keep, out=self._buffer("dx", dy.shape))

    def get_config(self):
        config = super().get_config()
        config["rate"] = self.rate
        return config
