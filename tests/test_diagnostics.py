"""Bias/variance diagnosis and the gradient-health callback."""
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_circles, make_classification

import gradwise as gw
from gradwise.diagnostics import GradientHealth, diagnose


def _mlp(units, activation, init="glorot_uniform", input_dim=2, outputs=2, seed=0, depth=1):
    layers = [gw.layers.Dense(units, activation=activation, kernel_initializer=init)
              for _ in range(depth)]
    layers.append(gw.layers.Dense(outputs, activation="softmax", kernel_initializer=init))
    return gw.Sequential(layers, input_dim=input_dim, seed=seed)


# -- diagnose ------------------------------------------------------------------------------
def test_errors_equal_one_minus_evaluate_accuracy():
    X, y = make_classification(400, 6, random_state=0)
    model = _mlp(16, "relu", input_dim=6)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(X[:200], y[:200], epochs=5, verbose=0)
    report = diagnose(model, (X[:200], y[:200]), (X[300:], y[300:]), human_error=0.01,
                      train_dev=(X[200:300], y[200:300]))
    train, train_dev, dev = (1 - model.evaluate(a, b)["accuracy"]
                             for a, b in ((X[:200], y[:200]), (X[200:300], y[200:300]),
                                          (X[300:], y[300:])))
    assert report.train_error == pytest.approx(train)
    assert report.train_dev_error == pytest.approx(train_dev)
    assert report.dev_error == pytest.approx(dev)
    assert report.avoidable_bias == pytest.approx(train - 0.01)
    assert report.variance == pytest.approx(train_dev - train)
    assert report.data_mismatch == pytest.approx(dev - train_dev)
    assert report.metric == "error rate"


def test_regression_error_is_the_data_loss_without_penalty(diabetes_split):
    X_train, X_dev, y_train, y_dev = diabetes_split
    y_train, y_dev = y_train / 100, y_dev / 100
    model = gw.Sequential([gw.layers.Dense(8, activation="relu",
                                           kernel_regularizer=gw.regularizers.L2(0.1)),
                           gw.layers.Dense(1)], input_dim=X_train.shape[1], seed=0)
    model.compile(optimizer="adam", loss="mse")
    model.fit(X_train, y_train, epochs=3, verbose=0)
    report = diagnose(model, (X_train, y_train), (X_dev, y_dev))
    by_hand = np.mean((model.predict(X_dev)[:, 0] - y_dev) ** 2)
    assert report.dev_error == pytest.approx(by_hand, rel=1e-5)
    penalty = model.evaluate(X_dev, y_dev)["loss"] - by_hand
    assert penalty > 0  # evaluate adds the L2 penalty; the diagnosis leaves it out
    assert report.metric == "mean_squared_error"
    assert report.tolerance == pytest.approx(0.1 * report.dev_error)


def test_linear_model_on_circles_has_high_bias():
    X, y = make_circles(600, noise=0.05, factor=0.5, random_state=0)
    model = gw.Sequential([gw.layers.Dense(2, activation="softmax")], input_dim=2, seed=0)
    model.compile(optimizer=gw.optimizers.Adam(0.05), loss="categorical_crossentropy")
    model.fit(X[:400], y[:400], epochs=30, verbose=0)
    report = diagnose(model, (X[:400], y[:400]), (X[400:], y[400:]), human_error=0.0)
    assert report.train_error > 0.3  # no line separates two circles
    assert report.problem == "high bias"
    assert "train a bigger network (more units or layers)" in report.recommendations


def test_big_network_on_small_train_set_has_high_variance(digits_split):
    X_train, X_dev, y_train, y_dev = digits_split
    model = _mlp(256, "relu", "he_normal", input_dim=64, outputs=10)
    model.compile(optimizer=gw.optimizers.Adam(0.01), loss="categorical_crossentropy")
    model.fit(X_train[:60], y_train[:60], epochs=100, batch_size=None, verbose=0)
    report = diagnose(model, (X_train[:60], y_train[:60]), (X_dev, y_dev), human_error=0.0)
    assert report.train_error == 0.0
    assert report.variance > 0.1
    assert report.problem == "high variance"
    assert any("regularization" in action for action in report.recommendations)


