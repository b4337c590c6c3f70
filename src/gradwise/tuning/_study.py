"""Optuna plumbing: the optional import, samplers, the pruner, the study's
database (checked, with heartbeats) and Optuna's log."""
import contextlib
import dataclasses
import os
import re
import warnings

from ._seeds import SAMPLER_STREAM, WORKER_STREAM, derive_seed

STUDY_NAME = "gradwise-tune"


def import_optuna():
    """Import Optuna, or say how to install it."""
    try:
        import optuna
    except ImportError:
        raise ImportError('Hyperparameter tuning needs Optuna: pip install "gradwise[tune]" '
                          '(or pip install optuna).') from None
    return optuna


SAMPLERS = ("bayesian", "random", "gp")
PRUNERS = ("median", "hyperband", "successive_halving")
STRATEGIES = ("direct", "coarse_to_fine")


def startup_trials(n_trials):
    """Random trials before TPE models the results: a third of the budget, from 2 to 10."""
    return max(2, min(10, n_trials // 3))


@dataclasses.dataclass
class Plan:
    """How a search draws and stops its trials; picklable, so that worker processes make the
    same sampler and pruner.

    ``narrowed`` (the fine stage of coarse to fine) maps a parameter to the Optuna
    distribution its values are drawn from instead of the space's, or to ``("fixed", value)``.
    """

    sampler: str
    pruner: object  # a name of PRUNERS, or None for no pruning
    n_trials: int
    seed: int
    verbose: int
    study_name: str
    epochs: int
    n_dims: int
    narrowed: dict = None

    def worker_sampler(self, index):
        """The sampler of worker task ``index``. A random search draws each trial from the
        seed and the trial's number alone (the same trials as in one process); the samplers
        that model the results get a seed per task, so that workers started together do not
        propose the same point."""
        if self.sampler == "random":
            return self.make_sampler(derive_seed(self.seed, SAMPLER_STREAM))
        return self.make_sampler(derive_seed(self.seed, WORKER_STREAM, index))

    def make_sampler(self, seed):
        """The sampler, seeded by ``seed`` (see :func:`make_sampler`), narrowed if asked."""
        sampler = make_sampler(self.sampler, seed, self.n_trials, self.n_dims)
        if self.narrowed:
            from ._narrowed import NarrowedSampler
            sampler = NarrowedSampler(sampler, self.narrowed)
        return sampler

    def make_pruner(self):
        return make_pruner(self.pruner, self.epochs)


def make_sampler(kind, seed, n_trials, n_dims=1):
    """``"random"``: Optuna's RandomSampler, each trial drawn from ``seed`` and its number
    (:class:`~gradwise.tuning._random.TrialSeededRandomSampler`); ``"bayesian"``: its TPE sampler, with Optuna's
    default (independent, univariate) density models after ``startup_trials`` random trials;
    ``"gp"``: :class:`~gradwise.tuning.GPSampler` after ``max(5, 2 * n_dims)`` random trials."""
    optuna = import_optuna()
    if kind == "random":
        from ._random import TrialSeededRandomSampler
        return TrialSeededRandomSampler(seed=seed)
    if kind == "gp":
        from ._gp import GPSampler
        return GPSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials(n_trials))


def make_pruner(pruner, epochs=None):
    """Optuna's pruner named ``pruner`` (None: no pruning).

    ``"median"``: once 5 trials have completed, a trial whose best value so far at an epoch
    (the second or later) is worse than the median of the completed trials' values at that
    epoch is stopped. ``"successive_halving"``: asynchronous successive halving from 1 epoch
    (reduction factor 3: at epochs 1, 3, 9, ... only the best third of the trials that reached
    the rung go on). ``"hyperband"``: several successive-halving brackets, from 1 to ``epochs``
    epochs, each trial in one bracket.
    """
    optuna = import_optuna()
    if pruner is None:
        return optuna.pruners.NopPruner()
    if pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs or "auto",
                                              reduction_factor=3)
    if pruner == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)


#: Seconds between the heartbeats of a trial of a study kept in a database (Optuna's
#: ``heartbeat_interval``), and seconds without one after which another search on the study
#: marks the trial FAILED (``grace_period``): the trials of a process that died (killed, its
#: machine lost) would otherwise stay RUNNING in a shared study for good. Generous, since a
#: trial marked FAILED while its process lives cannot report its result.
HEARTBEAT_SECONDS = 60
GRACE_SECONDS = 300


def database_storage(url):
    """Optuna's storage of the database at ``url``, with heartbeats: each search, before each
    trial it starts, marks FAILED the study's trials RUNNING without a heartbeat for
    :data:`GRACE_SECONDS`."""
    optuna = import_optuna()
    with warnings.catch_warnings():  # "an experimental feature" since Optuna 2.9 (2021)
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(url, heartbeat_interval=HEARTBEAT_SECONDS,
                                          grace_period=GRACE_SECONDS)


