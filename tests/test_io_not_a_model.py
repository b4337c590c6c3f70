"""A file given as a model that is none (a table, random bytes), and a model asked for what it
does not do: the library's errors name no command-line option, a binary file is said to be
one (not shown as text), and the command adds its own wording."""
import numpy as np
import pytest

import gradwise as gw
from gradwise.cli import main
from gradwise.tabular.errors import TableError

TABLE = "id,tenure_months,plan,y\n" + "".join(f"{i},{i % 40},basic,{i % 2}\n" for i in range(60))


def _binary(seed=0, nul=False):
    """Random bytes; without NUL unless ``nul`` (a NUL byte was the test for binary)."""
    data = np.random.default_rng(seed).integers(1 - nul, 256, 4000, dtype=np.uint8).tobytes()
    return data if data[:2] != b"PK" else b"\x11" + data


def test_a_table_given_as_a_model_is_named_a_text_file(tmp_path):
    path = tmp_path / "new.csv"
    path.write_text(TABLE)
    with pytest.raises(ValueError) as error:
        gw.load_model(path)
    message = str(error.value)
    assert "not a gradwise model file (a text file starting 'id,tenure_months,plan,y'" in message
    assert "a table" in message and "--" not in message
    with pytest.raises(TableError) as error:
        gw.load_csv_model(path)
    assert error.value.remedy == "table-not-model" and "--" not in str(error.value)
    assert str(error.value).endswith("; a table is the data a model predicts, not a model file.")


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("nul", [False, True])
def test_random_bytes_are_a_binary_file_not_text(tmp_path, seed, nul):
    path = tmp_path / "m.npz"
    path.write_bytes(_binary(seed, nul))
    for load in (gw.load_model, gw.load_csv_model):
        with pytest.raises(ValueError) as error:
            load(path)
        message = str(error.value)
        assert "(a binary file that is not a zip archive)" in message
        assert "text file" not in message and "\ufffd" not in message and "\\x" not in message
        assert "--" not in message and getattr(error.value, "remedy", None) is None


def test_text_cut_inside_a_character_by_the_bytes_read_is_text(tmp_path):
    """The first 64 bytes are read: a character of two bytes may straddle the 64th."""
    path = tmp_path / "t.csv"
    path.write_bytes(("x" * 63 + "é,y\n1,2\n").encode())
    with pytest.raises(ValueError, match=r"a text file starting 'x{40}'"):
        gw.load_model(path)


def test_the_command_says_a_table_is_passed_with_data(tmp_path, capsys):
    table, binary = tmp_path / "new.csv", tmp_path / "m.npz"
    table.write_text(TABLE)
    binary.write_bytes(_binary())
    assert main(["predict", "--model", str(table), "--data", str(table)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradwise: error: --model: cannot load") and err.count("\n") == 1
    assert err.endswith("; a CSV is passed with --data, not as a model.\n")
    assert main(["predict", "--model", str(binary), "--data", str(table)]) == 2
    err = capsys.readouterr().err
    assert "(a binary file that is not a zip archive)" in err and "--data" not in err


def test_a_predicting_model_asked_for_anomaly_scores(tmp_path, capsys):
    data, model = tmp_path / "t.csv", str(tmp_path / "m.npz")
    data.write_text(TABLE)
    assert main(["train", "--data", str(data), "--target", "y", "--drop", "id", "--epochs", "1",
                 "--hidden", "4", "--quiet", "--save", model]) == 0
    loaded = gw.load_csv_model(model)
    for method in ("reconstruction_error", "is_anomaly"):
        with pytest.raises(ValueError) as error:
            getattr(loaded, method)(str(data))
        message = str(error.value)
        assert message.startswith(f"{method}: the model predicts (its task is classification)")
        assert "--" not in message and "gradwise anomalies" not in message
