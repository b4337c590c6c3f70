"""Reuse of pretrained layers: cloning, freezing, unfreezing."""
import numpy as np
import pytest

import gradwise as gw
from gradwise.transfer import clone_layer, freeze, reuse_layers, unfreeze


@pytest.fixture(scope="module")
def pretrained(digits_split):
    X, _, y, _ = digits_split
    model = gw.Sequential([
        gw.layers.Dense(32, activation="relu", kernel_initializer="he_normal"),
        gw.layers.BatchNormalization(),
        gw.layers.Dense(16, activation="relu", kernel_initializer="he_normal"),
        gw.layers.Dense(10, activation="softmax")], input_dim=64, seed=0)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, y, epochs=3, verbose=0)
    return model


def _binary_task(digits_split):
    """A new task on the same inputs: is the digit >= 5?"""
    X, _, y, _ = digits_split
    return X[:600], (y[:600] >= 5).astype(int)


def test_clone_layer_copies_config_weights_and_state_unshared(pretrained):
    for layer in pretrained.layers:
        clone = clone_layer(layer)
        assert type(clone) is type(layer) and clone.get_config() == layer.get_config()
        for source, target in ((layer.params, clone.params), (layer.state, clone.state)):
            assert source.keys() == target.keys()
            for key in source:
                np.testing.assert_array_equal(source[key], target[key])
                assert not np.shares_memory(source[key], target[key])
                assert not np.shares_memory(target[key], pretrained.params_buffer)


def test_clone_of_unbuilt_layer_is_unbuilt():
    clone = clone_layer(gw.layers.Dense(3, activation="tanh"))
    assert not clone.built and clone.units == 3 and clone.activation.name == "tanh"


def test_frozen_layers_do_not_move_and_have_no_optimizer_state(pretrained, digits_split):
    X, y = _binary_task(digits_split)
    reused = reuse_layers(pretrained, 3)
    model = gw.Sequential(reused + [gw.layers.Dense(1, activation="sigmoid")], input_dim=64, seed=1)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    before = model.get_weights(include_state=True)
    model.fit(X, y, epochs=2, verbose=0)
    after = model.get_weights(include_state=True)
    n_reused = sum(len(l.params) + len(l.state) for l in reused)
    for old, new in zip(before[:n_reused], after[:n_reused]):
        np.testing.assert_array_equal(old, new)  # bit-identical
    assert not np.array_equal(before[-1], after[-1])  # the new head trained
    head = 16 * 1 + 1
    assert model.params_buffer.size == head
    assert all(state.size == head for state in model.optimizer.state.values())
    lines = []
    model.summary(print_fn=lines.append)
    frozen = sum(l.count_params() + l.count_state() for l in reused)
    assert f"Trainable params: {head:,}" in lines[0]
    assert f"Non-trainable params: {frozen:,}" in lines[0]


def test_frozen_batch_norm_keeps_its_running_statistics(pretrained, digits_split):
    X, y = _binary_task(digits_split)
    reused = reuse_layers(pretrained, 3)
    model = gw.Sequential(reused + [gw.layers.Dense(1, activation="sigmoid")], input_dim=64, seed=1)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    before = {k: v.copy() for k, v in reused[1].state.items()}
    model.fit(X, y, epochs=1, verbose=0)
    for key, value in before.items():
        np.testing.assert_array_equal(reused[1].state[key], value)


def test_original_model_is_unaffected(pretrained, digits_split):
    X, y = _binary_task(digits_split)
    original = pretrained.get_weights(include_state=True)
    reused = reuse_layers(pretrained, 2, freeze=False)
    assert all(l.trainable for l in reused)
    model = gw.Sequential(reused + [gw.layers.Dense(1, activation="sigmoid")], input_dim=64, seed=1)
    model.compile(optimizer=gw.optimizers.SGD(0.5), loss="binary_crossentropy")
    model.fit(X, y, epochs=2, verbose=0)
    assert not np.array_equal(model.layers[0].params["W"], original[0])  # trained here
    for old, now in zip(original, pretrained.get_weights(include_state=True)):
        np.testing.assert_array_equal(old, now)


