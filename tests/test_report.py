"""The HTML training report: content checked against independent computations, safety, atomicity."""
import re
import sys

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix

import gradwise as gw
from gradwise import report

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def classifier(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    X_train, X_dev, y_train, y_dev = X_train[:1000], X_train[1000:], y_train[:1000], y_train[1000:]
    model = gw.Sequential([gw.layers.Dense(32, activation="relu"),
                           gw.layers.Dense(10, activation="softmax")], input_dim=64, seed=0)
    model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    health = gw.GradientHealth()
    history = model.fit(X_train, y_train, epochs=4, validation_data=(X_dev, y_dev), verbose=0,
                        callbacks=[health])
    splits = {"train": (X_train, y_train), "dev": (X_dev, y_dev), "test": (X_test, y_test)}
    return model, history, splits, health


def _cells(page, first):
    """The cells of the table row whose first cell is ``first``."""
    row = re.search(rf"<tr><td>{re.escape(first)}</td>(.*?)</tr>", page).group(1)
    return re.findall(r"<td>(.*?)</td>", row)


def test_classification_report_sections_and_numbers(classifier):
    model, history, splits, health = classifier
    page = report.training_report(model, history, splits, gradient_health=health,
                                  data_description="digits")
    for title in ("Network", "Learning curves", "Results", "Bias and variance",
                  "Confusion matrix (test)", "Permutation importance (dev)", "Gradient health"):
        assert f"<h2>{title}</h2>" in page
    assert page.count("<svg") == 3 and page.startswith("<!DOCTYPE html>")
    for name, (X, y) in splits.items():  # the results table holds evaluate()'s numbers
        expected = model.evaluate(X, y)
        assert _cells(page, name) == [str(len(X)), f"{expected['loss']:.4f}",
                                      f"{expected['accuracy']:.4f}"]
    X_test, y_test = splits["test"]
    predicted = model.predict(X_test).argmax(axis=1)
    accuracy = re.search(r"accuracy\s+([0-9.]+)\s+\d+\n", page).group(1)
    assert float(accuracy) == pytest.approx(accuracy_score(y_test, predicted), abs=5e-5)
    assert confusion_matrix(y_test, predicted).trace() == (predicted == y_test).sum()


def test_regression_report_plots_predictions(diabetes_split):
    X_train, X_test, y_train, y_test = diabetes_split
    scale = y_train.std()
    model = gw.Sequential([gw.layers.Dense(16, activation="relu"), gw.layers.Dense(1)],
                          input_dim=10, seed=0)
    model.compile(loss="mse", metrics=["mae"])
    history = model.fit(X_train, y_train / scale, epochs=3, verbose=0)
    page = report.training_report(model, history, {"train": (X_train, y_train / scale),
                                                   "test": (X_test, y_test / scale)},
                                  target_scale=scale)
    assert "<h2>Predicted against actual (test)</h2>" in page and "Confusion" not in page
    errors = model.predict(X_test)[:, 0] * scale - y_test
    mae = float(re.search(r"mean absolute error ([0-9.e+]+)", page).group(1))
    assert mae == pytest.approx(np.mean(np.abs(errors)), rel=1e-3)


def test_user_text_is_escaped(classifier):
    model, history, splits, _ = classifier
    names = [f"px{i}" for i in range(64)]
    names[0] = "--><script>alert(1)</script>"
    page = report.training_report(model, history, splits, feature_names=names,
                                  title="<b>t</b>", data_description="<img src=x onerror=y>")
    assert "<script>" not in page and "<img" not in page and "<b>t</b>" not in page
    assert "&lt;img src=x onerror=y&gt;" in page


def test_write_report_is_atomic(classifier, tmp_path, monkeypatch):
    model, history, splits, _ = classifier
    target = tmp_path / "report.html"
    assert report.write_report(str(target), model, history, splits) == str(target)
    assert target.read_text().rstrip().endswith("</html>")
    target.write_text("previous")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(report, "permutation_importance", broken)
    with pytest.raises(RuntimeError):
        report.write_report(target, model, history, splits)
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


@pytest.mark.parametrize("change, words", [
    (lambda m, h, s: (gw.Sequential([gw.layers.Dense(2)]), h, s), "model"),
    (lambda m, h, s: (m, {}, s), "history"),
    (lambda m, h, s: (m, h, {"dev": s["dev"]}), "splits"),
    (lambda m, h, s: (m, h, {**s, "valid": s["dev"]}), "valid"),
    (lambda m, h, s: (m, h, {"train": s["train"][0]}), "splits\\['train'\\]"),
])
def test_bad_arguments_are_named(classifier, change, words):
    model, history, splits, _ = classifier
    with pytest.raises(ValueError, match=words):
        report.training_report(*change(model, history, splits))


def test_wrong_feature_name_count_and_path_type(classifier):
    model, history, splits, _ = classifier
    with pytest.raises(ValueError, match="feature_names"):
        report.training_report(model, history, splits, feature_names=["a", "b"])
    with pytest.raises(TypeError, match="path"):
        report.write_report(3, model, history, splits)


def test_missing_matplotlib_says_how_to_install(classifier, monkeypatch):
    model, history, splits, _ = classifier
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"gradwise\[report\]"):
        report.training_report(model, history, splits)


