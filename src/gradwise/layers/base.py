"""The layer protocol shared by every layer.

A layer is a small object with ``build(input_dim, rng)``, ``forward(x, training)`` and
``backward(dy) -> dx``. Trainable arrays live in ``params``, their gradients under the same keys
in ``grads``; non-trainable arrays (batch-norm running statistics) in ``state``. Inside a model
these dicts hold views into the model's flat buffers, so a layer must write gradients *into*
``grads[k]`` (``out=`` or ``[...] =``), never rebind them.
"""
import numpy as np

from ..backend import DEFAULT_DTYPE, xp
from .._registry import Configurable, serialize
from .._validation import check_fraction, check_positive_int as _positive_int


class Layer(Configurable):
    """Base class of all layers.

    Parameters
    ----------
    name : str, optional
        Shown by ``summary()``; defaults to the class name in snake case with a counter.
    trainable : bool, default True
        A frozen layer (``False``) still back-propagates to its input but its parameters get no
        updates and no optimizer state; the model re-packs its buffers when this changes.
    """

    #: True for layers whose training behaviour is random (dropout, noise, RReLU).
    stochastic = False
    #: Set by the training call for its duration: run the compiled kernels of
    #: :mod:`gradwise.backend.kernels` (True) or their NumPy references (False).
    _use_compiled = False
    _counts = {}

    def __init__(self, name=None, trainable=True):
        if name is None:
            base = _snake(type(self).__name__)
            Layer._counts[base] = Layer._counts.get(base, 0) + 1
            name = f"{base}_{Layer._counts[base]}"
        self.name = name
        self.trainable = bool(trainable)
        self.params, self.grads, self.state = {}, {}, {}
        self.built = False
        self.input_dim = None
        self.dtype = DEFAULT_DTYPE
        #: Set by the model: when False the layer may skip computing ``dx`` (first layer).
        self.needs_input_grad = True
        #: Set by the model for gradient checking: stochastic layers behave as at inference.
        self.deterministic = False
        self.rng = None

    # -- construction --------------------------------------------------------------------
    def build(self, input_dim, rng=None, dtype=DEFAULT_DTYPE):
        """Create the parameters for inputs of width ``input_dim``.

        Parameters
        ----------
        input_dim : int
            Number of input features.
        rng : numpy.random.Generator, optional
            Source of all randomness of this layer (initialization and, for stochastic layers,
            training noise). Defaults to a fresh unseeded generator.
        dtype : numpy dtype, default float32
        """
        input_dim = _positive_int(input_dim, "input_dim")
        self.rng = rng if rng is not None else np.random.default_rng()
        self.dtype = np.dtype(dtype)
        self.input_dim = input_dim
        created = self._create_params(input_dim, self.rng)
        self.params = {k: xp.asarray(v, dtype=self.dtype) for k, v in created.items()}
        self.grads = {k: xp.zeros_like(v) for k, v in self.params.items()}
        self.state = {k: xp.asarray(v, dtype=self.dtype) for k, v in self._create_state(input_dim).items()}
        self._buffers = {}
        self.built = True
        return self

    def _create_params(self, input_dim, rng):
        """Return a dict of initial parameter arrays (none by default)."""
        return {}

    def _create_state(self, input_dim):
        return {}

    def _cast(self, dtype):
        """Convert a built layer's ``params``, ``grads`` and ``state`` to ``dtype`` (arrays of
        its own, out of any model's buffers), e.g. for a float64 copy to gradient-check."""
        self.dtype = np.dtype(dtype)
        for store in ("params", "grads", "state"):
            setattr(self, store, {k: xp.array(v, dtype=self.dtype) for k, v in getattr(self, store).items()})
        self._buffers = {}
        return self

    def output_dim(self, input_dim):
        """Width of the output for an input of width ``input_dim`` (same by default)."""
        return input_dim

    def _buffer(self, key, shape):
        """A reusable scratch array, reallocated only when the batch shape changes."""
        buf = self._buffers.get(key)
        if buf is None or buf.shape != shape:
            buf = self._buffers[key] = xp.empty(shape, dtype=self.dtype)
        return buf

    # -- computation ---------------------------------------------------------------------
    def forward(self, x, training=False):
        raise NotImplementedError

    def backward(self, dy):
        raise NotImplementedError

    # -- regularization (kernels only; Dense overrides) -----------------------------------
    @property
    def regularized(self):
        """True when the layer adds a penalty to the loss (the training loop skips the rest)."""
        return False

    def regularization_loss(self):
        return 0.0

    def add_regularization_gradients(self):
        pass

    # -- bookkeeping ---------------------------------------------------------------------
    def count_params(self):
        return int(sum(v.size for v in self.params.values()))

    def count_state(self):
        return int(sum(v.size for v in self.state.values()))

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


def _snake(name):
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))




def _rate(value, argument):
    """A probability in [0, 1) (see :func:`gradwise._validation.check_fraction`)."""
    return check_fraction(value, argument)


__all__ = ["Layer", "serialize"]
