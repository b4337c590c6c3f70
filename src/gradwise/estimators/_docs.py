"""Parameter and attribute documentation shared by the estimators' docstrings."""

_COMMON_DOC = """
    hidden_layer_sizes : tuple of int, default (100,)
        Units of each hidden layer.
    activation : str, default "relu"
        scikit-learn's ``identity``, ``logistic``, ``tanh``, ``relu`` or gradwise's
        ``linear``, ``sigmoid``, ``leaky_relu``, ``elu``, ``selu``.
    solver : {"adam", "sgd", "lbfgs"}, default "adam"
        As in scikit-learn: Adam, SGD with momentum, or L-BFGS on the whole training set
        (:class:`gradwise.optimizers.LBFGS`; ``batch_size``, ``shuffle``, ``early_stopping``
        and the learning-rate parameters do not apply, and there is no ``partial_fit``).
    alpha : float, default 1e-4
        L2 penalty with scikit-learn's scaling: ``alpha / 2 * ||W||^2 / batch_size`` per batch.
    batch_size : int or "auto", default "auto"
        ``"auto"`` is ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive"}, default "constant"
        scikit-learn's schedule for ``solver="sgd"``: ``invscaling`` sets the rate to
        ``learning_rate_init / (t + 1) ** power_t`` after each epoch (``t`` samples seen);
        ``adaptive`` divides it by 5 each time the stopping rule would stop, until it is at
        most 1e-6.
    learning_rate_init : float, default 1e-3
        Initial learning rate (of ``solver``'s optimizer, or of ``optimizer`` given by name).
    power_t : float, default 0.5
    max_iter : int, default 200
        Maximum number of epochs (L-BFGS: iterations) of each ``fit``.
    shuffle : bool, default True
    random_state : int, RandomState or None
        Seeds initialization, shuffling, dropout and the validation split.
    tol, n_iter_no_change : float, int or inf
        Stochastic solvers stop when the loss (or, with ``early_stopping``, the validation
        score) has not improved by ``tol`` for more than ``n_iter_no_change`` epochs;
        L-BFGS stops when no gradient entry exceeds ``tol`` in absolute value.
    verbose : bool or int
        Print scikit-learn's lines (``Iteration 1, loss = ...``) after each epoch.
    warm_start : bool
        ``fit`` continues from the previous fit's weights (with a new optimizer).
    momentum : float in [0, 1), default 0.9
        Momentum of ``solver="sgd"``.
    nesterovs_momentum : bool, default True
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the data and keep the weights of the best epoch.
    validation_fraction : float, default 0.1
    beta_1, beta_2, epsilon : float, default 0.9, 0.999, 1e-8
        Adam's parameters for ``solver="adam"``.
    max_fun : int, default 15000
        L-BFGS's limit on loss evaluations.
    dropout : float in [0, 1), default 0
        Dropout rate after each hidden layer (stochastic solvers).
    batch_norm : bool, default False
        Batch normalization after each hidden layer.
    kernel_initializer : str, callable or None, default None
        None is scikit-learn's initialization, drawn as it draws it: kernels and biases
        uniform in ``+-sqrt(6 / (fan_in + fan_out))`` (``2`` instead of ``6`` for the logistic
        activation), from ``random_state`` before any other draw, so an integer
        ``random_state`` starts from scikit-learn's initial weights. A gradwise initializer
        (e.g. ``"he_normal"``) initializes the kernels, the biases then start at 0.
    optimizer : str, dict, Optimizer or None, default None
        gradwise's choice of optimizer: any of :mod:`gradwise.optimizers` (an object is
        copied, never changed). When given it wins over ``solver``'s optimizer and its
        ``momentum``, ``nesterovs_momentum``, ``beta_1``, ``beta_2``, ``epsilon`` and
        ``learning_rate``; it cannot be combined with ``solver="lbfgs"``.
    l1, l2 : float, default 0
        Penalties ``l1 * sum|W|`` and ``l2 / 2 * sum W^2`` (unscaled) on every kernel, added to
        ``alpha``'s.
    learning_rate_schedule : schedule, dict or callable, optional
        A :mod:`gradwise.schedules` schedule; it wins over ``learning_rate``.
    callbacks : list of Callback, optional
        Extra :mod:`gradwise.callbacks`. ``fit`` trains with copies (the objects given stay
        unchanged, as scikit-learn's parameters do); read the trained copies in ``callbacks_``.
    dtype : {"float32", "float64"} or None, default None
        Precision of the network's parameters and arithmetic; None follows ``X`` as
        scikit-learn does (float32 for float32 input, float64 otherwise).
"""

_FITTED_DOC = """
    model_ : Sequential
        The trained network.
    coefs_, intercepts_ : list of ndarray
        Kernels (n_in, n_out) and biases (n_out,) of each layer, as in scikit-learn (copies;
        assigning a list sets the network's weights, before the first fit too).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names.
    n_outputs_, n_layers_ : int
    out_activation_ : str
        scikit-learn's name of the output activation.
    loss_ : float
        Loss of the last epoch (L-BFGS: of the solution).
    loss_curve_ : list of float
        Training loss (with the ``alpha`` penalty, on scikit-learn's scale) of each epoch, over
        all fits since the network was created.
    best_loss_ : float or None
        Lowest training loss (None with ``early_stopping``).
    validation_scores_ : list of float or None
        Validation score of each epoch with ``early_stopping`` (accuracy or R^2; NaN when the
        network's outputs are not finite).
    best_validation_score_ : float or None
    n_iter_ : int
        Number of epochs (L-BFGS: iterations) the last ``fit`` or ``partial_fit`` ran.
    t_ : int
        Number of training samples seen.
    callbacks_ : list of Callback
        The copies of ``callbacks`` that trained, in the same order, with what they recorded
        (e.g. ``clf.callbacks_[0].records`` of a :class:`gradwise.GradientHealth`). Each
        ``fit`` makes new copies; ``partial_fit`` carries on with the previous call's, unless
        ``callbacks`` was set to other objects since.
"""

_NOTES = """
    Sparse ``X`` is accepted and densified (the network computes on dense arrays). Losses are
    on scikit-learn's scale (so ``alpha`` and ``tol`` mean the same): cross-entropy summed over
    labels, squared error halved. Sample weights (times class weights) are rescaled to that
    scale's mean before training, so they move the balance between samples without changing
    the step size.
"""
