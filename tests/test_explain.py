"""Input-gradient attributions and permutation importance."""
import numpy as np
import pytest
from sklearn.inspection import permutation_importance as sklearn_permutation_importance

import gradwise as gw
from gradwise.explain import gradient_x_input, input_gradients, permutation_importance


def _task(n=600, seed=0):
    """Six features; the label depends on features 0 and 1 only."""
    X = np.random.default_rng(seed).normal(size=(n, 6))
    y = (X[:, 0] + X[:, 1] ** 2 - 1 > 0).astype(int)
    return X, y


@pytest.fixture(scope="module")
def classifier():
    X, y = _task()
    model = gw.Sequential([gw.layers.Dense(16, activation="tanh"), gw.layers.BatchNormalization(),
                           gw.layers.Dropout(0.1), gw.layers.Dense(2, activation="softmax")],
                          input_dim=6, seed=0, dtype="float64")
    model.compile(optimizer=gw.optimizers.Adam(0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(X[:400], y[:400], epochs=30, verbose=0)
    return model, X[400:], y[400:]


def _finite_differences(predict, X, chosen, eps=1e-6):
    rows, grads = np.arange(len(X)), np.zeros_like(X)
    for j in range(X.shape[1]):
        step = np.zeros(X.shape[1])
        step[j] = eps
        grads[:, j] = (predict(X + step)[rows, chosen] - predict(X - step)[rows, chosen]) / (2 * eps)
    return grads


def test_input_gradients_match_finite_differences_of_predict(classifier):
    model, X, _ = classifier
    X = X[:8]
    chosen = np.argmax(model.predict(X), axis=1)
    expected = _finite_differences(model.predict, X, chosen)
    np.testing.assert_allclose(input_gradients(model, X), expected, rtol=1e-5, atol=1e-8)
    other = 1 - chosen
    np.testing.assert_allclose(input_gradients(model, X, output=other),
                               _finite_differences(model.predict, X, other), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(input_gradients(model, X, output=0),  # softmax: rows sum to 0
                               -input_gradients(model, X, output=1), atol=1e-12)


def _log_odds(model):
    def log_odds(X):
        p = np.clip(model.predict(X).astype(np.float64), 1e-300, 1 - 1e-16)
        if p.shape[1] == 1:
            return np.log(p / (1 - p))
        return np.log(p) - np.log1p(-p)
    return log_odds


def test_log_odds_gradients_match_finite_differences(classifier):
    model, X, _ = classifier
    X = X[:8]
    chosen = np.argmax(model.predict(X), axis=1)
    for output in (None, 1 - chosen):
        target = chosen if output is None else output
        expected = _finite_differences(_log_odds(model), X, target)
        np.testing.assert_allclose(input_gradients(model, X, output, space="log_odds"), expected,
                                   rtol=1e-5, atol=1e-7)
    # two classes: the log-odds of one class is minus that of the other
    np.testing.assert_allclose(input_gradients(model, X, 0, space="log_odds"),
                               -input_gradients(model, X, 1, space="log_odds"), atol=1e-10)
    binary = gw.Sequential([gw.layers.Dense(4, activation="tanh"),
                            gw.layers.Dense(1, activation="sigmoid")], input_dim=6, seed=1,
                           dtype="float64")
    binary.compile(optimizer="adam", loss="binary_crossentropy")
    binary.build()
    expected = _finite_differences(_log_odds(binary), X, np.zeros(8, dtype=int))
    np.testing.assert_allclose(input_gradients(binary, X, space="log_odds"), expected,
                               rtol=1e-5, atol=1e-8)
    with pytest.raises(ValueError, match="space 'output' or 'log_odds'"):
        input_gradients(model, X, space="logit")
    regression = gw.Sequential([gw.layers.Dense(1)], input_dim=6, dtype="float64")
    regression.compile(optimizer="adam", loss="mse")
    regression.build()
    with pytest.raises(ValueError, match="needs a final sigmoid or softmax"):
        input_gradients(regression, X, space="log_odds")


@pytest.mark.parametrize("last", ["sigmoid", None])
def test_single_output_and_uncompiled_models(last):
    X, y = _task(50)
    model = gw.Sequential([gw.layers.Dense(5, activation="relu"),
                           gw.layers.Dense(1, activation=last)], input_dim=6, seed=3, dtype="float64")
    if last:
        model.compile(optimizer="adam", loss="binary_crossentropy")
    model.build()
    expected = _finite_differences(model.predict, X[:6], np.zeros(6, dtype=int))
    np.testing.assert_allclose(input_gradients(model, X[:6]), expected, rtol=1e-5, atol=1e-9)


def test_gradient_x_input_of_a_linear_model_is_each_features_share():
    X, _ = _task(20)
    model = gw.Sequential([gw.layers.Dense(3)], input_dim=6, seed=0, dtype="float64").build()
    W = model.layers[0].params["W"]
    np.testing.assert_allclose(gradient_x_input(model, X, output=2), X * W[:, 2], rtol=1e-12)


def test_model_is_left_unchanged(classifier):
    model, X, y = classifier
    weights = model.get_weights(include_state=True)
    grads = model.grads_buffer.copy()
    flags = [(l.trainable, l.needs_input_grad) for l in model.layers]
    input_gradients(model, X)
    for old, new in zip(weights, model.get_weights(include_state=True)):
        np.testing.assert_array_equal(old, new)
    np.testing.assert_array_equal(grads, model.grads_buffer)
    assert flags == [(l.trainable, l.needs_input_grad) for l in model.layers]


def test_both_methods_rank_the_informative_features_first(classifier):
    model, X, y = classifier
    saliency = np.abs(input_gradients(model, X)).mean(axis=0)
    assert set(np.argsort(saliency)[-2:]) == {0, 1}
    result = permutation_importance(model, X, y, n_repeats=5, random_state=0)
    assert set(np.argsort(result.importances_mean)[-2:]) == {0, 1}
    assert result.importances.shape == (6, 5)
    assert np.all(np.abs(result.importances_mean[2:]) < 0.05)


def test_permutation_importance_equals_sklearn_on_a_reference_estimator(classifier):
    """The same numbers as scikit-learn computes for an estimator with the same predictions."""
    model, X, y = classifier

    class Reference:
        def fit(self, X, y):
            return self

        def predict(self, X):
            return np.argmax(model.predict(X), axis=1)

        def score(self, X, y):
            return np.mean(self.predict(X) == y)

    ours = permutation_importance(model, X, np.eye(2)[y], n_repeats=3, random_state=1)
    reference = sklearn_permutation_importance(Reference(), X, y, n_repeats=3, random_state=1)
    np.testing.assert_allclose(ours.importances, reference.importances)
    scored = permutation_importance(model, X, y, n_repeats=2, random_state=0, scoring="neg_log_loss")
    assert scored.importances_mean[:2].min() > 0.1


def test_permutation_importance_regression_uses_r2():
    X, _ = _task(300)
    y = 3 * X[:, 2] + 0.1 * X[:, 0]
    model = gw.Sequential([gw.layers.Dense(1)], input_dim=6, seed=0)
    model.compile(optimizer=gw.optimizers.Adam(0.1), loss="mse")
    model.fit(X, y, epochs=40, verbose=0)
    result = permutation_importance(model, X, y, n_repeats=3, random_state=0)
    assert np.argmax(result.importances_mean) == 2
    assert result.importances_mean[2] > 1.0  # shuffling the main feature: R^2 from ~1 to ~-1


def test_bad_inputs(classifier):
    model, X, y = classifier
    with pytest.raises(ValueError, match="output"):
        input_gradients(model, X, output=2)
    with pytest.raises(TypeError, match="output"):
        input_gradients(model, X, output=[0, 1])
    with pytest.raises(ValueError, match="X"):
        input_gradients(model, X[:, :3])
    with pytest.raises(ValueError, match="model"):
        input_gradients(gw.Sequential([gw.layers.Dense(2)]), X)
    with pytest.raises(ValueError, match="n_repeats"):
        permutation_importance(model, X, y, n_repeats=0)
    with pytest.raises(ValueError, match="samples"):
        permutation_importance(model, X, y[:-1])


def test_grouped_permutation_shuffles_a_groups_features_together(classifier):
    model, X, y = classifier
    groups = ["a", "a", "b", "c", "c", "c"]  # features 0 and 1 (the informative ones) in "a"
    result = permutation_importance(model, X, y, n_repeats=3, random_state=7, groups=groups)
    assert result.groups == ["a", "b", "c"] and result.importances.shape == (3, 3)
    # the rule, by hand: the same permutations drawn in the same order
    rng = np.random.RandomState(7)
    baseline = np.mean(model.predict(X).argmax(axis=1) == y)
    for g, columns in enumerate([[0, 1], [2], [3, 4, 5]]):
        for r in range(3):
            shuffled = X.copy()
            shuffled[:, columns] = X[rng.permutation(len(X))][:, columns]
            drop = baseline - np.mean(model.predict(shuffled).argmax(axis=1) == y)
            assert result.importances[g, r] == pytest.approx(drop)
    assert result.importances_mean[0] > 0.2 and abs(result.importances_mean[2]) < 0.05
    # one group per feature: the same rule as scikit-learn's, feature by feature
    single = permutation_importance(model, X, y, n_repeats=5, random_state=0, groups=range(6))
    assert set(np.argsort(single.importances_mean)[-2:]) == {0, 1}
    with pytest.raises(ValueError, match="groups: expected one label per feature"):
        permutation_importance(model, X, y, groups=["a"])
