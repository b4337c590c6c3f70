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
import os
import sys
import warnings

import numpy as np

from . import activations, layers, losses
from ._validation import (check_features, check_fraction, check_non_negative_number,
                          check_positive_int)
from .model import Sequential

_RELU_FAMILY = ("relu", "leaky_relu", "elu")
#: The likelihoods ``p(x | z)`` a variational autoencoder can have.
_RECONSTRUCTIONS = ("bernoulli", "gaussian")


class Autoencoder:
    """A dense encoder and its mirrored decoder, trained to reconstruct their input.

    Parameters
    ----------
    encoder_units : sequence of int
        Widths of the encoder's layers; the last is the code size. The decoder mirrors them:
        ``encoder_units=(32, 8)`` on 64 features gives 64-32-8-32-64. When no layer is
        narrower than the input, nothing stops the network from learning the identity: that
        is allowed (an overcomplete code) but warns (``UserWarning``) unless the input is
        corrupted in training (``noise_stddev`` or ``input_dropout``).
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
        for argument, name in (("activation", activation), ("code_activation", code_activation),
                               ("output_activation", output_activation)):
            activations.get(name, argument)  # unknown names fail here, with the accepted list
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
        """Add the decoder for ``input_dim`` features and create every parameter.

        Warns (``UserWarning``) when no layer is narrower than the input and the input is not
        corrupted in training: nothing then stops the network from learning the identity.
        """
        input_dim = check_positive_int(input_dim, "input_dim")
        if _built_for(self.model, input_dim):
            return self
        if not self._n_corruption:
            warn_if_identity_possible(
                self.encoder_units, input_dim,
                f"For a compression, give encoder_units a last width below {input_dim}; an "
                "overcomplete code needs its input corrupted in training, noise_stddev > 0 or "
                "input_dropout > 0 (a denoising autoencoder).")
        return self._build(input_dim)

    def _build(self, input_dim):
        """Add the decoder for ``input_dim`` features and create every parameter (no checks)."""
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
        residual = self._decode(self._codes(X)) - X
        return np.mean(np.square(residual, dtype=np.float64), axis=1)

    def _codes(self, X):
        """Codes of already validated ``X``."""
        return self._run(X, self.encoder_layers)

    def _require_built(self):
        if not self.model.built:
            raise RuntimeError("The autoencoder is not built: call fit or build(input_dim) first.")

    # -- files ---------------------------------------------------------------------------
    def save(self, path, metadata=None):
        """Write the network to one model file (see :func:`gradwise.save_model`), with what
        :meth:`load` needs to tell the encoder from the decoder, and ``metadata`` (a dict of
        JSON types, returned by ``load(path).model.metadata``)."""
        from .io.saving import save_model
        self._require_built()
        if metadata is not None and not isinstance(metadata, dict):
            raise TypeError(f"metadata: expected a dict, received {type(metadata).__name__}.")
        save_model(self.model, path, metadata={**(metadata or {}), "autoencoder": {
            "encoder_units": self.encoder_units, "n_corruption": self._n_corruption,
            "n_encoder": self._n_encoder}})

    @classmethod
    def load(cls, path):
        """Read an autoencoder written by :meth:`save` (ready to encode, decode and train on)."""
        from .io.loading import load_model
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


def _built_for(model, input_dim):
    """True when ``model`` is already built for ``input_dim`` features; an error naming ``X``
    when it is built for another width; False when it is not built yet."""
    if not model.built:
        return False
    if input_dim != model.input_dim:
        raise ValueError(f"X: expected {model.input_dim} features (columns), received {input_dim}.")
    return True


def warn_if_identity_possible(encoder_units, input_dim, remedy):
    """Warn (``UserWarning``) when no layer of ``encoder_units`` is narrower than the
    ``input_dim`` input features: without a bottleneck (or a corrupted input, which the caller
    rules out) the network can learn the identity, and its codes and reconstruction errors then
    say little about the data. ``remedy`` ends the message, in the caller's argument names."""
    if min(encoder_units) < input_dim:
        return
    others = ", nor is any other layer" if len(encoder_units) > 1 else ""
    warnings.warn(f"encoder_units={tuple(encoder_units)} on {input_dim} input features: the code "
                  f"({encoder_units[-1]} units) is not narrower than the input{others}, so "
                  "nothing stops the autoencoder from learning the identity (its codes and "
                  f"reconstruction errors would then say little about the data). {remedy}",
                  UserWarning, stacklevel=_caller_outside_gradwise())


