"""The reparameterization trick of variational autoencoders (Kingma and Welling, 2014)."""

import numpy as np

from ..backend import xp
from .._validation import check_non_negative_number
from .base import Layer


class Sampling(Layer):
    """Draws a code ``z ~ N(mu, diag(exp(log_var)))`` from its input ``[mu, log_var]``, and adds
    ``beta`` times the Kullback-Leibler divergence from ``N(0, I)`` to the model's loss.

    Parameters
    ----------
    beta : float >= 0, default 1.0
        Weight of the KL term (1 for the ELBO; more for a beta-VAE).

    Notes
    -----
    Input ``x`` of shape (n, 2k): ``mu = x[:, :k]``, ``v = x[:, k:]`` (the log-variance).
    Training: ``z = mu + exp(v / 2) * eps`` with ``eps ~ N(0, I)`` drawn from the layer's seeded
    generator; inference: ``z = mu``. In gradient checks (``deterministic``) ``eps`` is one fixed
    draw (the same at every call), so the sampling path is checked with the noise held fixed.

    The KL term, averaged over the batch's ``n`` rows, is the layer's ``regularization_loss``:
    ``KL = (1/n) sum_i 0.5 sum_j (mu_ij^2 + exp(v_ij) - 1 - v_ij)``. Its gradient is added in
    ``backward``, with the path through ``z``:
    ``dmu = dz + beta mu / n``,
    ``dv = dz * eps * exp(v / 2) / 2 + beta (exp(v) - 1) / (2 n)``.
    """

    stochastic = True
    #: Seed of the fixed noise used when ``deterministic`` (gradient checks).
    FIXED_NOISE_SEED = 0

    def __init__(self, beta=1.0, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.beta = check_non_negative_number(beta, "beta")
        self._kl = 0.0

    def _create_params(self, input_dim, rng):
        self.output_dim(input_dim)  # an odd width fails at build
        return {}

    def output_dim(self, input_dim):
        if input_dim % 2:
            raise ValueError(f"Sampling {self.name!r}: expected an even input width "
                             f"[mu, log_var], received {input_dim} features.")
        return input_dim // 2

    def forward(self, x, training=False):
        k = x.shape[1] // 2
        mu, log_var = x[:, :k], x[:, k:]
        self._mu, self._log_var, n = mu, log_var, x.shape[0]
        self._kl = float(0.5 * xp.sum(mu * mu + xp.exp(log_var) - 1.0 - log_var)) / n
        if not training:
            self._noise = None
            return mu.copy()
        if self.deterministic:
            noise = np.random.default_rng(self.FIXED_NOISE_SEED).standard_normal(mu.shape)
            self._noise = noise.astype(x.dtype)
        else:
            self._noise = self.rng.standard_normal(size=mu.shape, dtype=x.dtype)
        self._std = xp.exp(0.5 * log_var)
        return mu + self._std * self._noise

    def backward(self, dz):
        n = dz.shape[0]
        scale = self.beta / n
        dmu = dz + scale * self._mu
        dlog_var = (0.5 * scale) * (xp.exp(self._log_var) - 1.0)
        if self._noise is not None:
            dlog_var += 0.5 * dz * self._noise * self._std
        return xp.concatenate([dmu, dlog_var], axis=1)

    @property
    def regularized(self):
        return self.beta > 0

    def regularization_loss(self):
        """``beta`` times the mean KL divergence of the last forward pass's batch."""
        return self.beta * self._kl

    def add_regularization_gradients(self):
        pass  # the KL gradient flows to the input; backward adds it

    def get_config(self):
        config = super().get_config()
        config["beta"] = self.beta
        return config