@pytest.fixture(scope="module")
def separable():
    X, y = make_classification(600, 4, n_informative=2, n_redundant=0, class_sep=3.0,
                               flip_y=0.0, random_state=1)
    model = _mlp(8, "relu", input_dim=4)
    model.compile(optimizer=gw.optimizers.Adam(0.02), loss="categorical_crossentropy")
    model.fit(X[:300], y[:300], epochs=20, verbose=0)
    return model, X, y


def test_shuffled_dev_labels_are_data_mismatch(separable):
    model, X, y = separable
    dev_labels = np.random.default_rng(0).permutation(y[450:])  # another "distribution"
    report = diagnose(model, (X[:300], y[:300]), (X[450:], dev_labels),
                      train_dev=(X[300:450], y[300:450]), human_error=0.0)
    assert report.variance < report.tolerance
    assert report.data_mismatch > 0.3
    assert report.problem == "data mismatch"
    assert "data mismatch" in str(report) and "DATA MISMATCH" in str(report)


def test_good_fit_and_notes(separable):
    model, X, y = separable
    report = diagnose(model, (X[:300], y[:300]), (X[300:], y[300:]))
    assert report.train_error < 0.02 and report.dev_error < 0.03
    assert report.problem == "good fit" and report.problems == []
    assert any("human-level" in note for note in report.notes)
    text = str(report)
    for part in ("training error", "dev error", "avoidable bias", "variance", "next actions"):
        assert part in text


def test_diagnose_bad_inputs(separable):
    model, X, y = separable
    with pytest.raises(TypeError, match="train"):
        diagnose(model, X, (X, y))
    with pytest.raises(ValueError, match="human_error"):
        diagnose(model, (X, y), (X, y), human_error=1.5)
    with pytest.raises(ValueError, match="dev"):
        diagnose(model, (X, y), (X[:10], y[:9]))
    with pytest.raises(ValueError, match="model"):
        diagnose(gw.Sequential([gw.layers.Dense(2)], input_dim=4), (X, y), (X, y))


# -- GradientHealth ------------------------------------------------------------------------
def _deep(activation, init, seed=0):
    return _mlp(32, activation, init, input_dim=64, outputs=10, seed=seed, depth=10)


def test_deep_sigmoid_random_normal_is_flagged_vanishing(digits_split):
    X, _, y, _ = digits_split
    model = _deep("sigmoid", "random_normal")
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    health = GradientHealth()
    with pytest.warns(RuntimeWarning, match="vanishing"):
        model.fit(X[:512], y[:512], epochs=2, batch_size=64, verbose=0, callbacks=[health])
    assert health.vanishing() and not health.exploding()
    norms = [r["grad_norm"] for r in health.records if r["epoch"] == 1]
    assert norms[0] < 1e-3 * norms[-1]


def test_deep_relu_he_is_not_flagged(digits_split):
    X, _, y, _ = digits_split
    model = _deep("relu", "he_normal")
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    health = GradientHealth()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(X[:512], y[:512], epochs=2, batch_size=64, verbose=0, callbacks=[health])
    assert health.flags == []
    assert len(health.records) == 2 * 11


def test_grad_norm_and_update_ratio_match_hand_computation():
    X, y = make_classification(50, 5, random_state=0)
    model = _mlp(4, "tanh", input_dim=5)
    model.compile(optimizer=gw.optimizers.SGD(0.1), loss="categorical_crossentropy")
    model.build()
    twin = _mlp(4, "tanh", input_dim=5)
    twin.compile(optimizer="sgd", loss="categorical_crossentropy")
    twin.build()
    twin.set_weights(model.get_weights())
    Xp, yp, _ = twin._prepare(X, y)
    twin._configure_fusion()
    twin.loss_and_gradients(Xp, yp)  # gradient at the weights before the one step
    health = GradientHealth()
    model.fit(X, y, epochs=1, batch_size=None, shuffle=False, verbose=0, callbacks=[health])
    for record, layer in zip(health.records, twin.layers):
        grad = np.linalg.norm(layer.grads["W"])
        assert record["grad_norm"] == pytest.approx(grad, rel=1e-5)
        assert record["update_ratio"] == pytest.approx(
            0.1 * grad / np.linalg.norm(layer.params["W"]), rel=1e-4)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the +-1e3 biases make huge gradients
