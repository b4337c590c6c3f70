"""Shared machinery of the scikit-learn estimators: parameters, network, training, pickling.

The public classes live in :mod:`gradwise.estimators`; this module holds what the classifier
and the regressor have in common. Training runs on the engine's ``Sequential.fit``; a callback
(:class:`_ConvergenceMonitor`) applies scikit-learn's MLP stopping rule (``tol`` and
``n_iter_no_change`` on the training loss, or on the validation score with ``early_stopping``).
"""
import copy
import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .. import layers as gw_layers
from .. import optimizers as gw_optimizers
from .. import regularizers, schedules
from ..callbacks import Callback
from ..model import Sequential

#: scikit-learn's activation names, mapped to gradwise's; gradwise names pass through.
_ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
                "linear": "linear", "sigmoid": "sigmoid", "leaky_relu": "leaky_relu",
                "elu": "elu", "selu": "selu"}


class _ConvergenceMonitor(Callback):
    """scikit-learn's MLP stopping rule, as a callback run after every epoch.

    Without a validation score: an epoch counts as "no improvement" when its loss is above
    ``best_loss - tol``. With one (``early_stopping``): when the score is below
    ``best_score + tol``; the weights of the best-scoring epoch are kept. Training stops when
    the count of consecutive such epochs exceeds ``n_iter_no_change``.

    Parameters
    ----------
    tol : float
    n_iter_no_change : int
    validation_score : callable or None
        ``() -> float`` (higher is better), evaluated on the held-out data each epoch.
    best_loss, best_score : float
        Starting values (carried over between fits with ``warm_start``).
    """

    def __init__(self, tol, n_iter_no_change, validation_score=None, best_loss=math.inf,
                 best_score=-math.inf):
        super().__init__()
        self.tol, self.n_iter_no_change = tol, n_iter_no_change
        self.validation_score = validation_score
        self.best_loss, self.best_score = best_loss, best_score
        self.losses, self.scores, self.best_weights = [], [], None
        self.no_improvement, self.converged = 0, False

    def on_epoch_end(self, epoch, logs=None):
        loss = float(logs["loss"])
        self.losses.append(loss)
        if self.validation_score is not None:
            score = float(self.validation_score())
            self.scores.append(score)
            worse = score < self.best_score + self.tol
            if score > self.best_score:
                self.best_score = score
                self.best_weights = self.model.get_weights(include_state=True)
        else:
            worse = loss > self.best_loss - self.tol
            self.best_loss = min(self.best_loss, loss)
        self.no_improvement = self.no_improvement + 1 if worse else 0
        if self.no_improvement > self.n_iter_no_change:
            self.converged = True
            self.model.stop_training = True


