"""Finite-difference gradient checking of models and single layers.

The check compares back-propagation with the two-sided difference
``g_approx[i] = (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)`` and reports

    difference = ||g_approx - g|| / (||g_approx|| + ||g||)

in float64, with a verdict read as the course reads it (:func:`verdict`). It runs on a float64
copy of the model in hand, so a model made of the user's own layers, activations, losses,
regularizers and initializers is checked as it is, without registering anything, and the
model itself is not changed. Stochastic layers (dropout, noise, RReLU) use their deterministic
inference behaviour, batch normalization uses batch statistics, and regularization is included.
"""
import copy
from collections import namedtuple

import numpy as np

#: Below this relative difference, back-propagation is correct.
CORRECT_BELOW = 1e-7
#: Above this relative difference, a backward is almost certainly wrong.
BUG_ABOVE = 1e-3

_EXPLANATIONS = {
    "correct": "below 1e-7: back-propagation agrees with finite differences",
    "inspect": ("between 1e-7 and 1e-3: maybe right (a kink such as "
                "ReLU's at 0 inside the finite difference, rounding), maybe a small bug; look at "
                "the layers and parameters with the largest differences"),
    "bug": ("above 1e-3: almost certainly a bug in a backward pass; the layer with the "
            "largest difference is the first suspect"),
}

#: One row of the table: a parameter array of a layer and its relative difference.
GradcheckRow = namedtuple("GradcheckRow", "layer parameter size difference")
#: One parameter entry: where it is, both gradients, and their absolute difference.
GradcheckEntry = namedtuple("GradcheckEntry", "layer parameter index backprop numerical difference")


def verdict(difference):
    """The reading of a relative difference: ``"correct"``, ``"inspect"`` or ``"bug"``.

    Parameters
    ----------
    difference : float
        ``||g_approx - g|| / (||g_approx|| + ||g||)``.

    Returns
    -------
    str
        ``"correct"`` below 1e-7; ``"bug"`` above 1e-3 (and for NaN: the gradients are not even
        finite); ``"inspect"`` from 1e-7 to 1e-3, the band around 1e-5 where the course says to
        look at the components before trusting the gradients.
    """
    difference = float(difference)
    if difference < CORRECT_BELOW:
        return "correct"
    if difference <= BUG_ABOVE:
        return "inspect"
    return "bug"


class GradcheckResult(float):
    """The overall relative difference (a float: ``result < 1e-7`` works) with its reading.

    Attributes
    ----------
    verdict : str
        ``"correct"``, ``"inspect"`` or ``"bug"`` (see :func:`verdict`).
    explanation : str
        The verdict in a sentence, with its band.
    table : list of GradcheckRow
        ``(layer, parameter, size, difference)`` for each trainable parameter array, in the
        model's order.
    per_layer : dict
        ``{layer name: relative difference over the layer's parameters}``.
    largest : list of GradcheckEntry
        The parameter entries whose gradients differ most (absolute difference), largest first:
        ``(layer, parameter, index, backprop, numerical, difference)``.
    epsilon : float
        The step of the finite differences.
    """

    def __new__(cls, difference, table=(), per_layer=None, largest=(), epsilon=None):
        result = super().__new__(cls, difference)
        result.table, result.largest = list(table), list(largest)
        result.per_layer, result.epsilon = dict(per_layer or {}), epsilon
        return result

    @property
    def verdict(self):
        return verdict(self)

    @property
    def explanation(self):
        return _EXPLANATIONS[self.verdict]

    def report(self):
        """The table, the largest differences and the verdict, as text for printing."""
        header = ("layer", "parameter", "size", "relative difference")
        rows = [(r.layer, r.parameter, str(r.size), f"{r.difference:.2e}") for r in self.table]
        widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
                  for i, h in enumerate(header)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths)).rstrip()]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
        if self.largest:
            lines.append("largest differences (back-propagation vs finite differences):")
            for e in self.largest:
                place = f"{e.layer}.{e.parameter}[{', '.join(map(str, e.index))}]"
                lines.append(f"  {place}: {e.backprop:.6g} vs {e.numerical:.6g} "
                             f"(difference {e.difference:.2e})")
        lines.append(f"relative difference {float(self):.2e}: {self.verdict} ({self.explanation})")
        return "\n".join(lines)

    def __repr__(self):
        return f"GradcheckResult({float(self)!r}, verdict={self.verdict!r})"

    __str__ = float.__repr__


def _relative_difference(approx, exact):
    denominator = np.linalg.norm(approx) + np.linalg.norm(exact)
    return 0.0 if denominator == 0 else float(np.linalg.norm(approx - exact) / denominator)


