"""A save killed midway (SIGKILL, no cleanup possible) leaves the old model file intact, and the
temporary file it left behind is removed by the next write to that directory."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import gradwise as gw

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

_CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    import gradwise as gw

    real_savez = np.savez

    def slow_savez(file, **arrays):  # write part of the archive, then hang until killed
        real_savez(file, **arrays)
        file.truncate(file.tell() // 2)
        file.flush()
        open(sys.argv[2], "w").close()
        time.sleep(60)

    np.savez = slow_savez
    model = gw.Sequential([gw.layers.Dense(8)], input_dim=5, seed=1).build()
    gw.save_model(model, sys.argv[1])
""")


def _wait_for(path, child, seconds=60):
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        assert child.poll() is None, child.stderr.read()
        assert time.monotonic() < deadline, "the child never reached the middle of its save"
        time.sleep(0.05)


def test_a_save_killed_midway_keeps_the_old_file_and_its_leftover_is_cleaned(tmp_path):
    old = gw.Sequential([gw.layers.Dense(3)], input_dim=2, seed=0).build()
    target, ready = tmp_path / "model.npz", tmp_path / "ready"
    gw.save_model(old, target)
    before = target.read_bytes()
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(target), str(ready)],
                             stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(ready, child)
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
        assert len(leftovers) == 1  # the half-written temporary, beside the target
        child.send_signal(signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert target.read_bytes() == before
    np.testing.assert_array_equal(gw.load_model(target).get_weights()[0], old.get_weights()[0])
    assert (tmp_path / leftovers[0]).exists()  # SIGKILL gives no chance to clean up
    # the next write to the directory removes the dead writer's temporary, and nothing else
    (tmp_path / ".tmp-mine").write_text("not gradwise's")
    gw.save_model(old, tmp_path / "other.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tmp-mine", "model.npz", "other.npz",
                                                          "ready"]


def test_a_live_writers_temporary_is_left_alone(tmp_path):
    live = tmp_path / f".tmp-gradwise-{os.getpid()}-abc.npz"
    live.write_bytes(b"in progress")
    gw.save_model(gw.Sequential([gw.layers.Dense(3)], input_dim=2).build(), tmp_path / "m.npz")
    assert live.exists()
