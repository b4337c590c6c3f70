"""Gradient clipping, applied to the flat gradient buffer before an optimizer's update.

A link that composes with any optimizer (as optax's ``clip``/``clip_by_global_norm``):
every :class:`~gradwise.optimizers.Optimizer` takes ``clipvalue``, ``clipnorm`` and
``global_clipnorm`` and calls :func:`clip_gradients` before its step.
"""
import math

from ..backend import xp

__all__ = ["clip_gradients"]


def _sq_norm(a):
    flat = a.reshape(-1)
    return float(xp.dot(flat, flat))


def clip_gradients(grads, clipvalue=None, clipnorm=None, global_clipnorm=None, segments=None):
    """Clip ``grads`` in place and return it.

    Parameters
    ----------
    grads : ndarray, shape (n,)
        The flat gradient buffer, modified in place.
    clipvalue : float, optional
        Clamp every element to ``[-clipvalue, clipvalue]`` (first).
    clipnorm, global_clipnorm : float, optional
        ``c`` for each segment's norm, or for the whole buffer's norm (at most one of them).
    segments : list of slice, optional
        One slice per parameter array, for ``clipnorm``; by default the buffer is one.

    Notes
    -----
    .. math:: g \\leftarrow g \\cdot c / \\max(\\lVert g \\rVert_2, c)

    Norm rescaling only shrinks, so the value bound still holds afterwards.
    """
    if clipnorm is not None and global_clipnorm is not None:
        raise ValueError("Expected at most one of clipnorm and global_clipnorm, received both "
                         f"(clipnorm={clipnorm!r}, global_clipnorm={global_clipnorm!r})")
    if clipvalue is not None:
        xp.clip(grads, -clipvalue, clipvalue, out=grads)
    if clipnorm is not None:
        for part in (grads[s] for s in segments) if segments is not None else (grads,):
            norm = math.sqrt(_sq_norm(part))
            if norm > clipnorm:
                part *= clipnorm / norm
    if global_clipnorm is not None:
        norm = math.sqrt(_sq_norm(grads))
        if norm > global_clipnorm:
            grads *= global_clipnorm / norm
    return grads
