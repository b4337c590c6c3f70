"""``MLPClassifier``: binary, multiclass and multi-label classification."""
from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, unique_labels

from ._docs import _COMMON_DOC, _FITTED_DOC, _NOTES
from .base import BaseMLP, store_parameters, _STOCHASTIC_SOLVERS


def _stochastic_solver(estimator):
    """``partial_fit`` exists for the stochastic solvers only, as in scikit-learn."""
    if estimator.solver not in _STOCHASTIC_SOLVERS:
        raise AttributeError(f"partial_fit is only available for stochastic optimizers. "
                             f"{estimator.solver} is not stochastic.")
    return True


class MLPClassifier(ClassifierMixin, BaseMLP):
    __doc__ = f"""Multi-layer perceptron classifier trained by a gradwise ``Sequential``.

    Binary problems get one sigmoid unit and binary cross-entropy, multiclass problems a
    softmax layer and categorical cross-entropy. Labels may be any values (strings too). A 2-D
    0/1 label matrix (n_samples, n_labels) is multi-label classification, as in scikit-learn:
    one sigmoid unit and one binary cross-entropy per label, ``predict`` returning the 0/1
    matrix and ``predict_proba`` each label's probability.

    Parameters
    ----------{_COMMON_DOC}
    loss : {{"log_loss", "focal"}}, default "log_loss"
        ``"focal"`` is the binary focal cross-entropy (one sigmoid unit per class when there are
        more than two classes; probabilities are then normalized).
    focal_gamma : float, default 2.0
    focal_alpha : float in [0, 1] or None
        Weight of the positive class in the focal loss.
    class_weight : dict, "balanced" or None
        ``{{label: weight}}`` or ``"balanced"`` (``n_samples / (n_classes * count)``),
        multiplied into the sample weights (not for multi-label targets).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels; ``0 .. n_labels - 1`` for a multi-label matrix.{_FITTED_DOC}
    Notes
    -----{_NOTES}"""

    _parameter_constraints = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"log_loss", "focal"})],
        "focal_gamma": [Real],
        "focal_alpha": [None, Real],
        "class_weight": [None, dict, StrOptions({"balanced"})],
    }
    _y_numeric = False

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=1e-4, batch_size="auto", learning_rate="constant", learning_rate_init=1e-3,
                 power_t=0.5, max_iter=200, shuffle=True, random_state=None, tol=1e-4,
                 verbose=False, warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, n_iter_no_change=10, max_fun=15000, dropout=0.0,
                 batch_norm=False, kernel_initializer=None, optimizer=None, l1=0.0,
                 l2=0.0, learning_rate_schedule=None, callbacks=None, dtype=None,
                 loss="log_loss", focal_gamma=2.0, focal_alpha=None, class_weight=None):
        store_parameters(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train on ``X`` (n_samples, n_features) and labels ``y``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Labels, or a 0/1 matrix for multi-label classification.
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over ``(X, y)``; ``classes`` (all labels) is required on the first call.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        classes : array-like of shape (n_classes,), optional
            Every label of the whole data; required on the first call, and the same on later
            ones.
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        if classes is not None:
            classes = unique_labels(classes)
            if hasattr(self, "classes_") and not np.array_equal(self.classes_, classes) \
                    and not getattr(self, "_multilabel", False):
                raise ValueError(f"`classes={classes!r}` is not the same as on last call to "
                                 f"partial_fit, was: {self.classes_!r}")
        elif not hasattr(self, "classes_"):
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    # -- targets -----------------------------------------------------------------------
    def _encode_targets(self, y, first, incremental, classes):
        """Class indices (or the 0/1 matrix) and the number of output units."""
        if y.ndim == 2:
            return self._encode_multilabel(y, first)
        check_classification_targets(y)
        if first:
            if classes is None or not incremental:
                classes = y
            encoder = LabelEncoder().fit(classes)
            self.classes_, self._label_encoder, self._multilabel = encoder.classes_, encoder, False
        elif self._multilabel:
            raise ValueError("y: expected a 0/1 label matrix of shape (n_samples, "
                             f"{len(self.classes_)}) as in the previous fit, received labels of "
                             f"shape {y.shape}.")
        labels = unique_labels(y)
        if not first and self.warm_start and not incremental and set(labels) != set(self.classes_):
            raise ValueError("warm_start can only be used where `y` has the same classes as "
                             f"in the previous call to fit. Previously got {self.classes_}, "
                             f"`y` has {labels}")
        unseen = np.setdiff1d(labels, self.classes_)
        if unseen.size:
            raise ValueError(f"y: labels {unseen.tolist()} are not in classes_ "
                             f"{self.classes_.tolist()}.")
        n_classes = len(self.classes_)
        return self._label_encoder.transform(y), 1 if n_classes <= 2 else n_classes

    def _encode_multilabel(self, y, first):
        values = np.unique(y)
        if not np.isin(values, (0, 1)).all() or y.dtype.kind not in "biuf":
            bad = [v for v in values.tolist() if v not in (0, 1)][:5]
            raise ValueError(f"y: a 2-D label matrix is multi-label classification and must hold "
                             f"0/1 values; received {bad}.")
        if first:
            self.classes_, self._multilabel = np.arange(y.shape[1]), True
        elif not self._multilabel or y.shape[1] != len(self.classes_):
            raise ValueError(f"y: expected {'a 0/1 matrix with ' if self._multilabel else ''}"
                             f"{len(self.classes_)} {'columns' if self._multilabel else 'classes'}"
                             f" as in the previous fit, received shape {y.shape}.")
        return y.astype(np.float64), y.shape[1]

    def _loss_scale(self, n_outputs):
        # scikit-learn sums the binary cross-entropy over labels; gradwise averages it.
        return n_outputs if self._multilabel and self.loss == "log_loss" else 1.0

    def _stratify(self, targets):
        # As scikit-learn: stratified for one output unit (two classes), not otherwise.
        if self._multilabel or self.n_outputs_ != 1:
            return None
        return (targets == 1).reshape(-1, 1)

    def _out_activation(self, n_outputs):
        return "softmax" if n_outputs > 1 and not self._multilabel and self.loss == "log_loss" \
            else "logistic"

    def _output_spec(self, n_outputs):
        if self.loss == "focal":
            from ..losses import BinaryFocalCrossentropy
            return n_outputs, "sigmoid", BinaryFocalCrossentropy(self.focal_gamma, self.focal_alpha)
        if n_outputs == 1 or self._multilabel:
            return n_outputs, "sigmoid", "binary_crossentropy"
        return n_outputs, "softmax", "categorical_crossentropy"

    def _network_targets(self, targets):
        if self._multilabel:
            return targets
        n_classes = len(self.classes_)
        if n_classes <= 2:
            return targets.astype(np.float64)
        if self.loss == "focal":  # one sigmoid unit per class needs one-hot rows
            return np.eye(n_classes)[targets]
        return targets

    def _class_weights(self, targets):
        if self.class_weight is None:
            return 1.0
        if self._multilabel:
            raise ValueError("class_weight: not supported for multi-label targets; pass "
                             "sample_weight instead.")
        classes = np.arange(len(self.classes_))
        if isinstance(self.class_weight, str):
            present = np.unique(targets)
            table = np.ones(len(classes))
            table[present] = compute_class_weight("balanced", classes=present, y=targets)
        else:
            unknown = set(self.class_weight) - set(self.classes_.tolist())
            if unknown:
                raise ValueError(f"class_weight: labels {sorted(map(str, unknown))} are not in "
                                 f"classes_ {self.classes_.tolist()}.")
            table = np.array([float(self.class_weight.get(c, 1.0)) for c in self.classes_])
        return table[targets]

    def _validation_score(self, outputs, targets, sample_weight):
        if self._multilabel:
            return accuracy_score(targets, outputs > 0.5, sample_weight=sample_weight)
        return accuracy_score(targets, self._to_proba(outputs).argmax(axis=1),
                              sample_weight=sample_weight)

    # -- predictions -------------------------------------------------------------------
    def _to_proba(self, out):
        if self._multilabel:
            return out
        if out.shape[1] == 1:
            return np.hstack([1.0 - out, out])
        return out / out.sum(axis=1, keepdims=True)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order
        (for multi-label targets each label's probability, rows not summing to 1)."""
        return self._to_proba(self._forward(X))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Most probable label of each row of ``X`` (n_samples, n_features), or the 0/1 label
        matrix (n_samples, n_labels) of a multi-label classifier (probability above 0.5)."""
        proba = self.predict_proba(X)
        if self._multilabel:
            return (proba > 0.5).astype(int)
        if len(self.classes_) == 1:  # trained on a single class
            return np.full(len(proba), self.classes_[0])
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
