"""Export a trained :class:`~gradwise.Sequential` to ONNX, computing what ``predict`` returns.

The graph is built with the ``onnx`` package's helper API, checked with
``onnx.checker.check_model`` and written atomically (temporary file renamed into place). ``onnx``
is an optional dependency, imported only when :func:`export_onnx` is called.

Layer by layer (inference behaviour):

- ``Dense``: ``Gemm(X, W, b)`` (``MatMul`` without bias), then its activation.
- ``Activation``, ``LeakyReLU(alpha)``, ``ELU(alpha)``: the activation below.
- ``RReLU(lower, upper)``: ``LeakyRelu(alpha=(lower + upper) / 2)``, its inference slope.
- ``PReLU``: ``PRelu(X, alpha)``, the learned ``alpha`` of shape (units,) broadcast over rows.
- ``BatchNormalization``: ``(X - running_mean) * scale + beta`` with
  ``scale = gamma / sqrt(running_var + epsilon)`` (``Sub``, ``Mul``, ``Add``), the very
  arithmetic of its inference forward pass.
- ``Normalization``: ``(X - mean) / scale`` (``Sub``, ``Div``) with its adapted statistics.
- ``LayerNormalization``: ONNX ``LayerNormalization(axis=-1, epsilon)`` (opset 17 and later,
  float32); for older opsets and float64 models, the same formula written out with row means
  as products with a column of ``1/d`` (``MatMul``, ``Sub``, ``Mul``, ``Add``, ``Sqrt``, ``Div``).
- ``Residual``: its layers, then ``Add`` of the block's input and their output.
- ``Sampling`` (variational autoencoders): the code's mean, the first half of its input
  (``Slice``), as at inference.
- ``CategoryEmbedding``: ``Gather`` of the other columns and of each table's rows at the codes
  (``Cast`` to int64, out-of-range codes to the unknown row 0), ``Concat``.
- ``Dropout``, ``AlphaDropout``, ``GaussianNoise``: nothing (identity at inference).

Activations: ``linear`` (nothing), ``sigmoid`` → ``Sigmoid``, ``tanh`` → ``Tanh``, ``relu`` →
``Relu``, ``leaky_relu`` → ``LeakyRelu``, ``elu`` → ``Elu``, ``selu`` → ``Selu`` (gradwise's
``alpha`` and ``scale`` as ``alpha``/``gamma``), ``abs_relu`` → ``Abs``, ``softmax`` →
``Softmax(axis=-1)``. A final
sigmoid/softmax fused with the cross-entropy during training is exported, so the file outputs
probabilities exactly as ``predict`` does.

float64 models export as float64. ONNX float attributes are float32 and ONNX Runtime's CPU
provider has no float64 ``Elu``/``Selu``, so in a float64 graph the parametrized activations are
written with float64 constant tensors instead: ``LeakyRelu`` as ``PRelu`` with a scalar slope,
``Elu``/``Selu`` as ``Where(X > 0, s X, t (exp(min(X, 0)) - 1))``.
"""

import numpy as np

from .files import atomic_write, check_writable

__all__ = ["DEFAULT_OPSET", "MIN_OPSET", "export_onnx"]

#: Opset written when ``opset=None``: widely supported by ONNX runtimes.
DEFAULT_OPSET = 17
#: Oldest opset accepted (every operator used here has had its current meaning since).
MIN_OPSET = 13

_INSTALL_HINT = 'ONNX export needs the onnx package: pip install "gradwise[onnx]"'


