"""``gradwise gradcheck``: the verdict and the table on the network train builds, on a saved
model (random rows or the rows of a CSV), and a clear error for bad options."""
import numpy as np
import pytest
from sklearn.datasets import load_iris

import gradwise as gw
from gradwise import _registry
from gradwise.cli import main


def _table(out):
    """``{(layer, parameter): (size, difference)}`` from the printed table."""
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2].isdigit():
            rows[(parts[0], parts[1])] = (int(parts[2]), float(parts[3]))
    return rows


def test_default_network_on_digits_is_correct(capsys):
    assert main(["gradcheck", "--hidden", "12", "--rows", "4"]) == 0
    out = capsys.readouterr().out
    assert "digits" in out and "4 rows checked" in out and "64-12-10" in out
    assert "910 trainable parameters" in out  # 64*12 + 12 + 12*10 + 10
    rows = _table(out)
    assert sorted((parameter, size) for (_, parameter), (size, _) in rows.items()) == [
        ("W", 120), ("W", 768), ("b", 10), ("b", 12)]
    assert all(difference < 1e-7 for _, difference in rows.values())
    assert out.strip().splitlines()[-1].startswith("relative difference")
    assert ": correct (below 1e-7" in out


def _iris_csv(path):
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    lines = ["a,b,c,d,species"] + [",".join(map(str, row)) + f",{name}" for row, name in zip(X, names)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_saved_model_on_random_rows_and_on_its_csv(tmp_path, capsys):
    data = _iris_csv(tmp_path / "iris.csv")
    model = str(tmp_path / "iris.npz")
    assert main(["train", "--data", data, "--target", "species", "--epochs", "3", "--hidden",
                 "8", "--quiet", "--save", model]) == 0
    capsys.readouterr()
    assert main(["gradcheck", "--model", model, "--rows", "5"]) == 0
    out = capsys.readouterr().out
    assert "5 random standard normal rows" in out and "4-8-3" in out
    assert ": correct" in out
    assert sorted(size for size, _ in _table(out).values()) == [3, 8, 24, 32]  # 4-8-3
    assert main(["gradcheck", "--model", model, "--data", data, "--rows", "6"]) == 0
    out = capsys.readouterr().out
    assert "with its column 'species'; 6 rows checked" in out and ": correct" in out


def test_a_saved_model_reads_its_csv_in_the_encoding_given(tmp_path, capsys):
    # --encoding reached the table reader without --model only
    drinks = ["caf\xe9", "th\xe9", "eau"]
    rows = [f"{i % 7},{drinks[i % 3]},{'yes' if i % 2 else 'no'}" for i in range(60)]
    data = tmp_path / "latin.csv"
    data.write_bytes(("a,drink,y\n" + "\n".join(rows) + "\n").encode("latin-1"))
    model = str(tmp_path / "latin.npz")
    assert main(["train", "--data", str(data), "--target", "y", "--epochs", "1", "--hidden",
                 "4", "--quiet", "--encoding", "latin-1", "--save", model]) == 0
    capsys.readouterr()
    assert main(["gradcheck", "--model", model, "--data", str(data), "--encoding",
                 "latin-1", "--rows", "4"]) == 0
    assert "with its column 'y'; 4 rows checked" in capsys.readouterr().out


def test_a_saved_model_with_a_wrong_backward_is_a_bug(tmp_path, capsys):
    class DoubledBias(gw.layers.Layer):
        """``y = x + c`` whose backward doubles the gradient of ``c`` (a deliberate bug)."""

        def _create_params(self, input_dim, rng):
            return {"c": rng.normal(size=input_dim)}

        def forward(self, x, training=False):
            return x + self.params["c"]

        def backward(self, dy):
            self.grads["c"][...] = 2 * dy.sum(axis=0)
            return dy

    gw.register(DoubledBias, package="test_cli_gradcheck")
    try:
        net = gw.Sequential([gw.layers.Dense(4, activation="tanh"), DoubledBias(name="doubled"),
                             gw.layers.Dense(1, name="out")], input_dim=3, seed=0)
        net.compile(loss="mse")
        net.build()
        path = str(tmp_path / "buggy.npz")
        gw.save_model(net, path)
        assert main(["gradcheck", "--model", path]) == 1  # a bug fails, as a test would
    finally:
        gw.layers._REGISTRY.pop("test_cli_gradcheck>DoubledBias")
        _registry._NAMES.pop(DoubledBias)
    out = capsys.readouterr().out
    rows = _table(out)
    assert rows[("doubled", "c")][1] > 1e-3 and rows[("out", "W")][1] < 1e-7
    assert ": bug (above 1e-3" in out
    assert "doubled.c[" in out  # among the largest differences


@pytest.mark.parametrize("args, message", [
    (["--model", "missing.npz"], "--model: cannot load"),
    (["--model", "{model}", "--target", "species"], "--target: only without --model"),
    (["--model", "{uncompiled}"], "has no loss to check"),
    (["--data", "{csv}"], "--target: name the column"),
    (["--rows", "0"], None),
])
def test_bad_options_give_one_error_line(args, message, tmp_path, capsys):
    net = gw.Sequential([gw.layers.Dense(2)], input_dim=3, seed=0).build()
    uncompiled = str(tmp_path / "uncompiled.npz")
    gw.save_model(net, uncompiled)
    net.compile(loss="mse")
    model = str(tmp_path / "model.npz")
    gw.save_model(net, model)
    csv = _iris_csv(tmp_path / "iris.csv")
    argv = ["gradcheck"] + [a.format(model=model, uncompiled=uncompiled, csv=csv) for a in args]
    if message is None:  # argparse's own check
        with pytest.raises(SystemExit):
            main(argv)
        assert "--rows" in capsys.readouterr().err
        return
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradwise: error: ") and message in err and len(err.splitlines()) == 1
