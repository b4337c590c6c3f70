"""Weight penalties added to the cost: L1, L2 and both.

A regularizer is a callable: ``reg(W)`` is the penalty (a float) and ``reg.gradient(W)`` its
gradient, shaped like ``W``. ``reg.add_gradient(W, out)`` adds the gradient into ``out`` in place;
the training loop calls it on views of the model's flat gradient buffer. Regularizers apply to
kernels, not biases.

Examples
--------
>>> import numpy as np
>>> from gradwise.regularizers import L2
>>> L2(0.1)(np.array([[1.0, -2.0]]))
0.25
"""

from .backend import xp
from ._registry import Configurable, family, resolve, serialize
from ._validation import check_non_negative_number

__all__ = ["Regularizer", "L1", "L2", "L1L2", "get", "serialize"]


def _check_factor(value, argument):
    """Return ``value`` as a float, or raise naming ``argument`` unless it is finite and >= 0."""
    return check_non_negative_number(value, argument)


class Regularizer(Configurable):
    """Base class. ``L1L2`` implements everything; `L1` and `L2` fix one factor.

    Subclasses either set ``l1`` and ``l2`` (and define ``get_config``), or write a penalty of
    their own: ``__call__(W) -> float`` and ``gradient(W) -> array``, which ``add_gradient``
    then uses.
    """

    l1 = 0.0
    l2 = 0.0

    def __call__(self, W):
        """Penalty of ``W`` (any shape) as a float."""
        W = xp.asarray(W)
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(xp.abs(W).sum())
        if self.l2:
            penalty += 0.5 * self.l2 * float(xp.vdot(W, W))
        return penalty

    def gradient(self, W):
        """Gradient of the penalty, an array shaped like ``W``."""
        W = xp.asarray(W)
        return self.add_gradient(W, xp.zeros_like(W))

    def add_gradient(self, W, out):
        """Add the gradient of the penalty at ``W`` into ``out`` in place and return ``out``.

        Parameters
        ----------
        W : ndarray
            Weights, any shape.
        out : ndarray, same shape as ``W``
            Gradient accumulator (e.g. a view of the model's gradient buffer).

        Notes
        -----
        At most one temporary the size of ``W`` is made, reused for both terms.
        """
        if type(self).gradient is not Regularizer.gradient:  # a penalty of the user's own
            out += self.gradient(W)
            return out
        if not (self.l1 or self.l2):
            return out
        tmp = xp.empty_like(out)
        if self.l2:
            xp.multiply(W, self.l2, out=tmp)
            out += tmp
        if self.l1:
            xp.sign(W, out=tmp)
            tmp *= self.l1
            out += tmp
        return out

    def get_config(self):
        """Constructor arguments as a JSON-ready dict."""
        return {"l1": self.l1, "l2": self.l2}


class L1L2(Regularizer):
    """Both penalties: ``l1 * sum(|W|) + l2/2 * sum(W**2)``.

    Parameters
    ----------
    l1, l2 : float >= 0

    Notes
    -----
    Gradient ``l1 * sign(W) + l2 * W`` (``sign(0) = 0``). The L2 term carries a 1/2 so that its
    gradient is plain weight decay ``l2 * W``; Keras omits the 1/2 (Keras ``L2(l)`` equals
    ``L2(2*l)`` here).
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _check_factor(l1, "l1")
        self.l2 = _check_factor(l2, "l2")


class L1(Regularizer):
    """Lasso penalty ``l1 * sum(|W|)``, gradient ``l1 * sign(W)``.

    Parameters
    ----------
    l1 : float >= 0

    Notes
    -----
    ``R(W) = l1 * sum_ij |W_ij|``; ``dR/dW = l1 * sign(W)`` (0 at 0).
    """

    def __init__(self, l1=0.01):
        self.l1 = _check_factor(l1, "l1")

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """Ridge penalty ``l2/2 * sum(W**2)``, gradient ``l2 * W`` (weight decay).

    Parameters
    ----------
    l2 : float >= 0

    Notes
    -----
    ``R(W) = l2/2 * sum_ij W_ij**2``; ``dR/dW = l2 * W``. Keras omits the 1/2.
    """

    def __init__(self, l2=0.01):
        self.l2 = _check_factor(l2, "l2")

    def get_config(self):
        return {"l2": self.l2}


_REGISTRY = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2,
             "L1": L1, "L2": L2, "L1L2": L1L2}
family(Regularizer, _REGISTRY, "regularizer")


def get(identifier):
    """Return a regularizer from a name (``"l2"``), a config dict, an object, or None.

    None gives None (no regularization), as in Keras.

    Raises
    ------
    ValueError
        Unknown name or malformed config.
    TypeError
        Any other kind of identifier.
    """
    if identifier is None:
        return None
    return resolve(identifier, _REGISTRY, "regularizer", "regularizer", accept=(Regularizer,))
