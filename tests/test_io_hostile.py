"""Model files under attack: damaged, truncated, foreign and lying files fail with a ValueError
naming the file, before reading or allocating more than the file holds; and fuzzing
(Hypothesis) of mutated files finds only those documented errors, in bounded memory."""
import io
import json
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import gradwise as gw
from gradwise.io import _archive


def _model():
    model = gw.Sequential([gw.layers.Dense(4, activation="relu"),
                           gw.layers.BatchNormalization(),
                           gw.layers.Dense(2, activation="softmax")], input_dim=3, seed=0)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    X = np.random.default_rng(0).normal(size=(16, 3))
    model.fit(X, (X[:, 0] > 0).astype(int), epochs=1, batch_size=8, verbose=0)
    return model


@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("good") / "m.npz"
    gw.save_model(_model(), path, metadata={"columns": ["a", "b", "c"]})
    return path.read_bytes()


def _members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _npy(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def _zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _with_description(path, good_bytes, mutate):
    members = _members(good_bytes)
    description = json.loads(np.lib.format.read_array(
        io.BytesIO(members["description.json.npy"])).tobytes())
    description = mutate(description) or description
    text = description if isinstance(description, bytes) else json.dumps(description).encode()
    members["description.json.npy"] = _npy(np.frombuffer(text, np.uint8))
    return _zip(path, members)


def _peak_bytes(call):
    tracemalloc.start()
    try:
        call()
    except ValueError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_the_good_file_loads(tmp_path, good_bytes):
    path = tmp_path / "m.npz"
    path.write_bytes(good_bytes)
    assert gw.load_model(path).metadata == {"columns": ["a", "b", "c"]}


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"age,income,label\n30,1000,yes\n", "a text file starting .age,income,label.: a table"),
    (b"\x00\x01\x02garbage", "not a zip archive"),
    (_npy(np.zeros(3)), "single NumPy array"),
])
def test_foreign_files_are_named(tmp_path, content, message):
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        gw.load_model(path)
    assert str(path) in str(error.value) and "pickle" not in str(error.value)
    assert "--" not in str(error.value)  # a library error names no command-line option


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.99])
def test_truncated_files_are_refused(tmp_path, good_bytes, keep):
    path = tmp_path / "m.npz"
    path.write_bytes(good_bytes[:int(len(good_bytes) * keep)])
    with pytest.raises(ValueError, match="m.npz: "):
        gw.load_model(path)


def test_an_extra_member_is_refused_before_it_is_read(tmp_path, good_bytes):
    members = _members(good_bytes)
    members["payload.npy"] = _npy(np.zeros(2**24))  # 128 MB, deflated to about 130 KB
    path = _zip(tmp_path / "m.npz", members, zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 2**20
    with pytest.raises(ValueError, match="unexpected member 'payload.npy'"):
        gw.load_model(path)
    assert _peak_bytes(lambda: gw.load_model(path)) < 2**22


def test_a_weight_array_beyond_the_table_is_refused_before_it_is_read(tmp_path, good_bytes):
    members = _members(good_bytes)
    count = sum(n.startswith("weights/") for n in members)
    members[f"weights/{count:04d}.npy"] = _npy(np.zeros(2**24, np.float32))
    path = _zip(tmp_path / "m.npz", members, zipfile.ZIP_DEFLATED)
    with pytest.raises(ValueError, match=f"lists {count} weight arrays; the file holds {count + 1}"):
        gw.load_model(path)
    assert _peak_bytes(lambda: gw.load_model(path)) < 2**22


def test_a_header_claiming_more_than_the_member_holds_is_refused(tmp_path, good_bytes):
    members = _members(good_bytes)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (20000, 20000)})
    members["weights/0000.npy"] = header.getvalue() + b"\0" * 48
    path = _zip(tmp_path / "m.npz", members)
    with pytest.raises(ValueError, match=r"declares shape \(20000, 20000\) \(1,600,000,000 bytes\)"
                                         r" but holds 48 bytes"):
        gw.load_model(path)


def test_a_description_claiming_a_huge_network_is_refused_before_allocating(tmp_path,
                                                                            good_bytes):
    def huge(description):
        description["model"]["input_dim"] = 20000
        description["model"]["layers"][0]["config"]["units"] = 20000
    path = _with_description(tmp_path / "m.npz", good_bytes, huge)
    with pytest.raises(ValueError, match=r"needs at least 400,0\d\d,000 weights "
                                         r"\(1,600,\d{3},000 bytes\) but the file holds \d+"):
        gw.load_model(path)
    assert _peak_bytes(lambda: gw.load_model(path)) < 2**22


