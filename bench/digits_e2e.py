"""Train scikit-learn's digits end to end in a fresh process per framework.

    python -m bench.digits_e2e                     # gradwise, torch, jax, sklearn; 50 epochs
    python bench/digits_e2e.py --smoke --only gradwise
    python bench/digits_e2e.py --json e2e.json --threads 1

Task: 80/20 stratified split (random_state=0), standardized with the training mean/std,
64-128-128-10 ReLU + softmax cross-entropy, Adam(lr=1e-3), batch 64 (last batch smaller),
50 epochs, reshuffled every epoch, float32.

The parent prepares the data once (scikit-learn + NumPy) into a temporary .npz, then runs
`python digits_e2e.py --framework X --data FILE` for each framework. The child imports only
NumPy and its framework, trains, evaluates, and prints one JSON line. Reported:
- wall: seconds from starting the child process to its exit (interpreter start, imports,
  loading the .npz, training, evaluation), measured by the parent;
- import / train: the child's own timings of `import <framework>` and of the training loop;
- acc: test accuracy; peak MB: the child's peak resident memory, VmHWM of its own process
  image. (ru_maxrss from os.wait4/getrusage is kept in the JSON but not shown: on Linux it
  inherits the parent's peak across vfork+exec, ~125 MB here because the parent loaded
  scikit-learn to prepare the data.)
`import gradwise` alone is timed in fresh processes (median of --import-reps).
"""
from __future__ import annotations

import os
import sys

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _common as common  # type: ignore
else:
    from . import _common as common

_THREADS = common.preparse_threads(sys.argv, default=1)
common.set_thread_env(_THREADS)
_PINNED = common.pin_cpus(_THREADS) if common.preparse_pin(sys.argv) else None

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

FRAMEWORKS = ("gradwise", "torch", "jax", "sklearn")
HIDDEN, BATCH, LR, SEED = 128, 64, 1e-3, 0
perf = time.perf_counter
THIS_FILE = os.path.abspath(__file__)


# ------------------------------------------------------------------------------ child side

def child_gradwise(d, epochs, threads):
    t0 = perf()
    import gradwise as gw
    t_import = perf() - t0
    if not hasattr(gw, "Sequential"):
        return {"skip": "gradwise.Sequential not available yet (engine not landed)"}
    if hasattr(gw, "set_num_threads"):
        gw.set_num_threads(threads)
    t0 = perf()
    model = gw.Sequential([
        gw.layers.Dense(HIDDEN, activation="relu"),
        gw.layers.Dense(HIDDEN, activation="relu"),
        gw.layers.Dense(10, activation="softmax"),
    ], input_dim=64, seed=SEED)
    model.compile(optimizer=gw.optimizers.Adam(learning_rate=LR),
                  loss="categorical_crossentropy")
    model.fit(d["X_train"], d["y_train"], epochs=epochs, batch_size=BATCH, shuffle=True,
              verbose=0)
    t_train = perf() - t0
    pred = model.predict(d["X_test"]).argmax(axis=1)
    return {"import": t_import, "train": t_train, "pred": pred,
            "version": getattr(gw, "__version__", "?")}


def child_torch(d, epochs, threads):
    import numpy as np
    t0 = perf()
    import torch
    t_import = perf() - t0
    torch.set_num_threads(threads)
    t0 = perf()
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, HIDDEN), torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN, 10))
    try:
        opt = torch.optim.Adam(model.parameters(), lr=LR, fused=True)
        variant = "fused"
    except Exception:  # noqa: BLE001
        opt = torch.optim.Adam(model.parameters(), lr=LR)
        variant = "default"
    crit = torch.nn.CrossEntropyLoss()
    X = torch.from_numpy(d["X_train"])
    y = torch.from_numpy(d["y_train"].astype(np.int64))
    n = X.shape[0]
    g = torch.Generator().manual_seed(SEED)
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad(set_to_none=True)
            loss = crit(model(X[idx]), y[idx])
            loss.backward()
            opt.step()
    t_train = perf() - t0
    with torch.no_grad():
        pred = model(torch.from_numpy(d["X_test"])).argmax(dim=1).numpy()
    return {"import": t_import, "train": t_train, "pred": pred, "version": torch.__version__,
            "note": "Adam(%s)" % variant}


