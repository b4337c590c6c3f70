"""The command on Parquet files and folders, other text encodings, many-level text columns
(embedded) and bad tables: one ``gradwise: error:`` line naming the file, column and line."""
import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq  # noqa: E402

import gradwise as gw  # noqa: E402
from gradwise.cli import main  # noqa: E402


def _frame(n=300, seed=0, cities=30):
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_normal(n), 3)
    city = rng.integers(0, cities, n)
    label = ((x + (city % 3 == 0) * 1.5 + 0.3 * rng.standard_normal(n)) > 0.5).astype(int)
    return {"x": x, "city": np.array([f"c{k:02d}" for k in city]), "label": label}


def _csv(path, frame):
    names = list(frame)
    text = ",".join(names) + "\n" + "".join(
        ",".join(str(frame[name][i]) for name in names) + "\n" for i in range(len(frame["x"])))
    path.write_text(text)
    return str(path)


def _train(data, *extra):
    return main(["train", "--data", data, "--target", "label", "--epochs", "3", "--quiet",
                 "--hidden", "8", *extra])


def test_parquet_file_and_folder_train_as_the_csv_does(tmp_path, capsys):
    frame = _frame()
    csv_path = _csv(tmp_path / "t.csv", frame)
    pq.write_table(pa.table(frame), tmp_path / "t.parquet")
    (tmp_path / "parts").mkdir()
    table = pa.table(frame)
    pq.write_table(table.slice(0, 120), tmp_path / "parts" / "a.parquet")
    pq.write_table(table.slice(120), tmp_path / "parts" / "b.parquet")
    outputs = []
    for data in (csv_path, str(tmp_path / "t.parquet"), str(tmp_path / "parts")):
        saved = tmp_path / f"{len(outputs)}.npz"
        assert _train(data, "--save", str(saved)) == 0
        outputs.append(gw.load_model(saved).predict(
            gw.load_csv_model(saved).encode(csv_path)))
    capsys.readouterr()
    np.testing.assert_array_equal(outputs[0], outputs[1])  # same encoding, same seed: same bits
    np.testing.assert_array_equal(outputs[0], outputs[2])
    assert main(["predict", "--model", str(tmp_path / "1.npz"), "--data",
                 str(tmp_path / "t.parquet"), "--out", str(tmp_path / "p.csv")]) == 0
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 301


def test_many_level_text_is_embedded_and_explained_by_its_column(tmp_path, capsys):
    data = _csv(tmp_path / "t.csv", _frame(cities=30))
    saved = str(tmp_path / "m.npz")
    assert _train(data, "--save", saved, "--embed-threshold", "20") == 0
    model = gw.load_model(saved)
    embedding = [layer for layer in model.layers
                 if isinstance(layer, gw.layers.CategoryEmbedding)]
    assert len(embedding) == 1 and embedding[0].levels == [31]  # 30 levels and the unknown one
    assert "network 2-8-2" in capsys.readouterr().out  # x and the city's code
    new = _frame(n=5, seed=1)
    new["city"][0] = "never seen"
    assert main(["predict", "--model", saved, "--data", _csv(tmp_path / "n.csv", new),
                 "--explain", "2"]) == 0
    captured = capsys.readouterr()
    assert "1 category cell(s) not seen in training" in captured.err
    rows = captured.out.splitlines()[1:]
    assert len(rows) == 5 and all("city" in row and "x" in row for row in rows)
    # one-hot below the threshold: 30 features for the city
    assert _train(data, "--embed-threshold", "30") == 0
    assert "network 31-8-2" in capsys.readouterr().out


