"""Learning-rate schedules: closed forms, warm-up, counters fed by the optimizer, configs."""
import math

import numpy as np
import pytest

from gradwise import optimizers, schedules
from gradwise.schedules import (CosineDecay, ExponentialDecay, LinearWarmup, PiecewiseConstant,
                                PowerDecay)


@pytest.mark.parametrize("step, expected", [(0, 0.1), (10, 0.05), (30, 0.025), (5, 0.1 / 1.5)])
def test_power_decay(step, expected):
    assert PowerDecay(0.1, 10)(step) == pytest.approx(expected, rel=1e-12)


def test_power_decay_with_power():
    assert PowerDecay(1.0, 2, power=0.5)(6) == pytest.approx(0.5, rel=1e-12)  # 1/sqrt(4)


@pytest.mark.parametrize("step, expected", [(0, 0.2), (100, 0.02), (200, 0.002), (50, 0.2 * 0.1 ** 0.5)])
def test_exponential_decay_default_rate_is_a_tenth(step, expected):
    assert ExponentialDecay(0.2, 100)(step) == pytest.approx(expected, rel=1e-12)


def test_exponential_decay_staircase():
    schedule = ExponentialDecay(1.0, 10, decay_rate=0.5, staircase=True)
    assert [schedule(t) for t in (0, 9, 10, 19, 25)] == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_piecewise_constant_keras_semantics():
    schedule = PiecewiseConstant([10, 20], [1.0, 0.5, 0.1])
    got = [schedule(t) for t in (0, 10, 10.5, 11, 20, 21, 1000)]
    assert got == [1.0, 1.0, 0.5, 0.5, 0.5, 0.1, 0.1]


@pytest.mark.parametrize("step, expected", [
    (0, 1.0), (50, 0.5 + 0.5 * 0.5), (100, 0.5), (200, 0.5), (25, 0.5 + 0.5 * (1 + math.sqrt(0.5)) / 2),
])
def test_cosine_decay(step, expected):
    # lr0 * (alpha + (1 - alpha) * (1 + cos(pi t / s)) / 2) with alpha = 0.5, s = 100
    assert CosineDecay(1.0, 100, alpha=0.5)(step) == pytest.approx(expected, rel=1e-12)


def test_cosine_decay_reaches_zero_by_default():
    assert CosineDecay(0.3, 10)(10) == pytest.approx(0.0, abs=1e-15)


def test_linear_warmup_to_constant():
    schedule = LinearWarmup(0.1, warmup_steps=4)
    got = [schedule(t) for t in range(7)]
    np.testing.assert_allclose(got, [0.0, 0.025, 0.05, 0.075, 0.1, 0.1, 0.1], rtol=1e-12)


def test_linear_warmup_shifts_wrapped_schedule_by_default():
    decay = ExponentialDecay(1.0, 10)
    schedule = LinearWarmup(decay, warmup_steps=5, initial_learning_rate=0.5)
    assert schedule(0) == 0.5
    assert schedule(2) == pytest.approx(0.5 + 0.5 * 2 / 5)
    assert schedule(5) == pytest.approx(1.0)  # the wrapped schedule at its own step 0
    assert schedule(15) == pytest.approx(0.1)  # ... and at its step 10


def test_linear_warmup_without_shift_ramps_to_wrapped_value_at_warmup_end():
    decay = ExponentialDecay(1.0, 10)
    schedule = LinearWarmup(decay, warmup_steps=10, shift=False)
    assert schedule(5) == pytest.approx(0.05)  # half-way to decay(10) = 0.1
    assert schedule(10) == pytest.approx(0.1)
    assert schedule(20) == pytest.approx(0.01)


def run_sgd(opt, steps, epoch=None):
    params, rates = np.zeros(1), []
    for _ in range(steps):
        if epoch is not None:
            opt.epoch = epoch
        before = params[0]
        opt.update(params, np.ones(1))  # with g = 1, SGD moves by exactly -lr
        rates.append(before - params[0])
    return rates


