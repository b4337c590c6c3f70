"""``gradwise predict`` and ``gradwise anomalies`` on tables over ``--memory-budget``: streamed
record batch by record batch, with the outputs of the in-memory run (the truth they are compared
with), byte for byte where the computation is the same."""
import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
import pyarrow.csv  # noqa: E402,F401
import pyarrow.parquet as pq  # noqa: E402

from gradwise.cli import main  # noqa: E402
from gradwise.cli import stream as cli_stream  # noqa: E402


@pytest.fixture(autouse=True)
def _small_batches(monkeypatch):
    """Several record batches even in a small file, from several CSV chunks (of other sizes)."""
    from gradwise.tabular import stream
    monkeypatch.setattr(cli_stream, "BATCH_ROWS", 64)
    monkeypatch.setattr(stream, "CSV_BLOCK", 700)


def _frame(n, seed=0, cities=("c0", "c1", "c2", "c3")):
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_normal(n), 3)
    city = np.array(cities)[rng.integers(0, len(cities), n)]
    label = ((x + (city == "c0") * 1.5 + 0.3 * rng.standard_normal(n)) > 0.5).astype(int)
    return {"x": x.astype(str), "city": city, "label": label.astype(str)}


def _csv(path, frame):
    names = list(frame)
    rows = zip(*(frame[name] for name in names))
    path.write_text(",".join(names) + "\n" + "".join(",".join(row) + "\n" for row in rows))
    return str(path)


def _new_rows(n):
    """Rows to predict: gaps, unseen cities (one a would-be formula) spread over batches."""
    frame = _frame(n, seed=1)
    x, city = frame["x"].astype(object), frame["city"].astype(object)
    x[::13] = ""
    city[5::37] = "Nantes"
    city[100::90] = "=cmd"
    frame["x"], frame["city"] = x, city
    return frame


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_streamed_predict_writes_the_in_memory_output_byte_for_byte(tmp_path, capsys):
    train = _csv(tmp_path / "t.csv", _frame(400))
    saved = str(tmp_path / "m.npz")
    assert main(["train", "--data", train, "--target", "label", "--epochs", "3", "--quiet",
                 "--hidden", "8", "--impute", "median", "--save", saved]) == 0
    capsys.readouterr()
    new = _new_rows(500)
    data = _csv(tmp_path / "n.csv", new)
    pq.write_table(pa.table({"x": pa.array([float(v) if v else None for v in new["x"]]),
                             "city": new["city"].astype(str), "label": new["label"]}),
                   tmp_path / "n.parquet")
    for source in (data, str(tmp_path / "n.parquet")):
        for extra in ([], ["--explain", "2"]):
            memory, streamed = str(tmp_path / "a.csv"), str(tmp_path / "b.csv")
            code, out_a, err_a = _run(capsys, "predict", "--model", saved, "--data", source,
                                      "--out", memory, *extra)
            assert code == 0
            code, out_b, err_b = _run(capsys, "predict", "--model", saved, "--data", source,
                                      "--out", streamed, "--memory-budget", "1K", *extra)
            assert code == 0
            written = open(streamed, "rb").read()
            assert written == open(memory, "rb").read()
            assert written.count(b"\n") == 501
            assert out_a.replace("a.csv", "b.csv") == out_b
            assert "accuracy against column 'label'" in out_b
            assert err_a == err_b  # the same warnings, aggregated over the batches
            counts = [int((new["city"] == value).sum()) for value in ("Nantes", "=cmd")]
            assert f"'city': 'Nantes' ({counts[0]}), '=cmd' ({counts[1]})" in err_b
            assert f"{int((new['x'] == '').sum())} missing number(s) filled" in err_b
            # without --out: the same rows printed as they are predicted
            code, print_a, _ = _run(capsys, "predict", "--model", saved, "--data", source, *extra)
            code, print_b, _ = _run(capsys, "predict", "--model", saved, "--data", source,
                                    "--memory-budget", "1K", *extra)
            assert print_a == print_b and print_b.count("\n") == 501
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-gradwise")]


