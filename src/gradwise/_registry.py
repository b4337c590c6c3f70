"""Keras-style look-up shared by every family (activations, initializers, losses, ...).

A family keeps a plain dictionary from names to classes or functions; ``resolve`` turns a
name, a config dict or an object into the object, with one error message for all families.
Each family declares itself with :func:`family`, so that :func:`register` (``gw.register``)
can put a user's own class into the right dictionary, and :func:`serialize` can write the name
that loads it back.
"""
import contextlib
import contextvars
import difflib

#: ``(base class, registry, family name, built-in names)`` of every declared family.
_FAMILIES = []
#: The registered name of each class registered with a name other than its own.
_NAMES = {}
#: True while a model file is written: objects that could not be loaded back are refused.
_STRICT = contextvars.ContextVar("gradwise_strict_serialization", default=False)


def family(base, registry, name):
    """Declare a family: subclasses of ``base`` are looked up in ``registry``.

    The names present now are the built-in ones, which :func:`register` never replaces.
    """
    _FAMILIES.append((base, registry, name, frozenset(registry)))


def _family_of(cls):
    """The first declared family whose base class ``cls`` derives from, or None."""
    return next((entry for entry in _FAMILIES if issubclass(cls, entry[0])), None)


def register(cls=None, *, package=None, name=None):
    """Make a class of your own loadable from model files and configs, by name.

    Works for subclasses of ``gw.layers.Layer``, ``gw.activations.Activation``,
    ``gw.losses.Loss``, ``gw.regularizers.Regularizer``, ``gw.initializers.Initializer``,
    ``gw.optimizers.Optimizer``, ``gw.schedules.LearningRateSchedule`` and
    ``gw.callbacks.Callback``. A registered class is written into configs under its registered
    name and found again by :func:`gradwise.load_model` and every family's ``get``. Training,
    prediction and :func:`gradwise.gradcheck` need no registration: only files and configs do.

    Parameters
    ----------
    cls : type, optional
        The class; omitted when the decorator is called with arguments.
    package : str, optional
        Prefix of the registered name, ``"package>Name"`` (as Keras's
        ``register_keras_serializable``), to keep names of different projects apart. Default:
        no prefix, the name alone.
    name : str, optional
        Default: the class's ``__name__``.

    Returns
    -------
    type
        ``cls`` itself, so that it works as a decorator.

    Raises
    ------
    TypeError
        ``cls`` is not a subclass of one of the families above.
    ValueError
        The name is a built-in one of the family (``"Dense"``, ``"relu"``): choose another
        ``name`` or a ``package``.

    Notes
    -----
    Registering the same name again replaces the earlier class (re-running a notebook cell).
    The class's ``get_config`` must return its constructor's arguments; ``from_config`` calls
    the constructor with them.

    Examples
    --------
    >>> import gradwise as gw
    >>> @gw.register(package="my_project")
    ... class Cube(gw.activations.Activation):
    ...     name = "cube"
    ...     def forward(self, z, out=None):
    ...         return z ** 3
    ...     def backward(self, z, a, da, out=None):
    ...         return da * 3 * z ** 2
    >>> gw.activations.get({"class_name": "my_project>Cube", "config": {}})
    Cube()
    """
    if cls is None:
        return lambda cls: register(cls, package=package, name=name)
    found = _family_of(cls) if isinstance(cls, type) else None
    if found is None:
        bases = ", ".join(base.__name__ for base, *_ in _FAMILIES)
        raise TypeError(f"register: expected a subclass of one of {bases}; received {cls!r}.")
    for argument, value in (("package", package), ("name", name)):
        if value is not None and (not isinstance(value, str) or not value or ">" in value):
            raise ValueError(f"register: expected a non-empty string without '>', received "
                             f"{argument}={value!r}.")
    key = name or cls.__name__
    if package:
        key = f"{package}>{key}"
    _, registry, family_name, builtin = found
    if key in builtin or key.lower() in builtin:
        raise ValueError(f"register: {key!r} is the name of gradwise's own {family_name} "
                         f"{registry.get(key, registry.get(key.lower())).__name__}; pass "
                         "name= or package= to register your class under another name.")
    registry[key] = cls
    if key == cls.__name__:
        _NAMES.pop(cls, None)
    else:
        _NAMES[cls] = key
    return cls


def registered_name(cls):
    """The name under which configs store instances of ``cls``."""
    return _NAMES.get(cls, cls.__name__)


@contextlib.contextmanager
def strict_serialization():
    """While active, :func:`serialize` refuses objects that could not be loaded back by name
    (classes of a user's own that are not registered). Used by ``save_model``."""
    token = _STRICT.set(True)
    try:
        yield
    finally:
        _STRICT.reset(token)


def serialize(obj):
    """Return ``{"class_name": ..., "config": ...}`` for an object with ``get_config``.

    Raises
    ------
    ValueError
        Under :func:`strict_serialization`, when the class name would not load this class back:
        a class of the user's own that is not registered with ``gw.register``.
    """
    cls = type(obj)
    name = registered_name(cls)
    if _STRICT.get():
        found = _family_of(cls)
        if found is not None and found[1].get(name) is not cls:
            raise ValueError(
                f"Cannot save the {found[2]} {cls.__module__}.{cls.__qualname__}: it is not "
                f"registered, so a model file could not load it back. Decorate the class with "
                f"@gw.register (gradwise.register) before saving and before loading.")
    return {"class_name": name, "config": obj.get_config()}


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
            names = sorted(k for k in registry if k == k.lower())
            raise ValueError(f"{argument}: {identifier!r} is not a known {family} name"
                             f"{_did_you_mean(key, names)}; expected one of: {', '.join(names)}.")
        found = registry.get(key, registry.get(identifier))
        return found() if isinstance(found, type) else found
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise ValueError(f"{_article(family).capitalize()} {family} config for {argument!r} "
                             f"needs a 'class_name' key, received {identifier!r}.")
        name = identifier["class_name"]
        cls = registry.get(name, registry.get(str(name).lower()))
        if not isinstance(cls, type):
            classes = sorted(k for k, v in registry.items()
                             if isinstance(v, type) and k != k.lower())
            raise ValueError(f"Unknown {family} class {name!r} in the config for {argument!r}"
                             f"{_did_you_mean(str(name), classes)}; expected one of: "
                             f"{', '.join(classes)}; a class of your own loads once decorated "
                             "with @gw.register (gradwise.register).")
        return cls.from_config(identifier.get("config", {}))
    if accept is not None and isinstance(identifier, accept):
        return identifier
    if accept is None and callable(identifier):
        return identifier
    raise TypeError(
        f"Expected {_article(family)} {family} name, config dict or object for {argument!r}, "
        f"received {type(identifier).__name__}: {identifier!r}."
    )


def _article(noun):
    """``"an"`` before a vowel (``an optimizer``), else ``"a"`` (``a loss``)."""
    return "an" if noun[:1].lower() in "aeiou" else "a"


def _did_you_mean(word, names):
    """`` (did you mean 'adam'?)`` when one of ``names`` is close to ``word``, else ``""``."""
    by_lower = {name.lower(): name for name in names}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1)
    return f" (did you mean {by_lower[close[0]]!r}?)" if close else ""


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
