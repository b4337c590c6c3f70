"""ISO date columns of a CSV as year, month, day, weekday and hour features."""
import datetime

import numpy as np
import pytest

from gradwise.tabular.csv import complete, encode_csv, fill_values, read_csv
from gradwise.tabular.spec import feature_names
from gradwise.tabular.columns import Column
from gradwise.tabular.read import table_from_columns
from gradwise.cli import main


def test_date_parts_match_pythons_calendar():
    rng = np.random.default_rng(0)
    start = datetime.datetime(1950, 1, 1)
    moments = [start + datetime.timedelta(seconds=int(s))
               for s in rng.integers(0, 100 * 365 * 86400, size=500)]
    cells = [m.strftime("%Y-%m-%d %H:%M:%S") for m in moments]
    parts = ["year", "month", "day", "weekday", "hour"]
    values = Column(table_from_columns({"d": cells}), "d").date_parts(parts)
    expected = [[m.year, m.month, m.day, m.weekday(), m.hour] for m in moments]
    np.testing.assert_array_equal(values, expected)
    with_gap = Column(table_from_columns({"d": ["2024-03-15", ""]}), "d").date_parts(parts[:4])
    assert with_gap[0].tolist() == [2024, 3, 15, 4] and np.isnan(with_gap[1]).all()


def test_a_date_column_is_read_as_dates_and_others_are_not(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("signup,plan,odd,y\n2024-03-15,a,2024-02-30,1\n2023-12-31,b,2024-01-01,0\n"
                    "NA,a,x,1\n2022-06-01,b,2024-01-02,0\n")
    X, _, names, _, spec = read_csv(str(path), "y", impute=True)
    assert spec[0] == {"name": "signup", "kind": "date",
                       "parts": ["year", "month", "day", "weekday"], "missing": True}
    assert spec[2]["kind"] == "category"  # "2024-02-30" is no date: the column stays text
    assert names[:4] == ["signup:year", "signup:month", "signup:day", "signup:weekday"]
    spec = fill_values(X, spec, "median")
    assert spec[0]["fill"] == [2023.0, 6.0, 15.0, 4.0] and spec[0]["indicator"] is True
    completed, extra = complete(X, spec)
    assert completed[2, :4].tolist() == [2023.0, 6.0, 15.0, 4.0] and extra == ["signup is missing"]
    assert feature_names(spec)[-1] == "signup is missing"
    new = tmp_path / "new.csv"
    new.write_text("signup,plan,odd\n2025-13-01,a,x\n")
    with pytest.raises(ValueError, match="column 'signup' of .* holds dates; '2025-13-01' is "
                                         "not a date"):
        encode_csv(str(new), spec, impute=True)


def test_a_network_learns_from_the_weekday(tmp_path, capsys):
    rng = np.random.default_rng(0)
    days = [datetime.date(2024, 1, 1) + datetime.timedelta(days=int(d))
            for d in rng.integers(0, 700, size=600)]
    weekend = [int(day.weekday() >= 5) for day in days]
    noise = rng.normal(size=600)
    path = tmp_path / "w.csv"
    path.write_text("day,noise,weekend\n" + "".join(f"{d.isoformat()},{n:.3f},{w}\n"
                                                    for d, n, w in zip(days, noise, weekend)))
    assert main(["train", "--data", str(path), "--target", "weekend", "--epochs", "60",
                 "--quiet", "--hidden", "16", "--learning-rate", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "5 features" in out  # year, month, day, weekday, noise
    assert float(next(l for l in out.splitlines() if l.startswith("test")).split()[2]) > 0.95
