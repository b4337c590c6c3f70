"""scikit-learn estimators on gradwise networks: :class:`MLPClassifier`, :class:`MLPRegressor`.

They drop into ``Pipeline``, ``GridSearchCV``, ``cross_val_score``, imbalanced-learn pipelines
and ``TunedThresholdClassifierCV``, and add what scikit-learn's MLP lacks: dropout, batch
normalization, more activations, initializers and optimizers, focal loss, class weights,
callbacks and learning-rate schedules.

Examples
--------
>>> from sklearn.datasets import load_breast_cancer
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> import gradwise as gw
>>> X, y = load_breast_cancer(return_X_y=True)
>>> clf = make_pipeline(StandardScaler(), gw.MLPClassifier((32,), max_iter=30, random_state=0))
>>> clf.fit(X, y).score(X, y) > 0.95
True
"""
from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from .base import BaseMLP
from .anomaly import AutoencoderAnomalyDetector

__all__ = ["MLPClassifier", "MLPRegressor", "AutoencoderAnomalyDetector"]

_COMMON_DOC = """
    hidden_layer_sizes : tuple of int, default (100,)
        Units of each hidden layer.
    activation : str, default "relu"
        scikit-learn's ``identity``, ``logistic``, ``tanh``, ``relu`` or gradwise's
        ``linear``, ``sigmoid``, ``leaky_relu``, ``elu``, ``selu``.
    alpha : float, default 1e-4
        L2 penalty with scikit-learn's scaling: ``alpha / 2 * ||W||^2 / batch_size`` per batch.
    batch_size : int or "auto", default "auto"
        ``"auto"`` is ``min(200, n_samples)``.
    learning_rate_init : float, default 1e-3
        Learning rate of an optimizer given by name.
    max_iter : int, default 200
        Maximum number of epochs.
    shuffle : bool, default True
    random_state : int, RandomState or None
        Seeds initialization, shuffling, dropout and the validation split.
    tol, n_iter_no_change : float, int
        Training stops when the loss (or, with ``early_stopping``, the validation score) has not
        improved by ``tol`` for more than ``n_iter_no_change`` epochs, as in scikit-learn.
    verbose : bool or int
    warm_start : bool
        Continue from the previous fit's weights.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the data and keep the weights of the best epoch.
    validation_fraction : float, default 0.1
    dropout : float in [0, 1), default 0
        Dropout rate after each hidden layer.
    batch_norm : bool, default False
        Batch normalization after each hidden layer.
    kernel_initializer : str or callable, default "auto"
        ``"auto"`` picks by the activation (He for relu, LeCun for selu, Glorot otherwise);
        ``"glorot_uniform"`` gives Keras's default whatever the activation.
    optimizer : str, dict or Optimizer, default "adam"
        Any of :mod:`gradwise.optimizers`; an object is copied, never changed.
    l1, l2 : float, default 0
        Penalties ``l1 * sum|W|`` and ``l2 / 2 * sum W^2`` (unscaled) on every kernel.
    learning_rate_schedule : schedule, dict or callable, optional
        A :mod:`gradwise.schedules` schedule (replaces the optimizer's constant rate).
    callbacks : list of Callback, optional
        Extra :mod:`gradwise.callbacks` (copied at each fit).
    dtype : {"float32", "float64"}, default "float32"
        Precision of the network's parameters and arithmetic.
"""

_FITTED_DOC = """
    model_ : Sequential
        The trained network.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names.
    loss_curve_ : list of float
        Training loss (with penalties) of each epoch.
    best_loss_ : float or None
        Lowest training loss (None with ``early_stopping``).
    validation_scores_ : list of float or None
        Validation score of each epoch with ``early_stopping`` (accuracy or R^2).
    best_validation_score_ : float or None
    n_iter_ : int
        Number of epochs run.
    t_ : int
        Number of training samples seen.
"""


