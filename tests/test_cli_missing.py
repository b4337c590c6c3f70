"""Missing values in users' CSV files: refused by default, imputed with ``--impute`` from the
training split's statistics (recorded in the model file for ``gradwise predict``)."""
import csv

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

import gradwise as gw
from gradwise.cli.flags import table_warnings
from gradwise.cli import data as _cli_data
from gradwise.cli import main

from _cli_helpers import train_args


def _write_csv(path, header, rows):
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _cancer_with_gaps(tmp_path, n_gaps=40, marker=""):
    """Breast cancer with ``n_gaps`` cells of 'mean radius' and 'mean texture' missing, and a
    text column 'site' with some empty cells."""
    data = load_breast_cancer()
    rng = np.random.default_rng(0)
    cells = data.data.astype(object)
    for column in (0, 1):
        cells[rng.choice(len(cells), n_gaps, replace=False), column] = marker
    site = rng.choice(["left", "right"], size=len(cells)).astype(object)
    site[rng.choice(len(cells), 10, replace=False)] = ""
    labels = np.array(["malignant", "benign"])[data.target]
    header = [name.replace(" ", "_") for name in data.feature_names] + ["site", "diagnosis"]
    rows = [[*row, s, label] for row, s, label in zip(cells, site, labels)]
    return _write_csv(tmp_path / "cancer.csv", header, rows), data


def _prepared(path, impute, seed=0):
    args = train_args("--data", path, "--target", "diagnosis", "--impute", impute)
    return _cli_data.prepare(_cli_data.load(args), seed, impute)


@pytest.mark.parametrize("marker", ["", "NA", "?"])
def test_missing_cells_are_refused_without_impute_with_a_pointer_to_it(tmp_path, capsys, marker):
    path, _ = _cancer_with_gaps(tmp_path, marker=marker)
    assert main(["train", "--data", path, "--target", "diagnosis"]) == 2
    err = capsys.readouterr().err
    assert "column 'mean_radius' has" in err and "--impute median" in err


@pytest.mark.parametrize("impute, reduce", [("median", np.median), ("mean", np.mean)])
def test_impute_fills_with_the_training_split_statistic_and_adds_indicators(tmp_path, impute,
                                                                           reduce):
    path, _ = _cancer_with_gaps(tmp_path, marker="NA")
    data = _prepared(path, impute)
    names = data.feature_names
    assert names[-2:] == ["mean_radius is missing", "mean_texture is missing"]
    assert "site=(missing)" in names and data.n_features == 30 + 3 + 2
    for column, spec in ((0, data.columns[0]), (1, data.columns[1])):
        assert spec["indicator"] is True
        train = data.splits[0][0]
        flag = train[:, names.index(f"{spec['name']} is missing")] == 1
        assert flag.any() and not flag.all()
        # the fill is the statistic of the training rows that had a value, nothing else
        assert spec["fill"] == pytest.approx(reduce(train[~flag, column]), rel=1e-12)
        assert np.all(train[flag, column] == spec["fill"])
    for Xs, _ in data.splits:
        assert np.isfinite(Xs).all()
    # complete columns get a fill (for gaps at prediction time) but no indicator
    assert data.columns[2]["indicator"] is False and np.isfinite(data.columns[2]["fill"])