def export_onnx(model, path, opset=None, metadata=None):
    """Write ``model`` as an ONNX file computing ``model.predict(X)`` (inference mode).

    Parameters
    ----------
    model : Sequential
        A built model (fitted, or ``build(input_dim)`` called).
    path : str or os.PathLike
        The file written, exactly this name (conventionally ending in ``.onnx``). An existing
        file is replaced only once the new one is complete.
    opset : int, optional
        ONNX operator set version, from ``MIN_OPSET`` (13) to the newest the installed ``onnx``
        knows; default ``DEFAULT_OPSET`` (17).
    metadata : dict of str to str, optional
        Written to the file's ``metadata_props`` (onnxruntime reads them back with
        ``session.get_modelmeta().custom_metadata_map``), e.g. how to encode the input.

    Raises
    ------
    TypeError
        ``path`` is not a str or ``os.PathLike``; ``opset`` is not an integer; ``metadata``
        is not a dict of strings.
    ValueError
        The model is not built, a layer or activation has no ONNX equivalent (the message names
        it), or ``opset`` is out of range. Nothing is written.
    ImportError
        ``onnx`` is not installed.

    Notes
    -----
    The graph has one input ``"X"`` of shape ``(batch, input_dim)`` with a symbolic batch size,
    and one output ``"Y"`` of shape ``(batch, output_dim)``, both of the model's dtype (float32
    or float64): feed ``X`` in that dtype. Every layer computes its inference-time formula; see
    the module docstring for the mapping. The file is checked with
    ``onnx.checker.check_model(full_check=True)`` before it is written to a temporary file of
    the same directory that is renamed into place.

    Examples
    --------
    >>> import numpy as np, onnxruntime as ort  # doctest: +SKIP
    >>> import gradwise as gw
    >>> gw.io.export_onnx(model, "digits.onnx")  # doctest: +SKIP
    >>> session = ort.InferenceSession("digits.onnx",  # doctest: +SKIP
    ...                                providers=["CPUExecutionProvider"])
    >>> probabilities = session.run(["Y"], {"X": X_test.astype(np.float32)})[0]  # doctest: +SKIP
    >>> np.allclose(probabilities, model.predict(X_test), rtol=1e-5, atol=1e-6)  # doctest: +SKIP
    True
    """
    path = check_writable(path)
    if not getattr(model, "built", False):
        raise ValueError("model: only a built model can be exported; call fit or build(input_dim).")
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise TypeError(f"metadata: expected a dict of str to str, received {metadata!r:.80}.")
    onnx = _import_onnx()
    proto = _build_model(onnx, model, _check_opset(onnx, opset))
    onnx.helper.set_model_props(proto, metadata or {})
    onnx.checker.check_model(proto, full_check=True)
    atomic_write(path, lambda file: _write(file, proto), suffix=".onnx")


def _write(file, proto):
    # Serialized here rather than by onnx.save_model, which wants a file with a path name.
    file.write(proto.SerializeToString())


def _producer_version():
    """The installed gradwise's version, for the file's ``producer_version`` (read from the
    distribution, not from the package, which imports this module)."""
    from importlib import metadata
    try:
        return metadata.version("gradwise")
    except metadata.PackageNotFoundError:  # run from a source tree
        return ""


def _import_onnx():
    try:
        import onnx
        import onnx.checker
        import onnx.helper
        import onnx.numpy_helper
    except ImportError as error:
        raise ImportError(_INSTALL_HINT) from error
    return onnx


def _check_opset(onnx, opset):
    if opset is None:
        return DEFAULT_OPSET
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)):
        raise TypeError(f"opset: expected an integer, received opset={opset!r}")
    if not MIN_OPSET <= opset <= newest:
        raise ValueError(f"opset: expected an integer from {MIN_OPSET} to {newest} (the newest "
                         f"the installed onnx knows), received opset={opset}")
    return int(opset)


def _build_model(onnx, model, opset):
    """The unchecked ``ModelProto`` of ``model``; raises ``ValueError`` on an unknown layer."""
    helper = onnx.helper
    graph = _Graph(onnx, model.dtype)
    graph.opset = opset
    x = "X"
    for layer in model.layers:
        x = _convert_layer(graph, layer, x)
    graph.rename_output(x, "Y")
    elem_type = helper.np_dtype_to_tensor_dtype(model.dtype)
    inputs = [helper.make_tensor_value_info("X", elem_type, ["batch", model.input_dim])]
    outputs = [helper.make_tensor_value_info("Y", elem_type, ["batch", model.output_dim])]
    body = helper.make_graph(graph.nodes, model.name, inputs, outputs, graph.initializers)
    opsets = [helper.make_opsetid("", opset)]
    proto = helper.make_model(body, opset_imports=opsets, producer_name="gradwise",
                              producer_version=_producer_version(),
                              doc_string=f"gradwise Sequential {model.name!r}: predict(X)")
    # The oldest IR version that carries this opset, so older runtimes can load the file.
    proto.ir_version = helper.find_min_ir_version_for(opsets)
    return proto