class BaseMLP(BaseEstimator):
    """Parameters, network construction and training shared by the estimators.

    Subclasses define ``_output_spec(n_outputs)`` -> ``(units, activation, loss)``,
    ``_encode_targets`` and ``_validation_score``.
    """

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "kernel_initializer": [str, callable],
        "optimizer": [str, dict, HasMethods("update")],
        "l1": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "learning_rate_schedule": [None, dict, callable],
        "callbacks": [None, list],
        "dtype": [StrOptions({"float32", "float64"})],
    }

    # -- construction ------------------------------------------------------------------
    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        if any(isinstance(s, bool) or not isinstance(s, Integral) or s < 1 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0 integers, got {sizes}.")
        return [int(s) for s in sizes]

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going "
                          "to be clipped", UserWarning)
        return min(self.batch_size, n_samples)

    def _set_penalties(self, batch_size, weight_mean):
        """Put ``L1L2`` on every kernel. scikit-learn's ``alpha`` is ``alpha / 2 * ||W||^2``
        divided by the number of samples in a batch; with sample weights that number is their
        sum, hence ``batch_size * weight_mean`` (repeating a sample = weighting it)."""
        l2 = self.l2 + self.alpha / (batch_size * weight_mean)
        for layer in self.model_.layers:
            if isinstance(layer, gw_layers.Dense):
                layer.kernel_regularizer = (regularizers.L1L2(l1=self.l1, l2=l2)
                                            if (self.l1 or l2) else None)

    def _build_network(self, n_features, n_outputs, seed):
        units, output_activation, loss = self._output_spec(n_outputs)
        activation = _ACTIVATIONS[self.activation]
        stack = []
        for size in self._hidden_sizes():
            stack.append(gw_layers.Dense(size, activation=activation,
                                         kernel_initializer=self.kernel_initializer))
            if self.batch_norm:
                stack.append(gw_layers.BatchNormalization())
            if self.dropout:
                stack.append(gw_layers.Dropout(self.dropout))
        stack.append(gw_layers.Dense(units, activation=output_activation,
                                     kernel_initializer=self.kernel_initializer))
        model = Sequential(stack, input_dim=n_features, seed=seed, dtype=self.dtype)
        model.compile(optimizer=self._make_optimizer(), loss=loss)
        model.build(n_features)
        return model

    def _make_optimizer(self):
        """A fresh optimizer: a name or config uses ``learning_rate_init`` unless the config
        sets a rate; an ``Optimizer`` object is copied; ``learning_rate_schedule`` overrides."""
        spec = self.optimizer
        if isinstance(spec, str):
            spec = {"class_name": spec, "config": {"learning_rate": self.learning_rate_init}}
        optimizer = gw_optimizers.get(copy.deepcopy(spec))
        if self.learning_rate_schedule is not None:
            schedule = self.learning_rate_schedule
            schedule = schedules.get(schedule) if isinstance(schedule, dict) else copy.deepcopy(schedule)
            optimizer.learning_rate = schedule
        return optimizer

    def _seed(self, random_state):
        return int(random_state.randint(np.iinfo(np.int32).max))

    # -- training ----------------------------------------------------------------------
    def _prepare_sample_weight(self, sample_weight, X, y_index):
        """Sample weights times class weights, rescaled to mean 1 so that weighting changes
        the balance between samples, not the effective learning rate; and their mean before
        rescaling."""
        weights = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        weights = weights * self._class_weights(y_index)
        total = weights.sum()
        if not total > 0:
            raise ValueError("sample_weight: expected at least one positive weight (after class "
                             "weights).")
        return weights * (len(weights) / total), total / len(weights)

    def _class_weights(self, y_index):
        return 1.0

    def _fit(self, X, y, sample_weight, incremental, classes=None):
        first = incremental and not hasattr(self, "model_") or not incremental and (
            not self.warm_start or not hasattr(self, "model_"))
        X, y = validate_data(self, X, y, reset=first, multi_output=self._multi_output,
                             y_numeric=self._y_numeric, dtype=np.float64)
        y_index, n_outputs = self._encode_targets(y, first, classes)
        sample_weight, weight_mean = self._prepare_sample_weight(sample_weight, X, y_index)
        random_state = check_random_state(self.random_state)
        batch_size = self._batch_size(len(X))
        if first:
            self.model_ = self._build_network(X.shape[1], n_outputs, self._seed(random_state))
            self.loss_curve_, self.n_iter_, self.t_ = [], 0, 0
            self.best_loss_ = math.inf
            self.validation_scores_, self.best_validation_score_ = None, None
        elif not incremental:  # warm start: new optimizer settings, same weights
            self.model_.optimizer = self._make_optimizer()
            self.model_._pack()
        self._set_penalties(batch_size, weight_mean)
        early = self.early_stopping and not incremental
        train, validation = self._split(X, y_index, sample_weight, random_state, early)
        monitor = _ConvergenceMonitor(
            self.tol, self.n_iter_no_change,
            (lambda: self._validation_score(*validation)) if early else None,
            best_loss=self.best_loss_ if self.best_loss_ is not None else math.inf,
            best_score=-math.inf if not self.validation_scores_ else self.best_validation_score_)
        epochs = 1 if incremental else self.max_iter
        callbacks = [monitor] + copy.deepcopy(list(self.callbacks or []))
        self.model_.fit(train[0], self._network_targets(train[1]), epochs=self.n_iter_ + epochs,
                        initial_epoch=self.n_iter_, batch_size=batch_size, verbose=int(self.verbose),
                        callbacks=callbacks, sample_weight=train[2], shuffle=self.shuffle)
        self._record(monitor, batch_size, len(train[0]), early)
        if not incremental and not monitor.converged and len(monitor.losses) == epochs:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached "
                          "and the optimization hasn't converged yet.", ConvergenceWarning)
        return self

    def _split(self, X, y_index, sample_weight, random_state, early):
        if not early:
            return (X, y_index, sample_weight), None
        stratify = y_index if self._stratify_validation else None
        parts = train_test_split(X, y_index, sample_weight, random_state=random_state,
                                 test_size=self.validation_fraction, stratify=stratify)
        return parts[0::2], parts[1::2]

    def _record(self, monitor, batch_size, n_train, early):
        self.loss_curve_ += monitor.losses
        self.n_iter_ += len(monitor.losses)
        self.t_ += len(monitor.losses) * n_train
        if early:
            self.validation_scores_ = (self.validation_scores_ or []) + monitor.scores
            self.best_validation_score_ = monitor.best_score
            self.best_loss_ = None
            if monitor.best_weights is not None:
                self.model_.set_weights(monitor.best_weights, include_state=True)
        else:
            self.best_loss_ = monitor.best_loss

    def _network_targets(self, y_index):
        return y_index

    # -- fitted weights, named as scikit-learn's MLP names them ------------------------
    @property
    def coefs_(self):
        """The kernels of the Dense layers, ``coefs_[i]`` of shape (inputs of layer i,
        units of layer i), as in scikit-learn's MLP (copies of ``model_``'s weights)."""
        return [layer.params["W"].copy() for layer in self._dense_layers()]

    @property
    def intercepts_(self):
        """The biases of the Dense layers, ``intercepts_[i]`` of shape (units of layer i,)."""
        return [layer.params["b"].copy() for layer in self._dense_layers()]

    def _dense_layers(self):
        check_is_fitted(self, "model_")
        return [layer for layer in self.model_.layers if isinstance(layer, gw_layers.Dense)]

    def _forward(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        # Inference runs in float64 whatever the training precision: BLAS picks its kernels by
        # matrix shape, so in float32 a row's output would change in the last bits with the
        # other rows predicted alongside it. Upcast weights make predictions row-invariant.
        return np.asarray(self.model_._predict_prepared(X), dtype=np.float64)

    # -- pickling (scikit-learn's convention; gradwise model files never pickle) ------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
