"""The layer types by class name, for configs and model files.

:mod:`gradwise.layers` fills :data:`_REGISTRY` with its layers (and ``gw.register`` with a
user's own); a block of layers (``Residual``) serializes its inner layers from here without
importing the package that holds it.
"""
from .._registry import register, resolve, serialize

__all__ = ["deserialize", "register", "serialize"]

#: Class name -> layer class.
_REGISTRY = {}


def deserialize(config):
    """Build a layer from :func:`serialize`'s output; unknown types raise ``ValueError``."""
    if not isinstance(config, dict) or config.get("class_name") not in _REGISTRY:
        name = config.get("class_name") if isinstance(config, dict) else config
        raise ValueError(f"Unknown layer type {name!r}; expected one of {sorted(_REGISTRY)} "
                         "(a layer of your own loads once decorated with @gw.register).")
    return resolve(config, _REGISTRY, "layer", "layers")
