"""Differential fuzzing (Hypothesis) of the two ways every command reads a table: whole (what
it does in memory) and record batch by record batch (what it does past ``--memory-budget``).

- ``gradwise predict``: :func:`gradwise.tabular.csv.encode_saved` against
  :func:`gradwise.tabular.stream.saved_batches`, for CSV and Parquet files;
- ``gradwise train`` and ``anomalies``: :func:`gradwise.tabular.csv.read_csv` against
  :func:`gradwise.tabular.stream.scan` and the record batches it encodes.

CSV blocks are a few bytes long, so that they end inside quoted fields, between the two bytes
of a CRLF, and inside multi-byte characters. Valid files (written by Python's ``csv`` module)
with quoted commas, quotes and line breaks, missing markers, stray cells, unseen categories,
blank lines and rows of empty cells, separated by commas, semicolons or tabs, must give the same
matrix bit for bit, the same file line for each row, the same counts of unseen cells and
filled gaps, the same columns' encoding, or be refused by both: a difference is a silent wrong
result in one of them."""
import csv
import io
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from gradwise.tabular import read, stream
from gradwise.tabular.csv import encode_saved, fill_values, read_csv, target_values

TRAIN = "x,city,when,flag\n" + "".join(
    f"{(i * 7) % 13 - 6.5},{['paris', 'lyon', 'lille'][i % 3]},2024-0{i % 9 + 1}-1{i % 10},"
    f"{i % 2}\n" for i in range(30))

_NUMBER = st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
                    st.integers(-10**6, 10**6).map(str),
                    st.sampled_from(["", "NA", " 1.5 ", "1e39", "inf", "abc", "1,5", "-0"]))
_TEXT = st.one_of(st.sampled_from(["paris", "lyon", "lille", "", "NA", "Nantes", "a,b",
                                   'say "hi"', "two\nlines", "crlf\r\nin it", "é", "日本",
                                   " paris", "=1+1"]),
                  st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                                 blacklist_characters="\x00"), max_size=5))
_DATE = st.sampled_from(["2024-01-05", "2023-12-31", "", "NA", "2024-02-30", "soon"])
_FLAG = st.sampled_from(["0", "1", "", "2"])
_ROW = st.one_of(st.tuples(_NUMBER, _TEXT, _DATE, _FLAG).map(list),
                 st.just(["", "", "", ""]),   # a row of empty cells
                 st.just(None))               # a blank line


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "train.csv"
    path.write_text(TRAIN)
    X, _, _, _, columns = read_csv(str(path), None, impute=True)[:5]
    return fill_values(X, columns, "median")


def _write(path, rows, newline, delimiter=","):
    """A CSV file of ``rows`` (None: a blank line); separated by semicolons, its numbers are
    written with decimal commas, as spreadsheets in many countries write them."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator=newline, delimiter=delimiter)
    writer.writerow(["x", "city", "when", "flag"])
    for row in rows:
        if row is None:
            text.write(newline)
        else:
            if delimiter == ";" and re.fullmatch(r"-?\d+\.\d+", row[0]):
                row = [row[0].replace(".", ",")] + row[1:]
            writer.writerow(row)
    path.write_bytes(text.getvalue().encode("utf-8"))


def _outcome(read):
    """``("ok", result)``, or the refusal's type and message."""
    try:
        return "ok", read()
    except Exception as error:  # noqa: BLE001 - the refusals are what is compared
        return type(error).__name__, str(error)


# Each found by this test, and each a difference before the fix: a row of empty cells left out
# whole but a row of missing cells in batches; a batch whose date cells, or number cells, are
# all missing refused as "not a date" or crashing (TypeError); "inf" and "1e39" read as missing
# (filled) whole but refused as "not numbers" in batches, as text.
_OK = ["0.0", "paris", "2024-01-05", "0"]


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@example(rows=[_OK, _OK, _OK, ["", "", "", ""]], newline="\n", block=16, batch_rows=2,
         fill=True, delimiter=",")
@example(rows=[["", "", "", ""]], newline="\n", block=16, batch_rows=1, fill=False, delimiter=",")
@example(rows=[None], newline="\r\n", block=16, batch_rows=1, fill=True, delimiter=",")
@example(rows=[_OK, ["0.0", "paris", "", "0"]], newline="\n", block=16, batch_rows=1,
         fill=False, delimiter=",")
@example(rows=[_OK, ["NA", "paris", "2024-01-05", "0"]], newline="\n", block=16, batch_rows=1,
         fill=False, delimiter=",")