def test_streamed_predict_with_a_detector_scores_as_in_memory(tmp_path, capsys):
    frame = _frame(300)
    frame["x"][::50] = "40"  # planted anomalies
    data = _csv(tmp_path / "t.csv", frame)
    saved = str(tmp_path / "d.npz")
    assert main(["anomalies", "--data", data, "--label", "label", "--epochs", "20",
                 "--save", saved]) == 0
    capsys.readouterr()
    outputs = []
    for extra in ([], ["--memory-budget", "1K"]):
        out = str(tmp_path / f"s{len(outputs)}.csv")
        code, printed, _ = _run(capsys, "predict", "--model", saved, "--data", data,
                                "--out", out, *extra)
        assert code == 0
        outputs.append((open(out, "rb").read(), printed))
    assert outputs[0] == outputs[1]
    assert "rows flagged" in outputs[1][1] and "against 'label'" in outputs[1][1]


def test_streamed_predict_refuses_bad_input_before_any_output(tmp_path, capsys):
    saved = str(tmp_path / "m.npz")
    assert main(["train", "--data", _csv(tmp_path / "t.csv", _frame(300)), "--target", "label",
                 "--epochs", "2", "--quiet", "--hidden", "4", "--save", saved]) == 0
    capsys.readouterr()
    new = _frame(300, seed=2)
    new["x"] = new["x"].astype(object)
    new["x"][200] = "abc"  # in the fourth batch of 64 rows
    data = _csv(tmp_path / "n.csv", new)
    out = tmp_path / "p.csv"
    for budget in ("lots", "0", "-1G"):
        code, _, err = _run(capsys, "predict", "--model", saved, "--data", data,
                            f"--memory-budget={budget}")
        assert code == 2 and err.startswith("gradwise: error: --memory-budget: expected a size")
    code, _, err = _run(capsys, "predict", "--model", saved, "--data", data, "--out", str(out),
                        "--memory-budget", "1K")
    assert code == 2 and err.count("\n") == 1
    assert "--data: column 'x' expects numbers, line 202 of" in err
    code, _, err_memory = _run(capsys, "predict", "--model", saved, "--data", data)
    assert err_memory == err  # the in-memory run's message
    assert not out.exists() and not [p for p in tmp_path.iterdir()
                                     if p.name.startswith(".tmp-gradwise")]
    del new["city"]
    code, _, err = _run(capsys, "predict", "--model", saved, "--memory-budget", "1K",
                        "--data", _csv(tmp_path / "m.csv", new))
    assert code == 2 and "--data: columns ['city'] are missing from" in err


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_streamed_outputs_need_their_size_free_on_disk_before_the_first_byte(
        tmp_path, capsys, monkeypatch, suffix):
    import shutil

    from gradwise.cli import predictions
    saved = str(tmp_path / "m.npz")
    assert main(["train", "--data", _csv(tmp_path / "t.csv", _frame(300)), "--target", "label",
                 "--epochs", "2", "--quiet", "--hidden", "4", "--save", saved]) == 0
    data = _csv(tmp_path / "n.csv", _frame(900, seed=2))
    if suffix == ".parquet":
        pq.write_table(pa.csv.read_csv(data), str(tmp_path / "n.parquet"))
        data = str(tmp_path / "n.parquet")
    asked, check = [], predictions.check_free_space
    monkeypatch.setattr(predictions, "check_free_space",
                        lambda path, size: asked.append(size) or check(path, size))
    out = tmp_path / "p.csv"
    code, _, err = _run(capsys, "predict", "--model", saved, "--data", data, "--out", str(out),
                        "--memory-budget", "1K")
    assert code == 0 and len(asked) == 1, err
    assert 0.9 < asked[0] / out.stat().st_size < 1.3  # the estimate, from the first batch
    out.unlink()
    free = shutil.disk_usage(tmp_path)._replace(free=asked[0] // 2)
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: free)
    code, _, err = _run(capsys, "predict", "--model", saved, "--data", data, "--out", str(out),
                        "--memory-budget", "1K")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"gradwise: error: --out: {str(out)!r} needs ")
    assert "MB free; write it to another disk." in err
    assert not out.exists() and not [p for p in tmp_path.iterdir()
                                     if p.name.startswith(".tmp-gradwise")]


