"""CategoryEmbedding: forward against a written-out lookup, backward against float64 central
differences, gradcheck on a model that uses it, config and model-file round trips, ONNX."""
import numpy as np
import pytest

import gradwise as gw
from _finite_differences import numeric_gradient, relative_difference


def _inputs(rng, n=12):
    """Rows of (number, code of 5 levels, number, code of 3 levels)."""
    X = rng.standard_normal((n, 4))
    X[:, 1] = rng.integers(1, 5, n)
    X[:, 3] = rng.integers(1, 3, n)
    return X


def _layer(rng):
    layer = gw.layers.CategoryEmbedding(columns=[1, 3], levels=[5, 3], output_dim=[2, 3])
    layer.build(4, rng, dtype=np.float64)
    for table in layer.params.values():  # every row non-zero, the unknown row too
        table[...] = rng.standard_normal(table.shape)
    return layer


def test_forward_passes_other_columns_then_looks_up_each_code(rng):
    layer = _layer(rng)
    X = _inputs(rng)
    Y = layer.forward(X)
    E0, E1 = layer.params["E0"], layer.params["E1"]
    expected = [np.concatenate([[row[0], row[2]], E0[int(row[1])], E1[int(row[3])]])
                for row in X]
    np.testing.assert_array_equal(Y, np.array(expected))
    assert layer.output_dim(4) == Y.shape[1] == 2 + 2 + 3


def test_unseen_codes_read_the_reserved_unknown_row(rng):
    layer = gw.layers.CategoryEmbedding([0], [4], 2).build(1, rng, dtype=np.float64)
    np.testing.assert_array_equal(layer.params["E0"][0], 0.0)  # starts at zero
    Y = layer.forward(np.array([[0.0], [4.0], [-1.0], [np.nan], [2.0]]))
    np.testing.assert_array_equal(Y[:4], 0.0)
    np.testing.assert_array_equal(Y[4], layer.params["E0"][2])


def test_backward_matches_central_differences_for_table_and_input(rng):
    layer = _layer(rng)
    X = _inputs(rng)
    weights = rng.standard_normal((len(X), layer.output_dim(4)))

    def loss():
        return float(np.sum(layer.forward(X) * weights))

    layer.forward(X, training=True)
    dx = layer.backward(weights)
    for key in ("E0", "E1"):
        expected = numeric_gradient(lambda _: loss(), layer.params[key])
        assert relative_difference(layer.grads[key], expected) < 1e-8, key
    # the passed-through columns: exact differences; the code columns get no gradient
    numeric = numeric_gradient(lambda Z: float(np.sum(layer.forward(Z) * weights)),
                               X.copy()[:, :])
    numeric[:, [1, 3]] = 0.0  # a finite step of a code changes nothing (same integer)
    assert relative_difference(dx, numeric) < 1e-8
    np.testing.assert_array_equal(dx[:, [1, 3]], 0.0)


def test_repeated_codes_add_their_gradients(rng):
    layer = gw.layers.CategoryEmbedding([0], [3], 1).build(1, rng, dtype=np.float64)
    layer.forward(np.array([[1.0], [1.0], [2.0]]), training=True)
    layer.backward(np.array([[0.5], [0.25], [2.0]]))
    np.testing.assert_array_equal(layer.grads["E0"][:, 0], [0.0, 0.75, 2.0])


def _model(seed=0, dtype=np.float64):
    model = gw.Sequential([
        gw.layers.Normalization(mean=[0.1, 0.0, -0.2, 0.0], scale=[2.0, 1.0, 0.5, 1.0]),
        gw.layers.CategoryEmbedding([1, 3], [5, 3], [2, 3]),
        gw.layers.Dense(6, activation="tanh"),
        gw.layers.Dense(3, activation="softmax"),
    ], input_dim=4, seed=seed, dtype=dtype)
    model.compile(optimizer=gw.optimizers.Adam(1e-2), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_gradcheck_of_a_model_with_an_embedding(rng):
    model = _model()
    X, y = _inputs(rng, 20), rng.integers(0, 3, 20)
    model.build()
    for key, table in model.layers[1].params.items():
        table[...] = rng.standard_normal(table.shape)  # the unknown rows too
    assert gw.gradcheck(model, X, y) < 1e-6


def test_a_network_learns_a_label_carried_only_by_the_category(rng):
    codes = rng.integers(1, 5, 400)
    X = np.column_stack([rng.standard_normal(400), codes, rng.standard_normal(400),
                         rng.integers(1, 3, 400)])
    y = np.array([0, 0, 1, 2, 2])[codes]  # levels 1 -> 0, 2 -> 1, 3 and 4 -> 2
    model = _model(dtype=np.float32)
    model.fit(X, y, epochs=60, batch_size=32)
    assert model.evaluate(X, y)["accuracy"] == 1.0


def test_config_and_model_file_round_trip(rng, tmp_path):
    model = _model(dtype=np.float32)
    X = _inputs(rng)
    model.fit(X, rng.integers(0, 3, len(X)), epochs=2, batch_size=4)
    layer = model.layers[1]
    clone = gw.layers.deserialize(gw.layers.serialize(layer))
    assert clone.get_config() == layer.get_config()
    gw.save_model(model, tmp_path / "m.npz")
    loaded = gw.load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.layers[1].params["E1"], layer.params["E1"])


@pytest.mark.parametrize("bad, message", [
    (dict(columns=[0, 0], levels=[2, 2], output_dim=2), "distinct"),
    (dict(columns=[0], levels=[2, 3], output_dim=2), "one count per column"),
    (dict(columns=[-1], levels=[2], output_dim=2), "positions >= 0"),
    (dict(columns=[0, 1], levels=[2, 2], output_dim=[2]), "one width per column"),
])
def test_bad_arguments_are_named(bad, message):
    with pytest.raises(ValueError, match=message):
        gw.layers.CategoryEmbedding(**bad)


def test_columns_beyond_the_input_are_refused(rng):
    with pytest.raises(ValueError, match="columns: positions"):
        gw.layers.CategoryEmbedding([3], [2], 2).build(3, rng)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_onnx_export_gathers_the_same_vectors(rng, tmp_path, dtype):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = _model(dtype=dtype)
    X = _inputs(rng).astype(dtype)
    X[0, 1] = 9  # out of range: the unknown row, in both
    model.fit(X, rng.integers(0, 3, len(X)), epochs=2, batch_size=4)
    gw.io.export_onnx(model, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    got = session.run(None, {"X": X})[0]
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, model.predict(X), rtol=tolerance, atol=tolerance)


def test_frozen_layer_attributes_gradient_times_vector_to_each_code_column(rng):
    layer = _layer(rng)
    layer.trainable = False
    X = _inputs(rng)
    weights = rng.standard_normal((len(X), layer.output_dim(4)))
    layer.forward(X)
    layer.backward(weights)
    for k, (start, column) in enumerate([(2, 1), (4, 3)]):
        dim = layer.output_dims[k]
        vectors = layer.params[f"E{k}"][X[:, column].astype(int)]
        expected = (weights[:, start:start + dim] * vectors).sum(axis=1)
        np.testing.assert_allclose(layer.attributions[k], expected, rtol=1e-12)
