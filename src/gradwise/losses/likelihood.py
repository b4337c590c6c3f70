"""Negative log-likelihoods of whole rows, for models of the data such as variational autoencoders."""
import math

from .base import Loss, _check_bool
from .crossentropy import BinaryCrossentropy

DISTRIBUTIONS = ("bernoulli", "gaussian")


class NegativeLogLikelihood(Loss):
    """``-log p(x | output)`` summed over a row's features, mean over rows.

    A proper likelihood, so that ``loss + KL`` is the negative ELBO of a variational
    autoencoder in nats per row.

    Parameters
    ----------
    distribution : {"bernoulli", "gaussian"}, default "bernoulli"
        ``"bernoulli"``: ``x`` in {0, 1} (values in [0, 1] are accepted, read as the
        cross-entropy, which is not a normalized density for grey levels), the output the
        probabilities ``p`` (a sigmoid output, fused from logits by the model).
        ``"gaussian"``: ``x`` real, ``N(x; m, 1)`` with the output the mean ``m`` (a linear
        output) and unit variance.
    from_logits : bool, default False
        Bernoulli only: the output is the logits ``z`` of ``p``.

    Notes
    -----
    Per row ``i``, summed over features ``j`` and divided by ``n`` rows:
    Bernoulli, ``-(x log p + (1 - x) log(1 - p))`` (``p`` clipped to ``[1e-7, 1 - 1e-7]``), or
    from logits ``max(z, 0) - x z + log(1 + exp(-|z|))``, gradient ``(p - x)/(p (1 - p))`` or
    ``sigmoid(z) - x``, as :class:`BinaryCrossentropy` per element;
    Gaussian, ``(x - m)^2 / 2 + log(2 pi) / 2``, gradient ``m - x``.
    """

    name = "negative_log_likelihood"

    def __init__(self, distribution="bernoulli", from_logits=False):
        if distribution not in DISTRIBUTIONS:
            raise ValueError(f"Expected one of {', '.join(DISTRIBUTIONS)}, received "
                             f"distribution={distribution!r}")
        self.distribution = distribution
        self.from_logits = _check_bool(from_logits, "from_logits")
        if self.from_logits and distribution != "bernoulli":
            raise ValueError("from_logits=True is for distribution='bernoulli' only.")
        self._bernoulli = BinaryCrossentropy(from_logits=self.from_logits)
        #: The model fuses a final sigmoid with the Bernoulli likelihood.
        self.logits_activation = "sigmoid" if distribution == "bernoulli" else None

    def _terms(self, y, p, need_grad):
        if self.distribution == "bernoulli":
            terms, grad = self._bernoulli._terms(y, p, need_grad)
        else:
            grad = p - y
            terms = 0.5 * grad * grad + _HALF_LOG_2PI
        return terms.sum(axis=1), grad

    def _prepare(self, y, k, dtype):
        if self.distribution == "bernoulli":
            return self._bernoulli._prepare(y, k, dtype)
        return super()._prepare(y, k, dtype)

    def get_config(self):
        return {"distribution": self.distribution, "from_logits": self.from_logits}


_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
