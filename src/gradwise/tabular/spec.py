"""The encoded features of a CSV column spec (see :func:`gradwise.tabular.csv.read_csv`): their names,
the column each belongs to, and sums of per-feature values by column."""
import numpy as np


def feature_names(spec):
    """The name of each encoded feature: a number's column (and an embedded category's code),
    ``column=level`` for a one-hot category,
    then ``column is missing`` for each indicator that :func:`complete` appends."""
    names = []
    for column in spec:
        if column["kind"] == "number" or column.get("embed"):
            names.append(column["name"])
        elif column["kind"] == "date":
            names += [f"{column['name']}:{part}" for part in column["parts"]]
        else:
            names += [f"{column['name']}={level}" for level in column["levels"]]
    return names + [f"{column['name']} is missing" for column in spec if column.get("indicator")]



def feature_columns(spec):
    """The CSV column of each encoded feature: a number's own, every level of a category, then
    the "is missing" indicators that :func:`complete` appends."""
    owners = []
    for column in spec:
        owners += [column["name"]] * _width(column)
    return owners + [column["name"] for column in spec if column.get("indicator")]



def sum_by_column(values, spec):
    """``(names, totals)``: the CSV columns of ``spec`` and, per row of ``values`` (shape
    (n_rows, n_features)), the sum of each column's features (a category's levels, a date's
    parts and a column's "is missing" indicator together)."""
    names = [column["name"] for column in spec]
    owners = feature_columns(spec)
    if len(owners) != values.shape[1]:
        raise ValueError(f"the model takes {values.shape[1]} features, its column encoding "
                         f"makes {len(owners)}.")
    groups = np.array([names.index(owner) for owner in owners])
    totals = np.zeros((len(values), len(names)))
    np.add.at(totals.T, groups, values.T)
    return names, totals



def _width(column):
    """How many features a column of the spec encodes to (one code for an embedded category)."""
    if column["kind"] == "number" or column.get("embed"):
        return 1
    return len(column["parts"]) if column["kind"] == "date" else len(column["levels"])



def _positions(spec):
    """The first feature index of each column of ``spec``."""
    widths = [_width(column) for column in spec]
    return np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(int)
