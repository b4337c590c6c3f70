"""L-BFGS (gw.optimizers.LBFGS and solver="lbfgs"), scikit-learn's solvers and schedules, and
multi-label classification, checked against scikit-learn's MLP run on the same data from the
same initial weights, and against closed-form least squares."""
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_multilabel_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkClassifier, MLPRegressor as SkRegressor
from sklearn.preprocessing import StandardScaler

import gradwise as gw


@pytest.fixture(autouse=True)
def numpy_kernels(monkeypatch):
    monkeypatch.setenv("GRADWISE_KERNELS", "never")  # one compute path whatever ran before


def sklearn_initial_weights(seed, units, activation):
    """scikit-learn's documented MLP initialization (Glorot uniform kernels and biases, factor
    2 instead of 6 for logistic), drawn layer by layer from RandomState(seed)."""
    rs, coefs, intercepts = np.random.RandomState(seed), [], []
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        bound = np.sqrt((2.0 if activation == "logistic" else 6.0) / (fan_in + fan_out))
        coefs.append(rs.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rs.uniform(-bound, bound, fan_out))
    return coefs, intercepts


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("max_iter", [3, 25])
def test_lbfgs_matches_sklearn_from_copied_initial_weights(iris, task, max_iter):
    """Our L-BFGS from scikit-learn's initial weights (assigned through coefs_/intercepts_,
    overriding another initializer) ends where scikit-learn's does at equal iterations."""
    X, y = iris
    if task == "binary":
        y = (y == 2).astype(int)
    kwargs = dict(hidden_layer_sizes=(6,), activation="tanh", solver="lbfgs", alpha=1e-3,
                  max_iter=max_iter, random_state=3)
    if task == "regression":
        y = X[:, 0] * X[:, 1] + np.sin(X[:, 2])
        X = X[:, 1:]
        theirs = _fit_quietly(SkRegressor(**kwargs), X, y)
        ours = gw.MLPRegressor(**kwargs, kernel_initializer="he_normal")
        n_out = 1
    else:
        theirs = _fit_quietly(SkClassifier(**kwargs), X, y)
        ours = gw.MLPClassifier(**kwargs, kernel_initializer="he_normal")
        n_out = 1 if task == "binary" else 3
    ours.coefs_, ours.intercepts_ = sklearn_initial_weights(3, [X.shape[1], 6, n_out], "tanh")
    _fit_quietly(ours, X, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-9)
    assert ours.loss_curve_[-1] == pytest.approx(theirs.loss_, rel=1e-9)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
    if task == "regression":
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-7, atol=1e-9)
    else:
        np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-8)


def test_default_initialization_is_sklearns_for_an_integer_random_state(iris):
    X, y = iris
    kwargs = dict(hidden_layer_sizes=(5, 4), activation="logistic", solver="lbfgs", max_iter=15,
                  random_state=11)
    ours = _fit_quietly(gw.MLPClassifier(**kwargs), X, y)
    theirs = _fit_quietly(SkClassifier(**kwargs), X, y)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-9)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-8)


@pytest.mark.parametrize("learning_rate, momentum, nesterov", [
    ("constant", 0.0, False), ("constant", 0.9, True), ("constant", 0.9, False),
    ("invscaling", 0.5, True), ("adaptive", 0.0, False)])
def test_sgd_loss_curve_matches_sklearn(iris, learning_rate, momentum, nesterov):
    """Full-batch SGD with scikit-learn's momentum and schedules: the same loss curve."""
    X, y = iris
    kwargs = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate=learning_rate,
                  learning_rate_init=0.2, power_t=0.3, momentum=momentum,
                  nesterovs_momentum=nesterov, batch_size=len(X), max_iter=60, tol=1e-3,
                  n_iter_no_change=3, random_state=0)
    ours = _fit_quietly(gw.MLPClassifier(**kwargs), X, y)
    theirs = _fit_quietly(SkClassifier(**kwargs), X, y)
    assert ours.n_iter_ == theirs.n_iter_ and ours.t_ == theirs.t_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
    assert ours._optimizer.learning_rate == pytest.approx(theirs._optimizer.learning_rate)


@pytest.mark.parametrize("epsilon", [1e-8, 1e-3])
def test_adam_matches_sklearn_where_the_second_moment_is_tiny(iris, epsilon):
    """scikit-learn's Adam adds epsilon to the root of the uncorrected second moment: with a
    constant input column (whose weights see only the L2 gradient) the two forms part."""
    X, y = iris
    X = np.column_stack([X, np.zeros(len(X))])
    kwargs = dict(hidden_layer_sizes=(8,), solver="adam", learning_rate_init=0.01,
                  epsilon=epsilon, batch_size=len(X), max_iter=40, tol=0.0, alpha=1e-3,
                  random_state=0)
    ours = _fit_quietly(gw.MLPClassifier(**kwargs), X, y)
    theirs = _fit_quietly(SkClassifier(**kwargs), X, y)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-12)


