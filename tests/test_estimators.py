"""scikit-learn estimators: conformance suite, stopping rule, pickling, tools, real data."""
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import (load_breast_cancer, load_diabetes, load_digits, load_iris,
                              make_regression)
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.estimator_checks import parametrize_with_checks

import gradwise as gw
from gradwise.estimators.base import _ConvergenceMonitor

FAST = dict(hidden_layer_sizes=(8,), max_iter=50, learning_rate_init=0.01, random_state=0)
FLOAT32_ROUNDING = ("float32 training: weighting and repeating samples agree to ~1e-6, "
                    "the check asks 1e-7 (the float64 instances pass it)")


@parametrize_with_checks([gw.MLPClassifier(**FAST, dtype="float64"),
                          gw.MLPRegressor(**FAST, dtype="float64")])
def test_sklearn_conformance_float64(estimator, check):
    check(estimator)


@parametrize_with_checks(
    [gw.MLPClassifier(**FAST, dtype="float32"), gw.MLPRegressor(**FAST, dtype="float32")],
    expected_failed_checks=lambda est: {
        "check_sample_weight_equivalence_on_dense_data": FLOAT32_ROUNDING,
        "check_sample_weight_equivalence_on_sparse_data": FLOAT32_ROUNDING})
def test_sklearn_conformance_float32(estimator, check):
    check(estimator)


@pytest.fixture
def iris_strings():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), np.array(["setosa", "versicolor", "virginica"])[y]


def test_string_labels_softmax_and_probabilities(iris_strings):
    X, y = iris_strings
    clf = gw.MLPClassifier((16,), max_iter=200, learning_rate_init=0.01, random_state=0).fit(X, y)
    assert clf.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    assert clf.model_.layers[-1].units == 3 and clf.model_.layers[-1].activation.name == "softmax"
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert set(clf.predict(X)) <= set(clf.classes_) and clf.score(X, y) > 0.9
    assert clf.n_features_in_ == 4 and len(clf.loss_curve_) == clf.n_iter_


def test_binary_uses_one_sigmoid_unit():
    X, y = load_breast_cancer(return_X_y=True)
    clf = gw.MLPClassifier((4,), max_iter=3, random_state=0).fit(StandardScaler().fit_transform(X), y)
    last = clf.model_.layers[-1]
    assert last.units == 1 and last.activation.name == "sigmoid"
    assert type(clf.model_.loss).__name__ == "BinaryCrossentropy"


def test_stopping_rule_matches_sklearn_by_hand():
    # tol=0.1, n_iter_no_change=2: epochs 3, 4, 5 fail to beat best - tol -> stop after epoch 5.
    monitor = _ConvergenceMonitor(tol=0.1, n_iter_no_change=2)
    monitor.set_model(type("M", (), {"stop_training": False})())
    losses = [1.0, 0.5, 0.45, 0.41, 0.39, 0.3]
    for epoch, loss in enumerate(losses):
        monitor.on_epoch_end(epoch, {"loss": loss})
        if monitor.model.stop_training:
            break
    assert epoch == 4 and monitor.converged and monitor.best_loss == 0.39


def test_convergence_warning_only_when_max_iter_ends_training(iris_strings):
    X, y = iris_strings
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(3\\)"):
        gw.MLPClassifier((8,), max_iter=3, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = gw.MLPClassifier((8,), max_iter=500, tol=0.5, n_iter_no_change=1,
                               random_state=0).fit(X, y)
    assert clf.n_iter_ < 500


def test_early_stopping_keeps_best_validation_score(iris_strings):
    X, y = iris_strings
    clf = gw.MLPClassifier((8,), max_iter=60, early_stopping=True, random_state=0,
                           n_iter_no_change=5).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_ and clf.best_loss_ is None
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_pickle_round_trip_is_exact_and_training_continues_identically(iris_strings):
    X, y = iris_strings
    clf = gw.MLPClassifier((8,), max_iter=20, dropout=0.1, batch_norm=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
    model = copy.model_
    assert all(np.shares_memory(v, model.params_buffer) for v in model.layers[0].params.values())
    clf.partial_fit(X, y)
    copy.partial_fit(X, y)  # same optimizer moments, random streams and weights
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))