def test_latin1_needs_encoding_and_reads_with_it(tmp_path, capsys):
    path = tmp_path / "t.csv"
    rows = "".join(f"{i % 7},{'Zürich' if i % 2 else 'Genève'},{i % 2}\n" for i in range(60))
    path.write_bytes(("x,city,label\n" + rows).encode("latin-1"))
    assert _train(str(path)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not UTF-8 text" in err and "--encoding latin-1" in err
    assert _train(str(path), "--encoding", "latin-1") == 0


@pytest.mark.parametrize("make, expected", [
    (lambda d: (d / "t.parquet").write_bytes(b"PAR1 not really"),
     "t.parquet' is not a readable Parquet file"),
    (lambda d: pq.write_table(pa.table({"x": [1.0, 2.0], "tags": [[1], [2, 3]],
                                        "label": [0, 1]}), d / "t.parquet"),
     "column 'tags' of"),
    (lambda d: (d / "t.csv").write_text('x,label\n1,0\n"2,1\n3,0\n'),
     "line 3 of"),
])
def test_bad_tables_get_one_error_line(tmp_path, capsys, make, expected):
    make(tmp_path)
    path = next(p for p in tmp_path.iterdir())
    assert _train(str(path)) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradwise: error: --data: ") and err.count("\n") == 1
    assert expected in err
    if "tags" in expected:
        assert "holds list" in err and "--drop tags" in err


def test_numbers_in_training_and_text_at_predict(tmp_path, capsys):
    saved = str(tmp_path / "m.npz")
    assert _train(_csv(tmp_path / "t.csv", _frame()), "--save", saved) == 0
    new = _frame(n=4)
    new["x"] = np.array(["1.5", "2", "abc", "3"])
    assert main(["predict", "--model", saved, "--data", _csv(tmp_path / "n.csv", new)]) == 2
    assert "column 'x' expects numbers, line 4 of" in capsys.readouterr().err


def test_a_table_over_the_memory_budget_is_streamed_with_the_same_result_from_csv_and_parquet(
        tmp_path, capsys):
    frame = _frame(n=600)
    csv_path = _csv(tmp_path / "t.csv", frame)
    pq.write_table(pa.table(frame), tmp_path / "t.parquet")
    outputs = []
    for data in (csv_path, str(tmp_path / "t.parquet")):
        saved = str(tmp_path / f"{len(outputs)}.npz")
        assert _train(data, "--memory-budget", "1K", "--save", saved, "--epochs", "30",
                      "--learning-rate", "0.01") == 0
        out = capsys.readouterr().out
        assert "streamed: 600 rows" in out and "by a seeded hash of the row position" in out
        test = next(line for line in out.splitlines() if line.startswith("test"))
        outputs.append((test, gw.load_model(saved).get_weights()))
    assert outputs[0][0] == outputs[1][0]
    for a, b in zip(outputs[0][1], outputs[1][1]):
        np.testing.assert_array_equal(a, b)
    assert float(outputs[0][0].split()[2]) > 0.7  # accuracy: the label is learnable
    assert main(["predict", "--model", str(tmp_path / "1.npz"), "--data", csv_path]) == 0
    assert "accuracy against column 'label'" in capsys.readouterr().err


def test_streaming_refuses_options_that_need_the_table_in_memory(tmp_path, capsys):
    data = _csv(tmp_path / "t.csv", _frame())
    assert _train(data, "--memory-budget", "1K", "--cv", "3") == 2
    assert "--memory-budget: a streamed run" in capsys.readouterr().err
    assert _train(data, "--memory-budget", "lots") == 2
    assert "--memory-budget: expected a size such as 2G" in capsys.readouterr().err


def test_output_larger_than_the_free_disk_space_is_refused(tmp_path, capsys, monkeypatch):
    import collections
    import shutil
    data = _csv(tmp_path / "t.csv", _frame())
    saved = str(tmp_path / "m.npz")
    assert _train(data, "--save", saved) == 0
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9, 100))
    out = tmp_path / "p.csv"
    assert main(["predict", "--model", saved, "--data", data, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--out: " in err and "MB free" in err and not out.exists()


@pytest.mark.parametrize("impute, files", [(None, ()), ("median", ()),
                                           ("median", ("dev", "test"))])
def test_the_table_read_whole_and_each_raw_split_are_let_go(tmp_path, monkeypatch, impute,
                                                             files):
    """Peak memory: ``train`` does not keep the table read whole beside its splits once they
    are drawn, and with imputation each raw split is let go as soon as its completed copy
    (fills and "is missing" features) exists, so that at most one raw and one completed split
    live together beside the table."""
    import weakref

    from gradwise.cli import data as cli_data
    from gradwise.cli.parser import _parser
    frame = _frame(n=200)
    if impute:
        frame["x"] = frame["x"].astype(object)
        frame["x"][::7] = ""  # gaps, so that completing adds an "is missing" feature
    data = _csv(tmp_path / "t.csv", frame)
    extra = []
    for name in files:
        extra += [f"--{name}-data", _csv(tmp_path / f"{name}.csv", _frame(n=60, seed=1))]
    args = _parser().parse_args(["train", "--data", data, "--target", "label", *extra,
                                 *(["--impute", impute] if impute else [])])
    table, completing, alive = [], [], []
    from gradwise.tabular import csv as tabular_csv
    load, complete = cli_data.load, tabular_csv.complete

    def spying_load(args):
        loaded = load(args)
        table.append(weakref.ref(loaded[0]))
        return loaded

    def spying_complete(X, spec):  # how many raw splits completed before this one live on
        alive.append(sum(ref() is not None for ref in completing))
        completing.append(weakref.ref(X))
        return complete(X, spec)

    monkeypatch.setattr(cli_data, "load", spying_load)
    monkeypatch.setattr("gradwise.tabular.csv.complete", spying_complete)
    prepared = cli_data.load_and_prepare(args)
    assert table and table[0]() is None  # the table read whole is gone
    assert prepared.splits[0][0].shape[0] > 0
    if impute:  # train, dev, test (and the train-dev set held out when both are files):
        # those drawn from the table are gone; the files' matrices are the caller's
        assert alive == ([0, 0, 1, 2] if files else [0, 0, 0]), alive
        assert completing[0]() is None


def _compressed(kind):
    import bz2
    import gzip
    import io
    import lzma
    import zipfile
    text = ("x,label\n" + "".join(f"{i % 7},{i % 2}\n" for i in range(60))).encode()
    if kind == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("t.csv", text)
        return buffer.getvalue()
    if kind == "parquet":
        buffer = io.BytesIO()
        pq.write_table(pa.table({"x": [1.0, 2.0], "label": [0, 1]}), buffer)
        return buffer.getvalue()
    return {"gzip": gzip.compress, "bzip2": bz2.compress, "xz": lzma.compress}[kind](text)


@pytest.mark.parametrize("kind, expected", [
    ("gzip", "is gzip-compressed, not CSV text; decompress it first (gunzip)."),
    ("bzip2", "is bzip2-compressed, not CSV text; decompress it first (bunzip2)."),
    ("xz", "is xz-compressed, not CSV text; decompress it first (unxz)."),
    ("zip", "is a zip archive (a spreadsheet such as .xlsx is one), not CSV text"),
    ("parquet", "is a Parquet file, not CSV text; give it a name ending in .parquet."),
])
@pytest.mark.parametrize("command", ["train", "streamed", "predict", "anomalies"])
def test_a_compressed_file_or_parquet_given_as_csv_is_named_for_what_it_is(
        tmp_path, capsys, kind, expected, command):
    """Read as text, such a file was "not UTF-8 text" (asking for an --encoding), or worse."""
    path = tmp_path / "t.csv.gz"
    path.write_bytes(_compressed(kind))
    if command == "predict":
        saved = str(tmp_path / "m.npz")
        assert _train(_csv(tmp_path / "fit.csv", _frame()), "--save", saved) == 0
        capsys.readouterr()
        code = main(["predict", "--model", saved, "--data", str(path),
                     "--out", str(tmp_path / "p.csv")])
    elif command == "anomalies":
        code = main(["anomalies", "--data", str(path), "--epochs", "1", "--quiet"])
    else:
        code = _train(str(path), *(["--memory-budget", "1K"] if command == "streamed" else []))
    assert code == 2
    err = capsys.readouterr().err
    assert err == f"gradwise: error: --data: {str(path)!r} {expected}\n" or \
        (err.startswith(f"gradwise: error: --data: {str(path)!r} ") and expected in err
         and err.count("\n") == 1), err


def test_text_that_starts_like_a_magic_number_is_still_csv(tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_text("PAR1,BZh9,label\n" + "".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(60)))
    assert _train(str(path)) == 0


_ROWS = "".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(40))


@pytest.mark.parametrize("text, extra, expected", [
    ("a,b,label\n" + _ROWS.replace("3,3,1\n", "3,3,inf\n", 1), [],
     "--target: column 'label' has inf at line "),
    ("a,b,label\n" + _ROWS.replace("3,3,1\n", "3,3,1e400\n", 1), [],
     "--target: column 'label' has inf at line "),
    ("a,b,label\n" + "".join(f"{i % 7},{i % 5},{i * 1e300}\n" for i in range(40)), [],
     "--target: column 'label' has values too large to standardize (up to "),
    ("label\n" + "".join(f"{i % 2}\n" for i in range(40)), [],
     "has no feature columns besides the target."),
    ("a,b,label\n" + _ROWS, ["--drop", "nope"], "--drop: columns ['nope'] are not in the header"),
    ("a,b,label\n" + _ROWS, ["--categorical", "nope"],
     "--categorical: columns ['nope'] are not in the header"),
    ("a,b,label\n" + _ROWS, ["--drop", "label"], "--drop: 'label' is the target column."),
    ("a,b,label\n" + "".join(f"{'' if i in (1, 30) else i % 7},{i % 5},{i % 2}\n"
                             for i in range(40)), [],
     "--data: column 'a' has an empty cell at line 3 of "),
    ("a,b,label\n" + "".join(f"{i % 7},{'NA' if i in (3, 33) else i % 5},{i % 2}\n"
                             for i in range(40)), [],
     "--data: column 'b' has missing values ('NA' at line 5) in "),
    ("a,c,label\n" + "".join(f"{i % 7},{'' if i == 2 else 'xy'[i % 2]},{i % 2}\n"
                             for i in range(40)), [],
     "--data: column 'c' has an empty cell at line 4 of "),
], ids=["inf", "1e400", "too-large", "no-features", "drop", "categorical", "drop-target",
        "empty-number", "marker", "empty-text"])
def test_a_bad_table_or_option_gets_the_same_error_read_whole_and_streamed(
        tmp_path, capsys, text, extra, expected):
    """Streamed, these ran on (an unknown --drop column ignored), or ended in the library's
    own words ("y: expected finite values", "received input_dim=0") after the scan; a missing
    cell was refused at the first training batch that held one, after the statistics' passes
    (and named that row, not the file's first gap)."""
    path = tmp_path / "t.csv"
    path.write_text(text)
    errors = []
    for budget in ([], ["--memory-budget", "1"]):  # streamed: any table is over 1 byte
        assert _train(str(path), *extra, *budget) == 2
        errors.append(capsys.readouterr().err)
    assert errors[0] == errors[1], errors
    assert errors[0].startswith("gradwise: error: ") and errors[0].count("\n") == 1
    assert expected in errors[0]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_utf16_and_utf32_files_are_named_by_their_byte_order_mark(tmp_path, capsys, encoding):
    """Not "not UTF-8 text, such as --encoding latin-1" (which would read NULs between the
    letters): the encoding the mark names. Read whole with it, the file trains; streamed, its
    two- or four-byte line breaks cannot be cut at, so it is refused before any work."""
    from gradwise.tabular.csv import read_csv
    path = tmp_path / "t.csv"
    rows = "".join(f"{i % 7},{'Zürich' if i % 2 else 'Genève'},{i % 2}\n" for i in range(60))
    path.write_text("x,city,label\n" + rows, encoding=encoding)
    assert _train(str(path)) == 2
    assert capsys.readouterr().err == (
        f"gradwise: error: --data: {str(path)!r} is {encoding.upper()} text (it starts with its "
        f"byte-order mark), not UTF-8; give --encoding {encoding}.\n")
    with pytest.raises(ValueError, match=f"read it with encoding='{encoding}'"):
        read_csv(str(path), "label")
    assert _train(str(path), "--encoding", encoding) == 0
    capsys.readouterr()
    assert _train(str(path), "--encoding", encoding, "--memory-budget", "1") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gradwise: error: --encoding: a CSV file in {encoding} cannot be "
                          "read in record batches") and err.count("\n") == 1


