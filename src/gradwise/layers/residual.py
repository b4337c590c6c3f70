"""Skip connections: ``Residual([...])`` computes ``x + f(x)`` inside a ``Sequential``."""
import numpy as np

from ..backend import DEFAULT_DTYPE, xp
from .base import Layer, _positive_int


class Residual(Layer):
    """A residual block (He et al. 2016): its layers' output added to its input.

    Parameters
    ----------
    layers : list of Layer
        The block's ``f``, applied in order; it must keep the width of its input (for
        example ``Dense(64, "relu"), Dense(64)`` on 64 features), which ``build`` checks.
    name, trainable : see :class:`Layer`
        Freezing the block freezes its layers.

    Notes
    -----
    Forward ``y = x + f(x)``; backward ``dx = dy + J_f(x)^T dy``, where the second term is the
    block's layers back-propagating ``dy`` in reverse order. The block's ``params``, ``grads``
    and ``state`` gather its layers' arrays under the keys ``"<index>/<key>"`` (``"0/W"``,
    ``"1/gamma"``, ...); inside a model they are views into the model's flat buffers, like every
    other layer's.

    Examples
    --------
    >>> import numpy as np, gradwise as gw
    >>> block = Residual([gw.layers.Dense(4, activation="relu"), gw.layers.Dense(4)])
    >>> block.build(4, np.random.default_rng(0)).forward(np.ones((2, 4))).shape
    (2, 4)
    >>> sorted(block.params)
    ['0/W', '0/b', '1/W', '1/b']
    """

    def __init__(self, layers, name=None, trainable=True):
        if isinstance(layers, Layer) or not isinstance(layers, (list, tuple)) or not layers:
            raise TypeError(f"layers: expected a non-empty list of Layer instances, received "
                            f"{layers!r:.80}.")
        for layer in layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"layers: expected Layer instances, received "
                                f"{type(layer).__name__}.")
        self.layers = list(layers)
        super().__init__(name=name, trainable=trainable)

    # -- the block's arrays are its layers' arrays ------------------------------------------
    def _gather(self, kind):
        return _Linked(self.layers, kind, {f"{i}/{key}": value
                                           for i, layer in enumerate(self.layers)
                                           for key, value in getattr(layer, kind).items()})

    def _scatter(self, kind, arrays):
        for key, value in arrays.items():
            index, inner = key.split("/", 1)
            getattr(self.layers[int(index)], kind)[inner] = value

    params = property(lambda self: self._gather("params"),
                      lambda self, arrays: self._scatter("params", arrays))
    grads = property(lambda self: self._gather("grads"),
                     lambda self, arrays: self._scatter("grads", arrays))
    state = property(lambda self: self._gather("state"),
                     lambda self, arrays: self._scatter("state", arrays))

    def _broadcast(attribute):
        def set_all(self, value):
            self.__dict__["_" + attribute] = value
            for layer in self.layers:
                setattr(layer, attribute, value)
        return property(lambda self: self.__dict__["_" + attribute], set_all)

    trainable = _broadcast("trainable")
    deterministic = _broadcast("deterministic")
    del _broadcast

    @property
    def stochastic(self):
        return any(layer.stochastic for layer in self.layers)

    @property
    def rng(self):
        return self.__dict__.get("_rng")

    @rng.setter
    def rng(self, rng):
        # Each layer gets a generator of its own, derived from the block's: the same seed
        # gives the same streams whether the block is built now or reused built.
        self.__dict__["_rng"] = rng
        if rng is not None:
            for layer, seed in zip(self.layers, rng.integers(0, 2**63, size=len(self.layers))):
                layer.rng = np.random.default_rng(int(seed))

    @property
    def units(self):
        return sum(getattr(layer, "units", 0) for layer in self.layers)

    # -- construction --------------------------------------------------------------------
    def build(self, input_dim, rng=None, dtype=DEFAULT_DTYPE):
        """Build the block's layers in turn; raises ``ValueError`` unless they keep the width."""
        input_dim = _positive_int(input_dim, "input_dim")
        self.output_dim(input_dim)
        self.dtype = np.dtype(dtype)
        self.input_dim = input_dim
        self.rng = rng if rng is not None else np.random.default_rng()  # seeds each layer's
        width = input_dim
        for layer in self.layers:
            if not (layer.built and layer.input_dim == width and layer.dtype == self.dtype):
                layer.build(width, layer.rng, self.dtype)
            width = layer.output_dim(width)
        self._buffers = {}
        self.built = True
        return self

    def _cast(self, dtype):
        """Convert the block's layers (their arrays are the block's) to ``dtype``."""
        for layer in self.layers:
            layer._cast(dtype)
        self.dtype = np.dtype(dtype)
        self._buffers = {}
        return self

    def output_dim(self, input_dim):
        width = input_dim
        for layer in self.layers:
            width = layer.output_dim(width)
        if width != input_dim:
            raise ValueError(
                f"Residual {self.name!r}: its layers map {input_dim} features to {width}, but "
                f"x + f(x) needs f to keep the width; end the block with a layer of "
                f"{input_dim} units.")
        return input_dim

    # -- computation ---------------------------------------------------------------------
    @property
    def needs_input_grad(self):
        return self.__dict__.get("_needs_input_grad", True)

    @needs_input_grad.setter
    def needs_input_grad(self, value):
        self.__dict__["_needs_input_grad"] = value

    def forward(self, x, training=False):
        fx = x
        for layer in self.layers:
            fx = layer.forward(fx, training=training)
        # Buffers are reused during training only, so outputs handed to users stay theirs.
        return xp.add(x, fx, out=self._buffer("y", x.shape) if training else None)

    def backward(self, dy):
        grad = dy
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        if not self.needs_input_grad:
            return None
        return xp.add(dy, grad, out=self._buffer("dx", dy.shape))

    # -- regularization ------------------------------------------------------------------
    @property
    def regularized(self):
        return any(layer.regularized for layer in self.layers)

    def regularization_loss(self):
        return sum(layer.regularization_loss() for layer in self.layers if layer.regularized)

    def add_regularization_gradients(self):
        for layer in self.layers:
            if layer.regularized:
                layer.add_regularization_gradients()

    def get_config(self):
        from .registry import serialize
        config = super().get_config()
        config["layers"] = [serialize(layer) for layer in self.layers]
        return config

    @classmethod
    def from_config(cls, config):
        from .registry import deserialize
        return cls(**{**config, "layers": [deserialize(c) for c in config["layers"]]})


class _Linked(dict):
    """The block's view of its layers' arrays: setting ``"i/key"`` sets ``layers[i]``'s."""

    def __init__(self, layers, kind, items):
        super().__init__(items)
        self._layers, self._kind = layers, kind

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        index, inner = key.split("/", 1)
        getattr(self._layers[int(index)], self._kind)[inner] = value
