"""gradwise train --init-from: a saved model's column encoding and layers, a new output."""
import numpy as np
import pytest

import gradwise as gw
from gradwise.cli import main


def _csv(path, X, name, target, order=None):
    columns = [f"x{i}" for i in range(X.shape[1])]
    order = order or list(range(X.shape[1]))
    lines = [",".join([columns[i] for i in order] + [name])]
    lines += [",".join([f"{row[i]:.4f}" for i in order] + [str(t)]) for row, t in zip(X, target)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture
def pretrained(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 5))
    path = _csv(tmp_path / "big.csv", X, "a", (X[:, 0] + X[:, 1] > 0).astype(int))
    model_file = str(tmp_path / "big.npz")
    assert main(["train", "--data", path, "--target", "a", "--epochs", "5", "--quiet",
                 "--hidden", "16,8", "--save", model_file]) == 0
    capsys.readouterr()
    return model_file


@pytest.mark.parametrize("freeze", [True, False])
def test_layers_are_copied_then_frozen_or_fine_tuned(tmp_path, capsys, pretrained, freeze):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 5))
    target = np.where(X[:, 0] - X[:, 2] > 0, "up", "down")
    # the columns in another order: they are read by name, as the pretrained model read them
    path = _csv(tmp_path / "small.csv", X, "move", target, order=[4, 2, 0, 1, 3])
    saved = str(tmp_path / "small.npz")
    assert main(["train", "--data", path, "--target", "move", "--init-from", pretrained,
                 "--epochs", "5", "--quiet", "--save", saved] + ["--freeze"] * freeze) == 0
    out = capsys.readouterr().out
    assert "network 5-16-8-2, 3 layer(s) from" in out
    assert ("(frozen)" if freeze else "(fine-tuned)") in out
    before, after = gw.load_model(pretrained), gw.load_model(saved)
    assert after.metadata["columns"] == before.metadata["columns"]
    assert after.metadata["classes"] == ["down", "up"] and after.metadata["target"] == "move"
    for old, new in zip(before.layers[:3], after.layers[:3]):
        for key in old.params:
            same = np.array_equal(old.params[key], new.params[key])
            assert same == freeze, (old.name, key)
    np.testing.assert_array_equal(after.layers[0].state["mean"], before.layers[0].state["mean"])
    assert after.layers[-1].params["W"].shape == (8, 2)
    # the saved model predicts the new task on rows as raw as the training file
    assert main(["predict", "--model", saved, "--data", path]) == 0
    assert capsys.readouterr().out.splitlines()[0] == ("predicted_move,probability_down,"
                                                       "probability_up")


def test_the_record_lists_no_option_the_pretrained_model_decided(tmp_path, capsys,
                                                                  pretrained):
    # the layers and the encoding are the pretrained model's: gradwise info listed the
    # defaults of --hidden and --embed-threshold (or a --hidden given) that never applied
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 5))
    path = _csv(tmp_path / "small.csv", X, "move", np.where(X[:, 0] > 0, "up", "down"))
    saved = str(tmp_path / "small.npz")
    assert main(["train", "--data", path, "--target", "move", "--init-from", pretrained,
                 "--epochs", "2", "--quiet", "--save", saved]) == 0
    capsys.readouterr()
    assert main(["info", "--model", saved]) == 0
    options = next(line for line in capsys.readouterr().out.splitlines()
                   if line.startswith("options: "))
    assert "--init-from" in options and "--epochs 2" in options
    assert "--hidden" not in options and "--embed-threshold" not in options


@pytest.mark.parametrize("extra, message", [
    (["--freeze"], "--freeze: freezes the layers copied by --init-from"),
    (["--init-from", "{model}", "--impute", "median"], "--impute cannot be combined"),
    (["--init-from", "{model}", "--target", "x0"], "is an input column of the pretrained"),
    (["--init-from", "{missing}"], "--init-from: cannot load"),
    (["--init-from", "{model}", "--hidden", "32"], "--hidden cannot be combined with it"),
    (["--init-from", "{model}", "--dropout", "0.2"], "--dropout cannot be combined with it"),
])
def test_bad_transfer_options(tmp_path, capsys, pretrained, extra, message):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 5))
    path = _csv(tmp_path / "s.csv", X, "b", (X[:, 3] > 0).astype(int))
    extra = [e.format(model=pretrained, missing=tmp_path / "nope.npz") for e in extra]
    target = [] if "--target" in extra else ["--target", "b"]
    assert main(["train", "--data", path, *target, *extra]) == 2
    assert message in capsys.readouterr().err
