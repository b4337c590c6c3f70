"""Dev and test sets from files of their own: --test-data, --dev-data and the train-dev set."""
import numpy as np
import pytest

from gradwise.cli import data as _cli_data
from gradwise.cli import main

from _cli_helpers import train_args


def _write(path, X, labels):
    lines = ["x0,x1,x2,label"] + [f"{a:.5f},{b:.5f},{c:.5f},{t}" for (a, b, c), t in
                                   zip(X, labels)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _files(tmp_path, shifted=True):
    """Training rows labelled by x0 > 0; dev and test rows (another source) by x0 + x1 > 0."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 3))
    train = _write(tmp_path / "train.csv", X, np.where(X[:, 0] > 0, "yes", "no"))
    paths = []
    for name in ("dev", "test"):
        Z = rng.normal(size=(300, 3))
        rule = Z[:, 0] + 1.5 * Z[:, 1] if shifted else Z[:, 0]
        paths.append(_write(tmp_path / f"{name}.csv", Z, np.where(rule > 0, "yes", "no")))
    return train, *paths


def test_dev_and_test_files_with_a_train_dev_set_reveal_data_mismatch(tmp_path, capsys):
    train, dev, test = _files(tmp_path)
    assert main(["train", "--data", train, "--target", "label", "--dev-data", dev,
                 "--test-data", test, "--epochs", "30", "--quiet", "--hidden", "16",
                 "--learning-rate", "0.003"]) == 0
    out = capsys.readouterr().out
    assert ("900 train (90% of --data), 100 train-dev (10% of --data), 300 dev (--dev-data), "
            "300 test (--test-data)") in out
    rows = {line.split()[0]: float(line.split()[2]) for line in out.splitlines()
            if line.split() and line.split()[0] in ("train", "train-dev", "dev", "test")}
    line = next(text for text in out.splitlines() if text.startswith("diagnosis"))
    train_dev_error = float(line.split("train-dev ")[1].split(",")[0])
    assert train_dev_error == pytest.approx(1 - rows["train-dev"], abs=1e-4)
    # the network learned the training rule well; the dev files follow another one
    assert rows["train-dev"] > 0.85 and rows["dev"] < 0.75
    assert "data mismatch" in line


def test_a_test_file_alone_and_statistics_from_the_training_split(tmp_path, capsys):
    train, _, test = _files(tmp_path, shifted=False)
    args = train_args("--data", train, "--target", "label", "--test-data", test)
    loaded = _cli_data.load(args)
    data = _cli_data.prepare(loaded, 0, None, _cli_data.load_files(args, loaded))
    assert [len(Xs) for Xs, _ in data.splits] == [750, 250, 300] and data.train_dev is None
    # the matrix is float32; its moments are float64 sums of those values
    np.testing.assert_allclose(data.moments[0], data.splits[0][0].astype(np.float64).mean(axis=0))
    test_X = np.loadtxt(test, delimiter=",", skiprows=1, usecols=(0, 1, 2))
    np.testing.assert_allclose(data.splits[2][0], test_X)
    labels = np.loadtxt(test, delimiter=",", skiprows=1, usecols=3, dtype=str)
    assert list(data.classes[data.splits[2][1]]) == list(labels)


@pytest.mark.parametrize("extra, message", [
    (["--dev-data", "{dev}"], "--dev-data: give --test-data too"),
    (["--test-data", "{bad}"], "--test-data: labels ['maybe'] are not among the training"),
    (["--test-data", "{nolabel}"], "--test-data: "),
])
def test_bad_split_files_are_refused_before_training(tmp_path, capsys, extra, message):
    train, dev, test = _files(tmp_path)
    bad = _write(tmp_path / "bad.csv", np.zeros((3, 3)), ["yes", "maybe", "no"])
    nolabel = tmp_path / "nolabel.csv"
    nolabel.write_text("x0,x1,x2\n1,2,3\n")
    extra = [e.format(dev=dev, bad=bad, nolabel=nolabel) for e in extra]
    assert main(["train", "--data", train, "--target", "label", *extra]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and "split" not in captured.out
    assert main(["train", "--test-data", test]) == 2
    assert "--test-data: give the training file with --data too" in capsys.readouterr().err
