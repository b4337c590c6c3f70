"""The public names of gradwise: each function and class says what it does."""
import inspect

import gradwise as gw


def test_every_public_name_is_documented():
    undocumented = []
    for name in gw.__all__:
        value = getattr(gw, name)
        members = ([(f"{name}.{n}", getattr(value, n)) for n in getattr(value, "__all__", [])]
                   if inspect.ismodule(value) else [(name, value)])
        undocumented += [label for label, member in members
                         if (inspect.isfunction(member) or inspect.isclass(member))
                         and not (member.__doc__ or "").strip()]
    assert undocumented == []
