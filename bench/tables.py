"""Real tables at real size: reading, encoding, training and peak memory of ``gradwise train``.

    python -m bench.tables                       # 200k and 1M rows (about 10 minutes)
    python -m bench.tables --rows 200000 --epochs 1 --only read,e2e
    python -m bench.tables --stream 1000000,10000000  # streaming peaks (CSV, large)
    python -m bench.tables --layout mixed --data-dir /tmp/tables  # dates and missing cells
    python -m bench.tables --smoke               # 5,000 rows, seconds; run by the tests

Files are generated once (``bench/tables_data.py``) under ``bench/results/tables/``, which git
ignores. Every measurement runs in a fresh process, so one run's memory does not count in the
next; the peak is the process's maximum resident set size (``/usr/bin/time``'s ``%M``, or
``VmHWM`` when that program is missing).

Reported per file:

- ``read``: seconds to read the file with pyarrow's multi-threaded CSV reader (raw read, all
  types inferred), with pandas ``read_csv``, and with gradwise (read and encode: the
  float32 matrix the network takes), with rows per second and each one's peak; the fastest
  of ``--repeats`` fresh-process runs of each, taken in turns;
- ``epoch``: one epoch of ``gradwise train``'s default network (128-128, Adam, batch 64) on
  the 60% training split of the encoded matrix;
- ``e2e``: the whole ``gradwise train --data FILE --target label --epochs E --quiet`` run (wall
  seconds and peak) against the script a user would write with pandas and scikit-learn:
  ``read_csv``, ``get_dummies``, ``StandardScaler``, ``MLPClassifier((128, 128), batch_size=64,
  max_iter=E)`` on the same 60/20/20 split, scored on dev and test.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA_DIR = os.path.join(HERE, "results", "tables")
perf = time.perf_counter

SKLEARN_SCRIPT = r"""
import sys, time
import numpy as np, pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
path, epochs = sys.argv[1], int(sys.argv[2])
frame = pd.read_csv(path)
y = frame.pop("label").to_numpy()
for name in [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]:
    if frame[name].dropna().str.match(r"^\d{4}-\d{2}-\d{2}").all():  # ISO dates: their parts
        moment = pd.to_datetime(frame.pop(name))
        for part in ("year", "month", "day", "weekday"):
            frame[f"{name}_{part}"] = getattr(moment.dt, part)
text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
X = pd.get_dummies(frame, columns=text, dummy_na=True, dtype=np.float32).to_numpy(np.float32)
X_train, X_rest, y_train, y_rest = train_test_split(X, y, test_size=0.4, random_state=0, stratify=y)
X_dev, X_test, y_dev, y_test = train_test_split(X_rest, y_rest, test_size=0.5, random_state=0, stratify=y_rest)
fill = np.nanmedian(X_train, axis=0)  # missing numbers: the training rows' medians
for part in (X_train, X_dev, X_test):
    gaps = np.isnan(part)
    part[gaps] = np.take(fill, np.nonzero(gaps)[1])
scaler = StandardScaler().fit(X_train)
model = MLPClassifier((128, 128), batch_size=64, max_iter=epochs, learning_rate_init=1e-3,
                      random_state=0, n_iter_no_change=epochs + 1)
model.fit(scaler.transform(X_train), y_train)
for name, Xs, ys in (("dev", X_dev, y_dev), ("test", X_test, y_test)):
    print(name, model.score(scaler.transform(Xs), ys))
