"""Ctrl-C (SIGINT) and SIGTERM in ``gradwise train`` and ``tune``: one line, exit status 130
(143 for SIGTERM), nothing written, no temporary file left, and no trial of an interrupted study
left RUNNING (one process or two)."""
import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _csv(path, rows=400):
    import numpy as np
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 4))
    with open(path, "w") as file:
        file.write("a,b,c,d,y\n")
        for row, label in zip(X, X[:, 0] + X[:, 1] > 0):
            file.write(",".join(f"{v:.4f}" for v in row) + f",{int(label)}\n")
    return path


INTERRUPTED = "gradwise: error: interrupted (Ctrl-C); nothing was written after the interruption."
TERMINATED = "gradwise: error: terminated (SIGTERM); nothing was written after it."
#: signal: (exit status, the command's one line)
ENDINGS = {signal.SIGINT: (130, INTERRUPTED), signal.SIGTERM: (143, TERMINATED)}


def _interrupt(args, ready, cwd, seconds=240, group=False, signum=signal.SIGINT):
    """Start ``gradwise args``; once ``ready()`` holds, send ``signum`` (to its process group,
    as a terminal's Ctrl-C does, when ``group``); return (status, stderr)."""
    out = open(os.path.join(cwd, "stdout.txt"), "w")
    # SIGINT back to its default in the child: a test run started in the background of a
    # shell (``pytest &``) ignores it, Python then installs no handler, and Ctrl-C is lost
    child = subprocess.Popen([sys.executable, "-m", "gradwise", *args], cwd=cwd,
                             stdout=out, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=group,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + seconds
        while not ready():
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the command never got going"
            time.sleep(0.1)
        if group:  # the command and its worker processes
            os.killpg(child.pid, signum)
        else:
            child.send_signal(signum)
        _, stderr = child.communicate(timeout=seconds)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
        out.close()
    return child.returncode, stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_in_train_ends_in_one_line_and_writes_nothing(tmp_path, signum):
    _csv(tmp_path / "d.csv")
    status, stderr = _interrupt(
        ["train", "--data", "d.csv", "--target", "y", "--epochs", "100000", "--patience", "100000",
         "--batch-size", "8", "--save", "m.npz"],
        lambda: "Epoch 2/" in (tmp_path / "stdout.txt").read_text(), tmp_path, signum=signum)
    assert (status, stderr.strip().splitlines()) == (ENDINGS[signum][0], [ENDINGS[signum][1]])
    assert not (tmp_path / "m.npz").exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")]
    assert "Traceback" not in stderr


@pytest.mark.parametrize("jobs, group, signum", [(1, False, signal.SIGINT),
                                                 (2, False, signal.SIGINT),
                                                 (2, True, signal.SIGINT),
                                                 (1, False, signal.SIGTERM),
                                                 (2, False, signal.SIGTERM)])
def test_ctrl_c_or_sigterm_in_tune_ends_in_one_line_and_leaves_no_trial_running(tmp_path, jobs, group,
                                                                                signum):
    """Sent to the command alone, or, as a terminal sends it, to its worker processes too
    (whose interrupted trials Optuna would report in two warnings each). SIGTERM (a machine of
    a shared study stopped by its scheduler) too: left to the system, it ended the process at
    once and the trial it ran stayed RUNNING in the study for good."""
    optuna = pytest.importorskip("optuna")
    pytest.importorskip("sqlalchemy")
    _csv(tmp_path / "d.csv")
    url = f"sqlite:///{tmp_path / 'study.db'}"

    def running():  # read with sqlite3 itself: no second Optuna storage polling the file
        import sqlite3
        if not (tmp_path / "study.db").exists():
            return False
        try:
            with contextlib.closing(sqlite3.connect(tmp_path / "study.db", timeout=1)) as db:
                return db.execute("SELECT count(*) FROM trials WHERE state = 'RUNNING'"
                                  ).fetchone()[0] > 0
        except sqlite3.Error:  # not created yet, or locked for a moment
            return False

    status, stderr = _interrupt(
        ["tune", "--data", "d.csv", "--target", "y", "--trials", "50", "--epochs", "100000",
         "--patience", "100000", "--batch-size", "8", "--no-pruning", "--jobs", str(jobs),
         "--storage", url, "--study", "s"], running, tmp_path, group=group, signum=signum)
    assert (status, stderr.strip().splitlines()) == (ENDINGS[signum][0], [ENDINGS[signum][1]])
    states = [t.state for t in optuna.load_study(study_name="s", storage=url).trials]
    assert optuna.trial.TrialState.RUNNING not in states
    assert optuna.trial.TrialState.FAIL in states


def test_ctrl_c_that_lands_in_a_finalizer_still_stops_the_command(capsys):
    """A KeyboardInterrupt raised while Python runs a weak reference's callback (garbage
    collection, at any moment of training) is printed and dropped by Python; the command
    then trained on for good (seen once in tune). It is sent again and stops the command."""
    import argparse
    import weakref

    from gradwise.cli import guard
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # even under `pytest &`
    hook_before = sys.unraisablehook
    outcome = {}

    class Thing:
        pass

    def command(args):
        thing = Thing()

        def lost(_):  # as if Ctrl-C arrived while this callback ran
            raise KeyboardInterrupt

        outcome["ref"] = weakref.ref(thing, lost)
        del thing  # the callback runs now; Python prints and drops its exception
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(0.01)
        outcome["trained on"] = True
        return 0

    try:
        status = guard.run(command, argparse.Namespace(command="train"))
    finally:
        signal.signal(signal.SIGINT, previous)
    assert status == 130 and "trained on" not in outcome
    assert capsys.readouterr().err.strip().splitlines() == [
        "gradwise: error: interrupted (Ctrl-C); nothing was written after the interruption."]
    assert sys.unraisablehook is hook_before  # the hook is put back


def _storage_code(source):
    """Functions of ``source`` run as code of a module of Optuna's storages."""
    import textwrap
    namespace = {"__name__": "optuna.storages._written_by_a_test", "os": os, "signal": signal,
                 "time": time}
    exec(textwrap.dedent(source), namespace)
    return namespace


def _busy(seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass


def test_ctrl_c_inside_a_study_storage_lands_once_the_write_is_done(capsys):
    """Ctrl-C while Optuna writes to a study's storage would leave the session half-closed
    (then "Should not reach." and a trial left RUNNING): it is put off until the write ends,
    and stops the command right after."""
    import argparse

    from gradwise.cli import guard
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    storage = _storage_code("""
        def write(log, busy):
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the middle of the write
            busy(0.3)
            log.append("written")
    """)
    log = []

    def command(args):
        storage["write"](log, _busy)
        _busy(10)
        log.append("trained on")
        return 0

    try:
        started = time.monotonic()
        status = guard.run(command, argparse.Namespace(command="tune"))
        seconds = time.monotonic() - started
    finally:
        assert signal.signal(signal.SIGINT, previous) is signal.default_int_handler  # put back
    assert status == 130 and log == ["written"] and 0.3 <= seconds < 5
    assert capsys.readouterr().err.strip().splitlines() == [
        "gradwise: error: interrupted (Ctrl-C); nothing was written after the interruption."]


def test_ctrl_c_waits_for_a_storage_that_hangs_only_so_long(capsys, monkeypatch):
    import argparse

    from gradwise.cli import guard
    monkeypatch.setattr(guard, "DEFER_SECONDS", 0.2)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    storage = _storage_code("""
        def write(log, busy):
            os.kill(os.getpid(), signal.SIGINT)
            busy(10)  # a database that does not answer
            log.append("written")
    """)
    log = []
    try:
        started = time.monotonic()
        status = guard.run(lambda args: storage["write"](log, _busy),
                           argparse.Namespace(command="tune"))
        seconds = time.monotonic() - started
    finally:
        signal.signal(signal.SIGINT, previous)
    assert status == 130 and log == [] and 0.2 <= seconds < 5
    capsys.readouterr()


def test_no_ctrl_c_is_sent_again_once_the_command_has_ended(capsys):
    """A Ctrl-C dropped in a finalizer is sent again 10 ms later; if the command ends first
    (another interruption stopped it), the signal is not sent: it would kill the process as it
    exits, or interrupt whoever called the command."""
    import argparse
    import weakref

    from gradwise.cli import guard
    received = []
    previous = signal.signal(signal.SIGINT, lambda *_: received.append(time.monotonic()))

    class Thing:
        pass

    def command(args):
        thing = Thing()

        def lost(_):
            raise KeyboardInterrupt

        ref = weakref.ref(thing, lost)  # noqa: F841 - kept until the callback runs
        del thing  # a Ctrl-C dropped: to be sent again in 10 ms
        raise KeyboardInterrupt  # ... but the command stops now
    try:
        status = guard.run(command, argparse.Namespace(command="train"))
        time.sleep(10 * guard.RESEND_SECONDS)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert status == 130 and received == []
    capsys.readouterr()