@example(rows=[_OK, ["1e39", "paris", "2024-01-05", "0"]], newline="\n", block=16,
         batch_rows=1, fill=True, delimiter=",")
@example(rows=[_OK, ["inf", "paris", "2024-01-05", "0"]], newline="\n", block=16,
         batch_rows=1, fill=False, delimiter=",")
@given(rows=st.lists(_ROW, min_size=1, max_size=25), newline=st.sampled_from(["\n", "\r\n"]),
       block=st.integers(16, 160), batch_rows=st.integers(1, 7), fill=st.booleans(),
       delimiter=st.sampled_from([",", ",", ";", "\t"]))
def test_a_table_read_whole_and_in_record_batches_encodes_the_same(
        tmp_path, monkeypatch, spec, rows, newline, block, batch_rows, fill, delimiter):
    monkeypatch.setattr(stream, "CSV_BLOCK", block)
    monkeypatch.setattr(read, "CSV_NARROW_PIECE", block)  # read whole: numbers in float32
    path = tmp_path / "new.csv"
    _write(path, rows, newline, delimiter)

    def whole():
        X, _, unknown, lines, gaps = encode_saved(str(path), spec, fill=fill)
        return X, np.asarray(lines), int(unknown), gaps

    def batched():
        parts = list(stream.saved_batches(str(path), spec, fill=fill, batch_rows=batch_rows))
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[3] for p in parts]),
                sum(int(p[2]) for p in parts), sum(p[4] for p in parts))

    with warnings.catch_warnings():  # blank rows left out, ...: not what is compared
        warnings.simplefilter("ignore")
        kind, result = _outcome(whole)
        kind_b, result_b = _outcome(batched)
    # A table with several bad cells may be refused for a different one first (read whole:
    # the first column with one; in record batches: the first batch with one): the kind of
    # refusal is compared, and each names the file.
    assert kind == kind_b, (result, result_b)
    if kind != "ok":
        assert str(path) in result and str(path) in result_b
    if kind == "ok":
        (X, lines, unknown, gaps), (X_b, lines_b, unknown_b, gaps_b) = result, result_b
        assert X.dtype == X_b.dtype and X.shape == X_b.shape
        assert X.tobytes() == X_b.tobytes()  # NaN where both have it, bit for bit
        assert lines.tolist() == lines_b.tolist()
        assert (unknown, gaps) == (unknown_b, gaps_b)



_TRAIN_ROW = st.one_of(
    st.tuples(st.one_of(st.floats(-1e6, 1e6, width=32).map(repr),
                        st.sampled_from(["", "NA", "7", "inf", "1e39", "abc"])),
              st.sampled_from(["paris", "lyon", "", "NA", "a,b", "two\nlines", "é", "Nantes"]),
              st.sampled_from(["2024-01-05", "2023-12-31", "", "2024-02-30", "2024-03-01"]),
              st.sampled_from(["0", "1", "1", "0", ""])).map(list),
    st.just(["", "", "", ""]), st.just(None))


# Found by this test, each a difference before the fix: the levels, and the gaps (an "is
# missing" feature), of the rows without a target kept when streamed; "NA" in a text column a
# level read whole but missing when streamed (its block's column typed as nulls).
@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@example(rows=[["0.0", "paris", "2024-01-05", ""], ["0.0", "paris", "2024-01-05", ""],
               ["0.0", "paris", "2024-02-30", "0"], ["", "", "", ""]], newline="\n", block=67,
         impute=False, categorical=(), embed=None,
         target="flag", delimiter=",")
@example(rows=[["", "", "", ""], ["", "", "", ""], _OK, _OK, ["0.0", "NA", "2024-01-05", "0"]],
         newline="\n", block=24, impute=True, categorical=(), embed=None,
         target="flag", delimiter=",")
@example(rows=[_OK, ["", "paris", "2024-01-05", ""], _OK, _OK], newline="\n", block=200,
         impute=True, categorical=(), embed=None,
         target="flag", delimiter=",")
@example(rows=[["1", "NA", "2024-01-05", "0"], ["2", "", "2024-01-05", "1"],
               ["3", "paris", "2024-01-05", "0"], ["4", "lyon", "2024-01-05", "1"]],
         newline="\n", block=24, impute=True, categorical=(), embed=None,
         target="flag", delimiter=",")
