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


def test_readme_command_lines_parse_and_its_options_exist():
    # Every `gradwise ...` line of the README's shell blocks is a valid command line, and every
    # --option the prose names belongs to some gradwise command.
    import argparse
    import shlex

    from gradwise.cli import _parser
    text = README.read_text()
    parser = _parser()
    lines = [line.split("#")[0].strip() for block in re.findall(r"```bash\n(.*?)```", text, re.S)
             for line in block.splitlines() if line.startswith("gradwise")]
    assert len(lines) >= 8
    from gradwise.cli.parser import _EPILOG  # the examples of gradwise --help too
    lines += [line.split("#")[0].strip() for line in _EPILOG.splitlines()
              if line.strip().startswith("gradwise")]
    for line in lines:
        parser.parse_args(shlex.split(line)[1:])  # argparse exits on an unknown option
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    known = {option for sub in commands.choices.values() for action in sub._actions
             for option in action.option_strings}
    named = set(re.findall(r"`(--[a-z][a-z0-9-]*)", text))
    assert named and named <= known, named - known

