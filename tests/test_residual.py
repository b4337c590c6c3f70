"""Residual blocks, layer normalization and alpha dropout inside models: the flat buffer,
gradient checks of whole models, model files, seeds, freezing and the width check."""
import numpy as np
import pytest

import gradwise as gw


def _block(width, name=None):
    return gw.layers.Residual([
        gw.layers.Dense(2 * width, activation="selu", kernel_initializer="lecun_normal",
                        kernel_regularizer=gw.regularizers.L2(1e-2)),
        gw.layers.AlphaDropout(0.1),
        gw.layers.LayerNormalization(),
        gw.layers.Dense(width),
    ], name=name)


def _residual_mlp(seed=0, dtype="float32"):
    return gw.Sequential([gw.layers.Dense(6, activation="relu"), _block(6),
                          gw.layers.Activation("relu"), _block(6), gw.layers.LayerNormalization(), gw.layers.AlphaDropout(0.2),
                          gw.layers.Dense(3, activation="softmax")],
                         input_dim=4, seed=seed, dtype=dtype)


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)


def test_block_parameters_are_views_into_the_model_buffer_and_train():
    model = _residual_mlp().build()
    inner = model.layers[1].layers[0]
    assert np.shares_memory(inner.params["W"], model.params_buffer)
    assert np.shares_memory(inner.grads["W"], model.grads_buffer)
    assert model.params_buffer.size == sum(l.count_params() for l in model.layers)
    # the kernels of the blocks are kernels for weight decay too
    assert model.kernel_mask.sum() == sum(v.size for l in model.layers
                                          for k, v in l.params.items() if k.endswith("W"))
    before = inner.params["W"].copy()
    model.compile(optimizer=gw.optimizers.AdamW(learning_rate=0.01), loss="categorical_crossentropy")
    model.fit(*_data(), epochs=2, batch_size=16, verbose=0)
    assert not np.array_equal(before, inner.params["W"])
    weights = model.get_weights()
    assert any(np.array_equal(w, inner.params["W"]) for w in weights)


def test_gradcheck_of_a_model_with_residual_blocks_layer_norm_and_alpha_dropout():
    model = _residual_mlp(dtype="float64")
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    X, y = _data(12)
    assert gw.gradcheck(model, X, y, epsilon=1e-6) < 1e-7
    total, per_layer = gw.gradcheck(model, X, y, epsilon=1e-6, per_layer=True)
    assert set(per_layer) >= {model.layers[1].name, model.layers[3].name, model.layers[4].name}
    assert max(per_layer.values()) < 1e-7


def test_width_mismatch_is_refused_at_build_before_any_training():
    model = gw.Sequential([gw.layers.Dense(6), gw.layers.Residual(
        [gw.layers.Dense(6, activation="relu"), gw.layers.Dense(4)], name="skip")], seed=0)
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"Residual 'skip': its layers map 6 features to 4"):
        model.fit(np.zeros((8, 3)), np.zeros((8, 6)), epochs=1, verbose=0)
    assert model.history is None


def test_model_file_and_config_round_trip(tmp_path):
    model = _residual_mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    X, y = _data()
    model.fit(X, y, epochs=2, batch_size=16, verbose=0)
    config = model.get_config()
    assert config["layers"][1]["config"]["layers"][0]["class_name"] == "Dense"
    model.save(tmp_path / "res.npz")
    again = gw.load_model(tmp_path / "res.npz")
    assert again.get_config() == config
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    again.fit(X, y, epochs=1, batch_size=16, verbose=0)  # training resumes
    clone = gw.Sequential.from_config(config).build()
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]


def test_same_seed_same_bits_and_different_seed_differs():
    X, y = _data()
    runs = []
    for seed in (3, 3, 4):
        model = _residual_mlp(seed=seed)
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        model.fit(X, y, epochs=2, batch_size=16, verbose=0)
        runs.append(model.get_weights(include_state=True))
    assert all(np.array_equal(a, b) for a, b in zip(runs[0], runs[1]))
    assert not all(np.array_equal(a, b) for a, b in zip(runs[0], runs[2]))


def test_a_frozen_block_keeps_its_weights_and_still_passes_gradients():
    model = _residual_mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.build()
    block = model.layers[1]
    gw.transfer.freeze(block)
    assert all(not layer.trainable for layer in block.layers)
    frozen = [v.copy() for v in block.params.values()]
    first = model.layers[0].params["W"].copy()
    model.fit(*_data(), epochs=2, batch_size=16, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(frozen, block.params.values()))
    assert not np.array_equal(first, model.layers[0].params["W"])  # gradients reach below it


def test_reused_blocks_keep_their_weights():
    model = _residual_mlp().build()
    copies = gw.transfer.reuse_layers(model, 2)
    new = gw.Sequential(copies + [gw.layers.Dense(1)], input_dim=4, seed=9).build()
    for old, fresh in zip(model.layers[1].params.values(), new.layers[1].params.values()):
        np.testing.assert_array_equal(old, fresh)
    assert not np.shares_memory(new.layers[1].params["0/W"], model.params_buffer)


def test_residual_mlp_learns_digits(digits_split):
    X, X_dev, y, y_dev = digits_split
    width = 64
    model = gw.Sequential([gw.layers.Dense(width, activation="relu")]
                          + [gw.layers.Residual([gw.layers.LayerNormalization(),
                                                 gw.layers.Dense(width, activation="relu"),
                                                 gw.layers.Dense(width)]) for _ in range(3)]
                          + [gw.layers.Dense(10, activation="softmax")], seed=0)
    model.compile(optimizer=gw.optimizers.Adam(learning_rate=1e-3),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, y, epochs=10, batch_size=32, verbose=0)
    assert model.evaluate(X_dev, y_dev)["accuracy"] > 0.93
