"""Reading tables with Arrow (gradwise.tabular.read, .columns, .stream): CSV and Parquet give
the same encoding, bad files get errors naming the file, column and line, streaming keeps its
splits stable."""
import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq  # noqa: E402

from gradwise.tabular import columns as tab_columns  # noqa: E402
from gradwise.tabular import stream  # noqa: E402
from gradwise.tabular.errors import TableError, TableWarning  # noqa: E402
from gradwise.tabular.read import read_table  # noqa: E402


def _encode(path, **read):
    table = read_table(path, **read)
    spec, analysed = tab_columns.infer_spec(table, table.column_names)
    return spec, tab_columns.encode(table, spec, impute=True, analysed=analysed)[0]


def _frame(n=30, seed=0):
    rng = np.random.default_rng(seed)
    return {"x": np.round(rng.standard_normal(n), 3), "k": rng.integers(0, 5, n),
            "city": np.array(["paris", "lyon", "nice"])[rng.integers(0, 3, n)],
            "when": (np.datetime64("2024-01-01") + rng.integers(0, 300, n)).astype(str)}


def _write_csv(path, frame):
    names = list(frame)
    rows = zip(*(frame[name] for name in names))
    path.write_text(",".join(names) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def test_csv_and_parquet_encode_to_the_same_float32_matrix(tmp_path):
    frame = _frame()
    csv_spec, X_csv = _encode(_write_csv(tmp_path / "t.csv", frame))
    table = pa.table({**{k: v for k, v in frame.items() if k != "when"},
                      "when": pa.array(frame["when"].astype("datetime64[s]"))})
    pq.write_table(table, tmp_path / "t.parquet")
    parquet_spec, X_parquet = _encode(tmp_path / "t.parquet")
    assert [c["kind"] for c in csv_spec] == ["number", "number", "category", "date"]
    assert csv_spec == parquet_spec
    assert X_csv.dtype == np.float32 and X_csv.flags.c_contiguous
    np.testing.assert_array_equal(X_csv, X_parquet)
    # the independent truth: the frame itself, one-hot by sorted level, dates by NumPy
    levels = sorted(set(frame["city"]))
    days = frame["when"].astype("datetime64[D]")
    expected = np.column_stack([
        frame["x"], frame["k"],
        (frame["city"][:, None] == np.array(levels)[None, :]).astype(float),
        days.astype("datetime64[Y]").astype(int) + 1970,
        days.astype("datetime64[M]").astype(int) % 12 + 1,
        (days - days.astype("datetime64[M]")).astype(int) + 1,
        (days.astype(int) + 3) % 7])
    np.testing.assert_array_equal(X_csv, expected.astype(np.float32))


def test_columns_stored_as_numbers_encode_from_arrows_chunks_as_the_numbers_they_hold(
        tmp_path, monkeypatch):
    """Numbers stored by Arrow are copied into the matrix from its chunks' buffers, a tile of
    rows at a time: checked against the Python values, on a file of several row groups (chunks
    whose boundaries fall inside tiles), with nulls, NaN, infinities and a number too large
    for float32 read as missing."""
    from gradwise.tabular import columns
    from gradwise.tabular.csv import read_csv
    rng = np.random.default_rng(0)
    n = 1000
    a = rng.normal(size=n) * 1e3
    b = rng.integers(-10**6, 10**6, n)
    c = [None if i % 97 == 5 else float(v) for i, v in enumerate(rng.normal(size=n))]
    c[10], c[11], c[12] = float("nan"), float("inf"), 5e38  # the last too large: a stray cell
    table = pa.table({"a": a, "b": pa.array(b, pa.int32()), "c": c, "y": np.arange(n) % 2})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=77)
    monkeypatch.setattr(columns._Columns.__init__, "__defaults__", (100,))  # tiles of 100 rows
    X, _, names, _, spec = read_csv(str(tmp_path / "t.parquet"), "y", impute=True)
    assert len(pq.ParquetFile(tmp_path / "t.parquet").metadata.to_dict()["row_groups"]) > 10
    assert names == ["a", "b", "c"] and [column["missing"] for column in spec] == [0, 0, 1]
    assert X.dtype == np.float32 and X.flags.c_contiguous
    np.testing.assert_array_equal(X[:, 0], a.astype(np.float32))
    np.testing.assert_array_equal(X[:, 1], b.astype(np.float32))
    expected = np.array([np.nan if v is None or not abs(v) <= 3.4e38 else v for v in c],
                        dtype=np.float32)
    np.testing.assert_array_equal(X[:, 2], expected)


