"""A CSV file read with a text encoding it is not in: the error names the file and the encoding,
says where the file stops decoding (line and byte offset) or that its lines do not break in
that encoding, and suggests the encoding that reads it."""
import pytest

from gradwise.cli import main
from gradwise.tabular.errors import TableError
from gradwise.tabular.read import read_table

ROWS = 200


def _cafe(path):
    """A UTF-8 file whose first non-ASCII character ("é" of "thé") is on line 2."""
    path.write_text("a,b,y\n" + "".join(f"{i % 7},{i % 5},{'café' if i % 2 else 'thé'}\n"
                                        for i in range(ROWS)), encoding="utf-8")
    return str(path)


def _refused(path, encoding):
    with pytest.raises(TableError) as error:
        read_table(path, encoding=encoding)
    return error.value


@pytest.mark.parametrize("encoding", ["ascii", "utf-7", "utf-32"])
def test_bytes_the_encoding_cannot_decode_are_located(tmp_path, encoding):
    path = _cafe(tmp_path / "cafe.csv")
    error = _refused(path, encoding)
    text = open(path, "rb").read()
    first_bad = text.index("é".encode()) if encoding != "utf-32" else 0  # utf-32: its 4 bytes
    line = text[:first_bad].count(b"\n") + 1
    assert error.argument == "encoding" and error.remedy is None
    assert str(error).startswith(f"encoding: {path!r} is not {encoding} text ({encoding} "
                                 "cannot decode byte")
    assert f"on line {line}, at byte offset {first_bad})" in str(error)
    assert str(error).endswith("; it is UTF-8 text, the default encoding.")


def test_utf16_without_its_byte_order_mark(tmp_path):
    path = _cafe(tmp_path / "cafe.csv")
    error = _refused(path, "utf-16")
    assert error.argument == "encoding"
    assert "is not utf-16 text (it does not start with the byte-order mark" in str(error)
    assert "utf-16-le and utf-16-be" in str(error) and "it is UTF-8 text" in str(error)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "cp037", "utf-32-be"])
def test_an_encoding_in_which_the_lines_do_not_break(tmp_path, encoding):
    """Read so, the file is one line (it decodes: every pair of bytes is a character)."""
    path = _cafe(tmp_path / "cafe.csv")
    if encoding == "utf-32-be":  # four bytes a character: made to decode
        path = str(tmp_path / "four.csv")
        open(path, "w").write("a,b,y\n" + "".join(f"{i % 7},{i % 5},{i % 2}\n"
                                                  for i in range(ROWS - 1)) + "12")
    error = _refused(path, encoding)
    assert error.argument == "encoding"
    assert str(error).startswith(f"encoding: {path!r} is not {encoding} text (read as "
                                 f"{encoding}, it has no line break")
    assert str(error).endswith("; it is UTF-8 text, the default encoding.")


def test_a_latin1_file_read_as_utf8_names_line_and_offset_beyond_the_first_block(tmp_path):
    """The first byte that is not UTF-8 lies beyond the first megabyte the scan reads."""
    head = "a,city\n" + "".join(f"{i},Paris\n" for i in range(150_000))
    path = tmp_path / "t.csv"
    path.write_bytes((head + "7,Z\xfcrich\n8,Gen\xe8ve\n").encode("latin-1"))
    offset = len(head.encode()) + len("7,Z")
    assert offset > 1 << 20
    error = _refused(str(path), "utf-8")
    assert error.argument == "path" and error.remedy == "encoding"
    assert (f"is not UTF-8 text (UTF-8 cannot decode byte 0xfc on line {head.count(chr(10)) + 1}"
            f", at byte offset {offset:,})") in str(error)
    assert "encoding='latin-1'" in str(error)


def test_utf16_lines_are_counted_in_its_text(tmp_path):
    """A lone surrogate on line 4 of a UTF-16 file (two bytes a character)."""
    text = "a,b\n1,x\n2,y\n3,"
    path = tmp_path / "t.csv"
    data = text.encode("utf-16") + b"\x00\xdc" + "z\n".encode("utf-16-le")
    path.write_bytes(data)
    error = _refused(str(path), "utf-16")
    assert f"on line 4, at byte offset {len(text.encode('utf-16'))})" in str(error)
    assert "it is UTF-8 text" not in str(error)


@pytest.mark.parametrize("encoding", ["idna", "punycode", "rot13", "hex"])
def test_encodings_of_no_text_file(tmp_path, encoding):
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n" + "".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(ROWS)))
    error = _refused(str(path), encoding)
    assert error.argument == "encoding" and repr(str(path)) not in str(error) or \
        encoding == "punycode"  # decodes the header, then no line break
    assert encoding in str(error)


@pytest.mark.parametrize("command", [
    ["train", "--target", "y", "--epochs", "1", "--quiet"],
    ["train", "--target", "y", "--epochs", "1", "--quiet", "--memory-budget", "1"],
    ["anomalies", "--epochs", "1", "--quiet"],
])
@pytest.mark.parametrize("encoding", ["ascii", "utf-16", "utf-16-le", "cp037"])
def test_the_command_names_the_option_file_and_encoding(tmp_path, capsys, command, encoding):
    path = _cafe(tmp_path / "cafe.csv")
    assert main(command[:1] + ["--data", path, "--encoding", encoding] + command[1:]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gradwise: error: --encoding: {path!r} is not {encoding} text (")
    assert err.endswith("; it is UTF-8 text, the default encoding.\n") and err.count("\n") == 1


@pytest.mark.parametrize("extra", [[], ["--memory-budget", "1"]])
def test_a_late_byte_that_is_not_utf8_is_said_to_be_so(tmp_path, capsys, extra):
    """Beyond the rows the header check decodes, Arrow's reader typed the column as bytes:
    the file was said to hold a column of binary values, to be left out with --drop."""
    head = "a,city\n" + "".join(f"{i},Paris\n" for i in range(1000))
    path = tmp_path / "t.csv"
    path.write_bytes((head + "7,Z\xfcrich\n8,Gen\xe8ve\n").encode("latin-1"))
    assert main(["train", "--data", str(path), "--target", "a", "--epochs", "1", "--quiet"]
                + extra) == 2
    err = capsys.readouterr().err
    line, offset = head.count("\n") + 1, len(head) + len("7,Z")
    assert err == (f"gradwise: error: --data: {str(path)!r} is not UTF-8 text (UTF-8 cannot "
                   f"decode byte 0xfc on line {line}, at byte offset {offset:,}); give its "
                   "text encoding, such as --encoding latin-1.\n")
