"""Autoencoders: compression, denoising and anomaly scores by reconstruction error.

An autoencoder is a network trained to reproduce its input through a narrow middle layer, the
*code*. The encoder maps ``x`` (n_features) to ``h = f(x)`` (code_size); the decoder maps it
back to ``x_hat = g(h)``; training minimizes the reconstruction loss ``L(x, x_hat)`` with the
ordinary engine (``Sequential.fit`` with the input as its own target).

- Compression: ``encode`` gives the codes. With linear activations and the squared error, the
  optimum spans the same subspace as the first ``code_size`` principal components (Baldi and
  Hornik, 1989); non-linear layers can do better.
- Denoising: corrupt the input during training only (``noise_stddev`` adds Gaussian noise,
  ``input_dropout`` zeroes entries) and ask for the clean input back (Vincent et al., 2008).
  At inference the corruption layers are the identity.
- Anomaly detection: an autoencoder trained on normal data reconstructs unusual rows badly, so
  ``reconstruction_error`` is an anomaly score; :class:`gradwise.AutoencoderAnomalyDetector`
  wraps this as a scikit-learn outlier detector with a threshold.

Examples
--------
>>> import numpy as np, gradwise as gw
>>> X = np.random.default_rng(0).normal(size=(200, 6))
>>> ae = gw.Autoencoder(encoder_units=(4, 2), input_dim=6, seed=0)
>>> ae.compile(optimizer="adam")
>>> history = ae.fit(X, epochs=2, batch_size=32, verbose=0)
>>> ae.encode(X).shape, ae.reconstruction_error(X).shape
((200, 2), (200,))
"""
import numpy as np

from . import activations, layers
from ._validation import check_features, check_fraction, check_positive_int
from .model import Sequential

_RELU_FAMILY = ("relu", "leaky_relu", "elu")