def test_a_row_of_blank_cells_is_no_row_but_a_row_of_missing_markers_is(tmp_path):
    from gradwise.tabular.csv import encode_csv, read_csv
    body = "".join(f"{i * 0.5},{i % 3},{i % 2}\n" for i in range(30))
    (tmp_path / "t.csv").write_text("x,z,y\n" + body)
    spec = read_csv(str(tmp_path / "t.csv"), "y", impute=True)[4]
    # lines 2 and 6 rows; 3 blank cells; 4 and 5 markers only (a row whose cells are missing)
    (tmp_path / "n.csv").write_text("x,z\n0.5,1\n , \nNA,NA\n?,\n2.5,3\n")
    with pytest.warns(TableWarning, match=r"^1 row\(s\) whose cells are all empty \(the first "
                                         r"at line 3\) were left out"):
        X, _, _, lines = encode_csv(str(tmp_path / "n.csv"), spec, impute=True, with_lines=True)
    assert list(lines) == [2, 4, 5, 6]
    assert np.isnan(X[1:3]).all() and np.isfinite(X[[0, 3]]).all()
    (tmp_path / "one.csv").write_text("x\n0.5\nNA\n\n2.5\n")  # one column: NA is a row
    X = encode_csv(str(tmp_path / "one.csv"), spec[:1], impute=True)[0]
    assert len(X) == 3 and np.isnan(X[1, 0])


@pytest.mark.parametrize("second_line", ["Springfield, IL", "no comma"])
def test_quoted_fields_over_two_lines_are_one_cell_wherever_a_block_ends(tmp_path, monkeypatch,
                                                                       second_line):
    """Arrow splits a file into blocks at line breaks, quotes unseen: a block ending inside a
    quoted field cut its row in two (silently when the second half has the header's number of
    fields). Small blocks put such a cut in almost every block."""
    from gradwise.tabular import read
    monkeypatch.setattr(read, "CSV_READ_BLOCK", 256)
    rows = [f'{i},"12 Main St\n{second_line} {i}",{i % 2}\n' if i % 3 == 0 else
            f"{i},plain {i},{i % 2}\n" for i in range(400)]
    (tmp_path / "q.csv").write_text("n,address,y\n" + "".join(rows))
    table = read.read_table(str(tmp_path / "q.csv"))
    assert table.num_rows == 400
    assert table.data.column("address").to_pylist() == [
        f"12 Main St\n{second_line} {i}" if i % 3 == 0 else f"plain {i}" for i in range(400)]
    assert list(table.lines)[:4] == [2, 4, 5, 6]


@pytest.mark.parametrize("piece", [64, 301, 10 << 20])
def test_numbers_read_whole_are_held_in_float32_rounded_as_the_matrix_rounds_them(
        tmp_path, monkeypatch, piece):
    """A CSV file of more than two pieces read whole holds its columns of numbers in float32
    as it is read, a piece of whole rows at a time (cut anywhere: quoted cells over two
    lines, quotes in quotes; a smaller file is read in float64, as there is nothing to save):
    its table and matrix are those of the file held in float64, each number rounded once
    from its float64, not from its text (1.0000000596046448 is 1 + 2**-24, a tie, so 1.0;
    its decimal would round up), and one just beyond float32's largest is missing, not
    that largest. The target and a column of integers beyond 2**24 (identifiers) stay
    float64, exact."""
    from gradwise.tabular import read
    from gradwise.tabular.csv import read_csv
    monkeypatch.setattr(read, "CSV_NARROW_PIECE", piece)
    tricky = ["1.0000000596046448", "3.4028235e38", "16777217.5", "-0.1", "1e-46", "0.1"]
    quoted = '"a\nb ""q"", c"'  # a cell over two lines, quotes and a comma in it
    rows = [f"{tricky[i % 6] if i < 12 else i / 7},{quoted if i % 5 == 0 else 'plain'},"
            f"{100_000_000 + i},{i * 0.1}\n" for i in range(300)]
    path = tmp_path / "n.csv"
    path.write_text("x,note,id,target\n" + "".join(rows))
    table = read.read_table(str(path), exact=["target"])
    types = dict(zip(table.data.schema.names, table.data.schema.types))
    narrowed = pa.float32() if piece < 10 << 20 else pa.float64()
    assert types == {"x": narrowed, "note": pa.string(), "id": pa.float64(),
                     "target": pa.float64()}
    assert table.data.column("note").to_pylist()[:2] == ['a\nb "q", c', "plain"]
    spec, X = _encode(str(path), exact=["target"])
    monkeypatch.setattr(read, "narrow_columns", lambda *args, **kwargs: [])
    wide = read.read_table(str(path), exact=["target"])
    assert wide.data.schema.field("x").type == pa.float64()
    np.testing.assert_array_equal(X, _encode(str(path), exact=["target"])[1])
    x = X[:, [c["name"] for c in spec].index("x")]
    expected = np.array([np.float64(cell) for cell in tricky], dtype=np.float32)
    expected[1] = np.nan  # beyond float32's largest: missing
    np.testing.assert_array_equal(x[:6], expected)
    direct = pa.array([tricky[0]]).cast(pa.float32()).to_pylist()[0]  # from the decimal
    assert x[0] == 1.0 and direct == np.float32(1 + 2.0 ** -23)  # a tie: to even
    monkeypatch.undo()
    with pytest.warns(TableWarning, match="'id' looks like an identifier"):
        read_csv(str(path), "target", impute=True, drop=["note"])


