"""When do the compiled kernels repay their start-up? The measurement behind ``auto``.

    python -m bench.payback                  # the grid below, about 3 minutes
    python -m bench.payback --pairs 5 --json payback.json
    python -m bench.payback --smoke          # seconds; run by the tests

``auto`` (:mod:`gradwise.backend.kernels`) compiles the Numba kernels for a training call when
``steps * step_saving(params, batch, units)`` reaches ``PAYBACK_SECONDS``. This benchmark
measures both sides of that rule on this machine:

- **saving per step**: for each network of the grid, one epoch of ``model.fit`` (shuffling,
  the per-batch accuracy and the loop included, as a user's run has them) on the same random
  data with ``kernels="never"`` and ``kernels="always"``, in alternated pairs (so load changes
  hit both alike); the medians per step, their difference, and the cost model's prediction
  beside it. The last lines fit the model's three coefficients (seconds per step, per
  parameter and per activation) to the measured savings by least squares.
- **start-up**: a fresh process per run, with Numba's disk cache warm (one untimed run first):
  the seconds from before the first compiled training call to after it, less the same call on
  the NumPy path (importing Numba and llvmlite, loading every kernel from the cache).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

#: (name, layer widths, loss, batch size): the benchmark networks of ``bench.step`` and
#: ``gradwise train``'s default one, a wide one, and a regression network.
GRID = [
    ("table 25-128-128-2", [25, 128, 128, 2], "categorical_crossentropy", 64),
    ("step 64-64-64-10 b32", [64, 64, 64, 10], "categorical_crossentropy", 32),
    ("step 64-256-256-10", [64, 256, 256, 10], "categorical_crossentropy", 64),
    ("step 64-128-128-10 b256", [64, 128, 128, 10], "categorical_crossentropy", 256),
    ("wide 200-512-512-10", [200, 512, 512, 10], "categorical_crossentropy", 64),
    ("regression 10-32-32-1", [10, 32, 32, 1], "mse", 64),
]

STARTUP = r"""
import sys, time
import numpy as np
import gradwise as gw
mode = sys.argv[1]
rng = np.random.default_rng(0)
X = rng.standard_normal((64, 25)).astype(np.float32)
y = rng.integers(0, 2, 64)
model = gw.Sequential([gw.layers.Dense(128, activation="relu"),
                       gw.layers.Dense(128, activation="relu"),
                       gw.layers.Dense(2, activation="softmax")], input_dim=25, seed=0)
