"""Sequential: building, the flat buffers, the three flavours of gradient descent, weights,
configs, summaries and reproducibility."""
import io
import pickle

import numpy as np
import pytest

import gradwise as gw


def _net(seed=0, input_dim=4, hidden=8, out=3, **kwargs):
    return gw.Sequential([gw.layers.Dense(hidden, activation="relu", **kwargs),
                          gw.layers.Dense(out, activation="softmax")], input_dim=input_dim, seed=seed)


def _blobs(rng, n=90, d=4, classes=3):
    y = np.arange(n) % classes
    X = rng.normal(size=(n, d)) + 4 * np.eye(classes, d)[y]
    return X, y


def test_parameters_are_views_into_one_flat_buffer():
    model = _net().build()
    assert model.params_buffer.size == 4 * 8 + 8 + 8 * 3 + 3
    for layer in model.layers:
        for key, array in layer.params.items():
            assert np.shares_memory(array, model.params_buffer)
            assert np.shares_memory(layer.grads[key], model.grads_buffer)
    model.params_buffer[:] = 0
    assert not model.layers[0].params["W"].any()


@pytest.mark.parametrize("batch_size, steps", [(None, 1), (1, 90), (32, 3), (90, 1), (200, 1)])
def test_batch_size_sets_the_number_of_updates_per_epoch(batch_size, steps, rng):
    X, y = _blobs(rng)
    model = _net()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.fit(X, y, epochs=2, batch_size=batch_size, verbose=0)
    assert model.optimizer.iterations == 2 * steps


def test_batch_gradient_descent_step_equals_hand_update(rng):
    X, y = _blobs(rng, n=12)
    model = _net(seed=3)
    model.compile(optimizer=gw.optimizers.SGD(learning_rate=0.1), loss="categorical_crossentropy")
    model.build()
    before = model.params_buffer.copy()
    model.loss_and_gradients(X.astype(np.float32), np.eye(3, dtype=np.float32)[y])
    grads = model.grads_buffer.copy()
    model.params_buffer[:] = before
    model.fit(X, y, epochs=1, batch_size=None, shuffle=False, verbose=0)
    np.testing.assert_allclose(model.params_buffer, before - 0.1 * grads, rtol=1e-6, atol=1e-7)


def test_same_seed_same_data_gives_bit_identical_weights(rng):
    X, y = _blobs(rng)
    weights = []
    for _ in range(2):
        model = gw.Sequential([gw.layers.Dense(8, activation="relu"), gw.layers.Dropout(0.3),
                               gw.layers.BatchNormalization(),
                               gw.layers.Dense(3, activation="softmax")], input_dim=4, seed=42)
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        model.fit(X, y, epochs=3, batch_size=16, verbose=0)
        weights.append(model.get_weights(include_state=True))
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)
    other = _net(seed=43).build().get_weights()
    assert not np.array_equal(other[0], _net(seed=42).build().get_weights()[0])