@pytest.mark.parametrize("later", ["text", "fractions", "empty first", "dates then text"])
def test_a_csv_file_is_typed_by_its_first_rows_and_read_again_when_a_later_row_disagrees(
        tmp_path, monkeypatch, later):
    """The whole file is read with the types of its first rows (integers as floats); a later
    cell those types cannot hold makes it read again with types inferred: the result is
    the file read with its types inferred from every row (one block of types)."""
    from gradwise.tabular import read
    from gradwise.tabular.csv import read_csv
    n = 600
    col = {"text": [str(i) for i in range(n - 1)] + ["oops"],
           "fractions": [str(i) for i in range(n - 1)] + ["0.5"],
           "empty first": [""] * 300 + [str(i) for i in range(n - 300)],
           "dates then text": [f"2023-01-{i % 28 + 1:02d}" for i in range(n - 1)] + ["soon"]}[later]
    (tmp_path / "d.csv").write_text("c,x,y\n" + "".join(
        f"{c},{i * 0.25},{i % 2}\n" for i, c in enumerate(col)))
    path = str(tmp_path / "d.csv")
    results = []
    for block in (10 << 20, 300):  # the types of all rows, of the first few
        monkeypatch.setattr(read, "CSV_TYPES_BLOCK", block)
        monkeypatch.setattr(read, "CSV_READ_BLOCK", 4096)
        X, y, names, task, spec = read_csv(path, "y", impute=True, categorical=())
        results.append((X, y, names, task, spec))
    (X0, y0, *rest0), (X1, y1, *rest1) = results
    np.testing.assert_array_equal(X0, X1)
    np.testing.assert_array_equal(y0, y1)
    assert rest0 == rest1
    assert rest0[2][0]["kind"] == ("date" if later == "dates then text" else "number")
    assert rest0[2][0]["missing"] == (later != "fractions")  # "oops", "soon": stray cells


def test_durations_and_integers_beyond_two_to_the_53_are_numbers(tmp_path):
    """A duration column is the number of its unit; an integer beyond 2**53 (which Arrow's
    safe cast to float refused with its own message) is rounded, as NumPy rounds it."""
    import datetime
    from gradwise.tabular.csv import read_csv
    n = 40
    big = np.arange(n, dtype=np.uint64) * np.uint64(10**17) + np.uint64(1)
    table = pa.table({"dur": pa.array([datetime.timedelta(seconds=i, microseconds=7)
                                       for i in range(n)]),
                      "big": pa.array(big, pa.uint64()), "y": np.arange(n) % 2})
    pq.write_table(table, tmp_path / "t.parquet")
    X, _, names, _, spec = read_csv(str(tmp_path / "t.parquet"), "y")
    assert names == ["dur", "big"] and [c["kind"] for c in spec] == ["number", "number"]
    np.testing.assert_array_equal(X[:, 0], (np.arange(n) * 10**6 + 7).astype(np.float32))
    np.testing.assert_array_equal(X[:, 1], big.astype(np.float32))


def test_a_folder_of_parquet_files_reads_as_one_table(tmp_path):
    frame = _frame(40)
    table = pa.table({k: v for k, v in frame.items() if k != "when"})
    (tmp_path / "parts").mkdir()
    pq.write_table(table.slice(0, 25), tmp_path / "parts" / "a.parquet")
    pq.write_table(table.slice(25), tmp_path / "parts" / "b.parquet")
    read = read_table(tmp_path / "parts")
    assert read.num_rows == 40 and read.data.column("k").to_pylist() == frame["k"].tolist()


def test_a_folder_with_mismatched_schemas_names_the_column_and_files(tmp_path):
    (tmp_path / "parts").mkdir()
    pq.write_table(pa.table({"a": [1, 2], "b": [1.0, 2.0]}), tmp_path / "parts" / "a.parquet")
    pq.write_table(pa.table({"a": [1, 2], "b": ["x", "y"]}), tmp_path / "parts" / "b.parquet")
    with pytest.raises(TableError, match=r"do not share one schema: column 'b' is double in "
                                         r"a\.parquet and string in b\.parquet"):
        read_table(tmp_path / "parts")


