"""Whatever a CSV holds, reading it gives encoded features or a ValueError, never another
exception (seeded random files: gaps, markers, text, ragged rows, quotes, overflow)."""
import numpy as np
import pytest

from gradwise.tabular.csv import complete, encode_csv, fill_values, read_csv

TOKENS = ["1", "2.5", "-3", "", "NA", "a", "b", "none", "-", "?", "1e400", "nan", "inf", " ",
          "x y", '"q,1"', "0", "1", "2024-03-15", "2024-02-30", "2024-03-15 10:30"]


def _random_csv(rng, path):
    n_columns, n_rows = int(rng.integers(1, 4)), int(rng.integers(0, 6))
    header = [f"c{i}" for i in range(n_columns)]
    if rng.random() < 0.1:
        header[0] = header[-1]
    if rng.random() < 0.1:
        header[0] = ""
    lines = [",".join(header)]
    for _ in range(n_rows):
        width = n_columns if rng.random() > 0.1 else int(rng.integers(1, 5))
        lines.append(",".join(rng.choice(TOKENS, size=width)))
    path.write_text("\n".join(lines) + ("\n" if rng.random() < 0.8 else ""))
    return header[-1] or f"unnamed_{n_columns}"


@pytest.mark.parametrize("seed", range(4))
def test_random_files_give_features_or_a_value_error(tmp_path, capsys, seed):
    rng = np.random.default_rng(seed)
    path = tmp_path / "random.csv"
    outcomes = {"read": 0, "refused": 0}
    for _ in range(150):
        target = _random_csv(rng, path)
        for impute in (False, True):
            try:
                X, y, names, task, spec = read_csv(str(path), target, impute=impute)
                assert X.shape == (len(y), len(names))
                assert task in ("classification", "regression")
                if impute:
                    spec = fill_values(X, spec, "median")
                    X, _ = complete(X, spec)
                assert np.isfinite(X).all()
                # the same file again, as gradwise predict reads new rows
                X_new, *_ = encode_csv(str(path), spec, target, impute=impute)
                if impute:
                    X_new, _ = complete(X_new, spec)
                assert X_new.shape[1] == X.shape[1] and np.isfinite(X_new).all()
            except ValueError:
                outcomes["refused"] += 1
                continue
            outcomes["read"] += 1
    capsys.readouterr()
    assert outcomes["read"] > 20 and outcomes["refused"] > 20  # both kinds of file were made


@pytest.mark.parametrize("separator, decimal", [(";", ","), ("\t", "."), ("|", "."), ("\t", ",")])
def test_other_separators_and_decimal_commas_read_as_the_comma_file(tmp_path, separator,
                                                                    decimal):
    rng = np.random.default_rng(0)
    values = rng.normal(size=(30, 2)).round(3)
    kinds = rng.choice(["red", "blue"], size=30)
    labels = (values[:, 0] > 0).astype(int)

    def write(path, sep, dec):
        rows = [sep.join(["a", "b", "kind", "y"])]
        rows += [sep.join([f"{a:g}".replace(".", dec), f"{b:g}".replace(".", dec), k, str(t)])
                 for (a, b), k, t in zip(values, kinds, labels)]
        path.write_text("\n".join(rows) + "\n")
        return str(path)

    expected = read_csv(write(tmp_path / "comma.csv", ",", "."), "y")
    other = read_csv(write(tmp_path / "other.csv", separator, decimal), "y")
    np.testing.assert_array_equal(other[0], expected[0])
    np.testing.assert_array_equal(other[1], expected[1])
    assert other[2] == expected[2] and other[4] == expected[4]