def _caller_outside_gradwise():
    """The ``stacklevel`` of ``warnings.warn`` that points at the first caller outside this
    package (the user's line), whichever of its functions led to the warning."""
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level


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
    noise_stddev = check_non_negative_number(noise_stddev, "noise_stddev")
    if noise_stddev:
        stack.append(layers.GaussianNoise(noise_stddev))
    if check_fraction(input_dropout, "input_dropout"):
        stack.append(layers.Dropout(input_dropout))
    return stack


def _check_reconstruction(reconstruction):
    accepted = ", ".join(repr(name) for name in _RECONSTRUCTIONS)
    if not isinstance(reconstruction, str):
        raise TypeError(f"Expected one of {accepted}, received reconstruction={reconstruction!r}")
    if reconstruction not in _RECONSTRUCTIONS:
        raise ValueError(f"Expected one of {accepted} ('bernoulli' for data in [0, 1], "
                         f"'gaussian' for real values), received "
                         f"reconstruction={reconstruction!r}")


class VariationalAutoencoder(Autoencoder):
    """A variational autoencoder (Kingma and Welling, 2014): a generative model of the data.

    The encoder maps a row ``x`` to the mean ``mu`` and log-variance ``v`` of a Gaussian
    ``q(z | x)`` over codes; a code is drawn with the reparameterization trick
    (``z = mu + exp(v / 2) eps``, ``eps ~ N(0, I)`` from the seeded generator); the decoder maps
    it to the parameters of ``p(x | z)``. Training maximizes the evidence lower bound (ELBO)
    ``E_q[log p(x | z)] - KL(q(z | x) || N(0, I))``, with the KL term weighted by ``beta``.
    New rows come from decoding codes drawn from ``N(0, I)`` (:meth:`sample`).

    Parameters
    ----------
    encoder_units : sequence of int, default (64,)
        Widths of the encoder's hidden layers; the decoder mirrors them.
    latent_dim : int, default 2
        Size ``k`` of the code; at most the number of input features.
    beta : float >= 0, default 1.0
        Weight of the KL term: 1 is the ELBO, more gives a beta-VAE.
    reconstruction : {"bernoulli", "gaussian"}, default "bernoulli"
        The likelihood ``p(x | z)`` (see :class:`gradwise.losses.NegativeLogLikelihood`):
        ``"bernoulli"`` for data in {0, 1} (a sigmoid output giving the probabilities; values
        in [0, 1] are accepted as the cross-entropy), ``"gaussian"`` for real data (unit
        variance, a linear output giving the mean).
    activation : str, default "relu"
        Activation of the hidden layers.
    kernel_initializer : str, optional
        Defaults to ``"he_normal"`` for ReLU-like activations, ``"glorot_uniform"`` otherwise.
    input_dim : int, optional
        Number of input features; inferred by ``fit`` when omitted.
    seed : int, optional
        Seeds initialization, shuffling, the training noise and :meth:`sample`.
    dtype : {"float32", "float64"}, default "float32"

    A subclass of :class:`Autoencoder`: ``decode``, ``reconstruct`` and
    ``reconstruction_error`` (an anomaly score) work on the code means.

    Attributes
    ----------
    model : Sequential
        The whole network: encoder, a ``Dense(2 * latent_dim)`` head giving ``[mu, v]``, the
        :class:`~gradwise.layers.Sampling` layer, the decoder. ``model.predict`` reconstructs.

    Notes
    -----
    The loss, per row and averaged over a batch, is the negative ELBO (for ``beta = 1``):
    ``-log p(x | z) + beta * 0.5 * sum_j (mu_j^2 + exp(v_j) - 1 - v_j)`` with one ``z`` per row,
    ``-log p`` summed over the features (nats per row). The gradient of each term is written out
    in :class:`~gradwise.layers.Sampling` and :class:`~gradwise.losses.NegativeLogLikelihood`.

    Examples
    --------
    >>> import numpy as np, gradwise as gw
    >>> X = (np.random.default_rng(0).random((200, 8)) > 0.5).astype(float)
    >>> vae = gw.VariationalAutoencoder(encoder_units=(16,), latent_dim=2, seed=0)
    >>> history = vae.compile(optimizer="adam").fit(X, epochs=2, batch_size=32, verbose=0)
    >>> vae.encode(X).shape, vae.reconstruct(X).shape, vae.sample(5).shape
    ((200, 2), (200, 8), (5, 8))
    """

    def __init__(self, encoder_units=(64,), latent_dim=2, beta=1.0, reconstruction="bernoulli",
                 activation="relu", kernel_initializer=None, input_dim=None, seed=None,
                 dtype="float32"):
        self.encoder_units = _check_units(encoder_units)
        self.latent_dim = self.code_size = check_positive_int(latent_dim, "latent_dim")
        _check_reconstruction(reconstruction)
        self.likelihood = losses.NegativeLogLikelihood(reconstruction)
        self.reconstruction = reconstruction
        activations.get(activation)
        if kernel_initializer is None:
            kernel_initializer = "he_normal" if activation in _RELU_FAMILY else "glorot_uniform"
        self._settings = dict(activation=activation, kernel_initializer=kernel_initializer)
        encoder = Autoencoder._stack(self.encoder_units, activation, activation, 0.0,
                                     kernel_initializer, None)
        head = layers.Dense(2 * self.latent_dim, kernel_initializer="glorot_uniform",
                            name=None)
        self.model = Sequential(encoder + [head, layers.Sampling(beta)], input_dim=input_dim,
                                seed=seed, dtype=dtype)
        self.beta = self.model.layers[-1].beta
        self.seed = seed
        self._sample_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1 << 20,)))
        if input_dim is not None:
            self.build(input_dim)

    # -- structure -----------------------------------------------------------------------
    def build(self, input_dim):
        """Check the code size against ``input_dim``, add the decoder and create every parameter."""
        input_dim = check_positive_int(input_dim, "input_dim")
        if _built_for(self.model, input_dim):
            return self
        if self.latent_dim > input_dim:
            raise ValueError(f"latent_dim: a code of {self.latent_dim} numbers is larger than "
                             f"the {input_dim} input features; expected latent_dim <= {input_dim}.")
        s = self._settings
        output = "sigmoid" if self.reconstruction == "bernoulli" else "linear"
        for layer in Autoencoder._stack(list(reversed(self.encoder_units)) + [input_dim],
                                        s["activation"], output, 0.0, s["kernel_initializer"],
                                        None):
            self.model.add(layer)
        self.model.build(input_dim)
        return self

    @property
    def _sampling_index(self):
        return next(i for i, layer in enumerate(self.model.layers)
                    if isinstance(layer, layers.Sampling))

    @property
    def encoder_layers(self):
        """The encoder's layers, up to and including the head giving ``[mu, log_var]``."""
        return self.model.layers[:self._sampling_index]

    @property
    def decoder_layers(self):
        """The decoder's layers (empty before ``build``)."""
        return self.model.layers[self._sampling_index + 1:]

    def compile(self, optimizer="adam"):
        """Choose the optimizer; the loss is the negative ELBO. Returns the autoencoder."""
        self.model.compile(optimizer=optimizer, loss=self.likelihood)
        return self

    # -- training ------------------------------------------------------------------------
    def fit(self, X, epochs=1, batch_size=32, validation_data=None, callbacks=None, verbose=1,
            shuffle=True):
        """Train on the rows of ``X`` (n_samples, n_features); returns the ``History``.

        ``history["loss"]`` is the training batches' negative ELBO per row in nats (one code
        drawn per row, ``beta`` applied); ``"val_loss"``, for held-out rows
        ``validation_data``, decodes the code means instead of draws, as inference does. For a
        Monte Carlo estimate of the bound itself use :meth:`elbo`.
        """
        if self.model.loss is None:
            self.compile()
        X = self._check(X, "X")
        validation = None
        if validation_data is not None:
            X_dev = self._check(validation_data, "validation_data")
            validation = (X_dev, X_dev)
        return self.model.fit(X, X, epochs=epochs, batch_size=batch_size, verbose=verbose,
                              callbacks=callbacks, validation_data=validation, shuffle=shuffle)

    def _check(self, X, argument):
        X = check_features(X, argument, self.model.input_dim, self.model.dtype)
        if self.reconstruction == "bernoulli" and (X.min() < 0 or X.max() > 1):
            raise ValueError(f"{argument}: reconstruction='bernoulli' expects values in [0, 1], "
                             f"received values in [{float(X.min()):g}, {float(X.max()):g}]; "
                             "scale the data (e.g. X / X.max()) or use "
                             "reconstruction='gaussian'.")
        self.build(X.shape[1])
        return X

    # -- inference -----------------------------------------------------------------------
    def encode(self, X, return_log_variance=False):
        """Means of ``q(z | x)``, shape (n_samples, latent_dim) (and the log-variances)."""
        self._require_built()
        X = check_features(X, "X", self.model.input_dim, self.model.dtype)
        head = Autoencoder._run(X, self.encoder_layers)
        mu, log_var = head[:, :self.latent_dim], head[:, self.latent_dim:]
        return (mu, log_var) if return_log_variance else mu

    def decode(self, codes):
        """Means of ``p(x | z)`` for codes (n, latent_dim): probabilities for ``"bernoulli"``;
        shape (n, n_features)."""
        return super().decode(codes)

    def _codes(self, X):
        return Autoencoder._run(X, self.encoder_layers)[:, :self.latent_dim]  # the means

    def sample(self, n, seed=None):
        """``n`` new rows: codes drawn from ``N(0, I)`` and decoded (their means), shape
        (n, n_features). The draws come from the autoencoder's seeded generator, or from
        ``seed`` when given."""
        self._require_built()
        n = check_positive_int(n, "n")
        rng = self._sample_rng if seed is None else np.random.default_rng(seed)
        return self._decode(rng.standard_normal((n, self.latent_dim)).astype(self.model.dtype))

    def elbo(self, X, n_samples=1, seed=0):
        """Evidence lower bound of each row, in nats (float64), shape (n_samples_rows,).

        ``log p(x | z) - KL(q(z | x) || N(0, I))`` averaged over ``n_samples`` codes per row,
        drawn with a generator seeded by ``seed`` (the KL term in closed form). ``beta`` is not
        applied: this is the bound on ``log p(x)`` whatever the training weight.
        """
        mu, log_var = self.encode(X, return_log_variance=True)
        X = check_features(X, "X", self.model.input_dim, self.model.dtype)
        n_samples = check_positive_int(n_samples, "n_samples")
        rng = np.random.default_rng(seed)
        mu, log_var = mu.astype(np.float64), log_var.astype(np.float64)
        kl = 0.5 * np.sum(mu**2 + np.exp(log_var) - 1.0 - log_var, axis=1)
        likelihood = losses.NegativeLogLikelihood(self.reconstruction,
                                                  from_logits=self.reconstruction == "bernoulli")
        total = np.zeros(len(X))
        for _ in range(n_samples):
            z = mu + np.exp(0.5 * log_var) * rng.standard_normal(mu.shape)
            raw = Autoencoder._run(z.astype(self.model.dtype), self.decoder_layers)
            terms, _ = likelihood._terms(X.astype(np.float64), raw.astype(np.float64), False)
            total -= terms
        return total / n_samples - kl

    # -- files ---------------------------------------------------------------------------
    def save(self, path, metadata=None):
        """Write the network to one model file (see :func:`gradwise.save_model`) with what
        :meth:`load` needs, and ``metadata`` (a dict of JSON types)."""
        from .io import save_model
        self._require_built()
        if metadata is not None and not isinstance(metadata, dict):
            raise TypeError(f"metadata: expected a dict, received {type(metadata).__name__}.")
        save_model(self.model, path, metadata={**(metadata or {}), "variational_autoencoder": {
            "encoder_units": self.encoder_units, "latent_dim": self.latent_dim,
            "reconstruction": self.reconstruction, "seed": self.seed}})

    @classmethod
    def load(cls, path):
        """Read a variational autoencoder written by :meth:`save`."""
        from .io import load_model
        model = load_model(path)
        facts = model.metadata.get("variational_autoencoder")
        if not isinstance(facts, dict):
            raise ValueError(f"path: {path!r} holds a model but not a variational autoencoder "
                             "written by VariationalAutoencoder.save; load it with "
                             "gradwise.load_model.")
        vae = cls.__new__(cls)
        vae.encoder_units = [int(u) for u in facts["encoder_units"]]
        vae.latent_dim = vae.code_size = int(facts["latent_dim"])
        vae.reconstruction = facts["reconstruction"]
        vae.likelihood = model.loss if model.loss is not None else \
            losses.NegativeLogLikelihood(vae.reconstruction)
        vae.seed = facts.get("seed")
        vae._settings = None  # built: not needed
        vae.model = model
        vae.beta = model.layers[vae._sampling_index].beta
        vae._sample_rng = np.random.default_rng(np.random.SeedSequence(vae.seed,
                                                                       spawn_key=(1 << 20,)))
        return vae
