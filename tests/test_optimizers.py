"""Optimizers: hand-computed first steps, convergence, clipping, state, config, validation."""
import math

import numpy as np
import pytest

from gradwise import optimizers, schedules
from gradwise.optimizers import SGD, Adagrad, Adam, AdamW, Nadam, RMSprop, clip_gradients
from gradwise.optimizers import adam as adam_module

P0 = [1.0, -2.0, 0.5]
GRADS = [[0.1, -0.2, 0.3], [0.05, 0.4, -0.1], [-0.3, 0.2, 0.2]]


def run_steps(opt, grads=GRADS, p0=P0):
    params = np.array(p0, dtype=np.float64)
    history = []
    for g in grads:
        opt.update(params, np.array(g, dtype=np.float64))
        history.append(params.copy())
    return np.array(history)


# Textbook references, one scalar coordinate at a time, written from the torch.optim docs.

def ref_sgd(lr, mu=0.0, nesterov=False):
    p, b, out = list(P0), [0.0] * 3, []
    for g in GRADS:
        for i in range(3):
            b[i] = mu * b[i] + g[i]
            d = g[i] + mu * b[i] if nesterov else b[i]
            p[i] = p[i] - lr * d
        out.append(list(p))
    return out


def ref_adagrad(lr, s0, eps):
    p, s, out = list(P0), [s0] * 3, []
    for g in GRADS:
        for i in range(3):
            s[i] = s[i] + g[i] ** 2
            p[i] = p[i] - lr * g[i] / (math.sqrt(s[i]) + eps)
        out.append(list(p))
    return out


def ref_rmsprop(lr, rho, mu, eps):
    p, v, b, out = list(P0), [0.0] * 3, [0.0] * 3, []
    for g in GRADS:
        for i in range(3):
            v[i] = rho * v[i] + (1 - rho) * g[i] ** 2
            u = g[i] / (math.sqrt(v[i]) + eps)
            b[i] = mu * b[i] + u if mu > 0 else u
            p[i] = p[i] - lr * b[i]
        out.append(list(p))
    return out


def ref_adam(lr, b1, b2, eps, wd=0.0, mask=(1, 1, 1)):
    p, m, v, out = list(P0), [0.0] * 3, [0.0] * 3, []
    for t, g in enumerate(GRADS, start=1):
        for i in range(3):
            p[i] = p[i] - lr * wd * mask[i] * p[i]
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] ** 2
            mhat, vhat = m[i] / (1 - b1 ** t), v[i] / (1 - b2 ** t)
            p[i] = p[i] - lr * mhat / (math.sqrt(vhat) + eps)
        out.append(list(p))
    return out


def ref_nadam(lr, b1, b2, eps, psi):
    p, m, v, out, prod = list(P0), [0.0] * 3, [0.0] * 3, [], 1.0
    for t, g in enumerate(GRADS, start=1):
        mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        prod = prod * mu
        for i in range(3):
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] ** 2
            mhat = mu_next * m[i] / (1 - prod * mu_next) + (1 - mu) * g[i] / (1 - prod)
            p[i] = p[i] - lr * mhat / (math.sqrt(v[i] / (1 - b2 ** t)) + eps)
        out.append(list(p))
    return out


TABLE = {
    "sgd": (lambda: SGD(0.1), lambda: ref_sgd(0.1)),
    "sgd_momentum": (lambda: SGD(0.1, momentum=0.9), lambda: ref_sgd(0.1, 0.9)),
    "sgd_nesterov": (lambda: SGD(0.1, momentum=0.9, nesterov=True),
                     lambda: ref_sgd(0.1, 0.9, True)),
    "adagrad": (lambda: Adagrad(0.1, initial_accumulator_value=0.1, epsilon=1e-10),
                lambda: ref_adagrad(0.1, 0.1, 1e-10)),
    "rmsprop": (lambda: RMSprop(0.01, rho=0.9), lambda: ref_rmsprop(0.01, 0.9, 0.0, 1e-8)),
    "rmsprop_momentum": (lambda: RMSprop(0.01, rho=0.8, momentum=0.5),
                         lambda: ref_rmsprop(0.01, 0.8, 0.5, 1e-8)),
    "adam": (lambda: Adam(0.1, beta_1=0.8, beta_2=0.99, epsilon=1e-3),
             lambda: ref_adam(0.1, 0.8, 0.99, 1e-3)),
    "adamw": (lambda: AdamW(0.1, weight_decay=0.5, beta_1=0.8, beta_2=0.99),
              lambda: ref_adam(0.1, 0.8, 0.99, 1e-8, wd=0.5)),
    "nadam": (lambda: Nadam(0.1, beta_1=0.8, beta_2=0.99, epsilon=1e-3, momentum_decay=0.5),
              lambda: ref_nadam(0.1, 0.8, 0.99, 1e-3, 0.5)),
}


