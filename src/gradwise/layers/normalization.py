"""Input normalization with fixed statistics, and batch normalization (Ioffe & Szegedy 2015)."""

import numpy as np

from ..backend import xp
from .._validation import check_fraction, check_positive_number
from .base import Layer


def standard_moments(X, with_mean=True, with_std=True):
    """Per-column mean and standard deviation of ``X`` (n_samples, n_features), in float64.

    The standard deviation is the population one (``ddof=0``, as scikit-learn's
    ``StandardScaler``); columns of (near) zero variance get 1, so they are centred but never
    divided by zero.
    """
    X = np.asarray(X)
    if X.dtype.kind not in "f":
        X = X.astype(np.float64)
    centre = X.mean(axis=0, dtype=np.float64)
    mean = centre if with_mean else np.zeros(X.shape[1])
    if not with_std:
        scale = np.ones(X.shape[1])
    else:  # two passes, in float64 blocks: no float64 copy of the whole matrix
        squares = np.zeros(X.shape[1])
        for start in range(0, len(X), _BLOCK_ROWS):
            deviations = X[start:start + _BLOCK_ROWS].astype(np.float64) - centre
            squares += np.einsum("ij,ij->j", deviations, deviations)
        scale = np.sqrt(squares / len(X))
    tiny = 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(centre))
    return mean, np.where(scale < tiny, 1.0, scale)


#: Rows per float64 block of :func:`standard_moments`.
_BLOCK_ROWS = 65536


