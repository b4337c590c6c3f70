"""Checks made once at the front door (fit, predict, estimators, CLI), before any training work.

The one owner of argument checks: every message names the argument and what was expected, in
one shape (``"Expected a positive integer, received units=0"``), and the same mistake raises the
same type everywhere: a value of the wrong type (a bool, a string, a float where an integer is
expected) raises ``TypeError``, a value of the right type out of range (zero, negative, NaN)
raises ``ValueError``.
"""
import math
import numbers

import numpy as np


def check_features(X, argument="X", n_features=None, dtype=np.float32):
    """Return ``X`` as a finite 2-D float array of ``dtype``.

    Raises
    ------
    TypeError
        Non-numeric data.
    ValueError
        Not 2-D, empty, NaN/inf, or ``n_features`` columns expected and not found.
    """
    if hasattr(X, "to_numpy"):  # pandas / polars frames
        X = X.to_numpy()
    try:
        array = np.asarray(X)
    except Exception as error:  # ragged nested lists and the like
        raise ValueError(f"{argument}: expected a 2-D numeric array; {error}") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{argument}: expected numeric data, received dtype {array.dtype}.")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{argument}: expected real numbers, received complex dtype "
                        f"{array.dtype} (its imaginary parts would be dropped).")
    if array.ndim != 2:
        hint = " (use X.reshape(-1, 1) for a single feature)" if array.ndim == 1 else ""
        raise ValueError(f"{argument}: expected a 2-D array of shape (n_samples, n_features), "
                         f"received shape {array.shape}{hint}.")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{argument}: expected at least one sample and one feature, "
                         f"received shape {array.shape}.")
    if n_features is not None and array.shape[1] != n_features:
        raise ValueError(f"{argument}: expected {n_features} features (columns), "
                         f"received {array.shape[1]}.")
    if not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        raise ValueError(f"{argument}: contains NaN or infinity (first at row {bad[0]}, "
                         f"column {bad[1]}); expected finite values.")
    with np.errstate(over="ignore"):
        converted = np.asarray(array, dtype=dtype)
    if not np.isfinite(converted).all():
        bad = np.argwhere(~np.isfinite(converted))[0]
        raise ValueError(f"{argument}: the value {float(array[bad[0], bad[1]]):g} (row {bad[0]}, "
                         f"column {bad[1]}) is too large for {np.dtype(dtype).name} (largest "
                         f"{np.finfo(dtype).max:.3g}); rescale that feature.")
    return converted


def check_sample_weight(sample_weight, n_samples, argument="sample_weight"):
    """Return a finite, non-negative float64 vector of length ``n_samples`` (or None)."""
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=float)
    if weights.ndim != 1 or weights.shape[0] != n_samples:
        raise ValueError(f"{argument}: expected shape ({n_samples},), received {weights.shape}.")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError(f"{argument}: expected finite, non-negative weights.")
    return weights


def check_positive_int(value, argument, allow_none=False):
    """``value`` as an int after checking it is an integer > 0 (or None with ``allow_none``).

    Raises
    ------
    TypeError
        Not an integer (a bool, a float, a string): ``"Expected a positive integer, received
        units='3'"``.
    ValueError
        An integer <= 0: ``"Expected a positive integer, received units=0"``.
    """
    if value is None and allow_none:
        return None
    kind = "a positive integer" + (" or None" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"Expected {kind}, received {argument}={value!r}")
    if value <= 0:
        raise ValueError(f"Expected {kind}, received {argument}={value!r}")
    return int(value)


def check_number(value, argument, low=0.0, high=None, low_open=True, kind="a positive number",
                 allow_none=False, high_open=True):
    """``value`` as a float after checking it is a finite real number above ``low`` (at least
    ``low`` when not ``low_open``) and below ``high`` (at most ``high`` when not ``high_open``);
    None passes with ``allow_none``.

    Raises
    ------
    TypeError
        Not a real number (a bool, a string, None): ``"Expected a positive number, received
        alpha='1'"``.
    ValueError
        Not finite, or out of range: ``"Expected a positive number, received alpha=0"``; the
        range is said by ``kind``.
    """
    if value is None and allow_none:
        return None
    kind = kind + (" or None" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Expected {kind}, received {argument}={value!r}")
    above = value > low if low_open else value >= low
    below = high is None or (value < high if high_open else value <= high)
    if not (math.isfinite(value) and above and below):
        raise ValueError(f"Expected {kind}, received {argument}={value!r}")
    return float(value)


def check_positive_number(value, argument, allow_none=False):
    """A finite number > 0 (see :func:`check_number`)."""
    return check_number(value, argument, allow_none=allow_none)


def check_non_negative_number(value, argument):
    """A finite number >= 0 (see :func:`check_number`)."""
    return check_number(value, argument, low_open=False, kind="a non-negative number")


def check_fraction(value, argument, low=0.0, high=1.0):
    """A number in ``[low, high)`` (see :func:`check_number`)."""
    return check_number(value, argument, low=low, high=high, low_open=False,
                        kind=f"a number in [{low:g}, {high:g})")


def check_same_length(X, y, x_argument="X", y_argument="y"):
    if len(X) != len(y):
        raise ValueError(f"{x_argument} and {y_argument} have different numbers of samples: "
                         f"{len(X)} and {len(y)}.")