@pytest.mark.parametrize("mutate, message", [
    (lambda d: [d], "a JSON list, not an object"),
    (lambda d: "text", "a JSON str, not an object"),
    (lambda d: b"{" * 100000, "nested too deeply|unreadable model description"),
    (lambda d: d.update(metadata=json.loads("[" * 70 + "]" * 70)), "nested deeper than 64"),
    (lambda d: d.__delitem__("model"), "no model config"),
    (lambda d: d.__delitem__("format"), "not a gradwise model file"),
    (lambda d: d.update(version=99), "unsupported model file version 99"),
    (lambda d: d.__delitem__("weights"), "lists 0 weight arrays"),
    (lambda d: d.update(weights={"a": 1}), "not a list of objects"),
    (lambda d: d["model"].update(layers="Dense"), "layers are not a list"),
    (lambda d: d["model"]["layers"][0].update(class_name=["Dense"]), "unknown type"),
    (lambda d: d["model"]["layers"][0].__delitem__("config"), "description is invalid"),
    (lambda d: d["model"]["layers"][0]["config"].update(units="many"), "description is invalid"),
    (lambda d: d["model"].update(input_dim=-3), "received input_dim=-3"),
    (lambda d: d["model"].update(input_dim="3"), "received input_dim=.3."),
    (lambda d: d["weights"][0].update(shape=[3, 5]), "described with shape"),
    (lambda d: d["compile"].update(loss="no-such-loss"), "compile settings are invalid"),
    (lambda d: d["compile"].__delitem__("optimizer"), "compile settings are invalid"),
    (lambda d: d["optimizer_state"].__delitem__("iterations"), "optimizer state's description"),
    (lambda d: d["optimizer_state"]["slots"].update(m=[1]), "optimizer state 'm'"),
    (lambda d: d.update(metadata=[1, 2]), "metadata is a JSON list"),
    (lambda d: b"\xff\xfe", "unreadable model description"),
])
def test_bad_descriptions_are_named(tmp_path, good_bytes, mutate, message):
    path = _with_description(tmp_path / "m.npz", good_bytes, mutate)
    with pytest.raises(ValueError, match=message):
        gw.load_model(path)


def test_an_oversized_description_is_refused_before_it_is_read(tmp_path, good_bytes, monkeypatch):
    monkeypatch.setattr(_archive, "MAX_DESCRIPTION_BYTES", 100)
    path = tmp_path / "m.npz"
    path.write_bytes(good_bytes)
    with pytest.raises(ValueError, match=r"description is [\d,]+ bytes; at most 100 are read"):
        gw.load_model(path)


def test_non_finite_weights_are_refused(tmp_path, good_bytes):
    members = _members(good_bytes)
    weights = np.lib.format.read_array(io.BytesIO(members["weights/0000.npy"]))
    weights[0, 0] = np.nan
    members["weights/0000.npy"] = _npy(weights)
    with pytest.raises(ValueError, match="NaN or infinity"):
        gw.load_model(_zip(tmp_path / "m.npz", members))


@pytest.mark.parametrize("slots", [None, [], "m"])
def test_optimizer_state_without_its_slots_is_refused(tmp_path, good_bytes, slots):
    """It raised KeyError: 'slots' (a traceback on the command line) when they were absent."""
    def mutate(description):
        state = description["optimizer_state"]
        if slots is None:
            del state["slots"]
        else:
            state["slots"] = slots
    path = _with_description(tmp_path / "m.npz", good_bytes, mutate)
    with pytest.raises(ValueError, match="the optimizer state's description is invalid"):
        gw.load_model(path)


# -- fuzzing ------------------------------------------------------------------------------
def _load_bounded(path, size):
    """Load; only ValueError may come out, and memory stays within a bound of the file size."""
    tracemalloc.start()
    try:
        gw.load_model(path)
    except ValueError as error:
        assert str(path) in str(error)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < 20 * size + 2**22


_FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])


@_FUZZ
@given(edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                      min_size=1, max_size=8),
       cut=st.one_of(st.none(), st.floats(0, 1)))
def test_fuzz_byte_mutations(tmp_path, good_bytes, edits, cut):
    data = bytearray(good_bytes)
    for where, value in edits:
        data[int(where * len(data))] = value
    if cut is not None:
        data = data[:int(cut * len(data))]
    path = tmp_path / "fuzz.npz"
    path.write_bytes(bytes(data))
    _load_bounded(path, len(data))


_JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70)
                     | st.floats(allow_nan=True) | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=12)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, prefix + (index,))


@_FUZZ
@given(data=st.data())
def test_fuzz_description_mutations(tmp_path, good_bytes, data):
    members = _members(good_bytes)
    text = np.lib.format.read_array(io.BytesIO(members["description.json.npy"])).tobytes()
    description = json.loads(text)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(description) if p]
        where = data.draw(st.sampled_from(paths))
        parent = description
        for key in where[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()):
            parent[where[-1]] = data.draw(_JSON)
        elif isinstance(parent, dict):
            del parent[where[-1]]
        else:
            parent.pop(where[-1])
    members["description.json.npy"] = _npy(np.frombuffer(json.dumps(description).encode(),
                                                         np.uint8))
    path = _zip(tmp_path / "fuzz.npz", members)
    _load_bounded(path, path.stat().st_size)
