"""One owner for argument checks (gradwise._validation): the same mistake gives the same error
type and message shape at every front door.

A value of the wrong type (a bool, a string, a float where an integer is expected) raises
TypeError; a value of the right type out of range raises ValueError; both read
``Expected <what>, received <argument>=<value>``.
"""
import re

import numpy as np
import pytest

import gradwise as gw


def _model():
    model = gw.Sequential([gw.layers.Dense(2, activation="softmax")], input_dim=3, seed=0)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    return model


def _built():
    model = _model()
    model.build()
    return model


X = np.zeros((4, 3))
Y = np.array([0, 1, 0, 1])

#: Front doors taking a positive integer, as ``(argument, call(value))``.
POSITIVE_INTEGERS = [
    ("units", lambda v: gw.layers.Dense(v)),
    ("input_dim", lambda v: gw.layers.Dense(2).build(v, np.random.default_rng(0))),
    ("epochs", lambda v: _model().fit(X, Y, epochs=v, verbose=0)),
    ("batch_size", lambda v: _model().fit(X, Y, batch_size=v, verbose=0)),
    ("batch_size", lambda v: next(gw.data.iterate_minibatches(X, Y, batch_size=v))),
    ("every", lambda v: gw.GradientHealth(every=v)),
    ("n_repeats", lambda v: gw.explain.permutation_importance(_built(), X, Y, n_repeats=v)),
    ("n_outputs", lambda v: gw.losses.MeanSquaredError().prepare_targets(Y, v)),
    ("steps", lambda v: gw.find_learning_rate(_model(), X, Y, steps=v)),
]

#: Front doors taking a positive number.
POSITIVE_NUMBERS = [
    ("alpha", lambda v: gw.activations.ELU(alpha=v)),
    ("stddev", lambda v: gw.initializers.RandomNormal(stddev=v)),
    ("scale", lambda v: gw.initializers.VarianceScaling(scale=v)),
    ("learning_rate", lambda v: gw.optimizers.Adam(learning_rate=v)),
    ("epsilon", lambda v: gw.layers.BatchNormalization(epsilon=v)),
    ("vanishing_ratio", lambda v: gw.GradientHealth(vanishing_ratio=v)),
    ("delta", lambda v: gw.losses.Huber(delta=v)),
    ("min_lr", lambda v: gw.find_learning_rate(_model(), X, Y, min_lr=v)),
    ("stddev", lambda v: gw.augmentation.GaussianNoise(stddev=v)),
]


def _message(kind, argument, value):
    return "^" + re.escape(f"Expected {kind}") + r"( or None)?, received " + \
        re.escape(f"{argument}={value!r}") + "$"


@pytest.mark.parametrize("argument, call", POSITIVE_INTEGERS,
                         ids=[f"{a}-{i}" for i, (a, _) in enumerate(POSITIVE_INTEGERS)])
@pytest.mark.parametrize("value, error", [(0, ValueError), (-2, ValueError), ("3", TypeError),
                                          (2.5, TypeError), (True, TypeError)])
def test_a_positive_integer_is_checked_alike_everywhere(argument, call, value, error):
    with pytest.raises(error, match=_message("a positive integer", argument, value)):
        call(value)


@pytest.mark.parametrize("argument, call", POSITIVE_NUMBERS,
                         ids=[f"{a}-{i}" for i, (a, _) in enumerate(POSITIVE_NUMBERS)])
@pytest.mark.parametrize("value, error", [(0, ValueError), (-1.5, ValueError),
                                          (float("nan"), ValueError), ("1", TypeError),
                                          (True, TypeError)])
def test_a_positive_number_is_checked_alike_everywhere(argument, call, value, error):
    with pytest.raises(error, match=_message("a positive number", argument, value)):
        call(value)


@pytest.mark.parametrize("call, argument", [
    (lambda v: gw.regularizers.L2(v), "l2"),
    (lambda v: gw.losses.BinaryFocalCrossentropy(gamma=v), "gamma"),
])
@pytest.mark.parametrize("value, error", [(-1, ValueError), ("1", TypeError)])
def test_a_non_negative_number_is_checked_alike(call, argument, value, error):
    with pytest.raises(error, match=_message("a non-negative number", argument, value)):
        call(value)


@pytest.mark.parametrize("call, argument", [
    (lambda v: gw.layers.BatchNormalization(momentum=v), "momentum"),
    (lambda v: gw.layers.Dropout(v), "rate"),
])
def test_a_fraction_is_checked_alike(call, argument):
    with pytest.raises(ValueError, match=r"^Expected a number in \[0, 1\), received "
                                         + argument + "=1.5$"):
        call(1.5)
    with pytest.raises(TypeError, match="^Expected a number in .*, received " + argument):
        call("0.5")
