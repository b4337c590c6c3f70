"""The benchmarks' smoke modes run (in CI, where torch and jax are not installed) and print
their tables, so that bench/ cannot rot."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*args, timeout=300):
    r = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, "exit %d\nstdout:\n%s\nstderr:\n%s" % (r.returncode, r.stdout,
                                                                     r.stderr)
    return r.stdout


def test_step_smoke(tmp_path):
    out_json = tmp_path / "step.json"
    out = _run(os.path.join("bench", "step.py"), "--smoke", "--only", "gradwise,floor",
               "--json", str(out_json))
    assert "skip gradwise" not in out, out
    # the table: header with both columns and the ratio, one row for B=32, H=64
    assert "gradwise us" in out and "floor us" in out and "gw/floor" in out, out
    assert any(line.split()[:2] == ["32", "64"] for line in out.splitlines()), out
    import json
    data = json.loads(out_json.read_text())
    cell = data["results"][0]
    assert cell["B"] == 32 and cell["H"] == 64
    assert 0 < cell["gradwise"]["median"] < 1.0 and 0 < cell["floor"]["median"] < 1.0


def test_digits_e2e_smoke():
    out = _run(os.path.join("bench", "digits_e2e.py"), "--smoke", "--only", "gradwise")
    assert "skip gradwise" not in out, out
    row = [line for line in out.splitlines() if line.startswith("gradwise ")]
    assert row, out
    acc = float(row[0].split()[5])  # framework, wall, wall/gw, import, train, acc
    assert acc > 0.5, out  # 2 epochs of Adam on digits are well above chance
    assert "import gradwise:" in out, out


def test_step_module_entry_point():
    """`python -m bench.step` works as documented (floor only: needs nothing but NumPy)."""
    out = _run("-m", "bench.step", "--smoke", "--only", "floor")
    assert "floor us" in out


def test_tuning_quick_mode():
    """`python -m bench.tuning --quick`: every sampler's row, paired comparison and timing."""
    import pytest
    pytest.importorskip("optuna")
    out = _run("-m", "bench.tuning", "--quick", "--only", "diabetes", "--json", os.devnull)
    rows = {line.split()[0]: line.split() for line in out.splitlines()
            if line.split() and line.split()[0] in ("random", "tpe", "gp", "coarse-to-fine")}
    assert set(rows) == {"random", "tpe", "gp", "coarse-to-fine"}, out
    # sampler, best@10, best@14, W/T/L, sign p, test, choose s; MAE of a standardized target
    for name, row in rows.items():
        assert 0 < float(row[1]) < 1.5 and float(row[2]) <= float(row[1]), out
        assert sum(map(int, row[3].split("/"))) == 2 if name != "random" else row[3] == "-"


def test_tables_smoke():
    out = _run("-m", "bench.tables", "--smoke", "--only", "read,e2e", timeout=900)
    table = [line for line in out.splitlines() if line.startswith("| 5,000")]
    assert table, out
    cells = [cell.strip() for cell in table[0].strip("|").split("|")]
    assert float(cells[4]) > 0 and float(cells[8]) > 0  # gradwise read s, whole train s
    assert "| 2,000" in out  # the streamed run


def test_payback_smoke(tmp_path):
    """``bench.payback`` times both compute paths in ``fit`` and the kernels' start-up."""
    import json
    out_json = tmp_path / "payback.json"
    out = _run("-m", "bench.payback", "--smoke", "--json", str(out_json))
    if "Numba is not installed" in out:
        return
    data = json.loads(out_json.read_text())
    assert [row["network"] for row in data["rows"]] == ["table 25-128-128-2",
                                                        "regression 10-32-32-1"], out
    for row in data["rows"]:
        assert row["never_us"] > 0 and row["always_us"] > 0 and row["predicted_us"] > 0
        assert abs(row["saving_us"] - (row["never_us"] - row["always_us"])) < 1e-6
    assert data["startup"]["seconds"] == data["startup"]["runs"][0]
    assert "start-up (disk cache warm)" in out
