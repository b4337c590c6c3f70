"""Explanations of predictions: input-gradient attributions and permutation importance.

``input_gradients`` back-propagates one chosen output through the network to its inputs:
how much each feature locally moves that output. ``permutation_importance`` measures how much
a score drops when one feature's values are shuffled, with scikit-learn's implementation.
"""
import numbers

import numpy as np

from . import losses
from ._validation import check_features, check_positive_int
from .layers import BatchNormalization

__all__ = ["input_gradients", "gradient_x_input", "permutation_importance"]

_CLASSIFICATION = (losses.BinaryCrossentropy, losses.CategoricalCrossentropy)


def _check_model(model):
    if not getattr(model, "built", False) or not hasattr(model, "layers"):
        raise ValueError("model: expected a built (trained) Sequential; call fit or build first.")


def _chosen_outputs(output, outputs):
    """Index of the explained output unit per sample."""
    n, k = outputs.shape
    if output is None:  # the predicted class (the single unit for one output)
        return np.argmax(outputs, axis=1) if k > 1 else np.zeros(n, dtype=np.intp)
    if isinstance(output, numbers.Integral) and not isinstance(output, bool):
        if not 0 <= output < k:
            raise ValueError(f"Expected an output index in [0, {k}), received output={output}")
        return np.full(n, int(output), dtype=np.intp)
    index = np.asarray(output)
    if index.shape != (n,) or not np.issubdtype(index.dtype, np.integer):
        raise TypeError(f"output: expected None, an int or an integer array of shape ({n},), "
                        f"received {output!r}.")
    if index.min() < 0 or index.max() >= k:
        raise ValueError(f"output: indices must lie in [0, {k}).")
    return index.astype(np.intp)


def _backward_inference(layer, dy):
    """Vector-Jacobian product of a layer run in inference mode."""
    if isinstance(layer, BatchNormalization):  # affine at inference; its backward is the training one
        return dy * (layer.params["gamma"] / np.sqrt(layer.state["running_var"] + layer.epsilon))
    return layer.backward(dy)


def input_gradients(model, X, output=None, space="output"):
    """Gradient of one output of the network with respect to each input feature, per sample.

    Parameters
    ----------
    model : Sequential
        Built (trained) model.
    X : array of shape (n_samples, n_features)
    output : None, int or int array of shape (n_samples,), optional
        Which output unit to explain: by default the predicted class (the arg-max; the only
        unit for one output), an int for the same unit everywhere, or one index per sample.
    space : {"output", "log_odds"}, default "output"
        ``"output"`` differentiates what ``model.predict`` returns (a probability for a
        softmax/sigmoid output). ``"log_odds"`` differentiates the log-odds of the chosen class,
        ``log(p_c / (1 - p_c))``, which does not flatten where the probability saturates near 0
        or 1; it needs a final sigmoid/softmax fused with its cross-entropy.

    Returns
    -------
    ndarray of shape (n_samples, n_features)
        ``G[i, j] = d f_c(x_i) / d x_ij`` with ``f`` what ``model.predict`` returns
        (probabilities for a softmax/sigmoid output) and ``c`` the chosen unit; with
        ``space="log_odds"``, ``f_c`` is the log-odds of class ``c``.

    Notes
    -----
    One forward pass in inference mode (dropout and noise off, batch-norm running statistics),
    then back-propagation of the one-hot rows ``e_c`` through the output activation and every
    layer down to the input. For the log-odds of softmax logits ``z``,
    ``log(p_c / (1 - p_c)) = z_c - log sum_{k != c} exp(z_k)``, whose gradient with respect to
    ``z`` is ``e_c - q`` with ``q`` the softmax of the other logits (``q_c = 0``); for one
    sigmoid unit the log-odds is the logit itself. The model's parameters, gradient buffers
    and flags are unchanged.

    Examples
    --------
    >>> G = input_gradients(model, X_dev[:5])  # doctest: +SKIP
    """
    _check_model(model)
    X = check_features(X, "X", model.input_dim, model.dtype)
    if model.loss is not None:
        model._configure_fusion()
        activation = model._output_activation
    else:
        activation = None
    if space not in ("output", "log_odds"):
        raise ValueError(f"Expected space 'output' or 'log_odds', received space={space!r}")
    if space == "log_odds" and activation is None:
        raise ValueError("space='log_odds' needs a final sigmoid or softmax fused with its "
                         "cross-entropy (compile the model with the matching loss).")
    first_needs, trainable = model.layers[0].needs_input_grad, [l.trainable for l in model.layers]
    try:
        # Parameter gradients are not wanted: marking layers frozen makes backward skip them
        # (and leaves the model's gradient buffer untouched); the input gradient is wanted.
        model.layers[0].needs_input_grad = True
        for layer in model.layers:
            layer.trainable = False
        raw = model._forward(X, training=False)
        outputs = raw if activation is None else activation.forward(raw.copy())
        chosen = _chosen_outputs(output, outputs)
        d_out = np.zeros_like(outputs)
        d_out[np.arange(len(X)), chosen] = 1.0
        if space == "log_odds":
            d_out = _log_odds_gradient(raw, chosen, d_out)
        elif activation is not None:
            d_out = activation.backward(raw, outputs, d_out)
        for layer in reversed(model.layers):
            d_out = _backward_inference(layer, d_out)
        return np.array(d_out, copy=True)  # layers hand back their reused scratch buffers
    finally:
        model.layers[0].needs_input_grad = first_needs
        for layer, flag in zip(model.layers, trainable):
            layer.trainable = flag


