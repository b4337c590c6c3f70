"""Generated tables for ``python -m bench.tables``: numeric, date, low- and high-cardinality
text columns, missing cells and a 0/1 label that depends on all of them.

Two layouts:

- ``goal``: 20 numeric columns (three decimals), a 4-level and a 300-level text column and the
  label, about 155 bytes a row (200,000 rows are about 31 MB of CSV), no gaps;
- ``mixed``: the same plus an ISO date column, and 2% missing cells in two numeric columns and
  in the 4-level text column (for ``--impute``).

Rows are made in chunks of 200,000 with one seeded generator, so a file of any size is the
same for the same arguments, and memory stays flat while writing.
"""
import os

import numpy as np

CHUNK = 200_000
N_NUMERIC = 20
CITIES = 300
PLANS = ["basic", "plus", "pro", "team"]


def _chunk(rng, n, layout, start):
    """One chunk of rows as a pyarrow Table."""
    import pyarrow as pa
    X = rng.standard_normal((n, N_NUMERIC)).astype(np.float32)
    plan = rng.integers(0, len(PLANS), n)
    city = np.minimum(rng.zipf(1.3, n) - 1, CITIES - 1)  # a long tail, as city names have
    city_effect = np.sin(np.arange(CITIES) * 1.7)[city]  # each city its own pull
    logit = (X[:, 0] - 0.8 * X[:, 1] + 0.5 * X[:, 2] * X[:, 3] + 0.6 * (plan == 2)
             + 0.8 * city_effect)
    columns = {f"x{j}": pa.array(np.round(X[:, j], 3)) for j in range(N_NUMERIC)}
    names = np.array([f"city_{k:03d}" for k in range(CITIES)])
    columns["plan"] = pa.array(np.array(PLANS)[plan])
    columns["city"] = pa.array(names[city])
    if layout == "mixed":
        days = rng.integers(0, 3 * 365, n)
        dates = np.datetime64("2022-01-01") + days
        weekend = ((days + 5) % 7) >= 5  # 2022-01-01 was a Saturday
        logit = logit + 0.7 * weekend
        columns["signup"] = pa.array(dates.astype(str))
        for name in ("x4", "x5", "plan"):
            gaps = rng.random(n) < 0.02
            columns[name] = pa.array(columns[name].to_numpy(zero_copy_only=False),
                                     mask=gaps)
    label = (logit + 0.5 * rng.standard_normal(n) > 0).astype(np.int8)
    columns["label"] = pa.array(label)
    return pa.table(columns)


def generate(path, rows, layout="goal", seed=0):
    """Write ``rows`` generated rows to ``path`` (.csv or .parquet), unless it exists."""
    if os.path.exists(path):
        return path
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    rng = np.random.default_rng(seed)
    partial = path + ".partial"
    writer = None
    try:
        for start in range(0, rows, CHUNK):
            table = _chunk(rng, min(CHUNK, rows - start), layout, start)
            if writer is None:
                writer = (pq.ParquetWriter(partial, table.schema) if path.endswith(".parquet")
                          else pacsv.CSVWriter(partial, table.schema))
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    os.replace(partial, path)
    return path
