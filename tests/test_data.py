"""Tests for gradwise.data: splits, Standardizer, mini-batches, memory-mapped streaming."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

import gradwise as gw
from gradwise.data import (MemmapBatches, batches_from_memmap, fit_batches, iterate_minibatches,
                           split_indices)


def _labels(n_per_class=(30, 20, 10)):
    y = np.repeat(np.arange(len(n_per_class)), n_per_class)
    X = np.arange(len(y) * 2, dtype=float).reshape(-1, 2)
    return X, y


def test_split_sizes_partition_and_stratification():
    X, y = _labels((50, 30, 20))
    X_tr, X_dev, X_te, y_tr, y_dev, y_te = gw.train_dev_test_split(X, y, (0.6, 0.2, 0.2), seed=0)
    assert (len(X_tr), len(X_dev), len(X_te)) == (60, 20, 20)
    rows = np.concatenate([X_tr[:, 0], X_dev[:, 0], X_te[:, 0]]) / 2  # row ids
    assert sorted(rows.astype(int)) == list(range(100))  # a partition: no loss, no overlap
    for part_y, part_X in ((y_tr, X_tr), (y_dev, X_dev), (y_te, X_te)):
        np.testing.assert_array_equal(part_y, y[(part_X[:, 0] / 2).astype(int)])  # rows kept
    np.testing.assert_array_equal(np.bincount(y_dev), [10, 6, 4])  # 50/30/20 proportions
    np.testing.assert_array_equal(np.bincount(y_te), [10, 6, 4])


def test_split_is_seeded_and_98_1_1_on_large_data():
    X, y = load_digits(return_X_y=True)
    a = gw.train_dev_test_split(X, y, (0.98, 0.01, 0.01), seed=3)
    b = gw.train_dev_test_split(X, y, (0.98, 0.01, 0.01), seed=3)
    c = gw.train_dev_test_split(X, y, (0.98, 0.01, 0.01), seed=4)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[4], c[4])
    assert (len(a[1]), len(a[2])) == (18, 18)  # round(0.01 * 1797)


def test_split_continuous_targets_not_stratified():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 3)), rng.normal(size=50)
    parts = gw.train_dev_test_split(X, y, (0.5, 0.3, 0.2), seed=0)
    assert [len(p) for p in parts[:3]] == [25, 15, 10]
    with pytest.raises(ValueError, match="stratify"):
        gw.train_dev_test_split(X, y, stratify=True)


@pytest.mark.parametrize("ratios", [(0.6, 0.2, 0.3), (0.8, 0.2), (0.5, 0.0, 0.5), (0.0, 0.5, 0.5),
                                    (1.2, -0.1, -0.1), (1.0, 0.2, -0.2), (0.8, 0.2, float("nan"))])
def test_split_bad_ratios(ratios):
    X, y = _labels()
    with pytest.raises(ValueError, match="ratios"):
        gw.train_dev_test_split(X, y, ratios)


@pytest.mark.parametrize("y_shape", [(), (3,)])
def test_split_dev_without_test(y_shape):
    """Ratios (0.8, 0.2, 0): a train/dev partition of all rows, and empty test arrays of the
    inputs' shapes and dtypes; stratified when y holds classes."""
    X, labels = _labels((50, 30, 20))
    y = labels if not y_shape else np.eye(3)[labels]
    X_tr, X_dev, X_te, y_tr, y_dev, y_te = gw.train_dev_test_split(X, y, (0.8, 0.2, 0), seed=0)
    assert (len(X_tr), len(X_dev)) == (80, 20)
    assert X_te.shape == (0, 2) and X_te.dtype == X.dtype
    assert y_te.shape == (0,) + y_shape and y_te.dtype == y.dtype
    rows = np.concatenate([X_tr[:, 0], X_dev[:, 0]]) / 2
    assert sorted(rows.astype(int)) == list(range(100))
    np.testing.assert_array_equal(y_dev, y[(X_dev[:, 0] / 2).astype(int)])
    np.testing.assert_array_equal(np.bincount(labels[(X_dev[:, 0] / 2).astype(int)]), [10, 6, 4])
    again = gw.train_dev_test_split(X, y, (0.8, 0.2, 0.0), seed=0)
    assert np.array_equal(again[1], X_dev)
    other = gw.train_dev_test_split(X, y, (0.8, 0.2, 0.0), seed=1)
    assert not np.array_equal(other[1], X_dev)


