"""L-BFGS: SciPy's L-BFGS-B on the model's flat parameter buffer, for full-batch training."""
import math
import numbers

import numpy as np

from .base import Optimizer, _check


class LBFGS(Optimizer):
    """Limited-memory BFGS over the whole training set (small data sets).

    ``Sequential.fit`` hands the whole objective to SciPy's
    ``minimize(method="L-BFGS-B", jac=True)``: the mean loss over all training samples plus
    every regularization penalty, as a function of the flat parameter buffer, with its exact
    gradient from the model's backward pass. Each L-BFGS iteration is one epoch for the
    callbacks and the history; ``fit``'s ``epochs`` is the iteration limit.

    Parameters
    ----------
    max_fun : int, default 15000
        Limit on objective (and gradient) evaluations; line searches take several per
        iteration.
    tol : float, default 1e-4
        Stop when the largest absolute gradient entry falls to ``tol`` (SciPy's ``gtol``).
    ftol : float, default 2.220446049250313e-09
        Stop when the relative decrease of the objective falls to ``ftol`` (SciPy's default).
    memory : int, default 10
        Number of correction pairs kept (SciPy's ``maxcor``).
    name : str, optional

    Attributes
    ----------
    result_ : scipy.optimize.OptimizeResult
        The last run's result (``nit``, ``nfev``, ``status``, ``message``).
    iterations : int
        L-BFGS iterations run, over all fits.

    Notes
    -----
    L-BFGS needs a deterministic objective of all the data, so ``fit`` refuses mini-batches
    (``batch_size`` other than None or at least the number of training samples), data
    augmentation, and stochastic layers (dropout, noise) before any work; ``train_on_batch``
    refuses it too. Batch normalization runs in training mode at each evaluation, so its
    running statistics move with the line search. Minimizes

    .. math:: J(\\theta) = \\frac{1}{n} \\sum_i w_i \\, \\ell(y_i, f_\\theta(x_i)) + R(\\theta)

    computing in the model's dtype; SciPy keeps its iterates in float64.

    Examples
    --------
    >>> import numpy as np, gradwise as gw
    >>> X = np.linspace(-1, 1, 40).reshape(-1, 1); y = 3 * X[:, 0] - 1
    >>> model = gw.Sequential([gw.layers.Dense(1)], input_dim=1, seed=0, dtype="float64")
    >>> _ = model.compile(optimizer=gw.optimizers.LBFGS(tol=1e-10), loss="mse")
    >>> _ = model.fit(X, y, epochs=50, batch_size=None, verbose=0)
    >>> np.round(model.layers[0].params["W"].ravel(), 4)
    array([3.])
    """

    #: ``Sequential.fit`` runs :meth:`minimize` instead of its mini-batch loop.
    full_batch = True

    def __init__(self, max_fun=15000, tol=1e-4, ftol=2.220446049250313e-09, memory=10, name=None):
        super().__init__(1.0, name=name)
        for arg, value in (("max_fun", max_fun), ("memory", memory)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"Expected a positive integer, received {arg}={value!r}")
        self.max_fun, self.memory = int(max_fun), int(memory)
        self.tol = _check("tol", tol, low_open=False, kind="non-negative number")
        self.ftol = _check("ftol", ftol, low_open=False, kind="non-negative number")
        self.result_ = None

    def update(self, params, grads):
        raise ValueError("The LBFGS optimizer minimizes the objective of the whole training set "
                         "and takes no step from one batch's gradients: train with "
                         "fit(X, y, batch_size=None) instead of train_on_batch.")

    def check_fit(self, model, batch_size, n_samples, augment):
        """Refuse what L-BFGS cannot do, before any work."""
        if batch_size is not None and batch_size < n_samples:
            raise ValueError(f"batch_size={batch_size}: the LBFGS optimizer takes the whole "
                             f"training set ({n_samples} samples) as one batch; pass "
                             "batch_size=None.")
        if augment is not None:
            raise ValueError("augment: the LBFGS optimizer needs the same objective at every "
                             "evaluation; data augmentation changes it. Use a stochastic "
                             "optimizer (e.g. 'adam') to train with augmentation.")
        noisy = [layer.name for layer in model.layers
                 if layer.stochastic and not layer.deterministic
                 and getattr(layer, "rate", 1.0) != 0.0 and getattr(layer, "stddev", 1.0) != 0.0]
        if noisy:
            raise ValueError(f"layers {', '.join(noisy)}: the LBFGS optimizer needs a "
                             "deterministic objective, and these layers draw new noise at every "
                             "evaluation; remove them or use a stochastic optimizer.")

    def minimize(self, model, train, epochs, callback_list, validation=None):
        """Run L-BFGS-B for at most ``len(epochs)`` iterations; returns the model's History.

        Parameters
        ----------
        model : Sequential
            Compiled, built and packed, with its loss fused.
        train : tuple (X, y, sample_weight) of prepared arrays
        epochs : range
            Epoch numbers given to the callbacks, one per iteration.
        callback_list : CallbackList
        validation : tuple (X, y, sample_weight), optional
            Evaluated after each iteration into ``val_*`` logs.
        """
        from scipy.optimize import minimize  # loaded on first use: `import gradwise` stays light

        X, y, sample_weight = train
        params, grads = model.params_buffer, model.grads_buffer
        epochs = list(epochs)
        state = {"index": 0, "open": False, "theta": None}

        def objective(theta):
            if not state["open"]:  # the first evaluation of an iteration opens its epoch
                model.optimizer.epoch = epochs[state["index"]]
                callback_list.on_epoch_begin(epochs[state["index"]])
                callback_list.on_batch_begin(0)
                state["open"] = True
            params[...] = theta
            loss, raw = model.loss_and_gradients(X, y, sample_weight)
            state.update(theta=theta.copy(), loss=float(loss), raw=raw)
            return float(loss), grads.astype(np.float64)

        def iteration_done(intermediate_result):
            if not np.array_equal(state["theta"], intermediate_result.x):
                objective(intermediate_result.x)  # the accepted point was not the last one tried
            epoch, loss = epochs[state["index"]], state["loss"]
            logs = {"loss": loss, **model._metric_values(y, state["raw"])}
            callback_list.on_batch_end(0, logs)
            if not math.isfinite(loss):
                model._stop_on_nonfinite(loss, epoch, 0)
            if validation is not None and not model.stop_training:
                params[...] = intermediate_result.x
                logs.update({f"val_{k}": v for k, v in model._evaluate_prepared(*validation).items()})
            callback_list.on_epoch_end(epoch, logs)
            self.iterations += 1
            state["index"] += 1
            state["open"] = False
            if model.stop_training:
                raise StopIteration

        model.stop_training = False
        callback_list.on_train_begin()
        if epochs:
            self.result_ = minimize(objective, params.astype(np.float64), jac=True,
                                    method="L-BFGS-B", callback=iteration_done,
                                    options={"maxiter": len(epochs), "maxfun": self.max_fun,
                                             "gtol": self.tol, "ftol": self.ftol,
                                             "maxcor": self.memory})
            params[...] = self.result_.x
        callback_list.on_train_end()
        return model.history

    def get_config(self):
        return {"name": self.name, "max_fun": self.max_fun, "tol": self.tol, "ftol": self.ftol,
                "memory": self.memory}

    def __repr__(self):
        return f"LBFGS(max_fun={self.max_fun}, tol={self.tol}, memory={self.memory})"
