"""The one place where the array module is chosen.

Every module of gradwise reaches NumPy through ``xp`` so that an array library with NumPy's
API (CuPy, for instance) can be put in later without touching the layers.
"""
import numpy as xp

#: Default floating-point type for training. Gradient checking uses float64.
DEFAULT_DTYPE = xp.float32

__all__ = ["xp", "DEFAULT_DTYPE"]