def test_training_reduces_loss_and_history_records_metrics(rng):
    X, y = _blobs(rng)
    model = _net()
    model.compile(optimizer=gw.optimizers.Adam(0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(X, y, epochs=30, batch_size=16, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 30
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.9
    result = model.evaluate(X, y)
    assert set(result) == {"loss", "accuracy"}
    probabilities = model.predict(X)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    assert result["accuracy"] == pytest.approx(np.mean(probabilities.argmax(axis=1) == y))


def test_validation_data_equals_evaluate(rng):
    X, y = _blobs(rng)
    model = _net()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(X[:60], y[:60], epochs=2, validation_data=(X[60:], y[60:]), verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(model.evaluate(X[60:], y[60:])["loss"])


def test_class_weight_equals_matching_sample_weight(rng):
    X, y = _blobs(rng)
    results = []
    for kwargs in ({"class_weight": {0: 1.0, 1: 3.0, 2: 0.5}},
                   {"sample_weight": np.array([1.0, 3.0, 0.5])[y]}):
        model = _net(seed=5)
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
        model.fit(X, y, epochs=2, batch_size=10, verbose=0, **kwargs)
        results.append(model.params_buffer.copy())
    np.testing.assert_array_equal(*results)


def test_balanced_class_weight_is_inverse_class_frequency(rng):
    X, y = _blobs(rng)
    y = np.where(np.arange(len(y)) % 5 == 0, y, 0)  # class 0 common, classes 1 and 2 rare
    counts = np.bincount(y, minlength=3)
    expected = len(y) / (3 * counts)  # scikit-learn's rule: every class the same total weight
    results = []
    for kwargs in ({"class_weight": "balanced"}, {"sample_weight": expected[y]}):
        model = _net(seed=5)
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
        model.fit(X, y, epochs=2, batch_size=10, verbose=0, **kwargs)
        results.append(model.params_buffer.copy())
    np.testing.assert_array_equal(*results)
    with pytest.raises(TypeError, match="class_weight: expected a dict .* or 'balanced'"):
        model.fit(X, y, class_weight="balance", verbose=0)


def test_zero_sample_weight_removes_samples_from_the_gradient(rng):
    X, y = _blobs(rng, n=12)
    a, b = _net(seed=1), _net(seed=1)
    for m in (a, b):
        m.compile(optimizer="sgd", loss="categorical_crossentropy")
    weights = np.r_[np.ones(6), np.zeros(6)]
    a.fit(X, y, batch_size=None, sample_weight=weights, shuffle=False, verbose=0)
    b.fit(X[:6], y[:6], batch_size=None, shuffle=False, verbose=0)
    # a divides by 12 samples, b by 6: the step of a is half the step of b.
    start = _net(seed=1).build().params_buffer
    np.testing.assert_allclose(a.params_buffer - start, 0.5 * (b.params_buffer - start), atol=1e-7)


def test_summary_counts_trainable_and_non_trainable_parameters():
    model = gw.Sequential([gw.layers.Dense(10, activation="relu"), gw.layers.BatchNormalization(),
                           gw.layers.Dense(2, activation="softmax")], input_dim=5)
    out = io.StringIO()
    model.summary(print_fn=lambda text: out.write(text))
    text = out.getvalue()
    assert "(None, 10)" in text and "(None, 2)" in text
    total = (5 * 10 + 10) + 4 * 10 + (10 * 2 + 2)
    assert f"Total params: {total:,}" in text
    assert f"Trainable params: {total - 20:,}" in text
    assert "Non-trainable params: 20" in text


def test_weights_and_config_round_trip(rng):
    X, y = _blobs(rng)
    model = _net(kernel_regularizer=gw.regularizers.L2(0.01))
    model.compile(loss="categorical_crossentropy")
    model.fit(X, y, epochs=1, verbose=0)
    clone = gw.Sequential.from_config(model.get_config()).build()
    clone.set_weights(model.get_weights())
    clone.compile(loss="categorical_crossentropy")
    np.testing.assert_array_equal(clone.predict(X), model.predict(X))
    assert clone.get_config() == model.get_config()
    with pytest.raises(ValueError, match="shape"):
        clone.set_weights([w.T for w in model.get_weights()])
    with pytest.raises(ValueError, match="arrays"):
        clone.set_weights(model.get_weights()[:1])


def test_regularization_is_added_to_the_reported_loss(rng):
    X, y = _blobs(rng)
    model = _net(kernel_regularizer=gw.regularizers.L2(0.5))
    model.compile(loss="categorical_crossentropy")
    model.build()
    W = model.layers[0].params["W"]
    plain = gw.losses.get("categorical_crossentropy")(np.eye(3)[y], model.predict(X))
    assert model.evaluate(X, y)["loss"] == pytest.approx(plain + 0.25 * np.sum(W.astype(float) ** 2), rel=1e-5)


def test_frozen_layer_gets_no_updates_and_is_counted_non_trainable(rng):
    X, y = _blobs(rng)
    model = _net()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.build()
    model.layers[0].trainable = False
    frozen = model.layers[0].params["W"].copy()
    model.fit(X, y, epochs=2, verbose=0)
    np.testing.assert_array_equal(model.layers[0].params["W"], frozen)
    assert model.params_buffer.size == 8 * 3 + 3
    model.layers[0].trainable = True
    model.fit(X, y, epochs=1, verbose=0)
    assert not np.array_equal(model.layers[0].params["W"], frozen)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_a_non_finite_loss_stops_training_with_an_error_naming_the_likely_causes(rng):
    X, y = _blobs(rng)
    model = gw.Sequential([gw.layers.Dense(1)], input_dim=4, seed=0)
    model.compile(optimizer=gw.optimizers.SGD(learning_rate=1e6), loss="mse")
    with pytest.raises(gw.TrainingDiverged) as caught:
        model.fit(X * 1e3, y * 1e3, epochs=50, batch_size=8, verbose=0)
    error = caught.value
    assert isinstance(error, FloatingPointError) and not np.isfinite(error.loss)
    assert (error.epoch, error.learning_rate, error.restored_epoch) == (0, 1e6, None)
    message = str(error)
    assert f"epoch 1, batch {error.batch + 1}" in message
    assert "learning rate too large (learning_rate=1e+06)" in message
    assert "not standardized" in message and "the weights of that step" in message
    assert error.history.history == {} and model.history is error.history  # no epoch completed
    assert pickle.loads(pickle.dumps(error)).args == error.args


class _WeightsPerEpoch(gw.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_a_diverged_run_gives_back_the_best_weights_with_restore_best_weights(rng):
    X, y = _blobs(rng)
    X = X - X.mean(axis=0)
    model = gw.Sequential([gw.layers.Dense(1)], input_dim=4, seed=0)
    model.compile(optimizer=gw.optimizers.SGD(learning_rate=0.01), loss="mse")
    # three good epochs, then a learning rate that makes the loss overflow in epoch 4
    schedule = gw.callbacks.LearningRateScheduler(lambda epoch: 0.01 if epoch < 3 else 1e30)
    stop = gw.callbacks.EarlyStopping(monitor="loss", patience=10, restore_best_weights=True)
    record = _WeightsPerEpoch()
    with pytest.raises(gw.TrainingDiverged, match="the weights of epoch 3, the best, were "
                                                  "restored") as caught:
        model.fit(X, y, epochs=10, batch_size=8, verbose=0, callbacks=[schedule, stop, record])
    assert caught.value.epoch == 3 and caught.value.restored_epoch == stop.best_epoch == 2
    assert len(record.weights) == 3 and len(caught.value.history.history["loss"]) == 3
    for restored, best in zip(model.get_weights(), record.weights[2]):
        np.testing.assert_array_equal(restored, best)


def test_verbose_prints_one_line_per_epoch(rng, capsys):
    X, y = _blobs(rng)
    model = _net()
    model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, y, epochs=3, verbose=2)
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("Epoch")]
    assert len(lines) == 3 and "loss:" in lines[0] and "accuracy:" in lines[0]


def test_predict_without_compile_and_float64_models(rng):
    X, _ = _blobs(rng)
    model = _net(input_dim=4)
    assert model.predict(X).shape == (90, 3)
    model64 = gw.Sequential([gw.layers.Dense(2)], input_dim=4, dtype="float64")
    assert model64.predict(X).dtype == np.float64


def test_pickled_model_keeps_its_parameters_in_the_flat_buffer(rng):
    import pickle
    X, y = _blobs(rng)
    model = _net()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(X, y, epochs=1, verbose=0)
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict(X), model.predict(X))
    for layer in clone.layers:
        for key, array in layer.params.items():
            assert np.shares_memory(array, clone.params_buffer)
            assert np.shares_memory(layer.grads[key], clone.grads_buffer)
    clone.fit(X, y, epochs=1, verbose=0)  # training moves the weights the layers see
    assert not np.array_equal(clone.layers[0].params["W"], model.layers[0].params["W"])


# -- a layer object is one set of weights in one model ----------------------------------------
def test_a_layer_given_twice_in_one_model_is_refused():
    shared = gw.layers.Dense(10, activation="tanh")
    with pytest.raises(ValueError, match=r"layers: the same Dense object .* at positions 1 and "
                                         r"2.*clone_layer"):
        gw.Sequential([gw.layers.Dense(10), shared, shared, gw.layers.Dense(1)], input_dim=10)


def test_a_layer_of_another_built_model_is_refused_and_a_copy_is_not():
    import copy
    import gc
    import pickle
    X = np.random.default_rng(0).normal(size=(40, 6))
    first = gw.Sequential([gw.layers.Dense(4, activation="tanh"), gw.layers.Dense(1)],
                          input_dim=6, seed=0).build()
    layer = first.layers[0]
    with pytest.raises(ValueError, match=r"layers\[0\]: Dense .* belongs to the built model "
                                         r"'sequential'.*reuse_layers"):
        gw.Sequential([layer, gw.layers.Dense(2)], input_dim=6).build()
    assert np.shares_memory(layer.params["W"], first.params_buffer)  # first is left intact
    before = first.predict(X)
    for copied in (gw.transfer.clone_layer(layer), copy.deepcopy(layer),
                   pickle.loads(pickle.dumps(layer))):  # copies are layers of their own
        second = gw.Sequential([copied, gw.layers.Dense(2)], input_dim=6, seed=1).build()
        np.testing.assert_array_equal(copied.params["W"], layer.params["W"])
        second.compile(optimizer="sgd", loss="mse")
        second.fit(X, np.zeros((40, 2)), epochs=1, verbose=0)
    np.testing.assert_array_equal(first.predict(X), before)
    unpickled = pickle.loads(pickle.dumps(first))  # its layers belong to the unpickled model
    with pytest.raises(ValueError, match="belongs to the built model"):
        gw.Sequential([unpickled.layers[0], gw.layers.Dense(2)], input_dim=6).build()
    del first, unpickled
    gc.collect()  # once its model is gone, a layer may go on in another
    third = gw.Sequential([layer, gw.layers.Dense(2)], input_dim=6).build()
    assert np.shares_memory(layer.params["W"], third.params_buffer)


@pytest.mark.parametrize("units, activation, loss", [(1, "sigmoid", "binary_crossentropy"),
                                                     (3, "softmax", "categorical_crossentropy")])
def test_evaluate_and_val_loss_use_the_training_formula_even_for_confident_mistakes(
        units, activation, loss):
    # Logits of +-60: probabilities clipped at 1e-7 would cap a wrong row's loss at 16.1.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4)) * 40
    y = rng.integers(0, max(units, 2), size=50)
    model = gw.Sequential([gw.layers.Dense(units, activation=activation)], input_dim=4, seed=0,
                          dtype="float64")
    model.compile(optimizer=gw.optimizers.SGD(1e-300), loss=loss)  # the weights stay put
    model.build()
    z = X @ model.layers[0].params["W"] + model.layers[0].params["b"]
    if units == 1:  # -log sigmoid(+-z), from the logits
        expected = np.mean(np.logaddexp(0, np.where(y == 1, -z[:, 0], z[:, 0])))
    else:  # logsumexp(z) - z_y
        expected = np.mean(np.logaddexp.reduce(z, axis=1) - z[np.arange(50), y])
    assert expected > 17  # rows confidently wrong: beyond what clipped probabilities allow
    history = model.fit(X, y, epochs=1, batch_size=None, validation_data=(X, y), verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-12)
    assert history.history["val_loss"][0] == pytest.approx(expected, rel=1e-12)
    assert model.evaluate(X, y)["loss"] == pytest.approx(expected, rel=1e-12)


def test_class_weights_weigh_the_training_rows_only():
    # validation_split holds out the last 30 rows: 'balanced' counts the first 70 (60 of class
    # 0, 10 of class 1) and the held-out rows' loss is unweighted, as evaluate() gives it.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = np.r_[np.zeros(60, int), np.ones(10, int), np.zeros(10, int), np.ones(20, int)]
    model = gw.Sequential([gw.layers.Dense(2, activation="softmax")], input_dim=3, seed=0,
                          dtype="float64")
    model.compile(optimizer=gw.optimizers.SGD(1e-300), loss="sparse_categorical_crossentropy")
    model.build()
    z = X @ model.layers[0].params["W"] + model.layers[0].params["b"]
    rows = np.logaddexp.reduce(z, axis=1) - z[np.arange(100), y]
    weights = np.where(y[:70] == 0, 70 / (2 * 60), 70 / (2 * 10))
    history = model.fit(X, y, epochs=1, batch_size=None, validation_split=0.3,
                        class_weight="balanced", shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(np.mean(weights * rows[:70]), rel=1e-12)
    assert history.history["val_loss"][0] == pytest.approx(np.mean(rows[70:]), rel=1e-12)