def _log_odds_gradient(logits, chosen, one_hot):
    """``d log(p_c / (1 - p_c)) / d z``: ``e_c - softmax(z without z_c)``; 1 for one unit."""
    if logits.shape[1] == 1:
        return one_hot
    others = np.where(one_hot > 0, -np.inf, logits.astype(np.float64))
    others = np.exp(others - others.max(axis=1, keepdims=True))
    others /= others.sum(axis=1, keepdims=True)
    return (one_hot - others).astype(logits.dtype)


def gradient_x_input(model, X, output=None):
    """Gradient times input attributions, ``X * input_gradients(model, X, output)``.

    Notes
    -----
    For a linear model ``f = x W + b`` this is each feature's additive share ``x_j W_jc``
    of the output; for ReLU networks it is a first-order (Taylor) decomposition.
    """
    X = check_features(X, "X", getattr(model, "input_dim", None), getattr(model, "dtype", np.float32))
    return X * input_gradients(model, X, output)


class _ModelAdapter:
    """The smallest estimator scikit-learn's scorers accept: ``fit`` does nothing, ``predict``
    gives labels (classification) or values (regression), ``score`` accuracy or R^2."""

    def __init__(self, model):
        self.model = model
        self.classification = isinstance(model.loss, _CLASSIFICATION)
        self._estimator_type = "classifier" if self.classification else "regressor"
        if self.classification:
            self.classes_ = np.arange(max(model.output_dim, 2))

    def fit(self, X, y=None):
        return self

    def predict_proba(self, X):
        p = self.model.predict(X)
        return np.hstack([1 - p, p]) if p.shape[1] == 1 else p

    def predict(self, X):
        if self.classification:
            return np.argmax(self.predict_proba(X), axis=1)
        p = self.model.predict(X)
        return p[:, 0] if p.shape[1] == 1 else p

    def score(self, X, y, sample_weight=None):
        from sklearn.metrics import accuracy_score, r2_score
        metric = accuracy_score if self.classification else r2_score
        return metric(y, self.predict(X), sample_weight=sample_weight)

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, RegressorTags, Tags, TargetTags
        tags = Tags(estimator_type=self._estimator_type, target_tags=TargetTags(required=True))
        if self.classification:
            tags.classifier_tags = ClassifierTags()
        else:
            tags.regressor_tags = RegressorTags()
        return tags