"""

# -- children: one measurement each, printing one JSON line ---------------------------------
def child_read(how, path):
    """Seconds to read (and, for gradwise, encode) ``path``, imports excluded."""
    import pyarrow.csv as pacsv
    if how == "pandas":
        import pandas as pd
    if how == "gradwise":  # imported before the clock starts, as pyarrow.csv is
        import pyarrow.compute  # noqa: F401
        from gradwise.tabular.csv import read_csv
    extra = {}
    start = perf()
    if how == "pyarrow":
        rows = pacsv.read_csv(path).num_rows
    elif how == "pandas":
        rows = len(pd.read_csv(path))
    else:
        X = read_csv(path, "label", impute=True, embed_threshold=20)[0]
        rows = len(X)
        extra = {"dtype": str(X.dtype), "width": int(X.shape[1]), "matrix_mb": X.nbytes / 2**20,
                 "c_contiguous": bool(X.flags.c_contiguous)}
    return {"seconds": perf() - start, "rows": rows, **extra}


def child_epoch(path):
    import numpy as np
    import gradwise as gw
    from gradwise.cli import data as cli_data
    from gradwise.tabular.csv import complete, fill_values, read_csv
    X, y, names, task, columns = read_csv(path, "label", impute=True, embed_threshold=20)[:5]
    train = slice(0, int(0.6 * len(X)))
    if np.isnan(X).any():  # the mixed layout's gaps: filled as --impute median fills them
        columns = fill_values(X[train], columns, "median")
        X = complete(X, columns)[0]
    model = cli_data.network(X.shape[1], [128, 128], 2, "classification", 1e-3,
                             (X[train].mean(0), X[train].std(0) + 1e-8), seed=0,
                             columns=columns)
    start = perf()
    model.fit(X[train], y[train].astype(int), epochs=1, batch_size=64, verbose=0)
    return {"seconds": perf() - start, "rows": train.stop}


def _run_measured(command, timeout=None):
    """``(wall seconds, peak MB, stdout, stderr)`` of a fresh process; wall None (and peak
    None) when it ran longer than ``timeout`` seconds and was stopped."""
    timer = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)
    prefix = [timer, "-f", "PEAK_KB %M"] if timer else []
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "src"), env.get("PYTHONPATH", "")])
    start = perf()
    process = subprocess.Popen(prefix + command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=ROOT, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: the timer and its child
        process.communicate()
        return None, None, "", f"stopped after {timeout} s"
    wall = perf() - start
    done = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    peak = None
    for line in done.stderr.splitlines():
        if line.startswith("PEAK_KB "):
            peak = int(line.split()[1]) / 1024
    if peak is None:  # no /usr/bin/time: the child reports its own
        for line in done.stdout.splitlines():
            if line.startswith("{") and "peak_mb" in line:
                peak = json.loads(line)["peak_mb"]
    return wall, peak, done.stdout, done.stderr


def _child(kind, *args):
    wall, peak, out, _ = _run_measured([sys.executable, "-m", "bench.tables", "--child", kind,
                                        *map(str, args)])
    result = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    return {**result, "wall": wall, "peak_mb": peak if peak is not None else result["peak_mb"]}


def _vm_hwm_mb():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None


# -- the parent --------------------------------------------------------------------------
def file_for(rows, layout, suffix=".csv"):
    from .tables_data import generate
    os.makedirs(DATA_DIR, exist_ok=True)
    path = os.path.join(DATA_DIR, f"{layout}_{rows}{suffix}")
    _check_space(path, rows, suffix)
    start = perf()
    existed = os.path.exists(path)
    generate(path, rows, layout)
    if not existed:
        print(f"generated {path} ({os.path.getsize(path) / 2**20:.0f} MB, "
              f"{perf() - start:.1f} s)", flush=True)
    return path


def _check_space(path, rows, suffix):
    """Refuse to start a file the disk has no room for (about 170 bytes a CSV row)."""
    need = rows * (170 if suffix == ".csv" else 100)
    free = shutil.disk_usage(DATA_DIR).free
    if not os.path.exists(path) and need > free:
        raise SystemExit(f"bench.tables: {rows:,} rows need about {need / 2**30:.1f} GB in "
                         f"{DATA_DIR}, which has {free / 2**30:.1f} GB free (--data-dir).")


def measure_read(path, repeats=3):
    """Each reader ``repeats`` times, in turns, a fresh process each time: the fastest run's
    seconds (the least disturbed by other work), the highest peak, and every run's seconds."""
    runs = {how: [] for how in ("pyarrow", "pandas", "gradwise")}
    for _ in range(repeats):
        for how, done in runs.items():
            done.append(_child("read", how, path))
    return {how: {**min(done, key=lambda run: run["seconds"]),
                  "peak_mb": max(run["peak_mb"] for run in done),
                  "all_seconds": [run["seconds"] for run in done]}
            for how, done in runs.items()}


def _impute(layout, how="median"):
    """The ``gradwise train`` options a layout needs (the mixed one has missing cells)."""
    return ["--impute", how] if layout == "mixed" else []


def measure_e2e(path, epochs, layout="goal", timeout=None):
    load = os.getloadavg()[0]
    gw_wall, gw_peak, out, _ = _run_measured(
        [sys.executable, "-m", "gradwise", "train", "--data", path, "--target", "label",
         "--epochs", str(epochs), "--quiet", *_impute(layout)])
    sk_wall, sk_peak, sk_out, _ = _run_measured(
        [sys.executable, "-c", SKLEARN_SCRIPT, path, str(epochs)], timeout=timeout)
    return {"gradwise": {"wall": gw_wall, "peak_mb": gw_peak, "stdout": out[-1500:]},
            "sklearn": {"wall": sk_wall, "peak_mb": sk_peak, "stdout": sk_out,
                        "timeout": timeout},
            "load": [load, os.getloadavg()[0]]}


def measure_stream(rows, epochs, layout="goal", suffix=".parquet"):
    """The whole streamed ``gradwise train`` (``--memory-budget 1K``) on a ``suffix`` file of
    ``rows`` rows."""
    path = file_for(rows, layout, suffix)
    load = os.getloadavg()[0]
    wall, peak, out, _ = _run_measured(
        [sys.executable, "-m", "gradwise", "train", "--data", path, "--target", "label",
         "--epochs", str(epochs), "--quiet", "--memory-budget", "1K",
         *_impute(layout, "mean")])
    return {"wall": wall, "peak_mb": peak, "file_mb": os.path.getsize(path) / 2**20,
            "format": suffix.strip("."), "stdout": out[-1200:],
            "load": [load, os.getloadavg()[0]]}