def test_a_disk_that_fills_up_while_writing_names_the_output_and_leaves_nothing(tmp_path,
                                                                               capsys):
    import errno
    import types

    from gradwise.cli.guard import run
    from gradwise.io.files import atomic_write
    out = tmp_path / "p.csv"

    def full(file):
        file.write(b"line,error\n")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError) as error:
        atomic_write(str(out), full)
    assert error.value.errno == errno.ENOSPC and error.value.filename == str(out)
    assert not list(tmp_path.iterdir())
    args = types.SimpleNamespace(command="predict")
    assert run(lambda args: atomic_write(str(out), full), args) == 1
    err = capsys.readouterr().err
    assert err == (f"gradwise: error: {out}: the disk filled up while writing it; nothing was "
                   "written (free some space, or write it to another disk)\n")
    assert not list(tmp_path.iterdir())


def test_streamed_median_fills_are_exact_within_the_reservoir_and_close_beyond(tmp_path):
    from gradwise.tabular import stream
    rng = np.random.default_rng(3)
    n = 3000
    x = rng.exponential(2.0, n)  # skewed: its median is far from its mean
    x[rng.random(n) < 0.1] = np.nan
    y = (rng.random(n) < 0.5).astype(int)
    pq.write_table(pa.table({"x": x, "label": y}), tmp_path / "t.parquet")
    train = stream.row_splits(np.arange(n), 0) == 0
    truth = np.median(x[train & ~np.isnan(x)].astype(np.float32))  # the float32 matrix's
    stats = stream.scan(str(tmp_path / "t.parquet"), "label", impute="median", batch_rows=500)
    assert stats.spec[0]["fill"] == float(truth)
    assert stats.spec[0]["indicator"] is True
    means = stream.scan(str(tmp_path / "t.parquet"), "label", impute=True).spec[0]["fill"]
    assert means == pytest.approx(np.mean(x[train & ~np.isnan(x)]), rel=1e-6)
    # beyond the reservoir: an estimate from a uniform sample of it
    reservoir = stream.Reservoir(1, size=20_000, seed=0)
    values = rng.exponential(2.0, 200_000)
    for part in np.array_split(values, 37):
        reservoir.add(0, part)
    assert len(reservoir.kept[0]) == 20_000 and reservoir.seen[0] == 200_000
    exact = 2.0 * np.log(2.0)  # the exponential's median
    # the median of 20,000 values has a standard error of 1 / (2 f(median) sqrt(20,000)) = 0.014
    assert abs(reservoir.median(0) - exact) < 0.06
    assert abs(np.median(values) - exact) < 0.02