def test_dead_relu_and_saturated_tanh_fractions():
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    relu = gw.layers.Dense(4, activation="relu")
    tanh = gw.layers.Dense(6, activation="tanh", kernel_initializer=gw.initializers.get(
        {"class_name": "RandomNormal", "config": {"stddev": 3.0}}), trainable=False)
    model = gw.Sequential([tanh, relu, gw.layers.Dense(2, activation="softmax")], input_dim=3, seed=0)
    model.compile(optimizer=gw.optimizers.SGD(1e-6), loss="categorical_crossentropy")
    model.build()
    relu.params["b"][:] = [-1e3, -1e3, 1e3, 1e3]  # two units dead for every input
    health = GradientHealth()
    model.fit(X, y, epochs=1, batch_size=None, verbose=0, callbacks=[health])
    records = {r["layer"]: r for r in health.records}
    assert records[relu.name]["dead_fraction"] == 0.5
    expected = np.mean(np.abs(np.tanh(X @ tanh.params["W"] + tanh.params["b"])) > 0.99)
    assert records[tanh.name]["saturated_fraction"] == pytest.approx(expected)
    assert 0 < expected < 1
    assert np.isnan(records[tanh.name]["grad_norm"])  # frozen: no gradients


def test_a_layer_of_dead_relu_units_is_flagged_as_dead():
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    first, dead = gw.layers.Dense(5, activation="relu"), gw.layers.Dense(4, activation="relu")
    model = gw.Sequential([first, dead, gw.layers.Dense(2, activation="softmax")], input_dim=3,
                          seed=0)
    model.compile(optimizer=gw.optimizers.SGD(1e-6), loss="categorical_crossentropy")
    model.build()
    dead.params["b"][:] = -1e3  # every unit off for every input
    health = GradientHealth()
    with pytest.warns(RuntimeWarning, match=rf"dead layer: every ReLU unit of {dead.name}"):
        model.fit(X, y, epochs=1, batch_size=None, verbose=0, callbacks=[health])
    assert health.dead()
    records = {r["layer"]: r for r in health.records}
    assert records[dead.name]["dead_fraction"] == 1.0 and records[first.name]["grad_norm"] == 0
    vanishing = [flag for flag in health.flags if "vanishing" in flag]
    assert vanishing and "nan" not in vanishing[0] and " x that of" not in vanishing[0]


def test_exploding_gradients_are_flagged():
    X = np.random.default_rng(0).normal(size=(64, 4))
    y = X @ np.array([1.0, -2.0, 3.0, 0.5]) * 1e4
    model = gw.Sequential([gw.layers.Dense(8, activation="relu"), gw.layers.Dense(1)],
                          input_dim=4, seed=0)
    model.compile(optimizer=gw.optimizers.SGD(1e-9), loss="mse")
    health = GradientHealth()
    with pytest.warns(RuntimeWarning, match="exploding"):
        model.fit(X, y, epochs=1, batch_size=None, verbose=0, callbacks=[health])
    assert health.exploding()


