"""The independent truth of the gradient tests: central differences, written out plainly."""
import numpy as np


def numeric_gradient(f, x, h=1e-6):
    """``(f(x + h e_i) - f(x - h e_i)) / 2h`` for every entry of ``x`` (modified and restored)."""
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        up = f(x)
        x[idx] = old - h
        down = f(x)
        x[idx] = old
        g[idx] = (up - down) / (2 * h)
    return g


def relative_difference(a, b):
    """``||a - b|| / (||a|| + ||b||)``, 0 when both are zero."""
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else np.linalg.norm(a - b) / denom