def test_minibatch_sgd_visits_samples_in_sklearns_order(iris):
    X, y = iris
    kwargs = dict(hidden_layer_sizes=(8,), solver="sgd", batch_size=50, max_iter=5,
                  random_state=4, momentum=0.0, alpha=0.0, learning_rate_init=0.05)
    ours = _fit_quietly(gw.MLPClassifier(**kwargs), X, y)
    theirs = _fit_quietly(SkClassifier(**kwargs), X, y)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
    shuffled = _fit_quietly(gw.MLPClassifier(**{**kwargs, "random_state": 5}), X, y)
    assert not np.allclose(shuffled.loss_curve_, theirs.loss_curve_)


def test_lbfgs_optimizer_reaches_least_squares_and_reports_each_iteration():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    y = X @ np.array([1.5, -2.0, 0.5, 3.0]) + 0.7 + rng.normal(scale=0.1, size=80)
    model = gw.Sequential([gw.layers.Dense(1)], input_dim=4, seed=0, dtype="float64")
    model.compile(optimizer=gw.optimizers.LBFGS(tol=1e-10, ftol=1e-15), loss="mse",
                  metrics=["mae"])
    seen = []
    probe = gw.callbacks.LearningRateScheduler(lambda epoch, lr: seen.append(epoch) or lr)
    history = model.fit(X, y, epochs=100, batch_size=None, verbose=0, callbacks=[probe],
                        validation_data=(X[:10], y[:10]))
    solution, *_ = np.linalg.lstsq(np.column_stack([X, np.ones(80)]), y, rcond=None)
    np.testing.assert_allclose(model.layers[0].params["W"].ravel(), solution[:4], rtol=1e-7)
    assert model.layers[0].params["b"][0] == pytest.approx(solution[4], rel=1e-7)
    result = model.optimizer.result_
    assert 1 < result.nit < 100
    assert len(history.history["loss"]) == result.nit == model.optimizer.iterations
    assert seen == list(range(result.nit))
    assert history.history["loss"][-1] == pytest.approx(result.fun)
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert all(a >= b for a, b in zip(history.history["loss"], history.history["loss"][1:]))


def test_lbfgs_optimizer_stops_on_a_callback_and_at_epochs():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(60, 3)), rng.integers(0, 2, 60)
    model = gw.Sequential([gw.layers.Dense(4, activation="tanh"),
                           gw.layers.Dense(1, activation="sigmoid")], input_dim=3, seed=0)
    model.compile(optimizer="lbfgs", loss="binary_crossentropy")
    stopper = gw.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=1e9)
    history = model.fit(X, y, epochs=50, batch_size=None, verbose=0, callbacks=[stopper])
    assert len(history.history["loss"]) == 2  # the second iteration did not improve by 1e9
    history = model.fit(X, y, epochs=3, batch_size=len(X), verbose=0)
    assert len(history.history["loss"]) == 3 and model.optimizer.result_.nit == 3


def test_lbfgs_optimizer_refuses_minibatches_noise_and_single_steps():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=40)
    model = gw.Sequential([gw.layers.Dense(1)], input_dim=3, seed=0)
    model.compile(optimizer=gw.optimizers.LBFGS(), loss="mse")
    model.build()
    before = model.params_buffer.copy()
    with pytest.raises(ValueError, match="batch_size=32: the LBFGS optimizer takes the whole"):
        model.fit(X, y, verbose=0)
    with pytest.raises(ValueError, match="augment"):
        model.fit(X, y, batch_size=None, augment=lambda a, b, r: (a, b), verbose=0)
    with pytest.raises(ValueError, match="train_on_batch"):
        model.train_on_batch(X, y)
    np.testing.assert_array_equal(model.params_buffer, before)  # no work was done
    noisy = gw.Sequential([gw.layers.Dense(4), gw.layers.Dropout(0.5), gw.layers.Dense(1)],
                          input_dim=3, seed=0)
    noisy.compile(optimizer="lbfgs", loss="mse")
    with pytest.raises(ValueError, match="dropout.*deterministic"):
        noisy.fit(X, y, batch_size=None, verbose=0)
    with pytest.raises(ValueError, match="max_fun"):
        gw.optimizers.LBFGS(max_fun=0)
    config = gw.optimizers.LBFGS(max_fun=50, tol=1e-6).get_config()
    again = gw.optimizers.get({"class_name": "LBFGS", "config": config})
    assert (again.max_fun, again.tol) == (50, 1e-6)


