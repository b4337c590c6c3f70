"""A catalogue of bad inputs: each row is a command line (with the files it reads), the exit
status it must end with, and a fragment of its one ``gradwise: error:`` line. Nothing may end in
a traceback, exit 0, or overwrite an input. The command runs in this process (``main(argv)``),
which the command line's entry point calls too.

Table-reader rows are written against the command's observable behaviour (status, message), so
that they hold whatever library reads the table.
"""
import io
import json
import os
import zipfile

import numpy as np
import pytest

import gradwise as gw
from gradwise.cli import main
from gradwise.cli.parser import MOST  # the largest value of each count option

GOOD = "a,b,color,y\n" + "".join(
    f"{i % 7 - 3},{(i * 5) % 11 / 3:.3f},{['red', 'blue', 'green'][i % 3]},{'yes' if i % 2 else 'no'}\n"
    for i in range(60))
REGRESSION = "a,b,price\n" + "".join(f"{i % 7},{i % 5},{i * 1.5 + 2}\n" for i in range(60))


def _rows(text, line, replacement):
    lines = text.splitlines(keepends=True)
    lines[line] = replacement
    return "".join(lines)


def _npz_without_metadata(path):
    gw.Sequential([gw.layers.Dense(2)], input_dim=3).build().save(path)


def _model_with_description(path, mutate):
    gw.Sequential([gw.layers.Dense(2)], input_dim=3, seed=0).build().save(path)
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    text = np.lib.format.read_array(io.BytesIO(members["description.json.npy"])).tobytes()
    description = json.loads(text)
    text = mutate(description)
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.frombuffer(text, np.uint8))
    members["description.json.npy"] = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _parquet(path, extra=None, rows=60, **changed):
    import pyarrow as pa
    import pyarrow.parquet as pq
    columns = {"a": [float(i % 7 - 3) for i in range(rows)], "b": [i % 11 / 3 for i in range(rows)],
               "color": [["red", "blue", "green"][i % 3] for i in range(rows)],
               "y": ["yes" if i % 2 else "no" for i in range(rows)], **(extra or {}), **changed}
    pq.write_table(pa.table(columns), path)


def _truncated_parquet(path):
    _parquet(path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def _mixed_folder(path):
    path.mkdir()
    _parquet(path / "part-1.parquet")
    _parquet(path / "part-2.parquet", a=[str(i) for i in range(60)])


def _good_folder(path):
    path.mkdir()
    _parquet(path / "p1.parquet")
    _parquet(path / "p2.parquet")


def _folder_without_parquet(path):
    path.mkdir()
    (path / "notes.txt").write_text("no tables here")


#: Files a case may read, made on demand in the case's folder.
FILES = {
    "good.csv": GOOD,
    "reg.csv": REGRESSION,
    "empty.csv": "",
    "header.csv": "a,b,y\n",
    "onecol.csv": "y\nyes\nno\nyes\n",
    "oneclass.csv": "a,y\n" + "".join(f"{i},same\n" for i in range(30)),
    "rareclass.csv": "a,y\n" + "".join(f"{i},{int(i < 2)}\n" for i in range(30)),
    "rareone.csv": "a,y\n" + "".join(f"{i},{int(i < 1)}\n" for i in range(30)),
    "rare_test.csv": "a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(10)),
    "datetarget.csv": "a,y\n" + "".join(f"{i},2023-01-{i % 28 + 1:02d}\n" for i in range(40)),
    "dupe.csv": "a,a,y\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(30)),
    "ragged.csv": _rows(GOOD, 5, "1,2\n"),
    "long.csv": _rows(GOOD, 5, "1,2,red,yes,extra\n"),
    "nan.csv": _rows(GOOD, 5, "NaN,1,red,yes\n"),
    "blank.csv": _rows(GOOD, 5, ",1,red,yes\n"),
    "inf.csv": _rows(GOOD, 5, "inf,1,red,yes\n"),
    "ninf.csv": _rows(GOOD, 5, "-inf,1,red,yes\n"),
    "huge_target.csv": "a,b,price\n" + "".join(f"{i},{i % 3},{1e300 * (i % 5 + 1)}\n"
                                               for i in range(60)),
    "no_break.csv": "a" * (1 << 20) + "b,y\n1,2\n",
    "binary.bin": bytes(range(256)) * 40,
    "latin1.csv": ("a,name,y\n" + "".join(f"{i},caf\xe9,{i % 2}\n" for i in range(30))
                   ).encode("latin-1"),
    "notarget.csv": "a,b\n1,2\n3,4\n",
    "baddate.csv": "a,when,y\n" + "".join(f"{i},2023-01-{i % 28 + 1:02d},{i % 2}\n"
                                           for i in range(40)).replace("2023-01-05", "2023-02-30", 1),
    "usdate.csv": "a,when,y\n" + "".join(f"{i},2023-01-{i % 28 + 1:02d},{i % 2}\n"
                                          for i in range(40)).replace("2023-01-07", "01/07/2023", 1),
    "complex.csv": "a,b,color\n" + "".join(f"{i}+1j,{i},red\n" for i in range(10)),
    "text_model.npz": "not a model\n",
    "empty_model.npz": b"",
    "random_model.npz": bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)),
    "pk_model.npz": b"PK\x03\x04" + b"\0" * 100,
    "npy_model.npz": b"\x93NUMPY\x01\x00" + b"\0" * 100,
    # a class named by a cell of 500,000 characters: rare in training, unseen in a test file
    "longlabel.csv": GOOD + "1,2,red," + "z" * 500_000 + "\n",
    "longlabel_test.csv": "a,b,color,y\n" + "".join(f"{i},1,red,yes\n" for i in range(5))
                          + "1,2,red," + "z" * 500_000 + "\n",
}
BUILT = {
    "good.parquet": _parquet,
    "trunc.parquet": _truncated_parquet,
    "list.parquet": lambda p: _parquet(p, {"tags": [[i, i + 1] for i in range(60)]}),
    "struct.parquet": lambda p: _parquet(p, {"pos": [{"x": i} for i in range(60)]}),
    "binary.parquet": lambda p: _parquet(p, {"blob": [bytes([i]) for i in range(60)]}),
    "norows.parquet": lambda p: _parquet(p, rows=0),
    "text_a.parquet": lambda p: _parquet(p, a=[f"w{i}" for i in range(60)]),
    "mixed_parts": _mixed_folder,
    "parts": _good_folder,
    "no_parts": _folder_without_parquet,
    "library.npz": _npz_without_metadata,
    "list_desc.npz": lambda p: _model_with_description(p, lambda d: b"[1, 2]"),
    "deep_desc.npz": lambda p: _model_with_description(p, lambda d: b"[" * 50000 + b"]" * 50000),
    "nokeys_desc.npz": lambda p: _model_with_description(p, lambda d: b"{}"),
    "huge_desc.npz": lambda p: _model_with_description(
        p, lambda d: json.dumps({**d, "model": {**d["model"], "input_dim": 20000, "layers": [
            {**d["model"]["layers"][0], "config": {**d["model"]["layers"][0]["config"],
                                                    "units": 20000}}]}}).encode()),
}