def test_every_k_batches_and_table(separable):
    model, X, y = separable
    health = GradientHealth(every=3)
    assert "nothing recorded" in health.table()
    model.fit(X[:300], y[:300], epochs=2, batch_size=30, verbose=0, callbacks=[health])
    assert len(health.records) == (20 // 3) * 2  # 20 batches, 2 layers
    text = health.table()
    for part in ("||dW||", "update/W", "dead ReLU", "saturated", model.layers[0].name):
        assert part in text
    with pytest.raises(ValueError, match="epoch"):
        health.table(epoch=9)


@pytest.mark.parametrize("kwargs, error", [({"every": 0}, ValueError), ({"every": 1.5}, TypeError),
                                           ({"vanishing_ratio": 0}, ValueError),
                                           ({"exploding_threshold": -1}, ValueError)])
def test_gradient_health_bad_arguments(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        GradientHealth(**kwargs)


def test_gradient_health_measures_only_the_batches_it_records(monkeypatch):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(100, 4)), rng.integers(0, 2, 100)
    model = gw.Sequential([gw.layers.Dense(8, activation="relu"),
                           gw.layers.Dense(1, activation="sigmoid")], input_dim=4, seed=0)
    model.compile(loss="binary_crossentropy")
    calls = []
    original = gw.GradientHealth._measure
    monkeypatch.setattr(gw.GradientHealth, "_measure",
                        lambda self, batch: calls.append(batch) or original(self, batch))
    model.fit(X, y, epochs=3, batch_size=10, verbose=0, callbacks=[gw.GradientHealth()])
    assert calls == [9, 9, 9]  # the last of 10 batches, once per epoch
    calls.clear()
    model.fit(X, y, epochs=1, batch_size=10, verbose=0, callbacks=[gw.GradientHealth(every=4)])
    assert calls == [3, 7]


def test_gradient_health_looks_inside_residual_blocks():
    X, y = make_classification(64, 4, random_state=0)
    inner = [gw.layers.Dense(4, activation="relu", name="inner_a"),
             gw.layers.Dense(4, name="inner_b")]
    model = gw.Sequential([gw.layers.Residual(inner, name="block"),
                           gw.layers.Dense(2, activation="softmax", name="out")],
                          input_dim=4, seed=0)
    model.compile(optimizer=gw.optimizers.SGD(0.1), loss="categorical_crossentropy")
    health = GradientHealth()
    model.fit(X, y, epochs=1, batch_size=64, shuffle=False, verbose=0, callbacks=[health])
    rows = {r["layer"]: r for r in health.records}
    assert list(rows) == ["block/inner_a", "block/inner_b", "out"]
    # one full-batch SGD step: the update is -lr * dW, so ||dW|| = ||W_after - W_before|| / lr
    for name, layer in (("block/inner_a", inner[0]), ("block/inner_b", inner[1])):
        row = rows[name]
        step = row["update_ratio"] * np.linalg.norm(layer.params["W"] + 0.1 * layer.grads["W"])
        assert row["grad_norm"] == pytest.approx(step / 0.1, rel=1e-4)
        assert row["weight_norm"] == pytest.approx(np.linalg.norm(layer.params["W"]))
    assert 0 <= rows["block/inner_a"]["dead_fraction"] <= 1
    assert "block/inner_b" in health.table()


def test_diagnose_errors_is_diagnose_on_errors_measured_apart(diabetes_split):
    from gradwise.diagnostics import diagnose_errors
    X, y = make_classification(400, 6, random_state=1)
    model = _mlp(8, "relu", input_dim=6)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(X[:200], y[:200], epochs=3, verbose=0)
    whole = diagnose(model, (X[:200], y[:200]), (X[300:], y[300:]), human_error=0.05,
                     train_dev=(X[200:300], y[200:300]))
    values, outputs = model.evaluate(X[:200], y[:200], return_predictions=True)
    np.testing.assert_array_equal(outputs, model.predict(X[:200]))  # the same forward pass
    assert values == model.evaluate(X[:200], y[:200])
    errors = [1 - model.evaluate(a, b)["accuracy"] for a, b in
              ((X[:200], y[:200]), (X[200:300], y[200:300]), (X[300:], y[300:]))]
    apart = diagnose_errors(errors[0], errors[2], human_error=0.05, train_dev_error=errors[1])
    assert apart == whole
    X_train, X_dev, y_train, y_dev = diabetes_split
    model = gw.Sequential([gw.layers.Dense(1)], input_dim=X_train.shape[1], seed=0)
    model.compile(optimizer="adam", loss="mse")
    model.fit(X_train, y_train / 100, epochs=2, verbose=0)
    whole = diagnose(model, (X_train, y_train / 100), (X_dev, y_dev / 100))
    mse = [float(np.mean((model.predict(a)[:, 0] - b / 100) ** 2))
           for a, b in ((X_train, y_train), (X_dev, y_dev))]
    apart = diagnose_errors(*mse, metric=model.loss.name)
    assert apart.problem == whole.problem and apart.metric == whole.metric
    assert apart.train_error == pytest.approx(whole.train_error, rel=1e-5)
    assert apart.dev_error == pytest.approx(whole.dev_error, rel=1e-5)


def test_standard_moments_are_the_population_moments_in_float64():
    from sklearn.preprocessing import StandardScaler

    from gradwise.layers.normalization import standard_moments
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(150_000, 3)) * [1, 1e-3, 1e3] + [0, 5, -7]).astype(np.float32)
    X[:, 2] = 4.0  # a constant column gets scale 1
    mean, scale = standard_moments(X)
    scaler = StandardScaler().fit(X.astype(np.float64))
    np.testing.assert_allclose(mean, scaler.mean_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(scale[:2], scaler.scale_[:2], rtol=1e-10)
    assert scale[2] == 1.0 and mean.dtype == scale.dtype == np.float64