@pytest.mark.parametrize("case", sorted(TABLE))
def test_first_three_steps_match_textbook_formula(case):
    make, reference = TABLE[case]
    np.testing.assert_allclose(run_steps(make()), reference(), rtol=1e-12, atol=1e-14)


def test_first_steps_literal_numbers():
    # SGD: p - 0.1*g; momentum step 2: b = 0.9*0.1 + 0.05 = 0.14, p = 0.99 - 0.014.
    np.testing.assert_allclose(run_steps(SGD(0.1))[0], [0.99, -1.98, 0.47])
    assert run_steps(SGD(0.1, momentum=0.9))[1][0] == pytest.approx(0.976, abs=1e-15)
    # Adam's first step is lr * sign(g) (mhat / sqrt(vhat) = g / |g|), up to epsilon.
    np.testing.assert_allclose(run_steps(Adam(0.1))[0], [0.9, -1.9, 0.4], atol=1e-6)


@pytest.mark.parametrize("many_runs", [False, True])
def test_adamw_decay_mask_is_honoured(many_runs):
    mask = np.array([1, 0, 1])
    opt = AdamW(0.1, weight_decay=0.5, beta_1=0.8, beta_2=0.99)
    if many_runs:  # force the mask-multiply path instead of contiguous slices
        adam_module._MAX_DECAY_RUNS, saved = 0, adam_module._MAX_DECAY_RUNS
    try:
        opt.build(3, np.float64, decay_mask=mask.astype(bool))
    finally:
        if many_runs:
            adam_module._MAX_DECAY_RUNS = saved
    expected = ref_adam(0.1, 0.8, 0.99, 1e-8, wd=0.5, mask=mask)
    result = run_steps(opt)
    np.testing.assert_allclose(result, expected, rtol=1e-12)
    plain_adam = ref_adam(0.1, 0.8, 0.99, 1e-8)
    assert result[-1][1] == pytest.approx(plain_adam[-1][1], rel=1e-12)  # masked out: no decay
    assert abs(result[-1][0] - plain_adam[-1][0]) > 1e-3  # decayed


def test_matches_torch_for_twenty_steps():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    p0, grads = rng.normal(size=7), rng.normal(size=(20, 7))
    pairs = [
        (SGD(0.05, momentum=0.9, nesterov=True),
         lambda w: torch.optim.SGD(w, lr=0.05, momentum=0.9, nesterov=True)),
        (Adagrad(0.05, epsilon=1e-10), lambda w: torch.optim.Adagrad(w, lr=0.05, eps=1e-10)),
        (RMSprop(0.01, rho=0.9, momentum=0.5),
         lambda w: torch.optim.RMSprop(w, lr=0.01, alpha=0.9, momentum=0.5, eps=1e-8)),
        (Adam(0.01), lambda w: torch.optim.Adam(w, lr=0.01, eps=1e-8)),
        (AdamW(0.01, weight_decay=0.1),
         lambda w: torch.optim.AdamW(w, lr=0.01, weight_decay=0.1, eps=1e-8)),
        (Nadam(0.01), lambda w: torch.optim.NAdam(w, lr=0.01, eps=1e-8, momentum_decay=4e-3)),
    ]
    for ours, make_theirs in pairs:
        w = torch.tensor(p0.copy(), dtype=torch.float64, requires_grad=True)
        theirs, params = make_theirs([w]), p0.copy()
        for g in grads:
            ours.update(params, g.copy())
            w.grad = torch.tensor(g, dtype=torch.float64)
            theirs.step()
        np.testing.assert_allclose(params, w.detach().numpy(), atol=1e-6, err_msg=ours.name)


