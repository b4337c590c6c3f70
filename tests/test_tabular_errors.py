"""The table reader's errors name its own arguments, columns and lines; the command line names
its options instead (one translation, in gradwise.cli.flags)."""
import numpy as np
import pytest

from gradwise.cli import main
from gradwise.tabular.csv import encode_csv, fill_values, read_csv
from gradwise.tabular.errors import TableError
from gradwise.tabular.saved import read_saved_model


def _csv(tmp_path, text, name="t.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


CASES = [  # (file text, read_csv keywords, argument, option, words of the detail)
    ("a,b\n1,2\n", {"target": "c"}, "target", "--target", "column 'c' is not in the header"),
    ("a,b\n1,\n3,\n", {"target": "b"}, "target", "--target", "column 'b' has no values"),
    ("a,b\n1,2\n", {"target": "b", "drop": ["z"]}, "drop", "--drop", "columns ['z'] are not"),
    ("a,b\n1,2\n", {"target": "b", "categorical": ["b"]}, "categorical", "--categorical",
     "'b' is the target column"),
    ("a,b\n1,2\n3\n", {"target": "b"}, "path", "--data", "line 3 has 1 fields"),
    ("a,b\n", {"target": "b"}, "path", "--data", "header row and at least one data row"),
    ("a,b\nx,1\n2,2\n", {"target": "b", "drop": ["a"]}, "path", "--data",
     "no feature columns"),  # (a column given to --drop and --categorical: refused sooner)
    ("a,b\n,1\n3,4\n", {"target": "b"}, "path", "--data", "column 'a' has an empty cell at line 2"),
    ("a,b\n1,2.5\n3,-inf\n", {"target": "b"}, "target", "--target",
     "column 'b' has -inf at line 3 of"),
]


@pytest.mark.parametrize("text, keywords, argument, option, detail", CASES)
def test_library_errors_name_arguments_and_the_command_names_options(
        tmp_path, capsys, text, keywords, argument, option, detail):
    path = _csv(tmp_path, text)
    with pytest.raises(TableError) as caught:
        read_csv(path, **keywords)
    error = caught.value
    assert isinstance(error, ValueError) and error.argument == argument
    assert str(error).startswith(f"{argument}: ") and detail in str(error)
    assert "--" not in str(error)  # no command-line flag in a library error
    args = ["train", "--data", path, "--target", keywords["target"]]
    for name in ("drop", "categorical"):
        if name in keywords:
            args += [f"--{name}", ",".join(keywords[name])]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gradwise: error: {option}: ") and detail in err
    assert err.count("\n") == 1


def test_remedies_are_worded_for_each_side(tmp_path, capsys):
    path = _csv(tmp_path, "x,e,y\n" + "".join(f"{i},,{i % 2}\n" for i in range(20)))
    X, _, _, _, spec = read_csv(path, "y", impute=True)
    with pytest.raises(TableError, match=r"^X: column 'e' has no values in the training split "
                                         r"to impute from; leave it out \(drop=\['e'\]\)\.$"):
        fill_values(X, spec, "median")
    assert main(["train", "--data", path, "--target", "y", "--impute", "median"]) == 2
    assert capsys.readouterr().err.rstrip().endswith("--data: column 'e' has no values in the "
                                                     "training split to impute from; leave it "
                                                     "out with --drop e.")
    gap = _csv(tmp_path, "a,b\n,1\n3,4\n", "gap.csv")
    with pytest.raises(TableError, match="trained without imputation") as caught:
        encode_csv(gap, [{"name": "a", "kind": "number", "missing": False}], "b")
    assert "--" not in str(caught.value)
    with pytest.raises(TableError, match="impute=True") as caught:
        read_csv(gap, "b")
    assert "--" not in str(caught.value)


def test_a_file_that_is_not_a_command_model_is_named_by_path(tmp_path):
    with pytest.raises(TableError, match=r"^path: cannot load") as caught:
        read_saved_model(str(tmp_path / "missing.npz"))
    assert "--" not in str(caught.value)


def test_the_library_never_rewrites_messages():
    import pathlib

    import gradwise
    root = pathlib.Path(gradwise.__file__).parent
    for path in root.rglob("*.py"):
        text = path.read_text()
        assert "str(error).replace(" not in text and "str(err).replace(" not in text, path