def test_a_truncated_parquet_file_is_named(tmp_path):
    pq.write_table(pa.table({"a": list(range(1000))}), tmp_path / "t.parquet")
    data = (tmp_path / "t.parquet").read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[:len(data) // 2])
    with pytest.raises(TableError, match=r"cut\.parquet' is not a readable Parquet file"):
        read_table(tmp_path / "cut.parquet")


@pytest.mark.parametrize("values, kind", [
    ([[1, 2], [3]], "list"), ([{"u": 1}, {"u": 2}], "struct"), ([b"\x00", b"\x01"], "binary")])
def test_parquet_columns_of_unsupported_types_are_refused_by_name(tmp_path, values, kind):
    pq.write_table(pa.table({"a": [1.0, 2.0], "odd": values}), tmp_path / "t.parquet")
    table = read_table(tmp_path / "t.parquet")
    with pytest.raises(TableError, match=rf"column 'odd' of .* holds {kind}"):
        tab_columns.infer_spec(table, table.column_names)


def test_a_quoted_field_that_never_closes_names_its_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('a,b\n1,x\n2,"y\n3,z\n')
    with pytest.raises(TableError, match=r"line 3 of .* opens a quoted field that never closes"):
        read_table(path)


def test_latin1_needs_its_encoding_named_and_then_reads(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("a,city\n1,Z\xfcrich\n2,Gen\xe8ve\n".encode("latin-1"))
    with pytest.raises(TableError, match="is not UTF-8 text") as error:
        read_table(path)
    assert error.value.remedy == "encoding"
    table = read_table(path, encoding="latin-1")
    assert table.data.column("city").to_pylist() == ["Zürich", "Genève"]


def test_numbers_in_training_and_text_at_predict_name_column_and_line(tmp_path):
    spec, _ = _encode(_write_csv(tmp_path / "train.csv", {"x": [1, 2, 3], "y": [1, 2, 3]}))
    (tmp_path / "new.csv").write_text("x,y\n1,2\n\n3,abc\n")
    table = read_table(tmp_path / "new.csv")
    with pytest.raises(TableError, match=r"column 'y' expects numbers, line 4 of .* has 'abc'"):
        tab_columns.encode(table, spec, impute=False)


def test_unseen_levels_are_zero_one_hot_and_code_zero_embedded(tmp_path):
    train = read_table(_write_csv(tmp_path / "a.csv", {"c": ["u", "v", "w"], "x": [1, 2, 3]}))
    spec, _ = tab_columns.infer_spec(train, ["c"], embed_threshold=2)
    assert spec[0]["embed"] and tab_columns.width(spec[0]) == 1
    new = read_table(_write_csv(tmp_path / "b.csv", {"c": ["w", "new", "u"], "x": [1, 2, 3]}))
    X, unknown = tab_columns.encode(new, spec, impute=False)
    assert unknown == 1 and X[:, 0].tolist() == [3.0, 0.0, 1.0]
    one_hot = [dict(spec[0], embed=False)]
    X, unknown = tab_columns.encode(new, one_hot, impute=False)
    assert unknown == 1 and X.tolist() == [[0, 0, 1], [0, 0, 0], [1, 0, 0]]


def test_row_splits_are_seeded_stable_and_near_their_ratios():
    positions = np.arange(200_000)
    splits = stream.row_splits(positions, seed=3)
    np.testing.assert_array_equal(splits[1000:2000], stream.row_splits(positions[1000:2000], 3))
    shares = np.bincount(splits, minlength=3) / len(positions)
    np.testing.assert_allclose(shares, [0.6, 0.2, 0.2], atol=0.005)
    assert (stream.row_splits(positions, seed=4) != splits).mean() > 0.4


def test_streamed_batches_cover_each_split_once_with_the_scanned_statistics(tmp_path):
    rng = np.random.default_rng(0)
    n = 5000
    x = rng.standard_normal(n)
    table = pa.table({"x": x, "c": np.array(["a", "b", "c"])[rng.integers(0, 3, n)],
                      "label": (x > 0).astype(np.int64)})
    (tmp_path / "parts").mkdir()
    pq.write_table(table.slice(0, 3000), tmp_path / "parts" / "a.parquet")
    pq.write_table(table.slice(3000), tmp_path / "parts" / "b.parquet")
    stats = stream.scan(tmp_path / "parts", "label", seed=1, batch_rows=700)
    split = stream.row_splits(np.arange(n), 1)
    assert stats.counts == {"train": int((split == 0).sum()), "dev": int((split == 1).sum()),
                            "test": int((split == 2).sum())}
    assert stats.task == "classification" and stats.classes == [0.0, 1.0]
    seen = x[split == 0].astype(np.float32).astype(np.float64)  # as the network sees them
    np.testing.assert_allclose(stats.mean[0], seen.mean(), rtol=1e-9)
    np.testing.assert_allclose(stats.scale[0], seen.std(), rtol=1e-6)
    batches = list(stream.TableBatches(stats, "dev", batch_size=64, buffer_rows=500, seed=0))
    X = np.concatenate([Xb for Xb, _ in batches])
    y = np.concatenate([yb for _, yb in batches])
    assert X.dtype == np.float32 and len(X) == stats.counts["dev"]
    np.testing.assert_array_equal(np.sort(X[:, 0]), np.sort(x[split == 1].astype(np.float32)))
    np.testing.assert_array_equal(y, (X[:, 0] > 0).astype(int))


def test_streamed_rows_without_a_target_are_left_out_of_counts_and_moments_with_a_warning(
        tmp_path):
    from gradwise.tabular.errors import TableWarning
    rng = np.random.default_rng(0)
    n = 3000
    x = rng.standard_normal(n)
    y = np.round(3.0 * x + 10.0, 3).astype(str).astype(object)
    y[[40, 41, 1500, 2999]] = ""
    path = tmp_path / "t.csv"
    path.write_text("x,y\n" + "".join(f"{a},{b}\n" for a, b in zip(x, y)))
    with pytest.warns(TableWarning, match=r"4 row\(s\) without a value in 'y' \(the first at "
                                          r"line 42\) were left out"):
        stats = stream.scan(path, "y", seed=1, batch_rows=700)
    present = y != ""
    split = stream.row_splits(np.arange(n), 1)
    assert stats.counts == {name: int(((split == k) & present).sum())
                            for k, name in enumerate(("train", "dev", "test"))}
    train = y[(split == 0) & present].astype(float)  # the regression target's own moments
    assert stats.task == "regression"
    np.testing.assert_allclose(stats.y_mean, train.mean(), rtol=1e-12)
    np.testing.assert_allclose(stats.y_std, train.std(), rtol=1e-9)
    assert len(list(stream.TableBatches(stats, "train", batch_size=10_000))[0][0]) == \
        stats.counts["train"]
    path.write_text("x,y\n1,\n2,\n")
    with pytest.raises(TableError, match="column 'y' has no values"):
        stream.scan(path, "y")


def test_the_parquet_reader_holds_a_few_row_groups_whatever_the_rows_read(tmp_path):
    rng = np.random.default_rng(0)
    n, group = 200_000, 5_000  # 40 row groups of random (incompressible) numbers
    pq.write_table(pa.table({f"x{j}": rng.standard_normal(n) for j in range(4)}),
                   tmp_path / "t.parquet", row_group_size=group)
    base, peak, rows = pa.total_allocated_bytes(), 0, 0
    for table, start in stream.record_batches(tmp_path / "t.parquet", batch_rows=4096):
        assert start == rows
        rows += table.num_rows
        peak = max(peak, pa.total_allocated_bytes() - base)
    assert rows == n
    # Arrow's pre-buffering would keep every column chunk read: the whole file by the end
    assert peak < 10 * group * 4 * 8


def _shuffled_reference(x, split, kept, batch_size, buffer_rows, seed):
    """The rows of ``split`` in file order, cut into buffers of at least ``buffer_rows`` rows
    (a whole number of batches; the rest carried to the next), each in a seeded permutation."""
    rng, order, held = np.random.default_rng(seed), [], np.empty(0)
    rows = x[split]
    for start in range(0, len(x), kept):  # the record batches
        held = np.r_[held, rows[(np.flatnonzero(split) >= start)
                                & (np.flatnonzero(split) < start + kept)]]
        if len(held) >= buffer_rows:
            full = len(held) - len(held) % batch_size
            order.append(held[:full][rng.permutation(full)])
            held = held[full:]
    if len(held):
        order.append(held[rng.permutation(len(held))])
    return np.concatenate(order)


def test_the_shuffle_buffer_is_one_array_reused_in_the_seeded_order(tmp_path):
    import tracemalloc
    rng = np.random.default_rng(0)
    n, width, batch_rows, buffer_rows = 15_000, 40, 300, 2000
    columns = {f"x{j}": rng.standard_normal(n) for j in range(width)}
    columns["x0"] = np.arange(n, dtype=np.float64)  # names its row
    pq.write_table(pa.table({**columns, "label": rng.integers(0, 2, n)}), tmp_path / "t.parquet")
    stats = stream.scan(tmp_path / "t.parquet", "label", batch_rows=batch_rows)
    batches = stream.TableBatches(stats, "train", 64, buffer_rows, seed=5)
    X = np.concatenate([Xb[:, 0].copy() for Xb, _ in batches])  # not views of Xb
    split = stream.row_splits(np.arange(n)) == 0
    np.testing.assert_array_equal(X, _shuffled_reference(np.arange(n), split, batch_rows, 64,
                                                         buffer_rows, 5))
    tracemalloc.start()  # a second pass (the first made the imports)
    try:
        for _ in batches:
            pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # one buffer of buffer_rows + a record batch (a concatenation per buffer needs three)
    assert peak < 2 * (buffer_rows + batch_rows) * width * 4, peak


def test_fit_batches_learns_from_a_parquet_folder_streamed_by_gw_data(tmp_path):
    import gradwise as gw
    rng = np.random.default_rng(0)
    n = 4000
    x = rng.standard_normal((n, 2))
    city = rng.integers(0, 40, n)
    label = (x[:, 0] + 2.0 * (city % 2) - 1.0 > 0).astype(np.int64)
    table = pa.table({"x0": x[:, 0], "x1": x[:, 1],
                      "city": np.array([f"c{k}" for k in city]), "label": label})
    (tmp_path / "parts").mkdir()
    for k, start in enumerate(range(0, n, 1000)):
        pq.write_table(table.slice(start, 1000), tmp_path / "parts" / f"{k}.parquet")
    train = gw.data.batches_from_table(tmp_path / "parts", "label", batch_size=32,
                                       buffer_rows=1000, embed_threshold=20)
    stats = train.stats
    assert stats.spec[2]["embed"] and len(stats.mean) == 3
    test = gw.data.batches_from_table(tmp_path / "parts", "label", "test", batch_size=512,
                                      shuffle=False, stats=stats)
    model = gw.Sequential([gw.layers.Normalization(mean=stats.mean, scale=stats.scale),
                           gw.layers.CategoryEmbedding([2], [41], 4),
                           gw.layers.Dense(16, activation="relu"),
                           gw.layers.Dense(2, activation="softmax")], input_dim=3, seed=0)
    model.compile(optimizer=gw.optimizers.Adam(1e-2), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    gw.data.fit_batches(model, train, epochs=8)
    X = np.concatenate([Xb for Xb, _ in test])
    y = np.concatenate([yb for _, yb in test])
    assert model.evaluate(X, y)["accuracy"] > 0.9


def _stray_csv(path, cell, row=7, kind="number", n=60):
    body = [(f"{i * 0.5:.1f}" if kind == "number" else f"2023-01-{i % 28 + 1:02d}") for i in range(n)]
    body[row] = cell
    path.write_text("b,y\n" + "".join(f"{b},{i % 2}\n" for i, b in enumerate(body)))
    return str(path)


@pytest.mark.parametrize("cell,kind,what", [
    ("inf", "number", "finite numbers"), ("1e400", "number", "finite numbers"),
    ("1e39", "number", "finite numbers"),  # finite, but infinite as float32
    ("oops", "number", "finite numbers"), ("2023-02-30", "date", "ISO dates"),
    ("03/15/2023", "date", "ISO dates")])
def test_a_column_of_numbers_or_dates_but_for_one_cell_is_refused_naming_it(tmp_path, cell,
                                                                           kind, what):
    from gradwise.tabular.csv import read_csv
    path = _stray_csv(tmp_path / "d.csv", cell, kind=kind)
    with pytest.raises(TableError, match=rf"column 'b' of .* holds {what}.* but for 1 cell\(s\): "
                                         rf"line 9 '{cell}'; .*impute=True.*categorical=\['b'\]"):
        read_csv(path, "y")
    X, _, names, _, spec = read_csv(path, "y", impute=True)  # read as missing instead
    assert spec[0]["kind"] == kind and spec[0]["missing"]
    assert np.isnan(X[7]).all() and np.isfinite(np.delete(X, 7, axis=0)).all()
    assert read_csv(path, "y", categorical=["b"])[4][0]["kind"] == "category"  # or as text


def test_a_number_too_large_for_float32_is_a_stray_cell_in_parquet_but_fine_as_a_target(
        tmp_path):
    from gradwise.tabular.csv import read_csv
    b = np.arange(60) * 0.5
    b[7] = -4e38  # finite in float64, infinite in the float32 matrix
    price = 1e300 * (np.arange(60) % 5 + 1)  # a float64 target is read as it is
    pq.write_table(pa.table({"b": b, "y": price}), tmp_path / "d.parquet")
    with pytest.raises(TableError, match=r"holds finite numbers \(at most 3.4e\+38 in size\) "
                                         r"but for 1 cell\(s\): row 8 '-4e\+38'"):
        read_csv(str(tmp_path / "d.parquet"), "y")
    X, y = read_csv(str(tmp_path / "d.parquet"), "y", impute=True)[:2]
    assert np.isnan(X[7, 0]) and np.isfinite(np.delete(X, 7, axis=0)).all()
    assert np.array_equal(y, price)  # a target is read in float64, however large


@pytest.mark.parametrize("cell,kind,what", [
    ("inf", "number", "finite numbers"), ("1e400", "number", "finite numbers"),
    ("1e39", "number", "finite numbers"),  # finite, but infinite as float32
    ("oops", "number", "finite numbers"), ("2023-02-30", "date", "ISO dates"),
    ("03/15/2023", "date", "ISO dates")])
@pytest.mark.parametrize("row", [7, 390])  # in the first record batch, in a later CSV block
def test_a_streamed_column_with_a_stray_cell_is_refused_or_read_as_missing_as_a_whole_table(
        tmp_path, monkeypatch, cell, kind, what, row):
    import warnings

    from gradwise.tabular.csv import read_csv
    monkeypatch.setattr(stream, "CSV_BLOCK", 700)  # many CSV blocks, their types from the first
    path = _stray_csv(tmp_path / "d.csv", cell, row=row, kind=kind, n=400)
    with pytest.raises(TableError) as whole:
        read_csv(path, "y")
    with pytest.raises(TableError) as streamed:
        stream.scan(path, "y", batch_rows=64)
    assert str(streamed.value) == str(whole.value)
    assert f"holds {what}" in str(whole.value) and f"line {row + 2} '{cell}'" in str(whole.value)
    notes = []
    for read in (lambda: read_csv(path, "y", impute=True),
                 lambda: stream.scan(path, "y", impute=True, batch_rows=64)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            done = read()
        notes.append([str(w.message) for w in caught])
    assert notes[0] == notes[1] and len(notes[0]) == 1
    X = read_csv(path, "y", impute=True)[0]  # the stray cell is NaN
    train = stream.row_splits(np.arange(400), 0) == 0
    Xs = np.concatenate([Xb for Xb, _ in stream.TableBatches(done, "train", batch_size=1000,
                                                             shuffle=False)])
    truth, width = X[train], X.shape[1]
    present = ~np.isnan(truth)
    np.testing.assert_array_equal(Xs[:, :width][present], truth[present])
    np.testing.assert_array_equal(Xs[:, width], ~present.all(axis=1))  # "is missing",
    assert Xs.shape[1] == width + 1  # wherever the missing cell is, as for a whole table
    assert np.isfinite(Xs).all()


def test_streamed_csv_columns_follow_what_later_blocks_hold_as_a_whole_table(tmp_path,
                                                                              monkeypatch):
    from gradwise.tabular.csv import read_csv
    monkeypatch.setattr(stream, "CSV_BLOCK", 700)
    n = 600
    empty_first = [""] * 300 + [f"{0.5 * i:.1f}" for i in range(300)]  # Arrow: null, then double
    integers_first = [str(i % 7) for i in range(500)] + ["3.5"] * 100
    days_then_times = ([f"2023-01-{i % 28 + 1:02d}" for i in range(500)]
                       + [f"2023-02-03 {i % 24:02d}:30:00" for i in range(100)])
    path = tmp_path / "t.csv"
    path.write_text("a,i,d,y\n" + "".join(f"{a},{i},{d},{k % 2}\n" for k, (a, i, d) in enumerate(
        zip(empty_first, integers_first, days_then_times))))
    X, _, names, _, spec = read_csv(path, "y", impute=True)
    stats = stream.scan(path, "y", impute=True, batch_rows=64)
    assert [(c["name"], c["kind"], c.get("parts")) for c in stats.spec] == \
        [(c["name"], c["kind"], c.get("parts")) for c in spec]
    assert [c["indicator"] for c in stats.spec] == [True, False, False]
    Xs = np.concatenate([Xb for Xb, _ in stream.TableBatches(stats, "train", batch_size=1000,
                                                             shuffle=False)])
    train = stream.row_splits(np.arange(n), 0) == 0
    present = ~np.isnan(X[train])
    np.testing.assert_array_equal(Xs[:, :X.shape[1]][present], X[train][present])


def test_a_text_column_with_a_few_numbers_stays_text(tmp_path):
    from gradwise.tabular.csv import read_csv
    cells = ["red", "green", "blue"] * 20
    cells[3] = "12"
    (tmp_path / "d.csv").write_text("b,y\n" + "".join(f"{c},{i % 2}\n" for i, c in enumerate(cells)))
    assert read_csv(str(tmp_path / "d.csv"), "y")[4][0]["kind"] == "category"


def test_a_field_longer_than_pythons_csv_limit_is_read(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,x\n2," + "y" * 140_000 + "\n")
    assert len(read_table(str(path)).data.column("b")[1].as_py()) == 140_000


def test_unseen_levels_are_named_by_column_and_value_most_frequent_first(tmp_path):
    train = read_table(_write_csv(tmp_path / "a.csv", {"c": ["u", "v"], "d": ["p", "q"]}))
    spec, _ = tab_columns.infer_spec(train, ["c", "d"])
    new = read_table(_write_csv(tmp_path / "b.csv", {"c": ["z", "u", "y", "z", "x", "w", "z"],
                                                    "d": ["p", "q", "r", "p", "q", "p", "p"]}))
    _, unknown = tab_columns.encode(new, spec, impute=False)
    assert unknown == 7 and unknown.columns == {"c": (6, [("z", 3), ("w", 1), ("x", 1), ("y", 1)]),
                                                "d": (1, [("r", 1)])}
    assert unknown.described() == "'c': 'z' (3), 'w' (1), 'x' (1) and 1 more; 'd': 'r' (1)"
    assert not tab_columns.encode(train, spec, impute=False)[1]  # all seen: nothing to say


def test_table_warnings_name_the_librarys_arguments_and_the_command_its_options(tmp_path,
                                                                               capsys):
    import warnings

    from gradwise.cli import main
    from gradwise.tabular.csv import read_csv
    from gradwise.tabular.errors import TableWarning
    path = tmp_path / "d.csv"  # an identifier with one gap, and a row without a target
    path.write_text("id,a,y\n" + "".join(f"{'' if i == 5 else i},{i % 7},{i % 2}\n"
                                         for i in range(1, 61)) + "5,3,1\n62,3,\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_csv(str(path), "y", impute=True)
    texts = [str(w.message) for w in caught if issubclass(w.category, TableWarning)]
    assert texts == ["1 row(s) without a value in 'y' (the first at line 63) were left out.",
                     "integer column 'id' looks like an identifier (distinct integers 1..60); "
                     "leave it out (drop=['id']) unless it carries meaning."]
    assert main(["train", "--data", str(path), "--target", "y", "--impute", "mean", "--epochs",
                 "1", "--hidden", "4", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "gradwise: warning: integer column 'id' looks like an identifier (distinct integers " \
           "1..60); leave it out with --drop id unless it carries meaning.\n" in err
    assert "drop=[" not in err and "TableWarning" not in err


def test_cells_that_strip_to_one_text_are_one_level_and_encode_as_the_stripped_file(tmp_path):
    # text is checked once per distinct cell: " paris", "paris " and "paris" are distinct
    # cells of one level, as in the file written without the spaces (the independent truth)
    rng = np.random.default_rng(4)
    n = 80
    written = np.array(["paris", " paris", "paris ", "lyon", "  lyon", "", " ", "NA"])[
        rng.integers(0, 8, n)]
    count = np.array(["3", " 3", "3 ", "4", "NA", " na ", "", "5"])[rng.integers(0, 8, n)]
    frame = {"city": written, "count": count, "x": np.arange(n) * 0.5}
    stripped = {name: np.char.strip(values.astype(str)) for name, values in frame.items()}
    spec, X = _encode(_write_csv(tmp_path / "padded.csv", frame))
    clean_spec, X_clean = _encode(_write_csv(tmp_path / "clean.csv", stripped))
    assert spec == clean_spec
    assert spec[0]["levels"] == ["(missing)", "NA", "lyon", "paris"]
    assert spec[1]["kind"] == "number" and spec[1]["missing"]
    np.testing.assert_array_equal(X, X_clean)
    expected_city = (stripped["city"][:, None] == np.array(["", "NA", "lyon", "paris"])[None])
    np.testing.assert_array_equal(X[:, :4], expected_city.astype(np.float32))
    counts = [np.nan if cell in ("", "NA", "na") else float(cell) for cell in stripped["count"]]
    np.testing.assert_array_equal(X[:, 4], np.float32(counts))


def test_null_cells_of_a_time_zoned_timestamp_column_are_no_written_time(tmp_path):
    # local midnights in Paris: no hour feature, though a null read as the epoch is 01:00 there
    moments = pa.array([1709247600 + 86400 * i for i in range(20)] + [None],
                       type=pa.timestamp("s", tz="Europe/Paris"))
    pq.write_table(pa.table({"at": moments, "y": pa.array(list(range(21)))}),
                   tmp_path / "t.parquet")
    spec, X = _encode(tmp_path / "t.parquet")
    assert spec[0]["kind"] == "date" and spec[0]["parts"] == ["year", "month", "day", "weekday"]
    np.testing.assert_array_equal(X[:3, :3], [[2024, 3, 1], [2024, 3, 2], [2024, 3, 3]])
    assert np.isnan(X[20, :4]).all()


@pytest.mark.parametrize("content", [b"", b'"', b'a,"b"\n1,"x"', b'"' * 70 + b"x",
                                     b"x" * 63 + b'"\n"' + b'"' * 64])
def test_quotes_are_counted_across_blocks(tmp_path, content):
    from gradwise.tabular.read import _quote_count
    path = tmp_path / "q.csv"
    path.write_bytes(content)
    for block in (1, 7, 64, 1 << 20):
        assert _quote_count(str(path), block=block) == content.count(b'"')


@pytest.mark.parametrize("y, n, task", [
    ([0.0, -0.0, 1.0] * 5, 15, "classification"),  # -0 and 0 are one class
    (list(range(20)) * 5, 100, "classification"), (list(range(21)) * 5, 105, "regression"),
    (list(range(4)) * 4, 16, "regression"),  # more than n // 5 levels
    ([0.5, 1.0] * 10, 20, "regression"), ([], 0, "classification")])
def test_a_numeric_target_is_classes_when_it_holds_a_few_integers(y, n, task):
    from gradwise.tabular.csv import _task
    assert _task(np.array(y, dtype=float), n) == task
