import numpy as np
import pytest
from sklearn.metrics import (accuracy_score, mean_absolute_error, mean_squared_error, r2_score,
                             root_mean_squared_error)

from gradwise import metrics


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_accuracy_multiclass_matches_sklearn(rng):
    labels = rng.integers(0, 4, 50)
    P = rng.dirichlet(np.ones(4), 50)
    y = np.eye(4)[labels]
    expected = accuracy_score(labels, P.argmax(axis=1))
    assert metrics.accuracy(y, P) == pytest.approx(expected)
    assert metrics.categorical_accuracy(y, P) == pytest.approx(expected)
    assert metrics.categorical_accuracy(labels, P) == pytest.approx(expected)
    assert 0 < expected < 1


def test_accuracy_single_output_thresholds_at_half(rng):
    y = rng.integers(0, 2, (40, 1)).astype(float)
    p = rng.uniform(0, 1, (40, 1))
    expected = accuracy_score(y.ravel(), p.ravel() > 0.5)
    assert metrics.accuracy(y, p) == pytest.approx(expected)
    assert metrics.accuracy(y.ravel(), p.ravel()) == pytest.approx(expected)
    assert metrics.accuracy([[1.0], [0.0], [1.0]], [[0.7], [0.2], [0.4]]) == pytest.approx(2 / 3)


def test_binary_accuracy_is_elementwise(rng):
    y = rng.integers(0, 2, (30, 3))
    p = rng.uniform(0, 1, (30, 3))
    assert metrics.binary_accuracy(y, p) == pytest.approx(accuracy_score(y.ravel(), p.ravel() > 0.5))
    assert metrics.binary_accuracy(y, p, threshold=0.8) == pytest.approx(
        accuracy_score(y.ravel(), p.ravel() > 0.8))
    assert metrics.binary_accuracy([[1, 0]], [[0.9, 0.6]]) == 0.5


def test_regression_metrics_match_sklearn(rng):
    y, p = rng.normal(size=(25, 3)), rng.normal(size=(25, 3))
    assert metrics.mse(y, p) == pytest.approx(mean_squared_error(y, p), rel=1e-12)
    assert metrics.mae(y, p) == pytest.approx(mean_absolute_error(y, p), rel=1e-12)
    y1, p1 = y[:, 0], y[:, 0] + 0.3 * p[:, 0]
    assert metrics.rmse(y1, p1) == pytest.approx(root_mean_squared_error(y1, p1), rel=1e-12)
    assert metrics.r2(y1, p1) == pytest.approx(r2_score(y1, p1), rel=1e-12)
    assert metrics.r2(y, p) == pytest.approx(r2_score(y, p), rel=1e-12)
    y[:, 1] = 2.0  # constant output: sklearn's convention (0 unless predicted exactly)
    assert metrics.r2(y, p) == pytest.approx(r2_score(y, p), rel=1e-12)
    assert metrics.mse(y1, p1.reshape(-1, 1)) == pytest.approx(mean_squared_error(y1, p1))


def test_shape_mismatch_is_reported():
    with pytest.raises(ValueError, match="y_true and y_pred"):
        metrics.mse(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="y_true and y_pred"):
        metrics.accuracy(np.zeros((4, 2)), np.zeros((3, 2)))


def test_get_names_and_history_keys():
    for name, key in [("accuracy", "accuracy"), ("acc", "accuracy"), ("binary_accuracy", "binary_accuracy"),
                      ("categorical_accuracy", "categorical_accuracy"), ("mse", "mse"),
                      ("mean_squared_error", "mse"), ("mae", "mae"), ("mean_absolute_error", "mae"),
                      ("rmse", "rmse"), ("r2", "r2"), ("ACC", "accuracy")]:
        assert metrics.get(name).__name__ == key
    custom = lambda y, p: 0.0  # noqa: E731
    assert metrics.get(custom) is custom
    with pytest.raises(ValueError, match="accuracy.*binary_accuracy"):
        metrics.get("precision")