def render(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |"
             for row in [header] + rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    p.add_argument("--rows", default="200000,1000000", help="file sizes (rows), comma-separated")
    p.add_argument("--epochs", type=int, default=1, help="epochs of both end-to-end runs")
    p.add_argument("--only", default="read,epoch,e2e", help="which measurements")
    p.add_argument("--stream", default="", help="row counts of the streaming peak runs")
    p.add_argument("--stream-format", default="csv", choices=["csv", "parquet"],
                   help="file format of the streamed runs")
    p.add_argument("--layout", default="goal", choices=["goal", "mixed"],
                   help="goal: 20 numbers and 2 text columns; mixed: plus a date column and "
                        "2%% missing cells (see bench/tables_data.py)")
    p.add_argument("--repeats", type=int, default=3,
                   help="fresh-process runs of each reader (the fastest is reported)")
    p.add_argument("--data-dir", default=DATA_DIR, help="where the generated files are kept")
    p.add_argument("--sklearn-timeout", type=float, default=900,
                   help="seconds after which the pandas + scikit-learn script is stopped "
                        "(reported as '> N')")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--smoke", action="store_true", help="5,000 rows, all measurements")
    return p.parse_args(argv)


def main(argv=None):
    global DATA_DIR
    args = parse_args(argv)
    DATA_DIR = args.data_dir
    if args.child:
        kind, *rest = args.child
        result = child_read(*rest) if kind == "read" else child_epoch(*rest)
        print(json.dumps({**result, "peak_mb": _vm_hwm_mb()}))
        return
    sizes = [5000] if args.smoke else [int(r) for r in args.rows.split(",") if r]
    only = set(args.only.split(","))
    print(f"bench.tables: {os.cpu_count()} cores (shared with other work: timings are noisy), "
          f"python {sys.version.split()[0]}, layout {args.layout}, load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    results = {}
    for rows in sizes if "none" not in only else []:
        path = file_for(rows, args.layout)
        mb = os.path.getsize(path) / 2**20
        entry = results[rows] = {"file_mb": mb}
        if "read" in only:
            entry["read"] = measure_read(path, 1 if args.smoke else args.repeats)
        if "epoch" in only:
            entry["epoch"] = _child("epoch", path)
        if "e2e" in only:
            entry["e2e"] = measure_e2e(path, args.epochs, args.layout, args.sklearn_timeout)
        print(json.dumps({rows: {k: v for k, v in entry.items()}}, default=str)[:3000],
              flush=True)
    streamed = {}
    for rows in ([2000] if args.smoke else [int(r) for r in args.stream.split(",") if r]):
        streamed[rows] = measure_stream(rows, args.epochs, args.layout,
                                        "." + args.stream_format)
        print(json.dumps({f"stream {rows}": streamed[rows]})[:1500], flush=True)
    print()
    print(summary(results, args.epochs))
    if streamed:
        print()
        print(render(["rows (streamed)", "file MB", f"train s ({args.epochs} ep)", "peak MB",
                      "load"],
                     [[f"{r:,}", f"{v['file_mb']:.0f} {v['format']}", f"{v['wall']:.1f}",
                       f"{v['peak_mb']:.0f}", "%.1f-%.1f" % tuple(v["load"])]
                      for r, v in streamed.items()]))
    results["stream"] = streamed
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1, default=str)


def summary(results, epochs):
    rows_out = []
    for rows, entry in results.items():
        if rows == "stream":
            continue
        row = [f"{rows:,}", f"{entry['file_mb']:.0f}"]
        read = entry.get("read")
        if read:
            raw, pdr, gw = (read[h]["seconds"] for h in ("pyarrow", "pandas", "gradwise"))
            row += [f"{raw:.2f}", f"{pdr:.2f}", f"{gw:.2f}", f"{rows / gw:,.0f}",
                    f"{gw / raw:.1f}"]
        else:
            row += ["-"] * 5
        row.append(f"{entry['epoch']['seconds']:.2f}" if "epoch" in entry else "-")
        e2e = entry.get("e2e")
        if e2e and e2e["sklearn"]["wall"] is None:  # stopped at its timeout
            g, s = e2e["gradwise"], e2e["sklearn"]
            row += [f"{g['wall']:.1f}", f"{g['peak_mb']:.0f}", f"> {s['timeout']:.0f}", "-",
                    f"> {s['timeout'] / g['wall']:.1f}"]
        elif e2e:
            g, s = e2e["gradwise"], e2e["sklearn"]
            row += [f"{g['wall']:.1f}", f"{g['peak_mb']:.0f}", f"{s['wall']:.1f}",
                    f"{s['peak_mb']:.0f}", f"{s['wall'] / g['wall']:.1f}"]
        else:
            row += ["-"] * 5
        row.append("%.1f-%.1f" % tuple(e2e["load"]) if e2e else "-")
        rows_out.append(row)
    header = ["rows", "MB", "pyarrow s", "pandas s", "gradwise s", "gw rows/s", "gw/pyarrow",
              "epoch s", f"train s ({epochs} ep)", "train peak MB", "sklearn s",
              "sklearn peak MB", "sklearn/gw", "load"]
    return render(header, rows_out)


if __name__ == "__main__":
    main()