def test_partial_fit_needs_classes_and_counts_epochs(iris_strings):
    X, y = iris_strings
    clf = gw.MLPClassifier((8,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:50], y[:50], classes=np.unique(y))
    clf.partial_fit(X, y)
    # as scikit-learn: n_iter_ counts the last call's epochs, t_ and loss_curve_ all of them
    assert clf.n_iter_ == 1 and clf.t_ == 50 + len(X) and len(clf.loss_curve_) == 2
    assert clf.classes_.tolist() == sorted(set(y))
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X, np.where(y == "setosa", "other", y))


def test_warm_start_continues_from_previous_weights(iris_strings):
    X, y = iris_strings
    kwargs = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm = gw.MLPClassifier(warm_start=True, **kwargs).fit(X, y).fit(X, y)
        cold = gw.MLPClassifier(**kwargs).fit(X, y).fit(X, y)
    # as scikit-learn: each fit runs max_iter epochs; the loss curve goes on
    assert warm.n_iter_ == 5 and len(warm.loss_curve_) == 10 and cold.n_iter_ == 5
    assert warm.loss_curve_[5] < cold.loss_curve_[0]


def test_balanced_class_weight_equals_balanced_sample_weight():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    labels = np.array(["benign", "malignant"])[y]
    kwargs = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        by_class = gw.MLPClassifier(class_weight="balanced", **kwargs).fit(X, labels)
        by_sample = gw.MLPClassifier(**kwargs).fit(
            X, labels, sample_weight=compute_sample_weight("balanced", labels))
        by_dict = gw.MLPClassifier(class_weight={"malignant": 3.0}, **kwargs).fit(X, labels)
        plain = gw.MLPClassifier(**kwargs).fit(X, labels)
    np.testing.assert_allclose(by_class.predict_proba(X), by_sample.predict_proba(X), rtol=1e-6)
    # up-weighting malignant moves probability mass towards it
    assert by_dict.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean()
    with pytest.raises(ValueError, match="not in classes_"):
        gw.MLPClassifier(class_weight={"other": 2.0}, **kwargs).fit(X, labels)


@pytest.mark.parametrize("target", ["binary", "multiclass"])
def test_focal_loss_option(iris_strings, target):
    X, y = iris_strings
    if target == "binary":
        y = np.where(y == "setosa", "setosa", "other")
    clf = gw.MLPClassifier((16,), loss="focal", focal_alpha=0.5, max_iter=150,
                           learning_rate_init=0.01, random_state=0).fit(X, y)
    assert type(clf.model_.loss).__name__ == "BinaryFocalCrossentropy"
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0, rtol=1e-12)
    assert clf.score(X, y) > 0.9


def test_alpha_uses_sklearn_scaling_and_l1_l2_add_on():
    X, y = make_regression(n_samples=64, n_features=3, random_state=0)
    reg = gw.MLPRegressor((4,), alpha=0.32, l1=0.01, l2=0.5, batch_size=16, max_iter=1,
                          random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y / 100)
    penalty = reg.model_.layers[0].kernel_regularizer
    assert penalty.l2 == pytest.approx(0.5 + 0.32 / 16) and penalty.l1 == 0.01


def test_parameters_are_validated_in_fit_not_init(iris_strings):
    X, y = iris_strings
    clf = gw.MLPClassifier(dropout=1.5)  # stored as given
    assert clf.dropout == 1.5
    with pytest.raises(InvalidParameterError, match="dropout"):
        clf.fit(X, y)
    with pytest.raises(InvalidParameterError, match="activation"):
        gw.MLPRegressor(activation="swishy").fit(X, np.ones(len(X)))


