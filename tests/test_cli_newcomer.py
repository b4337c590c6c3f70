"""What a newcomer meets: the regression report in the console's units with a record of how it
was made, the epoch kept by early stopping, formulas neutralized in written CSVs, an optional
package checked before training, and stray cells read as missing on request."""
import csv
import importlib.util
import re

import numpy as np
import pytest

from gradwise.cli import main

pytest.importorskip("matplotlib")


def _regression_csv(path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    y = 1000 + 50 * X[:, 0] - 20 * X[:, 1] + rng.normal(scale=5, size=120)
    with open(path, "w") as file:
        file.write("a,b,price\n")
        file.writelines(f"{a:.4f},{b:.4f},{t:.2f}\n" for (a, b), t in zip(X, y))


def test_regression_report_shows_the_console_scores_and_how_it_was_made(tmp_path, monkeypatch,
                                                                        capsys):
    monkeypatch.chdir(tmp_path)
    _regression_csv(tmp_path / "houses.csv")
    assert main(["train", "--data", "houses.csv", "--target", "price", "--epochs", "30",
                 "--hidden", "8", "--report", "r.html"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\(epoch lines: loss and mae of the standardized target \(y - mean\) / "
                     r"std, mean 99\d\.\d+, std", out), out
    assert re.search(r"kept the weights of epoch \d+ of \d+ \(val_loss", out)
    test_row = next(line for line in out.splitlines() if line.startswith("test "))
    console = test_row.split()[1:]  # loss, mae, rmse, r2 as printed
    page = (tmp_path / "r.html").read_text()
    for value in console:
        assert f"<td>{value}</td>" in page  # the same scores, in the same units
    assert "the other scores in the target's units" in page
    assert "How this model was made" in page and "gradwise train --data houses.csv" in page
    assert "<td>gradwise version</td>" in page and "saved" in page


def test_written_csv_cells_never_run_as_formulas(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rows = [f"{i % 5},{i % 3},{'=HYPERLINK(1)' if i % 2 else '-safe'}\n" for i in range(60)]
    (tmp_path / "t.csv").write_text("a,@b,label\n" + "".join(rows))
    assert main(["train", "--data", "t.csv", "--target", "label", "--epochs", "2", "--hidden",
                 "4", "--quiet", "--save", "m.npz"]) == 0
    assert main(["predict", "--model", "m.npz", "--data", "t.csv", "--out", "p.csv"]) == 0
    with open(tmp_path / "p.csv", newline="") as file:
        cells = [cell for row in csv.reader(file) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@") or
                (c.startswith("-") and not re.fullmatch(r"-[\d.e+-]+", c))]
    assert "'=HYPERLINK(1)" in cells or "'-safe" in cells


def test_report_without_matplotlib_fails_before_training(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _regression_csv(tmp_path / "houses.csv")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    assert main(["train", "--data", "houses.csv", "--target", "price", "--report", "r.html"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing read, nothing trained
    assert 'matplotlib, which is not installed: pip install "gradwise[report]"' in captured.err


def test_stray_cells_become_missing_with_impute(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    lines = [f"{i % 7},{'2023-02-30' if i == 3 else f'2023-01-{i % 28 + 1:02d}'},{i % 2}\n"
             for i in range(60)]
    lines[10] = "inf,2023-01-11,0\n"
    (tmp_path / "d.csv").write_text("a,when,y\n" + "".join(lines))
    assert main(["train", "--data", "d.csv", "--target", "y", "--impute", "median", "--epochs",
                 "1", "--hidden", "4", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "column 'a': 1 cell(s) that are not finite numbers (at most 3.4e+38 in size) read as " \
        "missing: line 12 'inf'" \
        in captured.err
    assert "column 'when': 1 cell(s) that are not ISO dates (YYYY-MM-DD) read as missing: " \
           "line 5 '2023-02-30'" in captured.err
    # numbers and dates, not one-hot text: a, its missing flag, 4 date parts and their flag
    assert re.search(r"network 7-4-2", captured.out), captured.out


def test_the_feature_count_printed_at_loading_is_the_networks_input_width(tmp_path, monkeypatch,
                                                                          capsys):
    monkeypatch.chdir(tmp_path)
    rows = [f"{'' if i % 9 == 0 else i % 7},{i % 5},{'red' if i % 3 else 'blue'},{i % 2}\n"
            for i in range(60)]
    (tmp_path / "d.csv").write_text("a,b,c,y\n" + "".join(rows))
    assert main(["train", "--data", "d.csv", "--target", "y", "--impute", "mean", "--epochs",
                 "1", "--hidden", "4", "--quiet"]) == 0
    out = capsys.readouterr().out
    # a, b, two one-hot levels of c, and a's "is missing" indicator
    assert "(60 rows, 5 features (1 of them 'is missing' indicators), target 'y')" in out, out
    assert "network 5-4-2" in out, out


def test_anomalies_shows_its_epochs_unless_quiet(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    (tmp_path / "d.csv").write_text("a,b\n" + "".join(f"{u:.3f},{v:.3f}\n"
                                                      for u, v in rng.normal(size=(100, 2))))
    assert main(["anomalies", "--data", "d.csv", "--epochs", "3", "--hidden", "4,2"]) == 0
    out = capsys.readouterr().out
    assert [line.split(" - ")[0] for line in out.splitlines() if line.startswith("Epoch")] == \
        ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert main(["anomalies", "--data", "d.csv", "--epochs", "3", "--hidden", "4,2",
                 "--quiet"]) == 0
    assert "Epoch" not in capsys.readouterr().out
