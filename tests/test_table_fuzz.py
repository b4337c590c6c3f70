"""Property-based fuzzing (Hypothesis) of the table reader, through the command's observable
behaviour (so that it holds whatever library reads the table): a mutated CSV either trains
(exit 0) or is refused with exit status 2 and one ``gradwise: error:`` line; never a traceback,
never exit 1 (a crash), and the input file is never changed."""
import contextlib
import io
import os

from hypothesis import HealthCheck, given, settings, strategies as st

from gradwise.cli import main

BASE = ["a,b,when,color,y"] + [
    f"{i % 7 - 3},{(i * 5) % 11 / 3:.3f},2024-01-{i % 28 + 1:02d},{['red', 'blue'][i % 2]},"
    f"{'yes' if i % 3 else 'no'}" for i in range(40)]

_CELLS = st.one_of(
    st.sampled_from(["", "NA", "inf", "-inf", "nan", "1e308", "-1e400", "2023-02-30",
                     "03/15/2024", "=HYPERLINK(1)", '"', '""', "a,b", "\t", "1,5", "0x10",
                     "1_000", "१२", "\x00", "\ufeff", "yes", "no", "red"]),
    st.text(max_size=6), st.floats(allow_nan=True).map(repr), st.integers().map(str))


def _run(argv):
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exit:
            status = exit.code
    return status, err.getvalue()


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.integers(0, len(BASE) - 1), st.integers(0, 4), _CELLS),
                      min_size=1, max_size=6),
       raw=st.one_of(st.none(), st.tuples(st.floats(0, 1, exclude_max=True), st.binary(
           min_size=1, max_size=4))))
def test_mutated_csv_trains_or_is_refused_in_one_line(tmp_path, edits, raw):
    _mutated_csv_trains_or_is_refused(tmp_path, edits, raw, [])


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.integers(0, len(BASE) - 1), st.integers(0, 4), _CELLS),
                      min_size=1, max_size=6),
       impute=st.booleans())
def test_mutated_csv_streamed_in_small_batches_trains_or_is_refused_in_one_line(
        tmp_path, monkeypatch, edits, impute):
    from gradwise.cli import stream as cli_stream
    from gradwise.tabular import stream
    monkeypatch.setattr(cli_stream, "BATCH_ROWS", 8)  # the kinds from 8 rows, checked after
    monkeypatch.setattr(stream, "CSV_BLOCK", 200)  # several CSV blocks, each typed by Arrow
    _mutated_csv_trains_or_is_refused(
        tmp_path, edits, None, ["--memory-budget", "1K"] + (["--impute", "mean"] if impute
                                                            else []))


def _mutated_csv_trains_or_is_refused(tmp_path, edits, raw, options):
    rows = [line.split(",") for line in BASE]
    for row, column, cell in edits:
        rows[row][column] = cell
    data = "\n".join(",".join(row) for row in rows).encode("utf-8", "surrogatepass")
    if raw is not None:
        where, blob = raw
        at = int(where * len(data))
        data = data[:at] + blob + data[at + len(blob):]
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    status, err = _run(["train", "--data", str(path), "--target", "y", "--epochs", "1",
                        "--hidden", "2", "--quiet", "--seed", "0", *options])
    assert status in (0, 2), err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("gradwise: error:")]
    assert len(errors) == (status == 2), err
    assert all(line.startswith("gradwise: ") for line in err.splitlines()), err
    assert path.read_bytes() == data
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".tmp-")]