def _payments(path, n=1200, n_anomalies=12, gap=None):
    """Normal rows near a 3-dimensional subspace of 10 features, planted anomalies far off it."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3)) @ rng.normal(size=(3, 10)) + 0.05 * rng.normal(size=(n, 10))
    planted = rng.choice(n, n_anomalies, replace=False)
    X[planted] = 4 * rng.normal(size=(n_anomalies, 10))
    fraud = np.zeros(n, dtype=int)
    fraud[planted] = 1
    cells = [[f"{v:.5f}" for v in row] for row in X]
    if gap is not None:
        cells[gap][0] = ""
    lines = ["f" + ",f".join(map(str, range(10))) + ",fraud"]
    lines += [",".join(row) + f",{t}" for row, t in zip(cells, fraud)]
    path.write_text("\n".join(lines) + "\n")
    return str(path), planted


def _scores(path):
    import csv
    with open(path) as handle:
        rows = list(csv.reader(handle))
    return rows[0], {int(row[0]): row for row in rows[1:]}


def test_streamed_anomalies_flag_the_planted_rows_the_in_memory_run_flags(tmp_path, capsys,
                                                                          monkeypatch):
    monkeypatch.setattr(cli_stream, "BUFFER_ROWS", 256)
    data, planted = _payments(tmp_path / "pay.csv")
    runs = []
    for extra in ([], ["--memory-budget", "1K"]):
        out = str(tmp_path / f"s{len(runs)}.csv")
        assert main(["anomalies", "--data", data, "--label", "fraud", "--epochs", "40",
                     "--out", out, "--save", str(tmp_path / f"d{len(runs)}.npz"), *extra]) == 0
        runs.append((_scores(out), capsys.readouterr().out))
    (header_a, rows_a), printed_a = runs[0]
    (header_b, rows_b), printed_b = runs[1]
    assert header_a == header_b and sorted(rows_a) == sorted(rows_b) == list(range(2, 1202))
    flagged = [{line for line, row in rows.items() if row[2] == "1"} for rows in (rows_a, rows_b)]
    assert flagged[0] == flagged[1] == {int(i) + 2 for i in planted}
    assert [rows_b[line][4] for line in sorted(rows_b)] == [rows_a[line][4] for line in
                                                           sorted(rows_a)]  # the label column
    assert "(1200 rows, 10 features, streamed)" in printed_b
    assert printed_b.count("ROC AUC 1.0000") == printed_a.count("ROC AUC 1.0000") == 1
    # the streamed detector's file scores new rows through gradwise predict, as it scored them
    out = str(tmp_path / "p.csv")
    assert main(["predict", "--model", str(tmp_path / "d1.npz"), "--data", data,
                 "--out", out]) == 0
    assert _scores(out)[1] == {line: row[:4] for line, row in rows_b.items()}


@pytest.mark.parametrize("moment_rows", [4096, 7])  # one block a batch, or several
def test_streamed_standardization_is_the_detectors_on_the_completed_matrix(tmp_path,
                                                                          monkeypatch,
                                                                          moment_rows):
    from gradwise.layers.normalization import standard_moments
    from gradwise.tabular import stream
    from gradwise.tabular.csv import complete, encode_csv
    monkeypatch.setattr(stream, "MOMENT_ROWS", moment_rows)
    data, _ = _payments(tmp_path / "pay.csv", n=300, n_anomalies=3, gap=5)
    for impute in ("median", "mean"):
        stats = stream.scan(data, None, ratios=(1.0, 0.0, 0.0), impute=impute, drop=["fraud"],
                            batch_rows=64)
        X = complete(encode_csv(data, stats.spec, impute=True)[0], stats.spec)[0]
        assert X.shape[1] == 11  # the 'f0 is missing' indicator
        mean, scale = stream.completed_moments(stats)
        truth = standard_moments(X)
        np.testing.assert_allclose(mean, truth[0], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(scale, truth[1], rtol=1e-7)
    assert stats.spec[0]["fill"] == pytest.approx(np.mean(np.delete(X[:, 0], 5)), rel=1e-6)


def test_streamed_anomalies_refuse_a_report_and_a_label_of_three_classes(tmp_path, capsys):
    data, _ = _payments(tmp_path / "pay.csv", n=200, n_anomalies=2)
    assert main(["anomalies", "--data", data, "--drop", "fraud", "--memory-budget", "1K",
                 "--report", str(tmp_path / "r.html")]) == 2
    assert "--report: the page needs every row in memory" in capsys.readouterr().err
    assert main(["anomalies", "--data", data, "--label", "f0", "--memory-budget", "1K"]) == 2
    assert "--label: expected a column of two classes" in capsys.readouterr().err


def test_csv_chunks_end_at_line_breaks_outside_quotes(tmp_path):
    from gradwise.tabular import read, stream
    rows = [f'{i},"note {i}\nsecond line, ""quoted""",{i % 3}\n' if i % 7 == 0 else
            f"{i},plain {i},{i % 3}\n" for i in range(300)]
    path = tmp_path / "q.csv"
    path.write_bytes(("id,note,k\n" + "".join(rows)).encode())
    for size in (1, 50, 333, 10_000):
        chunks = list(read.csv_chunks(str(path), 1, size))
        assert b"".join(chunks) == "".join(rows).encode()
        assert all(chunk.count(b'"') % 2 == 0 and chunk.endswith(b"\n") for chunk in chunks)
    tables = [table for table, _ in stream.record_batches(str(path), 64)]
    notes = [note for table in tables for note in table.data.column("note").to_pylist()]
    assert notes == [f"note {i}\nsecond line, \"quoted\"" if i % 7 == 0 else f"plain {i}"
                     for i in range(300)]