model.compile(optimizer="adam", loss="categorical_crossentropy", kernels=mode)
start = time.perf_counter()
model.fit(X, y, epochs=1, batch_size=64, verbose=0)
print(time.perf_counter() - start)
"""


def network(widths, loss, kernels, seed=0):
    import gradwise as gw
    layers = [gw.layers.Dense(units, activation="relu") for units in widths[1:-1]]
    layers.append(gw.layers.Dense(widths[-1], activation="softmax" if loss != "mse" else None))
    model = gw.Sequential(layers, input_dim=widths[0], seed=seed)
    model.compile(optimizer="adam", loss=loss, kernels=kernels,
                  metrics=["accuracy"] if loss != "mse" else ["mae"])
    return model


def data(widths, loss, rows, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, widths[0])).astype(np.float32)
    if loss == "mse":
        return X, X[:, :widths[-1]].sum(axis=1, keepdims=True)
    return X, rng.integers(0, widths[-1], rows)


def measure_saving(widths, loss, batch, steps, pairs):
    """Median seconds per step of one epoch of ``fit`` on each path, in alternated pairs."""
    from gradwise.backend import kernels as _kernels
    X, y = data(widths, loss, steps * batch)
    network(widths, loss, "always").fit(X[:batch], y[:batch], epochs=1, batch_size=batch,
                                         verbose=0)  # loads the kernels: not timed
    runs = {"never": [], "always": []}
    for pair in range(pairs):
        for mode in (("never", "always") if pair % 2 == 0 else ("always", "never")):
            model = network(widths, loss, mode)
            start = time.perf_counter()
            model.fit(X, y, epochs=1, batch_size=batch, verbose=0)
            runs[mode].append((time.perf_counter() - start) / steps)
    model = network(widths, loss, "never")
    model.build()
    predicted = _kernels.step_saving(model.params_buffer.size, batch, model._total_units)
    never, always = (statistics.median(runs[m]) for m in ("never", "always"))
    return {"params": int(model.params_buffer.size), "units": int(model._total_units),
            "batch": batch, "never_us": never * 1e6, "always_us": always * 1e6,
            "saving_us": (never - always) * 1e6, "predicted_us": predicted * 1e6,
            "runs_us": {m: [r * 1e6 for r in v] for m, v in runs.items()}}


def measure_startup(runs):
    """Seconds the first compiled training call costs more than the same call in NumPy, in a
    fresh process each (the disk cache warmed by an untimed first run)."""
    def once(mode):
        out = subprocess.run([sys.executable, "-c", STARTUP, mode], capture_output=True,
                             text=True, check=True)
        return float(out.stdout.strip().splitlines()[-1])
    once("always")
    extra = []
    for _ in range(runs):
        extra.append(once("always") - once("never"))
    return {"seconds": statistics.median(extra), "runs": extra}


def fit_coefficients(rows):
    """Least squares ``saving = a + b * params + c * batch * units`` (seconds per step)."""
    import numpy as np
    A = np.array([[1.0, r["params"], r["batch"] * r["units"]] for r in rows])
    b = np.array([r["saving_us"] * 1e-6 for r in rows])
    coef, *_ = np.linalg.lstsq(A, b, rcond=None)
    return {"per_step_s": coef[0], "per_param_s": coef[1], "per_activation_s": coef[2]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", type=int, default=3, help="alternated never/always pairs per network")
    p.add_argument("--steps", type=int, default=1500, help="training steps per timed epoch")
    p.add_argument("--startup-runs", type=int, default=3)
    p.add_argument("--json", help="write the results here")
    p.add_argument("--smoke", action="store_true", help="two small networks, few steps")
    args = p.parse_args(argv)
    from gradwise.backend import kernels as _kernels
    if not _kernels.available():
        print("Numba is not installed: nothing to measure (pip install numba).")
        return 0
    grid = GRID[:1] + GRID[-1:] if args.smoke else GRID
    steps, pairs = (20, 1) if args.smoke else (args.steps, args.pairs)
    print(f"load average {os.getloadavg()[0]:.2f}; {steps} steps per epoch, {pairs} pair(s)")
    print(f"{'network':26s} {'params':>8s} {'batch':>5s} {'numpy us':>9s} {'numba us':>9s} "
          f"{'saved us':>9s} {'model us':>9s}")
    rows = []
    for name, widths, loss, batch in grid:
        row = measure_saving(widths, loss, batch, steps, pairs)
        rows.append({"network": name, **row})
        print(f"{name:26s} {row['params']:8d} {batch:5d} {row['never_us']:9.0f} "
              f"{row['always_us']:9.0f} {row['saving_us']:9.0f} {row['predicted_us']:9.0f}",
              flush=True)
    coef = fit_coefficients(rows) if len(rows) >= 3 else None
    if coef:
        print(f"fitted: {coef['per_step_s'] * 1e6:.1f} us per step + "
              f"{coef['per_param_s'] * 1e9:.2f} ns per parameter + "
              f"{coef['per_activation_s'] * 1e9:.2f} ns per activation")
    startup = measure_startup(1 if args.smoke else args.startup_runs)
    print(f"start-up (disk cache warm): {startup['seconds']:.2f} s "
          f"(runs {', '.join(f'{s:.2f}' for s in startup['runs'])}); "
          f"PAYBACK_SECONDS = {_kernels.PAYBACK_SECONDS}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "fitted": coef, "startup": startup,
                       "load": os.getloadavg()[0]}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
