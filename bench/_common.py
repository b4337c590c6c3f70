"""Helpers shared by the benchmarks: thread settings, machine description, tables.

Thread settings must be applied *before* NumPy, PyTorch or JAX are imported, because
OpenBLAS/MKL/OpenMP and XLA read their thread counts from the environment when they load.
`set_thread_env` therefore imports nothing heavy.
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def preparse_threads(argv, default=1):
    """Read ``--threads N`` from argv without argparse (before heavy imports)."""
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return default


def preparse_pin(argv):
    """--pin (default) / --no-pin, read before heavy imports."""
    return "--no-pin" not in argv


def pin_cpus(threads):
    """Restrict this process (and the children it starts) to `threads` CPUs.

    The only hard bound on XLA: its CPU client sizes its intra-op pool from the CPU affinity
    and, in JAX 0.10, still runs matmuls on 2 threads with --xla_cpu_multi_thread_eigen=false
    (measured: B=2048/H=1024 step 70 ms unpinned vs 132 ms pinned to one core, against a
    one-thread GEMM floor of 100 ms). Pinned to the last `threads` allowed CPUs (CPU 0 tends to
    take more interrupts). Returns the CPU list, or None if affinity cannot be set.
    """
    if not hasattr(os, "sched_setaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    if threads >= len(allowed):
        return allowed
    cpus = allowed[-threads:]
    os.sched_setaffinity(0, cpus)
    return cpus


def xla_flags(threads):
    """XLA CPU flags for `threads` intra-op threads.

    XLA's CPU backend has no flag for an exact thread count: with one thread we switch off
    Eigen's multi-threaded matmul; with more we leave XLA on its default (all cores; on the
    2-core benchmark machine that equals --threads 2).
    """
    if threads == 1:
        return "--xla_cpu_multi_thread_eigen=false"
    return ""


def set_thread_env(threads, env=None):
    """Set the BLAS/OpenMP/XLA thread variables in `env` (default: os.environ)."""
    env = os.environ if env is None else env
    for v in THREAD_VARS:
        env[v] = str(threads)
    flags = xla_flags(threads)
    if flags:
        old = env.get("XLA_FLAGS", "")
        env["XLA_FLAGS"] = (old + " " + flags).strip()
    return env


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit():
    try:
        here = os.path.dirname(os.path.abspath(__file__))
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here,
                             capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None
    except Exception:
        return None


def machine_info(threads):
    """Machine, BLAS and library versions (only of modules already importable)."""
    import numpy as np
    info = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "affinity": (sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                     else None),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "threads": threads,
        "git_commit": git_commit(),
        # OpenBLAS picks its kernels from the CPU unless this forces a type (it can force
        # slower ones than the CPU supports, e.g. Haswell's AVX2 on an AVX-512 machine).
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
    }
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = [
            {k: d.get(k) for k in ("user_api", "internal_api", "version", "num_threads",
                                   "threading_layer", "architecture")}
            for d in threadpool_info()
        ]
    except Exception as e:  # pragma: no cover
        info["blas"] = "unavailable: %s" % e
    for name in ("gradwise", "torch", "jax", "jaxlib", "optax", "sklearn"):
        mod = sys.modules.get(name)
        if mod is not None:
            info[name] = getattr(mod, "__version__", "?")
    return info


def fmt_us(x):
    if x is None:
        return "-"
    if x >= 10000:
        return "%.0f" % x
    if x >= 100:
        return "%.0f" % x
    return "%.1f" % x


def fmt_ratio(x):
    return "-" if x is None else "%.2f" % x


def render_table(header, rows):
    """Plain-text table, right-aligned numbers, first column(s) left-aligned."""
    cols = list(zip(*([header] + rows)))
    widths = [max(len(str(c)) for c in col) for col in cols]
    lines = []
    def is_num(col):
        return all(_numeric(c) for c in col[1:])

    left = [not is_num(col) for col in cols]
    for r_i, row in enumerate([header] + rows):
        cells = [str(c).ljust(w) if lf else str(c).rjust(w)
                 for c, w, lf in zip(row, widths, left)]
        lines.append("  ".join(cells).rstrip())
        if r_i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _numeric(c):
    if isinstance(c, (int, float)) or c == "-":
        return True
    try:
        float(str(c))
        return True
    except ValueError:
        return False
