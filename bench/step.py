"""Time ONE training step (forward, backward, Adam update) of 64 -> H -> H -> 10 (ReLU,
softmax cross-entropy, float32) in gradwise and its peers, side by side in one process.

    python -m bench.step                       # full grid, 1 thread
    python -m bench.step --threads 2 --json out.json
    python -m bench.step --smoke --only gradwise,floor
    python bench/step.py --only gradwise,torch --batch 32,128 --hidden 64

Method (see bench/README.md):
- Every framework is held to the same number of BLAS/intra-op threads (--threads, default 1):
  environment variables set before any import, threadpoolctl for NumPy's BLAS (process-wide),
  torch.set_num_threads, XLA_FLAGS for JAX, and the process pinned to that many CPUs (XLA
  ignores its flag for matmuls in JAX 0.10; --no-pin to switch pinning off).
- JAX jits the whole step with params and optimizer state donated (in-place update; 2x
  faster at H=1024 than without).
- For each grid cell the frameworks run one after another (interleaved, so load changes on a
  shared machine hit them alike). Each one: warm-up (first call separately timed: JAX compile),
  then steps are timed one by one with perf_counter; repeats are chosen so that a cell takes
  about --target seconds (default 0.5 s) with at least --min-reps steps; the median is reported.
  The garbage collector is off while timing.
- Every step uses the same fixed batch (random normal X, integer labels).
- scikit-learn has no public single-step call: its time per step is one partial_fit epoch over
  K*B samples divided by K, median over several epochs (so it includes per-epoch overhead:
  input validation, label binarization, loss bookkeeping, amortized over K batches).
- "floor" is the step's 8 matrix products alone in NumPy (3 forward, 5 backward: dW of each
  layer, dX of layers 2 and 3) into preallocated outputs: no element-wise work, no update.
"""
from __future__ import annotations

import os
import sys

if __package__ in (None, ""):  # run as a script: python bench/step.py
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _common as common  # type: ignore
else:
    from . import _common as common

# Threads must be fixed before NumPy / torch / jax load their thread pools.
_THREADS = common.preparse_threads(sys.argv, default=1)
common.set_thread_env(_THREADS)
_PINNED = common.pin_cpus(_THREADS) if common.preparse_pin(sys.argv) else None
# One step of a long run is what this benchmark measures: for such a run gradwise's default
# ("auto") chooses its compiled kernels (their start-up is repaid), so pin them here, where
# each train_on_batch call is a run of one step.
os.environ.setdefault("GRADWISE_KERNELS", "always")

import argparse  # noqa: E402
import functools  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

D_IN, N_CLASSES = 64, 10
LR = 1e-3
FRAMEWORKS = ("gradwise", "torch", "jax", "sklearn", "floor")
perf = time.perf_counter


class Skip(Exception):
    """A framework cannot run here (not installed, API not there yet)."""