def test_accuracy_is_vectorized():
    n = 200_000
    labels = np.arange(n) % 10
    P = np.eye(10, dtype=np.float32)[(labels + (np.arange(n) % 4 == 0)) % 10]
    value = metrics.accuracy(np.eye(10, dtype=np.float32)[labels], P)
    assert type(value) is float and value == pytest.approx(0.75)


def _pairwise_auc(positive, scores):
    """The definition: P(score of a positive > score of a negative), ties one half."""
    p, n = scores[positive], scores[~positive]
    return (p[:, None] > n[None, :]).mean() + 0.5 * (p[:, None] == n[None, :]).mean()


def test_auc_is_the_probability_a_positive_outranks_a_negative(rng):
    from sklearn.metrics import roc_auc_score
    y = (rng.random(300) < 0.1).astype(int)
    scores = np.round(rng.random(300) * 0.5 + 0.4 * y, 2)  # rounded: many ties
    assert metrics.auc(y, scores) == pytest.approx(_pairwise_auc(y == 1, scores), abs=1e-12)
    assert metrics.auc(y[:, None], scores[:, None]) == pytest.approx(roc_auc_score(y, scores))
    # two softmax columns: the AUC of either class, from labels or one-hot rows
    probabilities = np.column_stack([1 - scores, scores])
    assert metrics.auc(y, probabilities) == pytest.approx(roc_auc_score(y, scores))
    assert metrics.auc(np.eye(2)[y], probabilities) == pytest.approx(roc_auc_score(y, scores))
    assert metrics.get("roc_auc") is metrics.auc and metrics.auc.per_batch is False


def test_auc_of_several_classes_is_the_one_vs_rest_mean(rng):
    from sklearn.metrics import roc_auc_score
    y = rng.integers(0, 4, size=200)
    logits = rng.normal(size=(200, 4)) + 1.5 * np.eye(4)[y]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = roc_auc_score(y, p, multi_class="ovr", average="macro")
    assert metrics.auc(y, p) == pytest.approx(expected)
    one_class = np.zeros(10, dtype=int)
    assert np.isnan(metrics.auc(one_class, rng.random(10)))


def test_auc_is_reported_on_whole_sets_not_batches(rng):
    import gradwise as gw
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + 0.3 * rng.normal(size=200) > 0).astype(int)
    model = gw.Sequential([gw.layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer=gw.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=["accuracy", "auc"])
    history = model.fit(X[:150], y[:150], epochs=3, batch_size=16, verbose=0,
                        validation_data=(X[150:], y[150:]))
    assert "auc" not in history.history and len(history.history["val_auc"]) == 3
    expected = _pairwise_auc(y[150:] == 1, model.predict(X[150:])[:, 0])
    assert history.history["val_auc"][-1] == pytest.approx(expected)
    assert model.evaluate(X[150:], y[150:])["auc"] == pytest.approx(expected)


def test_classification_scores_on_a_worked_example():
    truth = np.array([0, 0, 0, 0, 1, 1])
    predicted = np.array([0, 0, 0, 1, 1, 0])
    scores = metrics.classification_scores(truth, predicted)
    # recalls 3/4 and 1/2; F1 of class 0: 2*(3/4*3/4)/(3/2) = 3/4, of class 1: 1/2
    assert scores["accuracy"] == pytest.approx(4 / 6)
    assert scores["bal_acc"] == pytest.approx((3 / 4 + 1 / 2) / 2)
    assert scores["macro_f1"] == pytest.approx((3 / 4 + 1 / 2) / 2)
    text = metrics.classification_scores(np.array(["a", "a", "b"]), np.array(["a", "c", "b"]))
    assert text["bal_acc"] == pytest.approx((1 / 2 + 1) / 2)  # "c" only predicted: no recall


def test_regression_and_ranking_scores_in_closed_form():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.0, 3.0, 3.0, 2.0])
    scores = metrics.regression_scores(y, p)
    assert scores["mae"] == pytest.approx(3 / 4)
    assert scores["rmse"] == pytest.approx(np.sqrt(5 / 4))
    assert scores["r2"] == pytest.approx(1 - 5 / 5)
    assert np.isnan(metrics.regression_scores(np.ones(3), p[:3])["r2"])
    positive = np.array([True, False, True, False])
    ranked = metrics.ranking_scores(positive, np.array([0.9, 0.8, 0.3, 0.1]))
    assert ranked["roc_auc"] == pytest.approx(3 / 4)  # 3 of the 4 positive-negative pairs
    assert ranked["avg_prec"] == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert all(np.isnan(v) for v in metrics.ranking_scores(positive & False, y).values())


