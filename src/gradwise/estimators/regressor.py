"""``MLPRegressor``: squared error, Poisson and gradwise's robust losses."""
import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if

from ..backend import xp
from ..losses import Loss
from ._docs import _COMMON_DOC, _FITTED_DOC, _NOTES
from .base import BaseMLP, store_parameters
from .classifier import _stochastic_solver


class _PoissonLogLink(Loss):
    """Poisson deviance of a log-mean: the network outputs ``z = log(mu)``.

    Notes
    -----
    Per element ``l = y log(y) - y - y z + exp(z)`` (``y log y = 0`` at ``y = 0``), scikit-learn's
    ``poisson_loss`` of ``mu = exp(z)``; ``dl/dz = exp(z) - y``. Working on ``z`` keeps the
    gradient finite where ``mu`` underflows.
    """

    name = "poisson_log_link"

    def _terms(self, y, z, need_grad):
        mu = xp.exp(z)
        with np.errstate(divide="ignore", invalid="ignore"):
            y_log_y = xp.where(y > 0, y * xp.log(xp.where(y > 0, y, 1)), 0)
        return y_log_y - y - y * z + mu, (mu - y) if need_grad else None


class MLPRegressor(RegressorMixin, BaseMLP):
    __doc__ = f"""Multi-layer perceptron regressor trained by a gradwise ``Sequential``.

    Linear output units, one per target; ``y`` may be (n_samples,) or (n_samples, n_targets).
    Targets are not scaled internally (as scikit-learn); wrap in
    ``TransformedTargetRegressor(transformer=StandardScaler())`` for large-valued targets.

    Parameters
    ----------{_COMMON_DOC}
    loss : {{"squared_error", "poisson", "absolute_error", "huber"}}, default "squared_error"
        ``"poisson"`` (as scikit-learn) predicts ``exp`` of the output units and needs
        non-negative targets; ``"absolute_error"`` and ``"huber"`` are gradwise's.

    Attributes
    ----------{_FITTED_DOC}
    Notes
    -----{_NOTES}"""

    _parameter_constraints = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson", "absolute_error", "huber"})],
    }
    _y_numeric = True
    _LOSSES = {"squared_error": "mse", "absolute_error": "mae", "huber": "huber"}

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=1e-4, batch_size="auto", learning_rate="constant", learning_rate_init=1e-3,
                 power_t=0.5, max_iter=200, shuffle=True, random_state=None, tol=1e-4,
                 verbose=False, warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, n_iter_no_change=10, max_fun=15000, dropout=0.0,
                 batch_norm=False, kernel_initializer=None, optimizer=None, l1=0.0,
                 l2=0.0, learning_rate_schedule=None, callbacks=None, dtype=None,
                 loss="squared_error"):
        store_parameters(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train on ``X`` (n_samples, n_features) and targets ``y`` (n_samples[, n_targets]).

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over ``(X, y)``, continuing from the current weights."""
        return self._fit(X, y, sample_weight, incremental=True)

    def _encode_targets(self, y, first, incremental, classes):
        y = np.asarray(y, dtype=np.float64)
        if self.loss == "poisson" and (y < 0).any():
            raise ValueError("y: loss='poisson' needs non-negative targets; received a minimum "
                             f"of {y.min():g}.")
        if first:
            self._y_1d = y.ndim == 1
            return y, 1 if y.ndim == 1 else y.shape[1]
        if (1 if y.ndim == 1 else y.shape[1]) != self.n_outputs_:
            raise ValueError(f"y: expected {self.n_outputs_} target column(s), received "
                             f"shape {y.shape}.")
        return y, self.n_outputs_

    def _loss_scale(self, n_outputs):
        # scikit-learn halves the squared error and sums the Poisson loss over targets.
        return {"squared_error": 0.5, "poisson": float(n_outputs)}.get(self.loss, 1.0)

    def _out_activation(self, n_outputs):
        return "exp" if self.loss == "poisson" else "identity"

    def _output_spec(self, n_outputs):
        if self.loss == "poisson":
            return n_outputs, "linear", _PoissonLogLink()
        return n_outputs, "linear", self._LOSSES[self.loss]

    def _link(self, outputs):
        return np.exp(outputs) if self.loss == "poisson" else outputs

    def _validation_score(self, outputs, y, sample_weight):
        return r2_score(y, self._link(outputs).reshape(np.shape(y)), sample_weight=sample_weight)

    def predict(self, X):
        """Predictions, shape (n_samples,) or (n_samples, n_targets) as ``y`` was at fit;
        float32 for float32 ``X`` and a float32 network (as scikit-learn), float64 otherwise."""
        single = getattr(X, "dtype", None) == np.float32 and self.model_.dtype == np.float32
        out = self._link(self._forward(X)).astype(np.float32 if single else np.float64, copy=False)
        return out.ravel() if self._y_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.regressor_tags.poor_score = False
        return tags