# Each a difference before the kinds were checked against the whole file: too few good cells
# (2) to make "when" a date column with a stray cell read whole, a date column with a stray
# cell from its first batch alone; "when" all missing in the first batch (a number column
# there), dates in the file.
@example(rows=[["", "", "", ""], ["0.0", "paris", "2024-01-05", "0"],
               ["0.0", "paris", "2024-01-05", "0"], ["0.0", "paris", "2024-02-30", "0"]],
         newline="\n", block=24, impute=True, categorical=(), embed=None, target="flag",
         delimiter=",")
@example(rows=[["0.0", "paris", "", "0"], ["0.0", "paris", "2024-01-05", "0"],
               ["0.0", "paris", "2024-01-05", "0"], ["0.0", "paris", "2024-01-05", "0"]],
         newline="\n", block=24, impute=False, categorical=(), embed=None, target="flag",
         delimiter=",")
@example(rows=[["0.0", "paris", "", "0"], ["0.0", "paris", "2024-01-05", "0"],
               ["0.0", "paris", "2024-01-05", "0"], ["0.0", "paris", "2024-01-05", "0"]],
         newline="\n", block=24, impute=True, categorical=(), embed=None, target="flag",
         delimiter=",")
@example(rows=[["0.0", "paris", "2024-01-05", ""], ["0.0", "", "2024-01-05", "0"],
               ["0.0", "NA", "2024-01-05", "0"], ["", "", "", ""]],
         newline="\n", block=24, impute=True, categorical=(), embed=None, target="flag",
         delimiter=",")  # "city" missing in every row with a target, once as "NA": text
@example(rows=[["", "", "", ""], ["inf", "paris", "2024-01-05", "0"], ["", "", "", ""],
               ["0.0", "paris", "2024-01-05", "0"]],
         newline="\n", block=24, impute=True, categorical=(), embed=None, target="flag",
         delimiter=",")  # "x" floats read whole (inf a gap), text in batches typed by the first
@example(rows=[["NA", "paris", "2024-01-05", "0"], ["", "", "", ""],
               ["0.0", "paris", "2024-01-05", ""], ["", "", "", ""]],
         newline="\n", block=24, impute=False, categorical=(), embed=None, target="flag",
         delimiter=",")  # "x" floats read whole ("NA" a gap): a number column, not text
@given(rows=st.lists(_TRAIN_ROW, min_size=4, max_size=30), newline=st.sampled_from(["\n", "\r\n"]),
       block=st.integers(24, 200), impute=st.booleans(),
       categorical=st.sampled_from([(), ("x",)]), embed=st.sampled_from([None, 2]),
       target=st.sampled_from(["flag", "flag", None]), delimiter=st.sampled_from([",", ";", "\t"]))
def test_a_training_table_read_whole_and_scanned_in_batches_encodes_the_same(
        tmp_path, monkeypatch, rows, newline, block, impute, categorical, embed, target,
        delimiter):
    """``gradwise train``'s two readers: whole (:func:`read_csv`) and streamed (:func:`scan`,
    then every row's record batch encoded with the scanned spec, five rows a batch, so that a
    column's share of stray cells differs from batch to batch): the columns' kinds, the spec,
    the target cells and the matrix (NaN where a number is missing, before any fill) are the
    same, or both refuse."""
    from gradwise.tabular.columns import encode
    monkeypatch.setattr(stream, "CSV_BLOCK", block)
    monkeypatch.setattr(read, "CSV_NARROW_PIECE", block)  # read whole: numbers in float32
    path = tmp_path / "train.csv"
    _write(path, rows, newline, delimiter)

    def whole():
        X, y, _, _, columns = read_csv(str(path), target, impute=impute, categorical=categorical,
                                       embed_threshold=embed)[:5]
        if impute:  # as the scan, refuse a column with no value to fill its gaps with
            fill_values(X, columns, "mean")
        return X, None if y is None else np.asarray(y, dtype=np.float64), columns

    def scanned():
        stats = stream.scan(str(path), target, ratios=(1.0, 0.0, 0.0), impute=impute,
                            categorical=categorical, embed_threshold=embed,
                            task=target and "classification", batch_rows=5)
        parts = []
        for table, _ in stats.batches():
            if target is None:  # features only (gradwise anomalies)
                parts.append((encode(table, stats.spec, impute)[0], None))
                continue
            y, gaps = target_values(table, target)
            keep = ~gaps
            parts.append((encode(table.filter(keep), stats.spec, impute)[0],
                          np.asarray(y[keep], dtype=np.float64)))
        return (np.concatenate([p[0] for p in parts]),
                None if target is None else np.concatenate([p[1] for p in parts]), stats.spec)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kind, result = _outcome(whole)
        kind_b, result_b = _outcome(scanned)
    assert kind == kind_b, (result, result_b)
    if kind == "ok":
        (X, y, columns), (X_b, y_b, columns_b) = result, result_b
        for key in ("kind", "levels", "parts", "embed"):  # the spec the network's input follows
            assert [c.get(key) for c in columns] == [c.get(key) for c in columns_b], key
        assert X.shape == X_b.shape and X.tobytes() == X_b.tobytes()
        assert (y is None and y_b is None) or y.tolist() == y_b.tolist()
        if impute:  # which columns get an "is missing" feature (the scan's moments pass has
            # turned its "missing" into "indicator", as fill_values does for a whole read)
            assert [bool(c.get("missing")) for c in columns] == \
                [bool(c.get("indicator")) for c in columns_b]


