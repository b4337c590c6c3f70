"""gradwise.tabular.arrays converts Arrow arrays to NumPy and back from their buffers: checked
against pyarrow's own conversions (which go through pandas) on chunked and sliced arrays with
nulls, and reading and encoding a CSV file, whole or streamed, never imports pandas (a Parquet
file does: pyarrow.dataset imports it)."""
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from gradwise.tabular.arrays import (floats, from_numpy, mask, rows, scalar, small_pages, strings,
                                    to_numpy, valid, views)


def _chunked(values, type, chunks=(0, 5, 13, 14, 40), offset=3):
    """``values`` as a chunked array whose chunks are slices at odd offsets of larger arrays
    (bitmaps that do not start on a byte)."""
    whole = pa.array([None] * offset + list(values), type=type)
    pieces = [whole.slice(offset + start, stop - start)
              for start, stop in zip(chunks, chunks[1:] + (len(values),)) if stop > start]
    return pa.chunked_array(pieces, type=type)


VALUES = {
    pa.int64(): [int(v) for v in np.random.default_rng(0).integers(-10**12, 10**12, 50)],
    pa.int32(): list(range(-25, 25)),
    pa.uint8(): [v % 256 for v in range(50)],
    pa.float64(): list(np.random.default_rng(1).normal(size=50)),
    pa.float32(): [float(np.float32(v)) for v in np.random.default_rng(2).normal(size=50)],
    pa.bool_(): [bool(v) for v in np.random.default_rng(3).integers(0, 2, 50)],
}


@pytest.mark.parametrize("type", list(VALUES), ids=str)
def test_to_numpy_reads_chunked_and_sliced_arrays_as_pyarrow_does(type):
    array = _chunked(VALUES[type], type)
    expected = array.to_numpy()
    got = to_numpy(array)
    assert got.dtype == expected.dtype and got.flags.writeable
    np.testing.assert_array_equal(got, expected)
    single = array.chunk(2)  # one sliced Array, not chunked
    np.testing.assert_array_equal(to_numpy(single), single.to_numpy(zero_copy_only=False))
    assert to_numpy(pa.chunked_array([], type=type)).shape == (0,)


@pytest.mark.parametrize("type", [t for t in VALUES if t != pa.bool_()], ids=str)
def test_row_ranges_of_chunk_views_are_the_rows_pyarrow_reads(type):
    array = _chunked(VALUES[type], type)
    expected = array.to_numpy()
    starts, parts = views(array)
    assert [len(part) for part in parts] == [len(chunk) for chunk in array.chunks if len(chunk)]
    for start in range(len(expected)):
        for stop in range(start + 1, len(expected) + 1):
            got = rows(starts, parts, start, stop)
            valid_rows = ~np.asarray(array.is_null())[start:stop]
            np.testing.assert_array_equal(got[valid_rows], expected[start:stop][valid_rows])


def test_small_pages_turns_numpys_huge_page_advice_off_within_and_restores_it():
    from numpy._core.multiarray import _get_madvise_hugepage, _set_madvise_hugepage
    before = _set_madvise_hugepage(True)
    try:
        with small_pages():
            assert _get_madvise_hugepage() is False
        assert _get_madvise_hugepage() is True
        with pytest.raises(KeyError), small_pages():  # restored when the block fails
            raise KeyError
        assert _get_madvise_hugepage() is True
    finally:
        _set_madvise_hugepage(before)


@pytest.mark.parametrize("type", [pa.int64(), pa.int32(), pa.float64(), pa.float32()],
                         ids=str)
def test_floats_are_nan_where_null_as_pyarrow_makes_them(type):
    values = [None if i % 7 == 3 else v for i, v in enumerate(VALUES[type])]
    array = _chunked(values, type)
    expected = pc.cast(array, pa.float64()).to_numpy()  # pyarrow: NaN for nulls
    np.testing.assert_array_equal(floats(array), expected)
    np.testing.assert_array_equal(valid(array), [v is not None for v in values])
    assert valid(_chunked(VALUES[type], type)).all()


@pytest.mark.parametrize("null", [False, True])
def test_masks_read_null_cells_as_asked(null):
    values = [None if i % 5 == 1 else v for i, v in enumerate(VALUES[pa.bool_()])]
    array = _chunked(values, pa.bool_())
    expected = pc.fill_null(array, null).to_numpy()
    got = mask(array, null=null)
    assert got.dtype == bool
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("values", [
    np.array([True, False, True, True, False, False, False, True, True]),
    np.arange(-5, 20, dtype=np.int64),
    np.linspace(-1, 1, 11),
    np.arange(40, dtype=np.int64)[::3],  # not contiguous
    np.zeros(0, dtype=bool),
], ids=["bool", "int64", "float64", "strided", "empty"])
def test_from_numpy_makes_the_array_pyarrow_makes(values):
    got = from_numpy(values)
    assert got.equals(pa.array(values))
    assert got.null_count == 0


