"""Tests for gradwise.io.export_onnx: the ONNX file computes what ``predict`` returns.

The truth is gradwise's own ``predict`` (inference mode); the file is run with ONNX Runtime.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import gradwise as gw
from gradwise.io import onnx as onnx_export

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

BATCH_SIZES = (1, 7, 64)
TOLERANCE = {"float32": {"rtol": 1e-5, "atol": 1e-6}, "float64": {"rtol": 1e-12, "atol": 1e-12}}
ACTIVATIONS = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "abs_relu",
               "softmax"]


def _session(path):
    return ort.InferenceSession(os.fspath(path), providers=["CPUExecutionProvider"])


def _assert_matches_predict(model, path, X):
    """The exported file gives ``model.predict`` for several batch sizes (symbolic batch)."""
    session = _session(path)
    tolerance = TOLERANCE[model.dtype.name]
    for n in BATCH_SIZES:
        rows = np.asarray(X[:n], dtype=model.dtype)
        (outputs,) = session.run(["Y"], {"X": rows})
        assert outputs.shape == (n, model.output_dim) and outputs.dtype == model.dtype
        np.testing.assert_allclose(outputs, model.predict(rows), **tolerance)


def _data(n=64, features=5, outputs=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(scale=2.0, size=(n, features))  # plenty of negative pre-activations
    return X, rng.normal(size=(n, outputs))


def _trained(layers, dtype="float32", loss="mse", y=None, epochs=3):
    X, y_default = _data()
    model = gw.Sequential(layers, input_dim=X.shape[1], seed=0, dtype=dtype)
    model.compile(optimizer=gw.optimizers.Adam(learning_rate=0.05), loss=loss)
    model.fit(X, y_default if y is None else y, epochs=epochs, batch_size=16, verbose=0)
    return model, X


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_matches_predict(activation, dtype, tmp_path):
    # Both as a Dense activation and as an Activation layer.
    model, X = _trained([gw.layers.Dense(6, activation=activation),
                         gw.layers.Activation(activation), gw.layers.Dense(2)], dtype)
    path = tmp_path / "model.onnx"
    gw.io.export_onnx(model, path)
    _assert_matches_predict(model, path, X)
    graph = onnx.load(path).graph
    assert graph.input[0].type.tensor_type.elem_type == onnx.helper.np_dtype_to_tensor_dtype(
        np.dtype(dtype))


LAYERS = {
    "LeakyReLU": lambda: gw.layers.LeakyReLU(alpha=0.2),
    "ELU": lambda: gw.layers.ELU(alpha=0.5),
    "RReLU": lambda: gw.layers.RReLU(lower=0.1, upper=0.4),
    "PReLU": lambda: gw.layers.PReLU(),
    "Dropout": lambda: gw.layers.Dropout(0.5),
    "GaussianNoise": lambda: gw.layers.GaussianNoise(0.3),
    "BatchNormalization": lambda: gw.layers.BatchNormalization(momentum=0.5, epsilon=1e-2),
    "Dense without bias": lambda: gw.layers.Dense(4, activation="tanh", use_bias=False),
    "Activation": lambda: gw.layers.Activation("elu"),
    "Normalization": lambda: gw.layers.Normalization(mean=np.linspace(-1.0, 2.0, 6),
                                                     scale=np.linspace(0.5, 3.0, 6)),
    "LayerNormalization": lambda: gw.layers.LayerNormalization(epsilon=1e-2),
    "AlphaDropout": lambda: gw.layers.AlphaDropout(0.3),
    "Sampling": lambda: gw.layers.Sampling(beta=0.5),
    "Residual": lambda: gw.layers.Residual([gw.layers.Dense(8, activation="tanh"),
                                            gw.layers.LayerNormalization(),
                                            gw.layers.Dense(6, activation="relu")]),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_every_layer_type_matches_predict(kind, dtype, tmp_path):
    model, X = _trained([gw.layers.Dense(6), LAYERS[kind](), gw.layers.Dense(2)], dtype)
    path = tmp_path / "model.onnx"
    gw.io.export_onnx(model, path)
    _assert_matches_predict(model, path, X)


#: Exported and checked in their own test files: CategoryEmbedding needs integer codes as input
#: (tests/test_embedding.py).
COVERED_ELSEWHERE = {"CategoryEmbedding"}


def test_every_layer_type_is_covered():
    from gradwise._registry import _FAMILIES
    shipped = next(names for base, _, _, names in _FAMILIES if base is gw.layers.Layer)
    covered = {name.split()[0] for name in LAYERS} | {"Dense"} | COVERED_ELSEWHERE
    assert covered == set(shipped)  # the shipped layers: not those other tests registered


@pytest.mark.parametrize("opset, native", [(17, True), (13, False)])
def test_layer_normalization_uses_the_onnx_operator_from_opset_17(opset, native, tmp_path):
    model, X = _trained([gw.layers.Dense(6), gw.layers.LayerNormalization(),
                         gw.layers.Dense(2)], epochs=5)
    assert not np.allclose(model.layers[1].params["gamma"], 1.0)  # trained, not the defaults
    path = tmp_path / "model.onnx"
    gw.io.export_onnx(model, path, opset=opset)
    ops = [node.op_type for node in onnx.load(path).graph.node]
    assert ("LayerNormalization" in ops) is native
    _assert_matches_predict(model, path, X)


def test_nested_residual_blocks_export_one_add_each(tmp_path):
    inner = gw.layers.Residual([gw.layers.Dense(6, activation="relu"), gw.layers.Dense(6)])
    model, X = _trained([gw.layers.Dense(6), gw.layers.Residual([inner, gw.layers.Dense(6)]),
                         gw.layers.Dense(2)])
    path = tmp_path / "model.onnx"
    gw.io.export_onnx(model, path)
    assert [node.op_type for node in onnx.load(path).graph.node].count("Add") == 2
    _assert_matches_predict(model, path, X)


def test_prelu_exports_its_learned_per_unit_slope(tmp_path):
    model, X = _trained([gw.layers.Dense(6), gw.layers.PReLU(), gw.layers.Dense(2)], epochs=5)
    alpha = model.layers[1].params["alpha"]
    assert np.ptp(alpha) > 1e-3  # learned, one slope per unit: broadcasting matters
    path = tmp_path / "prelu.onnx"
    gw.io.export_onnx(model, path)
    _assert_matches_predict(model, path, X)
    stored = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}
    np.testing.assert_array_equal(stored[f"{model.layers[1].name}/alpha"], alpha)


def test_batch_normalization_uses_trained_running_statistics(tmp_path):
    model, X = _trained([gw.layers.Dense(6, activation="relu"),
                         gw.layers.BatchNormalization(momentum=0.5), gw.layers.Dense(2)],
                        epochs=5)
    bn = model.layers[1]
    assert not np.allclose(bn.state["running_mean"], 0)
    assert not np.allclose(bn.state["running_var"], 1)
    assert not np.allclose(bn.params["gamma"], 1) and not np.allclose(bn.params["beta"], 0)
    path = tmp_path / "bn.onnx"
    gw.io.export_onnx(model, path)
    _assert_matches_predict(model, path, X)
    # inference mode, not batch statistics: one row alone gives the same as within a batch
    (single,) = _session(path).run(["Y"], {"X": X[3:4].astype(np.float32)})
    np.testing.assert_allclose(single, model.predict(X)[3:4], rtol=1e-5, atol=1e-6)


def test_fused_softmax_with_categorical_crossentropy_exports_probabilities(tmp_path):
    X, _ = _data()
    labels = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    model, X = _trained([gw.layers.Dense(8, activation="relu"),
                         gw.layers.Dense(3, activation="softmax")],
                        loss="categorical_crossentropy", y=labels)
    assert model.layers[-1].fused_output  # the fused path is the one exercised
    path = tmp_path / "softmax.onnx"
    gw.io.export_onnx(model, path)
    _assert_matches_predict(model, path, X)
    (probabilities,) = _session(path).run(["Y"], {"X": X.astype(np.float32)})
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_fused_sigmoid_with_binary_crossentropy_exports_probabilities(tmp_path):
    X, _ = _data()
    model, X = _trained([gw.layers.Dense(8, activation="tanh"),
                         gw.layers.Dense(1, activation="sigmoid")],
                        loss="binary_crossentropy", y=(X[:, 0] > 0).astype(float))
    assert model.layers[-1].fused_output
    path = tmp_path / "sigmoid.onnx"
    gw.io.export_onnx(model, path)
    _assert_matches_predict(model, path, X)
    (probabilities,) = _session(path).run(["Y"], {"X": X.astype(np.float32)})
    assert ((probabilities > 0) & (probabilities < 1)).all()


def test_digits_argmax_predictions_match(digits_split, tmp_path):
    X_train, X_test, y_train, y_test = digits_split
    model = gw.Sequential([gw.layers.Dense(32, activation="relu"),
                           gw.layers.BatchNormalization(), gw.layers.Dropout(0.1),
                           gw.layers.Dense(10, activation="softmax")], input_dim=64, seed=0)
    model.compile(optimizer=gw.optimizers.Adam(learning_rate=0.01), loss="categorical_crossentropy")
    model.fit(X_train, y_train, epochs=10, batch_size=64, verbose=0)
    path = tmp_path / "digits.onnx"
    gw.io.export_onnx(model, path)
    (probabilities,) = _session(path).run(["Y"], {"X": X_test.astype(np.float32)})
    expected = model.predict(X_test).argmax(axis=1)
    np.testing.assert_array_equal(probabilities.argmax(axis=1), expected)
    assert (expected == y_test).mean() > 0.9


def test_graph_interface_opset_and_symbolic_batch(tmp_path):
    model, _ = _trained([gw.layers.Dense(4, activation="relu"), gw.layers.Dense(2)])
    for opset in (onnx_export.MIN_OPSET, None):
        path = tmp_path / f"model-{opset}.onnx"
        gw.io.export_onnx(model, path, opset=opset)
        proto = onnx.load(path)
        onnx.checker.check_model(proto, full_check=True)
        assert proto.opset_import[0].version == (opset or onnx_export.DEFAULT_OPSET)
        (x,), (y,) = proto.graph.input, proto.graph.output
        assert (x.name, y.name) == ("X", "Y")
        assert [d.dim_param or d.dim_value for d in x.type.tensor_type.shape.dim] == ["batch", 5]
        assert [d.dim_param or d.dim_value for d in y.type.tensor_type.shape.dim] == ["batch", 2]
        assert [n.op_type for n in proto.graph.node] == ["Gemm", "Relu", "Gemm"]


def test_identity_only_model_and_duplicate_layer_names(tmp_path):
    model = gw.Sequential([gw.layers.Dropout(0.5)], input_dim=3).build()
    path = tmp_path / "identity.onnx"
    gw.io.export_onnx(model, path)
    _assert_matches_predict(model, path, _data(features=3)[0])
    model = gw.Sequential([gw.layers.Dense(3, name="same"), gw.layers.Dense(2, name="same")],
                          input_dim=5, seed=1).build()
    gw.io.export_onnx(model, path)  # replaces the previous file
    _assert_matches_predict(model, path, _data()[0])


def test_export_is_reachable_from_io():
    assert gw.io.export_onnx is onnx_export.export_onnx
    assert "export_onnx" in gw.io.__all__


# -- errors: nothing written ---------------------------------------------------------------
class Scale(gw.layers.Layer):
    def forward(self, x, training=False):
        return 2 * x


class MyDense(gw.layers.Dense):
    pass


class Swish(gw.activations.Activation):
    name = "swish"

    def forward(self, z, out=None):
        return z * gw.activations.sigmoid(z)


@pytest.mark.parametrize("layers, message", [
    ([gw.layers.Dense(3), Scale(name="doubler")], "Layer 'doubler' of type Scale"),
    ([MyDense(3, name="mine")], "Layer 'mine' of type MyDense"),
    ([gw.layers.Dense(3, activation=Swish(), name="hidden")],
     "Layer 'hidden': activation Swish"),
    ([gw.layers.Residual([gw.layers.Dense(4), Scale(name="inside")])],
     "Layer 'inside' of type Scale"),
])
def test_unsupported_layer_or_activation_raises_and_writes_nothing(layers, message, tmp_path):
    model = gw.Sequential(layers, input_dim=4).build()
    path = tmp_path / "model.onnx"
    path.write_bytes(b"previous")
    with pytest.raises(ValueError, match=message):
        gw.io.export_onnx(model, path)
    assert os.listdir(tmp_path) == ["model.onnx"] and path.read_bytes() == b"previous"


def test_unbuilt_model_raises(tmp_path):
    with pytest.raises(ValueError, match="model: only a built model"):
        gw.io.export_onnx(gw.Sequential([gw.layers.Dense(2)]), tmp_path / "model.onnx")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("path", [123, None, b"model.onnx", ["model.onnx"]])
def test_bad_path_type_raises(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = gw.Sequential([gw.layers.Dense(2)], input_dim=3).build()
    with pytest.raises(TypeError, match="path: expected a str or os.PathLike"):
        gw.io.export_onnx(model, path)
    assert os.listdir(tmp_path) == []


def test_bad_directory_and_opset_raise(tmp_path):
    model = gw.Sequential([gw.layers.Dense(2)], input_dim=3).build()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        gw.io.export_onnx(model, tmp_path / "missing" / "model.onnx")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        gw.io.export_onnx(model, tmp_path)
    with pytest.raises(ValueError, match="opset: expected an integer from 13"):
        gw.io.export_onnx(model, tmp_path / "model.onnx", opset=12)
    with pytest.raises(TypeError, match="opset: expected an integer"):
        gw.io.export_onnx(model, tmp_path / "model.onnx", opset="17")
    assert os.listdir(tmp_path) == []


def test_missing_onnx_asks_for_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` fail
    model = gw.Sequential([gw.layers.Dense(2)], input_dim=3).build()
    with pytest.raises(ImportError, match=r'pip install "gradwise\[onnx\]"'):
        gw.io.export_onnx(model, tmp_path / "model.onnx")
    assert os.listdir(tmp_path) == []


def test_importing_gradwise_does_not_import_onnx():
    code = "import sys, gradwise, gradwise.io; print('onnx' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


# -- atomic writes -------------------------------------------------------------------------
def _fail_midway(error):
    def write(file, proto):
        file.write(proto.SerializeToString()[:10])
        raise error
    return write


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
@pytest.mark.parametrize("existing", [False, True])
def test_failed_write_leaves_destination_untouched(error, existing, tmp_path, monkeypatch):
    model = gw.Sequential([gw.layers.Dense(2)], input_dim=3).build()
    path = tmp_path / "model.onnx"
    if existing:
        path.write_bytes(b"previous")
    monkeypatch.setattr(onnx_export, "_write", _fail_midway(error))
    with pytest.raises(type(error)):
        gw.io.export_onnx(model, path)
    assert os.listdir(tmp_path) == (["model.onnx"] if existing else [])
    if existing:
        assert path.read_bytes() == b"previous"


def test_failed_rename_removes_the_temporary_file(tmp_path, monkeypatch):
    model = gw.Sequential([gw.layers.Dense(2)], input_dim=3).build()

    def refuse(source, destination):
        raise PermissionError("read-only destination")

    monkeypatch.setattr(gw.io.os, "replace", refuse)
    with pytest.raises(PermissionError):
        gw.io.export_onnx(model, tmp_path / "model.onnx")
    assert os.listdir(tmp_path) == []


def test_metadata_goes_into_the_file(tmp_path):
    model = gw.Sequential([gw.layers.Dense(2)], input_dim=3, seed=0).build()
    path = tmp_path / "m.onnx"
    gw.export_onnx(model, path, metadata={"columns": '["a", "b", "c"]'})
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert session.get_modelmeta().custom_metadata_map["columns"] == '["a", "b", "c"]'
    for bad in ({"n": 3}, ["columns"]):
        with pytest.raises(TypeError, match="metadata: expected a dict of str to str"):
            gw.export_onnx(model, tmp_path / "bad.onnx", metadata=bad)
    assert not (tmp_path / "bad.onnx").exists()
