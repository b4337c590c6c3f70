"""The ``gradwise`` command on the embedded digits data and on users' CSV files."""
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris

from gradwise.cli import main


def _write_csv(path, header, rows):
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.mark.slow
def test_train_on_embedded_digits_reports_three_splits(capsys):
    assert main(["train", "--epochs", "15", "--patience", "5"]) == 0
    out = capsys.readouterr().out
    assert "digits" in out and "Epoch 1/15" in out
    table = {line.split()[0]: float(line.split()[2]) for line in out.splitlines()
             if line.split() and line.split()[0] in ("train", "dev", "test")}
    assert set(table) == {"train", "dev", "test"}
    assert table["test"] > 0.93  # digits is easy: 15 epochs are plenty for 93%


def test_csv_with_text_labels_is_classification(tmp_path, capsys):
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    path = _write_csv(tmp_path / "iris.csv", ["a", "b", "c", "d", "species"],
                      [[*row, name] for row, name in zip(X, names)])
    assert main(["train", "--data", path, "--target", "species", "--epochs", "60",
                 "--hidden", "16", "--quiet", "--learning-rate", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "task: classification" in out and "accuracy" in out
    test_accuracy = float(next(l for l in out.splitlines() if l.startswith("test")).split()[2])
    assert test_accuracy > 0.85


def test_csv_with_a_numeric_target_is_regression(tmp_path, capsys):
    X, y = load_diabetes(return_X_y=True)
    path = _write_csv(tmp_path / "diabetes.csv", [f"x{i}" for i in range(10)] + ["progression"],
                      [[*row, target] for row, target in zip(X, y)])
    assert main(["train", "--data", path, "--target", "progression", "--epochs", "30",
                 "--quiet", "--hidden", "32"]) == 0
    out = capsys.readouterr().out
    assert "task: regression" in out and "mae" in out
    test_mae = float(next(l for l in out.splitlines() if l.startswith("test")).split()[2])
    assert test_mae < np.mean(np.abs(y - np.median(y)))  # beats predicting the median


def test_text_feature_columns_are_one_hot_encoded(tmp_path, capsys):
    rng = np.random.default_rng(0)
    colours = rng.choice(["red", "green"], size=120)
    x = rng.normal(size=120)
    label = (colours == "red").astype(int)
    path = _write_csv(tmp_path / "c.csv", ["colour", "x", "label"], zip(colours, x, label))
    assert main(["train", "--data", path, "--target", "label", "--epochs", "40", "--quiet",
                 "--learning-rate", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "2 features" not in out and "3 features" in out
    assert float(next(l for l in out.splitlines() if l.startswith("test")).split()[2]) > 0.9


@pytest.mark.parametrize("content, args, message", [
    ("a,b\n1,2\n", ["--target", "c"], "--target: column 'c' is not in the header"),
    ("a,b\n1,2\n3\n", ["--target", "b"], "line 3 has 1 fields"),
    ("a,b\n1,\n3,4\n", ["--target", "b"], "column 'b' has an empty cell at line 2"),
    ("a,b\n", ["--target", "b"], "header row and at least one data row"),
    ("a,b\n1,2\n", [], "--target: name the column"),
    ("a,b\n1,2\n", ["--target", "b", "--hidden", "0"], "--hidden"),
])
def test_bad_csv_input_gives_a_clear_error(tmp_path, capsys, content, args, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["train", "--data", str(path), *args]) == 2
    assert message in capsys.readouterr().err


def test_missing_file_and_console_script(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gradwise.cli", "train", "--data",
                             str(tmp_path / "nope.csv"), "--target", "y"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "cannot read" in result.stderr


def test_python_dash_m_gradwise_runs_the_command():
    result = subprocess.run([sys.executable, "-m", "gradwise", "--help"], capture_output=True,
                            text=True)
    assert result.returncode == 0 and "train" in result.stdout