def test_split_dev_without_test_stratified_needs_two_per_class():
    X, y = _labels((30, 20, 2))
    parts = gw.train_dev_test_split(X, y, (0.5, 0.5, 0), seed=0)  # 2 of class 2 suffice now
    assert 2 in parts[3] and 2 in parts[4] and len(parts[2]) == 0
    X, y = _labels((30, 20, 1))
    with pytest.raises(ValueError, match="Class 2 has 1 sample.*train/dev split needs at least 2"):
        gw.train_dev_test_split(X, y, (0.5, 0.5, 0), seed=0)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 2)), rng.normal(size=30)
    parts = gw.train_dev_test_split(X, y, (0.7, 0.3, 0), seed=0)
    assert [len(p) for p in parts] == [21, 9, 0, 21, 9, 0]


def test_split_leaving_a_class_or_split_empty():
    X, y = _labels((30, 20, 2))
    with pytest.raises(ValueError, match="[Cc]lass 2"):
        gw.train_dev_test_split(X, y, seed=0)
    X, y = _labels((30, 20, 10))
    with pytest.raises(ValueError, match="dev split"):
        gw.train_dev_test_split(X, y, (0.98, 0.001, 0.019), seed=0)
    with pytest.raises(ValueError, match="test split"):  # 1 test sample < 3 classes
        gw.train_dev_test_split(X, y, (0.8, 0.18, 0.02), seed=0)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.integers(3, 40), min_size=1, max_size=5), st.data())
def test_split_indices_partitions_each_class_in_proportion(class_sizes, data):
    """A partition of range(n) with the sizes asked; each part's rows of each class are its
    share of the rows left (within one row, and exactly the size asked in all); the same
    seed gives the same parts."""
    labels = np.repeat(np.arange(len(class_sizes)) * 7 - 3, class_sizes)  # not 0..k-1
    labels = np.random.default_rng(1).permutation(labels)
    n = len(labels)
    test = data.draw(st.integers(0, n // 3))
    dev = data.draw(st.integers(0, n - test))
    sizes = [n - dev - test, dev, test]
    parts = split_indices(n, sizes, labels, seed=5)
    assert [len(p) for p in parts] == sizes
    assert sorted(np.concatenate(parts).tolist()) == list(range(n))
    classes = np.unique(labels)
    per_part = [np.array([(labels[p] == c).sum() for c in classes]) for p in parts]
    left = np.array(class_sizes, dtype=float)
    for part in (2, 1):  # filled last to first
        if sizes[part]:
            exact = left * sizes[part] / left.sum()
            assert np.all(np.abs(per_part[part] - exact) < 1), (part, per_part[part], exact)
        left -= per_part[part]
    np.testing.assert_array_equal(per_part[0], left)
    again = split_indices(n, sizes, labels, seed=5)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again))


def test_split_indices_draws_each_row_of_a_class_alike_and_shuffles_each_part():
    """Over 400 seeds every row of a class lands in the test part about as often (the
    binomial's 4 standard deviations), and a part's rows come in a random order."""
    labels = np.repeat([0, 1], [30, 20])
    in_test = np.zeros(50)
    for seed in range(400):
        train, dev, test = split_indices(50, [30, 10, 10], labels, seed=seed)
        in_test[test] += 1
    share = in_test / 400  # 10 of 50 rows, 6 of class 0's 30 and 4 of class 1's 20
    assert np.all(np.abs(share - 0.2) < 4 * np.sqrt(0.2 * 0.8 / 400)), share
    train = split_indices(1000, [800, 200], np.arange(1000) % 2, seed=0)[0]
    assert not np.all(np.diff(train) > 0) and not np.all(np.diff(train) < 0)
    plain = split_indices(10, [7, 3], None, seed=0)
    assert [len(p) for p in plain] == [7, 3] and sorted(np.concatenate(plain)) == list(range(10))