def test_estimator_lbfgs_conflicts_and_no_partial_fit(iris):
    X, y = iris
    with pytest.raises(ValueError, match="optimizer='sgd' and solver='lbfgs'"):
        gw.MLPClassifier(solver="lbfgs", optimizer="sgd").fit(X, y)
    with pytest.raises(ValueError, match="dropout=0.2: solver='lbfgs'"):
        gw.MLPRegressor(solver="lbfgs", dropout=0.2).fit(X, y)
    assert not hasattr(gw.MLPClassifier(solver="lbfgs"), "partial_fit")
    assert not hasattr(gw.MLPRegressor(solver="lbfgs"), "partial_fit")
    assert hasattr(gw.MLPRegressor(solver="sgd"), "partial_fit")
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge after 2 iteration"):
        gw.MLPClassifier((4,), solver="lbfgs", max_iter=2, random_state=0).fit(X, y)


def test_gradwise_optimizer_wins_over_the_solvers(iris):
    X, y = iris
    clf = _fit_quietly(gw.MLPClassifier((4,), solver="sgd", momentum=0.5, max_iter=2,
                                        optimizer={"class_name": "RMSprop", "config": {}},
                                        random_state=0), X, y)
    assert isinstance(clf.model_.optimizer, gw.optimizers.RMSprop)
    clf = _fit_quietly(gw.MLPClassifier((4,), solver="sgd", momentum=0.5, max_iter=2,
                                        random_state=0), X, y)
    assert clf.model_.optimizer.momentum == 0.5 and clf.model_.optimizer.nesterov


@pytest.fixture(scope="module")
def multilabel():
    return make_multilabel_classification(n_samples=80, n_classes=4, random_state=0)


def test_multilabel_one_sigmoid_per_label_matches_sklearn(multilabel):
    X, Y = multilabel
    kwargs = dict(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=40, random_state=0,
                  activation="logistic")
    ours = _fit_quietly(gw.MLPClassifier(**kwargs), X, Y)
    theirs = _fit_quietly(SkClassifier(**kwargs), X, Y)
    last = ours.model_.layers[-1]
    assert last.units == 4 and last.activation.name == "sigmoid"
    assert type(ours.model_.loss).__name__ == "BinaryCrossentropy"
    assert ours.out_activation_ == theirs.out_activation_ == "logistic"
    assert ours.classes_.tolist() == [0, 1, 2, 3] and ours.n_outputs_ == 4
    # binary cross-entropy summed over labels, as scikit-learn: the same objective and path
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-7)
    proba = ours.predict_proba(X)
    np.testing.assert_allclose(proba, theirs.predict_proba(X), atol=1e-7)
    predicted = ours.predict(X)
    assert predicted.shape == Y.shape and set(np.unique(predicted)) <= {0, 1}
    np.testing.assert_array_equal(predicted, (proba > 0.5).astype(int))
    assert ours.score(X, Y) == pytest.approx(theirs.score(X, Y))


def test_multilabel_partial_fit_and_early_stopping(multilabel):
    X, Y = multilabel
    clf = gw.MLPClassifier((16,), solver="adam", learning_rate_init=0.05, random_state=0)
    for _ in range(30):
        clf.partial_fit(X, Y, classes=[0, 1, 2, 3])
    assert clf.score(X, Y) > 0.5
    stopped = _fit_quietly(gw.MLPClassifier((8,), early_stopping=True, max_iter=20,
                                            random_state=0), X, Y)
    assert len(stopped.validation_scores_) == stopped.n_iter_


@pytest.mark.parametrize("Y, bad", [(np.array([[0, 2], [1, 0], [1, 1]]), "[2]"),
                                    (np.array([[0.5, 1.0], [1.0, 0.0], [0.0, 0.0]]), "[0.5]"),
                                    (np.array([[-1, 1], [1, 0], [0, 1]]), "[-1]")])
def test_multilabel_values_other_than_0_1_are_refused_before_training(Y, bad):
    X = np.arange(6.0).reshape(3, 2)
    clf = gw.MLPClassifier()
    with pytest.raises(ValueError, match=r"y: a 2-D label matrix .* 0/1 values; received "
                                         + bad.replace("[", r"\[").replace("]", r"\]")):
        clf.fit(X, Y)
    assert not hasattr(clf, "model_")


def test_multilabel_shape_must_not_change_between_fits(multilabel):
    X, Y = multilabel
    clf = _fit_quietly(gw.MLPClassifier((4,), max_iter=2, warm_start=True, random_state=0), X, Y)
    with pytest.raises(ValueError, match="4 columns"):
        clf.fit(X, Y[:, :3])
    with pytest.raises(ValueError, match="0/1 label matrix"):
        clf.fit(X, Y[:, 0])
