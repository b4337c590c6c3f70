"""Data augmentation applied per mini-batch during training only.

An augmenter is a callable ``augment(X_batch, y_batch, rng) -> (X_batch, y_batch)``; pass it as
``model.fit(..., augment=augmenter)`` (or :func:`gradwise.data.fit_batches`). The training loop
calls it on each prepared batch (``y`` is then float one-hot rows for categorical
cross-entropy) with the model's seeded generator; ``evaluate`` and ``predict`` never see it.
Augmenters return new arrays and leave their inputs untouched.

Examples
--------
>>> import gradwise as gw
>>> augment = gw.augmentation.Compose([
...     gw.augmentation.ImageAugmenter((8, 8), max_shift=1, max_rotation=10),
...     gw.augmentation.GaussianNoise(0.05)])
>>> # model.fit(X_train, y_train, epochs=50, augment=augment)
"""
import numbers

import numpy as np
from scipy import ndimage

from ._registry import Configurable
from ._validation import check_non_negative_number, check_positive_number

__all__ = ["Augmenter", "GaussianNoise", "Mixup", "ImageAugmenter", "Compose"]


def _number(value, argument, allow_low=False):
    """A positive number (non-negative with ``allow_low``), see :mod:`gradwise._validation`."""
    if allow_low:
        return check_non_negative_number(value, argument)
    return check_positive_number(value, argument)


def _check_batch(X):
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X: expected a batch of shape (batch, n_features), received {X.shape}.")
    return X


class Augmenter(Configurable):
    """Base class: ``__call__(X, y, rng) -> (X, y)``; subclasses implement it."""

    def __call__(self, X, y, rng):
        raise NotImplementedError

class GaussianNoise(Augmenter):
    """Add independent ``N(0, stddev**2)`` noise to every input value.

    Parameters
    ----------
    stddev : float > 0
        In the units of the (standardized) inputs.
    """

    def __init__(self, stddev=0.1):
        self.stddev = _number(stddev, "stddev")

    def __call__(self, X, y, rng):
        X = _check_batch(X)
        noise = rng.standard_normal(X.shape).astype(X.dtype, copy=False)
        return X + self.stddev * noise, y

    def get_config(self):
        return {"stddev": self.stddev}


class Mixup(Augmenter):
    """Mixup (Zhang et al., 2018): train on convex combinations of pairs of samples.

    Parameters
    ----------
    alpha : float > 0, default 0.2
        Mixing weights are drawn from ``Beta(alpha, alpha)``; small alpha mixes little.
    n_classes : int, optional
        Needed only when ``y`` arrives as integer labels of shape (batch,): they are turned into
        one-hot rows first. Inside ``model.fit`` targets are already one-hot.

    Notes
    -----
    With ``pi`` a random permutation of the batch and one ``lambda_i ~ Beta(alpha, alpha)``
    per sample (less noisy than one per batch):

    .. math:: \\tilde x_i = \\lambda_i x_i + (1 - \\lambda_i) x_{\\pi(i)}, \\quad
              \\tilde y_i = \\lambda_i y_i + (1 - \\lambda_i) y_{\\pi(i)}

    The targets become soft (probability rows), which categorical cross-entropy accepts; for
    binary cross-entropy they become numbers in [0, 1]. Use with a cross-entropy or MSE loss.
    """

    def __init__(self, alpha=0.2, n_classes=None):
        self.alpha = _number(alpha, "alpha")
        if n_classes is not None and (isinstance(n_classes, bool) or not isinstance(
                n_classes, numbers.Integral) or n_classes < 2):
            raise ValueError(f"Expected an integer >= 2, received n_classes={n_classes!r}")
        self.n_classes = n_classes

    def __call__(self, X, y, rng):
        X = _check_batch(X)
        y = self._soft_targets(np.asarray(y), len(X))
        lam = rng.beta(self.alpha, self.alpha, size=(len(X), 1))
        partner = rng.permutation(len(X))
        X_mixed = (lam * X + (1.0 - lam) * X[partner]).astype(X.dtype, copy=False)
        y_mixed = (lam * y + (1.0 - lam) * y[partner]).astype(y.dtype, copy=False)
        return X_mixed, y_mixed

    def _soft_targets(self, y, n):
        if len(y) != n:
            raise ValueError(f"y: expected {n} targets like X, received {len(y)}.")
        if y.ndim == 2:
            return y if y.dtype.kind == "f" else y.astype(np.float64)
        if y.ndim == 1 and self.n_classes is not None:
            labels = y.astype(np.intp)
            if (labels != y).any() or labels.min() < 0 or labels.max() >= self.n_classes:
                raise ValueError(f"y: expected integer labels in [0, {self.n_classes}).")
            return np.eye(self.n_classes)[labels]
        raise ValueError("y: mixup needs targets of shape (batch, n_outputs) (one-hot rows); "
                         f"received shape {y.shape}. Pass n_classes to one-hot integer labels.")

    def get_config(self):
        return {"alpha": self.alpha, "n_classes": self.n_classes}


