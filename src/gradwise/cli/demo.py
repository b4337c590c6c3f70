"""``gradwise demo-data``: the CSV files the README's examples use, made up (seeded) in a folder.

``houses.csv`` (regression: ``price``), ``churn.csv`` (classification: ``churned``, with an
ISO date, a text column and an ``id``), ``new_customers.csv`` (the same columns
without the target, for ``predict``) and ``payments.csv`` (rows with about 1% of odd ones and
a ``fraud`` label, for ``anomalies``). A missing folder is created (its parent must exist, as
with ``mkdir``); existing files are never overwritten.
"""
import os

import numpy as np

from ..io.files import unwritable
from .guard import seed

FILES = ("houses.csv", "churn.csv", "new_customers.csv", "payments.csv")


def add_parser(commands):
    command = commands.add_parser(
        "demo-data", help="write the example CSV files the README uses (houses, churn, "
                          "new_customers, payments) into a folder")
    command.add_argument("--dir", default=".", help="folder to write them in, created if missing "
                                                   "(default: here)")
    command.add_argument("--seed", type=seed, default=0, help="seed of the made-up rows")
    return command


def run(args):
    folder = args.dir
    _make_folder(folder)
    existing = [name for name in FILES if os.path.exists(os.path.join(folder, name))]
    if existing:
        raise ValueError(f"--dir: {', '.join(existing)} already exist in {folder!r}; demo-data "
                         "never overwrites files (choose another --dir).")
    problem = unwritable(os.path.join(folder, FILES[0]))  # a probe file: root, special folders
    if problem:
        raise ValueError(f"--dir: cannot write files in {folder!r}: {problem}.")
    from ..io import _atomic_write
    rng = np.random.default_rng(args.seed)
    tables = {"houses.csv": _houses(rng), "payments.csv": _payments(rng)}
    churn = _churn(rng, 1200)
    tables["churn.csv"] = churn
    new = _churn(rng, 40, first_id=9000)
    tables["new_customers.csv"] = (new[0][:-1], [row[:-1] for row in new[1]])
    for name in FILES:
        header, rows = tables[name]
        text = ",".join(header) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)
        _atomic_write(os.path.join(folder, name), lambda f, t=text: f.write(t.encode()),
                      suffix=".csv")
        print(f"{os.path.join(folder, name)}: {len(rows)} rows, columns {', '.join(header)}")


def _make_folder(folder):
    """Create ``folder`` when it is missing and its parent is a folder (as ``mkdir`` does, one
    level only, so a mistyped path is not silently built)."""
    if os.path.isdir(folder):
        return
    if not folder:
        raise ValueError("--dir: expected a folder name, received ''.")
    if os.path.lexists(folder):
        raise ValueError(f"--dir: {folder!r} exists and is not a folder.")
    parent = os.path.dirname(os.path.normpath(folder)) or "."
    if not os.path.isdir(parent):
        what = "is not a folder" if os.path.exists(parent) else "does not exist"
        raise ValueError(f"--dir: cannot create {folder!r}: its parent {parent!r} {what}.")
    try:
        os.mkdir(folder)
    except OSError as error:
        raise ValueError(f"--dir: cannot create {folder!r}: {error.strerror}.") from None
    print(f"created folder {folder}")


def _houses(rng, n=800):
    area = rng.gamma(9.0, 12.0, n).round(1)
    rooms = np.clip((area / 30 + rng.normal(0, 0.8, n)).round(), 1, 9).astype(int)
    age = rng.integers(0, 80, n)
    city = rng.choice(["north", "centre", "south"], n, p=[0.3, 0.3, 0.4])
    premium = np.select([city == "centre", city == "north"], [1.4, 1.1], 1.0)
    price = (area * 2100 * premium + rooms * 9000 - age * 600 + rng.normal(0, 15000, n))
    rows = [[a, r, g, c, round(p, -2)] for a, r, g, c, p in zip(area, rooms, age, city, price)]
    return ["area", "rooms", "age", "city", "price"], rows


def _churn(rng, n, first_id=1000):
    tenure = rng.integers(1, 72, n)
    fee = rng.normal(55, 18, n).clip(10).round(2)
    calls = rng.poisson(1.5, n)
    plan = rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2])
    days = rng.integers(0, 5 * 365, n)
    signup = (np.datetime64("2019-01-01") + days.astype("timedelta64[D]")).astype(str)
    logit = -1.0 - tenure / 24 + (fee - 55) / 25 + 0.6 * calls - 0.5 * (plan == "pro")
    churned = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    rows = [[first_id + i, t, f, c, p, s, y] for i, (t, f, c, p, s, y) in
            enumerate(zip(tenure, fee, calls, plan, signup, churned))]
    return ["id", "tenure_months", "monthly_fee", "support_calls", "plan", "signup",
            "churned"], rows


def _payments(rng, n=3000):
    amount = rng.lognormal(3.5, 0.6, n).round(2)
    hour = rng.normal(14, 3.5, n).clip(0, 23).round().astype(int)
    items = rng.poisson(2, n) + 1
    fraud = rng.random(n) < 0.01
    amount[fraud] = (amount[fraud] * rng.uniform(8, 20, fraud.sum())).round(2)
    hour[fraud] = rng.integers(0, 5, fraud.sum())
    rows = [[50000 + i, a, h, k, int(f)] for i, (a, h, k, f) in
            enumerate(zip(amount, hour, items, fraud))]
    return ["id", "amount", "hour", "items", "fraud"], rows
