"""``gradwise anomalies``: rows ranked by an autoencoder's reconstruction error, no labels."""
import numpy as np
import pytest

import gradwise as gw
from gradwise.cli import main


def _payments(tmp_path, n=1200, n_anomalies=12, gaps=False):
    """Normal rows near a 3-dimensional subspace of 10 features, anomalies off it."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3)) @ rng.normal(size=(3, 10)) + 0.05 * rng.normal(size=(n, 10))
    planted = rng.choice(n, n_anomalies, replace=False)
    X[planted] = 2 * rng.normal(size=(n_anomalies, 10))
    fraud = np.zeros(n, dtype=int)
    fraud[planted] = 1
    cells = [[f"{v:.5f}" for v in row] for row in X]
    if gaps:
        cells[5][0] = ""
    lines = ["id," + ",".join(f"f{i}" for i in range(10)) + ",fraud"]
    lines += [f"{i + 1}," + ",".join(row) + f",{t}" for i, (row, t) in enumerate(zip(cells, fraud))]
    path = tmp_path / "payments.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path), X, fraud


def _pairwise_auc(positive, scores):
    p, n = scores[positive], scores[~positive]
    return (p[:, None] > n[None, :]).mean() + 0.5 * (p[:, None] == n[None, :]).mean()


def test_planted_anomalies_rank_first_and_the_file_holds_every_row(tmp_path, capsys):
    path, X, fraud = _payments(tmp_path)
    out = tmp_path / "scores.csv"
    assert main(["anomalies", "--data", path, "--drop", "id", "--label", "fraud", "--epochs",
                 "60", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "(1200 rows, 10 features); autoencoder 10-32-8-32-10" in printed
    table = np.loadtxt(out, delimiter=",", skiprows=1, usecols=(0, 1, 2, 4))
    line, error, flag, label = table.T
    assert line.tolist() == list(range(2, 1202))  # the file's own lines, in file order
    assert label.tolist() == fraud.tolist()
    assert _pairwise_auc(fraud == 1, error) > 0.99
    assert flag.sum() == pytest.approx(12, abs=1)  # contamination 1% of 1200 rows
    assert error[flag == 1].min() > error[flag == 0].max()  # the flagged are the top errors
    # the scores are the detector's, fitted with the command's settings
    detector = gw.AutoencoderAnomalyDetector((32, 8), max_iter=60, contamination=0.01,
                                             random_state=0).fit(X.round(5))
    np.testing.assert_allclose(error, -detector.score_samples(X.round(5)), rtol=1e-4, atol=1e-7)
    assert "ROC AUC" in printed and "flagged rows: precision" in printed


def test_no_label_and_imputed_gaps(tmp_path, capsys):
    path, _, _ = _payments(tmp_path, n=300, n_anomalies=3, gaps=True)
    assert main(["anomalies", "--data", path, "--drop", "id,fraud", "--epochs", "5"]) == 2
    assert "column 'f0' has an empty cell at line 7" in capsys.readouterr().err
    assert main(["anomalies", "--data", path, "--drop", "id,fraud", "--epochs", "5", "--quiet",
                 "--impute", "median"]) == 0
    printed = capsys.readouterr().out
    assert "11 features" in printed  # 10 + the 'f0 is missing' indicator
    top = [line.split() for line in printed.splitlines()[3:13]]
    assert len(top) == 10 and all(row[2].startswith("f") for row in top)  # no label column


@pytest.mark.parametrize("extra, message", [
    (["--label", "id"], "--label: expected a column of two classes, 'id' has 300"),
    (["--contamination", "0.7"], "--contamination: expected a share in (0, 0.5]"),
    (["--noise", "-1"], "--noise: expected a standard deviation >= 0"),
    (["--noise", "inf"], "--noise: expected a standard deviation >= 0"),
    (["--hidden", "8,x"], "--hidden: expected sizes like 128,128"),
    (["--out", "/nonexistent-dir/s.csv"], "--out: the directory of"),
])
def test_bad_options_fail_before_training(tmp_path, capsys, extra, message):
    path, _, _ = _payments(tmp_path, n=300, n_anomalies=3)
    assert main(["anomalies", "--data", path, *extra]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and "autoencoder" not in captured.out


def test_saved_detector_scores_new_rows_as_it_scored_its_own(tmp_path, capsys):
    path, _, fraud = _payments(tmp_path, n=600, n_anomalies=6)
    scores, model_file = tmp_path / "scores.csv", str(tmp_path / "detector.npz")
    assert main(["anomalies", "--data", path, "--drop", "id", "--label", "fraud", "--epochs",
                 "30", "--out", str(scores), "--save", model_file]) == 0
    capsys.readouterr()
    again = tmp_path / "again.csv"
    assert main(["predict", "--model", model_file, "--data", path, "--out", str(again)]) == 0
    printed = capsys.readouterr().out
    first = np.loadtxt(scores, delimiter=",", skiprows=1, usecols=(0, 1, 2))
    second = np.loadtxt(again, delimiter=",", skiprows=1, usecols=(0, 1, 2))
    np.testing.assert_array_equal(first[:, 0], second[:, 0])  # the same file lines
    np.testing.assert_allclose(first[:, 1], second[:, 1], rtol=1e-5)  # the same errors
    np.testing.assert_array_equal(first[:, 2], second[:, 2])  # the same flags
    assert f"{int(first[:, 2].sum())} of 600 rows flagged" in printed
    assert "against 'fraud' (6 rows of the rarer class)" in printed  # the file has the column
    model = gw.load_model(model_file)
    assert model.metadata["kind"] == "gradwise-cli-anomalies" and "autoencoder" in model.metadata
    assert main(["predict", "--model", model_file, "--data", path, "--threshold", "0.5"]) == 2
    assert "--threshold: for class probabilities" in capsys.readouterr().err


def test_info_describes_a_saved_detector(tmp_path, capsys):
    path, _, _ = _payments(tmp_path, n=300, n_anomalies=3)
    model_file = str(tmp_path / "detector.npz")
    assert main(["anomalies", "--data", path, "--drop", "id,fraud", "--epochs", "3",
                 "--save", model_file]) == 0
    capsys.readouterr()
    assert main(["info", "--model", model_file]) == 0
    info = capsys.readouterr().out
    threshold = gw.load_model(model_file).metadata["threshold"]
    assert "made by: gradwise anomalies" in info and "--drop id,fraud" in info
    assert f"rows whose reconstruction error exceeds {threshold:.4g} are flagged" in info
    assert "columns: 10 (10 numeric, 0 categorical)" in info


def test_worst_columns_are_each_columns_share_of_the_squared_error():
    from gradwise.cli.anomalies import worst_columns

    class Zeros:  # reconstructs every row as the mean: the squared error is Z**2
        def reconstruct(self, Z):
            return np.zeros_like(Z)

    spec = [{"name": "amount", "kind": "number", "indicator": True},
            {"name": "kind", "kind": "category", "levels": ["x", "y"]},
            {"name": "hour", "kind": "number"}]
    # features: amount, kind=x, kind=y, hour, "amount is missing"
    Z = np.array([[3.0, 1.0, 1.0, 0.0, 1.0],    # amount 9 + 1 of 12, kind 1 + 1 of 12
                  [0.0, 0.0, 0.0, 2.0, 0.0]])   # hour all of it
    assert worst_columns(Zeros(), Z, spec, top=2) == ["amount 83%; kind 17%", "hour 100%; amount 0%"]


def test_scores_file_names_each_rows_worst_columns(tmp_path, capsys):
    path, _, _ = _payments(tmp_path, n=300, n_anomalies=3)
    out = tmp_path / "scores.csv"
    assert main(["anomalies", "--data", path, "--drop", "id,fraud", "--epochs", "5",
                 "--out", str(out)]) == 0
    import csv
    rows = list(csv.DictReader(open(out)))
    named = {part.rsplit(" ", 1)[0] for row in rows for part in row["worst_columns"].split("; ")}
    assert named <= {f"f{i}" for i in range(10)}
    shares = [[int(part.rsplit(" ", 1)[1].rstrip("%")) for part in row["worst_columns"].split("; ")]
              for row in rows]
    assert all(s == sorted(s, reverse=True) and sum(s) <= 102 for s in shares)


def test_report_page_shows_the_errors_the_top_rows_and_the_label_curves(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    import re
    path, _, _ = _payments(tmp_path, n=400, n_anomalies=4)
    page_file, scores = tmp_path / "a.html", tmp_path / "s.csv"
    assert main(["anomalies", "--quiet", "--data", path, "--drop", "id", "--label", "fraud",
                 "--epochs", "20", "--report", str(page_file), "--out", str(scores)]) == 0
    printed = capsys.readouterr().out
    page = page_file.read_text()
    for title in ("Detector", "Training loss", "Reconstruction errors",
                  "The 25 most anomalous rows", "Against the known label"):
        assert f"<h2>{title}</h2>" in page
    assert page.count("<svg") == 3 and "threshold" in page
    # the page's top rows are the printed ones, in the same order
    printed_lines = [line.split()[0] for line in printed.splitlines()[3:13]]
    page_lines = re.findall(r"<tr><td>(\d+)</td><td>", page)[:10]
    assert page_lines == printed_lines
    auc = printed.split("ROC AUC ")[1].split(",")[0]
    assert f"<td>ROC AUC</td><td>{auc}</td>" in page
    assert main(["anomalies", "--data", path, "--report", str(tmp_path / "no" / "a.html")]) == 2
    assert "--report: the directory of" in capsys.readouterr().err


@pytest.mark.parametrize("streamed", [False, True])
@pytest.mark.parametrize("rows, contamination, needed", [(1, 0.01, 100), (99, 0.01, 100),
                                                         (9, 0.5, 10), (19, 0.05, 20)])
def test_a_table_too_small_for_the_detector_is_refused_before_training(
        tmp_path, capsys, streamed, rows, contamination, needed):
    # with fewer rows than 1 / contamination, the share flagged is under one row; a one-row
    # file trained to an error of 0 and was reported as if scored
    path = tmp_path / "few.csv"
    values = np.arange(2 * rows, dtype=float).reshape(rows, 2)
    path.write_text("a,b\n" + "".join(f"{a},{b}\n" for a, b in values))
    argv = ["anomalies", "--data", str(path), "--contamination", str(contamination),
            "--epochs", "2", "--quiet"] + (["--memory-budget", "1K"] if streamed else [])
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"gradwise: error: --data: {str(path)!r} has {rows} row(s), "
                                   f"too few for an anomaly detector: it needs at least {needed},")
    assert "Epoch" not in captured.out + captured.err  # refused before any training
    path.write_text("a,b\n" + "".join(f"{i},{i % 7}\n" for i in range(needed)))
    assert main(argv) == 0  # the minimum itself is enough
    assert f"({needed} rows, 2 features" in capsys.readouterr().out


def _narrow(tmp_path, n_features):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, n_features))
    lines = [",".join(f"f{i}" for i in range(n_features))]
    lines += [",".join(f"{v:.4f}" for v in row) for row in X]
    path = tmp_path / "narrow.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.mark.parametrize("stream", [False, True])
def test_a_narrow_table_gets_a_code_narrower_than_its_input_by_default(tmp_path, capsys, stream):
    extra = ["--memory-budget", "1K"] if stream else []
    save = str(tmp_path / "d.npz")
    assert main(["anomalies", "--data", _narrow(tmp_path, 3), "--epochs", "2", "--quiet",
                 "--save", save, *extra]) == 0
    captured = capsys.readouterr()
    assert "autoencoder 3-32-2-32-3" in captured.out
    assert "warning" not in captured.err
    assert gw.load_model(save).layers[-1].units == 3  # and the network is that one
    assert main(["info", "--model", save]) == 0
    assert "--hidden 32,2" in capsys.readouterr().out  # as the run chose it


@pytest.mark.parametrize("stream", [False, True])
def test_an_autoencoder_without_a_bottleneck_is_warned_of_in_the_commands_words(
        tmp_path, capsys, recwarn, stream):
    extra = ["--memory-budget", "1K"] if stream else []
    path = _narrow(tmp_path, 3)
    assert main(["anomalies", "--data", path, "--epochs", "2", "--quiet", "--hidden", "16,4",
                 *extra]) == 0
    err = capsys.readouterr().err
    assert err.count("gradwise: warning: --hidden 16,4 on 3 feature(s): no layer is narrower "
                     "than the input") == 1
    assert "encoder_units" not in err and "UserWarning" not in err
    assert not [w for w in recwarn if "encoder_units" in str(w.message)]  # not the library's
    assert main(["anomalies", "--data", path, "--epochs", "2", "--quiet", "--hidden", "16,4",
                 "--noise", "0.1", *extra]) == 0  # a denoising autoencoder: no warning
    assert "warning" not in capsys.readouterr().err
