"""Trials in worker processes, sharing one Optuna study through a journal file.

Threads do not speed gradwise trials up: a training step of a small network is mostly Python
calls and element-wise NumPy, which hold the GIL (only BLAS products release it). So each trial
runs in a worker process (joblib's loky pool, which pickles closures with cloudpickle) with one
BLAS thread. The workers load the study from an Optuna ``JournalStorage`` in a temporary file,
so the sampler sees every finished and running trial and the pruner compares each epoch with
the other trials, wherever they run. One task per trial balances the load and runs exactly
``n_trials`` trials.
"""
import json
import os
import tempfile
import time

from ._seeds import TRIAL_STREAM, derive_seed
from ._study import database_storage, import_optuna, optuna_logging


def _journal(path):
    """An Optuna ``JournalStorage`` on the search's temporary journal file at ``path``."""
    return import_optuna().storages.JournalStorage(_journal_backend(path))


def _journal_backend(path):
    """The journal file's writer: ours on Optuna 4 and 5, whose line format it copies;
    Optuna's own on another major version."""
    optuna = import_optuna()
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock
    if int(optuna.__version__.split(".")[0]) > 5:
        return JournalFileBackend(path, JournalFileOpenLock(path))

    class TemporaryJournal(JournalFileBackend):
        """Appends under the file lock like Optuna's backend (4.x and 5.x write the same
        lines), without its ``fsync``: the file lives for one search (a crash loses it either
        way), and a sync per reported epoch costs milliseconds on a disk."""

        def __init__(self, path):
            # The open lock (O_EXCL file creation) works on every platform, symlinks do not.
            self.path, self.lock = path, JournalFileOpenLock(path)
            super().__init__(path, self.lock)

        def append_logs(self, logs):
            text = "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in logs)
            self.lock.acquire()
            try:
                with open(self.path, "ab") as journal:
                    journal.write(text.encode("utf-8"))
            finally:
                self.lock.release()

    return TemporaryJournal(path)


#: The worker's storage of the current search: kept between its tasks, so that each task
#: reads only the journal lines written since the last one, not the whole file again.
_worker_storage = {"path": None, "storage": None}


def _storage_for(location):
    """The study's storage in a worker: the search's journal file, or the user's database URL
    (``"sqlite:///..."``, ``"postgresql://..."``), opened once per worker."""
    if _worker_storage["path"] != location:
        storage = database_storage(location) if "://" in location else _journal(location)
        _worker_storage.update(path=location, storage=storage)
    return _worker_storage["storage"]


def _prepare_worker_once(parent):
    """One BLAS thread in this worker process (set once: threadpoolctl's context manager
    costs milliseconds per task). The setting stays with joblib's reusable workers, which
    joblib itself limits to ``cores // n_jobs`` threads.

    In a worker process (not ``parent``, the search's process, where joblib runs a stage of
    one trial), Ctrl-C is ignored: a terminal sends it to the workers too, and the search's
    process stops them and marks their trials FAILED; left to Python, each worker printed
    the ``KeyboardInterrupt`` of wherever it landed (a finalizer: "Exception ignored in")."""
    if not _worker_storage.get("blas_limited"):
        from ..backend.threads import set_num_threads
        set_num_threads(1)
        _worker_storage["blas_limited"] = True
    if os.getpid() != parent and not _worker_storage.get("sigint_ignored"):
        import signal
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _worker_storage["sigint_ignored"] = True


def run_one_trial(search, path, plan, index, deadline, parent=None):
    """Worker task: one trial of the shared study, on one BLAS thread.

    ``plan`` (a :class:`~gradwise.tuning._study.Plan`) makes the sampler (see
    ``Plan.worker_sampler``) and the pruner. ``parent`` is
    the process id of the search (see :func:`_prepare_worker_once`).
    """
    if deadline is not None and time.time() >= deadline:
        return
    _prepare_worker_once(parent)
    optuna = import_optuna()
    with optuna_logging(plan.verbose):
        study = optuna.load_study(study_name=plan.study_name, storage=_storage_for(path),
                                  sampler=plan.worker_sampler(index),
                                  pruner=plan.make_pruner())
        search.run(study, n_trials=1)


def _fail_running(search, storage, study_name, started):
    """Mark FAILED the trials of this search still RUNNING in the database at ``storage``
    (workers stopped mid-trial cannot): those started since ``started`` (the trial numbers
    before it) whose seed is the one this search gives their number, or that have none yet."""
    optuna = import_optuna()
    study = optuna.load_study(study_name=study_name, storage=storage)
    fail_running(study, started, lambda trial, seed: seed is None or
                 seed == derive_seed(search.seed, TRIAL_STREAM, trial.number))


def fail_running(study, started, ours):
    """Mark FAILED the trials of ``study`` still RUNNING whose number is not in ``started`` and
    for which ``ours(trial, seed)`` holds (``seed``: the trial's, or None before it has one)."""
    optuna = import_optuna()
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        if trial.number not in started and ours(trial, trial.user_attrs.get("seed")):
            try:
                study._storage.set_trial_state_values(trial._trial_id,
                                                      optuna.trial.TrialState.FAIL)
            except Exception:  # noqa: BLE001 - finished meanwhile: leave it as it is
                pass


def optimize_in_processes(search, direction, stages, study_name, n_jobs, timeout, storage=None):
    """Run the trials of each stage on ``n_jobs`` worker processes, one stage after the other.

    ``stages`` is a list of ``(n_trials, make_plan)``: ``make_plan(study)`` returns the stage's
    plan from the study so far (the fine stage of coarse to fine narrows around its best
    trials). ``storage`` is a database URL whose study ``study_name`` (created already) the
    workers share; without one they share a temporary journal file.

    Returns
    -------
    str or optuna.storages.InMemoryStorage
        ``storage``, or a copy of the finished study (the journal file is deleted).
    """
    from joblib import Parallel, delayed
    optuna = import_optuna()
    deadline = None if timeout is None else time.time() + timeout

    def run_trials(location, opened):
        first = 0
        for count, make_plan in stages:
            plan = make_plan(optuna.load_study(study_name=study_name, storage=opened))
            Parallel(n_jobs=min(n_jobs, count), backend="loky")(
                delayed(run_one_trial)(search, location, plan, first + index, deadline,
                                       os.getpid())
                for index in range(count))
            first += count

    if storage is not None:
        started = {t.number for t in
                   optuna.load_study(study_name=study_name, storage=storage).trials}
        try:
            run_trials(storage, storage)
        except BaseException:  # Ctrl-C, or a worker lost: no trial of ours stays RUNNING
            _fail_running(search, storage, study_name, started)
            raise
        return storage
    with tempfile.TemporaryDirectory(prefix="gradwise-tune-") as folder:
        path = os.path.join(folder, "journal.log")
        journal = _journal(path)
        optuna.create_study(storage=journal, study_name=study_name, direction=direction)
        run_trials(path, journal)
        memory = optuna.storages.InMemoryStorage()
        optuna.copy_study(from_study_name=study_name, from_storage=journal, to_storage=memory)
    return memory