# Convergence. Rosenbrock's minimum (1, 1) sits at the end of a long, curved, flat valley; the
# rates below are tuned per optimizer. Every configuration ends within 1e-3 of (1, 1) except
# plain RMSprop (~7e-3, its steps have size ~lr whatever the gradient); 1e-2 leaves margin for
# platform rounding yet is far from where an optimizer stalls in the valley (0.1 to 1 away).

def rosenbrock_grad(p, out):
    x, y = p
    out[0] = -2.0 * (1.0 - x) - 400.0 * x * (y - x * x)
    out[1] = 200.0 * (y - x * x)


ROSENBROCK = {
    "sgd": (lambda: SGD(2e-3), 10000),
    "sgd_momentum": (lambda: SGD(1e-3, momentum=0.9), 3000),
    "sgd_nesterov": (lambda: SGD(1e-3, momentum=0.9, nesterov=True), 3000),
    "adagrad": (lambda: Adagrad(1.0), 10000),
    "rmsprop": (lambda: RMSprop(schedules.PowerDecay(1e-2, 100)), 5000),
    "rmsprop_momentum": (lambda: RMSprop(3e-4, momentum=0.9), 3000),
    "adam": (lambda: Adam(0.05), 3000),
    "adamw": (lambda: AdamW(0.05, weight_decay=1e-4), 3000),
    "nadam": (lambda: Nadam(0.005), 8000),
}


@pytest.mark.parametrize("case", sorted(ROSENBROCK))
def test_converges_on_rosenbrock(case):
    make, steps = ROSENBROCK[case]
    opt, params, grads = make(), np.array([-1.2, 1.0]), np.empty(2)
    for _ in range(steps):
        rosenbrock_grad(params, grads)
        opt.update(params, grads)
    assert np.linalg.norm(params - 1.0) < 1e-2


# An ill-conditioned quadratic (eigenvalues 1 and 100, axes rotated by 30 degrees).
_R = np.array([[math.cos(math.pi / 6), -math.sin(math.pi / 6)],
               [math.sin(math.pi / 6), math.cos(math.pi / 6)]])
A = _R @ np.diag([1.0, 100.0]) @ _R.T

QUADRATIC = {
    "sgd": lambda: SGD(0.015),
    "sgd_momentum": lambda: SGD(0.01, momentum=0.9),
    "sgd_nesterov": lambda: SGD(0.01, momentum=0.9, nesterov=True),
    "adagrad": lambda: Adagrad(0.5),
    # RMSprop's steps do not shrink with the gradient, so it needs a decaying rate to settle.
    "rmsprop": lambda: RMSprop(schedules.CosineDecay(0.01, 2000)),
    "rmsprop_momentum": lambda: RMSprop(schedules.CosineDecay(1e-3, 2000), momentum=0.9),
    "adam": lambda: Adam(0.05),
    "adamw": lambda: AdamW(0.05, weight_decay=0.1),
    "nadam": lambda: Nadam(0.02),
}


@pytest.mark.parametrize("case", sorted(QUADRATIC))
def test_minimizes_ill_conditioned_quadratic(case):
    opt, x, g = QUADRATIC[case](), np.array([1.0, 1.0]), np.empty(2)
    for _ in range(2000):
        np.dot(A, x, out=g)
        opt.update(x, g)
    assert 0.5 * x @ A @ x < 1e-10


# Clipping

def test_clipvalue_clamps_each_element():
    g = np.array([0.5, -3.0, 2.0, -0.1])
    assert clip_gradients(g, clipvalue=1.0) is g
    np.testing.assert_array_equal(g, [0.5, -1.0, 1.0, -0.1])


def test_clipnorm_rescales_each_segment_separately():
    g = np.array([3.0, 4.0, 0.3, 0.4, 6.0, 8.0])  # segment norms 5, 0.5, 10
    clip_gradients(g, clipnorm=1.0, segments=[slice(0, 2), slice(2, 4), slice(4, 6)])
    np.testing.assert_allclose(g, [0.6, 0.8, 0.3, 0.4, 0.6, 0.8])