def test_step_schedule_receives_iterations_starting_at_zero():
    opt = optimizers.SGD(PowerDecay(1.0, 1))
    np.testing.assert_allclose(run_sgd(opt, 3), [1.0, 0.5, 1 / 3], rtol=1e-12)
    assert opt.current_learning_rate == pytest.approx(0.25)


def test_epoch_schedule_receives_optimizer_epoch():
    opt = optimizers.SGD(ExponentialDecay(1.0, 1, decay_rate=0.5, by="epoch"))
    assert run_sgd(opt, 3) == [1.0, 1.0, 1.0]  # epoch stays 0 while steps advance
    np.testing.assert_allclose(run_sgd(opt, 2, epoch=3), [0.125, 0.125])
    assert opt.current_learning_rate == 0.125


def test_plain_lambda_learning_rate():
    opt = optimizers.SGD(lambda step: 0.1 * (step + 1))
    np.testing.assert_allclose(run_sgd(opt, 3), [0.1, 0.2, 0.3], rtol=1e-12)


def test_warmup_inside_adam_config_round_trip():
    opt = optimizers.Adam(LinearWarmup(CosineDecay(1e-3, 1000), 100, by="step"))
    clone = optimizers.get(optimizers.serialize(opt))
    for t in (0, 50, 100, 700, 5000):
        assert clone.learning_rate(t) == opt.learning_rate(t)


@pytest.mark.parametrize("schedule", [
    PowerDecay(0.1, 7, power=2.0, by="epoch"),
    ExponentialDecay(0.1, 7, decay_rate=0.5, staircase=True),
    PiecewiseConstant([3, 8], [0.3, 0.2, 0.1]),
    CosineDecay(0.1, 7, alpha=0.2),
    LinearWarmup(PiecewiseConstant([3], [0.2, 0.1]), 5, initial_learning_rate=0.01, shift=False),
    LinearWarmup(0.1, 2),
])
def test_config_round_trip(schedule):
    clone = schedules.get(schedules.serialize(schedule))
    assert type(clone) is type(schedule) and clone.get_config() == schedule.get_config()
    assert [clone(t) for t in range(12)] == [schedule(t) for t in range(12)]
    assert schedules.get(schedule) is schedule


@pytest.mark.parametrize("make, argument", [
    (lambda: PowerDecay(0.1, 0), "decay_steps=0"),
    (lambda: PowerDecay(-0.1, 10), "initial_learning_rate=-0.1"),
    (lambda: ExponentialDecay(0.1, -5), "decay_steps=-5"),
    (lambda: ExponentialDecay(float("nan"), 5), "initial_learning_rate=nan"),
    (lambda: ExponentialDecay(0.1, 5, decay_rate=0), "decay_rate=0"),
    (lambda: CosineDecay(0.1, 0), "decay_steps=0"),
    (lambda: CosineDecay(0.1, 10, alpha=2), "alpha=2"),
    (lambda: LinearWarmup(0.1, 0), "warmup_steps=0"),
    (lambda: LinearWarmup(0, 10), "schedule=0"),
    (lambda: LinearWarmup(0.1, 10, initial_learning_rate=-1), "initial_learning_rate=-1"),
    (lambda: PiecewiseConstant([5, 5], [0.3, 0.2, 0.1]), "boundaries="),
    (lambda: PiecewiseConstant([5, 3], [0.3, 0.2, 0.1]), "boundaries="),
    (lambda: PiecewiseConstant([5, 8], [0.3, 0.2]), "values="),
    (lambda: PiecewiseConstant([5], [0.3, 0.0]), "values=0"),
    (lambda: PowerDecay(0.1, 10, by="batch"), "by='batch'"),
])
def test_bad_inputs_name_the_argument(make, argument):
    with pytest.raises(ValueError, match=f"received {argument}"):
        make()


def test_unknown_schedule_name():
    with pytest.raises(ValueError, match="Unknown learning-rate schedule"):
        schedules.get({"class_name": "Cyclic", "config": {}})
