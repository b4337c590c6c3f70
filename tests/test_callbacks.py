"""Callbacks fed scripted loss sequences, without training a network."""
import math

import numpy as np
import pytest

import gradwise as gw


class FakeModel:
    """Just enough of a model for callbacks: weights that change every epoch."""

    def __init__(self):
        self.stop_training = False
        self.weights = [np.zeros(2)]

    def get_weights(self, include_state=False):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights, include_state=False):
        self.weights = [w.copy() for w in weights]


def run(callback, values, key="val_loss"):
    """Feed ``values`` epoch by epoch; the fake weights record the epoch number."""
    model = FakeModel()
    callback.set_model(model)
    callback.on_train_begin()
    epochs = 0
    for epoch, value in enumerate(values):
        model.weights = [np.full(2, float(epoch))]
        callback.on_epoch_end(epoch, {key: value})
        epochs += 1
        if model.stop_training:
            break
    callback.on_train_end()
    return model, epochs


def test_early_stopping_waits_patience_epochs_after_the_best():
    callback = gw.callbacks.EarlyStopping(patience=2)
    model, epochs = run(callback, [1.0, 0.8, 0.9, 0.85, 0.7, 0.6])
    assert epochs == 4 and callback.stopped_epoch == 3 and callback.best == 0.8


def test_early_stopping_min_delta_ignores_small_improvements():
    callback = gw.callbacks.EarlyStopping(patience=1, min_delta=0.1)
    _, epochs = run(callback, [1.0, 0.95, 0.92, 0.5])
    assert epochs == 2  # 0.95 is not an improvement of more than 0.1 on 1.0


def test_early_stopping_restores_best_weights():
    callback = gw.callbacks.EarlyStopping(patience=1, restore_best_weights=True)
    model, _ = run(callback, [3.0, 1.0, 2.0, 2.5, 0.1])
    np.testing.assert_array_equal(model.weights[0], 1.0)  # epoch 1 was the best


def test_early_stopping_max_mode_for_accuracy():
    callback = gw.callbacks.EarlyStopping(monitor="val_accuracy", patience=0)
    assert callback.mode == "max"
    _, epochs = run(callback, [0.5, 0.7, 0.6], key="val_accuracy")
    assert epochs == 3 and callback.best == 0.7


def test_early_stopping_restores_the_best_weights_also_when_patience_never_ran_out():
    callback = gw.callbacks.EarlyStopping(patience=5, restore_best_weights=True)
    model, epochs = run(callback, [3.0, 1.0, 2.0])
    assert epochs == 3 and callback.stopped_epoch is None and callback.best_epoch == 1
    np.testing.assert_array_equal(model.weights[0], 1.0)  # epoch 1 was the best


def test_early_stopping_without_restore_keeps_the_last_weights():
    callback = gw.callbacks.EarlyStopping(patience=5)
    model, _ = run(callback, [3.0, 1.0, 2.0])
    np.testing.assert_array_equal(model.weights[0], 2.0)


def test_early_stopping_warns_about_a_missing_monitor():
    with pytest.warns(RuntimeWarning, match="val_loss"):
        run(gw.callbacks.EarlyStopping(), [1.0], key="loss")


def test_early_stopping_stops_on_nan():
    _, epochs = run(gw.callbacks.EarlyStopping(patience=10), [1.0, math.nan, 0.5])
    assert epochs == 2


def test_terminate_on_nan_stops_at_the_first_bad_batch():
    callback = gw.callbacks.TerminateOnNaN()
    model = FakeModel()
    callback.set_model(model)
    for batch, loss in enumerate([1.0, 0.5, np.inf, 0.2]):
        callback.on_batch_end(batch, {"loss": loss})
        if model.stop_training:
            break
    assert batch == 2


def test_history_collects_epoch_logs():
    history = gw.callbacks.History()
    history.on_train_begin()
    for epoch, loss in enumerate([3.0, 2.0]):
        history.on_epoch_end(epoch, {"loss": loss, "accuracy": 0.1 * epoch})
    assert history.history == {"loss": [3.0, 2.0], "accuracy": [0.0, 0.1]}
    assert history.epoch == [0, 1]


def test_hooks_are_called_in_order_by_fit(rng):
    calls = []

    class Recorder(gw.callbacks.Callback):
        def on_train_begin(self, logs=None): calls.append("train_begin")
        def on_epoch_begin(self, epoch, logs=None): calls.append(f"epoch_begin{epoch}")
        def on_batch_begin(self, batch, logs=None): calls.append(f"batch_begin{batch}")
        def on_batch_end(self, batch, logs=None): calls.append(f"batch_end{batch}")
        def on_epoch_end(self, epoch, logs=None): calls.append(f"epoch_end{epoch}")
        def on_train_end(self, logs=None): calls.append("train_end")

    model = gw.Sequential([gw.layers.Dense(1)], input_dim=2, seed=0)
    model.compile(loss="mse")
    model.fit(rng.normal(size=(4, 2)), np.ones(4), epochs=2, batch_size=2, verbose=0,
              callbacks=[Recorder()])
    assert calls == ["train_begin",
                     "epoch_begin0", "batch_begin0", "batch_end0", "batch_begin1", "batch_end1", "epoch_end0",
                     "epoch_begin1", "batch_begin0", "batch_end0", "batch_begin1", "batch_end1", "epoch_end1",
                     "train_end"]


def test_early_stopping_in_a_real_fit_restores_the_best_epoch(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    model = gw.Sequential([gw.layers.Dense(256, activation="relu"),
                           gw.layers.Dense(10, activation="softmax")], input_dim=64, seed=0)
    model.compile(optimizer=gw.optimizers.Adam(0.01), loss="categorical_crossentropy")
    stop = gw.callbacks.EarlyStopping(patience=3, restore_best_weights=True)
    history = model.fit(X_train[:300], y_train[:300], epochs=100, batch_size=32, verbose=0,
                        validation_data=(X_test, y_test), callbacks=[stop])
    losses = history.history["val_loss"]
    assert len(losses) < 100 and len(losses) == stop.stopped_epoch + 1
    assert model.evaluate(X_test, y_test)["loss"] == pytest.approx(min(losses), rel=1e-5)


def test_early_stopping_config_round_trip_and_bad_patience():
    callback = gw.callbacks.EarlyStopping(monitor="loss", patience=3, min_delta=0.01)
    clone = gw.callbacks.get(gw.callbacks.serialize(callback))
    assert clone.get_config() == callback.get_config()
    with pytest.raises(ValueError, match="patience"):
        gw.callbacks.EarlyStopping(patience=-1)