def test_a_gap_in_a_parquet_column_is_refused_before_training_naming_the_files_first(
        tmp_path, capsys):
    """Without --impute, the first missing cell of the file (here in a row the hash puts in
    the test split) is named, read whole or streamed, before the network trains."""
    from gradwise.tabular.stream import row_splits
    n = 60
    held_out = int(np.flatnonzero(row_splits(np.arange(n), 0, (0.6, 0.2, 0.2)) != 0)[0])
    a = [float(i % 7) for i in range(n)]
    a[held_out] = a[held_out + 20] = None
    pq.write_table(pa.table({"a": a, "b": [i % 5 for i in range(n)],
                             "label": [i % 2 for i in range(n)]}), tmp_path / "t.parquet")
    outputs = []
    for budget in ([], ["--memory-budget", "1"]):
        assert _train(str(tmp_path / "t.parquet"), *budget) == 2
        outputs.append(capsys.readouterr())
    assert outputs[0].err == outputs[1].err
    assert f"column 'a' has an empty cell at row {held_out + 1} of " in outputs[0].err
    assert outputs[1].out == ""  # refused before training (no "data:" line)


def test_the_streamed_data_line_counts_the_is_missing_indicators_as_the_whole_one(
        tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_text("a,b,label\n" + "".join(
        f"{'' if i % 9 == 4 else i % 7},{i % 5},{i % 2}\n" for i in range(60)))
    lines = []
    for budget in ([], ["--memory-budget", "1"]):
        assert _train(str(path), "--impute", "median", *budget) == 0
        lines.append(capsys.readouterr().out.splitlines()[0])
    assert "3 features (1 of them 'is missing' indicators), target 'label'" in lines[0]
    assert "streamed: 60 rows, 3 features (1 of them 'is missing' indicators)" in lines[1]


def test_an_unnamed_empty_column_is_left_out_with_a_warning_whole_and_streamed(
        tmp_path, capsys):
    """A comma at the end of every line (some exports write one) makes a last column with no
    name and no value: it carries nothing, so it is left out, with a warning, read whole or
    streamed, and a model trained so predicts the same file (and one without that comma).
    A named column with no value is still the user's to drop or impute."""
    rows = "".join(f"{i % 7},{i % 5},{i % 2},\n" for i in range(60))
    path = tmp_path / "t.csv"
    path.write_text("a,b,label,\n" + rows)
    warning = (f"gradwise: warning: column 4 of {str(path)!r} has no name in the header and no "
               "value in any row (a separator at the end of every line?); it is left out.\n")
    for budget in ([], ["--memory-budget", "1"]):
        assert _train(str(path), "--save", str(tmp_path / "m.npz"), *budget) == 0
        captured = capsys.readouterr()
        assert warning in captured.err
        assert "2 features" in captured.out.splitlines()[0]
        for data in (path, tmp_path / "plain.csv"):
            (tmp_path / "plain.csv").write_text("a,b,label\n" + rows.replace(",\n", "\n"))
            assert main(["predict", "--model", str(tmp_path / "m.npz"), "--data", str(data),
                         "--out", str(tmp_path / "p.csv"), *budget]) == 0
        capsys.readouterr()
    named = tmp_path / "n.csv"
    named.write_text("a,b,label,notes\n" + rows)
    assert _train(str(named)) == 2
    assert "column 'notes' has an empty cell at line 2" in capsys.readouterr().err
    only = tmp_path / "o.csv"
    only.write_text("label,\n" + "".join(f"{i % 2},\n" for i in range(60)))
    for budget in ([], ["--memory-budget", "1"]):
        assert _train(str(only), *budget) == 2
        assert "has no feature columns besides the target." in capsys.readouterr().err


def test_a_test_file_from_the_training_folder_is_refused(tmp_path, capsys):
    """``--data sales/ --test-data sales/b.parquet``: the test rows are training rows too."""
    table = pa.table(_frame())
    (tmp_path / "parts").mkdir()
    pq.write_table(table.slice(0, 120), tmp_path / "parts" / "a.parquet")
    pq.write_table(table.slice(120), tmp_path / "parts" / "b.parquet")
    inside = str(tmp_path / "parts" / "b.parquet")
    assert _train(str(tmp_path / "parts"), "--test-data", inside) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"gradwise: error: --test-data: {inside!r} is one of the files of the --data folder: "
        "the test score would be measured on rows the network trains on; give rows held out "
        "of it.\n")
    assert captured.out == ""
    pq.write_table(table.slice(120), tmp_path / "held_out.parquet")
    assert _train(str(tmp_path / "parts"), "--test-data", str(tmp_path / "held_out.parquet")) == 0


