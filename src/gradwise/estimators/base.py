"""Shared machinery of the scikit-learn estimators: parameters, network, training, pickling.

The public classes live in :mod:`gradwise.estimators`; this module holds what the classifier
and the regressor have in common. Training runs on the engine's ``Sequential.fit``: the
stochastic solvers (``"adam"``, ``"sgd"``) through its mini-batch loop, with a callback
(:class:`_ConvergenceMonitor`) applying scikit-learn's MLP stopping rule and learning-rate
schedules; ``"lbfgs"`` through :class:`gradwise.optimizers.LBFGS` on the whole training set.

Losses are on scikit-learn's scale, so that ``alpha``, ``tol`` and ``loss_curve_`` mean what
they mean there: each sample's weight is multiplied by ``_loss_scale`` (e.g. 1/2 for the
squared error, which scikit-learn halves; the number of labels for multi-label cross-entropy,
which it sums over labels where gradwise averages).
"""
import copy
import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import HasMethods, Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .. import initializers
from .. import layers as gw_layers
from .. import optimizers as gw_optimizers
from .. import regularizers, schedules
from ..callbacks import Callback
from ..model import Sequential

#: scikit-learn's activation names, mapped to gradwise's; gradwise names pass through.
_ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
                "linear": "linear", "sigmoid": "sigmoid", "leaky_relu": "leaky_relu",
                "elu": "elu", "selu": "selu"}
_STOCHASTIC_SOLVERS = ("adam", "sgd")


def store_parameters(estimator, arguments):
    """Store each ``__init__`` argument under its name, unchanged (scikit-learn's convention:
    validation happens in ``fit``). ``arguments`` is the constructor's ``locals()``."""
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


class _SGDLearningRate:
    """scikit-learn's ``learning_rate`` for ``solver="sgd"``, acting on the model's optimizer.

    ``"invscaling"`` sets the rate to ``learning_rate_init / (t + 1) ** power_t`` after each
    epoch, ``t`` being the number of training samples seen; ``"adaptive"`` divides it by 5 when
    the stopping rule would stop, and stops only once it is at most 1e-6.
    """

    def __init__(self, kind, learning_rate_init, power_t):
        self.kind, self.learning_rate_init, self.power_t = kind, learning_rate_init, power_t

    def iteration_ends(self, optimizer, samples_seen):
        if self.kind == "invscaling":
            self._set(optimizer, float(self.learning_rate_init) / (samples_seen + 1) ** self.power_t)

    def keep_going(self, optimizer):
        """True (and a smaller rate) instead of stopping, for ``"adaptive"``."""
        if self.kind != "adaptive" or optimizer.learning_rate <= 1e-6:
            return False
        self._set(optimizer, optimizer.learning_rate / 5.0)
        return True

    @staticmethod
    def _set(optimizer, rate):
        """A new rate, keeping scikit-learn's velocity. scikit-learn's momentum holds rate times
        gradients (``v = mu v - eta g``), gradwise's gradients alone (``b = mu b + g``, step
        ``eta b``): ``v = -eta b``, so when the rate changes from ``eta`` to ``eta'`` the buffer
        is rescaled by ``eta / eta'``."""
        buffer = optimizer.state.get("momentum")
        if buffer is not None:
            buffer *= optimizer.learning_rate / rate
        optimizer.learning_rate = rate


class _SklearnShuffle:
    """Epoch orders drawn as scikit-learn's MLP draws them, in place of the network's shuffling
    generator (``Sequential.fit`` asks it for ``permutation(n)`` each epoch): scikit-learn
    shuffles the previous epoch's order with its ``random_state``, so the same integer
    ``random_state`` visits the samples in the same order."""

    def __init__(self, random_state):
        self.random_state, self.order = random_state, None

    def permutation(self, n):
        if self.order is None or len(self.order) != n:
            self.order = np.arange(n)
        perm = np.arange(n)
        self.random_state.shuffle(perm)
        self.order = self.order[perm]
        return self.order


