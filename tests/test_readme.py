"""The README's Python examples run as written (on digits, with names the prose assumes)."""
import pathlib
import re

import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def _names():
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X, X_test, y, y_test = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    X, X_dev, y, y_dev = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    return {"X": X, "y": y, "X_dev": X_dev, "y_dev": y_dev, "X_test": X_test, "y_test": y_test}


def test_readme_has_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.slow
def test_readme_examples_run_in_order(capsys):
    namespace = _names()
    for block in BLOCKS:
        code = block.replace("epochs=50", "epochs=3").replace("epochs=30", "epochs=3")
        exec(compile(code, str(README), "exec"), namespace)
    assert namespace["model"].built
    assert "Bias/variance" in capsys.readouterr().out