def make_batch(B, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((B, D_IN), dtype=np.float32)
    y = rng.integers(0, N_CLASSES, size=B).astype(np.int64)
    return X, y


def time_steps(step, target, min_reps, max_reps, warmup=0.05):
    """Warm up, then time `step()` one call at a time; return dict of stats (seconds)."""
    t0 = perf()
    step()
    first = perf() - t0
    # Warm-up: at least 3 calls and ~`warmup` seconds.
    w = []
    t_end = perf() + warmup
    while len(w) < 3 or (perf() < t_end and len(w) < max_reps):
        t0 = perf()
        step()
        w.append(perf() - t0)
    est = float(np.median(w[-5:]))
    n = int(min(max_reps, max(min_reps, target / max(est, 1e-7))))
    times = np.empty(n)
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for i in range(n):
            t0 = perf()
            step()
            times[i] = perf() - t0
    finally:
        if gc_was:
            gc.enable()
    return {
        "median": float(np.median(times)),
        "p25": float(np.percentile(times, 25)),
        "p75": float(np.percentile(times, 75)),
        "min": float(times.min()),
        "reps": n,
        "first_call": first,
    }


# ---------------------------------------------------------------------------------------------
# Runners: each returns (stats, note) or raises Skip.
# ---------------------------------------------------------------------------------------------

def run_gradwise(B, H, opts):
    try:
        import gradwise as gw
    except Exception as e:  # noqa: BLE001
        raise Skip("gradwise not importable (%s: %s)" % (type(e).__name__, e))
    if not hasattr(gw, "Sequential"):
        raise Skip("gradwise.Sequential not available yet (engine not landed)")
    if hasattr(gw, "set_num_threads"):
        gw.set_num_threads(opts.threads)
    model = gw.Sequential([
        gw.layers.Dense(H, activation="relu"),
        gw.layers.Dense(H, activation="relu"),
        gw.layers.Dense(N_CLASSES, activation="softmax"),
    ], input_dim=D_IN, seed=0)
    model.compile(optimizer=gw.optimizers.Adam(LR), loss="categorical_crossentropy")
    if not hasattr(model, "train_on_batch"):
        raise Skip("gradwise Sequential has no train_on_batch yet")
    X, y = make_batch(B)
    loss0 = float(model.train_on_batch(X, y))
    if not np.isfinite(loss0):
        raise RuntimeError("gradwise train_on_batch returned a non-finite loss %r" % loss0)
    stats = time_steps(lambda: model.train_on_batch(X, y), opts.target, opts.min_reps,
                       opts.max_reps)
    return stats, "train_on_batch"


_TORCH_VARIANTS = (("fused", {"fused": True}), ("foreach", {"foreach": True}),
                   ("default", {}))


def run_torch(B, H, opts):
    try:
        import torch
    except Exception as e:  # noqa: BLE001
        raise Skip("torch not importable (%s)" % e)
    torch.set_num_threads(opts.threads)
    X_np, y_np = make_batch(B)
    X = torch.from_numpy(X_np)
    y = torch.from_numpy(y_np)
    best = None
    notes = []
    for name, kw in _TORCH_VARIANTS:
        torch.manual_seed(0)
        model = torch.nn.Sequential(
            torch.nn.Linear(D_IN, H), torch.nn.ReLU(),
            torch.nn.Linear(H, H), torch.nn.ReLU(),
            torch.nn.Linear(H, N_CLASSES))
        crit = torch.nn.CrossEntropyLoss()
        try:
            opt = torch.optim.Adam(model.parameters(), lr=LR, **kw)
        except Exception as e:  # noqa: BLE001
            notes.append("%s unavailable (%s)" % (name, str(e).splitlines()[0][:60]))
            continue

        def step(model=model, opt=opt, crit=crit):
            opt.zero_grad(set_to_none=True)
            loss = crit(model(X), y)
            loss.backward()
            opt.step()
            return loss

        try:
            step()
        except Exception as e:  # noqa: BLE001
            notes.append("%s failed (%s)" % (name, str(e).splitlines()[0][:60]))
            continue
        # Each variant gets a third of the time budget; keep the fastest.
        st = time_steps(step, opts.target / len(_TORCH_VARIANTS), max(3, opts.min_reps // 2),
                        opts.max_reps)
        st["variant"] = name
        st["variants"] = {}
        if best is None or st["median"] < best["median"]:
            prev = best["variants"] if best else {}
            best = st
            best["variants"] = prev
        best["variants"][name] = st["median"]
    if best is None:
        raise Skip("no torch Adam variant ran: " + "; ".join(notes))
    if notes:
        best["notes"] = notes
    return best, "Adam(%s)" % best["variant"]


def run_jax(B, H, opts):
    try:
        import jax
        import jax.numpy as jnp
        import optax
    except Exception as e:  # noqa: BLE001
        raise Skip("jax/optax not importable (%s)" % e)
    X_np, y_np = make_batch(B)
    X = jnp.asarray(X_np)
    y = jnp.asarray(y_np.astype(np.int32))
    key = jax.random.PRNGKey(0)
    params = []
    for fan_in, fan_out in ((D_IN, H), (H, H), (H, N_CLASSES)):
        key, k = jax.random.split(key)
        lim = np.sqrt(6.0 / (fan_in + fan_out))
        params.append((jax.random.uniform(k, (fan_in, fan_out), jnp.float32, -lim, lim),
                       jnp.zeros((fan_out,), jnp.float32)))
    tx = optax.adam(LR)
    opt_state = tx.init(params)

    def loss_fn(p, X, y):
        h = X
        for W, b in p[:-1]:
            h = jax.nn.relu(h @ W + b)
        W, b = p[-1]
        logits = h @ W + b
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    # Donating params and optimizer state lets XLA update them in place (2x faster at H=1024
    # than without; measured): the fastest JAX configuration we know.
    @functools.partial(jax.jit, donate_argnums=(0, 1))
    def train_step(p, s, X, y):
        loss, g = jax.value_and_grad(loss_fn)(p, X, y)
        updates, s = tx.update(g, s, p)
        return optax.apply_updates(p, updates), s, loss

    state = {"p": params, "s": opt_state}

    def step():
        p, s, loss = train_step(state["p"], state["s"], X, y)
        jax.block_until_ready((p, s, loss))
        state["p"], state["s"] = p, s
        return loss

    stats = time_steps(step, opts.target, opts.min_reps, opts.max_reps)
    return stats, "jit+donate (compile %.0f ms)" % (stats["first_call"] * 1e3)


def run_sklearn(B, H, opts):
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
    except Exception as e:  # noqa: BLE001
        raise Skip("scikit-learn not importable (%s)" % e)
    classes = np.arange(N_CLASSES)

    def make(K):
        rng = np.random.default_rng(1)
        Xk = rng.standard_normal((K * B, D_IN), dtype=np.float32)
        yk = rng.integers(0, N_CLASSES, size=K * B)
        return Xk, yk

    clf = MLPClassifier(hidden_layer_sizes=(H, H), activation="relu", solver="adam",
                        learning_rate_init=LR, batch_size=B, alpha=0.0, shuffle=False,
                        random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Estimate with a short epoch (also initializes the weights, outside the timing).
        Xk, yk = make(4)
        clf.partial_fit(Xk, yk, classes=classes)
        t0 = perf()
        clf.partial_fit(Xk, yk)
        per_step = (perf() - t0) / 4
        # K batches per epoch: an epoch of ~target/4 s, at least 4 and at most 256 batches.
        K = int(min(256, max(4, (opts.target / 4) / max(per_step, 1e-7))))
        Xk, yk = make(K)
        clf.partial_fit(Xk, yk)  # warm-up on the final shape
        reps = max(3, min(20, int(opts.target / max(per_step * K, 1e-7))))
        if opts.smoke:
            reps = 3
        times = np.empty(reps)
        gc.disable()
        try:
            for i in range(reps):
                t0 = perf()
                clf.partial_fit(Xk, yk)
                times[i] = (perf() - t0) / K
        finally:
            gc.enable()
    stats = {"median": float(np.median(times)), "p25": float(np.percentile(times, 25)),
             "p75": float(np.percentile(times, 75)), "min": float(times.min()),
             "reps": reps, "batches_per_epoch": K}
    return stats, "partial_fit/%d" % K


def run_floor(B, H, opts):
    rng = np.random.default_rng(0)
    f32 = np.float32
    X = rng.standard_normal((B, D_IN), dtype=f32)
    W1 = rng.standard_normal((D_IN, H), dtype=f32)
    W2 = rng.standard_normal((H, H), dtype=f32)
    W3 = rng.standard_normal((H, N_CLASSES), dtype=f32)
    h1 = np.empty((B, H), f32)
    h2 = np.empty((B, H), f32)
    z3 = np.empty((B, N_CLASSES), f32)
    d3 = rng.standard_normal((B, N_CLASSES), dtype=f32)
    d2 = np.empty((B, H), f32)
    d1 = np.empty((B, H), f32)
    dW1 = np.empty_like(W1)
    dW2 = np.empty_like(W2)
    dW3 = np.empty_like(W3)
    mm = np.matmul

    def step():
        mm(X, W1, out=h1)            # forward
        mm(h1, W2, out=h2)
        mm(h2, W3, out=z3)
        mm(h2.T, d3, out=dW3)        # backward, layer 3
        mm(d3, W3.T, out=d2)
        mm(h1.T, d2, out=dW2)        # layer 2
        mm(d2, W2.T, out=d1)
        mm(X.T, d1, out=dW1)         # layer 1 (no dX)

    stats = time_steps(step, opts.target, opts.min_reps, opts.max_reps)
    return stats, "8 matmuls"


RUNNERS = {"gradwise": run_gradwise, "torch": run_torch, "jax": run_jax,
           "sklearn": run_sklearn, "floor": run_floor}


# ---------------------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS/intra-op threads for every framework (default 1)")
    p.add_argument("--no-pin", action="store_true",
                   help="do not restrict the process to --threads CPUs (default: pinned; "
                        "without pinning XLA may use more threads than asked)")
    p.add_argument("--only", default=",".join(FRAMEWORKS),
                   help="comma-separated frameworks among %s" % ",".join(FRAMEWORKS))
    p.add_argument("--batch", default="32,128,512,2048", help="batch sizes B")
    p.add_argument("--hidden", default="64,256,1024", help="hidden widths H")
    p.add_argument("--target", type=float, default=0.5,
                   help="seconds of timed steps per framework and cell (default 0.5)")
    p.add_argument("--min-reps", type=int, default=20)
    p.add_argument("--max-reps", type=int, default=20000)
    p.add_argument("--smoke", action="store_true",
                   help="tiny grid (B=32, H=64), few repeats: seconds")
    p.add_argument("--json", metavar="FILE", help="write the results as JSON")
    a = p.parse_args(argv)
    a.only = [s.strip() for s in a.only.split(",") if s.strip()]
    bad = [s for s in a.only if s not in RUNNERS]
    if bad:
        p.error("unknown framework(s) %s; choose among %s" % (bad, ",".join(FRAMEWORKS)))
    a.batch = [int(s) for s in a.batch.split(",")]
    a.hidden = [int(s) for s in a.hidden.split(",")]
    if a.smoke:
        a.batch, a.hidden = [32], [64]
        a.target, a.min_reps = min(a.target, 0.05), 5
    return a


def run_grid(opts):
    """Run every cell; frameworks interleaved within a cell. Returns (results, skipped)."""
    skipped = {}
    results = []  # one dict per cell
    for B in opts.batch:
        for H in opts.hidden:
            cell = {"B": B, "H": H}
            for fw in opts.only:
                if fw in skipped:
                    continue
                try:
                    stats, note = RUNNERS[fw](B, H, opts)
                except Skip as e:
                    skipped[fw] = str(e)
                    print("skip %s: %s" % (fw, e), flush=True)
                    continue
                stats["note"] = note
                cell[fw] = stats
                print("  B=%-5d H=%-5d %-9s %10s us  (%s, %d reps)"
                      % (B, H, fw, common.fmt_us(stats["median"] * 1e6), note, stats["reps"]),
                      flush=True)
            results.append(cell)
    return results, skipped


def main(argv=None):
    opts = parse_args(argv)
    if opts.threads != _THREADS:  # main() called with an argv different from sys.argv
        common.set_thread_env(opts.threads)
    print("gradwise step benchmark: 64 -> H -> H -> 10, ReLU, softmax CE, Adam(1e-3), float32; "
          "threads=%d, %s" % (opts.threads, pin_text()), flush=True)
    try:
        from threadpoolctl import threadpool_limits
        limiter = threadpool_limits(limits=opts.threads)
    except Exception:  # noqa: BLE001
        limiter = None
        print("note: threadpoolctl missing; NumPy BLAS threads set by environment only")
    try:
        results, skipped = run_grid(opts)
        info = common.machine_info(opts.threads)  # while the limits hold
    finally:
        if limiter is not None:
            limiter.restore_original_limits()

    ran = [fw for fw in opts.only if fw not in skipped]
    print()
    print(table(results, ran))
    print()
    print("machine: %s, %s cores, threads=%d, numpy %s; BLAS: %s"
          % (info["cpu"], info["cores"], opts.threads, info["numpy"], blas_summary(info)))
    if info["openblas_coretype"]:
        print("note: OPENBLAS_CORETYPE=%s is set in the environment: NumPy's OpenBLAS (gradwise, "
              "sklearn, floor) runs those kernels, whatever the CPU supports"
              % info["openblas_coretype"])
    for fw, why in skipped.items():
        print("skipped %s: %s" % (fw, why))
    if opts.json:
        out = {"benchmark": "step", "unit": "seconds per step", "machine": info,
               "settings": {"threads": opts.threads, "target_s": opts.target,
                            "min_reps": opts.min_reps, "smoke": opts.smoke,
                            "pinned_cpus": _PINNED,
                            "frameworks": opts.only},
               "skipped": skipped, "results": results}
        with open(opts.json, "w") as f:
            json.dump(out, f, indent=1)
        print("wrote", opts.json)
    return 0


def pin_text():
    return "pinned to CPUs %s" % _PINNED if _PINNED is not None else "not pinned"


def blas_summary(info):
    blas = info.get("blas")
    if not isinstance(blas, list):
        return str(blas)
    return ", ".join("%s %s (%s)" % (d.get("internal_api"), d.get("version"),
                                     d.get("architecture")) for d in blas
                     if d.get("user_api") == "blas") or "?"


def table(results, ran):
    """µs per step for each framework, then ratios peer/gradwise and gradwise/floor."""
    header = ["B", "H"] + ["%s us" % fw for fw in ran]
    peers = [fw for fw in ran if fw not in ("gradwise", "floor")]
    have_gw = "gradwise" in ran
    if have_gw:
        header += ["%s/gw" % fw for fw in peers]
        if "floor" in ran:
            header += ["gw/floor"]
    elif "floor" in ran:
        header += ["%s/floor" % fw for fw in peers]
    rows = []
    for c in results:
        med = {fw: c[fw]["median"] * 1e6 for fw in ran if fw in c}
        row = [c["B"], c["H"]] + [common.fmt_us(med.get(fw)) for fw in ran]
        if have_gw:
            g = med.get("gradwise")
            for fw in peers:
                row.append(common.fmt_ratio(med[fw] / g if g and fw in med else None))
            if "floor" in ran:
                f = med.get("floor")
                row.append(common.fmt_ratio(g / f if g and f else None))
        elif "floor" in ran:
            f = med.get("floor")
            for fw in peers:
                row.append(common.fmt_ratio(med[fw] / f if f and fw in med else None))
        rows.append(row)
    return common.render_table(header, rows)


if __name__ == "__main__":
    sys.exit(main())