def test_a_parquet_file_is_measured_by_its_table_once_read_not_by_its_pages(tmp_path):
    """Columns of numbers with few distinct values are stored as a dictionary and codes of a
    few bits: the file's uncompressed pages are then a fraction of the table read from them.
    The memory an in-memory run needs is measured from the table's size (rows times the
    columns' widths), so a budget above the pages but below the table streams the file."""
    import types

    from gradwise.cli import stream as cli_stream
    rng = np.random.default_rng(0)
    n = 50_000
    table = pa.table({**{f"x{i}": np.round(rng.standard_normal(n), 1) for i in range(8)},
                      "city": np.array(["paris", "lyon", "nice"])[rng.integers(0, 3, n)],
                      "label": rng.integers(0, 2, n)})
    path = str(tmp_path / "t.parquet")
    pq.write_table(table, path)
    meta = pq.ParquetFile(path).metadata
    pages = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    read = pq.read_table(path).nbytes
    assert pages < read / 4  # what the estimate took before
    estimate = cli_stream.estimated_memory(path)
    assert 3 * 0.9 * read <= estimate <= 3 * 2 * read
    budget = f"{(pages * 3 + estimate) // 2}"  # above three times the pages, below the need
    args = types.SimpleNamespace(data=path, memory_budget=budget)
    assert cli_stream.should_stream(args)
    folder = tmp_path / "parts"
    folder.mkdir()
    for part in range(2):
        pq.write_table(table, str(folder / f"{part}.parquet"))
    assert cli_stream.estimated_memory(str(folder)) == 2 * estimate