class _ConvergenceMonitor(Callback):
    """scikit-learn's MLP stopping rule, as a callback run after every epoch.

    Without a validation score: an epoch counts as "no improvement" when its loss is above
    ``best_loss - tol``. With one (``early_stopping``): when the score is below
    ``best_score + tol``; the weights of the best-scoring epoch are kept. Training stops when
    the count of consecutive such epochs exceeds ``n_iter_no_change`` (unless an adaptive
    learning rate can still be divided by 5).

    Parameters
    ----------
    tol : float
    n_iter_no_change : int or inf
    validation_score : callable or None
        ``() -> float`` (higher is better, NaN when the predictions are not finite).
    best_loss, best_score : float
        Starting values (carried over between fits with ``warm_start``).
    no_improvement : int
        Starting count (carried over between ``partial_fit`` calls).
    learning_rate : _SGDLearningRate, optional
    samples_seen, n_train : int
        Training samples seen before this run, and per epoch (for ``"invscaling"``).
    verbose : bool
        Print scikit-learn's lines (``Iteration 3, loss = 0.12345678``).
    stopping : bool, default True
        False records the losses only (L-BFGS has its own stopping rule).
    """

    def __init__(self, tol, n_iter_no_change, validation_score=None, best_loss=math.inf,
                 best_score=-math.inf, no_improvement=0, learning_rate=None, samples_seen=0,
                 n_train=0, verbose=False, stopping=True):
        super().__init__()
        self.tol, self.n_iter_no_change = tol, n_iter_no_change
        self.validation_score = validation_score
        self.best_loss, self.best_score = best_loss, best_score
        self.learning_rate, self.samples_seen, self.n_train = learning_rate, samples_seen, n_train
        self.verbose, self.stopping = verbose, stopping
        self.losses, self.scores, self.best_weights = [], [], None
        self.no_improvement, self.converged = no_improvement, False

    def on_epoch_end(self, epoch, logs=None):
        loss = float(logs["loss"])
        self.losses.append(loss)
        if self.verbose:
            print("Iteration %d, loss = %.8f" % (len(self.losses), loss))
        if not self.stopping:
            return
        self._count(loss)
        self.samples_seen += self.n_train
        if self.learning_rate is not None:
            self.learning_rate.iteration_ends(self.model.optimizer, self.samples_seen)
        if self.no_improvement > self.n_iter_no_change:
            what = "Validation score" if self.validation_score is not None else "Training loss"
            message = (f"{what} did not improve more than tol={self.tol:f} for "
                       f"{self.n_iter_no_change} consecutive epochs.")
            if self.learning_rate is not None and self.learning_rate.keep_going(self.model.optimizer):
                self.no_improvement = 0
                if self.verbose:
                    print(f"{message} Setting learning rate to {self.model.optimizer.learning_rate:f}")
                return
            if self.verbose:
                print(f"{message} Stopping.")
            self.converged = True
            self.model.stop_training = True

    def _count(self, loss):
        if self.validation_score is not None:
            score = float(self.validation_score())
            self.scores.append(score)
            if self.verbose:
                print("Validation score: %f" % score)
            worse = score < self.best_score + self.tol
            if score > self.best_score:
                self.best_score = score
                self.best_weights = self.model.get_weights(include_state=True)
        else:
            worse = loss > self.best_loss - self.tol
            if loss < self.best_loss:
                self.best_loss = loss
        self.no_improvement = self.no_improvement + 1 if worse else 0


