"""Keras-style look-up shared by every family (activations, initializers, losses, ...).

A family keeps a plain dictionary from names to classes or functions; ``resolve`` turns a
name, a config dict or an object into the object, with one error message for all families.
"""


def serialize(obj):
    """Return ``{"class_name": ..., "config": ...}`` for an object with ``get_config``."""
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def resolve(identifier, registry, family, argument, accept=None):
    """Resolve ``identifier`` against ``registry``.

    Parameters
    ----------
    identifier : str, dict, object or None
        A registered name (``"adam"``), a config dict ``{"class_name": "Adam", "config": {...}}``
        or an already built object.
    registry : dict
        Lower-case names (and class names) to classes or functions.
    family : str
        What is being looked up, for the error message (``"optimizer"``).
    argument : str
        The name of the user's argument, for the error message (``"optimizer"``).
    accept : tuple of types, optional
        Types returned as they are. Callables are also accepted when ``accept`` is None.

    Raises
    ------
    ValueError
        Unknown name or malformed config.
    TypeError
        An identifier of the wrong type.
    """
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in registry and identifier not in registry:
            known = ", ".join(sorted(k for k in registry if k == k.lower()))
            raise ValueError(
                f"Unknown {family} {identifier!r} for argument {argument!r}; expected one of: {known}."
            )
        found = registry.get(key, registry.get(identifier))
        return found() if isinstance(found, type) else found
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise ValueError(
                f"A {family} config for {argument!r} needs a 'class_name' key, received {identifier!r}."
            )
        name = identifier["class_name"]
        cls = registry.get(name, registry.get(str(name).lower()))
        if not isinstance(cls, type):
            raise ValueError(f"Unknown {family} class {name!r} in the config for {argument!r}.")
        return cls.from_config(identifier.get("config", {}))
    if accept is not None and isinstance(identifier, accept):
        return identifier
    if accept is None and callable(identifier):
        return identifier
    raise TypeError(
        f"Expected a {family} name, config dict or object for {argument!r}, "
        f"received {type(identifier).__name__}: {identifier!r}."
    )


class Configurable:
    """Config plumbing shared by every family: ``get_config`` returns the constructor
    arguments, ``from_config`` calls the constructor with them, and the repr shows them."""

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        """Build from the dict returned by ``get_config``."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