def test_imputed_training_and_prediction_end_to_end(tmp_path, capsys):
    path, data = _cancer_with_gaps(tmp_path)
    model_file = str(tmp_path / "m.npz")
    assert main(["train", "--data", path, "--target", "diagnosis", "--impute", "median",
                 "--epochs", "40", "--quiet", "--learning-rate", "0.003", "--save",
                 model_file]) == 0
    out = capsys.readouterr().out
    assert float(next(l for l in out.splitlines() if l.startswith("test")).split()[2]) > 0.9
    # New rows with gaps, one of them without a diagnosis.
    header = open(path).readline().strip().split(",")
    rows = [header] + list(csv.reader(open(path)))[1:6]
    rows[1][0], rows[2][1], rows[3][-1] = "", "NA", ""
    new = tmp_path / "new.csv"
    new.write_text("\n".join(",".join(r) for r in rows) + "\n")
    out_file = tmp_path / "p.csv"
    assert main(["predict", "--model", model_file, "--data", str(new), "--out",
                 str(out_file)]) == 0
    captured = capsys.readouterr()
    gaps = sum(cell in ("", "NA") for row in rows[1:] for cell in row[:30])
    assert gaps >= 2
    assert f"{gaps} missing number(s) filled with the training split's medians" in captured.err
    assert "(1 row(s) without a value not scored)" in captured.out
    # The same rows encoded by hand: fill, indicator, then the network.
    model = gw.load_model(model_file)
    spec = model.metadata["columns"]
    raw = np.array([[float(c) if c not in ("", "NA") else np.nan for c in r[:30]]
                    for r in rows[1:]])
    filled = np.where(np.isnan(raw), [c["fill"] for c in spec[:30]], raw)
    site = np.array([[r[30] == level for level in spec[30]["levels"]] for r in rows[1:]], float)
    indicators = np.isnan(raw[:, :2]).astype(float)
    expected = model.predict(np.hstack([filled, site, indicators]))
    written = np.loadtxt(out_file, delimiter=",", skiprows=1, usecols=(1, 2))
    np.testing.assert_allclose(written, expected, rtol=1e-5)


def test_prediction_gaps_need_a_model_trained_with_impute(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 2))
    path = _write_csv(tmp_path / "a.csv", ["a", "b", "y"], [[*r, int(r[0] > 0)] for r in x])
    model_file = str(tmp_path / "m.npz")
    assert main(["train", "--data", path, "--target", "y", "--epochs", "2", "--quiet",
                 "--save", model_file]) == 0
    new = _write_csv(tmp_path / "n.csv", ["a", "b"], [[0.1, ""], [0.2, 0.3]])
    capsys.readouterr()
    assert main(["predict", "--model", model_file, "--data", new]) == 2
    assert "trained without --impute" in capsys.readouterr().err


def test_rows_without_a_target_are_left_out_with_a_warning(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=100)
    rows = [[v, "yes" if v > 0 else "none"] for v in x]  # "none" is a class here, not a gap
    rows[3][1] = ""
    path = _write_csv(tmp_path / "t.csv", ["x", "label"], rows)
    args = train_args("--data", path, "--target", "label")
    with table_warnings():  # as the command shows them
        X, y, *_ = _cli_data.load(args)
    assert len(X) == 99 and set(y) == {"yes", "none"}
    err = capsys.readouterr().err
    assert "1 row(s) without a value in 'label' (the first at line 5) were left out" in err
    numeric = _write_csv(tmp_path / "n.csv", ["x", "y"], [[v, "NA" if i == 0 else v * 2]
                                                          for i, v in enumerate(x)])
    X, y, *_ = _cli_data.load(train_args("--data", numeric, "--target", "y"))
    assert len(y) == 99 and y.dtype.kind == "f"