def test_clipnorm_without_segments_treats_array_as_one():
    g = np.array([3.0, 4.0, 0.0, 0.0])
    np.testing.assert_allclose(clip_gradients(g, clipnorm=2.5), [1.5, 2.0, 0.0, 0.0])


def test_global_clipnorm_rescales_everything():
    g = np.array([3.0, 4.0, 0.0, 12.0])  # global norm 13
    clip_gradients(g, global_clipnorm=6.5)
    np.testing.assert_allclose(g, [1.5, 2.0, 0.0, 6.0])
    small = np.array([0.3, 0.4])
    np.testing.assert_array_equal(clip_gradients(small, global_clipnorm=1.0), [0.3, 0.4])


def test_clipvalue_then_norm_both_hold():
    g = np.array([10.0, 0.0, 0.0, 10.0])
    clip_gradients(g, clipvalue=3.0, global_clipnorm=1.0)
    np.testing.assert_allclose(g, [math.sqrt(0.5), 0, 0, math.sqrt(0.5)])


def test_optimizer_clips_with_build_segments_before_update():
    opt = SGD(1.0, clipnorm=1.0)
    opt.build(4, np.float64, segments=[slice(0, 2), slice(2, 4)])
    params, grads = np.zeros(4), np.array([3.0, 4.0, 0.1, 0.0])
    opt.update(params, grads)
    np.testing.assert_allclose(params, [-0.6, -0.8, -0.1, 0.0])
    np.testing.assert_allclose(grads, [0.6, 0.8, 0.1, 0.0])  # documented: clipped in place


def test_clipnorm_and_global_clipnorm_are_exclusive():
    with pytest.raises(ValueError, match="clipnorm"):
        SGD(clipnorm=1.0, global_clipnorm=1.0)
    with pytest.raises(ValueError, match="global_clipnorm"):
        clip_gradients(np.ones(2), clipnorm=1.0, global_clipnorm=1.0)


# State, dtype, counters

def test_state_is_lazy_typed_and_reset():
    opt = Adam()
    assert opt.state == {} and opt.iterations == 0
    params, grads = np.ones(5, np.float32), np.full(5, 0.5, np.float32)
    opt.update(params, grads)
    assert params.dtype == np.float32 and opt.iterations == 1
    assert set(opt.state) == {"m", "v"}
    assert all(a.shape == (5,) and a.dtype == np.float32 for a in opt.state.values())
    np.testing.assert_allclose(opt.state["m"], 0.05, rtol=1e-6)
    np.testing.assert_allclose(grads, 0.5)  # grads untouched without clipping
    opt.reset()
    assert opt.state == {} and opt.iterations == 0


def test_update_is_in_place_and_reuses_buffers():
    opt, params = RMSprop(momentum=0.9), np.ones(4)
    opt.update(params, np.ones(4))
    ids = {k: id(v) for k, v in opt.state.items()}
    same = params
    opt.update(params, np.ones(4))
    assert params is same and {k: id(v) for k, v in opt.state.items()} == ids


def test_update_rejects_mismatched_shapes():
    opt = SGD()
    with pytest.raises(ValueError):
        opt.update(np.ones(3), np.ones(4))
    opt.update(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="built for 3"):
        opt.update(np.ones(4), np.ones(4))


def test_learning_rate_can_be_reassigned_by_a_callback():
    opt, params = SGD(0.1), np.array([1.0])
    opt.learning_rate = np.float32(0.5)
    opt.update(params, np.array([1.0]))
    assert params[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="learning_rate=-1"):
        opt.learning_rate = -1


# Names, configs and validation

@pytest.mark.parametrize("name", ["sgd", "adagrad", "rmsprop", "adam", "adamw", "nadam",
                                  "Adam", "AdamW"])
def test_get_by_name_and_config_round_trip(name):
    opt = optimizers.get(name)
    assert isinstance(opt, optimizers.Optimizer) and optimizers.get(opt) is opt
    clone = optimizers.get(optimizers.serialize(opt))
    assert type(clone) is type(opt) and clone.get_config() == opt.get_config()