def test_split_indices_bad_arguments_name_them():
    with pytest.raises(ValueError, match="sizes: expected counts >= 0 summing to n_samples=10"):
        split_indices(10, [8, 3])
    with pytest.raises(ValueError, match="sizes"):
        split_indices(10, [11, -1])
    with pytest.raises(ValueError, match=r"labels: expected shape \(10,\)"):
        split_indices(10, [8, 2], np.zeros((10, 2)))
    with pytest.raises(TypeError, match="seed: expected a numpy.random.Generator"):
        split_indices(10, [8, 2], seed="7")


def test_split_of_string_and_large_integer_labels_keeps_proportions():
    """Labels that are text, or integers too far apart to count, are split the same way."""
    for labels in (np.repeat(np.array(["no", "yes"]), [60, 40]),
                   np.repeat(np.array([-10**9, 10**12]), [60, 40])):
        X = np.arange(100.0)[:, None]
        _, _, _, y_tr, y_dev, y_te = gw.train_dev_test_split(X, labels, seed=0)
        for part, size in ((y_tr, 60), (y_dev, 20), (y_te, 20)):
            assert len(part) == size and (part == labels[0]).sum() == size * 6 // 10


def test_standardizer_matches_sklearn_and_handles_constant_columns():
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.normal(5, 3, 40), np.full(40, 7.0), rng.uniform(size=40)])
    Xd = rng.normal(size=(10, 3))
    ours, theirs = gw.Standardizer().fit(X), StandardScaler().fit(X)
    np.testing.assert_allclose(ours.mean_, theirs.mean_)
    np.testing.assert_allclose(ours.scale_, theirs.scale_)
    assert ours.scale_[1] == 1.0
    np.testing.assert_allclose(ours.transform(Xd), theirs.transform(Xd))  # dev: train statistics
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(Xd)), Xd)
    assert np.isfinite(ours.fit_transform(X)).all() and (ours.fit_transform(X)[:, 1] == 0).all()


def test_standardizer_arrays_round_trip_and_errors():
    X = np.random.default_rng(2).normal(size=(20, 4))
    scaler = gw.Standardizer().fit(X)
    copy = gw.Standardizer.from_arrays(scaler.to_arrays(), scaler.get_config())
    np.testing.assert_array_equal(copy.transform(X), scaler.transform(X))
    with pytest.raises(ValueError, match="expected 4 features"):
        scaler.transform(X[:, :3])
    with pytest.raises(RuntimeError, match="not fitted"):
        gw.Standardizer().transform(X)
    with pytest.raises(ValueError, match="scale"):
        gw.Standardizer.from_arrays({"mean": np.zeros(2), "scale": np.array([1.0, 0.0])})


def test_iterate_minibatches_covers_data_once():
    X, y = np.arange(23.0).reshape(-1, 1), np.arange(23)
    batches = list(iterate_minibatches(X, y, 5, shuffle=True, rng=np.random.default_rng(0)))
    assert [len(b[0]) for b in batches] == [5, 5, 5, 5, 3]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen) == list(range(23)) and not np.array_equal(seen, np.arange(23))
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb[:, 0], yb)
    ordered = list(iterate_minibatches(X, None, 10, shuffle=False))
    np.testing.assert_array_equal(ordered[0][0][:, 0], np.arange(10))
    with pytest.raises(ValueError, match="batch_size"):
        list(iterate_minibatches(X, y, 0))


class _RecordingArray:
    """Wraps a memmap and records every slice read, to show the whole file is never loaded."""

    def __init__(self, array):
        self.array, self.reads = array, []
        self.shape, self.dtype = array.shape, array.dtype

    def __getitem__(self, rows):
        assert isinstance(rows, slice), "only slices of the memmap may be read"
        self.reads.append((rows.start, rows.stop))
        return self.array[rows]


