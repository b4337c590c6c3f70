"""The package's layout: no import cycles between modules (imports inside functions count), the
command line imported by nothing outside it, a small package root.

The import graph is read from the source with ``ast``: every ``import`` and ``from ... import``
statement anywhere in a module, relative ones resolved. ``from pkg import name`` imports the
module ``pkg.name`` when there is one, else ``pkg`` (a package's ``__init__``). Importing a
module also runs its parent packages' ``__init__``, but that is not counted: only the module
named is.
"""
import ast
import pathlib

import gradwise

ROOT = pathlib.Path(gradwise.__file__).resolve().parent


def _modules(root=ROOT):
    """``{module name: path}`` of every module of the package (a package is its ``__init__``)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = ("gradwise",) + path.relative_to(root).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def import_graph(root=ROOT):
    """``{module: set of modules of the package it imports}``."""
    modules = _modules(root)
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in node.names:
                    child = f"{base}.{alias.name}"
                    targets.add(child if child in modules else base)
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


def strongly_connected(graph):
    """The strongly connected components of ``graph`` (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, components, counter = {}, {}, set(), [], [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def test_the_analysis_finds_cycles_and_package_imports(tmp_path):
    package = tmp_path / "gradwise"
    (package / "io").mkdir(parents=True)
    (package / "__init__.py").write_text("from . import model\n")
    (package / "model.py").write_text("def f():\n    from .io import saving\n")
    (package / "io" / "__init__.py").write_text("")
    (package / "io" / "saving.py").write_text("def g():\n    import gradwise as gw\n"
                                              "from ..model import f\n")
    graph = import_graph(package)
    assert graph["gradwise.model"] == {"gradwise.io.saving"}
    assert graph["gradwise.io.saving"] == {"gradwise", "gradwise.model"}
    assert {"gradwise", "gradwise.model", "gradwise.io.saving"} in strongly_connected(graph)


def test_no_import_cycles_between_modules():
    cycles = [sorted(c) for c in strongly_connected(import_graph()) if len(c) > 1]
    assert cycles == []


def test_nothing_outside_the_command_line_imports_it():
    # ``python -m gradwise`` (gradwise/__main__.py) is the command's second entry point, beside
    # the console script: it runs the command and is imported by nothing.
    entry_points = {"gradwise.__main__"}
    offenders = {name: sorted(t for t in targets if t == "gradwise.cli"
                              or t.startswith("gradwise.cli."))
                 for name, targets in import_graph().items()
                 if not (name == "gradwise.cli" or name.startswith("gradwise.cli.")
                         or name in entry_points)}
    assert not any("gradwise.__main__" in targets for targets in import_graph().values())
    assert {name: found for name, found in offenders.items() if found} == {}


def test_at_most_twenty_modules_in_the_package_root():
    root_modules = sorted(path.name for path in ROOT.glob("*.py"))
    assert len(root_modules) <= 20, root_modules
