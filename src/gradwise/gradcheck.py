"""Finite-difference gradient checking of models and single layers.

The check compares back-propagation with the two-sided difference
``g_approx[i] = (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)`` and reports

    difference = ||g_approx - g|| / (||g_approx|| + ||g||)

in float64. Around 1e-7 or below the gradients agree; above 1e-3 a backward is almost surely
wrong. Stochastic layers (dropout, noise, RReLU) use their deterministic inference behaviour,
batch normalization uses batch statistics, and regularization is included.
"""
from contextlib import contextmanager

import numpy as np



def _relative_difference(approx, exact):
    denominator = np.linalg.norm(approx) + np.linalg.norm(exact)
    return 0.0 if denominator == 0 else float(np.linalg.norm(approx - exact) / denominator)


@contextmanager
def _deterministic(model):
    """Stochastic layers off and batch-norm running statistics untouched, then restored."""
    saved_state = model.get_weights(include_state=True)
    flags = [layer.deterministic for layer in model.layers]
    for layer in model.layers:
        layer.deterministic = True
    try:
        yield
    finally:
        for layer, flag in zip(model.layers, flags):
            layer.deterministic = flag
        model.set_weights(saved_state, include_state=True)


def _float64_twin(model):
    from .model import Sequential
    twin = Sequential.from_config({**model.get_config(), "dtype": "float64"})
    twin.build(model.input_dim)
    twin.set_weights([w.astype(np.float64) for w in model.get_weights(include_state=True)],
                     include_state=True)
    for mine, theirs in zip(twin.layers, model.layers):
        mine.trainable = theirs.trainable
    twin._pack()
    twin.loss = model.loss
    twin._configure_fusion()
    return twin


def _gradients(model, X, y, sample_weight, epsilon):
    """Back-propagated and finite-difference gradients of the flat parameter buffer."""
    X, y, sample_weight = model._prepare(X, y, sample_weight)
    model.loss_and_gradients(X, y, sample_weight)
    exact = model.grads_buffer.copy()
    approx = np.empty_like(exact)
    theta = model.params_buffer
    for i in range(theta.size):
        original = theta[i]
        theta[i] = original + epsilon
        plus, _ = model.loss_and_gradients(X, y, sample_weight)
        theta[i] = original - epsilon
        minus, _ = model.loss_and_gradients(X, y, sample_weight)
        theta[i] = original
        approx[i] = (plus - minus) / (2 * epsilon)
    return approx, exact


def gradcheck(model, X, y, epsilon=1e-7, sample_weight=None, per_layer=False):
    """Relative difference between back-propagation and finite differences.

    Parameters
    ----------
    model : Sequential
        A compiled model (its loss is used; its weights are not changed).
    X : array of shape (n_samples, n_features)
        Keep it small: the check costs two forward passes per parameter.
    y : array
        Targets in any form the loss accepts.
    epsilon : float, default 1e-7
    per_layer : bool, default False
        Also return ``{layer name: difference}`` so a wrong backward can be located.

    Returns
    -------
    float, or (float, dict) when ``per_layer``

    Examples
    --------
    >>> difference = gradcheck(model, X[:20], y[:20])  # doctest: +SKIP
    >>> difference < 1e-7  # doctest: +SKIP
    True
    """
    model._check_compiled()
    if not model.built:
        model._prepare(X)
    twin = _float64_twin(model)
    with _deterministic(twin):
        approx, exact = _gradients(twin, X, y, sample_weight, epsilon)
    total = _relative_difference(approx, exact)
    if not per_layer:
        return total
    report, offset = {}, 0
    for layer in twin.layers:
        if not layer.trainable or layer.count_params() == 0:
            continue
        piece = slice(offset, offset + layer.count_params())
        report[layer.name] = _relative_difference(approx[piece], exact[piece])
        offset = piece.stop
    return total, report


def check_layer(layer, x, rng=None, epsilon=1e-6, training=True):
    """Gradient check of one built float64 layer against a random linear read-out.

    Uses ``J = sum(forward(x) * R)`` with a fixed random ``R``, so ``dJ/dy = R``. Returns a dict
    of relative differences for ``"input"`` and each parameter key.
    """
    rng = rng or np.random.default_rng(0)
    x = np.array(x, dtype=np.float64)
    readout = rng.normal(size=layer.forward(x, training=training).shape)

    def objective():
        return float(np.sum(layer.forward(x, training=training) * readout))

    layer.forward(x, training=training)
    dx = layer.backward(readout.copy())
    exact = {"input": None if dx is None else np.array(dx)}
    exact.update({k: np.array(g) for k, g in layer.grads.items()})
    results = {}
    for key, target in [("input", x)] + list(layer.params.items()):
        if exact[key] is None:
            continue
        approx = np.empty_like(target)
        for index in np.ndindex(target.shape):
            original = target[index]
            target[index] = original + epsilon
            plus = objective()
            target[index] = original - epsilon
            minus = objective()
            target[index] = original
            approx[index] = (plus - minus) / (2 * epsilon)
        results[key] = _relative_difference(approx, exact[key])
    return results


__all__ = ["gradcheck", "check_layer"]