class MLPClassifier(ClassifierMixin, BaseMLP):
    __doc__ = f"""Multi-layer perceptron classifier trained by a gradwise ``Sequential``.

    Binary problems get one sigmoid unit and binary cross-entropy, multiclass problems a
    softmax layer and categorical cross-entropy. Labels may be any values (strings too).

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
        multiplied into the sample weights.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,){_FITTED_DOC}
    Notes
    -----
    Sample weights (times class weights) are rescaled to mean 1 before training, so they move
    the balance between samples without changing the step size.
    """

    _parameter_constraints = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"log_loss", "focal"})],
        "focal_gamma": [Real],
        "focal_alpha": [None, Real],
        "class_weight": [None, dict, StrOptions({"balanced"})],
    }
    _multi_output, _y_numeric, _stratify_validation = False, False, True

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, alpha=1e-4,
                 batch_size="auto", learning_rate_init=1e-3, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=10,
                 dropout=0.0, batch_norm=False, kernel_initializer="auto",
                 optimizer="adam", l1=0.0, l2=0.0, learning_rate_schedule=None,
                 callbacks=None, loss="log_loss", focal_gamma=2.0, focal_alpha=None,
                 class_weight=None, dtype="float32"):
        self.hidden_layer_sizes, self.activation, self.alpha = hidden_layer_sizes, activation, alpha
        self.batch_size, self.learning_rate_init, self.max_iter = batch_size, learning_rate_init, max_iter
        self.shuffle, self.random_state, self.tol, self.verbose = shuffle, random_state, tol, verbose
        self.warm_start, self.early_stopping = warm_start, early_stopping
        self.validation_fraction, self.n_iter_no_change = validation_fraction, n_iter_no_change
        self.dropout, self.batch_norm, self.kernel_initializer = dropout, batch_norm, kernel_initializer
        self.optimizer, self.l1, self.l2 = optimizer, l1, l2
        self.learning_rate_schedule, self.callbacks = learning_rate_schedule, callbacks
        self.dtype = dtype
        self.loss, self.focal_gamma, self.focal_alpha = loss, focal_gamma, focal_alpha
        self.class_weight = class_weight

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train on ``X`` (n_samples, n_features) and labels ``y`` (n_samples,).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over ``(X, y)``; ``classes`` (all labels) is required on the first call."""
        if not hasattr(self, "model_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _encode_targets(self, y, first, classes):
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise ValueError(f"y: expected binary or multiclass labels, received {kind} targets.")
        if first:
            encoder = LabelEncoder().fit(y if classes is None else classes)
            if len(encoder.classes_) < 2:
                raise ValueError("y: expected samples of at least 2 classes, received 1 class "
                                 f"({encoder.classes_[0]!r}).")
            self.classes_, self._label_encoder = encoder.classes_, encoder
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(f"y: labels {unseen.tolist()} are not in classes_ "
                             f"{self.classes_.tolist()}.")
        n_classes = len(self.classes_)
        return self._label_encoder.transform(y), 1 if n_classes == 2 else n_classes

    def _output_spec(self, n_outputs):
        if self.loss == "focal":
            from ..losses import BinaryFocalCrossentropy
            return n_outputs, "sigmoid", BinaryFocalCrossentropy(self.focal_gamma, self.focal_alpha)
        if n_outputs == 1:
            return 1, "sigmoid", "binary_crossentropy"
        return n_outputs, "softmax", "categorical_crossentropy"

    def _network_targets(self, y_index):
        n_classes = len(self.classes_)
        if n_classes == 2:
            return y_index.astype(np.float64)
        if self.loss == "focal":  # one sigmoid unit per class needs one-hot rows
            return np.eye(n_classes)[y_index]
        return y_index

    def _class_weights(self, y_index):
        if self.class_weight is None:
            return 1.0
        classes = np.arange(len(self.classes_))
        if isinstance(self.class_weight, str):
            present = np.unique(y_index)
            table = np.ones(len(classes))
            table[present] = compute_class_weight("balanced", classes=present, y=y_index)
        else:
            unknown = set(self.class_weight) - set(self.classes_.tolist())
            if unknown:
                raise ValueError(f"class_weight: labels {sorted(map(str, unknown))} are not in "
                                 f"classes_ {self.classes_.tolist()}.")
            table = np.array([float(self.class_weight.get(c, 1.0)) for c in self.classes_])
        return table[y_index]

    def _validation_score(self, X, y_index, sample_weight):
        return accuracy_score(y_index, self._validation_proba(X).argmax(axis=1), sample_weight=sample_weight)

    def _validation_proba(self, X):
        return self._to_proba(np.asarray(self.model_.predict(X), dtype=np.float64))

    @staticmethod
    def _to_proba(out):
        if out.shape[1] == 1:
            return np.hstack([1.0 - out, out])
        return out / out.sum(axis=1, keepdims=True)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        return self._to_proba(self._forward(X))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Most probable label of each row of ``X`` (n_samples, n_features)."""
        indices = self.predict_proba(X).argmax(axis=1)
        return self.classes_[indices]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class MLPRegressor(RegressorMixin, BaseMLP):
    __doc__ = f"""Multi-layer perceptron regressor trained by a gradwise ``Sequential``.

    Linear output units, one per target; ``y`` may be (n_samples,) or (n_samples, n_targets).
    Targets are not scaled internally (as scikit-learn); wrap in
    ``TransformedTargetRegressor(transformer=StandardScaler())`` for large-valued targets.

    Parameters
    ----------{_COMMON_DOC}
    loss : {{"squared_error", "absolute_error", "huber"}}, default "squared_error"

    Attributes
    ----------
    n_outputs_ : int{_FITTED_DOC}"""

    _parameter_constraints = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "absolute_error", "huber"})],
    }
    _multi_output, _y_numeric, _stratify_validation = True, True, False
    _LOSSES = {"squared_error": "mse", "absolute_error": "mae", "huber": "huber"}

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, alpha=1e-4,
                 batch_size="auto", learning_rate_init=1e-3, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=10,
                 dropout=0.0, batch_norm=False, kernel_initializer="auto",
                 optimizer="adam", l1=0.0, l2=0.0, learning_rate_schedule=None,
                 callbacks=None, loss="squared_error", dtype="float32"):
        self.hidden_layer_sizes, self.activation, self.alpha = hidden_layer_sizes, activation, alpha
        self.batch_size, self.learning_rate_init, self.max_iter = batch_size, learning_rate_init, max_iter
        self.shuffle, self.random_state, self.tol, self.verbose = shuffle, random_state, tol, verbose
        self.warm_start, self.early_stopping = warm_start, early_stopping
        self.validation_fraction, self.n_iter_no_change = validation_fraction, n_iter_no_change
        self.dropout, self.batch_norm, self.kernel_initializer = dropout, batch_norm, kernel_initializer
        self.optimizer, self.l1, self.l2 = optimizer, l1, l2
        self.learning_rate_schedule, self.callbacks = learning_rate_schedule, callbacks
        self.dtype = dtype
        self.loss = loss

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train on ``X`` (n_samples, n_features) and targets ``y`` (n_samples[, n_targets]).

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over ``(X, y)``, continuing from the current weights."""
        return self._fit(X, y, sample_weight, incremental=True)

    def _encode_targets(self, y, first, classes):
        y = np.asarray(y, dtype=np.float64)
        if first:
            self._y_1d = y.ndim == 1
            self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        elif (1 if y.ndim == 1 else y.shape[1]) != self.n_outputs_:
            raise ValueError(f"y: expected {self.n_outputs_} target column(s), received "
                             f"shape {y.shape}.")
        return y, self.n_outputs_

    def _output_spec(self, n_outputs):
        return n_outputs, "linear", self._LOSSES[self.loss]

    def _validation_score(self, X, y, sample_weight):
        predicted = np.asarray(self.model_.predict(X), dtype=np.float64)
        return r2_score(y, predicted.reshape(np.shape(y)), sample_weight=sample_weight)

    def predict(self, X):
        """Predictions, shape (n_samples,) or (n_samples, n_targets) as ``y`` was at fit."""
        out = self._forward(X)
        return out.ravel() if self._y_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.regressor_tags.poor_score = False
        return tags