def test_optimizer_schedule_and_callbacks_are_used_not_mutated(iris_strings):
    X, y = iris_strings
    optimizer = gw.optimizers.SGD(learning_rate=0.05, momentum=0.9)
    stopper = gw.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    clf = gw.MLPClassifier((8,), optimizer=optimizer, callbacks=[stopper], max_iter=50,
                           learning_rate_schedule=gw.schedules.PowerDecay(0.05, 10),
                           kernel_initializer="he_normal", activation="elu", random_state=0)
    clf.fit(X, y)
    assert clf.n_iter_ == 2  # the user's EarlyStopping (min_delta 10) stopped after 2 epochs
    assert optimizer.iterations == 0 and stopper.model is None
    assert isinstance(clf.model_.optimizer, gw.optimizers.SGD)
    assert clf.model_.optimizer.iterations > 0


@pytest.mark.parametrize("options, error, message", [
    (dict(optimizer="adamm"), ValueError,
     r"^optimizer: 'adamm' is not a known optimizer name \(did you mean 'adam'\?\); expected "
     r"one of: adagrad, adam, .*sgd\.$"),
    (dict(optimizer={"class_name": "Adamm"}), ValueError,
     r"^Unknown optimizer class 'Adamm' in the config for 'optimizer'"),
    (dict(learning_rate_schedule={"class_name": "Nope"}), ValueError,
     r"^Unknown learning-rate schedule class 'Nope' in the config for 'learning_rate_schedule'"),
    (dict(kernel_initializer="he_nromal"), ValueError,
     r"^kernel_initializer: 'he_nromal' is not a known initializer name"),
    (dict(callbacks=[gw.callbacks.EarlyStopping(), "early_stopping"]), TypeError,
     r"^callbacks: expected Callback instances, received str"),
])
def test_gradwise_parameters_are_checked_at_fit_before_the_data(iris_strings, options, error,
                                                                message):
    # as scikit-learn's parameter validation: the estimator's own parameters first, so the NaN
    # in X (checked next) does not hide them, and nothing is built or drawn before
    X, y = iris_strings
    X = X.copy()
    X[0, 0] = np.nan
    clf = gw.MLPClassifier(**options, max_iter=5)
    with pytest.raises(error, match=message):
        clf.fit(X, y)
    assert not hasattr(clf, "model_") and not hasattr(clf, "n_features_in_")


