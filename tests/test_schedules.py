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
        schedules.get({"class_name": "Sawtooth", "config": {}})


def test_unknown_schedule_class_names_the_argument_given_and_lists_the_classes():
    with pytest.raises(ValueError) as raised:
        schedules.get({"class_name": "CosineDecy"}, "learning_rate_schedule")
    message = str(raised.value)
    assert "in the config for 'learning_rate_schedule' (did you mean 'CosineDecay'?)" in message
    assert "expected one of: CosineDecay, Cyclic, ExponentialDecay" in message
    with pytest.raises(ValueError, match="in the config for 'learning_rate'"):
        schedules.get({"class_name": "CosineDecy"})  # the optimizers' argument by default


def test_one_cycle_closed_form_values():
    # lr0 = 1/4, lr_min = lr0/10; the warm-up ends at 0.3 * 10 - 1 = 2, the annealing at 9.
    schedule = schedules.OneCycle(1.0, total_steps=10, pct_start=0.3, div_factor=4,
                                  final_div_factor=10)
    assert schedule(0) == pytest.approx(0.25, rel=1e-12)
    assert schedule(1) == pytest.approx(0.625, rel=1e-12)  # half-way: the mean of the ends
    assert schedule(2) == pytest.approx(1.0, rel=1e-12)
    assert schedule(5.5) == pytest.approx((1.0 + 0.025) / 2, rel=1e-12)
    assert schedule(9) == pytest.approx(0.025, rel=1e-12)
    assert schedule(50) == schedule(9)  # past the planned run: the final rate
    # a quarter of the way down a half cosine: end + (start - end) * (1 + cos(pi/4)) / 2
    quarter = 2 + 7 / 4
    assert schedule(quarter) == pytest.approx(0.025 + 0.975 * (1 + math.sqrt(0.5)) / 2, rel=1e-12)


def test_one_cycle_matches_pytorch_one_cycle_lr_formula():
    """OneCycleLR(max_lr, total_steps, pct_start, div_factor, final_div_factor), written as the
    PyTorch docs and source give it, with its defaults."""
    def torch_one_cycle(step, max_lr, total, pct=0.3, div=25.0, final=1e4, three=False):
        initial = max_lr / div
        low = initial / final
        phases = ([(pct * total - 1, initial, max_lr), (2 * pct * total - 2, max_lr, initial),
                   (total - 1, initial, low)] if three else
                  [(pct * total - 1, initial, max_lr), (total - 1, max_lr, low)])
        start = 0
        for i, (end, a, b) in enumerate(phases):
            if step <= end or i == len(phases) - 1:
                x = (step - start) / (end - start)
                return b + (a - b) / 2 * (math.cos(math.pi * x) + 1)
            start = end
    for three in (False, True):
        schedule = schedules.OneCycle(0.01, total_steps=100, three_phase=three)
        expected = [torch_one_cycle(t, 0.01, 100, three=three) for t in range(100)]
        np.testing.assert_allclose([schedule(t) for t in range(100)], expected, rtol=1e-12)
    three = schedules.OneCycle(1.0, total_steps=20, pct_start=0.25, div_factor=5, three_phase=True)
    assert three(4) == pytest.approx(1.0) and three(8) == pytest.approx(0.2)  # up, back to lr0


@pytest.mark.parametrize("mode, expected", [
    # base 0.1, max 1.0, 2 steps up and 3 down: a cycle of 5 steps
    ("triangular", [0.1, 0.55, 1.0, 0.7, 0.4, 0.1, 0.55, 1.0]),
    ("triangular2", [0.1, 0.55, 1.0, 0.7, 0.4, 0.1, 0.325, 0.55]),
    ("exp_range", [0.1 + 0.9 * h * 0.8 ** t
                   for t, h in enumerate([0, 0.5, 1, 2 / 3, 1 / 3, 0, 0.5, 1])]),
])
def test_cyclic_closed_form_values(mode, expected):
    schedule = schedules.Cyclic(0.1, 1.0, step_size_up=2, step_size_down=3, mode=mode, gamma=0.8)
    np.testing.assert_allclose([schedule(t) for t in range(8)], expected, rtol=1e-12)


def test_cyclic_and_one_cycle_configs_round_trip_and_drive_an_optimizer():
    for schedule in (schedules.OneCycle(0.1, 50, pct_start=0.2, three_phase=True, by="epoch"),
                     schedules.Cyclic(1e-3, 1e-2, 10, mode="exp_range", gamma=0.99)):
        again = schedules.get(schedules.serialize(schedule))
        assert type(again) is type(schedule) and again.get_config() == schedule.get_config()
        assert [again(t) for t in range(60)] == [schedule(t) for t in range(60)]
    assert isinstance(schedules.get({"class_name": "one_cycle",
                                     "config": {"max_learning_rate": 0.1, "total_steps": 10}}),
                      schedules.OneCycle)
    optimizer = optimizers.SGD(learning_rate=schedules.Cyclic(0.1, 1.0, step_size_up=2))
    optimizer.build(1, np.float64)
    params, seen = np.zeros(1), []
    for _ in range(5):
        before = params.copy()
        optimizer.update(params, np.ones(1))
        seen.append(float(before[0] - params[0]))
    np.testing.assert_allclose(seen, [0.1, 0.55, 1.0, 0.55, 0.1])


@pytest.mark.parametrize("make, pattern", [
    (lambda: schedules.OneCycle(0.1, total_steps=1), "total_steps=1"),
    (lambda: schedules.OneCycle(0.1, total_steps=10, pct_start=1.0), "pct_start=1.0"),
    (lambda: schedules.OneCycle(0.1, total_steps=10, pct_start=0.05), "pct_start=0.05"),
    (lambda: schedules.OneCycle(0.1, total_steps=10, pct_start=0.6, three_phase=True), "three_phase"),
    (lambda: schedules.OneCycle(-1, total_steps=10), "max_learning_rate=-1"),
    (lambda: schedules.Cyclic(0.1, 0.01), "max_learning_rate"),
    (lambda: schedules.Cyclic(0.1, 1.0, mode="sine"), "mode='sine'"),
    (lambda: schedules.Cyclic(0.1, 1.0, gamma=1.5), "gamma=1.5"),
    (lambda: schedules.Cyclic(0.1, 1.0, step_size_up=0), "step_size_up=0"),
])
def test_one_cycle_and_cyclic_reject_bad_arguments(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make()
