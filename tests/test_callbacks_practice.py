"""ReduceLROnPlateau, LearningRateScheduler, ModelCheckpoint and CSVLogger, driven by scripted
loss sequences on a fake model (no training), plus one real fit."""
import csv
import os

import numpy as np
import pytest

import gradwise as gw
from gradwise.callbacks import CSVLogger, LearningRateScheduler, ModelCheckpoint, ReduceLROnPlateau


class _FakeModel:
    def __init__(self, learning_rate=1.0):
        self.optimizer = gw.optimizers.SGD(learning_rate=learning_rate)
        self.stop_training = False


def _drive(callback, losses, model=None, key="val_loss"):
    model = model or _FakeModel()
    callback.set_model(model)
    callback.on_train_begin()
    rates = []
    for epoch, loss in enumerate(losses):
        callback.on_epoch_begin(epoch)
        callback.on_epoch_end(epoch, {key: loss})
        rates.append(model.optimizer.current_learning_rate)
    callback.on_train_end()
    return rates


def test_reduce_on_plateau_patience_and_min_lr():
    cb = ReduceLROnPlateau(factor=0.5, patience=2, min_lr=0.2)
    rates = _drive(cb, [5, 4, 4, 4, 4, 4, 4, 4])
    # improvements at epochs 0, 1; waits at 2, 3 -> halve at 3; waits 4, 5 -> halve at 5 ...
    assert rates == [1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.2]
    assert cb.reductions == [(3, 0.5), (5, 0.25), (7, 0.2)]


def test_reduce_on_plateau_cooldown_min_delta_and_max_mode():
    cb = ReduceLROnPlateau(factor=0.1, patience=1, cooldown=2)
    rates = _drive(cb, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    # as Keras: reduce at 1 (counter = 2); epoch 2 decrements to 1 and counts no wait; epoch 3
    # decrements to 0, so it counts a wait, reaching patience -> reduce; again at 5
    np.testing.assert_allclose(rates, [1, 0.1, 0.1, 0.01, 0.01, 0.001])
    cb = ReduceLROnPlateau(monitor="val_accuracy", factor=0.5, patience=1, min_delta=0.05)
    rates = _drive(cb, [0.5, 0.52, 0.6, 0.62], key="val_accuracy")  # +0.02 is no improvement
    assert rates == [1, 0.5, 0.5, 0.25]
    with pytest.raises(ValueError, match="factor"):
        ReduceLROnPlateau(factor=1.5)


def test_reduce_on_plateau_replaces_a_schedule_by_a_float():
    model = _FakeModel(gw.schedules.ExponentialDecay(1.0, decay_steps=10))
    model.optimizer.iterations = 10  # schedule value 0.1
    _drive(ReduceLROnPlateau(factor=0.5, patience=0), [1.0, 1.0], model)  # 2nd: plateau
    assert model.optimizer.learning_rate == pytest.approx(0.05)


def test_learning_rate_scheduler_two_and_one_argument_forms():
    rates = _drive(LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr), [0] * 4)
    assert rates == [1, 0.5, 0.25, 0.125]
    rates = _drive(LearningRateScheduler(lambda epoch: 0.1 / (1 + epoch)), [0] * 3)
    np.testing.assert_allclose(rates, [0.1, 0.05, 0.1 / 3])
    with pytest.raises(ValueError, match="schedule"):
        _drive(LearningRateScheduler(lambda epoch, lr: -1.0), [0])
    with pytest.raises(TypeError, match="schedule"):
        LearningRateScheduler(0.1)


def _small_model(seed=0):
    model = gw.Sequential([gw.layers.Dense(4, activation="relu"),
                           gw.layers.Dense(3, activation="softmax")], input_dim=2, seed=seed)
    return model.compile(optimizer="adam", loss="categorical_crossentropy").build()


def test_model_checkpoint_saves_only_improvements_atomically(tmp_path, monkeypatch):
    model = _small_model()
    path = str(tmp_path / "best-{epoch:02d}.npz")
    cb = ModelCheckpoint(path)
    _drive(cb, [3.0, 2.0, 2.5, 1.0, 1.0], model)
    assert [epoch for epoch, _ in cb.saved] == [0, 1, 3]
    assert sorted(os.listdir(tmp_path)) == ["best-01.npz", "best-02.npz", "best-04.npz"]
    loaded = gw.load_model(tmp_path / "best-04.npz")
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    # a crash while writing leaves the previous checkpoint intact and no temporary file
    fixed = str(tmp_path / "fixed.npz")
    cb = ModelCheckpoint(fixed, save_best_only=False)
    _drive(cb, [1.0], model)
    before = open(fixed, "rb").read()

    def crash(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        _drive(cb, [0.5], model)
    assert open(fixed, "rb").read() == before
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".tmp")]


def test_model_checkpoint_refuses_an_unwritable_file_before_the_first_epoch(tmp_path):
    """A checkpoint path that is a directory, or in a missing one, is refused when training
    begins, not after the first epoch's work; a path with format fields is checked when
    filled."""
    model = _small_model()
    X, y = np.zeros((8, 2)), np.zeros(8, dtype=int)
    before = [w.copy() for w in model.get_weights()]
    for path, error in ((tmp_path, IsADirectoryError),
                        (tmp_path / "missing" / "best.npz", FileNotFoundError)):
        with pytest.raises(error, match="filepath: "):
            model.fit(X, y, epochs=1, verbose=0, callbacks=[ModelCheckpoint(path, monitor="loss")])
        assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    with pytest.raises(IsADirectoryError):  # the filled name is a directory
        os.mkdir(tmp_path / "ckpt-01.npz")
        model.fit(X, y, epochs=1, verbose=0,
                  callbacks=[ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}.npz", monitor="loss")])


def test_csv_logger_writes_and_appends(tmp_path):
    path = tmp_path / "log.csv"
    _drive(CSVLogger(path), [0.5, 0.25])
    _drive(CSVLogger(path, append=True), [0.125])
    rows = list(csv.reader(open(path)))
    assert rows == [["epoch", "val_loss"], ["0", "0.5"], ["1", "0.25"], ["0", "0.125"]]
    _drive(CSVLogger(path), [1.0])
    assert list(csv.reader(open(path))) == [["epoch", "val_loss"], ["0", "1.0"]]


def test_callbacks_in_a_real_fit(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
    model = _small_model()
    ckpt = ModelCheckpoint(tmp_path / "best.npz", monitor="val_loss")
    plateau = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=10.0)
    history = model.fit(X[:150], y[:150], epochs=4, validation_data=(X[150:], y[150:]), verbose=0,
                        callbacks=[plateau, ckpt, CSVLogger(tmp_path / "log.csv")])
    val = history.history["val_loss"]
    assert model.optimizer.learning_rate == pytest.approx(0.001 * 0.5 ** 3)  # epochs 1, 2, 3
    assert ckpt.saved[-1][0] == int(np.argmin(val))
    best = gw.load_model(tmp_path / "best.npz")
    assert best.evaluate(X[150:], y[150:])["loss"] == pytest.approx(min(val), rel=1e-5)
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    np.testing.assert_allclose([float(r["val_loss"]) for r in rows], val)
    cfg = gw.callbacks.serialize(plateau)
    assert gw.callbacks.get(cfg).get_config() == plateau.get_config()
