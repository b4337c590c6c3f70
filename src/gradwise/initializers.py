"""Weight initializers: callables ``init(shape, rng) -> array``.

The variances follow the literature (Glorot & Bengio 2010, He et al. 2015, LeCun et al. 1998).
For a kernel of shape ``(fan_in, fan_out)``:

=================  ==========================================
``glorot_normal``  normal, variance ``2 / (fan_in + fan_out)``
``glorot_uniform`` uniform on ``[-l, l]``, ``l = sqrt(6 / (fan_in + fan_out))``
``he_normal``      normal, variance ``2 / fan_in``
``he_uniform``     uniform, ``l = sqrt(6 / fan_in)``
``lecun_normal``   normal, variance ``1 / fan_in``
``lecun_uniform``  uniform, ``l = sqrt(3 / fan_in)``
``random_normal``  normal, standard deviation 0.01
``zeros``          all zeros
``auto``           by the layer's activation (:class:`Auto`): He for the ReLU family,
                   LeCun for SELU, Glorot otherwise
=================  ==========================================

Normal draws are plain, not truncated. Examples
--------
>>> import numpy as np
>>> W = get("he_normal")((64, 128), np.random.default_rng(0))
>>> W.shape
(64, 128)
"""
import math

from .backend import xp
from ._registry import Configurable, family, resolve, serialize as _serialize
from ._validation import check_positive_number


def _fans(shape):
    """``(fan_in, fan_out)`` of a kernel ``(inputs, units)``; a vector counts as one fan."""
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[0], shape[-1]


class Initializer(Configurable):
    """Base class: subclasses implement ``__call__(shape, rng)``."""

    def __call__(self, shape, rng):
        raise NotImplementedError


class Zeros(Initializer):
    """All zeros (the default for biases)."""

    def __call__(self, shape, rng):
        return xp.zeros(shape)


class Ones(Initializer):
    """All ones (the default for batch-norm ``gamma``)."""

    def __call__(self, shape, rng):
        return xp.ones(shape)


class Constant(Initializer):
    """Every entry equal to ``value``."""

    def __init__(self, value=0.0):
        self.value = float(value)

    def __call__(self, shape, rng):
        return xp.full(shape, self.value)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    """Normal draws with mean ``mean`` and standard deviation ``stddev`` (default 0.01)."""

    def __init__(self, mean=0.0, stddev=0.01):
        self.mean, self.stddev = float(mean), check_positive_number(stddev, "stddev")

    def __call__(self, shape, rng):
        return rng.normal(self.mean, self.stddev, size=shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev}


class VarianceScaling(Initializer):
    """Draws with variance ``scale / fan`` where ``fan`` is ``fan_in``, ``fan_out`` or their mean.

    Notes
    -----
    Normal: ``std = sqrt(scale / fan)``. Uniform on ``[-l, l]`` with ``l = sqrt(3 * scale / fan)``,
    which has the same variance ``l**2 / 3 = scale / fan``.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="normal"):
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Expected mode in ('fan_in', 'fan_out', 'fan_avg'), received mode={mode!r}")
        if distribution not in ("normal", "uniform"):
            raise ValueError(
                f"Expected distribution 'normal' or 'uniform', received distribution={distribution!r}"
            )
        self.scale = check_positive_number(scale, "scale")
        self.mode, self.distribution = mode, distribution

    def __call__(self, shape, rng):
        fan_in, fan_out = _fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        if self.distribution == "normal":
            return rng.normal(0.0, math.sqrt(variance), size=shape)
        limit = math.sqrt(3.0 * variance)
        return rng.uniform(-limit, limit, size=shape)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution}


def _named(name, scale, mode, distribution):
    """A VarianceScaling preset that remembers its name for configs and reprs."""

    class Preset(VarianceScaling):
        def __init__(self):
            super().__init__(scale, mode, distribution)

        def get_config(self):
            return {}

    Preset.__name__ = Preset.__qualname__ = name
    return Preset


GlorotNormal = _named("GlorotNormal", 1.0, "fan_avg", "normal")
GlorotUniform = _named("GlorotUniform", 1.0, "fan_avg", "uniform")
HeNormal = _named("HeNormal", 2.0, "fan_in", "normal")
HeUniform = _named("HeUniform", 2.0, "fan_in", "uniform")
LecunNormal = _named("LecunNormal", 1.0, "fan_in", "normal")
LecunUniform = _named("LecunUniform", 1.0, "fan_in", "uniform")

class Auto(Initializer):
    """The initializer the course recommends for the layer's activation, chosen at build time.

    ``Dense`` asks :meth:`for_activation`: ``he_normal`` for ReLU, leaky ReLU and ELU (variance
    ``2 / fan_in``, He et al. 2015), ``lecun_normal`` for SELU (``1 / fan_in``, which its
    self-normalization assumes) and ``glorot_uniform`` otherwise (linear, sigmoid, tanh,
    softmax, abs_relu; Keras's default). Each activation class names its choice in
    ``auto_initializer``, so an activation of the user's own can name one too. Called directly,
    without a layer, it is ``glorot_uniform``.
    """

    @staticmethod
    def for_activation(activation):
        """The concrete initializer for ``activation`` (a ``gradwise.activations.Activation``)."""
        return get(getattr(activation, "auto_initializer", "glorot_uniform"))

    def __call__(self, shape, rng):
        return GlorotUniform()(shape, rng)


_REGISTRY = {
    "auto": Auto, "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "variance_scaling": VarianceScaling,
    "glorot_normal": GlorotNormal, "glorot_uniform": GlorotUniform,
    "he_normal": HeNormal, "he_uniform": HeUniform,
    "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
}
_REGISTRY.update({cls.__name__: cls for cls in list(_REGISTRY.values())})
family(Initializer, _REGISTRY, "initializer")


def get(identifier, argument="kernel_initializer"):
    """Resolve a name (``"he_normal"``), config dict, :class:`Initializer` or callable."""
    return resolve(identifier, _REGISTRY, "initializer", argument)


def serialize(init):
    """Config of an initializer; plain callables cannot be serialized."""
    if not isinstance(init, Initializer):
        raise TypeError(f"Cannot serialize a plain callable initializer {init!r}; use an Initializer.")
    return _serialize(init)