def child_jax(d, epochs, threads):
    import functools

    import numpy as np
    t0 = perf()
    import jax
    import jax.numpy as jnp
    import optax
    t_import = perf() - t0
    t0 = perf()
    key = jax.random.PRNGKey(SEED)
    params = []
    for fi, fo in ((64, HIDDEN), (HIDDEN, HIDDEN), (HIDDEN, 10)):
        key, k = jax.random.split(key)
        lim = np.sqrt(6.0 / (fi + fo))
        params.append((jax.random.uniform(k, (fi, fo), jnp.float32, -lim, lim),
                       jnp.zeros((fo,), jnp.float32)))
    tx = optax.adam(LR)
    state = tx.init(params)

    def forward(p, X):
        h = X
        for W, b in p[:-1]:
            h = jax.nn.relu(h @ W + b)
        W, b = p[-1]
        return h @ W + b

    def loss_fn(p, X, y):
        return optax.softmax_cross_entropy_with_integer_labels(forward(p, X), y).mean()

    @functools.partial(jax.jit, donate_argnums=(0, 1))
    def step(p, s, X, y):
        loss, g = jax.value_and_grad(loss_fn)(p, X, y)
        u, s = tx.update(g, s, p)
        return optax.apply_updates(p, u), s, loss

    Xtr, ytr = d["X_train"], d["y_train"].astype(np.int32)
    n = Xtr.shape[0]
    rng = np.random.default_rng(SEED)
    for _ in range(epochs):
        perm = rng.permutation(n)
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            params, state, loss = step(params, state, Xtr[idx], ytr[idx])
    jax.block_until_ready(params)
    t_train = perf() - t0
    pred = np.asarray(jax.jit(forward)(params, d["X_test"]).argmax(axis=1))
    return {"import": t_import, "train": t_train, "pred": pred, "version": jax.__version__,
            "note": "jit step"}