T = ["train", "--data", "good.csv", "--target", "y"]
P = ["predict", "--model", "library.npz", "--data", "good.csv"]
A = ["anomalies", "--data", "good.csv"]
TU = ["tune", "--data", "good.csv", "--target", "y"]

#: (command line, exit status, fragment of the error line)
CASES = [
    # the command line itself
    ([], 2, "the following arguments are required: command"),
    (["fly"], 2, "invalid choice: 'fly'"),
    (["train", "--nope"], 2, "unrecognized arguments: --nope"),
    (["predict"], 2, "the following arguments are required: --model, --data"),
    (["predict", "--model", "m.npz"], 2, "required: --data"),
    (["info"], 2, "required: --model"),
    (["export", "--model", "m.npz"], 2, "required: --onnx"),
    (["anomalies"], 2, "required: --data"),
    (["train", "--task", "guess"], 2, "argument --task: invalid choice: 'guess'"),
    (["train", "--impute", "zero"], 2, "argument --impute: invalid choice"),
    (["train", "--class-weight", "heavy"], 2, "argument --class-weight: invalid choice"),
    (["tune", "--sampler", "grid"], 2, "argument --sampler: invalid choice"),
    (["train", "--learning-rate", "fast"], 2, "argument --learning-rate: invalid float"),
    (["train", "--l2", "x"], 2, "argument --l2: invalid float"),
    (["train", "--dropout", "x"], 2, "argument --dropout: invalid float"),
    (["train", "--human-error", "x"], 2, "argument --human-error: invalid float"),
    (["predict", "--model", "m", "--data", "d", "--threshold", "x"], 2,
     "argument --threshold: invalid float"),
    (["anomalies", "--data", "d", "--contamination", "x"], 2, "--contamination: invalid float"),
    (["anomalies", "--data", "d", "--noise", "x"], 2, "argument --noise: invalid float"),
] + [
    ([command, option, value], 2, f"argument {option}: expected a positive integer")
    for command, option in [("train", "--epochs"), ("train", "--batch-size"),
                            ("train", "--patience"), ("train", "--cv"), ("train", "--repeats"),
                            ("tune", "--trials"), ("tune", "--jobs"), ("tune", "--epochs"),
                            ("tune", "--batch-size"), ("tune", "--patience"),
                            ("anomalies", "--epochs")]
    for value in ("0", "-3", "1.5", "many")
] + [  # too large: refused by argparse, not by NumPy (or a run that never ends)
    ([command, option, value], 2,
     f"argument {option}: expected a positive integer, at most {MOST[option[2:]]}, received")
    for command, option in [("train", "--epochs"), ("train", "--batch-size"),
                            ("train", "--patience"), ("train", "--cv"), ("train", "--repeats"),
                            ("train", "--embed-threshold"), ("tune", "--trials"),
                            ("tune", "--jobs"), ("tune", "--epochs"), ("tune", "--batch-size"),
                            ("tune", "--patience"), ("tune", "--embed-threshold"),
                            ("anomalies", "--epochs"), ("gradcheck", "--rows"),
                            ("predict", "--explain")]
    for value in (str(MOST[option[2:]] + 1), "99999999999999999999")
] + [
    ([command, "--seed", value], 2, "argument --seed: expected an integer from 0 to 4294967295")
    for command in ("train", "tune", "anomalies", "gradcheck", "demo-data")
    for value in ("-1", "4294967296", "x", "1e3")
] + [
    ([*command, "--human-error", value], 2,
     f"argument --human-error: expected a finite number, received {value!r}")
    for command in (T, TU)
    for value in ("inf", "-inf", "1e400", "nan")
] + [  # a value that starts with a minus sign and a digit is the option's value
    ([*command, "--memory-budget", value], 2,
     f"--memory-budget: expected a size such as 2G or 500M, received {value!r}")
    for command in (T, A, P) for value in ("-1G", "-5e2M", "infG", "1e400")
] + [
    (T + ["--learning-rate", "-1e-3"], 2, "--learning-rate: expected a rate > 0, received -0.001"),
    (T + ["--hidden", "-5,3"], 2, "--hidden: expected positive sizes, received '-5,3'"),
] + [
    (["predict", "--model", "m", "--data", "d", "--explain", "0"], 2,
     "argument --explain: expected a positive integer"),
    # option values checked before any data is read
    (T + ["--hidden", "a,b"], 2, "--hidden: expected sizes like 128,128"),
    (T + ["--hidden", "0"], 2, "--hidden: expected positive sizes"),
    (T + ["--hidden", ","], 2, "--hidden: expected sizes like 128,128 (one of its sizes is empty)"),
    (T + ["--hidden", "64,,32"], 2, "(one of its sizes is empty), received '64,,32'"),
    (T + ["--hidden", "64,"], 2, "(one of its sizes is empty), received '64,'"),
    (T + ["--hidden", ""], 2, "--hidden: expected sizes like 128,128 (no sizes: give at least"),
    (A + ["--hidden", ","], 2, "--hidden: expected sizes like 128,128 (one of its sizes is"),
    (["gradcheck", "--hidden", "8,,4"], 2, "--hidden: expected sizes like 128,128 (one of"),
    (T + ["--hidden", "-5"], 2, "--hidden: expected positive sizes"),
    (T + ["--hidden", "100000,100000"], 2, "bytes of memory"),
    (T + ["--hidden", "64,3000000,3000000"], 2, "weights, gradients and Adam's two moments"),
    (T + ["--l2", "-1"], 2, "--l2: expected a penalty >= 0"),
    (T + ["--l2", "nan"], 2, "--l2: expected a penalty >= 0"),
    (T + ["--l2", "inf"], 2, "--l2: expected a penalty >= 0"),
    (T + ["--learning-rate", "-1"], 2, "--learning-rate: expected a rate > 0, received -1.0"),
    (T + ["--learning-rate", "0"], 2, "--learning-rate: expected a rate > 0"),
    (T + ["--learning-rate", "nan"], 2, "--learning-rate: expected a rate > 0"),
    (T + ["--learning-rate", "inf"], 2, "--learning-rate: expected a rate > 0"),
    (T + ["--dropout", "1"], 2, "--dropout: expected a rate in [0, 1)"),
    (T + ["--dropout", "-0.1"], 2, "--dropout: expected a rate in [0, 1)"),
    (T + ["--dropout", "nan"], 2, "--dropout: expected a rate in [0, 1)"),
    (T + ["--freeze"], 2, "--freeze: freezes the layers copied by --init-from"),
    (T + ["--cv", "1"], 2, "--cv: expected at least 2 runs"),
    (T + ["--cv", "31"], 2, "--cv: class 'no' has 30 row(s), fewer than the 31 folds"),
    (T + ["--repeats", "1"], 2, "--repeats: expected at least 2 runs"),
    (T + ["--cv", "3", "--save", "m.npz"], 2, "--save and --report take one run"),
    (T + ["--repeats", "3", "--report", "r.html"], 2, "--save and --report take one run"),
    (T + ["--cv", "3", "--repeats", "2"], 2, "cannot be combined with --repeats"),
    (T + ["--cv", "3", "--test-data", "reg.csv"], 2, "cannot be combined"),
    (["train", "--data", "good.csv"], 2, "--target: name the column to predict"),
    (["train", "--data", "reg.csv", "--target", "price", "--cv", "61"], 2,
     "--cv: expected at most 60 folds, one row of --data each (it has 60 rows), received 61."),
    # options that the others make useless: refused, not ignored
    (T + ["--init-from", "trained.npz", "--hidden", "8"], 2,
     "--init-from: the network is the pretrained model's layers and a new output layer; "
     "--hidden cannot be combined with it."),
    (T + ["--init-from", "trained.npz", "--l2", "0.1", "--dropout", "0.5"], 2,
     "--l2, --dropout cannot be combined with it"),
    (T + ["--init-from", "trained.npz", "--embed-threshold", "5"], 2,
     "--init-from: the columns are encoded as the pretrained model's; --embed-threshold cannot"),
    (["gradcheck", "--model", "trained.npz", "--hidden", "8"], 2,
     "--hidden: only without --model; a saved model's layers are checked as they are."),
    (["gradcheck", "--model", "trained.npz", "--task", "regression"], 2,
     "--task: only without --model"),
    (T + ["--drop", "a", "--categorical", "a"], 2,
     "--categorical: 'a' is also given to --drop; a column left out is not encoded"),
    (TU + ["--drop", "b,a", "--categorical", "a"], 2,
     "--categorical: 'a' is also given to --drop"),
    (A + ["--drop", "a", "--categorical", " a "], 2, "--categorical: 'a' is also given to --drop"),
    (["gradcheck", "--data", "good.csv", "--target", "y", "--drop", "a", "--categorical", "a"],
     2, "--categorical: 'a' is also given to --drop"),
    (TU + ["--storage", "tune.db"], 2,
     "--storage: expected a database URL"),
    (TU + ["--storage", "nosuch://x"], 2,
     "--storage: cannot use 'nosuch://x'"),
    (TU + ["--storage", "sqlite:///no/dir/t.db"], 2,
     "--storage: the directory of the database"),
    (TU + ["--storage", "sqlite:///binary.bin"], 2,
     "--storage: 'binary.bin' is not a database SQLite can open (file is not a database)"),
    (TU + ["--storage", "sqlite:///good.csv"], 2,
     "--storage: 'good.csv' is the file given to --data; the study would be written into it"),
    (TU + ["--storage", "sqlite:///new.db", "--save",
      "new.db"], 2, "--save: 'new.db' is the file given to --storage; writing it would destroy"),
    (TU + ["--storage", "sqlite:///t.db", "--report",
      "./t.db"], 2, "--report: './t.db' is the file given to --storage"),
    (TU + ["--storage", "sqlite://"], 2,
     "--storage: 'sqlite://' is a SQLite database in memory: it keeps nothing"),
    (TU + ["--storage", "sqlite:///:memory:"], 2,
     "or leave --storage out for a study kept in memory"),
    (TU + ["--storage", "sqlite:///sub"], 2,
     "--storage: 'sub' is a directory, not a database file"),
    (TU + ["--storage", "mssql+pymssql://u:p@h/db"], 2,
     "--storage: the driver of mssql+pymssql databases is missing (No module named 'pymssql')"),
    (TU + ["--study", ""], 2,
     "--study: expected a name for the study, received ''"),
    (TU + ["--study", "  "], 2,
     "--study: expected a name for the study, received '  '"),
    # outputs that would destroy an input, or each other
    (T + ["--save", "good.csv"], 2, "--save: 'good.csv' is the file given to --data"),
    (T + ["--report", "good.csv"], 2, "--report: 'good.csv' is the file given to --data"),
    (T + ["--save", "./good.csv"], 2, "is the file given to --data"),
    (T + ["--save", "link.csv"], 2, "is the file given to --data"),
    (T + ["--test-data", "reg.csv", "--save", "reg.csv"], 2, "is the file given to --test-data"),
    (T + ["--save", "x.npz", "--report", "x.npz"], 2, "--report: 'x.npz' is also given to --save"),
    (P + ["--out", "good.csv"], 2, "--out: 'good.csv' is the file given to --data"),
    (P + ["--out", "library.npz"], 2, "--out: 'library.npz' is the file given to --model"),
    (A + ["--out", "good.csv"], 2, "--out: 'good.csv' is the file given to --data"),
    (A + ["--save", "good.csv"], 2, "--save: 'good.csv' is the file given to --data"),
    (A + ["--out", "s.csv", "--report", "s.csv"], 2, "is also given to --out"),
    (A + ["--label", "y", "--drop", "y"], 2,
     "--drop: 'y' is the --label column (it only scores the detector; it is never a feature)."),
    (A + ["--label", "y", "--categorical", "a,y"], 2, "--categorical: 'y' is the --label column"),
    (A + ["--drop", "a,b,color,y"], 2,
     "--data: 'good.csv' has no feature columns left once the columns to drop are left out."),
    (T + ["--drop", "a,b,color"], 2,
     "--data: 'good.csv' has no feature columns besides the target and the columns to drop."),
    (["export", "--model", "library.npz", "--onnx", "library.npz"], 2,
     "--onnx: 'library.npz' is the file given to --model"),
    (T + ["--init-from", "library.npz", "--save", "library.npz"], 2,
     "is the file given to --init-from"),
    # outputs inside a folder of Parquet files given as an input
    (["train", "--data", "parts", "--target", "y", "--save", "parts/p1.parquet"], 2,
     "--save: 'parts/p1.parquet' is inside the folder given to --data, whose files are"),
    (["train", "--data", "parts", "--target", "y", "--report", "parts/new.html"], 2,
     "--report: 'parts/new.html' is inside the folder given to --data"),
    (T + ["--test-data", "parts", "--save", "./parts/p2.parquet"], 2,
     "is inside the folder given to --test-data"),
    (["predict", "--model", "trained.npz", "--data", "parts", "--out", "parts/p1.parquet"], 2,
     "--out: 'parts/p1.parquet' is inside the folder given to --data"),
    (["anomalies", "--data", "parts", "--out", "parts/s.csv"], 2,
     "--out: 'parts/s.csv' is inside the folder given to --data"),
    (["tune", "--data", "parts", "--target", "y", "--save", "parts/m.npz"], 2,
     "--save: 'parts/m.npz' is inside the folder given to --data"),
    # empty file names: nothing was written and nothing said, or the option was ignored
    (T + ["--save", ""], 2, "--save: expected a file name, received ''."),
    (T + ["--report", ""], 2, "--report: expected a file name, received ''."),
    (TU + ["--save", ""], 2,
     "--save: expected a file name"),
    (A + ["--out", ""], 2, "--out: expected a file name, received ''."),
    (A + ["--save", ""], 2, "--save: expected a file name"),
    (A + ["--report", ""], 2, "--report: expected a file name"),
    (["predict", "--model", "trained.npz", "--data", "good.csv", "--out", ""], 2,
     "--out: expected a file name"),
    (["export", "--model", "trained.npz", "--onnx", ""], 2, "--onnx: expected a file name"),
    (T + ["--init-from", ""], 2, "--init-from: expected a file name, received ''."),
    (T + ["--test-data", ""], 2, "--test-data: expected a file name"),
    (["predict", "--model", "", "--data", "good.csv"], 2, "--model: expected a file name"),
    (["info", "--model", ""], 2, "--model: expected a file name"),
    (["gradcheck", "--model", ""], 2, "--model: expected a file name"),
    # outputs that cannot be written
    (["demo-data", "--dir", "/proc"], 2, "--dir: cannot write files in '/proc': the directory"),
    (T + ["--save", "/proc/m.npz"], 2, "--save: the directory of '/proc/m.npz' is not writable"),
    (A + ["--out", "s.csv", "--save", "/proc/d.npz"], 2,
     "--save: the directory of '/proc/d.npz' is not writable"),
    (T + ["--save", "no/such/dir/m.npz"], 2, "--save: the directory of 'no/such/dir/m.npz' does not exist"),
    (T + ["--report", "no/such/r.html"], 2, "--report: the directory of"),
    (T + ["--save", "."], 2, "--save: '.' is a directory"),
    (T + ["--save", "/dev/null"], 2, "is not a regular file"),
    (P + ["--out", "/dev/null"], 2, "is not a regular file"),
    (P + ["--out", "sub"], 2, "'sub' is a directory"),
    # files that cannot be read
    (["train", "--data", "missing.csv", "--target", "y"], 2, "missing.csv"),
    (["train", "--data", "sub", "--target", "y"], 2, "sub"),
    (["train", "--data", "empty.csv", "--target", "y"], 2, "empty.csv"),
    (["train", "--data", "header.csv", "--target", "y"], 2, "header.csv"),
    (["train", "--data", "binary.bin", "--target", "y"], 2, "binary.bin"),
    (["train", "--data", "good.csv", "--target", "nope"], 2, "nope"),
    (["train", "--data", "notarget.csv", "--target", "y"], 2, "'y'"),
    (["train", "--data", "onecol.csv", "--target", "y"], 2, ""),
    (["train", "--data", "oneclass.csv", "--target", "y"], 2, "at least two classes"),
    (["train", "--data", "rareclass.csv", "--target", "y"], 2,
     "--target: 1 class(es) with fewer than 3 rows: '1' (2)"),
    (["train", "--data", "datetarget.csv", "--target", "y"], 2,
     "28 class(es) with fewer than 3 rows: '2023-01-01' (2), "),
    (["train", "--data", "longlabel.csv", "--target", "y"], 2,
     "--target: 1 class(es) with fewer than 3 rows: 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'… "
     "(500,000 characters) (1); a stratified split"),
    (["train", "--data", "longlabel.csv", "--target", "y", "--cv", "2"], 2,
     "--cv: class 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'… (500,000 characters) has 1 row(s)"),
    (T + ["--test-data", "longlabel_test.csv"], 2,
     "--test-data: labels ['zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'… (500,000 characters)] "
     "are not among the training file's classes ['no', 'yes']."),
    (["gradcheck", "--model", "trained.npz", "--data", "longlabel_test.csv"], 2,
     "--data: column 'y' has classes the model does not know: "
     "['zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'… (500,000 characters)]."),
    (["train", "--data", "rareone.csv", "--target", "y", "--test-data", "rare_test.csv"], 2,
     "--target: 1 class(es) with fewer than 2 rows: '1' (1)"),
    (["train", "--data", "ragged.csv", "--target", "y"], 2, "line 6 has 2 fields"),
    (["train", "--data", "long.csv", "--target", "y"], 2, "line 6 has 5 fields"),
    (["train", "--data", "nan.csv", "--target", "y"], 2, "--impute"),
    (["train", "--data", "blank.csv", "--target", "y"], 2, "--impute"),
    (["train", "--data", "inf.csv", "--target", "y"], 2,
     "column 'a' of 'inf.csv' holds finite numbers (at most 3.4e+38 in size) but for 1 cell(s): "
     "line 6 'inf'"),
    (["train", "--data", "ninf.csv", "--target", "y"], 2, "line 6 '-inf'"),
    (["train", "--data", "baddate.csv", "--target", "y"], 2,
     "holds ISO dates (YYYY-MM-DD) but for 1 cell(s): line 6 '2023-02-30'"),
    (["train", "--data", "usdate.csv", "--target", "y"], 2, "line 8 '01/07/2023'"),
    (["train", "--data", "latin1.csv", "--target", "y"], 2, "is not UTF-8 text"),
    (["anomalies", "--data", "huge.csv", "--memory-budget", "1T"], 2,
     "bytes of memory, more than this"),  # read whole: refused before reading
    (["anomalies", "--data", "huge.csv"], 2, "line 2 of 'huge.csv' has no line break"),
    (["train", "--data", "huge.csv", "--target", "y"], 2, "line 2 of 'huge.csv' has no line break"),
    (["train", "--data", "/dev/zero", "--target", "y"], 2, "is not a regular file"),
    (["anomalies", "--data", "/dev/zero"], 2, "is not a regular file"),
    (["train", "--data", "no_break.csv", "--target", "y"], 2, "no line break in its first"),
    # Parquet files and folders
    (["train", "--data", "trunc.parquet", "--target", "y"], 2,
     "'trunc.parquet' is not a readable Parquet file"),
    (["train", "--data", "list.parquet", "--target", "y"], 2,
     "column 'tags' of 'list.parquet' holds list<"),
    (["train", "--data", "struct.parquet", "--target", "y"], 2, "leave it out with --drop pos"),
    (["train", "--data", "binary.parquet", "--target", "y"], 2,
     "column 'blob' of 'binary.parquet' holds binary values"),
    (["train", "--data", "norows.parquet", "--target", "y"], 2, "'norows.parquet' has no rows"),
    (["train", "--data", "good.parquet", "--target", "nope"], 2, "'nope'"),
    (["train", "--data", "mixed_parts", "--target", "y"], 2,
     "column 'a' is double in part-1.parquet and string in part-2.parquet"),
    (["train", "--data", "no_parts", "--target", "y"], 2, "folder 'no_parts' has no .parquet"),
    (["anomalies", "--data", "trunc.parquet"], 2, "is not a readable Parquet file"),
    (["predict", "--model", "trained.npz", "--data", "trunc.parquet"], 2,
     "is not a readable Parquet file"),
    (["predict", "--model", "trained.npz", "--data", "text_a.parquet"], 2, "column 'a'"),
    (["predict", "--model", "trained.npz", "--data", "mixed_parts"], 2, "do not share one schema"),
    (["predict", "--model", "trained.npz", "--data", "complex.csv"], 2,
     "expects numbers, line 2 of 'complex.csv' has '0+1j'"),
    (["predict", "--model", "detector.npz", "--data", "good.csv", "--explain", "2"], 2,
     "--explain"),
    (["train", "--data", "good.csv", "--target", "y", "--drop", "zzz"], 2, "zzz"),
    (["train", "--data", "good.csv", "--target", "y", "--categorical", "zzz"], 2, "zzz"),
    (["train", "--data", "good.csv", "--target", "y", "--drop", "y"], 2, "y"),
    (["train", "--data", "good.csv", "--target", "y", "--test-data", "missing.csv"], 2,
     "missing.csv"),
    (["train", "--data", "good.csv", "--target", "y", "--test-data", "reg.csv"], 2,
     "columns ['color'] are missing"),
    (["train", "--data", "good.csv", "--target", "y", "--dev-data", "reg.csv"], 2,
     "--dev-data: give --test-data too"),
    # held-out files that are not held out
    (["train", "--data", "good.csv", "--target", "y", "--dev-data", "good.csv", "--test-data",
      "reg.csv"], 2,
     "--dev-data: 'good.csv' is also the --data file: the network would stop on, and be chosen "
     "by, rows it trains on; give rows held out of it."),
    (["train", "--data", "good.csv", "--target", "y", "--test-data", "./good.csv"], 2,
     "--test-data: './good.csv' is also the --data file: the test score would be measured on "
     "rows the network trains on"),
    (["train", "--data", "good.csv", "--target", "y", "--test-data", "link.csv"], 2,
     "is also the --data file"),
    (["train", "--data", "good.csv", "--target", "y", "--dev-data", "reg.csv", "--test-data",
      "reg.csv"], 2, "--test-data: 'reg.csv' is also the --dev-data file: the dev set chooses "
     "the weights kept (early stopping), so only other rows give an unbiased test score"),
    (TU + ["--test-data", "good.csv"], 2,
     "--test-data: 'good.csv' is also the --data file"),
    (["train", "--data", "good.csv", "--target", "color", "--task", "regression"], 2,
     "regression needs a numeric target"),
    (["train", "--data", "reg.csv", "--target", "price", "--class-weight", "balanced"], 2,
     "--class-weight: only for classification"),
    (["train", "--data", "huge_target.csv", "--target", "price", "--task", "regression"], 2,
     "too large to standardize"),
    (["train", "--data", "good.csv", "--target", "y", "--human-error", "2"], 2, "--human-error"),
    (["train", "--data", "good.csv", "--target", "y", "--init-from", "missing.npz"], 2,
     "missing.npz"),
    (["train", "--data", "good.csv", "--target", "y", "--init-from", "library.npz"], 2,
     "library.npz"),
    # model files
    (["predict", "--model", "missing.npz", "--data", "good.csv"], 2, "missing.npz"),
    (["predict", "--model", "good.csv", "--data", "good.csv"], 2, "a CSV is passed with --data"),
    (["predict", "--model", "text_model.npz", "--data", "good.csv"], 2, "not a gradwise model"),
    (["predict", "--model", "empty_model.npz", "--data", "good.csv"], 2, "the file is empty"),
    (["predict", "--model", "random_model.npz", "--data", "good.csv"], 2, "not a gradwise model"),
    (["predict", "--model", "pk_model.npz", "--data", "good.csv"], 2, "damaged or truncated"),
    (["predict", "--model", "npy_model.npz", "--data", "good.csv"], 2, "single NumPy array"),
    (["predict", "--model", "sub", "--data", "good.csv"], 2, "sub"),
    (["predict", "--model", "library.npz", "--data", "good.csv"], 2,
     "was not saved by 'gradwise train'"),
    (["predict", "--model", "list_desc.npz", "--data", "good.csv"], 2, "a JSON list"),
    (["predict", "--model", "deep_desc.npz", "--data", "good.csv"], 2, "nested"),
    (["predict", "--model", "nokeys_desc.npz", "--data", "good.csv"], 2, "format None"),
    (["predict", "--model", "huge_desc.npz", "--data", "good.csv"], 2, "needs at least"),
    (["info", "--model", "good.csv"], 2, "not a gradwise model file"),
    (["info", "--model", "huge_desc.npz"], 2, "needs at least"),
    (["export", "--model", "empty_model.npz", "--onnx", "m.onnx"], 2, "the file is empty"),
    (["anomalies", "--data", "missing.csv"], 2, "missing.csv"),
    (["anomalies", "--data", "empty.csv"], 2, "empty.csv"),
    (["anomalies", "--data", "good.csv", "--hidden", "x"], 2, "--hidden"),
    (["anomalies", "--data", "good.csv", "--contamination", "2"], 2, "--contamination"),
    (["anomalies", "--data", "good.csv", "--label", "nope"], 2, "nope"),
    (["anomalies", "--data", "good.csv"], 2, "has 60 row(s), too few for an anomaly detector"),
]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A classifier and an anomaly detector saved by the command (one epoch each)."""
    folder = tmp_path_factory.mktemp("saved")
    (folder / "good.csv").write_text(GOOD)
    old = os.getcwd()
    os.chdir(folder)
    try:
        assert main(["train", "--data", "good.csv", "--target", "y", "--epochs", "1",
                     "--hidden", "4", "--quiet", "--save", "trained.npz"]) == 0
        assert main(["anomalies", "--data", "good.csv", "--drop", "y", "--epochs", "1",
                     "--hidden", "4,2", "--contamination", "0.05", "--save",
                     "detector.npz"]) == 0
    finally:
        os.chdir(old)
    return {name: (folder / name).read_bytes() for name in ("trained.npz", "detector.npz")}


@pytest.fixture
def folder(tmp_path, monkeypatch, saved):
    monkeypatch.chdir(tmp_path)
    for name, content in saved.items():
        (tmp_path / name).write_bytes(content)
    for name, content in FILES.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    for name, make in BUILT.items():
        make(tmp_path / name)
    (tmp_path / "sub").mkdir()
    with open(tmp_path / "huge.csv", "wb") as file:  # sparse: larger than memory, no disk used
        file.write(b"a,y\n")
        file.truncate(2**37)
    os.symlink("good.csv", tmp_path / "link.csv")
    return tmp_path


def _run(argv, capsys):
    try:
        status = main(argv)
    except SystemExit as exit:  # argparse's errors and --help
        status = exit.code
    captured = capsys.readouterr()
    return status, captured.err


def _snapshot(folder):
    return {p.name: p.read_bytes() if p.stat().st_size < 2**24 else p.stat().st_size
            for p in folder.iterdir() if p.is_file()}


def test_the_catalogue_is_large_enough():
    assert len(CASES) >= 150


@pytest.mark.parametrize("argv, status, fragment", CASES, ids=[" ".join(c[0]) or "(none)"
                                                               for c in CASES])
def test_bad_input(folder, capsys, argv, status, fragment):
    before = _snapshot(folder)
    code, err = _run(argv, capsys)
    lines = [line for line in err.splitlines() if line.startswith("gradwise: error:")]
    assert code == status, err
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert fragment in lines[0], lines[0]
    assert len(lines[0]) < 2000, lines[0][:2000]  # a cell of megabytes is cut short
    after = _snapshot(folder)
    assert {k: v for k, v in after.items() if k in before} == before  # no input touched
    assert not [name for name in after if name.startswith(".tmp-")]


@pytest.mark.parametrize("option", sorted(MOST))
def test_a_count_is_accepted_up_to_its_largest_value(option):
    from gradwise.cli.parser import _parser
    command = {"rows": ["gradcheck"], "explain": ["predict", "--model", "m", "--data", "d"],
               "trials": ["tune"], "jobs": ["tune"]}.get(option, ["train"])
    args = _parser().parse_args([*command, f"--{option}", str(MOST[option])])
    assert getattr(args, option.replace("-", "_")) == MOST[option]


def _net():
    model = gw.Sequential([gw.layers.Dense(2)], input_dim=2, seed=0)
    model.compile(optimizer="sgd", loss="mse")
    return model


#: (library call, exception, fragment): the library names its own arguments.
LIBRARY = [
    (lambda: _net().predict(np.ones((3, 2)) + 1j), TypeError, "X: expected real numbers"),
    (lambda: _net().fit(np.ones((3, 2)) + 1j, np.ones((3, 2)), verbose=0), TypeError,
     "expected real numbers"),
    (lambda: _net().predict(np.array([[1e307, 1.0]])), ValueError,
     "the value 1e+307 (row 0, column 0) is too large for float32"),
    (lambda: _net().predict(np.array([[np.nan, 1.0]])), ValueError, "contains NaN or infinity"),
    (lambda: _net().predict(np.array([["a", "b"]])), TypeError, "expected numeric data"),
    (lambda: _net().predict(np.ones(3)), ValueError, "X.reshape(-1, 1)"),
    (lambda: _net().predict(np.ones((3, 5))), ValueError, "expected 2 features"),
    (lambda: _net().predict(np.ones((0, 2))), ValueError, "at least one sample"),
    (lambda: gw.load_model("no-such-file.npz"), FileNotFoundError, "no-such-file.npz"),
    (lambda: gw.save_model(gw.Sequential([gw.layers.Dense(2)]), "x.npz"), ValueError,
     "only a built model can be saved"),
]


@pytest.mark.parametrize("call, kind, fragment", LIBRARY)
def test_library_bad_input(tmp_path, monkeypatch, call, kind, fragment):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(kind) as error:
        call()
    assert fragment in str(error.value)
    assert "--" not in str(error.value)  # library errors name no command-line option
