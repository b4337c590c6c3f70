"""The command's scores for classes: balanced accuracy, macro F1, and for two classes ROC AUC
and average precision of the rarer one; --class-weight balanced; the note on a rare class."""

import numpy as np
import pytest
from sklearn.datasets import make_classification

import gradwise as gw
from gradwise.cli import data as _cli_data
from gradwise.cli import main

from _cli_helpers import train_args


def _fraud_csv(tmp_path, n=3000):
    X, y = make_classification(n_samples=n, n_features=8, n_informative=4, weights=[0.97],
                               flip_y=0.0, class_sep=1.0, random_state=0)
    lines = [",".join([f"x{i}" for i in range(8)] + ["label"])]
    lines += [",".join([f"{v:.6f}" for v in row] + ["fraud" if t else "ok"])
              for row, t in zip(X, y)]
    path = tmp_path / "fraud.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _table(out):
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("split")).split()[1:]
    return {line.split()[0]: dict(zip(header, map(float, line.split()[1:])))
            for line in lines if line.split() and line.split()[0] in ("train", "dev", "test")}


def _roc_auc(positive, score):
    """The probability that a random positive outscores a random negative (ties count half)."""
    p, n = score[positive], score[~positive]
    return ((p[:, None] > n[None, :]).mean() + 0.5 * (p[:, None] == n[None, :]).mean())


def test_split_scores_match_their_definitions(tmp_path):
    path = _fraud_csv(tmp_path)
    data = _cli_data.prepare(_cli_data.load(train_args("--data", path, "--target", "label")),
                             seed=0)
    model = _cli_data.network(data.n_features, [16], data.outputs, data.task, 0.01, data.moments,
                              seed=0)
    model.fit(*data.splits[0], epochs=3, batch_size=64, verbose=0)
    X, y = data.splits[2]
    scores = _cli_data.split_scores(model, data, X, y)
    probabilities = model.predict(X).astype(np.float64)
    predicted = probabilities.argmax(axis=1)
    recalls = [np.mean(predicted[y == c] == c) for c in (0, 1)]
    precisions = [np.mean(y[predicted == c] == c) for c in (0, 1)]
    f1 = [2 * p * r / (p + r) for p, r in zip(precisions, recalls)]
    assert list(data.classes) == ["fraud", "ok"] and _cli_data.rare_class(data)[0] == 0
    assert scores["accuracy"] == pytest.approx(np.mean(predicted == y), abs=1e-6)
    assert scores["bal_acc"] == pytest.approx(np.mean(recalls))
    assert scores["macro_f1"] == pytest.approx(np.mean(f1))
    assert scores["roc_auc"] == pytest.approx(_roc_auc(y == 0, probabilities[:, 0]))
    # average precision: the mean over positives of the precision at their rank
    order = np.argsort(-probabilities[:, 0], kind="stable")
    hits = (y[order] == 0)
    precision_at = np.cumsum(hits) / np.arange(1, len(y) + 1)
    assert scores["avg_prec"] == pytest.approx(precision_at[hits].mean(), abs=1e-3)


def test_balanced_class_weights_raise_minority_recall(tmp_path, capsys):
    path = _fraud_csv(tmp_path)
    data = _cli_data.prepare(_cli_data.load(train_args("--data", path, "--target", "label")),
                             seed=0)
    assert _cli_data.class_weight(data, "balanced") == "balanced"
    assert _cli_data.class_weight(data, "none") is None
    common = ["train", "--data", path, "--target", "label", "--epochs", "15", "--quiet",
              "--hidden", "32"]
    assert main(common) == 0
    plain = capsys.readouterr().out
    assert main(common + ["--class-weight", "balanced"]) == 0
    balanced = capsys.readouterr().out
    assert _table(balanced)["train"]["bal_acc"] > _table(plain)["train"]["bal_acc"]
    assert "note: class 'fraud' is 3." in plain and "--class-weight balanced weights" in plain
    assert "note: class 'fraud'" in balanced and "--class-weight balanced weights" not in balanced
    assert "take the rarer class 'fraud' as positive" in plain
    assert "diagnosis: not made from the error rate" in plain  # it would hide the rare class
    assert "high bias" not in plain and "high variance" not in plain