@pytest.mark.parametrize("values", [["a", "", "NA", "Köln", "東京", "x" * 300], [], [""]])
def test_strings_make_the_array_pyarrow_makes(values):
    assert strings(values).equals(pa.array(values, type=pa.string()))


@pytest.mark.parametrize("value, type", [("", None), ("(missing)", None), (True, None),
                                         (0, None), (10, None), (2.5, None),
                                         (None, pa.string()), (None, pa.float64())])
def test_scalars_are_pyarrows_scalars(value, type):
    assert scalar(value, type).equals(pa.scalar(value, type))


def test_reading_and_encoding_a_table_never_imports_pandas(tmp_path):
    rows = ["n,gap,marker,city,when,stamp,words,y"]
    for i in range(60):
        gap = "" if i % 9 == 0 else "1e400" if i == 17 else i  # a stray cell, read as missing
        target = "" if i == 30 else ["yes", "no"][i % 2]  # a row left out
        rows.append(f"{i * 0.5},{gap},{'NA' if i % 11 == 0 else i % 4},"
                    f"{['Paris', 'Lyon', '', 'Nice'][i % 4]},2024-03-{i % 28 + 1:02d},"
                    f"2024-03-{i % 28 + 1:02d} {i % 24:02d}:30,\"x, {i % 3}\",{target}")
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n\n,,,,,,,\n")
    (tmp_path / "s.csv").write_text("a;b;y\n1,5;x;1\n2,25;y;0\n-3,0e-2;x;1\n")
    script = textwrap.dedent(f"""
        import sys
        from gradwise.tabular.csv import encode_saved, fill_values, read_csv
        X, y, names, task, spec = read_csv({str(tmp_path / "t.csv")!r}, "y", impute=True,
                                           embed_threshold=2, with_lines=True)[:5]
        encode_saved({str(tmp_path / "t.csv")!r}, fill_values(X, spec, "median"), target="y",
                     fill=True)
        read_csv({str(tmp_path / "s.csv")!r}, "y", categorical=["b"])
        from gradwise.tabular import stream  # streamed: the scan (and its whole-file kinds
        stats = stream.scan({str(tmp_path / "t.csv")!r}, "y", impute=True,  # check) and the
                            embed_threshold=2, batch_rows=7)  # batches of the later passes
        for table, _ in stats.batches():
            pass
        print(sorted({{column["kind"] for column in spec}}), "pandas" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "False", done.stdout
    assert "['category', 'date', 'number']" in done.stdout
    assert "'1e400'" in done.stderr and "left out" in done.stderr  # those paths were taken


def test_a_command_runs_with_the_huge_page_advice_off_and_restores_it_even_on_error():
    import argparse

    from numpy._core.multiarray import _get_madvise_hugepage, _set_madvise_hugepage

    from gradwise.cli import guard
    seen = []

    def command(args):
        seen.append(_get_madvise_hugepage())
        raise ValueError("bad input")

    before = _set_madvise_hugepage(True)
    try:
        assert guard.run(command, argparse.Namespace(command="train")) == guard.BAD_INPUT
        assert seen == [False] and _get_madvise_hugepage() is True
    finally:
        _set_madvise_hugepage(before)


def test_a_column_keeps_its_gap_mask_only_when_it_marks_a_cell():
    """A column's missing cells (null, NaN, beyond float32) are found once; a mask with no
    cell marked is not kept (a byte a row per column), and the all-False mask given each
    time is the caller's own."""
    from gradwise.tabular.columns import Column
    from gradwise.tabular.read import Table
    values = [0.5, None, float("nan"), 1e39, 2.0]
    table = Table(pa.table({"full": pa.array([0.5, 1.0, 2.0, 3.0, 4.0]),
                            "holed": pa.array(values, pa.float64()),
                            "text": pa.array(["a", "", "NA", "b", "c"])}), "t.csv", "csv")
    full, holed, text = (Column(table, name) for name in ("full", "holed", "text"))
    np.testing.assert_array_equal(holed.gaps(), [False, True, True, True, False])
    assert holed.gaps() is holed.gaps()  # found once, kept
    np.testing.assert_array_equal(text.gaps(), [False, True, True, False, False])
    mask = full.gaps()
    assert mask.shape == (5,) and mask.dtype == bool and not mask.any()
    assert full._gaps is False  # nothing kept
    mask[0] = True
    assert not full.gaps().any()