_PARQUET_ROW = st.tuples(
    st.one_of(st.none(), st.floats(-1e6, 1e6), st.sampled_from([float("nan"), float("inf"),
                                                                1e39, -0.0])),
    st.one_of(st.none(), st.sampled_from(["paris", "lyon", "lille", "", "NA", "Nantes", " paris",
                                          "é", "two\nlines"])),
    st.one_of(st.none(), st.sampled_from([0, 1_700_000_000, 1_709_251_200, 86_399])),
    st.one_of(st.none(), st.integers(-5, 5)))


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(_PARQUET_ROW, min_size=1, max_size=25), batch_rows=st.integers(1, 7),
       row_group=st.integers(1, 9), dictionary=st.booleans(), fill=st.booleans())
def test_a_parquet_table_read_whole_and_in_record_batches_encodes_the_same(
        tmp_path, parquet_spec, rows, batch_rows, row_group, dictionary, fill):
    """As above for a Parquet file: typed columns (floats with nulls, NaN, infinities and
    values beyond float32, text with nulls, timestamps, integers), in row groups of a few rows,
    text dictionary-encoded or not."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    x, city, when, flag = zip(*rows)
    table = pa.table({"x": pa.array(x, pa.float64()), "city": pa.array(city, pa.string()),
                      "when": pa.array(when, pa.timestamp("s")),
                      "flag": pa.array(flag, pa.int64())})
    path = tmp_path / "new.parquet"
    pq.write_table(table, path, row_group_size=row_group, use_dictionary=dictionary)

    def whole():
        X, _, unknown, lines, gaps = encode_saved(str(path), parquet_spec, fill=fill)
        return X, np.asarray(lines), int(unknown), gaps

    def batched():
        parts = list(stream.saved_batches(str(path), parquet_spec, fill=fill,
                                          batch_rows=batch_rows))
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[3] for p in parts]),
                sum(int(p[2]) for p in parts), sum(p[4] for p in parts))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kind, result = _outcome(whole)
        kind_b, result_b = _outcome(batched)
    assert kind == kind_b, (result, result_b)
    if kind == "ok":
        (X, lines, unknown, gaps), (X_b, lines_b, unknown_b, gaps_b) = result, result_b
        assert X.shape == X_b.shape and X.tobytes() == X_b.tobytes()
        assert lines.tolist() == lines_b.tolist() == list(range(1, len(rows) + 1))
        assert (unknown, gaps) == (unknown_b, gaps_b)
    else:
        assert str(path) in result and str(path) in result_b


@pytest.fixture(scope="module")
def parquet_spec(tmp_path_factory):
    import pyarrow as pa
    import pyarrow.parquet as pq
    path = tmp_path_factory.mktemp("spec") / "train.parquet"
    n = 30
    pq.write_table(pa.table({
        "x": pa.array([(i * 7) % 13 - 6.5 for i in range(n)], pa.float64()),
        "city": pa.array([["paris", "lyon", "lille"][i % 3] for i in range(n)]),
        "when": pa.array([1_700_000_000 + 86_400 * 3 * i for i in range(n)], pa.timestamp("s")),
        "flag": pa.array([i % 2 for i in range(n)], pa.int64())}), path)
    X, _, _, _, columns = read_csv(str(path), None, impute=True)[:5]
    return fill_values(X, columns, "median")


_TARGETS = ["0", "1"] * 3


@pytest.mark.parametrize("cells, flags, kind", [
    (["NA"] * 6, _TARGETS, "number"), (["NA", ""] * 3, _TARGETS, "number"),
    (["", "-", "?"] * 2, _TARGETS, "number"), (["NA"] * 5 + ["paris"], _TARGETS, "category"),
    (["NA"] * 5 + ["paris"], _TARGETS[:5] + [""], "category")])
@pytest.mark.parametrize("impute", [False, True])
def test_a_column_of_missing_markers_only_has_the_kind_read_whole_when_streamed(
        tmp_path, monkeypatch, cells, flags, kind, impute):
    """Read whole, Arrow types a column whose every cell is empty or a marker as nulls: a number
    column of gaps (refused, naming the first, without imputation; nothing to fill with it
    with). Streamed, its first
    block reads it as text (a later "NA" beside other text is a level, as read whole), so the
    scan makes it a number column again when no row wrote anything in it. In the last case the
    one text cell is in a row without a target: the column is text read whole, and streamed."""
    monkeypatch.setattr(stream, "CSV_BLOCK", 20)
    path = tmp_path / "t.csv"
    path.write_text("x,c,flag\n" + "".join(f"{i},{cell},{flag}\n"
                                          for i, (cell, flag) in enumerate(zip(cells, flags))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        columns = read_csv(str(path), "flag", impute=True)[4]
        assert [c["kind"] for c in columns] == ["number", kind]
        if kind == "number" and impute:  # as fill_values refuses it for a table read whole
            with pytest.raises(ValueError, match="column 'c' has no values in the training"):
                stream.scan(str(path), "flag", ratios=(1.0, 0.0, 0.0), impute=True,
                            task="classification", batch_rows=100)
            return
        if kind == "number":  # its first gap refused, as encoding the table whole does
            whole = _outcome(lambda: read_csv(str(path), "flag"))
            streamed = _outcome(lambda: stream.scan(str(path), "flag", ratios=(1.0, 0.0, 0.0),
                                                    task="classification", batch_rows=100))
            assert whole == streamed and "column 'c' has " in whole[1] and "line 2" in whole[1]
            return
        stats = stream.scan(str(path), "flag", ratios=(1.0, 0.0, 0.0), impute=impute,
                            task="classification", batch_rows=100)
    assert [c["kind"] for c in stats.spec] == ["number", kind]
    if kind == "category":
        expected = ["NA"] if flags[-1] == "" else ["NA", "paris"]  # the rows with a target's
        assert stats.spec[1]["levels"] == columns[1]["levels"] == expected


@pytest.mark.parametrize("impute", [False, True])
def test_rows_without_a_target_in_the_first_record_batch_do_not_decide_the_kinds(
        tmp_path, monkeypatch, impute):
    """Read whole, the rows without a target are left out before the columns' kinds are
    decided: a text cell in such a row does not make a number column text. Streamed, the kinds
    come from the first record batch with a row that has a target, so the same holds when the
    whole first batch has none (it decided the kinds from all its rows before)."""
    monkeypatch.setattr(stream, "CSV_BLOCK", 40)
    path = tmp_path / "t.csv"
    lines = [f"{'abc' if i == 1 else ''}{i},paris," for i in range(5)]
    lines += [f"{i},{'lyon' if i % 3 else 'paris'},{i % 2}" for i in range(5, 30)]
    path.write_text("x,c,flag\n" + "\n".join(lines) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        columns = read_csv(str(path), "flag", impute=impute)[4]
        stats = stream.scan(str(path), "flag", ratios=(1.0, 0.0, 0.0), impute=impute,
                            task="classification", batch_rows=5)
    assert [(c["name"], c["kind"]) for c in columns] == [("x", "number"), ("c", "category")]
    assert [(c["name"], c["kind"]) for c in stats.spec] == [("x", "number"), ("c", "category")]
    assert stats.spec[1]["levels"] == columns[1]["levels"] == ["lyon", "paris"]


def test_a_table_whose_rows_all_lack_a_target_is_refused_alike_streamed(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x,flag\n1,\n2,\n3,\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="column 'flag' has no values"):
            read_csv(str(path), "flag")
        with pytest.raises(ValueError, match="column 'flag' has no values"):
            stream.scan(str(path), "flag", batch_rows=1)


def _uneven(path, first, rest, rows=1000, batch=100):
    """A table whose column ``x`` is numbers but for ``first`` text cells in its first
    ``batch`` rows and ``rest`` in the others (spread evenly), with a 2-level column and a
    0/1 target."""
    def text_rows(count, lo, hi):
        return set(np.linspace(lo, hi - 1, count).astype(int).tolist()) if count else set()
    odd = text_rows(first, 0, batch) | text_rows(rest, batch, rows)
    lines = [f"{'n.a.' if i in odd else i % 17 / 4},{'ab'[i % 2]},{i % 2}" for i in range(rows)]
    path.write_text("x,c,flag\n" + "\n".join(lines) + "\n")


def _both(path, impute):
    """``(outcome, kinds, said)`` of the table read whole and of the table scanned in record
    batches of 100 rows: ``outcome`` "ok" or the refusal's message, ``said`` the warnings'."""
    outcomes = []
    for read in (lambda: read_csv(str(path), "flag", impute=impute)[4],
                 lambda: stream.scan(str(path), "flag", ratios=(1.0, 0.0, 0.0), impute=impute,
                                     task="classification", batch_rows=100).spec):
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            kind, result = _outcome(read)
        kinds = [(c["name"], c["kind"]) for c in result] if kind == "ok" else None
        outcomes.append((result if kind != "ok" else "ok", kinds, [str(w.message) for w in said]))
    return outcomes


@pytest.mark.parametrize("impute", [False, True])
def test_a_column_whose_stray_share_is_low_at_first_but_high_over_the_file_is_text_alike(
        tmp_path, impute):
    """5% of the first batch's cells are not numbers, 30% of the file's: read whole, the column
    is text (more than 10% of its cells); streamed, its first batch alone would make it a
    number column with stray cells (refused, or read as missing with ``impute``)."""
    path = tmp_path / "t.csv"
    _uneven(path, first=5, rest=270)
    whole, streamed = _both(path, impute)
    assert whole[1] == streamed[1] == [("x", "category"), ("c", "category")]
    assert whole[2] == streamed[2]  # the same warnings, once


@pytest.mark.parametrize("impute", [False, True])
def test_a_column_whose_stray_share_is_high_at_first_but_low_over_the_file_is_numbers_alike(
        tmp_path, impute):
    """15% of the first batch's cells are not numbers, under 3% of the file's: read whole, a
    number column with 25 stray cells, refused naming the first five (or read as missing,
    noted once); streamed, its first batch alone would make it text, each of its numbers a
    level."""
    path = tmp_path / "t.csv"
    _uneven(path, first=15, rest=10)
    whole, streamed = _both(path, impute)
    if impute:
        assert whole[0] == streamed[0] == "ok"
        assert whole[1] == streamed[1] == [("x", "number"), ("c", "category")]
        assert whole[2] == streamed[2]
        assert [said for said in whole[2] if "25 cell(s)" in said]
    else:
        assert whole[0] == streamed[0]
        assert "but for 25 cell(s): line 2 'n.a.'" in whole[0]


def test_a_stray_cell_of_a_later_batch_is_refused_with_the_files_count(tmp_path):
    """Cells that are not numbers in several batches, a few in all: refused, as read whole,
    with their count in the whole file (not in the first batch alone)."""
    path = tmp_path / "t.csv"
    _uneven(path, first=2, rest=20)
    whole, streamed = _both(path, impute=False)
    assert whole[0] == streamed[0]
    assert "but for 22 cell(s)" in streamed[0]


def test_a_second_pass_is_made_only_when_the_first_batch_decided_a_kind_otherwise(
        tmp_path, monkeypatch):
    """The file's counts confirm the first batch's kinds for most tables, which are scanned
    once; a column of markers only ("NA" in every row) is a number column, all missing (and
    refused, with nothing to impute from), with no second pass; an uneven share of stray cells
    takes one more."""
    passes = []
    scan_once = stream._scan
    monkeypatch.setattr(stream, "_scan", lambda *a, **k: passes.append(k.get("kinds")) or
                        scan_once(*a, **k))
    even, markers, uneven = (tmp_path / f"{name}.csv" for name in ("even", "markers", "uneven"))
    _uneven(even, first=0, rest=0)
    markers.write_text("x,c,flag\n" + "".join(f"{i},NA,{i % 2}\n" for i in range(300)))
    _uneven(uneven, first=15, rest=10)
    for path, expected in ((even, [None]), (markers, [None]),
                           (uneven, [None, {"x": "number"}])):
        passes.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome, stats = _outcome(lambda: stream.scan(
                str(path), "flag", ratios=(1.0, 0.0, 0.0), impute=True,
                task="classification", batch_rows=100))
        assert passes == expected, path.name
        if path is markers:
            assert "column 'c' has no values in the training split" in stats
        else:
            assert [c["kind"] for c in stats.spec] == ["number", "category"]
