"""Activation functions, each with its derivative.

An activation is an object with ``forward(z, out=None) -> a`` and
``backward(z, a, da, out=None) -> dz`` (the vector-Jacobian product). Both take arrays of shape
``(n_samples, units)``; ``out`` lets the training loop reuse buffers. ``backward`` may use the
input ``z``, the output ``a`` or both, whichever gives the cheaper exact formula.

Examples
--------
>>> import numpy as np
>>> relu = get("relu")
>>> relu.forward(np.array([[-1.0, 2.0]]))
array([[0., 2.]])
"""
import math

from .backend import xp
from ._registry import Configurable, family, resolve, serialize
from ._validation import check_positive_number


class Activation(Configurable):
    """Base class. ``name`` is the registry name used in configs and summaries.

    ``forward`` and ``backward`` take ``out=None``: a buffer they may fill (the training loop
    passes one) or ignore, returning a new array. ``auto_initializer`` is the kernel
    initializer that ``kernel_initializer="auto"`` picks for a ``Dense`` layer with this
    activation: ``glorot_uniform`` unless a subclass says otherwise.
    """

    name = None
    auto_initializer = "glorot_uniform"

    def forward(self, z, out=None):
        raise NotImplementedError

    def backward(self, z, a, da, out=None):
        raise NotImplementedError

    def __call__(self, z):
        return self.forward(z)


class Linear(Activation):
    """Identity: ``a = z``, ``dz = da``."""

    name = "linear"

    def forward(self, z, out=None):
        if out is None:
            return z
        xp.copyto(out, z)
        return out

    def backward(self, z, a, da, out=None):
        if out is None:
            return da
        xp.copyto(out, da)
        return out


class Sigmoid(Activation):
    """``a = 1 / (1 + exp(-z))``; derivative ``a * (1 - a)``.

    Computed as ``(1 + tanh(z/2)) / 2``, which never overflows.
    """

    name = "sigmoid"

    def forward(self, z, out=None):
        out = xp.multiply(z, 0.5, out=out)
        xp.tanh(out, out=out)
        out += 1.0
        out *= 0.5
        return out

    def backward(self, z, a, da, out=None):
        out = xp.subtract(1.0, a, out=out)
        out *= a
        out *= da
        return out


class Tanh(Activation):
    """``a = tanh(z)``; derivative ``1 - a**2``."""

    name = "tanh"

    def forward(self, z, out=None):
        return xp.tanh(z, out=out)

    def backward(self, z, a, da, out=None):
        out = xp.multiply(a, a, out=out)
        xp.subtract(1.0, out, out=out)
        out *= da
        return out


class ReLU(Activation):
    """``a = max(z, 0)``; derivative 1 where ``z > 0``, else 0 (0 at the kink)."""

    name = "relu"
    auto_initializer = "he_normal"

    def forward(self, z, out=None):
        return xp.maximum(z, 0.0, out=out)

    def backward(self, z, a, da, out=None):
        # a > 0 exactly where z > 0; multiplying by the boolean mask avoids a where() copy.
        return xp.multiply(da, a > 0, out=out)


class LeakyReLU(Activation):
    """``a = z`` for ``z > 0``, ``alpha * z`` otherwise; derivative 1 or ``alpha``."""

    name = "leaky_relu"
    auto_initializer = "he_normal"

    def __init__(self, alpha=0.01):
        if not (math.isfinite(alpha) and alpha >= 0):
            raise ValueError(f"Expected a non-negative number, received alpha={alpha}")
        self.alpha = float(alpha)

    def forward(self, z, out=None):
        return _into(out, xp.where(z > 0, z, self.alpha * z))

    def backward(self, z, a, da, out=None):
        slope = xp.where(z > 0, 1.0, self.alpha).astype(da.dtype, copy=False)
        return xp.multiply(da, slope, out=out)

    def get_config(self):
        return {"alpha": self.alpha}