class _EpochRecorder(gw.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(epoch)


def test_fitted_copies_of_the_callbacks_are_callbacks_(iris_strings):
    X, y = iris_strings
    recorder, health = _EpochRecorder(), gw.GradientHealth()
    clf = gw.MLPClassifier((8,), max_iter=4, callbacks=[recorder, health], random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.callbacks == [recorder, health]  # the parameter is left as given...
    assert recorder.epochs == [] and health.records == []
    fitted_recorder, fitted_health = clf.callbacks_  # ...and the copies that trained are read
    assert isinstance(fitted_health, gw.GradientHealth) and fitted_recorder is not recorder
    assert fitted_recorder.epochs == list(range(clf.n_iter_))
    assert sorted({record["epoch"] for record in fitted_health.records}) == fitted_recorder.epochs
    n_fit = clf.n_iter_
    clf.partial_fit(X, y)  # continues the same training: the same copies, the next epoch
    assert clf.callbacks_[0] is fitted_recorder and fitted_recorder.epochs == list(range(n_fit + 1))
    clf.set_params(callbacks=[_EpochRecorder()]).partial_fit(X, y)  # new callbacks: new copies
    assert len(clf.callbacks_) == 1 and clf.callbacks_[0].epochs == [n_fit + 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)  # a new fit: fresh copies, counted from 0
    assert clf.callbacks_[0] is not fitted_recorder
    assert clf.callbacks_[0].epochs == list(range(clf.n_iter_))
    assert gw.MLPClassifier((4,), max_iter=2).fit(X, y).callbacks_ == []


def test_a_fitted_estimator_keeping_a_csv_logger_pickles(iris_strings, tmp_path):
    X, y = iris_strings
    clf = gw.MLPClassifier((4,), max_iter=2, random_state=0,
                           callbacks=[gw.callbacks.CSVLogger(tmp_path / "log.csv")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    logger = restored.callbacks_[0]
    assert "loss" in logger.keys and logger.keys == clf.callbacks_[0].keys
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_grid_search_and_cross_val_score(iris_strings):
    X, y = iris_strings
    grid = GridSearchCV(gw.MLPClassifier(max_iter=60, learning_rate_init=0.01, random_state=0),
                        {"hidden_layer_sizes": [(4,), (16,)], "alpha": [1e-4, 1e-1],
                         "dropout": [0.0, 0.2]}, cv=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
        scores = cross_val_score(clone(grid.best_estimator_), X, y, cv=3)
    assert len(grid.cv_results_["params"]) == 8 and grid.best_score_ > 0.8
    assert scores.shape == (3,) and scores.mean() > 0.8
    pickle.loads(pickle.dumps(grid)).predict(X)


def test_regressor_multioutput_shapes():
    X, Y = make_regression(n_samples=80, n_features=4, n_targets=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = gw.MLPRegressor((8,), max_iter=5, random_state=0).fit(X, Y / 100)
        assert reg.predict(X).shape == (80, 3) and reg.n_outputs_ == 3
        single = gw.MLPRegressor((8,), max_iter=5, random_state=0).fit(X, Y[:, 0] / 100)
    assert single.predict(X).shape == (80,)


def _accuracies(loader, seed, sizes):
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y,
                                                        random_state=seed)
    scores = {}
    for name, estimator in (("sklearn", SklearnMLPClassifier(sizes, max_iter=300, random_state=seed)),
                            ("gradwise", gw.MLPClassifier(sizes, max_iter=300, random_state=seed))):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipe = make_pipeline(StandardScaler(), estimator).fit(X_train, y_train)
        scores[name] = pipe.score(X_test, y_test)
    return scores


@pytest.mark.slow
@pytest.mark.parametrize("loader", [load_breast_cancer, load_digits])
def test_matches_sklearn_mlp_on_real_data(loader):
    runs = [_accuracies(loader, seed, (64,)) for seed in (0, 1, 2)]
    ours = np.mean([r["gradwise"] for r in runs])
    theirs = np.mean([r["sklearn"] for r in runs])
    assert ours >= theirs - 0.005, runs


@pytest.mark.slow
def test_regressor_beats_dummy_on_diabetes():
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    net = TransformedTargetRegressor(
        make_pipeline(StandardScaler(), gw.MLPRegressor((16,), alpha=10.0, max_iter=200,
                                                        random_state=0)),
        transformer=StandardScaler())
    r2 = net.fit(X_train, y_train).score(X_test, y_test)
    dummy = DummyRegressor().fit(X_train, y_train).score(X_test, y_test)
    assert r2 > 0.3 and r2 > dummy + 0.3, (r2, dummy)


def test_coefs_and_intercepts_are_the_network_as_in_sklearn(iris_strings):
    from sklearn.exceptions import NotFittedError
    from sklearn.neural_network import MLPClassifier as SkMLP
    X, y = iris_strings
    ours = gw.MLPClassifier((7, 5), max_iter=5, random_state=0, dtype="float64").fit(X, y)
    theirs = SkMLP((7, 5), max_iter=5, random_state=0).fit(X, y)
    assert [c.shape for c in ours.coefs_] == [c.shape for c in theirs.coefs_]
    assert [b.shape for b in ours.intercepts_] == [b.shape for b in theirs.intercepts_]
    hidden = X
    for W, b in zip(ours.coefs_[:-1], ours.intercepts_[:-1]):
        hidden = np.maximum(hidden @ W + b, 0)
    logits = hidden @ ours.coefs_[-1] + ours.intercepts_[-1]
    softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(softmax / softmax.sum(axis=1, keepdims=True),
                               ours.predict_proba(X), rtol=1e-10)
    ours.coefs_[0][:] = 0  # copies: the fitted network is untouched
    assert np.abs(ours.coefs_[0]).sum() > 0
    with pytest.raises(NotFittedError):
        gw.MLPClassifier().coefs_
