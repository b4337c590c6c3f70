"""``gradwise demo-data`` makes the CSV files the README's examples use, and those examples run
on them as written (fewer epochs and trials)."""
import pathlib
import re
import shlex

import pytest

from gradwise.cli import main
from gradwise.cli.demo import FILES

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _readme_lines():
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), re.S)
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()
             if line.startswith("gradwise")]
    return [shlex.split(line)[1:] for line in lines]


def _quick(argv):
    # the GP sampler starts with 12 random trials (max(5, 2 x 6 hyperparameters of --space 2))
    quick = {"--epochs": "2", "--trials": "13" if "gp" in argv else "2", "--jobs": "1"}
    return [quick.get(argv[i - 1], a) if i else a for i, a in enumerate(argv)]


def test_demo_data_makes_the_readme_files_and_never_overwrites(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo-data"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)
    first = {name: (tmp_path / name).read_bytes() for name in FILES}
    assert main(["demo-data"]) == 2
    assert "never overwrites files" in capsys.readouterr().err
    assert {name: (tmp_path / name).read_bytes() for name in FILES} == first
    used = {a for argv in _readme_lines() for a in argv if a.endswith(".csv")}
    made = used & set(FILES)
    assert {"houses.csv", "churn.csv", "new_customers.csv", "payments.csv"} <= made


def test_readme_examples_run_on_the_demo_data(tmp_path, monkeypatch, capsys):
    pytest.importorskip("optuna")
    pytest.importorskip("matplotlib")
    pytest.importorskip("onnx")
    monkeypatch.chdir(tmp_path)
    assert main(["demo-data"]) == 0
    ran = 0
    for argv in _readme_lines():
        files = [a for a in argv if a.endswith(".csv") and a not in ("predictions.csv",
                                                                      "scores.csv")]
        if argv[0] == "demo-data" or any(f not in FILES for f in files):
            continue  # examples on the user's own files (small.csv, test.csv, ...)
        status = main(_quick(argv))
        assert status == 0, (argv, capsys.readouterr().err)
        ran += 1
    assert ran >= 7


def test_demo_data_creates_a_missing_folder_in_an_existing_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo-data", "--dir", "data"]) == 0
    assert "created folder data" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == sorted(FILES)


@pytest.mark.parametrize("folder, message", [
    ("missing/data", "--dir: cannot create 'missing/data': its parent 'missing' does not exist."),
    ("note.txt", "--dir: 'note.txt' exists and is not a folder."),
    ("note.txt/data", "--dir: cannot create 'note.txt/data': its parent 'note.txt' is not a "
                      "folder."),
])
def test_demo_data_refuses_a_folder_it_cannot_make_like_mkdir(tmp_path, monkeypatch, capsys,
                                                               folder, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "note.txt").write_text("mine")
    assert main(["demo-data", "--dir", folder]) == 2
    err = capsys.readouterr().err
    assert err == f"gradwise: error: {message}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["note.txt"]  # nothing made
    assert (tmp_path / "note.txt").read_text() == "mine"


def test_demo_data_in_an_existing_folder_keeps_the_users_files(tmp_path, capsys):
    (tmp_path / "houses.csv").write_text("mine")
    assert main(["demo-data", "--dir", str(tmp_path)]) == 2
    assert "houses.csv already exist" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["houses.csv"]
    assert (tmp_path / "houses.csv").read_text() == "mine"