def _tallied(tally, y_true, y_pred, cuts):
    for a, b in zip(cuts[:-1], cuts[1:]):
        tally.add(y_true[a:b], y_pred[a:b])
    return tally


@pytest.mark.parametrize("seed", range(5))
def test_class_tally_has_the_bits_of_all_rows_scored_at_once_in_fixed_memory(seed):
    rng = np.random.default_rng(seed)
    n, k = 20_000, 4
    truth = rng.integers(0, k - 1, n)  # class 3 never true: only predicted
    predicted = np.where(rng.random(n) < 0.7, truth, rng.integers(0, k, n))
    predicted[predicted == 1] = 2 if seed % 2 else 1  # odd seeds: class 1 never predicted
    cuts = np.unique(np.r_[0, rng.integers(0, n, 30), n])
    tally = _tallied(metrics.ClassTally(k), truth, predicted, cuts)
    assert tally.scores() == metrics.classification_scores(truth, predicted)  # same bits
    assert tally.counts.shape == (k, k) and tally.rows == n  # the state: k * k counts
    np.testing.assert_array_equal(tally.counts, np.histogram2d(
        truth, predicted, bins=[np.arange(k + 1)] * 2)[0])


def test_class_tally_widens_for_labels_coded_as_they_arrive():
    truth, predicted = np.array([0, 1, 0, 2, 3, 1]), np.array([0, 0, 2, 2, 1, 3])
    grown = _tallied(metrics.ClassTally(), truth, predicted, [0, 2, 4, 6])
    sized = _tallied(metrics.ClassTally(4), truth, predicted, [0, 6])
    np.testing.assert_array_equal(grown.counts, sized.counts)
    assert grown.scores() == metrics.classification_scores(truth, predicted)


def test_class_tally_on_the_worked_example():
    tally = metrics.ClassTally(2)
    tally.add(np.array([0, 0, 0]), np.array([0, 0, 0]))
    tally.add(np.array([0, 1, 1]), np.array([1, 1, 0]))
    scores = tally.scores()
    assert scores["accuracy"] == pytest.approx(4 / 6)
    assert scores["bal_acc"] == pytest.approx((3 / 4 + 1 / 2) / 2)
    assert scores["macro_f1"] == pytest.approx((3 / 4 + 1 / 2) / 2)


def test_regression_tally_matches_all_rows_scored_at_once(rng):
    n = 50_000
    truth = 1e3 + 5.0 * rng.standard_normal(n)  # a large mean: the merge must stay stable
    predicted = truth + rng.standard_normal(n)
    cuts = np.unique(np.r_[0, rng.integers(0, n, 40), n])
    scores = _tallied(metrics.RegressionTally(), truth, predicted, cuts).scores()
    expected = metrics.regression_scores(truth, predicted)
    for name in ("mae", "rmse", "r2"):
        assert scores[name] == pytest.approx(expected[name], rel=1e-12)
    constant = _tallied(metrics.RegressionTally(), np.ones(6), np.arange(6.0), [0, 2, 6])
    assert np.isnan(constant.scores()["r2"])
    assert constant.scores()["mae"] == pytest.approx(np.abs(1 - np.arange(6.0)).mean())