def test_a_streamed_run_weighs_classes_by_the_training_rows_counts(tmp_path, capsys):
    from gradwise.cli.stream import _class_weights
    from gradwise.tabular import stream
    frame = _frame(n=800)
    frame["label"] = (frame["x"] > 1.2).astype(int)  # about 11% positives
    data = _csv(tmp_path / "t.csv", frame)
    stats = stream.scan(data, "label", seed=0)
    train = stream.row_splits(np.arange(800), seed=0) == 0
    counts = np.bincount(frame["label"][train], minlength=2)  # recounted here
    assert _class_weights(stats, "balanced") == {c: train.sum() / (2 * counts[c]) for c in (0, 1)}
    assert _class_weights(stats, "none") is None
    weights = []
    for extra in ([], ["--class-weight", "balanced"]):
        saved = str(tmp_path / f"{len(weights)}.npz")
        assert _train(data, "--memory-budget", "1K", "--save", saved, *extra) == 0
        weights.append(gw.load_model(saved).get_weights())
    assert any(not np.array_equal(a, b) for a, b in zip(*weights))  # the weighting was used
    assert _train(data, "--memory-budget", "1K", "--human-error", "0.05") == 2
    assert "--human-error: a streamed run makes no bias/variance diagnosis" in \
        capsys.readouterr().err