class BaseMLP(BaseEstimator):
    """Parameters, network construction and training shared by the estimators.

    Subclasses define ``_output_spec(n_outputs)`` -> ``(units, activation, loss)``,
    ``_encode_targets``, ``_validation_score``, ``_loss_scale(n_outputs)`` and
    ``_out_activation``.
    """

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "kernel_initializer": [None, str, callable],
        "optimizer": [None, str, dict, HasMethods("update")],
        "l1": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "learning_rate_schedule": [None, dict, callable],
        "callbacks": [None, list],
        "dtype": [None, StrOptions({"float32", "float64"})],
    }

    # -- construction ------------------------------------------------------------------
    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        if any(isinstance(s, bool) or not isinstance(s, Integral) or s < 1 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0 integers, got {sizes}.")
        return [int(s) for s in sizes]

    def _check_solver_options(self):
        """Contradictions between scikit-learn's and gradwise's parameters, before any work."""
        if self.solver == "lbfgs":
            if self.optimizer is not None:
                raise ValueError(f"optimizer={self.optimizer!r} and solver='lbfgs' both choose "
                                 "the optimizer; pass optimizer=None for L-BFGS, or a stochastic "
                                 "solver ('adam', 'sgd') to use optimizer.")
            if self.dropout:
                raise ValueError(f"dropout={self.dropout}: solver='lbfgs' needs a deterministic "
                                 "objective, and dropout draws new masks at every evaluation; "
                                 "use dropout=0 or solver='adam'/'sgd'.")

    def _check_gradwise_parameters(self):
        """gradwise's parameters that the declared constraints only type-check (names and
        configs of optimizers, schedules and initializers; callback objects), resolved once at
        the start of ``fit``, before the data, as scikit-learn validates its parameters."""
        self._make_optimizer()
        if self.kernel_initializer is not None:
            initializers.get(self.kernel_initializer, "kernel_initializer")
        for callback in self.callbacks or []:
            if not isinstance(callback, Callback):
                raise TypeError("callbacks: expected Callback instances, received "
                                f"{type(callback).__name__}.")

    def _batch_size(self, n_samples):
        if self.solver == "lbfgs":  # full batch, as scikit-learn (batch_size is ignored)
            return n_samples
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

    def _build_network(self, n_features, n_outputs, seed, dtype):
        units, output_activation, loss = self._output_spec(n_outputs)
        activation = _ACTIVATIONS[self.activation]
        stack = []
        initializer = self.kernel_initializer or "glorot_uniform"  # None: replaced after build
        for size in self._hidden_sizes():
            stack.append(gw_layers.Dense(size, activation=activation,
                                         kernel_initializer=initializer))
            if self.batch_norm:
                stack.append(gw_layers.BatchNormalization())
            if self.dropout:
                stack.append(gw_layers.Dropout(self.dropout))
        stack.append(gw_layers.Dense(units, activation=output_activation,
                                     kernel_initializer=initializer))
        model = Sequential(stack, input_dim=n_features, seed=seed, dtype=dtype)
        model.compile(optimizer=self._make_optimizer(), loss=loss)
        model.build(n_features)
        return model

    def _make_optimizer(self):
        """A fresh optimizer. ``solver="lbfgs"``: :class:`~gradwise.optimizers.LBFGS`.
        Otherwise gradwise's ``optimizer`` wins when given (a name or config uses
        ``learning_rate_init`` unless the config sets a rate; an object is copied), else the
        solver's (Adam with ``beta_1``, ``beta_2``, ``epsilon`` added to the uncorrected root, as
        scikit-learn's; SGD with ``momentum`` and
        ``nesterovs_momentum``); ``learning_rate_schedule`` replaces the rate."""
        if self.solver == "lbfgs":
            return gw_optimizers.LBFGS(max_fun=self.max_fun, tol=self.tol)
        spec = self.optimizer
        if spec is None:
            optimizer = (gw_optimizers.Adam(self.learning_rate_init, self.beta_1, self.beta_2,
                                            self.epsilon, epsilon_hat=True)  # as scikit-learn
                         if self.solver == "adam" else
                         gw_optimizers.SGD(self.learning_rate_init, self.momentum,
                                           nesterov=self.nesterovs_momentum and self.momentum > 0))
        else:
            if isinstance(spec, str):
                gw_optimizers.get(spec, "optimizer")  # an unknown name fails as a name
                spec = {"class_name": spec, "config": {"learning_rate": self.learning_rate_init}}
            optimizer = gw_optimizers.get(copy.deepcopy(spec), "optimizer")
        if self.learning_rate_schedule is not None:
            schedule = self.learning_rate_schedule
            schedule = (schedules.get(schedule, "learning_rate_schedule")
                        if isinstance(schedule, dict) else copy.deepcopy(schedule))
            optimizer.learning_rate = schedule
        return optimizer

    def _learning_rate_rule(self):
        """scikit-learn's ``learning_rate`` (SGD solver only, as there; not with gradwise's
        ``optimizer`` or ``learning_rate_schedule``, which win)."""
        if (self.solver != "sgd" or self.optimizer is not None
                or self.learning_rate_schedule is not None or self.learning_rate == "constant"):
            return None
        return _SGDLearningRate(self.learning_rate, self.learning_rate_init, self.power_t)

    def _seed(self, random_state):
        """The network's seed (dropout masks): an integer ``random_state`` itself, so that the
        draws scikit-learn makes from it (weights, validation split, epoch orders) stay its."""
        if isinstance(self.random_state, Integral):
            return int(self.random_state)
        return int(random_state.randint(np.iinfo(np.int32).max))

    # -- training ----------------------------------------------------------------------
    def _prepare_sample_weight(self, sample_weight, X, y_index, n_outputs):
        """Sample weights times class weights, rescaled to mean ``_loss_scale`` (so that
        weighting changes the balance between samples, not the effective learning rate, and
        losses are on scikit-learn's scale); and their mean before rescaling."""
        weights = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        weights = weights * self._class_weights(y_index)
        total = weights.sum()
        if not total > 0:
            raise ValueError("sample_weight: expected at least one positive weight (after class "
                             "weights).")
        return weights * (len(weights) / total * self._loss_scale(n_outputs)), total / len(weights)

    def _class_weights(self, y_index):
        return 1.0

    def _validate_training_data(self, X, y, reset):
        X, y = validate_data(self, X, y, reset=reset, accept_sparse=["csr", "csc"],
                             multi_output=True, y_numeric=self._y_numeric,
                             dtype=(np.float64, np.float32))
        if scipy.sparse.issparse(X):  # the engine computes on dense arrays
            X = X.toarray()
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _fit(self, X, y, sample_weight, incremental, classes=None):
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        self._check_solver_options()
        self._check_gradwise_parameters()
        first = not hasattr(self, "model_") or (not incremental and not self.warm_start)
        X, y = self._validate_training_data(X, y, reset=first)
        dtype = np.dtype(self.dtype or X.dtype)
        targets, n_outputs = self._encode_targets(y, first, incremental, classes)
        sample_weight, weight_mean = self._prepare_sample_weight(sample_weight, X, targets, n_outputs)
        random_state = check_random_state(self.random_state)
        if first:  # scikit-learn's initial weights are its random_state's first draws
            initial = (self._sklearn_initial_weights(X.shape[1], n_outputs, random_state, dtype)
                       if self.kernel_initializer is None else None)
            self._initialize(X, n_outputs, self._seed(random_state), dtype, initial)
        elif not incremental or self.model_.optimizer is None:  # new optimizer, same weights
            self.model_.optimizer = self._make_optimizer()
            self.model_._pack()
        X = X.astype(self.model_.dtype, copy=False)
        early = self.early_stopping and self.solver != "lbfgs"
        train, validation = self._split(X, targets, sample_weight, random_state, early)
        batch_size = self._batch_size(len(train[0]))
        self._set_penalties(batch_size, weight_mean)
        self._diverged = False
        self.callbacks_ = self._copy_callbacks(incremental)
        if self.solver == "lbfgs":
            self._fit_lbfgs(train)
        else:
            if self.shuffle and hasattr(self.model_, "_shuffle_rng"):
                self.model_._shuffle_rng = _SklearnShuffle(random_state)
            self._fit_stochastic(train, validation, batch_size, incremental)
        restored = early and self.best_validation_score_ is not None
        if (getattr(self, "_diverged", False) and not restored) or \
                not np.isfinite(self.model_.params_buffer).all():
            raise ValueError("Solver produced non-finite parameter weights. The input data may "
                             "contain large values and need to be preprocessed.")
        return self

    def _sklearn_initial_weights(self, n_features, n_outputs, random_state, dtype):
        """scikit-learn's MLP initialization, drawn as it draws it: layer by layer, kernel then
        bias, each uniform in ``+-sqrt(6 / (fan_in + fan_out))`` (2 instead of 6 for the
        logistic activation)."""
        units = [n_features, *self._hidden_sizes(), self._output_spec(n_outputs)[0]]
        factor = 2.0 if self.activation == "logistic" else 6.0
        coefs, intercepts = [], []
        for fan_in, fan_out in zip(units[:-1], units[1:]):
            bound = np.sqrt(factor / (fan_in + fan_out))
            coefs.append(random_state.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype))
            intercepts.append(random_state.uniform(-bound, bound, fan_out).astype(dtype))
        return coefs, intercepts

    def _initialize(self, X, n_outputs, seed, dtype, initial=None):
        pending = getattr(self, "_assigned_weights", None)
        self.model_ = self._build_network(X.shape[1], n_outputs, seed, dtype)
        if initial is not None:
            self._load_weights(*initial)
        if pending is not None:  # coefs_/intercepts_ assigned before the first fit
            self._load_weights(*pending)
            del self._assigned_weights
        self.n_outputs_, self.n_layers_ = n_outputs, len(self._hidden_sizes()) + 2
        self.out_activation_ = self._out_activation(n_outputs)
        self.loss_curve_, self.n_iter_, self.t_, self._epochs = [], 0, 0, 0
        self._no_improvement_count = 0
        early = self.early_stopping and self.solver != "lbfgs"
        self.best_loss_ = None if early else math.inf
        self.validation_scores_ = [] if early else None
        self.best_validation_score_ = -math.inf if early else None

    def _split(self, X, targets, sample_weight, random_state, early):
        if not early:
            return (X, targets, sample_weight), None
        parts = train_test_split(X, targets, sample_weight, random_state=random_state,
                                 test_size=self.validation_fraction,
                                 stratify=self._stratify(targets))
        if len(parts[1]) < 2:
            raise ValueError("The validation set is too small. Increase 'validation_fraction' "
                             "or the size of your dataset.")
        return parts[0::2], parts[1::2]

    def _stratify(self, targets):
        return None

    def _monitor(self, validation, n_train, stopping=True):
        return _ConvergenceMonitor(
            self.tol, self.n_iter_no_change,
            (lambda: self._checked_score(*validation)) if validation is not None else None,
            best_loss=math.inf if self.best_loss_ is None else self.best_loss_,
            best_score=(-math.inf if self.best_validation_score_ is None
                        else self.best_validation_score_),
            no_improvement=self._no_improvement_count, learning_rate=self._learning_rate_rule(),
            samples_seen=self.t_, n_train=n_train, verbose=bool(self.verbose), stopping=stopping)

    def _copy_callbacks(self, incremental):
        """The user's callbacks for this run: copies, as ``fit`` never changes its parameters
        (scikit-learn's rule), kept as ``callbacks_`` to be read after fitting. ``fit`` copies
        anew; ``partial_fit`` carries on with the previous call's copies, unless ``callbacks``
        was set to other objects since."""
        if incremental and hasattr(self, "callbacks_") and self._callbacks_copied is self.callbacks:
            return self.callbacks_
        self._callbacks_copied = self.callbacks
        return copy.deepcopy(list(self.callbacks or []))

    def _train(self, train, monitor, epochs, batch_size):
        callbacks = [monitor] + self.callbacks_
        from .._training import TrainingDiverged
        try:
            self.model_.fit(train[0], self._network_targets(train[1]),
                            epochs=self._epochs + epochs, initial_epoch=self._epochs,
                            batch_size=batch_size, verbose=0, callbacks=callbacks,
                            sample_weight=train[2], shuffle=self.shuffle)
        except TrainingDiverged as error:
            # scikit-learn's MLP carries on with a non-finite loss and a NaN validation score;
            # the epoch that diverged is recorded so, and fit() then keeps the best weights
            # (early stopping) or refuses the non-finite result with scikit-learn's message.
            monitor.losses.append(float(error.loss))
            if monitor.validation_score is not None:
                monitor.scores.append(float("nan"))
            self._diverged = True
        self.n_iter_ = len(monitor.losses)
        self._epochs += self.n_iter_
        self.loss_curve_ += monitor.losses
        if monitor.losses:
            self.loss_ = monitor.losses[-1]

    def _fit_stochastic(self, train, validation, batch_size, incremental):
        n_train = len(train[0])
        monitor = self._monitor(validation, n_train)
        self._train(train, monitor, 1 if incremental else self.max_iter, batch_size)
        self.t_ += self.n_iter_ * n_train
        self._no_improvement_count = monitor.no_improvement
        if validation is not None:
            self.validation_scores_ = (self.validation_scores_ or []) + monitor.scores
            self.best_validation_score_ = monitor.best_score
            self.best_loss_ = None
            if monitor.best_weights is not None:
                self.model_.set_weights(monitor.best_weights, include_state=True)
        else:
            self.best_loss_ = monitor.best_loss
        if not incremental and not monitor.converged and self.n_iter_ == self.max_iter:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached "
                          "and the optimization hasn't converged yet.", ConvergenceWarning)

    def _fit_lbfgs(self, train):
        monitor = self._monitor(None, len(train[0]), stopping=False)
        self._train(train, monitor, self.max_iter, None)
        result = self.model_.optimizer.result_
        self.n_iter_ = min(result.nit, self.max_iter)
        self.loss_ = float(result.fun)
        self.t_ += self.n_iter_ * len(train[0])
        self.best_loss_ = min(self.loss_curve_, default=self.loss_)
        if result.status != 0:
            warnings.warn(f"lbfgs failed to converge after {self.n_iter_} iteration(s) "
                          f"(status={result.status}):\n{result.message}\n\nIncrease the number "
                          f"of iterations (max_iter={self.max_iter}) or of function evaluations "
                          f"(max_fun={self.max_fun}), or scale the data (e.g. StandardScaler).",
                          ConvergenceWarning)

    def _checked_score(self, X, targets, sample_weight):
        """The validation score, NaN when the network's outputs are not finite."""
        outputs = np.asarray(self.model_.predict(X), dtype=np.float64)
        if not np.isfinite(outputs).all():
            return math.nan
        return float(self._validation_score(outputs, targets, sample_weight))

    def _network_targets(self, targets):
        return targets

    # -- fitted weights, named as scikit-learn's MLP names them ------------------------
    @property
    def coefs_(self):
        """The kernels of the Dense layers, ``coefs_[i]`` of shape (inputs of layer i,
        units of layer i), as in scikit-learn's MLP (copies of ``model_``'s weights).
        Assigning a list of arrays sets the network's kernels (before the first fit too)."""
        pending = getattr(self, "_assigned_weights", None)
        if pending is not None and not hasattr(self, "model_"):
            return pending[0]
        return [layer.params["W"].copy() for layer in self._dense_layers()]

    @coefs_.setter
    def coefs_(self, value):
        self._assign_weights(value, None)

    @property
    def intercepts_(self):
        """The biases of the Dense layers, ``intercepts_[i]`` of shape (units of layer i,)."""
        pending = getattr(self, "_assigned_weights", None)
        if pending is not None and not hasattr(self, "model_"):
            return pending[1]
        return [layer.params["b"].copy() for layer in self._dense_layers()]

    @intercepts_.setter
    def intercepts_(self, value):
        self._assign_weights(None, value)

    def _assign_weights(self, coefs, intercepts):
        if hasattr(self, "model_"):
            self._load_weights(coefs, intercepts)
            return
        pending = list(getattr(self, "_assigned_weights", None) or (None, None))
        if coefs is not None:
            pending[0] = coefs if isinstance(coefs, list) else list(coefs)
        if intercepts is not None:
            pending[1] = intercepts if isinstance(intercepts, list) else list(intercepts)
        self._assigned_weights = tuple(pending)

    def _load_weights(self, coefs, intercepts):
        """Copy assigned kernels/biases into the network, checking their shapes."""
        layers = self._dense_layers()
        for key, arrays, name in (("W", coefs, "coefs_"), ("b", intercepts, "intercepts_")):
            if arrays is None:
                continue
            if len(arrays) != len(layers):
                raise ValueError(f"{name}: expected {len(layers)} arrays (one per layer), "
                                 f"received {len(arrays)}.")
            for i, (layer, array) in enumerate(zip(layers, arrays)):
                array = np.asarray(array, dtype=np.float64)
                target = layer.params[key]
                if array.size != target.size or array.ndim not in (target.ndim, 0, 1):
                    raise ValueError(f"{name}[{i}]: expected shape {target.shape}, received "
                                     f"{array.shape}.")
                target[...] = array.reshape(target.shape)

    def _dense_layers(self):
        check_is_fitted(self, "model_")
        return [layer for layer in self.model_.layers if isinstance(layer, gw_layers.Dense)]

    @property
    def _optimizer(self):
        """The network's optimizer (scikit-learn's private name, which some code reads)."""
        check_is_fitted(self, "model_")
        return self.model_.optimizer

    def _forward(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse=["csr", "csc"], dtype=np.float64)
        if scipy.sparse.issparse(X):
            X = X.toarray()
        # Inference runs in float64 whatever the training precision: BLAS picks its kernels by
        # matrix shape, so in float32 a row's output would change in the last bits with the
        # other rows predicted alongside it. Upcast weights make predictions row-invariant.
        return np.asarray(self.model_._predict_prepared(X), dtype=np.float64)

    # -- pickling (scikit-learn's convention; gradwise model files never pickle) ------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.input_tags.sparse = True
        return tags