def test_config_round_trip_with_schedule_and_clipping():
    sched = schedules.LinearWarmup(schedules.CosineDecay(0.1, 100, alpha=0.1), 10)
    opt = AdamW(sched, weight_decay=0.05, beta_1=0.8, clipnorm=2.0, name="w")
    clone = AdamW.from_config(opt.get_config())
    assert clone.get_config() == opt.get_config()
    assert isinstance(clone.learning_rate, schedules.LinearWarmup)
    assert clone.clipnorm == 2.0 and clone.name == "w" and clone.beta_1 == 0.8


def test_plain_callable_learning_rate_cannot_be_serialized():
    with pytest.raises(TypeError, match="schedule"):
        SGD(lambda step: 0.1).get_config()


def test_unknown_name_raises():
    with pytest.raises(ValueError, match="optimizer: 'adamax' is not a known optimizer name"):
        optimizers.get("adamax")


def test_unknown_name_is_said_to_be_a_name_with_the_known_names_and_the_closest():
    known = ", ".join(sorted(name for name in optimizers._REGISTRY if name == name.lower()))
    with pytest.raises(ValueError) as raised:
        optimizers.get("adamm")
    assert str(raised.value) == (f"optimizer: 'adamm' is not a known optimizer name (did you "
                                 f"mean 'adam'?); expected one of: {known}.")
    with pytest.raises(ValueError, match=r"^my_optimizer: 'adamm' is not a known"):
        optimizers.get("adamm", "my_optimizer")


@pytest.mark.parametrize("identifier", [None, 3])
def test_wrong_type_message_reads_an_optimizer(identifier):
    with pytest.raises(TypeError, match=r"^Expected an optimizer name, config dict or object for "
                                        r"'optimizer', received"):
        optimizers.get(identifier)


@pytest.mark.parametrize("make, argument", [
    (lambda: SGD(0), "learning_rate=0"),
    (lambda: SGD(float("nan")), "learning_rate=nan"),
    (lambda: Adam(float("inf")), "learning_rate=inf"),
    (lambda: SGD(momentum=-0.1), "momentum=-0.1"),
    (lambda: RMSprop(rho=1.0), "rho=1.0"),
    (lambda: Adam(beta_1=1.0), "beta_1=1.0"),
    (lambda: Nadam(beta_2=-0.5), "beta_2=-0.5"),
    (lambda: Adam(epsilon=0), "epsilon=0"),
    (lambda: Adagrad(epsilon=-1e-8), "epsilon=-1e-08"),
    (lambda: SGD(clipvalue=-1), "clipvalue=-1"),
    (lambda: Adam(clipnorm=-2.0), "clipnorm=-2.0"),
    (lambda: Adam(global_clipnorm=-2.0), "global_clipnorm=-2.0"),
    (lambda: AdamW(weight_decay=-1), "weight_decay=-1"),
])
def test_bad_hyperparameters_name_the_argument(make, argument):
    with pytest.raises(ValueError, match=f"received {argument}"):
        make()


def test_positive_number_message_is_keras_style():
    with pytest.raises(ValueError, match=r"^Expected a positive number, received learning_rate=0$"):
        Adam(learning_rate=0)


@pytest.mark.parametrize("epsilon_hat", [False, True])
def test_adam_epsilon_forms_follow_their_formulas(epsilon_hat):
    # By hand in float64, three steps, with one gradient tiny so that epsilon matters.
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-3
    grads = [np.array([1e-4, 0.5, -2.0]), np.array([2e-4, -0.3, 1.0]), np.array([-1e-4, 0.1, 0.5])]
    expected, m, v = np.array([1.0, -1.0, 0.5]), np.zeros(3), np.zeros(3)
    params = expected.copy()
    optimizer = Adam(lr, b1, b2, eps, epsilon_hat=epsilon_hat)
    optimizer.build(3, np.float64)
    for t, g in enumerate(grads, start=1):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        if epsilon_hat:  # the paper's form: epsilon beside the uncorrected root
            expected = expected - lr * math.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)
        else:
            expected = expected - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        optimizer.update(params, g.copy())
    np.testing.assert_allclose(params, expected, rtol=1e-12, atol=1e-15)
    assert Adam.from_config(optimizer.get_config()).epsilon_hat is epsilon_hat
    with pytest.raises(TypeError, match="epsilon_hat: expected True or False"):
        Adam(epsilon_hat="yes")
