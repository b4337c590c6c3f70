"""Inverted dropout (Srivastava et al. 2014)."""
from ..activations import SELU
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
        keep = self._draw_keep(x, training)
        if keep is None:
            return x
        keep *= 1.0 / (1.0 - self.rate)
        return xp.multiply(x, keep, out=self._buffer("y", x.shape))

    def _draw_keep(self, x, training):
        """The 0/1 mask of kept units (``u >= rate``), also kept as ``self._keep`` for the
        backward pass, which multiplies by it (scaled in place by the caller); None when the
        layer is the identity."""
        if not training or self.deterministic or self.rate == 0.0:
            self._keep = None
            return None
        u = self._buffer("u", x.shape)
        self.rng.random(out=u, dtype=u.dtype)
        self._keep = self._buffer("keep", x.shape)
        xp.greater_equal(u, self.rate, out=self._keep, casting="unsafe")
        return self._keep

    def backward(self, dy):
        if self._keep is None:
            return dy
        return xp.multiply(dy, self._keep, out=self._buffer("dx", dy.shape))

    def get_config(self):
        config = super().get_config()
        config["rate"] = self.rate
        return config


class AlphaDropout(Dropout):
    """Dropout for self-normalizing (SELU) networks (Klambauer et al. 2017).

    Dropped units are set to SELU's negative saturation ``alpha' = -scale * alpha`` instead of
    0, then an affine map ``a x + b`` restores zero mean and unit variance, so the activations
    stay normalized; identity at inference. Use it with ``selu`` and ``lecun_normal``.

    Parameters
    ----------
    rate : float in [0, 1)
        Probability of dropping a unit.

    Notes
    -----
    With ``q = 1 - rate``, ``alpha' = -1.0507009873554805 * 1.6732632423543772`` and
    ``keep`` the 0/1 mask (``u >= rate``, ``u ~ U[0, 1)``):
    ``a = (q (1 + rate alpha'^2))^(-1/2)``, ``b = -a rate alpha'``,
    forward ``y = a (x keep + alpha' (1 - keep)) + b``, backward ``dx = a keep dy``.
    Inputs of mean 0 and variance 1 give outputs of mean 0 and variance 1 (as Keras's
    ``AlphaDropout``).
    """

    #: SELU's negative saturation value, ``-scale * alpha`` (the constants SELU owns).
    ALPHA_PRIME = -SELU.scale * SELU.alpha

    def __init__(self, rate, name=None, trainable=True):
        super().__init__(rate, name=name, trainable=trainable)
        q, alpha = 1.0 - self.rate, self.ALPHA_PRIME
        self.a = (q * (1.0 + self.rate * alpha**2)) ** -0.5
        self.b = -self.a * self.rate * alpha

    def forward(self, x, training=False):
        keep = self._draw_keep(x, training)
        if keep is None:
            return x
        # y = a keep x + (a alpha' + b) - a alpha' keep; backward multiplies by a keep
        y = xp.multiply(x, keep, out=self._buffer("y", x.shape))
        y -= self.ALPHA_PRIME * keep
        y *= self.a
        y += self.a * self.ALPHA_PRIME + self.b
        keep *= self.a
        return y
