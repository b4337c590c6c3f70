"""Cells longer than Python's csv field limit (131,072 characters): the table is read, its rows
keep their file lines, the process's own limit is left as it was, and a message shows such a
cell cut to a few characters."""
import csv

import numpy as np
import pytest

import gradwise as gw
from gradwise.cli import main
from gradwise.tabular.csv import encode_csv, read_csv
from gradwise.tabular.errors import TableError

LONG = 200_000  # characters, beyond the csv module's default limit of 131,072
ROWS = 40


def _write(path, long_column=None, long_cell=None, blank_line=True):
    """A table of ``ROWS`` rows (file lines 2 on, with line 5 blank); the row on file line 7
    holds ``long_cell`` in ``long_column``."""
    lines = ["size,plan,y"]
    for i in range(ROWS):
        cells = {"size": str(i % 9), "plan": ["basic", "pro"][i % 2], "y": ["no", "yes"][i % 2]}
        if long_column is not None and i == 4:
            cells[long_column] = long_cell
        lines.append(",".join(cells.values()))
        if blank_line and i == 2:
            lines.append("")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture
def small_process_limit():
    """The process's csv field limit set to 1,000 characters for the test, restored after."""
    before = csv.field_size_limit(1000)
    yield 1000
    csv.field_size_limit(before)


def test_a_long_cell_is_read_with_the_lines_of_the_rows(tmp_path, small_process_limit):
    path = _write(tmp_path / "t.csv", "plan", "x" * LONG)
    X, y, names, task, spec, lines = read_csv(path, "y", with_lines=True)
    assert X.shape[0] == ROWS
    expected = [line for line in range(2, ROWS + 3) if line != 5]  # line 5 is blank
    assert list(lines) == expected
    assert csv.field_size_limit() == small_process_limit


def test_a_long_cell_new_to_a_model_is_read_and_shown_cut(tmp_path, small_process_limit):
    spec = read_csv(_write(tmp_path / "train.csv"), "y")[4]
    path = _write(tmp_path / "new.csv", "plan", "x" * LONG)
    X, y, unknown, lines = encode_csv(path, spec, "y", with_lines=True)
    assert unknown == 1 and lines[4] == 7  # the long cell's row, after the blank line
    described = unknown.described()
    assert f"({LONG:,} characters)" in described and len(described) < 200
    assert csv.field_size_limit() == small_process_limit


def test_a_long_number_is_refused_naming_column_line_and_file(tmp_path, small_process_limit):
    path = _write(tmp_path / "t.csv", "size", "9" * LONG)
    with pytest.raises(TableError) as error:
        read_csv(path, "y")
    message = str(error.value)
    assert "'size'" in message and "line 7" in message and "t.csv" in message
    assert f"({LONG:,} characters)" in message and len(message) < 500
    assert csv.field_size_limit() == small_process_limit


def test_the_command_and_a_loaded_model_read_a_long_cell(tmp_path, capsys):
    train, model = _write(tmp_path / "train.csv"), str(tmp_path / "m.npz")
    assert main(["train", "--data", train, "--target", "y", "--epochs", "1", "--hidden", "4",
                 "--quiet", "--save", model]) == 0
    capsys.readouterr()
    long_text = _write(tmp_path / "text.csv", "plan", "x" * LONG)
    for extra in ([], ["--memory-budget", "1"]):  # read whole, and streamed
        assert main(["predict", "--model", model, "--data", long_text] + extra) == 0
        captured = capsys.readouterr()
        assert len(captured.out.splitlines()) == ROWS + 1
        assert "(200,000 characters)" in captured.err and len(captured.err) < 400
    assert len(gw.load_csv_model(model).predict(long_text)) == ROWS
    long_number = _write(tmp_path / "number.csv", "size", "9" * LONG)
    assert main(["predict", "--model", model, "--data", long_number]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradwise: error: --data: column 'size'") and err.count("\n") == 1
    assert "line 7" in err and "number.csv" in err and len(err) < 600


def test_a_long_header_cell_is_read(tmp_path, small_process_limit):
    name = "n" * LONG
    path = tmp_path / "t.csv"
    path.write_text(f"{name},y\n" + "".join(f"{i % 5},{i % 2}\n" for i in range(ROWS)))
    X, y, names, task, spec = read_csv(str(path), "y")
    assert names == [name] and np.array_equal(X[:, 0], np.arange(ROWS) % 5)
    assert csv.field_size_limit() == small_process_limit


def test_a_cell_longer_than_a_block_of_the_reader_is_read(tmp_path, capsys):
    """Arrow reads a file in blocks of 1 MB, which a row must fit in."""
    megabytes = 3_000_000
    path = _write(tmp_path / "t.csv", "plan", "x" * megabytes)
    X, y, names, task, spec, lines = read_csv(path, "y", with_lines=True)
    assert X.shape[0] == ROWS and lines[4] == 7
    assert sum(len(level) for level in spec[1]["levels"]) > megabytes
    train, model = _write(tmp_path / "train.csv"), str(tmp_path / "m.npz")
    assert main(["train", "--data", train, "--target", "y", "--epochs", "1", "--hidden", "4",
                 "--quiet", "--save", model]) == 0
    capsys.readouterr()
    for extra in ([], ["--memory-budget", "1"]):  # read whole, and streamed
        assert main(["predict", "--model", model, "--data", path] + extra) == 0
        assert len(capsys.readouterr().out.splitlines()) == ROWS + 1
