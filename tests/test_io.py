"""Tests for gradwise.io: save/load round trip without pickle, validation, atomic writes."""
import json
import os
import zipfile

import numpy as np
import pytest
from sklearn.datasets import load_digits

import gradwise as gw
from gradwise.io.files import atomic_write


def _trained(optimizer="adam"):
    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16.0
    model = gw.Sequential([gw.layers.Dense(16, activation="relu",
                                           kernel_regularizer=gw.regularizers.L2(1e-4)),
                           gw.layers.BatchNormalization(), gw.layers.Dropout(0.1),
                           gw.layers.Dense(10, activation="softmax")], input_dim=64, seed=0)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, y[:300], epochs=2, batch_size=32, verbose=0)
    return model, X, y[:300]


def test_round_trip_predictions_state_and_resumed_training(tmp_path):
    model, X, y = _trained(gw.optimizers.Nadam(learning_rate=gw.schedules.PowerDecay(0.01, 5)))
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = gw.load_model(path)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))  # incl. running stats
    assert loaded.get_config() == model.get_config()
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations == 20
    assert [m.__name__ for m in loaded.metrics] == ["accuracy"]
    for key, value in model.optimizer.state.items():
        np.testing.assert_array_equal(loaded.optimizer.state[key], value)
    # resuming gives the same step as continuing the original optimizer (the dropout
    # generator's position is part of the file)
    model.train_on_batch(X[:32], y[:32]), loaded.train_on_batch(X[:32], y[:32])
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_file_is_npz_with_json_and_no_pickle(tmp_path):
    model, _, _ = _trained()
    path = tmp_path / "m.npz"
    gw.save_model(model, path)
    assert os.listdir(tmp_path) == ["m.npz"]
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    assert "description.json.npy" in names and "weights/0000.npy" in names
    with np.load(path, allow_pickle=False) as archive:  # loads without pickle
        description = json.loads(archive["description.json"].tobytes())
        assert all(archive[n].dtype != object for n in archive.files)
    assert description["compile"]["loss"]["class_name"] == "CategoricalCrossentropy"
    assert [w["shape"] for w in description["weights"][:2]] == [[64, 16], [16]]


def _rewrite(path, mutate):
    with np.load(path, allow_pickle=False) as archive:
        arrays = {n: archive[n] for n in archive.files}
    description = json.loads(arrays["description.json"].tobytes())
    mutate(arrays, description)
    arrays["description.json"] = np.frombuffer(json.dumps(description).encode(), np.uint8)
    np.savez(path, **arrays)


def _resumable(seed=3):
    block = gw.layers.Residual([gw.layers.Dense(16, activation="relu"), gw.layers.Dropout(0.3)])
    model = gw.Sequential([gw.layers.Dense(16, activation="relu"), gw.layers.Dropout(0.2),
                           gw.layers.GaussianNoise(0.1), block,
                           gw.layers.Dense(10, activation="softmax")], input_dim=64, seed=seed)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def test_training_resumed_from_a_file_is_the_uninterrupted_run_bit_for_bit(tmp_path):
    # The file keeps the shuffling and every layer's generator (dropout masks, noise, a
    # block's inner layers) with the optimizer's state.
    X, y = load_digits(return_X_y=True)
    X = X[:400] / 16.0
    whole = _resumable()
    whole.fit(X, y[:400], epochs=4, batch_size=32, verbose=0)
    half = _resumable()
    half.fit(X, y[:400], epochs=2, batch_size=32, verbose=0)
    half.save(tmp_path / "half.npz")
    resumed = gw.load_model(tmp_path / "half.npz")
    resumed.fit(X, y[:400], epochs=4, initial_epoch=2, batch_size=32, verbose=0)
    for a, b in zip(whole.get_weights(include_state=True),
                    resumed.get_weights(include_state=True)):
        np.testing.assert_array_equal(a, b)
    _rewrite(tmp_path / "half.npz", lambda a, d: d["optimizer_state"].pop("random"))
    older = gw.load_model(tmp_path / "half.npz")  # a file from before: loads, fresh streams
    np.testing.assert_array_equal(older.predict(X), gw.load_model(tmp_path / "half.npz").predict(X))


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["optimizer_state"]["random"].pop(), "random streams do not match"),
    (lambda d: d["optimizer_state"].update(random="x"), "random streams do not match"),
    (lambda d: d["optimizer_state"]["random"][0].update(bit_generator="MT19937"),
     "random streams are invalid"),
    (lambda d: d["optimizer_state"]["random"][1]["state"].update(state="x"),
     "random streams are invalid"),
])
def test_a_damaged_random_state_is_refused_naming_the_file(tmp_path, mutate, message):
    model = _resumable()
    model.fit(np.zeros((8, 64)), np.zeros(8, int), epochs=1, verbose=0)
    path = tmp_path / "m.npz"
    model.save(path)
    _rewrite(path, lambda a, d: mutate(d))
    with pytest.raises(ValueError, match=f"m.npz: the optimizer state's {message}"):
        gw.load_model(path)