def _brute_force_best_f1(truth, scores):
    """The threshold among the scores with the highest F1 (positive when score >= threshold)."""
    best = (-1.0, None)
    for cut in np.unique(scores):
        flagged = scores >= cut
        hits = (flagged & truth).sum()
        f1 = 2 * hits / (flagged.sum() + truth.sum())
        if f1 > best[0]:
            best = (f1, cut)
    return best[1], best[0]


@pytest.fixture(scope="module")
def binary(cancer_split):
    X_train, X_test, y_train, y_test = cancer_split
    X_train, X_dev, y_train, y_dev = X_train[:300], X_train[300:], y_train[:300], y_train[300:]
    model = gw.Sequential([gw.layers.Dense(8, activation="relu"),
                           gw.layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer=gw.optimizers.Adam(0.003), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(X_train, y_train, epochs=3, validation_data=(X_dev, y_dev), verbose=0)
    splits = {"train": (X_train, y_train), "dev": (X_dev, y_dev), "test": (X_test, y_test)}
    return model, history, splits


def test_binary_report_has_curves_and_the_dev_f1_threshold(binary):
    model, history, splits = binary
    page = report.training_report(model, history, splits, class_names=["malignant", "benign"])
    # the rarer class of the training split (malignant, index 0) is the positive one
    assert "<h2>Precision-recall and ROC curves (class malignant positive)</h2>" in page
    X_dev, y_dev = splits["dev"]
    scores = 1 - model.predict(X_dev)[:, 0].astype(np.float64)
    threshold, f1 = _brute_force_best_f1(y_dev == 0, scores)
    assert report.best_f1_threshold(y_dev == 0, scores) == pytest.approx((threshold, f1))
    assert f"Threshold {threshold:.4g} maximizes F1 on the dev split" in page
    X_test, y_test = splits["test"]
    test_scores = 1 - model.predict(X_test)[:, 0].astype(np.float64)
    truth = y_test == 0
    cells = re.findall(r"<tr><td>test</td>(.*?)</tr>", page)[1]  # the curves table's row
    cells = re.findall(r"<td>(.*?)</td>", cells)
    flagged = test_scores >= threshold
    assert int(cells[0]) == truth.sum()
    assert float(cells[-1]) == pytest.approx((flagged & truth).sum() / truth.sum(), abs=5e-5)
    assert float(cells[-2]) == pytest.approx((flagged & truth).sum() / flagged.sum(), abs=5e-5)
    chosen = report.training_report(model, history, splits, positive_class=1)
    assert "(class 1 positive)" in chosen
    with pytest.raises(ValueError, match="positive_class"):
        report.training_report(model, history, splits, positive_class=2)


def test_multiclass_report_has_no_binary_curves(classifier):
    model, history, splits, _ = classifier
    assert "Precision-recall" not in report.training_report(model, history, splits)


def test_binary_permutation_importance_is_the_drop_in_roc_auc(binary):
    from sklearn.metrics import roc_auc_score
    model, history, splits = binary
    page = report.training_report(model, history, splits, random_state=0)
    assert "drop in ROC AUC when the feature is shuffled" in page
    X_dev, y_dev = splits["dev"]
    result = gw.explain.permutation_importance(model, X_dev, y_dev, n_repeats=5, random_state=0,
                                               scoring="roc_auc")
    top = int(np.argmax(result.importances_mean))
    assert _cells(page, f"x{top}") == [f"{result.importances_mean[top]:.4f}",
                                       f"{result.importances_std[top]:.4f}"]
    # and that is a drop in ROC AUC: shuffling the top feature by hand lowers the AUC
    base = roc_auc_score(y_dev, model.predict(X_dev)[:, 0])
    shuffled = X_dev.copy()
    shuffled[:, top] = np.random.default_rng(0).permutation(shuffled[:, top])
    assert roc_auc_score(y_dev, model.predict(shuffled)[:, 0]) < base