def child_sklearn(d, epochs, threads):
    import warnings
    t0 = perf()
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    import sklearn
    t_import = perf() - t0
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(threads)
    except Exception:  # noqa: BLE001
        pass
    t0 = perf()
    clf = MLPClassifier(hidden_layer_sizes=(HIDDEN, HIDDEN), activation="relu", solver="adam",
                        learning_rate_init=LR, batch_size=BATCH, max_iter=epochs, alpha=0.0,
                        shuffle=True, random_state=SEED, tol=0.0,
                        n_iter_no_change=epochs + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(d["X_train"], d["y_train"])
    t_train = perf() - t0
    pred = clf.predict(d["X_test"])
    return {"import": t_import, "train": t_train, "pred": pred,
            "version": sklearn.__version__, "note": "fit, %d epochs" % clf.n_iter_}


CHILDREN = {"gradwise": child_gradwise, "torch": child_torch, "jax": child_jax,
            "sklearn": child_sklearn}


def child_main(fw, data_path, epochs, threads):
    import numpy as np
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(threads)
    except Exception:  # noqa: BLE001
        pass
    with np.load(data_path) as z:
        d = {k: z[k] for k in z.files}
    try:
        r = CHILDREN[fw](d, epochs, threads)
    except ImportError as e:
        r = {"skip": "%s not importable (%s)" % (fw, e)}
    if "pred" in r:
        r["acc"] = float((np.asarray(r.pop("pred")).ravel() == d["y_test"]).mean())
    r["maxrss_self_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    r["vmhwm_kb"] = vm_hwm_kb()
    print("RESULT " + json.dumps(r), flush=True)
    return 0


def vm_hwm_kb():
    """Peak RSS of this process image (VmHWM), or None where /proc is missing."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


# ----------------------------------------------------------------------------- parent side

def prepare_data(path):
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    mu = Xtr.mean(axis=0)
    sd = Xtr.std(axis=0)
    sd[sd == 0] = 1.0
    np.savez(path, X_train=((Xtr - mu) / sd).astype(np.float32),
             X_test=((Xte - mu) / sd).astype(np.float32),
             y_train=ytr.astype(np.int64), y_test=yte.astype(np.int64))
    return len(ytr), len(yte)


def run_child(args, env):
    """Run a fresh Python; return (wall seconds, rusage, stdout, stderr, returncode).

    Output goes to temporary files (no pipe can fill up) and the child is reaped with
    os.wait4, which gives that child's own resource usage (ru_maxrss = its peak RSS).
    """
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        t0 = perf()
        p = subprocess.Popen(args, stdout=fo, stderr=fe, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = perf() - t0
        p.returncode = rc = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        return wall, ru, fo.read(), fe.read(), rc


def child_env(threads):
    env = dict(os.environ)
    for k in ("XLA_FLAGS",):
        env.pop(k, None)
    common.set_thread_env(threads, env)
    return env


def time_import(module, reps, threads):
    env = child_env(threads)
    code = ("import time; t=time.perf_counter(); import %s; "
            "print(time.perf_counter()-t)" % module)
    ts = []
    for _ in range(reps):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        if r.returncode != 0:
            return None, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "failed"
        ts.append(float(r.stdout.strip().splitlines()[-1]))
    ts.sort()
    return ts[len(ts) // 2], None


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--framework", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    p.add_argument("--only", default=",".join(FRAMEWORKS))
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS/intra-op threads for every framework (default 1)")
    p.add_argument("--no-pin", action="store_true",
                   help="do not restrict the process to --threads CPUs (default: pinned; "
                        "without pinning XLA may use more threads than asked)")
    p.add_argument("--import-reps", type=int, default=5,
                   help="fresh processes for timing `import gradwise` (median)")
    p.add_argument("--smoke", action="store_true", help="2 epochs, 1 import timing")
    p.add_argument("--json", metavar="FILE")
    a = p.parse_args(argv)
    a.only = [s.strip() for s in a.only.split(",") if s.strip()]
    bad = [s for s in a.only if s not in FRAMEWORKS]
    if bad:
        p.error("unknown framework(s) %s; choose among %s" % (bad, ",".join(FRAMEWORKS)))
    if a.smoke:
        a.epochs, a.import_reps = 2, 1
    return a


def main(argv=None):
    opts = parse_args(argv)
    if opts.framework:
        return child_main(opts.framework, opts.data, opts.epochs, opts.threads)

    print("digits end to end: 64-128-128-10 ReLU, Adam(1e-3), batch %d, %d epochs, threads=%d; "
          "one fresh process per framework; %s"
          % (BATCH, opts.epochs, opts.threads,
             "pinned to CPUs %s" % _PINNED if _PINNED is not None else "not pinned"),
          flush=True)
    env = child_env(opts.threads)
    results, skipped = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "digits.npz")
        n_train, n_test = prepare_data(data)
        for fw in opts.only:
            args = [sys.executable, THIS_FILE, "--framework", fw, "--data", data,
                    "--epochs", str(opts.epochs), "--threads", str(opts.threads)]
            wall, ru, out, err, rc = run_child(args, env)
            line = [ln for ln in out.splitlines() if ln.startswith("RESULT ")]
            if rc != 0 or not line:
                tail = "\n".join(err.strip().splitlines()[-15:])
                raise SystemExit("%s child failed (exit %s):\n%s" % (fw, rc, tail))
            r = json.loads(line[-1][len("RESULT "):])
            if "skip" in r:
                skipped[fw] = r["skip"]
                print("skip %s: %s" % (fw, r["skip"]), flush=True)
                continue
            r["wall"] = wall
            # ru_maxrss of the child (os.wait4) carries the parent's peak into the child across
            # vfork+exec on Linux (the parent holds sklearn: ~125 MB), so the reported peak is
            # the child image's own high-water mark (VmHWM) where /proc has it.
            r["ru_maxrss_mb"] = ru.ru_maxrss / 1024.0  # Linux: kilobytes
            hwm = r.get("vmhwm_kb")
            r["peak_mb"] = hwm / 1024.0 if hwm else r["ru_maxrss_mb"]
            results[fw] = r
            print("  %-9s wall %6.2f s  acc %.4f  peak %5.0f MB" % (fw, wall, r["acc"],
                                                                  r["peak_mb"]), flush=True)
    imp, imp_err = (None, None)
    if "gradwise" in opts.only:
        imp, imp_err = time_import("gradwise", opts.import_reps, opts.threads)
    imp_np, _ = time_import("numpy", opts.import_reps, opts.threads)

    print()
    print(table(results))
    print()
    if imp is not None:
        print("import gradwise: %.3f s (fresh process, median of %d; import numpy alone %.3f s)"
              % (imp, opts.import_reps, imp_np or float("nan")))
    elif imp_err:
        print("import gradwise failed: %s" % imp_err)
    for fw, why in skipped.items():
        print("skipped %s: %s" % (fw, why))
    if opts.json:
        info = common.machine_info(opts.threads)
        for fw, r in results.items():
            info[fw] = r.get("version")
        out = {"benchmark": "digits_e2e", "machine": info,
               "settings": {"epochs": opts.epochs, "batch": BATCH, "hidden": HIDDEN,
                            "lr": LR, "threads": opts.threads, "pinned_cpus": _PINNED,
                            "n_train": n_train,
                            "n_test": n_test},
               "import_gradwise_s": imp, "import_numpy_s": imp_np,
               "skipped": skipped, "results": results}
        with open(opts.json, "w") as f:
            json.dump(out, f, indent=1)
        print("wrote", opts.json)
    return 0


def table(results):
    header = ["framework", "wall s", "import s", "train s", "test acc", "peak MB", "note"]
    if "gradwise" in results:
        header.insert(2, "wall/gw")
    rows = []
    gw = results.get("gradwise", {}).get("wall")
    for fw, r in results.items():
        row = [fw, "%.2f" % r["wall"], "%.2f" % r["import"], "%.2f" % r["train"],
               "%.4f" % r["acc"], "%.0f" % r["peak_mb"], r.get("note", "")]
        if gw:
            row.insert(2, "%.2f" % (r["wall"] / gw))
        rows.append(row)
    return common.render_table(header, rows)


if __name__ == "__main__":
    sys.exit(main())
