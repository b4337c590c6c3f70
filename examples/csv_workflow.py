"""The command line on a messy CSV, start to finish: train, predict with explanations, find
anomalies, and use the saved model from Python.

The data: 2,000 customer rows with a signup date, a plan (text), a monthly charge with gaps,
an id column, and whether the customer left. Run it with ``python examples/csv_workflow.py``;
it works in a temporary folder and prints what each command prints.
"""
import datetime
import pathlib
import tempfile

import numpy as np

import gradwise as gw
from gradwise.cli import main


def make_customers(path, n=2000, seed=0):
    """Churn grows with the charge and on the basic plan, and is lower for older customers."""
    rng = np.random.default_rng(seed)
    signup = [datetime.date(2020, 1, 1) + datetime.timedelta(days=int(d))
              for d in rng.integers(0, 1500, size=n)]
    plan = rng.choice(["basic", "plus", "pro"], size=n, p=[0.5, 0.3, 0.2])
    charge = rng.gamma(4.0, 10.0, size=n).round(2)
    age_days = np.array([(datetime.date(2024, 3, 1) - day).days for day in signup])
    risk = 0.04 * charge + 1.2 * (plan == "basic") - 0.002 * age_days - 1.0
    left = rng.random(n) < 1 / (1 + np.exp(-risk))
    charge_cells = [f"{c:g}" for c in charge]
    for i in rng.choice(n, size=60, replace=False):  # gaps, as exports have them
        charge_cells[i] = "NA"
    rows = ["id,signup,plan,monthly_charge,left"]
    rows += [f"{i + 1},{day.isoformat()},{p},{c},{'yes' if out else 'no'}"
             for i, (day, p, c, out) in enumerate(zip(signup, plan, charge_cells, left))]
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def run(*argv):
    print(f"\n$ gradwise {' '.join(argv)}")
    code = main(list(argv))
    if code != 0:
        raise SystemExit(f"gradwise {argv[0]} failed with exit code {code}")


def main_example():
    folder = pathlib.Path(tempfile.mkdtemp(prefix="gradwise-csv-"))
    data = make_customers(folder / "customers.csv")
    model, detector = str(folder / "churn.npz"), str(folder / "detector.npz")
    run("train", "--data", data, "--target", "left", "--drop", "id", "--impute", "median",
        "--hidden", "32,16", "--epochs", "60", "--quiet", "--save", model)
    run("predict", "--model", model, "--data", data, "--out", str(folder / "predictions.csv"),
        "--explain", "2")
    print("first predictions:")
    print("".join((folder / "predictions.csv").read_text().splitlines(keepends=True)[:4]))
    run("anomalies", "--data", data, "--drop", "id,left", "--impute", "median", "--epochs", "50",
        "--save", detector)
    run("info", "--model", model)
    churn = gw.load_csv_model(model)
    new_customers = {"id": [9001, 9002], "signup": ["2024-02-01", "2020-03-15"],
                     "plan": ["basic", "pro"], "monthly_charge": [75.0, None]}
    print("\nfrom Python:", churn)
    print("new customers leave:", churn.predict(new_customers).tolist(),
          "with probabilities", churn.predict_proba(new_customers)[:, 1].round(3).tolist())


if __name__ == "__main__":
    main_example()
