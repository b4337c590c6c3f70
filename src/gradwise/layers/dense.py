"""Fully connected layer: ``Z = X @ W + b``, ``A = activation(Z)``."""
from ..backend import kernels as _kernels
from .. import activations, initializers, regularizers
from ..backend import xp
from .base import Layer, _positive_int


class Dense(Layer):
    """A dense (fully connected) layer with an optional activation.

    Parameters
    ----------
    units : int
        Number of output units.
    activation : str, Activation or None
        One of ``linear, sigmoid, tanh, relu, leaky_relu, elu, selu, abs_relu, softmax``; None
        is linear.
    use_bias : bool, default True
    kernel_initializer : str or callable, default "auto"
        A name from :mod:`gradwise.initializers` or a callable ``(shape, rng) -> array``.
        ``"auto"`` picks by the activation when the layer is built: ``he_normal`` for relu,
        leaky_relu and elu, ``lecun_normal`` for selu, ``glorot_uniform`` otherwise. Pass
        ``"glorot_uniform"`` for Keras's default whatever the activation.
    bias_initializer : str or callable, default "zeros"
    kernel_regularizer : str, Regularizer or None
        Penalty on ``W`` added to the loss and its gradient to ``grads["W"]``.

    Notes
    -----
    Shapes: ``X`` (n_samples, inputs), ``W`` (inputs, units), ``b`` (units,).
    Forward ``Z = X W + b``, ``A = g(Z)``. Backward with ``dA`` given:
    ``dZ = dA * g'(Z)``, ``dW = X^T dZ``, ``db = sum_rows(dZ)``, ``dX = dZ W^T``.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Dense(3, activation="relu").build(2, np.random.default_rng(0))
    >>> layer.forward(np.ones((4, 2))).shape
    (4, 3)
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="auto",
                 bias_initializer="zeros", kernel_regularizer=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.units = _positive_int(units, "units")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.kernel_regularizer = (None if kernel_regularizer is None
                                   else regularizers.get(kernel_regularizer))
        #: Set by the model when the loss is fused with this layer's sigmoid/softmax:
        #: forward then returns the logits Z and backward receives dZ.
        self.fused_output = False

    def output_dim(self, input_dim):
        return self.units

    def _create_params(self, input_dim, rng):
        initializer = self.kernel_initializer
        if isinstance(initializer, initializers.Auto):
            initializer = initializer.for_activation(self.activation)
        params = {"W": initializer((input_dim, self.units), rng)}
        if self.use_bias:
            params["b"] = self.bias_initializer((self.units,), rng)
        return params

    def _kind(self):
        """The activation actually applied here: linear when fused with the loss."""
        return "linear" if self.fused_output else self.activation.name

    def forward(self, x, training=False):
        n = x.shape[0]
        # Buffers are reused during training only, so outputs handed to users stay theirs.
        z = self._buffer("z", (n, self.units)) if training else None
        z = xp.matmul(x, self.params["W"], out=z)
        self._x, kind = x, self._kind()
        if kind == "relu" and self.use_bias:
            # Bias and ReLU in place, in one step (ReLU's backward needs only its output).
            self._z, self._a = None, _kernels.bias_relu(z, self.params["b"], self._use_compiled)
            return self._a
        if self.use_bias:
            _kernels.bias_add(z, self.params["b"], self._use_compiled)
        self._z = z
        if kind == "linear":
            self._a = z
            return z
        self._a = self.activation.forward(z, out=self._buffer("a", z.shape) if training else None)
        return self._a

    def backward(self, dy):
        kind, bias_done = self._kind(), False
        if kind == "linear":
            dz = dy
        elif self._z is None and self.trainable:  # the in-place bias + ReLU of forward
            dz = self._buffer("dz", dy.shape)
            # dz = dy * (a > 0) and the bias gradient (column sums of dz) in one step
            _kernels.relu_backward_bias(dy, self._a, dz, self.grads["b"], self._use_compiled)
            bias_done = True
        else:
            dz = self.activation.backward(self._z, self._a, dy, out=self._buffer("dz", dy.shape))
        if self.trainable:
            xp.matmul(self._x.T, dz, out=self.grads["W"])
            if self.use_bias and not bias_done:
                _kernels.column_sums(dz, self.grads["b"], self._use_compiled)
        if not self.needs_input_grad:
            return None
        return xp.matmul(dz, self.params["W"].T, out=self._buffer("dx", self._x.shape))

    @property
    def regularized(self):
        return self.kernel_regularizer is not None

    def regularization_loss(self):
        if self.kernel_regularizer is None:
            return 0.0
        return float(self.kernel_regularizer(self.params["W"]))

    def add_regularization_gradients(self):
        if self.kernel_regularizer is not None and self.trainable:
            self.kernel_regularizer.add_gradient(self.params["W"], self.grads["W"])

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=(None if self.kernel_regularizer is None
                                else regularizers.serialize(self.kernel_regularizer)),
        )
        return config

    @classmethod
    def from_config(cls, config):
        """Build from ``get_config``'s output. A config without ``kernel_initializer`` was
        written when ``glorot_uniform`` was the default, and keeps it."""
        return cls(**{"kernel_initializer": "glorot_uniform", **config})
