"""A model file of the command whose metadata does not match its network (edited or damaged) is
refused when it is loaded, with one error naming the file, before any row is read."""
import json
import shutil

import numpy as np
import pytest

import gradwise as gw
from gradwise.cli import main

ROWS = 200


def _table(path):
    """Columns size (with a gap), plan (three levels), when (dates), price and y."""
    lines = ["size,plan,when,price,y"]
    for i in range(ROWS):
        size = "" if i == 7 else f"{i % 9}"  # a gap, imputed
        lines.append(f"{size},{['basic', 'pro', 'max'][i % 3]},2024-03-{i % 28 + 1:02d},"
                     f"{100 + i * 1.5},{['no', 'yes'][i % 2]}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A classifier, a regressor and an anomaly detector saved by the command."""
    folder = tmp_path_factory.mktemp("saved")
    data = _table(folder / "t.csv")
    common = ["--epochs", "1", "--hidden", "4", "--quiet", "--impute", "median"]
    assert main(["train", "--data", data, "--target", "y", "--drop", "price", "--save",
                 str(folder / "classifier.npz")] + common) == 0
    assert main(["train", "--data", data, "--target", "price", "--drop", "y", "--save",
                 str(folder / "regressor.npz")] + common) == 0
    assert main(["anomalies", "--data", data, "--drop", "y,price", "--save",
                 str(folder / "detector.npz"), "--hidden", "4,2", "--epochs", "1", "--quiet",
                 "--impute", "median"]) == 0
    return folder


def _edited(saved, tmp_path, name, mutate):
    """A copy of the model file ``name`` whose command metadata ``mutate`` changed."""
    path = tmp_path / name
    shutil.copy(saved / name, path)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {member: archive[member] for member in archive.files}
    description = json.loads(arrays["description.json"].tobytes())
    mutate(description["metadata"])
    arrays["description.json"] = np.frombuffer(json.dumps(description).encode(), np.uint8)
    np.savez(path, **arrays)
    return str(path)


def _column(facts, name):
    return next(column for column in facts["columns"] if column["name"] == name)


#: (model file, change to its metadata, fragment of the error)
BROKEN = [
    ("classifier.npz", lambda f: f["classes"].append("maybe"),
     "it lists 3 classes, but its network's output layer has 2 units"),
    ("classifier.npz", lambda f: f.update(classes=["no"]), "are not a list of two or more"),
    ("classifier.npz", lambda f: f.update(classes=["no", "no"]), "distinct labels"),
    ("classifier.npz", lambda f: f.update(positive="perhaps"), "its positive class 'perhaps'"),
    ("classifier.npz", lambda f: _column(f, "plan")["levels"].append("gold"),
     "columns encode to 10 features, but its network takes 9"),
    ("classifier.npz", lambda f: _column(f, "plan").update(embed=True),
     "columns encode to 7 features, but its network takes 9"),
    ("classifier.npz", lambda f: f.update(columns=[]), "its metadata lists no columns"),
    ("classifier.npz", lambda f: f.update(columns="plan"), "its metadata lists no columns"),
    ("classifier.npz", lambda f: _column(f, "plan").update(kind="levels"),
     "column 2 of its metadata ('plan') has kind 'levels'"),
    ("classifier.npz", lambda f: _column(f, "plan").pop("levels"),
     "column 2 of its metadata ('plan') is a category without a list of distinct levels"),
    ("classifier.npz", lambda f: _column(f, "when").update(parts=["year", "century"]),
     "('when') is a date whose parts are not some of"),
    ("classifier.npz", lambda f: _column(f, "plan").update(name="size"),
     "column 2 of its metadata ('size') repeats the name"),
    ("classifier.npz", lambda f: _column(f, "size").pop("fill"),
     "('size') has no value to fill its missing cells with"),
    ("classifier.npz", lambda f: f.update(task="clustering"), "its task is 'clustering'"),
    ("classifier.npz", lambda f: f.update(target=None), "its target column is None"),
    ("classifier.npz", lambda f: f.update(task="regression"),
     "it is a regression, but its network has 2 outputs, not 1"),
    ("regressor.npz", lambda f: f.update(y_std=0.0), "y_std 0.0) is not a finite mean"),
    ("regressor.npz", lambda f: f.update(y_mean="ten"), "its target scaling (y_mean 'ten'"),
    ("detector.npz", lambda f: f["mean"].pop(), "its standardization 'mean' is not 9 finite"),
    ("detector.npz", lambda f: f["scale"].__setitem__(0, -1.0), "not positive"),
    ("detector.npz", lambda f: f.update(threshold="high"), "its threshold 'high' is not"),
    ("detector.npz", lambda f: _column(f, "plan")["levels"].pop(),
     "columns encode to 8 features, but its network takes 9"),
]


@pytest.mark.parametrize("name", ["classifier.npz", "regressor.npz", "detector.npz"])
def test_the_files_the_command_saves_load(saved, name):
    model = gw.load_csv_model(saved / name)
    assert model.columns == ["size", "plan", "when"]


@pytest.mark.parametrize("name, mutate, fragment", BROKEN)
def test_a_file_whose_metadata_does_not_match_is_refused_at_load(saved, tmp_path, name,
                                                                    mutate, fragment):
    path = _edited(saved, tmp_path, name, mutate)
    with pytest.raises(ValueError) as error:
        gw.load_csv_model(path)
    message = str(error.value)
    assert message.startswith(f"path: {path!r} does not hold together: ")
    assert fragment in message and message.endswith("changed or damaged since it was saved.")
    assert "--" not in message


@pytest.mark.parametrize("command", [
    ["predict", "--data", "{data}"],
    ["predict", "--data", "{data}", "--memory-budget", "1"],
    ["info"],
    ["export", "--onnx", "{folder}/m.onnx"],
    ["gradcheck", "--data", "{data}"],
])
@pytest.mark.parametrize("name, mutate, fragment", [BROKEN[0], BROKEN[4], BROKEN[8],
                                                    BROKEN[13], BROKEN[20]])
def test_the_command_refuses_such_a_file_before_any_work(saved, tmp_path, capsys, command,
                                                         name, mutate, fragment):
    path = _edited(saved, tmp_path, name, mutate)
    data = _table(tmp_path / "new.csv")
    argv = [part.format(data=data, folder=tmp_path) for part in command]
    assert main(argv[:1] + ["--model", path] + argv[1:]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"gradwise: error: --model: {path!r} does not hold together")
    assert fragment in captured.err and captured.err.count("\n") == 1
    assert captured.out == "" and not (tmp_path / "m.onnx").exists()