class ImageAugmenter(Augmenter):
    """Random shifts and small rotations of flattened images (e.g. 8x8 digits).

    Parameters
    ----------
    image_shape : tuple (height, width)
        Each row of ``X`` is one image flattened in C order, so ``n_features = height * width``.
    max_shift : float >= 0, default 1.0
        Shifts are drawn uniformly in ``[-max_shift, max_shift]`` pixels, per axis and image.
    max_rotation : float >= 0, default 10.0
        Rotation angles are drawn uniformly in ``[-max_rotation, max_rotation]`` degrees.
    fill : float, default 0.0
        Value of the pixels moved in from outside the image (the background; for standardized
        inputs, pass the standardized background value).
    probability : float in (0, 1], default 1.0
        Each image is transformed with this probability and left as it is otherwise (the
        model then also sees unblurred originals).
    order : int, default 1
        Interpolation of ``scipy.ndimage.map_coordinates``: 0 nearest pixel, 1 bilinear. (Higher
        spline orders would prefilter across the stacked images too, so they are refused.)

    Notes
    -----
    Every output pixel ``p`` (relative to the image centre ``c``) samples the input at
    ``R(-theta) (p - c - s) + c`` for the image's angle ``theta`` and shift ``s``: one vectorized
    ``map_coordinates`` call over the whole batch, no Python loop over images.
    """

    def __init__(self, image_shape=(8, 8), max_shift=1.0, max_rotation=10.0, fill=0.0,
                 probability=1.0, order=1):
        if (not isinstance(image_shape, (tuple, list)) or len(image_shape) != 2
                or not all(isinstance(s, numbers.Integral) and s > 0 for s in image_shape)):
            raise ValueError(f"Expected (height, width) positive integers, received "
                             f"image_shape={image_shape!r}")
        self.image_shape = tuple(int(s) for s in image_shape)
        self.max_shift = _number(max_shift, "max_shift", allow_low=True)
        self.max_rotation = _number(max_rotation, "max_rotation", allow_low=True)
        self.fill = float(fill)
        self.probability = _number(probability, "probability")
        if self.probability > 1:
            raise ValueError(f"Expected a number in (0, 1], received probability={probability!r}")
        if order not in (0, 1) or isinstance(order, bool):
            raise ValueError(f"Expected 0 or 1, received order={order!r}")
        self.order = int(order)

    def __call__(self, X, y, rng):
        X = _check_batch(X)
        h, w = self.image_shape
        if X.shape[1] != h * w:
            raise ValueError(f"X: expected {h * w} features for images of shape {self.image_shape}, "
                             f"received {X.shape[1]}.")
        n = len(X)
        theta = np.deg2rad(rng.uniform(-self.max_rotation, self.max_rotation, size=(n, 1, 1)))
        shift = rng.uniform(-self.max_shift, self.max_shift, size=(2, n, 1, 1))
        rows, cols = np.meshgrid(np.arange(h) - (h - 1) / 2, np.arange(w) - (w - 1) / 2,
                                 indexing="ij")
        r, c = rows - shift[0], cols - shift[1]
        cos, sin = np.cos(theta), np.sin(theta)
        source_rows = cos * r - sin * c + (h - 1) / 2
        source_cols = sin * r + cos * c + (w - 1) / 2
        index = np.broadcast_to(np.arange(n).reshape(n, 1, 1), source_rows.shape)
        images = X.reshape(n, h, w).astype(np.float64, copy=False)
        out = ndimage.map_coordinates(images, [index, source_rows, source_cols], order=self.order,
                                      mode="constant", cval=self.fill)
        out = out.reshape(n, h * w).astype(X.dtype, copy=False)
        if self.probability < 1:
            keep = rng.random(n) >= self.probability
            out[keep] = X[keep]
        return out, y

    def get_config(self):
        return {"image_shape": list(self.image_shape), "max_shift": self.max_shift,
                "max_rotation": self.max_rotation, "fill": self.fill, "probability": self.probability,
                "order": self.order}


class Compose(Augmenter):
    """Apply augmenters in order: ``Compose([a, b])(X, y, rng) == b(*a(X, y, rng), rng)``."""

    def __init__(self, augmenters):
        augmenters = list(augmenters)
        for a in augmenters:
            if not callable(a):
                raise TypeError(f"augmenters: expected callables (X, y, rng) -> (X, y), received {a!r}.")
        self.augmenters = augmenters

    def __call__(self, X, y, rng):
        for augment in self.augmenters:
            X, y = augment(X, y, rng)
        return X, y

    def __repr__(self):
        return f"Compose({self.augmenters!r})"
