"""The ``gradwise`` command on the embedded digits data and on users' CSV files."""
import re
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris

from gradwise.cli import main

from _cli_helpers import train_args


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
    ("a,b\n,1\n3,4\n", ["--target", "b"], "column 'a' has an empty cell at line 2"),
    ("a,b\n1,\n3,\n", ["--target", "b"], "--target: column 'b' has no values"),
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
    import gradwise
    result = subprocess.run([sys.executable, "-m", "gradwise", "--help"], capture_output=True,
                            text=True)
    assert result.returncode == 0 and "train" in result.stdout
    result = subprocess.run([sys.executable, "-m", "gradwise", "--version"], capture_output=True,
                            text=True)
    assert result.returncode == 0 and result.stdout.strip() == f"gradwise {gradwise.__version__}"


# -- gradwise tune ---------------------------------------------------------------------------
def _best_parameters(out):
    line = next(text for text in out.splitlines() if text.startswith("best parameters: "))
    pairs = (item.split("=") for item in line[len("best parameters: "):].split(", "))
    return {name: float(value) for name, value in pairs}


def test_tune_on_embedded_digits_reports_the_best_parameters_and_test_results(capsys):
    pytest.importorskip("optuna")
    assert main(["tune", "--trials", "3", "--epochs", "3"]) == 0
    out = capsys.readouterr().out
    assert "3 trials: 3 complete" in out
    progress = [line for line in out.splitlines() if re.match(r"trial \d+ ", line)]
    assert [line.split()[:3] for line in progress] == [["trial", str(n), "complete"]
                                                       for n in (0, 1, 2)], out
    assert all(re.search(r"val_accuracy [\d.]+ after 3 epochs; best [\d.]+ \(trial \d\); "
                         r"[\d.]+ s$", line) for line in progress), progress
    best = _best_parameters(out)
    # --space 3 by default: the first three tiers, and regularization
    assert set(best) == {"learning_rate", "beta_1", "batch_size", "units", "layers", "lr_decay",
                         "l2", "dropout"}
    assert 1e-4 <= best["learning_rate"] <= 1e-1 and 1e-6 <= best["l2"] <= 1e-2
    assert 0 <= best["dropout"] <= 0.5 and 16 <= best["units"] <= 256 and 1 <= best["layers"] <= 3
    assert 0.8 <= best["beta_1"] <= 0.99 and best["batch_size"] in (32, 64, 128, 256)
    width = int(best["units"])
    assert f"network 64-{'-'.join([str(width)] * int(best['layers']))}-10" in out
    table = {line.split()[0]: float(line.split()[2]) for line in out.splitlines()
             if line.split() and line.split()[0] in ("train", "dev", "test")}
    assert set(table) == {"train", "dev", "test"}
    assert table["test"] > 0.7  # 3 trials of 3 epochs: 0.79-0.96 over seeds 0-5; chance is 0.1


@pytest.mark.parametrize("space, names", [
    ("1", {"learning_rate"}), ("learning-rate", {"learning_rate"}),
    ("2", {"learning_rate", "beta_1", "batch_size", "units"}),
    ("all", {"learning_rate", "beta_1", "batch_size", "units", "layers", "lr_decay", "beta_2"})])
def test_tune_space_searches_the_tiers_in_order_of_importance(capsys, space, names):
    pytest.importorskip("optuna")
    assert main(["tune", "--trials", "2", "--epochs", "1", "--space", space,
                 "--sampler", "random"]) == 0
    assert set(_best_parameters(capsys.readouterr().out)) == names | {"l2", "dropout"}