class _Graph:
    """Collects nodes and initializers with unique names, in the model's dtype."""

    def __init__(self, onnx, dtype):
        self.onnx, self.dtype = onnx, np.dtype(dtype)
        self.nodes, self.initializers, self._names = [], [], {"X", "Y"}
        self.scope = ""
        #: float attributes are float32: exact for a float32 model only.
        self.float_attributes_exact = self.dtype == np.float32

    def unique(self, name):
        candidate, count = name, 1
        while candidate in self._names:
            count += 1
            candidate = f"{name}_{count}"
        self._names.add(candidate)
        return candidate

    def constant(self, key, value):
        """Add an initializer (cast to the model's dtype) and return its name."""
        name = self.unique(f"{self.scope}/{key}")
        array = np.array(value, dtype=self.dtype, copy=True, order="C")
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def node(self, op, inputs, **attributes):
        """Add ``op(inputs)`` and return the name of its output."""
        output = self.unique(f"{self.scope}/{op}")
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), [output], name=output,
                                                     **attributes))
        return output

    def rename_output(self, last, final):
        """Make the tensor ``last`` (the graph's result) be called ``final``."""
        if self.nodes and self.nodes[-1].output[0] == last:
            self.nodes[-1].output[0] = final
        else:  # no node computes it (e.g. only Dropout layers): copy the input
            self.nodes.append(self.onnx.helper.make_node("Identity", [last], [final], name="Y"))


# -- layers --------------------------------------------------------------------------------
def _convert_layer(graph, layer, x):
    convert = _LAYER_CONVERTERS.get(type(layer).__name__)
    if convert is None or type(layer) is not _layer_class(type(layer).__name__):
        raise ValueError(f"Layer {layer.name!r} of type {type(layer).__name__} cannot be "
                         f"exported to ONNX; supported layer types: "
                         f"{', '.join(sorted(_LAYER_CONVERTERS))}.")
    graph.scope = graph.unique(layer.name)
    return convert(graph, layer, x)


def _layer_class(name):
    from .. import layers

    return getattr(layers, name, None)


def _dense(graph, layer, x):
    kernel = graph.constant("W", layer.params["W"])
    if layer.use_bias:
        z = graph.node("Gemm", [x, kernel, graph.constant("b", layer.params["b"])])
    else:
        z = graph.node("MatMul", [x, kernel])
    # The activation itself, even when fused with the loss: predict applies it to the logits.
    return _convert_activation(graph, layer.activation, z, layer.name)


def _activation_layer(graph, layer, x):
    return _convert_activation(graph, layer.activation, x, layer.name)


def _rrelu(graph, layer, x):
    return _leaky_relu(graph, (layer.lower + layer.upper) / 2, x)


def _prelu(graph, layer, x):
    # alpha has shape (units,): ONNX broadcasts it over the rows of X (batch, units).
    return graph.node("PRelu", [x, graph.constant("alpha", layer.params["alpha"])])


def _batch_normalization(graph, layer, x):
    # The same arithmetic as BatchNormalization.forward at inference, so float64 stays exact.
    inv_std = 1.0 / np.sqrt(layer.state["running_var"] + layer.epsilon)
    centered = graph.node("Sub", [x, graph.constant("running_mean", layer.state["running_mean"])])
    scaled = graph.node("Mul", [centered, graph.constant("scale", inv_std * layer.params["gamma"])])
    return graph.node("Add", [scaled, graph.constant("beta", layer.params["beta"])])


def _identity(graph, layer, x):
    return x


def _normalization(graph, layer, x):
    centered = graph.node("Sub", [x, graph.constant("mean", layer.state["mean"])])
    return graph.node("Div", [centered, graph.constant("scale", layer.state["scale"])])


def _layer_normalization(graph, layer, x):
    gamma = graph.constant("gamma", layer.params["gamma"])
    beta = graph.constant("beta", layer.params["beta"])
    if graph.opset >= 17 and graph.float_attributes_exact:
        return graph.node("LayerNormalization", [x, gamma, beta], axis=-1,
                          epsilon=layer.epsilon)
    width = layer.params["gamma"].shape[0]
    average = graph.constant("row_mean", np.full((width, 1), 1.0 / width))
    centered = graph.node("Sub", [x, graph.node("MatMul", [x, average])])
    variance = graph.node("MatMul", [graph.node("Mul", [centered, centered]), average])
    std = graph.node("Sqrt", [graph.node("Add", [variance, graph.constant("epsilon", layer.epsilon)])])
    scaled = graph.node("Mul", [graph.node("Div", [centered, std]), gamma])
    return graph.node("Add", [scaled, beta])


def _residual(graph, layer, x):
    scope, inner = graph.scope, x
    for block_layer in layer.layers:
        inner = _convert_layer(graph, block_layer, inner)
    graph.scope = scope
    return graph.node("Add", [x, inner])


def _sampling(graph, layer, x):
    # At inference the code is its mean: the first half of [mu, log_var].
    width = layer.output_dim(layer.input_dim)
    bounds = []
    for key, value in (("starts", 0), ("ends", width), ("axes", 1)):
        name = graph.unique(f"{graph.scope}/{key}")
        graph.initializers.append(graph.onnx.numpy_helper.from_array(
            np.array([value], dtype=np.int64), name))
        bounds.append(name)
    return graph.node("Slice", [x, *bounds])