def test_loading_validates_layer_types_and_shapes(tmp_path):
    model, _, _ = _trained()
    path = tmp_path / "m.npz"
    gw.save_model(model, path)
    bad_type = tmp_path / "type.npz"
    gw.save_model(model, bad_type)
    _rewrite(bad_type, lambda a, d: d["model"]["layers"][1].update(class_name="Evil"))
    with pytest.raises(ValueError, match="unknown type 'Evil'"):
        gw.load_model(bad_type)
    bad_shape = tmp_path / "shape.npz"
    gw.save_model(model, bad_shape)
    _rewrite(bad_shape, lambda a, d: a.update({"weights/0000": np.zeros((64, 15), np.float32)}))
    with pytest.raises(ValueError, match=r"shape \(64, 15\)"):
        gw.load_model(bad_shape)
    missing = tmp_path / "missing.npz"
    gw.save_model(model, missing)
    _rewrite(missing, lambda a, d: a.pop("weights/0003"))
    with pytest.raises(ValueError, match="weight arrays"):
        gw.load_model(missing)
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="not a gradwise model"):
        gw.load_model(tmp_path / "other.npz")
    with pytest.raises(ValueError, match="built"):
        gw.save_model(gw.Sequential([gw.layers.Dense(2)]), tmp_path / "x.npz")


def test_object_arrays_are_refused(tmp_path):
    model, _, _ = _trained()
    path = tmp_path / "m.npz"
    gw.save_model(model, path)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {n: archive[n] for n in archive.files}
    arrays["weights/0000"] = np.array([object()], dtype=object)
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="pickle"):
        gw.load_model(path)


def test_written_files_get_the_mode_open_would_give(tmp_path):
    # the temporary file behind an atomic write is private (0600); the result must not be
    old = os.umask(0o022)
    try:
        model, _, _ = _trained()
        gw.save_model(model, tmp_path / "model.npz")
        with open(tmp_path / "plain.bin", "wb"):
            pass
    finally:
        os.umask(old)
    mode = os.stat(tmp_path / "model.npz").st_mode & 0o777
    assert mode == os.stat(tmp_path / "plain.bin").st_mode & 0o777 == 0o644


def test_metadata_round_trip_and_validation(tmp_path):
    model, _, _ = _trained()
    facts = {"classes": ["cat", "dog"], "columns": [{"name": "x", "kind": "number"}], "y_std": 2.5}
    gw.save_model(model, tmp_path / "m.npz", metadata=facts)
    assert gw.load_model(tmp_path / "m.npz").metadata == facts
    gw.save_model(model, tmp_path / "plain.npz")
    assert gw.load_model(tmp_path / "plain.npz").metadata == {}
    with pytest.raises(TypeError, match="metadata"):
        gw.save_model(model, tmp_path / "bad.npz", metadata={"x": object()})
    with pytest.raises(TypeError, match="metadata"):
        gw.save_model(model, tmp_path / "bad.npz", metadata=["not", "a", "dict"])
    assert not (tmp_path / "bad.npz").exists()


def test_a_loaded_model_keeps_its_metadata_when_saved_again(tmp_path):
    model, _, _ = _trained()
    assert model.metadata == {}
    gw.save_model(model, tmp_path / "a.npz", metadata={"classes": ["a", "b"]})
    loaded = gw.load_model(tmp_path / "a.npz")
    loaded.save(tmp_path / "b.npz")
    assert gw.load_model(tmp_path / "b.npz").metadata == {"classes": ["a", "b"]}


def test_a_path_that_cannot_be_written_is_refused_before_any_work(tmp_path, monkeypatch):
    """save_model refuses a directory, a missing directory or a non-path as ``path`` before
    it describes the model (as export_onnx does), and writes nothing anywhere; the atomic
    writer itself refuses a directory before calling its writer."""
    model = gw.Sequential([gw.layers.Dense(2)], input_dim=3).build()
    described = []
    monkeypatch.setattr(model, "get_config", lambda: described.append(1) or {})
    with pytest.raises(IsADirectoryError, match=r"path: .* is a directory; give a file name"):
        gw.save_model(model, tmp_path)
    with pytest.raises(FileNotFoundError, match=r"path: the directory of .* does not exist"):
        gw.save_model(model, tmp_path / "missing" / "model.npz")
    with pytest.raises(TypeError, match="path: expected a str or os.PathLike"):
        gw.save_model(model, 3)
    assert described == [] and os.listdir(tmp_path) == []
    calls = []
    with pytest.raises(IsADirectoryError, match="is a directory"):
        atomic_write(str(tmp_path), calls.append)
    assert calls == [] and os.listdir(tmp_path) == []