class Autoencoder:
    """A dense encoder and its mirrored decoder, trained to reconstruct their input.

    Parameters
    ----------
    encoder_units : sequence of int
        Widths of the encoder's layers; the last is the code size. The decoder mirrors them:
        ``encoder_units=(32, 8)`` on 64 features gives 64-32-8-32-64.
    activation : str, default "relu"
        Activation of the hidden layers of encoder and decoder.
    code_activation : str, default "linear"
        Activation of the code layer.
    output_activation : str, default "linear"
        ``"sigmoid"`` for inputs in [0, 1] (with ``loss="binary_crossentropy"``).
    noise_stddev : float, default 0.0
        Denoising: standard deviation of the Gaussian noise added to the input in training.
    input_dropout : float in [0, 1), default 0.0
        Denoising by masking: probability of zeroing each input entry in training (inverted
        dropout: survivors are scaled by ``1 / (1 - input_dropout)``).
    dropout : float in [0, 1), default 0.0
        Dropout after each hidden layer (not after the code).
    kernel_initializer : str, optional
        Defaults to ``"he_normal"`` for ReLU-like activations, ``"glorot_uniform"`` otherwise.
    kernel_regularizer : str, Regularizer or None
        Applied to every kernel.
    input_dim : int, optional
        Number of input features; inferred by ``fit`` when omitted.
    seed : int, optional
        Seeds initialization, shuffling and corruption: same seed, same weights.
    dtype : {"float32", "float64"}, default "float32"

    Attributes
    ----------
    model : Sequential
        The whole network (corruption, encoder, decoder); ``model.layers`` lists them.
    code_size : int
    """

    def __init__(self, encoder_units, activation="relu", code_activation="linear",
                 output_activation="linear", noise_stddev=0.0, input_dropout=0.0, dropout=0.0,
                 kernel_initializer=None, kernel_regularizer=None, input_dim=None, seed=None,
                 dtype="float32"):
        self.encoder_units = _check_units(encoder_units)
        self.code_size = self.encoder_units[-1]
        for name in (activation, code_activation, output_activation):
            activations.get(name)  # unknown names fail here, with the accepted list
        if kernel_initializer is None:
            kernel_initializer = "he_normal" if activation in _RELU_FAMILY else "glorot_uniform"
        corruption = _corruption_layers(noise_stddev, input_dropout)
        encoder = self._stack(self.encoder_units, activation, code_activation, dropout,
                              kernel_initializer, kernel_regularizer)
        self._decoder_widths = list(reversed(self.encoder_units[:-1]))
        self._settings = dict(activation=activation, output_activation=output_activation,
                              dropout=dropout, kernel_initializer=kernel_initializer,
                              kernel_regularizer=kernel_regularizer)
        self.model = Sequential(corruption + encoder, input_dim=input_dim, seed=seed, dtype=dtype)
        self._n_corruption, self._n_encoder = len(corruption), len(encoder)
        if input_dim is not None:
            self.build(input_dim)

    @staticmethod
    def _stack(widths, activation, last_activation, dropout, initializer, regularizer):
        """Dense layers of ``widths`` (dropout after all but the last)."""
        dropout = check_fraction(dropout, "dropout")
        stack = []
        for i, width in enumerate(widths):
            last = i == len(widths) - 1
            stack.append(layers.Dense(width, activation=last_activation if last else activation,
                                      kernel_initializer=initializer,
                                      kernel_regularizer=regularizer))
            if dropout and not last:
                stack.append(layers.Dropout(dropout))
        return stack

    # -- structure -----------------------------------------------------------------------
    def build(self, input_dim):
        """Add the decoder for ``input_dim`` features and create every parameter."""
        input_dim = check_positive_int(input_dim, "input_dim")
        if self.model.built:
            if input_dim != self.model.input_dim:
                raise ValueError(f"X: expected {self.model.input_dim} features (columns), "
                                 f"received {input_dim}.")
            return self
        s = self._settings
        for layer in self._stack(self._decoder_widths + [input_dim], s["activation"],
                                 s["output_activation"], s["dropout"], s["kernel_initializer"],
                                 s["kernel_regularizer"]):
            self.model.add(layer)
        self.model.build(input_dim)
        return self

    @property
    def encoder_layers(self):
        """The encoder's layers (after the corruption layers)."""
        start = self._n_corruption
        return self.model.layers[start:start + self._n_encoder]

    @property
    def decoder_layers(self):
        """The decoder's layers (empty before ``build``)."""
        return self.model.layers[self._n_corruption + self._n_encoder:]

    def compile(self, optimizer="adam", loss="mse"):
        """Choose the optimizer and the reconstruction loss (``"mse"``, ``"mae"``,
        ``"huber"``, or ``"binary_crossentropy"`` with a sigmoid output)."""
        self.model.compile(optimizer=optimizer, loss=loss)
        return self

    # -- training ------------------------------------------------------------------------
    def fit(self, X, epochs=1, batch_size=32, validation_data=None, callbacks=None, verbose=1,
            shuffle=True, sample_weight=None):
        """Train to reconstruct ``X`` (n_samples, n_features); returns the ``History``.

        ``validation_data`` is a held-out array of rows (their own targets), or a pair
        ``(inputs, targets)``, e.g. noisy inputs and their clean versions.
        """
        if self.model.loss is None:
            self.compile()
        X = self._check(X, "X")
        validation = None
        if isinstance(validation_data, tuple) and len(validation_data) == 2:
            validation = (self._check(validation_data[0], "validation_data[0]"),
                          self._check(validation_data[1], "validation_data[1]"))
        elif validation_data is not None:
            X_dev = self._check(validation_data, "validation_data")
            validation = (X_dev, X_dev)
        return self.model.fit(X, X, epochs=epochs, batch_size=batch_size, verbose=verbose,
                              callbacks=callbacks, validation_data=validation, shuffle=shuffle,
                              sample_weight=sample_weight)

    def _check(self, X, argument):
        X = check_features(X, argument, self.model.input_dim, self.model.dtype)
        self.build(X.shape[1])
        return X

    # -- inference -----------------------------------------------------------------------
    @staticmethod
    def _run(X, stack):
        for layer in stack:
            X = layer.forward(X, training=False)
        return X

    def encode(self, X):
        """Codes of ``X``: shape (n_samples, code_size)."""
        self._require_built()
        return self._run(check_features(X, "X", self.model.input_dim, self.model.dtype),
                         self.encoder_layers)

    def decode(self, codes):
        """Reconstructions from codes (n_samples, code_size): shape (n_samples, n_features)."""
        self._require_built()
        codes = check_features(codes, "codes", self.code_size, self.model.dtype)
        return self._decode(codes)

    def _decode(self, codes):
        self.model._configure_fusion()  # a sigmoid fused with its cross-entropy is applied here
        return self.model._outputs(self._run(codes, self.decoder_layers))

    def reconstruct(self, X):
        """``decode(encode(X))``, in inference mode (no corruption, no dropout)."""
        return self._decode(self.encode(X))

    def reconstruction_error(self, X):
        """Mean squared reconstruction error of each row: ``mean_j (x_ij - x_hat_ij)^2``,
        shape (n_samples,). The anomaly score: higher means less like the training data."""
        self._require_built()
        return self._errors(check_features(X, "X", self.model.input_dim, self.model.dtype))

    def _errors(self, X):
        """Row errors of already validated ``X``, in ``X``'s precision (float64 gives scores
        that do not depend on the other rows, whatever BLAS kernel the batch size selects)."""
        residual = self._decode(self._run(X, self.encoder_layers)) - X
        return np.mean(np.square(residual, dtype=np.float64), axis=1)

    def _require_built(self):
        if not self.model.built:
            raise RuntimeError("The autoencoder is not built: call fit or build(input_dim) first.")

    # -- files ---------------------------------------------------------------------------
    def save(self, path, metadata=None):
        """Write the network to one model file (see :func:`gradwise.save_model`), with what
        :meth:`load` needs to tell the encoder from the decoder, and ``metadata`` (a dict of
        JSON types, returned by ``load(path).model.metadata``)."""
        from .io import save_model
        self._require_built()
        if metadata is not None and not isinstance(metadata, dict):
            raise TypeError(f"metadata: expected a dict, received {type(metadata).__name__}.")
        save_model(self.model, path, metadata={**(metadata or {}), "autoencoder": {
            "encoder_units": self.encoder_units, "n_corruption": self._n_corruption,
            "n_encoder": self._n_encoder}})

    @classmethod
    def load(cls, path):
        """Read an autoencoder written by :meth:`save` (ready to encode, decode and train on)."""
        from .io import load_model
        model = load_model(path)
        if not isinstance(model.metadata.get("autoencoder"), dict):
            raise ValueError(f"path: {path!r} holds a model but not an autoencoder written by "
                             "Autoencoder.save; load it with gradwise.load_model.")
        return cls._from_model(model)

    @classmethod
    def _from_model(cls, model):
        """The autoencoder of a network loaded from a file :meth:`save` wrote."""
        facts = model.metadata["autoencoder"]
        autoencoder = cls.__new__(cls)
        autoencoder.encoder_units = [int(u) for u in facts["encoder_units"]]
        autoencoder.code_size = autoencoder.encoder_units[-1]
        autoencoder._n_corruption, autoencoder._n_encoder = facts["n_corruption"], facts["n_encoder"]
        autoencoder._decoder_widths, autoencoder._settings = None, None  # built: not needed
        autoencoder.model = model
        return autoencoder


def _check_units(encoder_units):
    if isinstance(encoder_units, (int, np.integer)) and not isinstance(encoder_units, bool):
        encoder_units = (encoder_units,)
    try:
        units = list(encoder_units)
    except TypeError:
        raise TypeError("encoder_units: expected a sequence of positive integers such as "
                        f"(32, 8), received {encoder_units!r}.") from None
    if not units:
        raise ValueError("encoder_units: expected at least one layer width, received ().")
    return [check_positive_int(u, "encoder_units") for u in units]


def _corruption_layers(noise_stddev, input_dropout):
    stack = []
    if noise_stddev:
        stack.append(layers.GaussianNoise(noise_stddev))
    if check_fraction(input_dropout, "input_dropout"):
        stack.append(layers.Dropout(input_dropout))
    return stack