def _category_embedding(graph, layer, x):
    # Y = [X[:, other columns], E_0[c_0], ...]: Gather of the other columns, then per code column
    # Gather of the column, Cast to int64, out-of-range codes to the unknown row 0, and Gather
    # of the table's rows; Concat along the features.
    onnx = graph.onnx

    def indices(key, value):
        name = graph.unique(f"{graph.scope}/{key}")
        graph.initializers.append(onnx.numpy_helper.from_array(np.asarray(value, np.int64), name))
        return name

    parts = []
    if len(layer._passed):
        parts.append(graph.node("Gather", [x, indices("passed", layer._passed)], axis=1))
    for k, column in enumerate(layer.columns):
        values = graph.node("Gather", [x, indices(f"column{k}", column)], axis=1)  # (batch,)
        codes = graph.node("Cast", [values], to=onnx.TensorProto.INT64)
        low = graph.node("Less", [codes, indices(f"zero{k}", 0)])
        high = graph.node("GreaterOrEqual", [codes, indices(f"levels{k}", layer.levels[k])])
        valid = graph.node("Not", [graph.node("Or", [low, high])])
        rows = graph.node("Where", [valid, codes, indices(f"unknown{k}", 0)])
        parts.append(graph.node("Gather", [graph.constant(f"E{k}", layer.params[f"E{k}"]),
                                           rows], axis=0))
    return graph.node("Concat", parts, axis=1)


_LAYER_CONVERTERS = {
    "Dense": _dense, "Activation": _activation_layer, "LeakyReLU": _activation_layer,
    "ELU": _activation_layer, "RReLU": _rrelu, "PReLU": _prelu,
    "BatchNormalization": _batch_normalization, "Dropout": _identity, "GaussianNoise": _identity,
    "Normalization": _normalization, "LayerNormalization": _layer_normalization,
    "Residual": _residual, "AlphaDropout": _identity, "Sampling": _sampling,
    "CategoryEmbedding": _category_embedding,
}


# -- activations ---------------------------------------------------------------------------
def _convert_activation(graph, activation, x, layer_name):
    from .. import activations

    name = getattr(activation, "name", None)
    if name not in _ACTIVATION_CONVERTERS or type(activation) is not activations._REGISTRY[name]:
        raise ValueError(f"Layer {layer_name!r}: activation {type(activation).__name__} cannot "
                         f"be exported to ONNX; supported activations: "
                         f"{', '.join(_ACTIVATION_CONVERTERS)}.")
    return _ACTIVATION_CONVERTERS[name](graph, activation, x)


def _leaky_relu(graph, alpha, x):
    if graph.float_attributes_exact:
        return graph.node("LeakyRelu", [x], alpha=float(alpha))
    return graph.node("PRelu", [x, graph.constant("alpha", alpha)])


def _elu_like(graph, x, positive_scale, negative_scale, op, **attributes):
    """``op`` for float32; for float64 ``Where(x > 0, p x, n (exp(min(x, 0)) - 1))``."""
    if graph.float_attributes_exact:
        return graph.node(op, [x], **attributes)
    zero, one = graph.constant("zero", 0.0), graph.constant("one", 1.0)
    positive = x if positive_scale == 1.0 else graph.node(
        "Mul", [x, graph.constant("positive_scale", positive_scale)])
    exp_minus_one = graph.node("Sub", [graph.node("Exp", [graph.node("Min", [x, zero])]), one])
    negative = graph.node("Mul", [exp_minus_one, graph.constant("negative_scale", negative_scale)])
    return graph.node("Where", [graph.node("Greater", [x, zero]), positive, negative])


def _elu(graph, activation, x):
    return _elu_like(graph, x, 1.0, activation.alpha, "Elu", alpha=activation.alpha)


def _selu(graph, activation, x):
    alpha, scale = activation.alpha, activation.scale
    return _elu_like(graph, x, scale, scale * alpha, "Selu", alpha=alpha, gamma=scale)


def _simple(op, **attributes):
    return lambda graph, activation, x: graph.node(op, [x], **attributes)


_ACTIVATION_CONVERTERS = {
    "linear": lambda graph, activation, x: x,
    "sigmoid": _simple("Sigmoid"),
    "tanh": _simple("Tanh"),
    "relu": _simple("Relu"),
    "leaky_relu": lambda graph, activation, x: _leaky_relu(graph, activation.alpha, x),
    "elu": _elu,
    "selu": _selu,
    "abs_relu": _simple("Abs"),
    "softmax": _simple("Softmax", axis=-1),
}