def check_database(url, argument="storage"):
    """Refuse, before any work, a database URL that cannot be opened, naming ``argument``:
    SQLAlchemy missing, a URL it cannot parse, a driver not installed, a SQLite file whose
    folder does not exist or that is not a database (a SQLite file that does not exist yet is
    made by the search), a server that does not answer (10 s at most for PostgreSQL). The
    password is never shown."""
    try:
        import sqlalchemy
        from sqlalchemy.engine import make_url
    except ImportError:
        raise ImportError(f'{argument}: needs SQLAlchemy (comes with Optuna): pip install '
                          f'"gradwise[tune]".') from None
    try:
        parsed = make_url(url)
        parsed.get_dialect()
    except Exception as error:  # noqa: BLE001 - SQLAlchemy raises several kinds
        raise ValueError(f"{argument}: cannot use {url!r}: {database_message(error)} (expected "
                         f"sqlite:///FILE.db, postgresql://..., mysql://...).") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory":
            raise ValueError(f"{argument}: {url!r} is a SQLite database in memory: it keeps "
                             f"nothing once the search ends, and the heartbeat thread and "
                             f"worker processes cannot open it; give a file "
                             f"(sqlite:///study.db), or leave {argument} out for a study kept "
                             f"in memory.")
        database = _database_file(parsed)
        if database is not None:
            _check_sqlite_file(database, argument)
        return
    shown = parsed.render_as_string(hide_password=True)
    timeout = {"connect_timeout": 10} if parsed.get_backend_name() == "postgresql" else {}
    try:
        engine = sqlalchemy.create_engine(parsed, poolclass=sqlalchemy.pool.NullPool,
                                          connect_args=timeout)
    except ImportError as error:
        remedy = ('pip install "gradwise[postgres]"' if parsed.get_backend_name() == "postgresql"
                  else "install the package that provides it")
        raise ImportError(f"{argument}: the driver of {parsed.drivername} databases is missing "
                          f"({error}): {remedy}.") from None
    try:
        with engine.connect():
            pass
    except sqlalchemy.exc.SQLAlchemyError as error:
        raise ValueError(f"{argument}: cannot connect to {shown}: "
                         f"{database_message(error)}") from None
    finally:
        engine.dispose()


def sqlite_file(url):
    """The file of the SQLite database at ``url``; None for another database, one in memory,
    or a URL that SQLAlchemy (installed or not) cannot parse."""
    try:
        from sqlalchemy.engine import make_url
        return _database_file(make_url(url))
    except Exception:  # noqa: BLE001 - not a URL of a file: check_database says why
        return None


def _database_file(parsed):
    database = parsed.database
    if (parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:")
            or database.startswith("file:")):
        return None
    return database


def _check_sqlite_file(database, argument):
    import sqlite3
    path = os.path.abspath(database)
    if not os.path.isdir(os.path.dirname(path)):
        raise ValueError(f"{argument}: the directory of the database {database!r} does not "
                         f"exist.")
    if os.path.isdir(path):
        raise ValueError(f"{argument}: {database!r} is a directory, not a database file.")
    if not os.path.exists(path):
        return
    from urllib.parse import quote
    try:  # read only: the check writes nothing
        with contextlib.closing(sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True,
                                                timeout=5)) as db:
            db.execute("PRAGMA schema_version").fetchone()
    except sqlite3.Error as error:
        raise ValueError(f"{argument}: {database!r} is not a database SQLite can open "
                         f"({error}).") from None


def database_message(error):
    """SQLAlchemy's error in one line: the database's own message, without the statement and
    the link SQLAlchemy adds."""
    return " ".join(str(getattr(error, "orig", None) or error).split())


@contextlib.contextmanager
def optuna_logging(verbose):
    """Optuna's per-trial INFO lines only when ``verbose >= 2``; warnings always, except those
    of a trial stopped by Ctrl-C (see :class:`_DropInterrupted`)."""
    optuna = import_optuna()
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO if verbose >= 2 else optuna.logging.WARNING)
    handlers = optuna.logging.get_logger("optuna").handlers
    drop = _DropInterrupted()
    for handler in handlers:
        handler.addFilter(drop)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(previous)
        for handler in handlers:
            handler.removeFilter(drop)


class _DropInterrupted:
    """Logging filter: leaves out Optuna's two warnings for a trial stopped by Ctrl-C: "Trial N
    failed with parameters ... because of the following error" (with the traceback of the
    interrupted training) and the "Trial N failed with value None." that follows it. The
    interruption itself is reported by whoever catches it, in one line."""

    _FOLLOW_UP = re.compile(r"Trial (\d+) failed with value ")
    _FIRST = re.compile(r"Trial (\d+) failed")

    def __init__(self):
        self.interrupted = set()  # numbers of the trials stopped by Ctrl-C

    def filter(self, record):
        if (record.exc_info and record.exc_info[0] is not None
                and issubclass(record.exc_info[0], KeyboardInterrupt)):
            first = self._FIRST.match(record.getMessage())
            if first:
                self.interrupted.add(first.group(1))
            return False
        follow_up = self._FOLLOW_UP.match(record.getMessage())
        return not (follow_up and follow_up.group(1) in self.interrupted)
