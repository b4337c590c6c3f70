"""Imbalanced data: SMOTE in imbalanced-learn pipelines, threshold tuning, the fraud example."""
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import make_scorer, precision_score, recall_score
from sklearn.model_selection import TunedThresholdClassifierCV, cross_val_score, train_test_split

import gradwise as gw

imblearn = pytest.importorskip("imblearn")
from imblearn.over_sampling import SMOTE  # noqa: E402
from imblearn.pipeline import Pipeline  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fraud.py"


@pytest.fixture(scope="module")
def rare():
    X, y = make_classification(n_samples=3000, n_features=10, n_informative=5, weights=[0.95],
                               flip_y=0.0, class_sep=0.8, random_state=0)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def _net(**kwargs):
    settings = dict(max_iter=40, learning_rate_init=3e-3, random_state=0)
    return gw.MLPClassifier((16,), **{**settings, **kwargs})


def test_smote_pipeline_resamples_training_data_only(rare):
    X_train, X_test, y_train, y_test = rare
    pipe = Pipeline([("smote", SMOTE(random_state=0)), ("clf", _net(max_iter=1))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X_train, y_train)
        scores = cross_val_score(pipe, X_train, y_train, cv=3, scoring="recall")
    # the network saw the balanced resample: twice the majority count, in one epoch
    assert pipe["clf"].t_ == 2 * np.bincount(y_train).max()
    assert len(pipe.predict(X_test)) == len(X_test) and scores.shape == (3,)


def test_class_weight_and_smote_raise_recall_at_default_threshold(rare):
    X_train, X_test, y_train, y_test = rare
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = _net().fit(X_train, y_train)
        weighted = _net(class_weight="balanced").fit(X_train, y_train)
        smote = Pipeline([("smote", SMOTE(random_state=0)), ("clf", _net())]).fit(X_train, y_train)
    models = (("plain", plain), ("weighted", weighted), ("smote", smote))
    recall = {name: recall_score(y_test, model.predict(X_test)) for name, model in models}
    precision = {name: precision_score(y_test, model.predict(X_test)) for name, model in models}
    assert recall["weighted"] > recall["plain"] + 0.05, recall
    assert recall["smote"] > recall["plain"] + 0.05, recall
    # the recall is bought with precision: more transactions are flagged
    assert precision["weighted"] < precision["plain"], precision
    assert precision["smote"] < precision["plain"], precision


def test_sample_weight_acts_as_repetition_including_alpha():
    """A weight of 2 on the positives trains exactly like listing each positive twice (one full
    batch, no shuffling): the weighted loss, the rescaling of weights to mean 1 and the
    ``alpha`` scaling by the weight sum all agree with plain repetition."""
    X, y = make_classification(n_samples=400, n_features=6, weights=[0.9], random_state=1)
    twice = np.r_[np.arange(len(y)), np.flatnonzero(y == 1)]
    settings = dict(hidden_layer_sizes=(8,), max_iter=5, shuffle=False, random_state=0,
                    dtype="float64", alpha=10.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = gw.MLPClassifier(batch_size=len(y), class_weight={1: 2.0}, **settings).fit(X, y)
        repeated = gw.MLPClassifier(batch_size=len(twice), **settings).fit(X[twice], y[twice])
        unweighted = gw.MLPClassifier(batch_size=len(y), **settings).fit(X, y)
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-9)
    assert not np.allclose(weighted.predict_proba(X), unweighted.predict_proba(X), atol=1e-4)


def _recall_at_precision(y_true, y_pred, min_precision=0.6):
    precision = precision_score(y_true, y_pred, zero_division=0.0)
    return recall_score(y_true, y_pred) if precision >= min_precision else precision - 1.0


def test_threshold_tuning_for_target_precision(rare):
    X_train, X_test, y_train, y_test = rare
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = _net().fit(X_train, y_train)
        tuned = TunedThresholdClassifierCV(_net(), scoring=make_scorer(_recall_at_precision),
                                           cv=3, random_state=0).fit(X_train, y_train)
    assert 0.0 < tuned.best_threshold_ < 0.5  # rare positives: the best cut is below 1/2
    predicted = tuned.predict(X_test)
    assert precision_score(y_test, predicted) >= 0.5
    assert recall_score(y_test, predicted) > recall_score(y_test, plain.predict(X_test))


@pytest.mark.slow
def test_fraud_example_runs_and_shows_the_trade_off():
    result = subprocess.run([sys.executable, str(EXAMPLE), "--quick", "--json"],
                            capture_output=True, text=True, timeout=300, check=True)
    assert "make_classification" in result.stdout  # says the data are synthetic
    rows = json.loads(result.stdout.split("JSON ", 1)[1])
    plain = rows["plain network"]
    assert plain["accuracy"] > 0.98 and plain["recall"] < 0.8  # accurate, misses frauds
    weighted = rows["class_weight='balanced'"]
    assert weighted["recall"] > plain["recall"] and weighted["precision"] < plain["precision"]
    tuned = next(v for k, v in rows.items() if k.startswith("tuned threshold"))
    assert tuned["recall"] > plain["recall"] and tuned["precision"] >= 0.5
    # recall at equal precision is reported over seeds, with its spread, and in plain words
    study = rows["seed_study"]
    assert set(study) == {"plain network", "class_weight='balanced'", "SMOTE (train folds only)"}
    for name, entry in study.items():
        assert len(entry["recall_at_precision"]) == 3 and entry["std"] > 0
        assert 0.0 < entry["mean"] < 1.0
        expected = None if name == "plain network" else entry["verdict"]
        assert entry["verdict"] == expected
        assert entry["verdict"] is None or entry["verdict"] in result.stdout
    assert study["plain network"]["recall_at_precision"][0] == plain["recall_at_precision"]
    assert "Conclusion:" in result.stdout