def test_tune_gp_coarse_to_fine_with_hyperband_and_a_report(tmp_path, capsys):
    pytest.importorskip("optuna")
    pytest.importorskip("matplotlib")
    report = tmp_path / "tune.html"
    assert main(["tune", "--trials", "9", "--epochs", "3", "--space", "1", "--sampler", "gp",
                 "--strategy", "coarse-to-fine", "--pruner", "hyperband",
                 "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "9 trials (gp sampler, coarse to fine)" in out and "9 trials: " in out
    assert "importance: needs 8 complete trials" in out or "importance (fANOVA): " in out
    page = report.read_text()
    search = page[page.index("<h2>Hyperparameter search</h2>"):]
    assert "<svg" in search and "trial" in search


def _html_tables(page):
    """Each ``<table>`` of ``page`` as a list of rows of cell texts."""
    import html
    return [[[html.unescape(cell) for cell in re.findall(r"<t[hd]>(.*?)</t[hd]>", row)]
             for row in re.findall(r"<tr>(.*?)</tr>", table)]
            for table in re.findall(r"<table[^>]*>(.*?)</table>", page, re.S)]


def _assert_shows(pairs, expected):
    """``pairs`` (``name=value, ...`` or ``[(name, value), ...]``) shows ``expected`` (a dict)
    in its order, each value to the 3 significant digits printed."""
    if isinstance(pairs, str):
        pairs = [item.split("=") for item in pairs.split(", ")]
    assert [name for name, _ in pairs] == list(expected), pairs
    for name, value in pairs:
        assert float(value) == pytest.approx(expected[name], rel=5e-3), (name, value)


def test_tune_report_shows_the_best_parameters_the_trials_and_the_options_given(
        tmp_path, capsys, monkeypatch):
    pytest.importorskip("optuna")
    pytest.importorskip("matplotlib")
    import gradwise as gw
    from gradwise import tuning
    results, batch_sizes = [], []
    real_tune, real_fit = tuning.tune, gw.Sequential.fit

    def tune_spy(*args, **options):
        results.append(real_tune(*args, **options))
        return results[-1]

    def fit_spy(model, *args, **options):
        batch_sizes.append(options.get("batch_size"))
        return real_fit(model, *args, **options)

    monkeypatch.setattr(tuning, "tune", tune_spy)
    monkeypatch.setattr(gw.Sequential, "fit", fit_spy)
    path = _iris_csv(tmp_path / "iris.csv")[0]
    report, saved = tmp_path / "tune.html", tmp_path / "tune.npz"
    # --batch-size 50: a value the search (32, 64, 128 or 256) cannot choose
    assert main(["tune", "--data", path, "--target", "species", "--trials", "3", "--epochs", "2",
                 "--space", "2", "--batch-size", "50", "--sampler", "random", "--no-pruning",
                 "--seed", "0", "--report", str(report), "--save", str(saved)]) == 0
    capsys.readouterr()
    result, = results
    best = result.best_params
    assert batch_sizes[-1] == best["batch_size"] != 50  # the retraining: the best trial's size
    page = report.read_text()
    made = dict(_html_tables(page[page.index("<h2>How this model was made</h2>"):])[0])
    assert "batch_size=50" in made["options"].split(", ")  # the option given, not the best's
    _assert_shows(made["best parameters"], best)
    search = page[page.index("<h2>Hyperparameter search</h2>"):]
    chosen, trials = _html_tables(search)[:2]
    assert chosen[0] == ["hyperparameter", "best value"]
    _assert_shows(chosen[1:], best)
    printed = result.table().splitlines()  # the terminal's table, cell for cell
    complete = sum(t["state"] == "complete" for t in result.trials)
    assert trials == [line.split() for line in [printed[0], *printed[2:2 + complete]]]
    assert f"<p>{printed[2 + complete]}.</p>" in search  # trials per state
    assert main(["info", "--model", str(saved)]) == 0
    info = capsys.readouterr().out.splitlines()
    assert "--batch-size 50" in next(line for line in info if line.startswith("options: "))
    _assert_shows(next(line for line in info if line.startswith("best parameters: "))
                  [len("best parameters: "):], best)


@pytest.mark.parametrize("args, message", [
    (["--sampler", "gp", "--trials", "6", "--space", "1"],
     "--trials: --sampler gp starts with max(5, 2 x 3 hyperparameters of --space 1) = 6 random "
     "trials; expected --trials 7 or more, received 6."),
    (["--strategy", "coarse-to-fine", "--trials", "1"], "--trials: --strategy coarse-to-fine"),
    (["--space", "5"], "--space: expected 1-4 or one of learning-rate"),
])
def test_tune_refuses_a_bad_search_before_any_trial(capsys, args, message):
    pytest.importorskip("optuna")
    assert main(["tune", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradwise: error: ") and message in err and "Traceback" not in err


def test_tune_on_a_csv_regression(tmp_path, capsys):
    pytest.importorskip("optuna")
    X, y = load_diabetes(return_X_y=True)
    path = _write_csv(tmp_path / "diabetes.csv", [f"x{i}" for i in range(10)] + ["progression"],
                      [[*row, target] for row, target in zip(X, y)])
    assert main(["tune", "--data", path, "--target", "progression", "--trials", "2",
                 "--epochs", "3", "--sampler", "random"]) == 0
    out = capsys.readouterr().out
    assert "task: regression" in out and "val_mae" in out and "best parameters" in out
    test_mae = float(next(text for text in out.splitlines() if text.startswith("test")).split()[2])
    assert 0 < test_mae < 2 * np.mean(np.abs(y - np.median(y)))  # in the target's units


def test_tune_regression_labels_its_standardized_scores_in_terminal_and_report(
        tmp_path, capsys, monkeypatch):
    pytest.importorskip("optuna")
    pytest.importorskip("matplotlib")
    from gradwise import tuning
    results, real_tune = [], tuning.tune

    def tune_spy(*args, **options):
        results.append(real_tune(*args, **options))
        return results[-1]

    monkeypatch.setattr(tuning, "tune", tune_spy)
    X, y = load_diabetes(return_X_y=True)
    path = _write_csv(tmp_path / "diabetes.csv", [f"x{i}" for i in range(10)] + ["progression"],
                      [[*row, target] for row, target in zip(X, y)])
    report = tmp_path / "tune.html"
    assert main(["tune", "--data", path, "--target", "progression", "--trials", "3",
                 "--epochs", "3", "--sampler", "random", "--no-pruning", "--seed", "0",
                 "--report", str(report)]) == 0
    out = capsys.readouterr().out.splitlines()
    result, = results
    label = "val_mae (standardized target)"
    header = next(line for line in out if line.startswith("trial  "))
    assert re.split(r"\s{2,}", header)[:3] == ["trial", label, "epochs"]
    rows = out[out.index(header) + 2:out.index(header) + 5]
    assert [float(re.split(r"\s{2,}", row.strip())[1]) for row in rows] == pytest.approx(
        sorted(t["score"] for t in result.trials), rel=1e-3)  # as searched: not rescaled
    note = next(line for line in out if line.startswith("(val_mae until the table after "))
    std = float(re.search(r"std ([\d.e+]+);", note).group(1))
    dev_mae = float(next(line for line in out if line.startswith("dev ")).split()[2])
    # the retrained best trial: its standardized dev MAE times the std is the table's MAE
    assert result.best_score * std == pytest.approx(dev_mae, rel=1e-3)
    search = report.read_text()
    search = search[search.index("<h2>Hyperparameter search</h2>"):]
    assert f"<th>{label}</th>" in search and f"Best: trial {result.best_trial['number']}, " \
        f"{label} {result.best_score:.4g} after" in search


@pytest.mark.parametrize("args, message", [
    (["--trials", "0"], "--trials: expected a positive integer, received '0'"),
    (["--jobs", "-2"], "--jobs: expected a positive integer"),
    (["--epochs", "many"], "--epochs: expected a positive integer"),
    (["--sampler", "nope"], "--sampler: invalid choice: 'nope'"),
    (["--strategy", "nope"], "--strategy: invalid choice: 'nope'"),
    (["--pruner", "nope"], "--pruner: invalid choice: 'nope'"),
])
def test_tune_bad_options_exit_2_naming_the_option(capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["tune", *args])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_tune_errors_print_like_train(tmp_path, capsys, monkeypatch):
    path = tmp_path / "a.csv"
    path.write_text("a,b\n1,2\n")
    assert main(["tune", "--data", str(path)]) == 2
    assert "gradwise: error: --target: name the column" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "optuna", None)
    assert main(["tune", "--trials", "1", "--epochs", "1"]) == 2
    assert 'gradwise: error: Hyperparameter tuning needs Optuna: pip install "gradwise[tune]"' \
        in capsys.readouterr().err


# -- --save, --report and gradwise predict ---------------------------------------------------
def _iris_csv(path, rows=slice(None)):
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    return _write_csv(path, ["a", "b", "c", "d", "species"],
                      [[*row, name] for row, name in zip(X[rows], names[rows])]), X[rows], names[rows]


def test_saved_model_predicts_a_new_csv_like_the_trained_network(tmp_path, capsys):
    import gradwise as gw
    path, X, names = _iris_csv(tmp_path / "iris.csv")
    model_file, out_file = str(tmp_path / "iris.npz"), str(tmp_path / "pred.csv")
    assert main(["train", "--data", path, "--target", "species", "--epochs", "60", "--hidden",
                 "16", "--quiet", "--learning-rate", "0.01", "--save", model_file]) == 0
    capsys.readouterr()
    # the new file: other column order, an extra column, no target
    new = _write_csv(tmp_path / "new.csv", ["d", "extra", "c", "b", "a"],
                     [[row[3], 0, row[2], row[1], row[0]] for row in X])
    assert main(["predict", "--model", model_file, "--data", new, "--out", out_file]) == 0
    lines = (tmp_path / "pred.csv").read_text().splitlines()
    assert lines[0] == ("predicted_species,probability_setosa,probability_versicolor,"
                        "probability_virginica,line")
    assert [line.split(",")[-1] for line in lines[1:]] == [str(i + 2) for i in range(len(X))]
    assert f"predictions for {len(X)} rows written to {out_file}" in capsys.readouterr().out
    predicted = [line.split(",")[0] for line in lines[1:]]
    probabilities = np.array([[float(v) for v in line.split(",")[1:-1]] for line in lines[1:]])
    # independent of the CLI: the saved network on the raw features (it standardizes them itself)
    expected = gw.load_model(model_file).predict(X)
    np.testing.assert_allclose(probabilities, expected, rtol=1e-5, atol=1e-6)
    assert predicted == list(np.array(["setosa", "versicolor", "virginica"])[expected.argmax(1)])
    assert np.mean(np.array(predicted) == names) > 0.9
    # with the target column present, the accuracy is reported
    assert main(["predict", "--model", model_file, "--data", path, "--out", out_file]) == 0
    line = capsys.readouterr().out.split("accuracy against column 'species': ")[1]
    assert float(line.split(",")[0]) == pytest.approx(np.mean(np.array(predicted) == names),
                                                      abs=1e-4)
    recalls = [np.mean(np.array(predicted)[names == c] == c) for c in np.unique(names)]
    balanced = float(line.split("balanced accuracy ")[1].split(",")[0])
    assert balanced == pytest.approx(np.mean(recalls), abs=1e-4)


def test_regression_predictions_are_in_the_target_units(tmp_path, capsys):
    X, y = load_diabetes(return_X_y=True)
    path = _write_csv(tmp_path / "d.csv", [f"x{i}" for i in range(10)] + ["progression"],
                      [[*row, target] for row, target in zip(X, y)])
    model_file = str(tmp_path / "d.npz")
    assert main(["train", "--data", path, "--target", "progression", "--epochs", "30",
                 "--quiet", "--hidden", "32", "--save", model_file]) == 0
    capsys.readouterr()
    assert main(["predict", "--model", model_file, "--data", path]) == 0  # to standard output
    captured = capsys.readouterr()
    values = np.array([float(v) for v in captured.out.splitlines()[1:]])
    assert captured.out.splitlines()[0] == "predicted_progression" and len(values) == len(y)
    mae = np.mean(np.abs(values - y))
    assert mae < np.mean(np.abs(y - np.median(y)))
    line = captured.err.split("mean absolute error against column 'progression': ")[1]
    assert float(line.split(",")[0]) == pytest.approx(mae, rel=1e-4)
    rmse = float(line.split("root mean squared error ")[1].split(",")[0])
    assert rmse == pytest.approx(np.sqrt(np.mean((values - y) ** 2)), rel=1e-4)
    r2 = float(line.split("R2 ")[1])
    assert r2 == pytest.approx(1 - np.sum((values - y) ** 2) / np.sum((y - y.mean()) ** 2),
                               abs=1e-4)


def test_report_is_written_and_bad_paths_fail_before_training(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path, _, _ = _iris_csv(tmp_path / "iris.csv")
    report = tmp_path / "iris.html"
    assert main(["train", "--data", path, "--target", "species", "--epochs", "5", "--quiet",
                 "--report", str(report)]) == 0
    page = report.read_text()
    assert "Confusion matrix (test)" in page and "<td>a</td>" in page and "<svg" in page
    # the gradient-health table of the run, one record per epoch, the last one shown
    assert "<h2>Gradient health</h2>" in page and "Gradient health (epoch 5," in page
    capsys.readouterr()
    for option in ("--report", "--save"):
        assert main(["train", "--data", path, "--target", "species", "--epochs", "5",
                     option, str(tmp_path / "missing" / "x")]) == 2
        captured = capsys.readouterr()
        assert f"{option}: the directory of" in captured.err and "Epoch" not in captured.out
        assert main(["train", "--data", path, "--target", "species", option,
                     str(tmp_path)]) == 2
        assert f"{option}: {str(tmp_path)!r} is a directory" in capsys.readouterr().err


def test_predict_errors_are_clear(tmp_path, capsys):
    path, X, _ = _iris_csv(tmp_path / "iris.csv")
    model_file = str(tmp_path / "iris.npz")
    assert main(["train", "--data", path, "--target", "species", "--epochs", "2", "--quiet",
                 "--save", model_file]) == 0
    missing = _write_csv(tmp_path / "m.csv", ["a", "b", "c"], X[:, :3])
    assert main(["predict", "--model", model_file, "--data", missing]) == 2
    assert "columns ['d'] are missing" in capsys.readouterr().err
    text = _write_csv(tmp_path / "t.csv", ["a", "b", "c", "d"], [[1, 2, "x", 4]])
    assert main(["predict", "--model", model_file, "--data", text]) == 2
    assert "column 'c' expects numbers, line 2" in capsys.readouterr().err
    import gradwise as gw
    plain = str(tmp_path / "plain.npz")
    gw.save_model(gw.load_model(model_file), plain, metadata={})  # without the CLI's encoding
    assert main(["predict", "--model", plain, "--data", path]) == 2
    err = capsys.readouterr().err
    assert "was not saved by 'gradwise train', 'tune' or 'anomalies' with --save" in err


def test_unseen_categories_are_zeros_with_a_warning(tmp_path, capsys):
    rng = np.random.default_rng(0)
    colours = rng.choice(["red", "green"], size=120)
    x = rng.normal(size=120)
    path = _write_csv(tmp_path / "c.csv", ["colour", "x", "label"],
                      zip(colours, x, (colours == "red").astype(int)))
    model_file = str(tmp_path / "c.npz")
    assert main(["train", "--data", path, "--target", "label", "--epochs", "3", "--quiet",
                 "--save", model_file]) == 0
    new = _write_csv(tmp_path / "n.csv", ["colour", "x"], [["blue", 0.1], ["red", 0.2]])
    capsys.readouterr()
    assert main(["predict", "--model", model_file, "--data", new]) == 0
    captured = capsys.readouterr()
    assert "1 category cell(s) not seen in training" in captured.err
    assert "(as the unknown level when embedded): 'colour': 'blue' (1)." in captured.err
    assert len(captured.out.splitlines()) == 3


@pytest.mark.parametrize("cell", ["inf", "1e39", "NA"])
def test_predict_names_a_cell_that_is_no_finite_number_apart_from_a_missing_one(tmp_path, capsys,
                                                                                 cell):
    rng = np.random.default_rng(0)
    x = rng.normal(size=80)
    path = _write_csv(tmp_path / "t.csv", ["x", "label"], zip(x, (x > 0).astype(int)))
    model_file = str(tmp_path / "m.npz")
    assert main(["train", "--data", path, "--target", "label", "--epochs", "1", "--quiet",
                 "--save", model_file]) == 0
    new = _write_csv(tmp_path / "n.csv", ["x"], [[0.5], [1.5], [cell], [2.5]])
    capsys.readouterr()
    assert main(["predict", "--model", model_file, "--data", new]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    if cell == "NA":
        assert "column 'x' has missing values ('NA' at line 4)" in err
    else:  # as Arrow stored it: a number, but no finite one the float32 matrix holds
        assert ("column 'x' has a cell that is not a finite number (at most 3.4e+38 in size): "
                f"'{cell}' at line 4") in err


def test_missing_value_markers_and_byte_order_marks(tmp_path, capsys):
    rows = [[1.0, 0], [2.0, 1], ["NA", 0], [4.0, 1]]
    path = _write_csv(tmp_path / "na.csv", ["x", "y"], rows)
    assert main(["train", "--data", path, "--target", "y"]) == 2
    assert "column 'x' has missing values ('NA' at line 4)" in capsys.readouterr().err
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    bom = tmp_path / "bom.csv"
    bom.write_bytes(("\ufeffx,label\n" + "".join(f"{v},{int(v > 0)}\n" for v in x))
                    .encode("utf-8"))
    assert main(["train", "--data", str(bom), "--target", "x", "--epochs", "2", "--quiet"]) == 0
    latin = tmp_path / "latin.csv"
    latin.write_bytes("caf\xe9,y\n1,2\n".encode("latin-1"))
    assert main(["train", "--data", str(latin), "--target", "y"]) == 2
    assert "is not UTF-8 text" in capsys.readouterr().err


def test_an_identifier_column_is_flagged(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=120)
    path = _write_csv(tmp_path / "id.csv", ["customer", "x", "label"],
                      [[f"c{i:04d}", v, int(v > 0)] for i, v in enumerate(x)])
    assert main(["train", "--data", path, "--target", "label", "--epochs", "2", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "text column 'customer' looks like an identifier (120 distinct values in 120 rows" in err
    assert "--drop customer" in err


def test_drop_and_categorical_columns(tmp_path, capsys):
    import gradwise as gw
    rng = np.random.default_rng(0)
    x = rng.normal(size=120)
    zone = rng.choice([101, 202, 303], size=120)
    rows = [[i + 1, z, v, int(v + (z == 202) > 0)] for i, (z, v) in enumerate(zip(zone, x))]
    path = _write_csv(tmp_path / "z.csv", ["id", "zone", "x", "label"], rows)
    model_file = str(tmp_path / "m.npz")
    assert main(["train", "--data", path, "--target", "label", "--epochs", "2", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "integer column 'id' looks like an identifier (distinct integers 1..120)" in err
    assert "3 features" in out
    assert main(["train", "--data", path, "--target", "label", "--epochs", "2", "--quiet",
                 "--drop", "id", "--categorical", "zone", "--save", model_file]) == 0
    out, err = capsys.readouterr()
    assert "looks like an identifier" not in err and "4 features" in out  # 3 zones + x
    columns = gw.load_model(model_file).metadata["columns"]
    assert columns == [{"name": "zone", "kind": "category", "levels": ["101", "202", "303"]},
                       {"name": "x", "kind": "number", "missing": False}]
    # predict ignores the dropped column and encodes the zone codes as categories
    new = _write_csv(tmp_path / "n.csv", ["zone", "x"], [[202, 0.1], [101, 0.2]])
    assert main(["predict", "--model", model_file, "--data", new]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    for option, value, message in (("--drop", "nope", "--drop: columns ['nope'] are not in"),
                                   ("--categorical", "label", "--categorical: 'label' is the "
                                    "target column")):
        assert main(["train", "--data", path, "--target", "label", option, value]) == 2
        assert message in capsys.readouterr().err


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_tune_retrains_the_best_trial_to_its_score(capsys, jobs):
    # The best trial's seed, parameters and arithmetic (one BLAS thread, as in the workers),
    # and its best epoch kept: the dev accuracy printed at the end is the trial's own score.
    pytest.importorskip("optuna")
    assert main(["tune", "--trials", "4", "--epochs", "4", "--jobs", jobs, "--no-pruning"]) == 0
    out = capsys.readouterr().out.splitlines()
    best_row = out[out.index(next(l for l in out if l.startswith("-----"))) + 1]
    dev = next(line for line in out if line.startswith("dev"))
    assert float(dev.split()[2]) == pytest.approx(float(best_row.split()[1]), abs=1e-4)


def test_tune_resumes_a_stored_study(tmp_path, capsys):
    pytest.importorskip("optuna")
    url = f"sqlite:///{tmp_path / 'tune.db'}"
    options = ["tune", "--trials", "2", "--epochs", "2", "--storage", url, "--study", "digits"]
    assert main(options) == 0 and "2 trials: 2 complete" in capsys.readouterr().out
    assert main(options) == 0
    assert "4 trials: 4 complete" in capsys.readouterr().out
    assert main(["tune", "--storage", "tune.db"]) == 2
    assert "storage" in capsys.readouterr().err


def test_tune_refuses_to_mix_two_tables_in_one_stored_study(tmp_path, capsys, monkeypatch):
    pytest.importorskip("optuna")
    monkeypatch.chdir(tmp_path)
    rows = range(60)
    (tmp_path / "a.csv").write_text("a,y\n" + "".join(f"{i},{i % 2}\n" for i in rows))
    (tmp_path / "b.csv").write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in rows))
    options = ["--target", "y", "--trials", "1", "--epochs", "1", "--storage", "sqlite:///t.db"]
    assert main(["tune", "--data", "a.csv", *options]) == 0
    capsys.readouterr()
    assert main(["tune", "--data", "b.csv", *options]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "gradwise: error: --study: the stored study 'gradwise-tune' scores its trials by "
        "val_auc on 1 input features; this search by val_auc on 2 input features: "
        "their scores cannot be compared; give another --study name.")


def test_tune_refuses_a_database_it_cannot_reach_before_reading_the_data(tmp_path, capsys,
                                                                         monkeypatch):
    pytest.importorskip("optuna")
    pytest.importorskip("psycopg")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text("a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(40)))
    status = main(["tune", "--data", "d.csv", "--target", "y", "--trials", "2",
                   "--storage", "postgresql://user:secret@127.0.0.1:1/db"])
    captured = capsys.readouterr()
    assert status == 2 and "data:" not in captured.out  # nothing read
    assert captured.err.splitlines() == [captured.err.strip()]  # one line
    assert captured.err.startswith(
        "gradwise: error: --storage: cannot connect to postgresql://user:***@127.0.0.1:1/db: ")
    assert "secret" not in captured.err


def test_numeric_class_labels_come_back_as_written(tmp_path, capsys):
    X, y = load_iris(return_X_y=True)
    path = _write_csv(tmp_path / "iris.csv", ["a", "b", "c", "d", "kind"],
                      [[*row, label] for row, label in zip(X, y)])
    model_file = str(tmp_path / "m.npz")
    assert main(["train", "--data", path, "--target", "kind", "--epochs", "60", "--hidden", "16",
                 "--quiet", "--learning-rate", "0.01", "--save", model_file]) == 0
    capsys.readouterr()
    assert main(["predict", "--model", model_file, "--data", path]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0] == "predicted_kind,probability_0,probability_1,probability_2"
    predicted = np.array([int(line.split(",")[0]) for line in lines[1:]])  # "1", not "1.0"
    reported = float(captured.err.split("accuracy against column 'kind': ")[1].split(",")[0])
    assert reported == pytest.approx(np.mean(predicted == y), abs=1e-4) and reported > 0.85


def test_regression_scores_are_in_target_units(tmp_path, capsys):
    from gradwise.cli import data as _cli_data
    X, y = load_diabetes(return_X_y=True)
    path = _write_csv(tmp_path / "d.csv", [f"x{i}" for i in range(10)] + ["progression"],
                      [[*row, target] for row, target in zip(X, y)])
    data = _cli_data.prepare(_cli_data.load(train_args("--data", path, "--target", "progression")),
                             seed=0)
    model = _cli_data.network(data.n_features, [16], 1, "regression", 0.01, data.moments, seed=0)
    model.fit(*data.splits[0], epochs=20, batch_size=32, verbose=0)
    train = _cli_data.split_scores(model, data, *data.splits[0])
    # targets are standardized with the training split's mean and std, so there the MSE loss
    # is the unexplained share of the variance: R^2 = 1 - loss
    assert train["r2"] == pytest.approx(1 - train["loss"], rel=1e-5)
    Xt, yt = data.splits[2]
    predicted = model.predict(Xt)[:, 0] * data.y_std + data.y_mean
    actual = yt * data.y_std + data.y_mean
    test = _cli_data.split_scores(model, data, Xt, yt)
    assert test["rmse"] == pytest.approx(np.sqrt(np.mean((predicted - actual) ** 2)), rel=1e-5)
    assert test["mae"] == pytest.approx(np.mean(np.abs(predicted - actual)), rel=1e-5)
    assert test["r2"] == pytest.approx(
        1 - np.sum((predicted - actual) ** 2) / np.sum((actual - actual.mean()) ** 2), rel=1e-5)


def test_l2_and_dropout_options_reach_the_network(tmp_path, capsys):
    import gradwise as gw
    model_file = str(tmp_path / "m.npz")
    assert main(["train", "--epochs", "1", "--quiet", "--hidden", "16,8", "--l2", "0.001",
                 "--dropout", "0.3", "--save", model_file]) == 0
    model = gw.load_model(model_file)
    dropouts = [layer for layer in model.layers if isinstance(layer, gw.layers.Dropout)]
    dense = [layer for layer in model.layers if isinstance(layer, gw.layers.Dense)]
    assert [d.rate for d in dropouts] == [0.3, 0.3] and len(dense) == 3
    W = dense[0].params["W"]
    assert dense[0].kernel_regularizer(W) == pytest.approx(0.001 / 2 * np.sum(W.astype(float) ** 2),
                                                           rel=1e-5)
    for option, value in (("--l2", "-1"), ("--dropout", "1"), ("--dropout", "-0.1")):
        assert main(["train", option, value]) == 2
        assert f"{option}: expected" in capsys.readouterr().err


def test_diagnosis_line_reads_the_errors_of_the_results_table(capsys):
    assert main(["train", "--epochs", "2", "--quiet", "--hidden", "8", "--human-error",
                 "0.01"]) == 0
    out = capsys.readouterr().out.splitlines()
    accuracy = {line.split()[0]: float(line.split()[2]) for line in out
                if line.split() and line.split()[0] in ("train", "dev")}
    line = next(text for text in out if text.startswith("diagnosis (error rate: human 0.01, "))
    train_error = float(line.split("train ")[1].split(",")[0])
    dev_error = float(line.split("dev ")[1].split(")")[0])
    assert train_error == pytest.approx(1 - accuracy["train"], abs=1e-4)
    assert dev_error == pytest.approx(1 - accuracy["dev"], abs=1e-4)
    # two epochs of an 8-unit network leave its training error far above 1%: high bias
    assert train_error - 0.01 > dev_error - train_error and "high bias; next: " in line
    for value in ("1.5", "-0.1"):
        assert main(["train", "--human-error", value]) == 2
        assert "--human-error: expected an error rate in [0, 1]" in capsys.readouterr().err


def test_diagnosis_after_early_stopping_does_not_advise_training_longer(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1500, 3))
    y = (X[:, 0] > 0) ^ (rng.random(1500) < 0.2)  # a fifth of the labels flipped: 0.2 error
    path = tmp_path / "noisy.csv"
    path.write_text("a,b,c,y\n" + "".join(f"{a:.4f},{b:.4f},{c:.4f},{int(t)}\n"
                                          for (a, b, c), t in zip(X, y)))
    assert main(["train", "--data", str(path), "--target", "y", "--epochs", "300",
                 "--patience", "3", "--quiet", "--hidden", "8"]) == 0
    out = capsys.readouterr().out
    assert "early stopping after 3 epochs" in out
    line = next(text for text in out.splitlines() if text.startswith("diagnosis ("))
    # the recipe in the command's options; its network already trains with Adam
    assert "high bias; next: train a bigger network (more units or layers: --hidden); tune the " \
        "learning rate (--learning-rate, or gradwise tune)" in line and "train longer" not in line
    assert line.endswith("give that error with --human-error)")
    report = tmp_path / "r.html"  # the report's bias/variance section gives the same advice
    assert main(["train", "--data", str(path), "--target", "y", "--epochs", "300",
                 "--patience", "3", "--quiet", "--hidden", "8", "--report", str(report)]) == 0
    capsys.readouterr()
    section = report.read_text().split("Bias and variance")[1].split("</pre>")[0]
    assert "- tune the learning rate (--learning-rate, or gradwise tune)" in section
    assert "train longer" not in section and "better optimizer" not in section
    human = float(line.split("train ")[1].split(",")[0]) - 0.01  # the same run, seeded
    assert main(["train", "--data", str(path), "--target", "y", "--epochs", "300",
                 "--patience", "3", "--quiet", "--hidden", "8", "--human-error", str(human)]) == 0
    line = next(text for text in capsys.readouterr().out.splitlines()
                if text.startswith("diagnosis ("))
    assert f"human {human:.4g}" in line and "high bias" not in line
    assert "--human-error" not in line


def test_info_tells_how_a_saved_model_was_made(tmp_path, capsys):
    import gradwise as gw
    path, _, _ = _iris_csv(tmp_path / "iris.csv")
    model_file = str(tmp_path / "iris.npz")
    assert main(["train", "--data", path, "--target", "species", "--epochs", "5", "--quiet",
                 "--hidden", "8", "--save", model_file]) == 0
    trained = capsys.readouterr().out.splitlines()
    assert main(["info", "--model", model_file]) == 0
    info = capsys.readouterr().out
    assert "made by: gradwise train (gradwise " in info and f"data: {path} (150 rows" in info
    assert "--hidden 8" in info and "--epochs 5" in info and "--save" not in info
    assert "classes: setosa, versicolor, virginica" in info and "Total params:" in info
    # the results recorded in the file are the ones the training printed
    printed = next(line for line in trained if line.startswith("test")).split()[1:]
    recorded = next(line for line in info.splitlines() if line.startswith("test")).split()[1:]
    assert [float(v) for v in recorded] == pytest.approx([float(v) for v in printed], abs=1e-4)
    # a model file written without the record still describes its columns and classes
    model = gw.load_model(model_file)
    facts = dict(model.metadata)
    del facts["provenance"]
    gw.save_model(model, tmp_path / "old.npz", metadata=facts)
    assert main(["info", "--model", str(tmp_path / "old.npz")]) == 0
    assert "did not record how" in capsys.readouterr().out
    gw.save_model(model, tmp_path / "plain.npz", metadata={})
    assert main(["info", "--model", str(tmp_path / "plain.npz")]) == 2
    assert "was not saved by" in capsys.readouterr().err


def test_repeats_report_each_seed_and_their_spread(tmp_path, capsys):
    path, _, _ = _iris_csv(tmp_path / "iris.csv")
    common = ["train", "--data", path, "--target", "species", "--epochs", "15", "--quiet",
              "--hidden", "8", "--learning-rate", "0.01"]
    assert main(common + ["--repeats", "3", "--seed", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in lines
            if line.split() and line.split()[0] in ("5", "6", "7", "mean", "std")}
    for seed in ("5", "6", "7"):  # each run is the single training with that seed
        assert main(common + ["--seed", seed]) == 0
        test = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("test"))
        assert rows[seed] == pytest.approx([float(v) for v in test.split()[1:]], abs=1e-4)
    runs = np.array([rows[s] for s in ("5", "6", "7")])
    assert rows["mean"] == pytest.approx(runs.mean(axis=0), abs=1e-4)
    assert rows["std"] == pytest.approx(runs.std(axis=0, ddof=1), abs=1e-4)
    for extra, message in ((["--repeats", "1"], "at least 2 runs"),
                           (["--repeats", "2", "--save", str(tmp_path / "m.npz")], "take one run")):
        assert main(common + extra) == 2
        assert message in capsys.readouterr().err


def test_predict_explains_each_row_by_its_columns(tmp_path, capsys):
    import gradwise as gw
    from gradwise.explain import input_gradients
    rng = np.random.default_rng(0)
    n = 400
    x, noise = rng.normal(size=n), rng.normal(size=n)
    colour = rng.choice(["red", "blue"], size=n)  # unrelated to the label
    label = np.where(x > 0, "yes", "no")
    path = _write_csv(tmp_path / "e.csv", ["x", "noise", "colour", "label"],
                      zip(x.round(4), noise.round(4), colour, label))
    model_file = str(tmp_path / "m.npz")
    assert main(["train", "--data", path, "--target", "label", "--epochs", "30", "--quiet",
                 "--hidden", "16", "--learning-rate", "0.01", "--save", model_file]) == 0
    out = tmp_path / "p.csv"
    assert main(["predict", "--model", model_file, "--data", path, "--explain", "3",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    import csv
    rows = list(csv.DictReader(open(out)))
    tops = [row["explanation"].split(" ")[0] for row in rows]
    assert tops.count("x") > 0.9 * n  # the label's only cause comes first
    # the numbers: log-odds gradient times (x - training mean), summed over a column's features
    model = gw.load_model(model_file)
    first = rows[0]
    encoded = np.array([[x[0], noise[0], colour[0] == "blue", colour[0] == "red"]], dtype=float)
    classes = model.metadata["classes"]
    chosen = np.array([classes.index(first["predicted_label"])])
    shares = (input_gradients(model, encoded, chosen, space="log_odds")
              * (encoded - model.layers[0].state["mean"]))[0]
    expected = {"x": shares[0], "noise": shares[1], "colour": shares[2] + shares[3]}
    for part in first["explanation"].split("; "):
        name, value = part.rsplit(" ", 1)
        assert float(value) == pytest.approx(expected[name], rel=2e-3, abs=1e-6)


def test_a_closed_pipe_ends_the_command_quietly():
    # gradwise predict ... | head: the reader leaves early; no traceback, no error message
    # -u: unbuffered, so that the first line arrives while training (and writing) goes on
    code = ("import sys; sys.argv = ['gradwise', 'train', '--epochs', '30']; "
            "from gradwise.cli import main; sys.exit(main())")
    process = subprocess.Popen([sys.executable, "-u", "-c", code], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdout.readline()
    process.stdout.close()  # like head after one line
    error = process.stderr.read().decode()
    assert process.wait(timeout=60) == 1 and "Traceback" not in error and error == ""


def test_cross_validation_tests_every_row_once(tmp_path, capsys):
    from gradwise.cli import data as _cli_data
    from gradwise.cli import _runs
    path, _, names = _iris_csv(tmp_path / "iris.csv")
    args = train_args("--data", path, "--target", "species", "--cv", "5")
    loaded = _cli_data.load(args)
    runs = _runs(args, loaded, 5)
    tested = np.concatenate([files["test"][0] for _, _, files, _ in runs])
    assert len(tested) == 150 and len(np.unique(tested, axis=0)) == len(np.unique(loaded[0], axis=0))
    for _, part, files, _ in runs:  # each fold: 30 test rows, 10 of each class; 120 to learn from
        assert len(files["test"][0]) == 30 and len(part[0]) == 120
        assert sorted(np.unique(files["test"][1], return_counts=True)[1]) == [10, 10, 10]
    assert main(["train", "--data", path, "--target", "species", "--cv", "3", "--epochs", "10",
                 "--quiet", "--hidden", "8", "--learning-rate", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "3-fold cross-validation: each fold of about 50 rows the test set once" in out
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]] for line in out.splitlines()
            if line.split() and line.split()[0] in ("1", "2", "3", "mean", "std")}
    folds = np.array([rows[k] for k in ("1", "2", "3")])
    assert rows["mean"] == pytest.approx(folds.mean(axis=0), abs=1e-4)
    assert rows["std"] == pytest.approx(folds.std(axis=0, ddof=1), abs=1e-4)
    for extra, message in ((["--cv", "1"], "--cv: expected at least 2 runs"),
                           (["--cv", "3", "--repeats", "2"], "cannot be combined"),
                           (["--cv", "200"], "--cv: ")):
        assert main(["train", "--data", path, "--target", "species", *extra]) == 2
        assert message in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow on the way to inf
def test_a_diverging_run_ends_with_one_error_line_and_writes_no_model(tmp_path, capsys):
    X, y = load_diabetes(return_X_y=True)
    path = _write_csv(tmp_path / "diabetes.csv", [f"x{i}" for i in range(10)] + ["progression"],
                      [[*row, target] for row, target in zip(X, y)])
    model = tmp_path / "m.npz"
    assert main(["train", "--data", path, "--target", "progression", "--epochs", "5",
                 "--quiet", "--learning-rate", "1e30", "--save", str(model)]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1
    assert error[0].startswith("gradwise: error: training diverged: the training loss became")
    assert "learning rate too large (--learning-rate 1e+30)" in error[0] and not model.exists()
    assert "learning_rate=" not in error[0]  # the command's option, not the library's argument


def test_the_commands_advice_words_steps_of_the_basic_recipe():
    """Each reworded step is one the library's recipe gives (a changed step would otherwise
    reach the command line in the library's words, such as 'use a better optimizer (e.g.
    Adam)' for a network that trains with Adam already)."""
    from gradwise.cli.results import ADVICE
    from gradwise.diagnostics import RECIPE
    steps = {step for actions in RECIPE.values() for step in actions}
    assert set(ADVICE) <= steps
    assert all("--" in worded for worded in ADVICE.values())
    assert "use a better optimizer (e.g. Adam) or tune the learning rate" in ADVICE


@pytest.mark.parametrize("error, status", [
    (RuntimeError("a library's error\n  [on two lines]\n"), 1), (ValueError("first\nsecond"), 2)])
def test_an_error_of_several_lines_is_printed_as_one(capsys, error, status):
    import argparse

    from gradwise.cli import guard

    def command(args):
        raise error
    assert guard.run(command, argparse.Namespace(command="train")) == status
    assert len(capsys.readouterr().err.splitlines()) == 1