def _labels(model, y):
    """Class indices from integer labels or one-hot rows; regression targets unchanged."""
    y = np.asarray(y)
    if isinstance(model.loss, _CLASSIFICATION) and y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    if y.ndim == 2 and y.shape[1] == 1:
        return y[:, 0]
    return y


def permutation_importance(model, X, y, n_repeats=10, scoring=None, random_state=None,
                           sample_weight=None, groups=None):
    """Permutation importance of each feature (or group of features) on held-out data.

    Parameters
    ----------
    model : Sequential
        Compiled and trained.
    X : array of shape (n_samples, n_features)
        Preferably a dev set: importance for generalization, not memorization.
    y : array of shape (n_samples,) or one-hot (n_samples, k)
    n_repeats : int, default 10
    scoring : str, callable or None
        Any scikit-learn scorer; None uses accuracy (classification) or R^2 (regression).
    random_state : int, numpy.random.RandomState or None
    groups : sequence of shape (n_features,), optional
        The group of each feature (any hashable labels, e.g. the CSV column a one-hot level
        comes from). A group's features are shuffled together, with one permutation of the
        rows, so that encodings stay valid (one level per row) and a variable's importance is
        not split among its levels. Groups are reported in order of first appearance.

    Returns
    -------
    sklearn.utils.Bunch
        ``importances_mean``, ``importances_std`` of shape (n_features,) and ``importances``
        of shape (n_features, n_repeats); with ``groups``, one row per group and
        ``groups`` holding their labels.

    Notes
    -----
    ``importance_j = score(X, y) - mean_r score(X with column j shuffled (repeat r), y)``,
    computed by :func:`sklearn.inspection.permutation_importance` on an adapter of the model;
    with ``groups``, by the same rule with scikit-learn's scorer, one permutation per group
    and repeat drawn in turn from ``random_state``.
    """
    from sklearn.inspection import permutation_importance as sklearn_permutation_importance
    _check_model(model)
    if model.loss is None:
        raise ValueError("model: expected a compiled model (its loss tells classification "
                         "from regression).")
    X = check_features(X, "X", model.input_dim, model.dtype)
    y = _labels(model, y)
    if len(y) != len(X):
        raise ValueError(f"X and y have different numbers of samples: {len(X)} and {len(y)}.")
    n_repeats = check_positive_int(n_repeats, "n_repeats")
    if groups is not None:
        return _grouped_permutation_importance(_ModelAdapter(model), X, y, int(n_repeats),
                                               scoring, random_state, sample_weight, groups)
    return sklearn_permutation_importance(_ModelAdapter(model), X, y, scoring=scoring,
                                          n_repeats=int(n_repeats), random_state=random_state,
                                          sample_weight=sample_weight)


def _grouped_permutation_importance(adapter, X, y, n_repeats, scoring, random_state,
                                    sample_weight, groups):
    from sklearn.metrics import check_scoring
    from sklearn.utils import Bunch, check_random_state
    groups = list(groups)
    if len(groups) != X.shape[1]:
        raise ValueError(f"groups: expected one label per feature ({X.shape[1]}), received "
                         f"{len(groups)}.")
    labels = list(dict.fromkeys(groups))  # first appearance order
    scorer = check_scoring(adapter, scoring=scoring)
    options = {} if sample_weight is None else {"sample_weight": sample_weight}
    baseline = scorer(adapter, X, y, **options)
    rng = check_random_state(random_state)
    importances = np.empty((len(labels), n_repeats))
    for g, label in enumerate(labels):
        columns = [j for j, group in enumerate(groups) if group == label]
        shuffled = X.copy()
        for r in range(n_repeats):
            shuffled[:, columns] = X[rng.permutation(len(X))][:, columns]
            importances[g, r] = baseline - scorer(adapter, shuffled, y, **options)
    return Bunch(importances_mean=importances.mean(axis=1),
                 importances_std=importances.std(axis=1), importances=importances, groups=labels)
