"""Tests for gradwise.find_learning_rate (learning-rate range test)."""
import numpy as np
import pytest
from sklearn.datasets import load_digits

import gradwise as gw


def _model(optimizer):
    model = gw.Sequential([gw.layers.Dense(32, activation="relu"), gw.layers.Dropout(0.1),
                           gw.layers.Dense(10, activation="softmax")], input_dim=64, seed=0)
    return model.compile(optimizer=optimizer, loss="categorical_crossentropy").build()


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def test_nothing_changed_and_adam_suggestion_on_digits(digits):
    X, y = digits
    model = _model(gw.optimizers.Adam(learning_rate=gw.schedules.PowerDecay(0.01, 10)))
    model.fit(X[:64], y[:64], epochs=1, verbose=0)  # some optimizer history to preserve
    weights, opt_config = model.get_weights(include_state=True), model.optimizer.get_config()
    moments = {k: v.copy() for k, v in model.optimizer.state.items()}
    iterations, rng_state = model.optimizer.iterations, model.layers[1].rng.bit_generator.state
    result = gw.find_learning_rate(model, X, y, min_lr=1e-5, max_lr=1.0, steps=120)
    for a, b in zip(model.get_weights(include_state=True), weights):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.get_config() == opt_config
    assert model.optimizer.iterations == iterations
    for key, value in moments.items():
        np.testing.assert_array_equal(model.optimizer.state[key], value)
    assert model.layers[1].rng.bit_generator.state == rng_state
    rates = result.learning_rates
    np.testing.assert_allclose(rates[:3], 1e-5 * 1e5 ** (np.arange(3) / 119))
    # Adam's usual good range on such a network (Keras' default 1e-3, fastai picks ~1e-3-1e-2)
    assert 1e-4 <= result.suggestion <= 1e-1
    assert result.suggestion <= result.min_loss_rate
    assert result["suggestion"] == result.suggestion


def test_explosion_stops_the_sweep_and_suggestion_below_stability_limit():
    # linear regression by SGD on MSE: stable for rate < 2 / lambda_max(2/n X^T X)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(512, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0])
    model = gw.Sequential([gw.layers.Dense(1)], input_dim=4, seed=0)
    model.compile(optimizer="sgd", loss="mse").build()
    limit = 2.0 / np.linalg.eigvalsh(2.0 / len(X) * X.T @ X).max()
    # this problem converges within ~30 steps, so a shorter smoothing window (beta=0.9)
    result = gw.find_learning_rate(model, X, y, min_lr=1e-4, max_lr=100.0, steps=100, beta=0.9)
    assert result.stopped_early and len(result.learning_rates) < 100
    assert result.losses[-1] > 4 * result.losses[:-1].min() or not np.isfinite(result.losses[-1])
    assert result.learning_rates[-1] > limit / 4  # it blew up only at large rates
    assert 1e-3 <= result.suggestion < limit


def test_smoothing_formula(digits):
    X, y = digits
    result = gw.find_learning_rate(_model("adam"), X, y, steps=20, beta=0.9, max_lr=1e-3)
    raw, avg, expected = result.raw_losses, 0.0, []
    for i, loss in enumerate(raw):
        avg = 0.9 * avg + 0.1 * loss
        expected.append(avg / (1 - 0.9 ** (i + 1)))
    np.testing.assert_allclose(result.losses, expected)
    assert not result.stopped_early and len(raw) == 20


@pytest.mark.parametrize("kwargs, match", [({"min_lr": 1.0, "max_lr": 0.1}, "min_lr < max_lr"),
                                           ({"steps": 1}, "steps"), ({"beta": 1.0}, "beta"),
                                           ({"min_lr": -1}, "min_lr")])
def test_bad_arguments(digits, kwargs, match):
    X, y = digits
    with pytest.raises(ValueError, match=match):
        gw.find_learning_rate(_model("adam"), X, y, **kwargs)


def test_an_early_lucky_batch_is_not_taken_for_the_minimum():
    # A smoothed loss whose lowest value falls in the skipped first tenth (a lucky batch, a
    # model already trained) and which then descends: the suggestion lies in that descent.
    from gradwise.lr_finder import _result
    rates = 1e-6 * 1e6 ** (np.arange(100) / 99)
    losses = np.concatenate([[0.5, 0.45, 0.2], np.full(7, 0.6),
                             np.linspace(0.6, 0.3, 60), np.linspace(0.3, 2.0, 30)])
    result = _result(rates, losses, losses, stopped=False)
    assert result.min_loss_rate == rates[69]
    assert rates[10] <= result.suggestion < rates[69]
    descent = np.gradient(losses[10:70], np.log10(rates[10:70]))
    assert result.suggestion == rates[10 + int(np.argmin(descent))]


def test_a_blocks_inner_dropout_streams_are_restored_too(digits):
    X, y = digits
    block = gw.layers.Residual([gw.layers.Dense(16, activation="relu"), gw.layers.Dropout(0.3)])
    model = gw.Sequential([gw.layers.Dense(16, activation="relu"), block,
                           gw.layers.Dense(10, activation="softmax")], input_dim=64, seed=0)
    model.compile(optimizer="adam", loss="categorical_crossentropy").build()
    inner = block.layers[1].rng.bit_generator.state
    gw.find_learning_rate(model, X, y, steps=20)
    assert block.layers[1].rng.bit_generator.state == inner