def _float64_twin(model):
    """A float64 copy of ``model``'s layers (whatever their classes) with its loss; stochastic
    layers in their deterministic behaviour. Nothing goes through configs or registries."""
    from .model import Sequential
    layers = [layer._cast(np.float64) for layer in copy.deepcopy(model.layers)]
    for layer in layers:
        layer.deterministic = True
    twin = Sequential(layers, input_dim=model.input_dim, seed=model.seed, dtype="float64",
                      name=model.name)
    twin.build()  # the layers are built for this width and dtype: they keep their weights
    twin.loss = model.loss
    twin._configure_fusion()
    return twin


def _gradients(model, X, y, sample_weight, epsilon):
    """Back-propagated and finite-difference gradients of the flat parameter buffer."""
    X, y, sample_weight = model._prepare(X, y, sample_weight)
    model.loss_and_gradients(X, y, sample_weight)
    exact = model.grads_buffer.copy()

    def objective():  # the loss as the loss defines it, regularization included
        outputs = model._forward(X, training=True)
        return model._train_loss(y, outputs, sample_weight) + model._regularization_loss()

    approx = np.empty_like(exact)
    theta = model.params_buffer
    for i in range(theta.size):
        original = theta[i]
        theta[i] = original + epsilon
        plus = objective()
        theta[i] = original - epsilon
        minus = objective()
        theta[i] = original
        approx[i] = (plus - minus) / (2 * epsilon)
    return approx, exact


def _pieces(model):
    """``(layer name, parameter key, shape, slice of the flat buffer)`` in the buffer's order."""
    segments = iter(model.segments)
    return [(layer.name, key, value.shape, next(segments))
            for layer in model.layers if layer.trainable for key, value in layer.params.items()]


def _summarize(total, approx, exact, pieces, epsilon, n_largest):
    table, per_layer, bounds = [], {}, {}
    for layer, key, shape, piece in pieces:
        table.append(GradcheckRow(layer, key, piece.stop - piece.start,
                                  _relative_difference(approx[piece], exact[piece])))
        start, _ = bounds.get(layer, (piece.start, None))
        bounds[layer] = (start, piece.stop)
    for layer, (start, stop) in bounds.items():
        per_layer[layer] = _relative_difference(approx[start:stop], exact[start:stop])
    gaps = np.abs(approx - exact)
    order = np.argsort(-np.nan_to_num(gaps, nan=np.inf), kind="stable")[:n_largest]
    largest = []
    for i in order:
        layer, key, shape, piece = next(p for p in pieces if p[3].start <= i < p[3].stop)
        index = tuple(int(k) for k in np.unravel_index(i - piece.start, shape))
        largest.append(GradcheckEntry(layer, key, index, float(exact[i]), float(approx[i]),
                                      float(gaps[i])))
    return GradcheckResult(total, table, per_layer, largest, epsilon)


def gradcheck(model, X, y, epsilon=1e-7, sample_weight=None, per_layer=False, n_largest=5):
    """Relative difference between back-propagation and finite differences, with a verdict.

    Parameters
    ----------
    model : Sequential
        A compiled model (its loss is used). It is checked as it is, through a float64 copy of
        its layers: layers, activations, losses, regularizers and initializers of the user's
        own need no registration. Its weights and state are not changed (an unbuilt model is
        built for ``X``, as ``fit`` would).
    X : array of shape (n_samples, n_features)
        Keep it small: the check costs two forward passes per parameter.
    y : array
        Targets in any form the loss accepts.
    epsilon : float, default 1e-7
    sample_weight : array of shape (n_samples,), optional
    per_layer : bool, default False
        Also return ``{layer name: difference}`` (as ``result.per_layer``), for code written
        before the result carried it.
    n_largest : int, default 5
        How many parameter entries ``result.largest`` lists.

    Returns
    -------
    GradcheckResult, or (GradcheckResult, dict) when ``per_layer``
        A float, the relative difference over all trainable parameters, with ``verdict``
        (``"correct"`` below 1e-7, ``"inspect"`` up to 1e-3, ``"bug"`` above), ``table``,
        ``per_layer``, ``largest`` and ``report()``.

    Notes
    -----
    ``difference = ||g_approx - g|| / (||g_approx|| + ||g||)`` with
    ``g_approx[i] = (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)``, in float64.

    Examples
    --------
    >>> result = gradcheck(model, X[:20], y[:20])  # doctest: +SKIP
    >>> result < 1e-7, result.verdict  # doctest: +SKIP
    (True, 'correct')
    >>> print(result.report())  # doctest: +SKIP
    """
    model._check_compiled()
    if not model.built:
        model._prepare(X)
    twin = _float64_twin(model)
    approx, exact = _gradients(twin, X, y, sample_weight, epsilon)
    result = _summarize(_relative_difference(approx, exact), approx, exact, _pieces(twin),
                        epsilon, n_largest)
    return (result, result.per_layer) if per_layer else result


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


__all__ = ["gradcheck", "check_layer", "verdict", "GradcheckResult", "CORRECT_BELOW", "BUG_ABOVE"]