def test_unfreeze_repacks_and_trains(pretrained, digits_split):
    X, y = _binary_task(digits_split)
    reused = reuse_layers(pretrained, slice(0, 1))
    model = gw.Sequential(reused + [gw.layers.Dense(1, activation="sigmoid")], input_dim=64, seed=1)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(X, y, epochs=1, verbose=0)
    assert model.params_buffer.size == 33
    kernel = model.layers[0].params["W"].copy()
    unfreeze(reused)
    model.fit(X, y, epochs=1, verbose=0)
    assert model.params_buffer.size == 64 * 32 + 32 + 33
    assert np.shares_memory(model.layers[0].params["W"], model.params_buffer)
    assert not np.array_equal(model.layers[0].params["W"], kernel)
    freeze(model.layers[0])
    kernel = model.layers[0].params["W"].copy()
    model.fit(X, y, epochs=1, verbose=0)
    assert model.params_buffer.size == 33
    np.testing.assert_array_equal(model.layers[0].params["W"], kernel)


def test_all_frozen_model_refuses_to_train(pretrained, digits_split):
    X, y = _binary_task(digits_split)
    model = gw.Sequential(reuse_layers(pretrained, 4), input_dim=64, seed=1)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    np.testing.assert_allclose(model.predict(X), pretrained.predict(X), rtol=1e-6)  # inference ok
    with pytest.raises(ValueError, match="no trainable parameters"):
        model.fit(X, y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="no trainable parameters"):
        model.train_on_batch(X, y)
    freeze(model)
    unfreeze(model.layers[-1])
    model.fit(X, y, epochs=1, verbose=0)  # one trainable layer is enough


def test_freeze_accepts_layer_list_or_model_and_returns_layers(pretrained):
    layers = [clone_layer(l) for l in pretrained.layers]
    assert freeze(layers) == layers and not any(l.trainable for l in layers)
    assert unfreeze(layers[0]) == [layers[0]] and layers[0].trainable


def test_bad_inputs(pretrained):
    with pytest.raises(TypeError, match="layer"):
        clone_layer("dense")
    with pytest.raises(ValueError, match="layers"):
        reuse_layers(pretrained, 0)
    with pytest.raises(ValueError, match="layers"):
        reuse_layers(pretrained, 5)
    with pytest.raises(ValueError, match="layers"):
        reuse_layers(pretrained, slice(4, 9))
    with pytest.raises(TypeError, match="layers"):
        reuse_layers(pretrained, [0, 1])
    with pytest.raises(ValueError, match="model"):
        reuse_layers(gw.Sequential([gw.layers.Dense(2)]), 1)
    with pytest.raises(TypeError, match="layers"):
        freeze(["dense"])


def test_reused_layers_keep_their_weights_or_are_refused_never_reinitialized():
    base = gw.Sequential([gw.layers.Dense(32, activation="relu"),
                          gw.layers.Dense(16, activation="relu"),
                          gw.layers.Dense(10, activation="softmax")], input_dim=64, seed=0).build()
    with pytest.raises(ValueError, match=r"layers\[0\]: Dense .* holds weights for inputs of "
                                         r"width 64 and would receive width 30"):
        gw.Sequential(reuse_layers(base, 1) + [gw.layers.Dense(2)], input_dim=30).build()
    middle = reuse_layers(base, slice(1, 2))
    with pytest.raises(ValueError, match=r"layers\[1\]: .* width 32 and would receive width 20"):
        gw.Sequential([gw.layers.Dense(20)] + middle + [gw.layers.Dense(2)], input_dim=8).build()
    # in a model of another precision: the same weights, cast
    wide = gw.Sequential(reuse_layers(base, 2) + [gw.layers.Dense(2)], input_dim=64,
                         dtype="float64").build()
    for new, old in zip(wide.layers[:2], base.layers[:2]):
        assert new.params["W"].dtype == np.float64
        np.testing.assert_array_equal(new.params["W"], old.params["W"].astype(np.float64))