def test_streamed_quoted_fields_over_two_lines_are_one_cell_past_arrows_own_blocks(tmp_path,
                                                                                  monkeypatch):
    """A streamed chunk (4 MB) is parsed by Arrow in blocks of 1 MB split at line breaks,
    quotes unseen: the cut inside a quoted field split its row in two, silently here (the
    second line holds a comma). The rows' length puts Arrow's first cut inside a field."""
    from gradwise.tabular import stream
    monkeypatch.setattr(stream, "CSV_BLOCK", 4 << 20)  # the default chunk, not the fixture's

    def row(i, pad):
        return f'{i:07d},"{"x" * pad}\nSpringfield, IL",{i % 2}\n'
    pad = next(pad for pad in range(1, 40)  # the 1 MB mark falls after a field's line break
               if (1 << 20) % len(row(0, pad)) > row(0, pad).index("\n"))
    n = (3 << 20) // len(row(0, pad))
    path = tmp_path / "q.csv"
    path.write_text("n,address,y\n" + "".join(row(i, pad) for i in range(n)))
    cells = [cell for table, _ in stream.record_batches(str(path), 1 << 20)
             for cell in table.data.column("address").to_pylist()]
    assert cells == ["x" * pad + "\nSpringfield, IL"] * n


def test_streamed_rows_carry_their_file_lines_past_blank_lines_and_multiline_fields(tmp_path,
                                                                                  capsys):
    train = _csv(tmp_path / "t.csv", _frame(300))
    saved = str(tmp_path / "m.npz")
    assert main(["train", "--data", train, "--target", "label", "--epochs", "2", "--quiet",
                 "--hidden", "4", "--save", saved]) == 0
    frame = _frame(400, seed=2)
    lines = ["x,city,note"]
    for i, (x, city) in enumerate(zip(frame["x"], frame["city"])):
        note = '"two\nlines"' if i % 50 == 7 else "plain"  # a field over two lines
        lines.append(f"{x},{city},{note}")
        if i % 37 == 3:
            lines.append("")  # a blank line: no row
    (tmp_path / "n.csv").write_text("\n".join(lines) + "\n")
    written = []
    for extra in ([], ["--memory-budget", "1K"]):
        out = str(tmp_path / f"p{len(written)}.csv")
        assert main(["predict", "--model", saved, "--data", str(tmp_path / "n.csv"),
                     "--out", out, *extra]) == 0
        written.append(open(out, "rb").read())
    capsys.readouterr()
    assert written[0] == written[1]
    import csv
    import io
    rows = list(csv.DictReader(io.StringIO(written[1].decode())))
    # the truth: the line where each row starts, counted in the file's own text
    starts, number = [], 2  # the line after the header
    for text in lines[1:]:
        if text:
            starts.append(number)
        number += text.count("\n") + 1
    assert [int(row["line"]) for row in rows] == starts[:len(rows)] and len(rows) == 400


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_the_streamed_score_line_is_the_in_memory_one_in_fixed_memory(task):
    from gradwise.cli.predictions import ScoreTally, score_against
    rng = np.random.default_rng(0)
    n = 30_000
    if task == "classification":  # a class never seen in training, and missing cells
        facts = {"task": task, "target": "y", "classes": ["no", "yes"], "positive": "yes"}
        truth = np.array(["no", "yes", "maybe", ""])[rng.choice(4, n, p=[.6, .3, .05, .05])]
        predicted = np.where(rng.random(n) < 0.8, truth, "no")
        predicted[np.isin(predicted, ["", "maybe"])] = "yes"
    else:
        facts = {"task": task, "target": "y"}
        actual = 50 + 10 * rng.standard_normal(n)
        truth = np.round(actual, 2).astype(str)
        truth[rng.random(n) < 0.05] = ""
        predicted = actual + rng.standard_normal(n)
    tally = ScoreTally(facts)
    for start in range(0, n, 4096):
        tally.add(predicted[start:start + 4096], truth[start:start + 4096])
    expected = score_against(facts, predicted, truth)
    assert "without a value not scored" in expected
    if task == "classification":
        assert tally.line() == expected and "precision" in expected and "maybe" in expected
        assert tally.tally.counts.size <= len(tally.codes) ** 2  # the state: counts of label pairs
    else:  # the same numbers up to rounding, printed to 6 digits
        assert tally.line() == expected
