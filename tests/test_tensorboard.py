"""gw.callbacks.TensorBoard: the event files it writes, read back record by record with
tensorboardX's protobufs (length, masked CRC-32C of the length, data, masked CRC of the data),
hold the history's values and the layers' weight and gradient histograms."""
import struct
import sys

import numpy as np
import pytest

import gradwise as gw

tensorboardX = pytest.importorskip("tensorboardX")
from tensorboardX.crc32c import crc32c  # noqa: E402
from tensorboardX.proto import event_pb2  # noqa: E402


def _masked(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_events(log_dir):
    """Every Event of every event file in ``log_dir``, checksums verified."""
    events = []
    for path in sorted(log_dir.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        offset = 0
        while offset < len(data):
            header = data[offset:offset + 8]
            (length,) = struct.unpack("<Q", header)
            (header_crc,) = struct.unpack("<I", data[offset + 8:offset + 12])
            assert header_crc == _masked(header)
            body = data[offset + 12:offset + 12 + length]
            (body_crc,) = struct.unpack("<I", data[offset + 12 + length:offset + 16 + length])
            assert body_crc == _masked(body)
            events.append(event_pb2.Event.FromString(body))
            offset += 16 + length
    return events


def _values(events):
    scalars, histograms = {}, {}
    for event in events:
        for value in event.summary.value:
            if value.HasField("histo"):
                histograms[(value.tag, event.step)] = value.histo
            else:
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars, histograms


class WeightsPerEpoch(gw.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.snapshots = []

    def on_epoch_end(self, epoch, logs=None):
        self.snapshots.append({(layer.name, key): (value.copy(), layer.grads[key].copy())
                               for layer in self.model.layers
                               for key, value in layer.params.items()})


def test_scalars_and_histograms_read_back(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(96, 4)), rng.integers(0, 3, 96)
    model = gw.Sequential([gw.layers.Dense(5, activation="relu", name="hidden"),
                           gw.layers.Dense(3, activation="softmax", name="out")],
                          input_dim=4, seed=0, dtype="float64")
    schedule = gw.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5, by="epoch")
    model.compile(optimizer=gw.optimizers.SGD(schedule), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    board, weights = gw.callbacks.TensorBoard(tmp_path / "run", histogram_freq=2), WeightsPerEpoch()
    history = model.fit(X, y, epochs=4, batch_size=32, verbose=0, validation_split=0.25,
                        callbacks=[weights, board])
    scalars, histograms = _values(read_events(tmp_path / "run"))
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        steps, values = zip(*scalars[key])
        assert steps == (0, 1, 2, 3)
        np.testing.assert_allclose(values, history.history[key], rtol=1e-6)  # stored as float32
    steps, rates = zip(*scalars["learning_rate"])
    np.testing.assert_allclose(rates, [0.1 * 0.5 ** epoch for epoch in range(4)], rtol=1e-6)
    assert {step for _, step in histograms} == {0, 2}  # every histogram_freq epochs
    for epoch in (0, 2):
        for (layer, key), (value, grad) in weights.snapshots[epoch].items():
            for tag, array in ((f"{layer}/{key}", value), (f"{layer}/{key}_grad", grad)):
                histo = histograms[(tag, epoch)]
                assert histo.num == array.size
                assert histo.min == pytest.approx(array.min()) and histo.max == pytest.approx(array.max())
                assert histo.sum == pytest.approx(array.sum(), abs=1e-9)
                assert histo.sum_squares == pytest.approx((array ** 2).sum())
                assert sum(histo.bucket) == array.size


def test_config_round_trip_and_bad_frequency(tmp_path):
    board = gw.callbacks.TensorBoard(tmp_path, histogram_freq=0, write_grads=False)
    again = gw.callbacks.get({"class_name": "TensorBoard", "config": board.get_config()})
    assert again.get_config() == {"log_dir": str(tmp_path), "histogram_freq": 0, "write_grads": False}
    with pytest.raises(ValueError, match="histogram_freq"):
        gw.callbacks.TensorBoard(tmp_path, histogram_freq=-1)


def test_missing_tensorboardx_is_reported_at_construction(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'gradwise\[tensorboard\]'"):
        gw.callbacks.TensorBoard(tmp_path / "never")
    assert not (tmp_path / "never").exists()