def test_no_note_for_balanced_classes_and_no_class_weight_for_regression(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    path = tmp_path / "r.csv"
    path.write_text("x,y\n" + "".join(f"{v},{2 * v + 0.1 * rng.normal()}\n" for v in x))
    assert main(["train", "--data", str(path), "--target", "y", "--class-weight",
                 "balanced"]) == 2
    assert "--class-weight: only for classification" in capsys.readouterr().err
    assert main(["train", "--epochs", "1", "--quiet"]) == 0  # digits: ten classes of ~10%
    out = capsys.readouterr().out
    assert "note:" not in out and "roc_auc" not in out and "bal_acc" in out


def test_tune_passes_balanced_class_weights(tmp_path, capsys, monkeypatch):
    pytest.importorskip("optuna")
    from gradwise import tuning
    seen = {}
    real = tuning.tune

    def spy(*args, **options):
        seen.update(options)
        return real(*args, **options)

    monkeypatch.setattr(tuning, "tune", spy)
    path = _fraud_csv(tmp_path, n=600)
    assert main(["tune", "--data", path, "--target", "label", "--class-weight", "balanced",
                 "--trials", "2", "--epochs", "2", "--no-pruning"]) == 0
    assert seen["class_weight"] == "balanced"
    # two classes: trials are scored by dev ROC AUC, which the retrained network reproduces
    assert seen["objective"] == "val_auc"
    out = capsys.readouterr().out.splitlines()
    best_row = out[out.index(next(line for line in out if line.startswith("-----"))) + 1]
    assert _table("\n".join(out))["dev"]["roc_auc"] == pytest.approx(float(best_row.split()[1]),
                                                                     abs=1e-4)


def test_predict_threshold_flags_the_positive_class(tmp_path, capsys):
    path = _fraud_csv(tmp_path, n=1500)
    model_file = str(tmp_path / "f.npz")
    assert main(["train", "--data", path, "--target", "label", "--epochs", "5", "--quiet",
                 "--save", model_file]) == 0
    assert gw.load_model(model_file).metadata["positive"] == "fraud"
    out = tmp_path / "p.csv"
    assert main(["predict", "--model", model_file, "--data", path, "--out", str(out),
                 "--threshold", "0.05"]) == 0
    rows = [line.split(",") for line in out.read_text().splitlines()]
    header, rows = rows[0], rows[1:]
    fraud = header.index("probability_fraud")
    flagged = [row[0] == "fraud" for row in rows]
    assert flagged == [float(row[fraud]) >= 0.05 for row in rows]
    assert 0 < sum(flagged) < len(rows)
    # scored against the file's own labels: precision and recall of the flagged class
    truth = [line.split(",")[-1] == "fraud" for line in open(path).read().splitlines()[1:]]
    hits = sum(f and t for f, t in zip(flagged, truth))
    scored = capsys.readouterr().out
    precision = float(scored.split("'fraud': precision ")[1].split(",")[0])
    recall = float(scored.split("recall ")[1])
    assert precision == pytest.approx(hits / sum(flagged), abs=1e-4)
    assert recall == pytest.approx(hits / sum(truth), abs=1e-4)
    for bad, message in (("1.5", "between 0 and 1"), ("0", "between 0 and 1")):
        assert main(["predict", "--model", model_file, "--data", path, "--threshold", bad]) == 2
        assert message in capsys.readouterr().err
    digits_model = str(tmp_path / "d.npz")
    assert main(["train", "--epochs", "1", "--quiet", "--save", digits_model]) == 0
    capsys.readouterr()
    assert main(["predict", "--model", digits_model, "--data", path, "--threshold", "0.5"]) == 2
    assert "--threshold: only for a model of two classes" in capsys.readouterr().err


def test_no_diagnosis_from_the_error_rate_of_a_rare_class_in_the_terminal_or_the_report(
        tmp_path, capsys):
    path, page = _fraud_csv(tmp_path), tmp_path / "r.html"
    assert main(["train", "--data", path, "--target", "label", "--epochs", "2", "--quiet",
                 "--human-error", "0.01", "--report", str(page)]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("diagnosis")]
    assert len(lines) == 1 and lines[0].startswith("diagnosis: not made from the error rate")
    assert "class 'fraud' is" in lines[0] and "--human-error, an error rate, is not used" in lines[0]
    text = page.read_text()
    section = text[text.index("Bias and variance"):]
    assert "not made from the error rate" in section[:2000]
    assert "HIGH BIAS" not in text and "HIGH VARIANCE" not in text