class ELU(Activation):
    """``a = z`` for ``z > 0``, ``alpha * (exp(z) - 1)`` otherwise; derivative 1 or ``a + alpha``."""

    name = "elu"
    auto_initializer = "he_normal"

    def __init__(self, alpha=1.0):
        self.alpha = check_positive_number(alpha, "alpha")

    def forward(self, z, out=None):
        neg = self.alpha * xp.expm1(xp.minimum(z, 0.0))
        return _into(out, xp.where(z > 0, z, neg))

    def backward(self, z, a, da, out=None):
        slope = xp.where(z > 0, 1.0, a + self.alpha).astype(da.dtype, copy=False)
        return xp.multiply(da, slope, out=out)

    def get_config(self):
        return {"alpha": self.alpha}


class SELU(Activation):
    """Scaled ELU (Klambauer et al. 2017): ``scale * elu(z, alpha)`` with the fixed constants
    ``alpha = 1.6732632423543772`` and ``scale = 1.0507009873554805`` (self-normalizing with
    LeCun-normal initialization)."""

    name = "selu"
    auto_initializer = "lecun_normal"
    alpha = 1.6732632423543772
    scale = 1.0507009873554805

    def forward(self, z, out=None):
        neg = (self.scale * self.alpha) * xp.expm1(xp.minimum(z, 0.0))
        return _into(out, xp.where(z > 0, self.scale * z, neg))

    def backward(self, z, a, da, out=None):
        slope = xp.where(z > 0, self.scale, a + self.scale * self.alpha).astype(da.dtype, copy=False)
        return xp.multiply(da, slope, out=out)


class AbsReLU(Activation):
    """Absolute ReLU: ``a = |z| = relu(z) + relu(-z)``; derivative ``sign(z)`` (0 at the kink).

    Notes
    -----
    ``|z|`` keeps the second moment of its input (``E[a**2] = E[z**2]``) where ReLU halves it,
    so ``kernel_initializer="auto"`` gives it Glorot's variance, not He's doubled one.
    """

    name = "abs_relu"

    def forward(self, z, out=None):
        return xp.abs(z, out=out)

    def backward(self, z, a, da, out=None):
        return xp.multiply(da, xp.sign(z), out=out)


class Softmax(Activation):
    """Row-wise ``a_j = exp(z_j - max z) / sum_k exp(z_k - max z)``.

    Notes
    -----
    The vector-Jacobian product is ``dz = a * (da - sum(da * a, axis=1))``. With categorical
    cross-entropy the model fuses both and uses ``(a - y) / n`` directly.
    """

    name = "softmax"

    def forward(self, z, out=None):
        out = xp.subtract(z, z.max(axis=1, keepdims=True), out=out)
        xp.exp(out, out=out)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def backward(self, z, a, da, out=None):
        dot = xp.einsum("ij,ij->i", da, a)[:, None]
        out = xp.subtract(da, dot, out=out)
        out *= a
        return out


def _into(out, value):
    if out is None:
        return value
    xp.copyto(out, value)
    return out


_REGISTRY = {cls.name: cls for cls in (Linear, Sigmoid, Tanh, ReLU, LeakyReLU, ELU, SELU, AbsReLU,
                                        Softmax)}
_REGISTRY.update({cls.__name__: cls for cls in list(_REGISTRY.values())})
family(Activation, _REGISTRY, "activation")

#: Activations whose output the matching cross-entropy can be fused with.
FUSABLE = {"sigmoid": "binary_crossentropy", "softmax": "categorical_crossentropy"}


def get(identifier, argument="activation"):
    """Resolve ``None`` (linear), a name, a config dict or an :class:`Activation`."""
    if identifier is None:
        return Linear()
    return resolve(identifier, _REGISTRY, "activation", argument, accept=(Activation,))


# Function-style aliases, convenient in user code and tests: gw.activations.relu(z).
def linear(z): return Linear().forward(z)
def sigmoid(z): return Sigmoid().forward(xp.asarray(z, dtype=float))
def tanh(z): return Tanh().forward(z)
def relu(z): return ReLU().forward(z)
def leaky_relu(z, alpha=0.01): return LeakyReLU(alpha).forward(z)
def elu(z, alpha=1.0): return ELU(alpha).forward(z)
def selu(z): return SELU().forward(z)
def abs_relu(z): return AbsReLU().forward(z)
def softmax(z): return Softmax().forward(xp.asarray(z, dtype=float))