def test_a_column_without_values_in_training_is_named(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    path = _write_csv(tmp_path / "e.csv", ["x", "empty", "y"], [[v, "", int(v > 0)] for v in x])
    assert main(["train", "--data", path, "--target", "y", "--impute", "mean"]) == 2
    assert "column 'empty' has no values in the training split" in capsys.readouterr().err


def test_tune_imputes_too(tmp_path, capsys):
    pytest.importorskip("optuna")
    path, _ = _cancer_with_gaps(tmp_path)
    assert main(["tune", "--data", path, "--target", "diagnosis", "--impute", "median",
                 "--trials", "2", "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "best parameters: " in out and "network 35-" in out  # 30 + 3 levels + 2 indicators


@pytest.mark.parametrize("cells, expected", [
    (["1", "2.5", "-3e2"], [1, 2.5, -300]),
    (["1", "NA", "nan", "", "?"], [1, np.nan, np.nan, np.nan, np.nan]),
    (["1", "inf"], None),           # not finite: not a number column
    (["1", "one"], None),           # text
    (["-", "none"], None),          # only markers: text such as "none" and "-"
    (["", ""], [np.nan, np.nan]),   # only empty cells: a number column with no values
])
def test_numeric_columns_and_their_gaps(cells, expected):
    from gradwise.tabular.csv import _numeric_column
    values = _numeric_column(cells)
    if expected is None:
        assert values is None
    else:
        np.testing.assert_array_equal(values, np.array(expected, dtype=float))


def test_errors_name_the_file_line_past_blank_lines_and_dropped_rows(tmp_path, capsys):
    path = tmp_path / "gaps.csv"
    # line 1 header, 2 data, 3 blank, 4 data without a target (left out), 5 blank, 6 bad cell
    path.write_text("x,y\n1,0\n\n2,\n\n4,1\n3,0\n")
    with table_warnings():  # as the command shows them
        X, y, *_ = _cli_data.load(train_args("--data", str(path), "--target", "y"))
    assert X[:, 0].tolist() == [1, 4, 3] and y.tolist() == [0, 1, 0]
    assert "(the first at line 4) were left out" in capsys.readouterr().err
    path.write_text("x,y,z\n1,0,a\n\n2,,b\n\n,1,c\n3,0,d\n")
    assert main(["train", "--data", str(path), "--target", "y"]) == 2
    assert "column 'x' has an empty cell at line 6" in capsys.readouterr().err
    path.write_text("x,y\n1,0\n\n2,1,9\n")
    assert main(["train", "--data", str(path), "--target", "y"]) == 2
    assert "line 4 has 3 fields" in capsys.readouterr().err


def test_unnamed_and_repeated_header_columns(tmp_path, capsys):
    path = tmp_path / "index.csv"  # pandas' to_csv with its index: an unnamed first column
    path.write_text(",x,y\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(40)))
    with table_warnings():  # as the command shows them
        X, *_ = _cli_data.load(train_args("--data", str(path), "--target", "y"))
    err = capsys.readouterr().err
    assert "integer column 'unnamed_1' looks like an identifier" in err
    assert "--drop unnamed_1" in err and X.shape == (40, 2)
    X, *_ = _cli_data.load(train_args("--data", str(path), "--target", "y", "--drop", "unnamed_1"))
    assert X.shape == (40, 1)
    path.write_text("x,y,x\n1,0,2\n2,1,3\n")
    assert main(["train", "--data", str(path), "--target", "y"]) == 2
    assert "the header names columns ['x'] more than once" in capsys.readouterr().err


def test_export_writes_the_network_and_its_encoding_for_onnxruntime(tmp_path, capsys):
    ort = pytest.importorskip("onnxruntime")
    import json

    from gradwise.tabular.csv import complete, encode_csv
    path, _ = _cancer_with_gaps(tmp_path, marker="NA")
    model_file, onnx_file = str(tmp_path / "m.npz"), str(tmp_path / "m.onnx")
    assert main(["train", "--data", path, "--target", "diagnosis", "--impute", "median",
                 "--epochs", "3", "--quiet", "--save", model_file]) == 0
    assert main(["export", "--model", model_file, "--onnx", onnx_file]) == 0
    assert "input X (rows, 35) float32" in capsys.readouterr().out
    session = ort.InferenceSession(onnx_file, providers=["CPUExecutionProvider"])
    facts = json.loads(session.get_modelmeta().custom_metadata_map["gradwise"])
    model = gw.load_model(model_file)
    assert facts == json.loads(json.dumps(model.metadata))
    # a consumer encodes the CSV from the metadata alone and gets the model's predictions
    X, _, _ = encode_csv(path, facts["columns"], facts["target"], impute=True)
    X, _ = complete(X, facts["columns"])
    probabilities = session.run(["Y"], {"X": X.astype(np.float32)})[0]
    np.testing.assert_allclose(probabilities, model.predict(X), rtol=1e-4, atol=1e-6)
    assert main(["export", "--model", model_file, "--onnx", str(tmp_path / "no" / "m.onnx")]) == 2
    assert "--onnx: the directory of" in capsys.readouterr().err


def test_the_onnx_input_layout_documented_in_the_readme(tmp_path, capsys):
    # Rows encoded by hand from the metadata, by the README's rules alone, give onnxruntime
    # the predictions gradwise predict writes: numbers as read (missing: the saved fill), a
    # date's parts, a one-hot category's levels in order, an embedded category's code (1 + the
    # level's index, 0 unseen), then the "is missing" indicators after every column.
    ort = pytest.importorskip("onnxruntime")
    import datetime
    import json
    rng = np.random.default_rng(0)
    city = [f"c{k:02d}" for k in rng.integers(0, 30, 600)]
    lines = ["x,city,color,when,y"] + [
        f"{'' if i % 17 == 0 else round(float(v), 3)},{c},{['red', 'blue', 'green'][i % 3]},"
        f"2023-{i % 12 + 1:02d}-{i % 27 + 1:02d},{int(v + (int(c[1:]) % 3 == 0) > 0.5)}"
        for i, (v, c) in enumerate(zip(rng.normal(size=600), city))]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    new = ["x,city,color,when"] + [f"{'' if i == 0 else 0.3 * i},{['c01', 'zz', 'c05'][i % 3]},"
                                   f"{['red', 'blue', 'purple'][i % 3]},2024-0{i % 9 + 1}-1{i % 9}"
                                   for i in range(6)]
    (tmp_path / "new.csv").write_text("\n".join(new) + "\n")
    model_file, onnx_file = str(tmp_path / "m.npz"), str(tmp_path / "m.onnx")
    assert main(["train", "--data", str(tmp_path / "t.csv"), "--target", "y", "--impute",
                 "median", "--epochs", "3", "--quiet", "--save", model_file]) == 0
    assert main(["export", "--model", model_file, "--onnx", onnx_file]) == 0
    assert main(["predict", "--model", model_file, "--data", str(tmp_path / "new.csv"),
                 "--out", str(tmp_path / "p.csv")]) == 0
    capsys.readouterr()
    session = ort.InferenceSession(onnx_file, providers=["CPUExecutionProvider"])
    columns = json.loads(session.get_modelmeta().custom_metadata_map["gradwise"])["columns"]
    assert {c["kind"] for c in columns} == {"number", "category", "date"}
    assert any(c.get("embed") for c in columns) and any(c.get("indicator") for c in columns)
    X = []
    for row in csv.DictReader(open(tmp_path / "new.csv")):
        features, indicators = [], []
        for column in columns:
            cell = row[column["name"]]
            if column["kind"] == "number":
                features.append(float(column["fill"]) if cell == "" else float(cell))
            elif column["kind"] == "date":
                day = datetime.date.fromisoformat(cell)
                features += [{"year": day.year, "month": day.month, "day": day.day,
                              "weekday": day.weekday()}[part] for part in column["parts"]]
            elif column.get("embed"):
                levels = column["levels"]
                features.append(levels.index(cell) + 1 if cell in levels else 0)
            else:
                features += [float(cell == level) for level in column["levels"]]
            if column.get("indicator"):
                indicators.append(float(cell == ""))
        X.append(features + indicators)
    probabilities = session.run(["Y"], {"X": np.array(X, dtype=np.float32)})[0]
    written = np.array([[float(r["probability_0"]), float(r["probability_1"])]
                        for r in csv.DictReader(open(tmp_path / "p.csv"))])
    np.testing.assert_allclose(probabilities, written, atol=1e-5)


def test_report_importance_is_per_csv_column(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    import re
    path, _ = _cancer_with_gaps(tmp_path)
    page_file = tmp_path / "r.html"
    assert main(["train", "--data", path, "--target", "diagnosis", "--impute", "median",
                 "--epochs", "3", "--quiet", "--report", str(page_file)]) == 0
    page = page_file.read_text()
    table = page[page.index("<th>feature</th>"):]
    rows = re.findall(r"<tr><td>(.*?)</td>", table)
    # a category's levels and a column's missing-value indicator count for their column:
    # the table names CSV columns only, each once (the 15 most important of 31)
    columns = set(open(path).readline().strip().split(",")) - {"diagnosis"}
    assert set(rows) <= columns and len(set(rows)) == len(rows) == 15
