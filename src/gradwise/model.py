"""``Sequential``: a stack of layers, its flat parameter buffers, and the training loop."""
import math
import weakref

import numpy as np

from . import callbacks as callbacks_module, losses, metrics as metrics_module, optimizers
from .backend import kernels as _kernels
from .backend import xp
from ._training import (apply_class_weight, choose_compute_path, compute_path, iterate_batches,
                        prepare, prepare_validation, split_validation, train)
from ._validation import check_features, check_positive_int, check_same_length, check_sample_weight
from .layers import Layer
from ._model_state import WeightsAndConfig


#: The model each layer was last built in (weakly held both ways: a layer or model dropped is
#: forgotten). Kept here rather than on the layer, so that copies and pickles of a layer do not
#: carry it.
_OWNERS = weakref.WeakKeyDictionary()


class Sequential(WeightsAndConfig):
    """A linear stack of layers trained by back-propagation.

    Parameters
    ----------
    layers : list of Layer, optional
    input_dim : int, optional
        Number of input features; inferred from the data by ``fit`` when omitted.
    seed : int, optional
        Seeds every random choice (initialization, shuffling, dropout masks): the same seed and
        data give bit-identical weights.
    dtype : {"float32", "float64"}, default "float32"

    Notes
    -----
    After ``build`` all trainable parameters live in one contiguous buffer ``params_buffer``
    and their gradients in ``grads_buffer``; each layer's ``params``/``grads`` are views.

    Examples
    --------
    >>> import gradwise as gw
    >>> model = gw.Sequential([gw.layers.Dense(8, activation="relu"),
    ...                        gw.layers.Dense(1, activation="sigmoid")], input_dim=4, seed=0)
    >>> model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    """

    def __init__(self, layers=None, input_dim=None, seed=None, dtype="float32", name="sequential"):
        if isinstance(layers, Layer):
            raise TypeError(f"layers: expected a list of layers, received one "
                            f"{type(layers).__name__}; write Sequential([layer, ...]).")
        if layers is not None and not hasattr(layers, "__iter__"):
            raise TypeError(f"layers: expected a list of layers, received "
                            f"{type(layers).__name__}.")
        self.layers = []
        self.input_dim = None if input_dim is None else check_positive_int(input_dim, "input_dim")
        self.seed = seed
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"Expected dtype float32 or float64, received dtype={dtype!r}")
        self.name = name
        self.built = False
        self.optimizer = self.loss = None
        self.metrics = []
        self.kernels = None
        self.stop_training = False
        self.history = None
        self._augment = None
        #: JSON-serializable facts saved with the model (see :func:`gradwise.io.save_model`).
        self.metadata = {}
        for layer in layers or []:
            self.add(layer)

    # -- structure ---------------------------------------------------------------------
    def add(self, layer):
        """Append a layer (before the model is built)."""
        if not isinstance(layer, Layer):
            raise TypeError(f"layers: expected Layer instances, received {type(layer).__name__}.")
        if self.built:
            raise ValueError("Cannot add layers to a built model; build a new Sequential.")
        for index, other in enumerate(self.layers):
            if other is layer:
                raise ValueError(
                    f"layers: the same {type(layer).__name__} object {layer.name!r} is at "
                    f"positions {index} and {len(self.layers)}; a layer is one set of weights "
                    f"in one place (its backward pass needs its own forward's input): create "
                    f"a layer for each place, or copy one with gw.transfer.clone_layer(layer).")
        self.layers.append(layer)

    def build(self, input_dim=None):
        """Create every layer's parameters and pack them into the flat buffers.

        Layers that are already built for the right input width keep their weights. A layer
        belongs to one model: one still in another built model is refused (training either
        model would leave the other with weights it no longer updates); take a trained
        model's layers with ``gw.transfer.reuse_layers`` or ``clone_layer``, which copy them.
        """
        input_dim = input_dim if input_dim is not None else self.input_dim
        if input_dim is None:
            raise ValueError("input_dim: unknown; pass Sequential(..., input_dim=n) or call fit.")
        self.input_dim = check_positive_int(input_dim, "input_dim")
        if not self.layers:
            raise ValueError("layers: a Sequential model needs at least one layer.")
        for index, layer in enumerate(self.layers):
            owner = _OWNERS.get(layer)
            owner = owner() if owner is not None else None
            if owner is not None and owner is not self and owner.built:
                raise ValueError(
                    f"layers[{index}]: {type(layer).__name__} {layer.name!r} belongs to the "
                    f"built model {owner.name!r}; a layer is one set of weights in one model "
                    f"(training either would leave the other with weights it no longer "
                    f"updates): copy it with gw.transfer.clone_layer(layer), or take a "
                    f"trained model's first n layers with gw.transfer.reuse_layers(model, n).")
        streams = np.random.SeedSequence(self.seed).spawn(len(self.layers) + 1)
        width = self.input_dim
        for index, (layer, stream) in enumerate(zip(self.layers, streams)):
            rng = np.random.default_rng(stream)
            if layer.built and layer.input_dim != width and layer.params:
                raise ValueError(
                    f"layers[{index}]: {type(layer).__name__} {layer.name!r} holds weights "
                    f"for inputs of width {layer.input_dim} and would receive width {width} "
                    f"here; building it again would replace its trained weights with random "
                    f"ones. Put it where its input has width {layer.input_dim}, or give a new "
                    f"layer.")
            if layer.built and layer.input_dim == width:
                if layer.dtype != self.dtype:  # the same weights, in the model's precision
                    layer._cast(self.dtype)
                layer.rng = rng
            else:
                layer.build(width, rng, self.dtype)
            width = layer.output_dim(width)
        self.output_dim = width
        self._total_units = sum(getattr(layer, "units", 0) for layer in self.layers)
        self._shuffle_rng = np.random.default_rng(streams[-1])
        self.layers[0].needs_input_grad = False
        self.built = True
        self._pack()
        self._own_layers()
        return self

    def _own_layers(self):
        """Record this model as its layers' (see ``_OWNERS``)."""
        for layer in self.layers:
            _OWNERS[layer] = weakref.ref(self)

    def _pack(self):
        """Gather trainable parameters into one buffer (and gradients into its twin)."""
        trainable = [layer for layer in self.layers if layer.trainable]
        size = sum(layer.count_params() for layer in trainable)
        self.params_buffer = xp.empty(size, dtype=self.dtype)
        self.grads_buffer = xp.zeros(size, dtype=self.dtype)
        self.segments, kernel_mask, offset = [], xp.zeros(size, dtype=bool), 0
        for layer in self.layers:
            if not layer.trainable:  # frozen layers keep arrays of their own
                layer.params = {k: v.copy() for k, v in layer.params.items()}
                layer.grads = {k: xp.zeros_like(v) for k, v in layer.params.items()}
                continue
            for key, value in layer.params.items():
                piece = slice(offset, offset + value.size)
                self.params_buffer[piece] = value.ravel()
                # a kernel: "W", or a residual block's "<index>/W"
                kernel_mask[piece] = key.rsplit("/", 1)[-1] == "W"
                self.segments.append(piece)
                offset += value.size
        self._bind_views()
        self.kernel_mask = kernel_mask
        self._packed_trainable = tuple(layer.trainable for layer in self.layers)
        if self.optimizer is not None:
            self.optimizer.reset()
            self.optimizer.build(size, self.dtype, segments=self.segments, decay_mask=kernel_mask)

    def _bind_views(self):
        """Point each trainable layer's ``params``/``grads`` at its slice of the flat buffers."""
        pieces = iter(self.segments)
        for layer in self.layers:
            if layer.trainable:
                for key, value in layer.params.items():
                    piece = next(pieces)
                    layer.params[key] = self.params_buffer[piece].reshape(value.shape)
                    layer.grads[key] = self.grads_buffer[piece].reshape(value.shape)

    def __setstate__(self, state):
        # Pickle stores the layers' views as separate copies: point them back at the buffers
        # (copied first if they arrive read-only, e.g. from a memory map).
        self.__dict__.update(state)
        if self.built:
            if not self.params_buffer.flags.writeable:
                self.params_buffer = self.params_buffer.copy()
            self._bind_views()
            self._own_layers()

    def _ensure_packed(self):
        """Re-pack (and reset optimizer state) when a layer was frozen or unfrozen.

        Training needs something to train: with every layer frozen the optimizer would get an
        empty buffer, so that is refused here, before any step.
        """
        if tuple(layer.trainable for layer in self.layers) != self._packed_trainable:
            self._pack()
        if self.params_buffer.size == 0:
            frozen = [layer.name for layer in self.layers if not layer.trainable]
            raise ValueError("The model has no trainable parameters"
                             + (f" (frozen layers: {', '.join(frozen)})" if frozen else "")
                             + "; unfreeze some layers (gw.transfer.unfreeze) or add trainable "
                             "ones before fit.")

    # -- compile -----------------------------------------------------------------------
    def compile(self, optimizer="adam", loss=None, metrics=None, kernels=None):
        """Choose the optimizer, the loss, the metrics reported during training, and the
        compute path.

        Parameters
        ----------
        optimizer : str, dict or Optimizer, default "adam"
        loss : str, dict or Loss
            ``"mse"``, ``"mae"``, ``"huber"``, ``"binary_crossentropy"``,
            ``"categorical_crossentropy"``.
        metrics : list of str, optional
            E.g. ``["accuracy"]``, ``["mae"]``.
        kernels : {None, "auto", "always", "never"}, default None
            Whether training runs the compiled kernels of the hot loop (bias + ReLU, softmax
            cross-entropy, Adam) or their NumPy references (see
            :mod:`gradwise.backend.kernels`). ``"auto"`` uses them for calls expected to save
            more than their start-up cost (about a second), judged from the call's own size
            (epochs, batches, parameters); None follows the environment variable
            ``GRADWISE_KERNELS`` (default ``auto``). Each training call decides for itself:
            what ran before in the process never changes the path.
        """
        if loss is None:
            raise ValueError("loss: expected a loss name or object, e.g. loss='categorical_crossentropy'.")
        self.kernels = None if kernels is None else _kernels.setting(kernels)
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss)
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            raise TypeError(f"metrics: expected a list of metric names, received {metrics!r}.")
        self.metrics = [metrics_module.get(m) for m in (metrics or [])]
        self._configure_fusion()
        if self.built:
            self._pack()
        return self

    def _configure_fusion(self):
        """Fuse a final sigmoid/softmax with the matching cross-entropy (computed from logits)."""
        last = self.layers[-1] if self.layers else None
        activation = getattr(last, "activation", None)
        key = (self.loss, last, activation)
        previous = getattr(self, "_fusion_key", None)
        if previous is not None and all(a is b for a, b in zip(previous, key)):
            return  # already configured for this loss and output layer
        self._fusion_key = key
        fused = (self.loss is not None and hasattr(last, "fused_output")
                 and getattr(self.loss, "logits_activation", None) is not None
                 and getattr(activation, "name", None) == self.loss.logits_activation
                 and not self.loss.from_logits)
        if hasattr(last, "fused_output"):
            last.fused_output = fused
        self._output_activation = activation if fused else None
        if fused:
            self._train_loss = type(self.loss).from_config({**self.loss.get_config(), "from_logits": True})
        else:
            self._train_loss = self.loss

    # -- forward / backward ------------------------------------------------------------
    def _forward(self, X, training):
        for layer in self.layers:
            X = layer.forward(X, training=training)
        return X

    def _outputs(self, raw):
        """Network outputs (probabilities when the loss is fused) from the last layer's output."""
        return raw if self._output_activation is None else self._output_activation.forward(raw)

    def _backward(self, d_out):
        for layer in reversed(self.layers):
            d_out = layer.backward(d_out)
        return d_out

    def _regularized_layers(self):
        return [layer for layer in self.layers if layer.regularized]

    def _regularization_loss(self):
        return sum(layer.regularization_loss() for layer in self._regularized_layers())

    def forward(self, X, training=False):
        """Outputs for already validated input ``X`` (n_samples, input_dim)."""
        self._configure_fusion()
        return self._outputs(self._forward(X, training))

    def loss_and_gradients(self, X, y, sample_weight=None, training=True):
        """One forward and backward pass: returns the loss (with regularization) and the raw
        network output; the gradients are left in ``grads_buffer`` and each layer's ``grads``."""
        raw = self._forward(X, training=training)
        loss, d_out = self._train_loss.value_and_gradient(y, raw, sample_weight)
        self._backward(d_out)
        regularized = self._regularized_layers()
        for layer in regularized:
            layer.add_regularization_gradients()
        return loss + sum(layer.regularization_loss() for layer in regularized), raw

    def _train_step(self, X, y, sample_weight=None):
        loss, raw = self.loss_and_gradients(X, y, sample_weight)
        self.optimizer.update(self.params_buffer, self.grads_buffer)
        return loss, raw

    # -- front doors -------------------------------------------------------------------
    def _check_compiled(self):
        if self.loss is None:
            raise RuntimeError("The model must be compiled before training or evaluation: "
                               "call model.compile(optimizer=..., loss=...).")

    def _prepare(self, X, y=None, sample_weight=None, names=("X", "y", "sample_weight")):
        """Validate inputs at the front door and build the model on first use; ``names`` are
        the arguments the errors name (``validation_data X``, ... for the dev set)."""
        X = check_features(X, names[0], self.input_dim, self.dtype)
        if not self.built:
            self.build(X.shape[1])
        if y is None:
            return X, None, None
        check_same_length(X, y, *names[:2])
        try:
            y = self.loss.prepare_targets(y, self.output_dim, self.dtype)
        except (TypeError, ValueError) as error:  # the losses name their targets "y"
            text = str(error)
            if names[1] == "y" or not text.startswith("y: "):
                raise
            raise type(error)(f"{names[1]}: {text[3:]}") from None
        return X, y, check_sample_weight(sample_weight, len(X),
                                         names[2] if len(names) > 2 else "sample_weight")

    def train_on_batch(self, X, y, sample_weight=None):
        """One gradient step on one batch; returns the loss before the step.

        One step never repays the compiled kernels' start-up, so in ``auto`` mode it runs the
        NumPy references; ``compile(kernels="always")`` compiles a loop of such steps.
        """
        X, y, sample_weight = prepare(self, X, y, sample_weight)
        with compute_path(self, choose_compute_path(self, 1, len(X))):
            loss, _ = self._train_step(X, y, sample_weight)
        return float(loss)

    def fit(self, X, y, epochs=1, batch_size=32, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None,
            initial_epoch=0, augment=None):
        """Train for ``epochs`` passes over ``(X, y)``.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
        y : array of shape (n_samples,) or (n_samples, n_outputs)
            Integer labels or one-hot rows for categorical cross-entropy, 0/1 for binary.
        batch_size : int or None, default 32
            None is batch gradient descent (one step per epoch), 1 is stochastic gradient
            descent, anything else mini-batch gradient descent. The full-batch
            :class:`~gradwise.optimizers.LBFGS` needs None (or at least ``len(X)``); it runs
            one L-BFGS iteration per epoch.
        validation_split : float in [0, 1)
            Fraction held out from the end of the data (ignored if ``validation_data``).
        class_weight : dict or "balanced", optional
            ``{class index: weight}`` multiplied into the per-sample loss weights;
            ``"balanced"`` gives each class of ``y`` the same total weight
            (``n_samples / (n_classes * count)``).
        callbacks : list of Callback, optional
        augment : callable ``(X_batch, y_batch, rng) -> (X_batch, y_batch)``, optional
            Data augmentation applied to each training batch (never to validation data), with
            prepared targets and the model's seeded generator; see :mod:`gradwise.augmentation`.

        Returns
        -------
        History
            ``history.history`` maps ``"loss"``, ``"val_loss"`` and each metric to lists.

        Raises
        ------
        TrainingDiverged
            When a batch loss becomes NaN or infinite: training stops, the callbacks'
            ``on_train_end`` runs (so ``EarlyStopping(restore_best_weights=True)`` puts back
            the best epoch's weights), and the error names the likely causes.
        """
        self._check_compiled()
        epochs = check_positive_int(epochs, "epochs")
        batch_size = check_positive_int(batch_size, "batch_size", allow_none=True)
        if augment is not None and not callable(augment):
            raise TypeError(f"augment: expected a callable (X, y, rng) -> (X, y), received {augment!r}.")
        X, y, sample_weight = prepare(self, X, y, sample_weight)
        if validation_data is not None:
            train_data, validation = (X, y, sample_weight), prepare_validation(self, validation_data)
        else:
            train_data, validation = split_validation(X, y, sample_weight, validation_split)
        # Class weights weigh the training rows only (as Keras): counted on them, and the
        # rows held out by validation_split keep the loss they would have in evaluate().
        X, y, sample_weight = train_data
        train_data = (X, y, apply_class_weight(class_weight, y, sample_weight))
        self._augment = augment
        n_train = len(train_data[0])
        if getattr(self.optimizer, "full_batch", False):  # L-BFGS: the whole objective at once
            self.optimizer.check_fit(self, batch_size, n_train, augment)
            callback_list = callbacks_module.CallbackList(callbacks, self, verbose, epochs, 1)
            return self.optimizer.minimize(self, train_data, range(initial_epoch, epochs),
                                           callback_list, validation)
        batch = min(batch_size or n_train, n_train)
        return train(self, lambda epoch: self._batches(*train_data, batch_size, shuffle),
                     range(initial_epoch, epochs), math.ceil(n_train / batch), batch, callbacks,
                     verbose, validation)

    def _batches(self, X, y, sample_weight, batch_size, shuffle):
        """One epoch of ``(X, y, sample_weight)`` batches, reshuffled when asked."""
        if shuffle:  # one gather per epoch, then contiguous batches
            order = self._shuffle_rng.permutation(len(X))
            X, y = X[order], y[order]
            sample_weight = None if sample_weight is None else sample_weight[order]
        for _, rows in iterate_batches(len(X), batch_size):
            yield X[rows], y[rows], None if sample_weight is None else sample_weight[rows]

    def _metric_values(self, y, raw):
        if not self.metrics:
            return {}
        outputs = self._outputs(raw)
        return {metric.__name__: float(metric(y, outputs)) for metric in self.metrics
                if getattr(metric, "per_batch", True)}

    def _evaluate_prepared(self, X, y, sample_weight=None, batch_size=None, outputs=False):
        # The loss by the formula training uses: from the logits when the output activation
        # is fused with the cross-entropy (no clipping of probabilities), so that val_loss and
        # evaluate() measure what the training loss measures.
        raw = self._raw_outputs(X, batch_size)
        predicted = self._outputs(raw)
        loss = self._train_loss(y, raw, sample_weight) + self._regularization_loss()
        values = {"loss": float(loss)}
        values.update({m.__name__: float(m(y, predicted)) for m in self.metrics})
        return (values, predicted) if outputs else values

    def _predict_prepared(self, X, batch_size=None):
        return self._outputs(self._raw_outputs(X, batch_size))

    def _raw_outputs(self, X, batch_size=None):
        """The last layer's outputs in inference mode (logits when the loss is fused)."""
        self._configure_fusion()
        size = batch_size or 8192
        if len(X) <= size:
            return self._forward(X, training=False)
        return xp.concatenate([self._forward(X[rows], training=False)
                               for _, rows in iterate_batches(len(X), size)])

    def evaluate(self, X, y, batch_size=None, sample_weight=None, verbose=0,
                 return_predictions=False):
        """Loss (with regularization) and metrics on ``(X, y)`` in inference mode, as a dict;
        with ``return_predictions``, ``(values, outputs)``: the outputs ``predict`` gives, from
        the same forward pass."""
        self._check_compiled()
        X, y, sample_weight = self._prepare(X, y, sample_weight)
        values, outputs = self._evaluate_prepared(X, y, sample_weight, batch_size, outputs=True)
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in values.items()))
        return (values, outputs) if return_predictions else values

    def predict(self, X, batch_size=None):
        """Network outputs for ``X``, shape (n_samples, n_outputs), in inference mode."""
        if not self.built and self.input_dim is None:
            raise RuntimeError("The model is not built: call fit or build(input_dim) first.")
        if self.loss is None:
            self._train_loss, self._output_activation = None, None
            X = check_features(X, "X", self.input_dim, self.dtype)
            if not self.built:
                self.build()
            return self._forward(X, training=False)
        X, _, _ = self._prepare(X)
        return self._predict_prepared(X, batch_size)

    def __repr__(self):
        return f"<Sequential name={self.name!r} layers={len(self.layers)} built={self.built}>"
