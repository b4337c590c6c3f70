"""Models saved by the command, used from Python on raw rows (gw.load_csv_model)."""
import csv

import numpy as np
import pytest

import gradwise as gw
from gradwise.cli import main


def _churn(tmp_path, n=300):
    rng = np.random.default_rng(0)
    tenure = rng.integers(1, 60, size=n).astype(float)
    plan = rng.choice(["basic", "pro", "max"], size=n)
    zone = rng.choice([3, 7], size=n)  # a numeric code, read as a category
    churned = np.where(tenure + 20 * (plan == "basic") + rng.normal(0, 5, n) < 30, "yes", "no")
    cells = [[f"{t:g}", p, z, c] for t, p, z, c in zip(tenure, plan, zone, churned)]
    cells[4][0] = ""  # a gap, imputed
    path = tmp_path / "churn.csv"
    path.write_text("tenure,plan,zone,churned\n" + "".join(",".join(map(str, r)) + "\n"
                                                           for r in cells))
    return str(path), cells


def test_a_saved_classifier_predicts_raw_rows_as_the_command_does(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    path, cells = _churn(tmp_path)
    model_file, out = str(tmp_path / "m.npz"), tmp_path / "p.csv"
    assert main(["train", "--data", path, "--target", "churned", "--impute", "median",
                 "--categorical", "zone", "--epochs", "10", "--quiet", "--save", model_file]) == 0
    assert main(["predict", "--model", model_file, "--data", path, "--out", str(out)]) == 0
    capsys.readouterr()
    rows = list(csv.DictReader(open(out)))
    expected_labels = [row["predicted_churned"] for row in rows]
    expected = np.array([[float(row["probability_no"]), float(row["probability_yes"])]
                         for row in rows])
    model = gw.load_csv_model(model_file)
    assert model.task == "classification" and model.classes == ["no", "yes"]
    assert model.columns == ["tenure", "plan", "zone"]
    frame = pd.read_csv(path)  # NaN for the gap, integers for the zone codes
    for data in (path, frame, frame.to_dict("list")):
        np.testing.assert_allclose(model.predict_proba(data), expected, rtol=1e-5, atol=1e-6)
        assert list(model.predict(data)) == expected_labels
    frame["zone"] = frame["zone"].astype(float)  # 3.0 is the category written "3"
    np.testing.assert_allclose(model.predict_proba(frame), expected, rtol=1e-5, atol=1e-6)


def test_regression_and_detector_models(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    y = X @ [3.0, -2.0, 0.5] + 10
    path = tmp_path / "r.csv"
    path.write_text("a,b,c,y\n" + "".join(f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{t:.4f}\n"
                                          for r, t in zip(X, y)))
    model_file, detector_file = str(tmp_path / "r.npz"), str(tmp_path / "d.npz")
    assert main(["train", "--data", str(path), "--target", "y", "--epochs", "5", "--quiet",
                 "--save", model_file]) == 0
    capsys.readouterr()
    assert main(["predict", "--model", model_file, "--data", str(path)]) == 0
    printed = [float(v) for v in capsys.readouterr().out.splitlines()[1:]]
    regression = gw.load_csv_model(model_file)
    np.testing.assert_allclose(regression.predict(str(path)), printed, rtol=1e-5)
    with pytest.raises(ValueError, match="predict_proba: the model's task is regression"):
        regression.predict_proba(str(path))
    scores = tmp_path / "s.csv"
    assert main(["anomalies", "--data", str(path), "--drop", "y", "--epochs", "5", "--out",
                 str(scores), "--save", detector_file]) == 0
    capsys.readouterr()
    written = np.loadtxt(scores, delimiter=",", skiprows=1, usecols=(1, 2))
    detector = gw.load_csv_model(detector_file)
    assert detector.task == "anomaly detection"
    np.testing.assert_allclose(detector.reconstruction_error(str(path)), written[:, 0], rtol=1e-5)
    assert list(detector.is_anomaly(str(path))) == list(written[:, 1] == 1)
    with pytest.raises(ValueError, match="an anomaly detector scores rows"):
        detector.predict(str(path))


def test_bad_data_and_files_are_named(tmp_path, capsys):
    path, _ = _churn(tmp_path)
    model_file = str(tmp_path / "m.npz")
    assert main(["train", "--data", path, "--target", "churned", "--impute", "median",
                 "--epochs", "2", "--quiet", "--save", model_file]) == 0
    model = gw.load_csv_model(model_file)
    with pytest.raises(ValueError, match=r"data: columns \['zone'\] are missing"):
        model.predict({"tenure": [1.0], "plan": ["pro"]})
    with pytest.raises(TypeError, match="data: expected a CSV path, a DataFrame or a dict"):
        model.predict([[1.0, "pro", 3]])
    with pytest.raises(ValueError, match="data: expected columns of one and the same length"):
        model.predict({"tenure": [1.0, 2.0], "plan": ["pro"], "zone": [3, 3]})
    with pytest.raises(ValueError, match="column 'tenure' expects numbers"):
        model.predict({"tenure": ["long"], "plan": ["pro"], "zone": [3]})
    plain = tmp_path / "plain.npz"
    gw.save_model(model.network, plain, metadata={})
    with pytest.raises(ValueError, match="path: .* was not saved by 'gradwise train'"):
        gw.load_csv_model(plain)
