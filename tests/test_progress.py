"""The epoch bar: elapsed time and an estimate of what remains on a terminal, one plain line
per epoch elsewhere. A fake stream says whether it is a terminal; a fake clock fixes time."""
import io

import numpy as np
import pytest

import gradwise as gw
from gradwise.callbacks import ProgbarLogger
from gradwise.callbacks.base import format_duration


class FakeStream(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def _run(tty, verbose=1, epochs=3, steps=4, seconds_per_batch=0.5):
    """Drive the logger as fit does: each batch takes ``seconds_per_batch`` of fake time."""
    stream, clock = FakeStream(tty), FakeClock()
    logger = ProgbarLogger(verbose, epochs, steps, stream=stream)
    logger._clock = clock
    logger.on_train_begin()
    for epoch in range(epochs):
        logger.on_epoch_begin(epoch)
        for batch in range(steps):
            clock.now += seconds_per_batch
            logger.on_batch_end(batch, {"loss": 1.0 / (batch + 1)})
        logger.on_epoch_end(epoch, {"loss": 0.25, "accuracy": 0.5})
    return stream.getvalue()


def test_terminal_bar_shows_elapsed_and_remaining_time():
    out = _run(tty=True)
    # batch 1 of 4 after 0.5 s: 0.5 s elapsed, 3 batches of 0.5 s remain
    assert "\rEpoch 1/3 [=======.......................] 1/4 - 0.5s - ETA 1.5s - loss: 1.0000" in out
    assert "\rEpoch 1/3 [==============================] 4/4 - 2.0s - ETA 0.0s - loss: 0.2500" in out
    # closing lines: 2 s per epoch so far, so 4 s and then 2 s left of the run; none after the last
    assert "\rEpoch 1/3 - 2.00s - loss: 0.2500 - accuracy: 0.5000 - ETA 4.0s\x1b[K\n" in out
    assert "\rEpoch 2/3 - 2.00s - loss: 0.2500 - accuracy: 0.5000 - ETA 2.0s\x1b[K\n" in out
    assert out.endswith("\rEpoch 3/3 - 2.00s - loss: 0.2500 - accuracy: 0.5000\x1b[K\n")


def test_not_a_terminal_one_plain_line_per_epoch():
    out = _run(tty=False)
    assert out == "".join(f"Epoch {e}/3 - 2.00s - loss: 0.2500 - accuracy: 0.5000\n" for e in (1, 2, 3))


def test_verbose_2_on_a_terminal_has_no_bar_but_an_eta():
    out = _run(tty=True, verbose=2)
    assert "[" not in out and "\r" not in out
    assert out.splitlines()[0] == "Epoch 1/3 - 2.00s - loss: 0.2500 - accuracy: 0.5000 - ETA 4.0s"


def test_bar_redraws_are_throttled_but_the_last_batch_is_drawn():
    out = _run(tty=True, epochs=1, steps=100, seconds_per_batch=0.001)
    draws = out.count("\rEpoch 1/1 [")
    assert 1 <= draws <= 100 * 0.001 / ProgbarLogger.interval + 2
    assert "100/100 - 0.1s - ETA 0.0s" in out


@pytest.mark.parametrize("seconds, text", [(0.04, "0.0s"), (4.24, "4.2s"), (59.94, "59.9s"),
                                           (185, "3:05"), (3723, "1:02:03")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_fit_writes_plain_lines_to_a_pipe(capsys):
    """Under pytest stdout is not a terminal: fit prints one line per epoch, no bar, no ETA."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 3)), rng.integers(0, 2, 64)
    model = gw.Sequential([gw.layers.Dense(1, activation="sigmoid")], input_dim=3, seed=0)
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    model.fit(X, y, epochs=2, batch_size=16, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/2", "Epoch 2/2"]
    assert not any("ETA" in line or "[" in line for line in lines)