class Normalization(Layer):
    """Standardizes each input feature with statistics learned once by :meth:`adapt`.

    Put it first in a model and call ``adapt(X_train)`` before training: the model then takes
    raw features, and its file carries the statistics (Keras's ``Normalization`` layer).

    Parameters
    ----------
    mean, scale : array-like of shape (n_features,), optional
        Statistics to use instead of :meth:`adapt`'s.

    Notes
    -----
    ``y = (x - mean) / scale`` with ``mean`` and ``scale`` (population standard deviation, 1 for
    constant columns) of the adapted data; ``dx = dy / scale``. Both are state, not trained:
    ``n_features * 2`` non-trainable numbers.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Normalization().adapt(np.array([[0.0, 10.0], [2.0, 10.0]]))
    >>> layer.forward(np.array([[1.0, 10.0], [3.0, 12.0]]))
    array([[0., 0.],
           [2., 2.]])
    """

    def __init__(self, mean=None, scale=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self._moments = None
        if (mean is None) != (scale is None):
            raise ValueError("mean and scale: give both or neither.")
        if mean is not None:
            mean, scale = np.asarray(mean, float).ravel(), np.asarray(scale, float).ravel()
            if mean.shape != scale.shape or not np.all(np.isfinite(mean)) or not np.all(scale > 0):
                raise ValueError("mean and scale: expected finite vectors of one length, scale > 0.")
            self._moments = (mean, scale)

    def adapt(self, X):
        """Learn ``mean`` and ``scale`` from ``X`` (n_samples, n_features); returns the layer."""
        from .._validation import check_features
        X = check_features(X, "X", self.input_dim if self.built else None, np.float64)
        self._moments = standard_moments(X)
        if self.built:
            self.state["mean"][...], self.state["scale"][...] = self._moments
        else:
            self.build(X.shape[1], dtype=np.float64)
        return self

    def _create_state(self, input_dim):
        if self._moments is None:
            return {"mean": xp.zeros(input_dim), "scale": xp.ones(input_dim)}
        if self._moments[0].shape != (input_dim,):
            raise ValueError(f"input_dim: the statistics are for {self._moments[0].size} "
                             f"features, received input_dim={input_dim}.")
        return {"mean": self._moments[0], "scale": self._moments[1]}

    def forward(self, x, training=False):
        return (x - self.state["mean"]) / self.state["scale"]

    def backward(self, dy):
        if not self.needs_input_grad:  # the model's first layer: nothing to pass back
            return None
        return dy / self.state["scale"]


class BatchNormalization(Layer):
    """Normalizes each unit over the batch, then scales by ``gamma`` and shifts by ``beta``.

    Parameters
    ----------
    momentum : float, default 0.99
        ``running = momentum * running + (1 - momentum) * batch``.
    epsilon : float, default 1e-3
        Added to the variance before the square root.

    Notes
    -----
    Training, for a batch ``x`` of shape (n, d):
    ``mu = mean(x)``, ``var = mean((x - mu)**2)`` (biased), ``xhat = (x - mu) / sqrt(var + eps)``,
    ``y = gamma * xhat + beta``. Inference, and training while frozen (``trainable=False``),
    use ``running_mean`` and ``running_var`` instead.
    Backward (training): ``dgamma = sum(dy * xhat)``, ``dbeta = sum(dy)``,
    ``dx = (gamma / sqrt(var + eps)) * (dy - mean(dy) - xhat * mean(dy * xhat))``.
    Parameters: ``gamma``, ``beta`` (trainable); ``running_mean``, ``running_var`` (state):
    4 numbers per unit, 2 of them trainable.
    """

    def __init__(self, momentum=0.99, epsilon=1e-3, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.momentum = check_fraction(momentum, "momentum", 0, 1)
        self.epsilon = check_positive_number(epsilon, "epsilon")

    def _create_params(self, input_dim, rng):
        return {"gamma": xp.ones(input_dim), "beta": xp.zeros(input_dim)}

    def _create_state(self, input_dim):
        return {"running_mean": xp.zeros(input_dim), "running_var": xp.ones(input_dim)}

    def forward(self, x, training=False):
        # A frozen batch norm runs in inference mode, as in Keras: fine-tuning on top of it
        # must not shift the statistics the pretrained layers after it were trained with.
        if not training or not self.trainable:
            self._xhat = None
            self._inv_std = 1.0 / xp.sqrt(self.state["running_var"] + self.epsilon)
            return (x - self.state["running_mean"]) * (self._inv_std * self.params["gamma"]) + self.params["beta"]
        mean = x.mean(axis=0)
        centered = x - mean
        var = xp.einsum("ij,ij->j", centered, centered) / x.shape[0]
        self._inv_std = 1.0 / xp.sqrt(var + self.epsilon)
        self._xhat = centered
        self._xhat *= self._inv_std
        if not self.deterministic:
            self._update_running(mean, var)
        return self._xhat * self.params["gamma"] + self.params["beta"]

    def _update_running(self, mean, var):
        m = self.momentum
        self.state["running_mean"] *= m
        self.state["running_mean"] += (1 - m) * mean
        self.state["running_var"] *= m
        self.state["running_var"] += (1 - m) * var

    def backward(self, dy):
        if self._xhat is None:  # inference mode: a fixed affine map per unit
            return dy * (self._inv_std * self.params["gamma"])
        xhat = self._xhat
        dgamma = xp.einsum("ij,ij->j", dy, xhat)
        dbeta = dy.sum(axis=0)
        if self.trainable:
            self.grads["gamma"][...] = dgamma
            self.grads["beta"][...] = dbeta
        n = dy.shape[0]
        dx = xhat * (dgamma / n)
        dx += dbeta / n
        xp.subtract(dy, dx, out=dx)
        dx *= self._inv_std * self.params["gamma"]
        return dx

    def get_config(self):
        config = super().get_config()
        config.update(momentum=self.momentum, epsilon=self.epsilon)
        return config


class LayerNormalization(Layer):
    """Normalizes each sample over its features, then scales by ``gamma`` and shifts by ``beta``
    (Ba et al. 2016): no batch statistics, so training and inference compute the same thing.

    Parameters
    ----------
    epsilon : float, default 1e-3
        Added to the variance before the square root (Keras's default; PyTorch uses 1e-5).

    Notes
    -----
    For a row ``x`` of ``d`` features: ``mu = mean(x)``, ``var = mean((x - mu)**2)``,
    ``xhat = (x - mu) / sqrt(var + eps)``, ``y = gamma * xhat + beta`` (``gamma``, ``beta`` of
    shape (d,), ones and zeros at first). Backward, with ``g = dy * gamma``:
    ``dgamma = sum_rows(dy * xhat)``, ``dbeta = sum_rows(dy)``,
    ``dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps)``, the means over the row.
    """

    def __init__(self, epsilon=1e-3, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.epsilon = check_positive_number(epsilon, "epsilon")

    def _create_params(self, input_dim, rng):
        return {"gamma": xp.ones(input_dim), "beta": xp.zeros(input_dim)}

    def forward(self, x, training=False):
        centered = x - x.mean(axis=1, keepdims=True)
        var = xp.einsum("ij,ij->i", centered, centered) / x.shape[1]
        self._inv_std = (1.0 / xp.sqrt(var + self.epsilon))[:, None]
        centered *= self._inv_std
        self._xhat = centered
        return centered * self.params["gamma"] + self.params["beta"]

    def backward(self, dy):
        xhat = self._xhat
        if self.trainable:
            xp.einsum("ij,ij->j", dy, xhat, out=self.grads["gamma"])
            xp.sum(dy, axis=0, out=self.grads["beta"])
        if not self.needs_input_grad:
            return None
        g = dy * self.params["gamma"]
        d = g.shape[1]
        dx = xhat * (xp.einsum("ij,ij->i", g, xhat) / d)[:, None]
        dx += g.mean(axis=1, keepdims=True)
        xp.subtract(g, dx, out=dx)
        dx *= self._inv_std
        return dx

    def get_config(self):
        config = super().get_config()
        config["epsilon"] = self.epsilon
        return config


def recompute_batch_statistics(model, X, batch_size=1024):
    """Set each batch-normalization layer's running statistics to the exact statistics of its
    inputs over ``X``, in one pass over ``X`` per such layer.

    During training the running statistics are an exponential average over past batches
    (``momentum``): after a short run with ``momentum=0.99`` they still lean on their initial
    values (mean 0, variance 1) and on early weights, and inference can score far worse than
    training. Recomputing them over the training data afterwards fixes that.

    Parameters
    ----------
    model : Sequential
        Built (trained) model; changed in place.
    X : array of shape (n_samples, n_features)
        Training inputs, as the model takes them.
    batch_size : int, default 1024
        Rows per forward pass (bounds the memory used, not the result).

    Returns
    -------
    model

    Notes
    -----
    The layers are treated in order. For batch-normalization layer ``l``, its inputs ``h`` are
    computed with every layer before it in inference mode (no dropout noise; earlier
    batch-normalization layers with their recomputed statistics), and ``running_mean = mean(h)``,
    ``running_var = mean((h - mean(h))**2)`` (the population, biased, variance, as training
    uses), accumulated in float64 over the batches (each batch's mean and sum of squared
    deviations, combined by Chan et al.'s formula), then stored in the layer's dtype.
    Frozen layers (``trainable=False``) keep their statistics, as they do in training.
    """
    from .._validation import check_features, check_positive_int

    if not getattr(model, "built", False):
        raise RuntimeError("model: not built; train it (fit) before recomputing its "
                           "batch-normalization statistics.")
    targets = [i for i, layer in enumerate(model.layers)
               if isinstance(layer, BatchNormalization) and layer.trainable]
    if not targets:
        raise ValueError("model: has no trainable BatchNormalization layer whose statistics "
                         "could be recomputed.")
    X = check_features(X, "X", model.input_dim, model.dtype)
    batch_size = check_positive_int(batch_size, "batch_size")
    for index in targets:
        count, mean, squares = 0, 0.0, 0.0
        for start in range(0, len(X), batch_size):
            h = X[start:start + batch_size]
            for layer in model.layers[:index]:
                h = layer.forward(h, training=False)
            h = np.asarray(h, dtype=np.float64)
            n, batch_mean = len(h), h.mean(axis=0)
            batch_squares = ((h - batch_mean) ** 2).sum(axis=0)
            delta, total = batch_mean - mean, count + n
            mean = mean + delta * (n / total)
            squares = squares + batch_squares + delta ** 2 * (count * n / total)
            count = total
        state = model.layers[index].state
        state["running_mean"][...] = mean
        state["running_var"][...] = squares / count
    return model