def test_memmap_batches_read_in_chunks(tmp_path):
    path = tmp_path / "X.npy"
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(1000, 3))
    X[:] = np.arange(3000, dtype=np.float32).reshape(1000, 3)
    X.flush()
    stream = batches_from_memmap(str(path), batch_size=32, chunk_size=100)
    assert isinstance(stream.X, np.memmap)
    assert stream.chunk_size == 128 and len(stream) == 7 * 4 + 4  # 7 chunks of 128 rows, then 104 rows
    np.testing.assert_array_equal(np.concatenate([b for b, _ in stream]), X)
    recorded = _RecordingArray(np.load(path, mmap_mode="r"))
    y = np.arange(1000)
    stream = MemmapBatches(recorded, y, batch_size=32, chunk_size=100, shuffle=True, rng=0)
    got_X, got_y = zip(*stream)
    assert max(stop - start for start, stop in recorded.reads) == 128  # never the whole file
    assert sorted((s for s, _ in recorded.reads)) == list(range(0, 1000, 128))
    got_X, got_y = np.concatenate(got_X), np.concatenate(got_y)
    np.testing.assert_array_equal(got_X[:, 0] / 3, got_y)  # rows stay paired with labels
    assert sorted(got_y) == list(range(1000)) and not np.array_equal(got_y, y)


def test_fit_batches_trains_from_memmap(tmp_path):
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    np.save(tmp_path / "X.npy", X[:1200]), np.save(tmp_path / "y.npy", y[:1200])
    stream = MemmapBatches(tmp_path / "X.npy", tmp_path / "y.npy", batch_size=32,
                           chunk_size=256, shuffle=True, rng=0)
    model = gw.Sequential([gw.layers.Dense(32, activation="relu"),
                           gw.layers.Dense(10, activation="softmax")], input_dim=64, seed=0)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    stopper = gw.callbacks.EarlyStopping(monitor="loss", patience=100)
    history = fit_batches(model, stream, epochs=8, callbacks=[stopper],
                          validation_data=(X[1200:], y[1200:]))
    losses = history.history["loss"]
    assert len(losses) == 8 and losses[-1] < 0.5 * losses[0]
    assert history.history["val_accuracy"][-1] > 0.8
    assert model.optimizer.iterations == 8 * len(stream)
    with pytest.raises(ValueError, match="batches"):
        fit_batches(model, iter([]), epochs=1)


def test_fit_batches_equals_fit_without_shuffling(tmp_path):
    X, y = load_digits(return_X_y=True)
    X = (X[:300] / 16.0).astype(np.float32)
    np.save(tmp_path / "X.npy", X)

    def model():
        m = gw.Sequential([gw.layers.Dense(16, activation="relu"),
                           gw.layers.Dense(10, activation="softmax")], input_dim=64, seed=1)
        return m.compile(optimizer="sgd", loss="categorical_crossentropy")

    a, b = model(), model()
    a.fit(X, y[:300], epochs=2, batch_size=32, shuffle=False, verbose=0)
    fit_batches(b, MemmapBatches(tmp_path / "X.npy", y[:300], batch_size=32, chunk_size=64), epochs=2)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    weights = {3: 4.0, 7: 0.5}  # class weights: the same as fit's
    a, b = model(), model()
    a.fit(X, y[:300], epochs=2, batch_size=32, shuffle=False, verbose=0, class_weight=weights)
    fit_batches(b, MemmapBatches(tmp_path / "X.npy", y[:300], batch_size=32, chunk_size=64),
                epochs=2, class_weight=weights)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    with pytest.raises(ValueError, match=r"class_weight: expected integer class indices in "
                                         r"\[0, 10\), received key 10"):
        fit_batches(model(), MemmapBatches(tmp_path / "X.npy", y[:300], batch_size=32),
                    class_weight={10: 2.0})
    with pytest.raises(TypeError, match="class_weight: expected a dict"):
        fit_batches(model(), MemmapBatches(tmp_path / "X.npy", y[:300], batch_size=32),
                    class_weight="balanced")
