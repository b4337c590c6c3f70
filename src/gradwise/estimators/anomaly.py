"""``AutoencoderAnomalyDetector``: a scikit-learn outlier detector scoring rows by how badly an
autoencoder trained on (mostly) normal data reconstructs them."""
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import regularizers
from ..autoencoder import Autoencoder, warn_if_identity_possible
from ..callbacks import EarlyStopping
from ..layers.normalization import standard_moments
from ..optimizers import Adam


class AutoencoderAnomalyDetector(OutlierMixin, BaseEstimator):
    """Outlier detection by the reconstruction error of an autoencoder.

    Fit on data that is mostly normal; rows the network reconstructs badly are anomalies.
    The conventions are those of scikit-learn's outlier detectors (``IsolationForest``):
    ``score_samples`` is higher for normal rows, ``decision_function`` is negative for
    outliers, ``predict`` returns +1 (inlier) or -1 (outlier).

    Parameters
    ----------
    encoder_units : tuple of int, default (32, 8)
        Encoder widths, the last is the code size; the decoder mirrors them. With no layer
        narrower than the features and ``noise_stddev=0``, ``fit`` warns (``UserWarning``):
        the network could learn the identity and reconstruct anomalies as well as normal rows.
    activation : str, default "relu"
    noise_stddev : float, default 0.0
        Gaussian noise on the (standardized) inputs in training: a denoising autoencoder.
    dropout : float, default 0.0
    l2 : float, default 0.0
        L2 penalty ``l2 / 2 * sum(W ** 2)`` on every kernel.
    learning_rate_init : float, default 1e-3
        Adam's learning rate.
    batch_size : int or "auto", default "auto"
        ``min(200, n_samples)``, as scikit-learn's MLP.
    max_iter : int, default 200
        Epochs.
    validation_fraction : float or None, default 0.1
        Share of the training rows held out for early stopping on the reconstruction loss
        (patience ``n_iter_no_change``, best weights restored); None trains ``max_iter`` epochs.
    n_iter_no_change : int, default 10
    contamination : float in (0, 0.5], default 0.01
        Expected share of outliers in the training data: the threshold ``offset_`` is that
        quantile of the training scores.
    standardize : bool, default True
        Center and scale each feature on the training data first, so that every feature
        counts alike in the reconstruction error.
    random_state : int, RandomState instance or None
    verbose : int, default 0
    dtype : {"float32", "float64"}, default "float32"
        Training precision; scores are always computed in float64.

    Attributes
    ----------
    autoencoder_ : Autoencoder
    offset_ : float
        ``decision_function = score_samples - offset_``.
    mean_, scale_ : ndarray of shape (n_features,)
    loss_curve_ : list of float
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str, when fitted on a DataFrame with column names

    Notes
    -----
    ``score_samples(X) = -mean_j ((x_ij - mean_j) / scale_j - x_hat_ij)^2``, the negated mean
    squared reconstruction error of each standardized row.

    Examples
    --------
    >>> import numpy as np, gradwise as gw
    >>> rng = np.random.default_rng(0)
    >>> normal = rng.normal(size=(500, 2)) @ [[1.0, 1.0, 1.0, 1.0], [1.0, -1.0, 0.0, 2.0]]
    >>> detector = gw.AutoencoderAnomalyDetector((8, 2), random_state=0).fit(normal)
    >>> detector.predict([[0.0, 0.0, 0.0, 0.0], [5.0, -5.0, 5.0, -5.0]]).tolist()
    [1, -1]
    """

    _parameter_constraints = {
        "encoder_units": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu",
                                   "selu"})],
        "noise_stddev": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [None, Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "standardize": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "dtype": [StrOptions({"float32", "float64"})],
    }

    def __init__(self, encoder_units=(32, 8), activation="relu", noise_stddev=0.0, dropout=0.0,
                 l2=0.0, learning_rate_init=1e-3, batch_size="auto", max_iter=200,
                 validation_fraction=0.1, n_iter_no_change=10, contamination=0.01,
                 standardize=True, random_state=None, verbose=0, dtype="float32"):
        self.encoder_units = encoder_units
        self.activation = activation
        self.noise_stddev = noise_stddev
        self.dropout = dropout
        self.l2 = l2
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.contamination = contamination
        self.standardize = standardize
        self.random_state = random_state
        self.verbose = verbose
        self.dtype = dtype

    def fit(self, X, y=None):
        """Train on ``X`` (n_samples, n_features), mostly normal rows; ``y`` is ignored."""
        self._validate_params()
        X = validate_data(self, X, dtype=np.float64)
        # as Standardizer and the Normalization layer: constant columns are centred only
        self.mean_, self.scale_ = standard_moments(X, self.standardize, self.standardize)
        Z = (X - self.mean_) / self.scale_
        rng = check_random_state(self.random_state)
        self.autoencoder_ = self._make_autoencoder(X.shape[1], int(rng.randint(2**31 - 1)))
        history = self._train(Z, rng)
        self.loss_curve_ = history.history["loss"]
        self.n_iter_ = len(self.loss_curve_)
        self.offset_ = float(np.percentile(self.score_samples(X), 100.0 * self.contamination))
        return self

    def _make_autoencoder(self, n_features, seed):
        units = self.encoder_units
        units = [units] if isinstance(units, Integral) else list(units)
        if not self.noise_stddev:  # in the detector's own terms (it has no input_dropout)
            warn_if_identity_possible(
                units, n_features, f"Give encoder_units a last width below {n_features}, or "
                "set noise_stddev > 0 (a denoising autoencoder): else anomalies may be "
                "reconstructed about as well as normal rows.")
        l2 = regularizers.L2(self.l2) if self.l2 else None
        autoencoder = Autoencoder(units, activation=self.activation, noise_stddev=self.noise_stddev,
                                  dropout=self.dropout, kernel_regularizer=l2, seed=seed,
                                  dtype=self.dtype)
        autoencoder._build(n_features)  # the warning above replaces build's
        return autoencoder.compile(optimizer=Adam(self.learning_rate_init), loss="mse")

    def _train(self, Z, rng):
        batch_size = min(200, len(Z)) if self.batch_size == "auto" else min(self.batch_size, len(Z))
        callbacks, validation = [], None
        n_dev = int(round(len(Z) * (self.validation_fraction or 0.0)))
        if n_dev >= 1 and len(Z) - n_dev >= 1:
            order = rng.permutation(len(Z))
            Z, validation = Z[order[n_dev:]], Z[order[:n_dev]]
            callbacks.append(EarlyStopping(patience=self.n_iter_no_change,
                                           restore_best_weights=True))
        return self.autoencoder_.fit(Z, epochs=self.max_iter, batch_size=batch_size,
                                     validation_data=validation, callbacks=callbacks,
                                     verbose=2 if self.verbose else 0)

    def score_samples(self, X):
        """Negated reconstruction error of each row, shape (n_samples,): higher is more normal."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return -self.autoencoder_._errors((X - self.mean_) / self.scale_)

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers, shape (n_samples,)."""
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """+1 for inliers, -1 for outliers, shape (n_samples,)."""
        return np.where(self.decision_function(X) < 0, -1, 1)
