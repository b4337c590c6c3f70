"""Date columns of a CSV: ISO dates (``2024-03-15``, optionally with a time) become numbers a
network can use: year, month, day of month, day of week (Monday 0) and, when times are
written, the hour."""
import re

import numpy as np

#: An ISO date, with an optional time after "T" or a space.
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DATE_PARTS = ["year", "month", "day", "weekday"]


def date_spec(name, cells, missing):
    """The spec of a date column, or None when some present cell is not an ISO date.
    ``missing`` marks the empty cells."""
    present = [cell for cell, gap in zip(cells, missing) if not gap]
    if not present or not all(_ISO.match(cell) for cell in present):
        return None
    try:
        parse(present)
    except ValueError:  # "2024-02-30": text that looks like a date and is not one
        return None
    timed = any(len(cell) > 10 for cell in present)
    return {"name": name, "kind": "date", "parts": _DATE_PARTS + ["hour"] * timed,
            "missing": bool(np.any(missing))}


def parse(cells):
    """``datetime64[s]`` of ISO date cells; ValueError names the first bad one."""
    try:
        return np.array(cells, dtype="datetime64[s]")
    except ValueError:
        bad = next(cell for cell in cells if not _parses(cell))
        raise ValueError(f"{bad!r} is not a date") from None


def _parses(cell):
    try:
        np.datetime64(cell, "s")
        return bool(_ISO.match(cell))
    except ValueError:
        return False


def date_features(cells, parts, missing):
    """``(n, len(parts))`` numbers of the date cells, NaN rows where ``missing`` (a boolean
    per cell)."""
    out = np.full((len(cells), len(parts)), np.nan)
    present = ~np.asarray(missing, dtype=bool)
    if not present.any():
        return out
    moments = parse([cell for cell, keep in zip(cells, present) if keep])
    days = moments.astype("datetime64[D]")
    values = {"year": moments.astype("datetime64[Y]").astype(int) + 1970,
              "month": moments.astype("datetime64[M]").astype(int) % 12 + 1,
              "day": (days - moments.astype("datetime64[M]")).astype(int) + 1,
              "weekday": (days.astype(int) + 3) % 7,  # 1970-01-01 was a Thursday
              "hour": (moments - days).astype(int) // 3600}
    out[present] = np.column_stack([values[part] for part in parts])
    return out
