"""What the command checks before any work, and how it ends: one ``gradwise: error:`` line.

:func:`check_paths` refuses, before any data is read, an output that is the same file as an
input (compared by resolved path and, for existing files, by device and inode), an output named
twice, and an output that cannot be written (a directory, a missing or read-only directory, a
device such as ``/dev/stdout``). :func:`run` runs a command and turns every failure into one
line on standard error: exit status 2 for bad input (the user can fix the command or the
file), 1 for a failure while running, 130 for Ctrl-C, 143 for SIGTERM (a scheduler stopping
the job, ``kill``); ``--debug`` adds the traceback.
"""
import errno
import math
import os
import signal
import sys
import threading
import time

from ..io.files import unwritable
from ..tabular.errors import shown_cell as shown  # a value in a message, cut short

#: Options that name files read, and files written, by some command.
INPUTS = ("data", "test_data", "dev_data", "model", "init_from")
OUTPUTS = ("out", "save", "report", "onnx")

#: Exit statuses.
BAD_INPUT, FAILED, INTERRUPTED, TERMINATED = 2, 1, 130, 143


class Terminated(KeyboardInterrupt):
    """SIGTERM while a command runs. A ``KeyboardInterrupt``, so that whatever cleans up after
    Ctrl-C (a temporary file removed, the trials of a stored study marked FAILED) cleans up
    after it too."""


#: The optional packages a command or option needs, checked before any work:
#: (option, command, package, message).
_OPTIONAL = [("report", None, "matplotlib", "--report: the HTML report draws its plots with "
              'matplotlib, which is not installed: pip install "gradwise[report]" (or '
              "matplotlib)."),
             (None, "tune", "optuna", 'Hyperparameter tuning needs Optuna: pip install '
              '"gradwise[tune]" (or pip install optuna).'),
             (None, "export", "onnx", 'ONNX export needs the onnx package: pip install '
              '"gradwise[onnx]" (or onnx).')]


def check_optional_packages(args):
    """Refuse, before reading data or training, an option whose optional package is missing."""
    import importlib.util
    for option, command, package, message in _OPTIONAL:
        wanted = getattr(args, option, None) if option else args.command == command
        if wanted and importlib.util.find_spec(package) is None:
            raise ImportError(message)


def seed(text):
    """argparse type: a seed, an integer from 0 to 2**32 - 1."""
    import argparse
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to 4294967295, "
                                         f"received {shown(text)}")
    return value


#: Float32 copies of the weights that training with Adam holds: weights, gradients, two moments.
_TRAINING_COPIES = 4


def check_network_size(widths, option="--hidden"):
    """Refuse, before allocating it, a network of layer ``widths`` (input, hidden..., output)
    whose training would not fit in this machine's memory; the message gives its size."""
    weights = sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))
    needed = weights * 4 * _TRAINING_COPIES
    memory = _physical_memory()
    if memory is not None and needed > memory:
        raise ValueError(
            f"{option}: a network {'-'.join(map(str, widths))} has {weights:,} weights "
            f"({weights * 4:,} bytes as float32); training it needs about {needed:,} bytes "
            f"(weights, gradients and Adam's two moments), more than this machine's "
            f"{memory:,} bytes of memory. Use fewer or narrower layers.")
    return weights


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_storage(url):
    """Refuse a ``tune --storage`` URL that Optuna cannot open, before any data is read."""
    if url is None:
        return
    if "://" not in url:
        raise ValueError(f"--storage: expected a database URL such as sqlite:///tune.db or "
                         f"postgresql://user@host/db, received {url!r}.")
    from ..tuning._study import check_database
    check_database(url, "--storage")


def capped_jobs(jobs):
    """``tune --jobs``, at most the number of cores (with a note when capped)."""
    cores = os.cpu_count() or 1
    if jobs > cores:
        print(f"gradwise: note: --jobs {jobs} capped at {cores}, the number of cores "
              "(more processes than cores only share them).", file=sys.stderr)
        return cores
    return jobs


class Diverged(RuntimeError):
    """Training stopped because the loss became NaN or infinite."""


def check_converged(history, model, learning_rate=None):
    """Raise :class:`Diverged` when a loss in ``history`` or a weight is not finite (the
    engine stops on a non-finite training loss; this also catches the dev loss)."""
    import numpy as np
    for key in ("loss", "val_loss"):
        values = history.history.get(key) or []
        bad = [i for i, v in enumerate(values) if not np.isfinite(v)]
        if bad:
            what = f"the {'dev' if key == 'val_loss' else 'training'} loss became " \
                   f"{values[bad[0]]} at epoch {bad[0] + 1}"
            break
    else:
        if all(np.isfinite(w).all() for w in model.get_weights(include_state=True)):
            return
        what = "the weights became NaN or infinite"
    raise diverged(what, learning_rate)


def diverged(what, learning_rate=None):
    """The :class:`Diverged` error for a run where ``what`` happened, in the command's words."""
    rate = "" if learning_rate is None else f" (--learning-rate {learning_rate:g})"
    smaller = "" if learning_rate is None else f", e.g. --learning-rate {learning_rate / 10:g}"
    return Diverged(f"training diverged: {what}; nothing was saved. Likely cause: a learning "
                   f"rate too large{rate}: try a smaller one{smaller}; or inputs with extreme "
                   "values that standardization cannot tame (check the data for huge numbers).")


def _option(dest):
    return "--" + dest.replace("_", "-")


def _same_file(a, b):
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def check_paths(args):
    """Refuse outputs that would destroy an input or each other, or cannot be written (a
    SQLite study database, ``tune --storage``, counts as both: it is read and written), and
    an empty file name (``--save ''`` wrote nothing and said nothing; ``--init-from ''`` was
    ignored)."""
    for dest in INPUTS + OUTPUTS:
        if getattr(args, dest, None) == "":
            raise ValueError(f"{_option(dest)}: expected a file name, received ''.")
    inputs = [(_option(d), getattr(args, d)) for d in INPUTS if getattr(args, d, None)]
    outputs = [(_option(d), getattr(args, d)) for d in OUTPUTS if getattr(args, d, None)]
    storage = getattr(args, "storage", None)
    database = None
    if storage is not None:
        from ..tuning._study import sqlite_file
        database = sqlite_file(storage)
    if database is not None:
        for source, read in inputs:
            if _same_file(database, read):
                raise ValueError(f"--storage: {database!r} is the file given to {source}; the "
                                 "study would be written into it. Choose another file name.")
        inputs.append(("--storage", database))
    for index, (option, path) in enumerate(outputs):
        for source, read in inputs:
            if _same_file(path, read):
                raise ValueError(f"{option}: {path!r} is the file given to {source}; writing it "
                                 "would destroy that input. Choose another file name.")
            if _inside(path, read):  # a folder of Parquet files: its files are the input
                raise ValueError(f"{option}: {path!r} is inside the folder given to {source}, "
                                 "whose files are that input; write it outside the folder.")
        for other, written in outputs[:index]:
            if _same_file(path, written):
                raise ValueError(f"{option}: {path!r} is also given to {other}; each output "
                                 "needs a file of its own.")
        problem = unwritable(path)
        if problem:
            raise ValueError(f"{option}: {problem}.")
    check_held_out(args)


#: Share of the machine's memory that ``--memory-budget`` takes by default.
DEFAULT_SHARE = 0.25


def parse_budget(text):
    """Bytes of a ``--memory-budget`` such as ``2G``, ``500M`` or ``800000000``; None for the
    default (a quarter of the machine's memory)."""
    if text is None:
        try:
            return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * DEFAULT_SHARE)
        except (ValueError, OSError, AttributeError):
            return 4 << 30
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    given, text = text, str(text).strip().upper().rstrip("B")
    scale = units.get(text[-1:], 1)
    try:
        value = float(text[:-1] if text[-1:] in units else text) * scale
    except ValueError:
        value = -1
    if not 1 <= value < math.inf:  # NaN, infinity, and sizes below a byte too
        raise ValueError(f"--memory-budget: expected a size such as 2G or 500M, received "
                         f"{shown(given)}.")
    return int(value)


def column_names(text):
    """Column names from a comma-separated option (None: none)."""
    return [name.strip() for name in (text or "").split(",") if name.strip()]


def check_options(args):
    """Refuse, before any file is read, a ``--memory-budget`` that is not a size, and a column
    named by both ``--drop`` and ``--categorical`` (a column left out is not encoded: one of
    the two would be ignored)."""
    if getattr(args, "memory_budget", None) is not None:
        parse_budget(args.memory_budget)
    dropped = set(column_names(getattr(args, "drop", None)))
    both = [name for name in column_names(getattr(args, "categorical", None))
            if name in dropped]
    if both:
        raise ValueError(f"--categorical: {shown(both[0])} is also given to --drop; a column "
                         "left out is not encoded: name it in one of them.")


#: Why a dev or test file must not be another split's file.
_HELD_OUT = {
    ("--dev-data", "--data"): "the network would stop on, and be chosen by, rows it trains on",
    ("--test-data", "--data"): "the test score would be measured on rows the network trains on",
    ("--test-data", "--dev-data"): "the dev set chooses the weights kept (early stopping), so "
                                   "only other rows give an unbiased test score",
}


def check_held_out(args):
    """Refuse a ``--dev-data`` without a ``--test-data``, and either file when it is the
    ``--data`` file or the other one: held-out rows must be rows the run neither trains on nor
    chooses by."""
    if getattr(args, "dev_data", None) and not getattr(args, "test_data", None):
        raise ValueError("--dev-data: give --test-data too (the test set should come from the "
                         "same distribution as the dev set).")
    given = [(_option(d), getattr(args, d)) for d in ("data", "dev_data", "test_data")
             if isinstance(getattr(args, d, None), str)]
    for index, (option, path) in enumerate(given):
        for other, earlier in given[:index]:
            if _same_file(path, earlier):
                raise ValueError(f"{option}: {path!r} is also the {other} file: "
                                 f"{_HELD_OUT[option, other]}; give rows held out of it.")
            if _inside(path, earlier):  # a file of a folder of Parquet files
                raise ValueError(f"{option}: {path!r} is one of the files of the {other} "
                                 f"folder: {_HELD_OUT[option, other]}; give rows held out "
                                 "of it.")


def _inside(path, folder):
    """True when ``path`` lies inside the directory ``folder``."""
    if not os.path.isdir(folder):
        return False
    inner, outer = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([inner, outer]) == outer and inner != outer


def run(command, args, message=str):
    """Run ``command(args)``; return the exit status (the command's, when it returns an
    integer; else 0), printing one line for any failure.

    ``message(error)`` words a bad-input error for the command line. Bad input (ValueError,
    TypeError, a missing optional package, a file that cannot be read) exits with 2; any other
    failure, including running out of memory, with 1; Ctrl-C with 130; SIGTERM with 143.

    The command's arrays are allocated on ordinary pages (:func:`gradwise.tabular.arrays.
    small_pages`): its large arrays (the table, its splits, each epoch's shuffled copy) are
    written once and read in order, which huge pages do not speed up, and the first write to
    each would wait for the kernel to compact memory (a 1M-row ``train`` ran about 1 s, 6%,
    faster without, in three alternated pairs).
    """
    debug = getattr(args, "debug", False)
    ctrl_c = _CtrlC()
    try:
        ctrl_c.start()
        check_paths(args)
        check_options(args)
        check_optional_packages(args)
        from ..tabular.arrays import small_pages
        with small_pages():  # a command writes its large arrays once: no compaction stalls
            status = command(args)
    except Terminated:
        _say("terminated (SIGTERM); nothing was written after it.", debug)
        return TERMINATED
    except KeyboardInterrupt:
        _say("interrupted (Ctrl-C); nothing was written after the interruption.", debug)
        return INTERRUPTED
    except BrokenPipeError:  # the reader left (gradwise ... | head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return FAILED
    except (ValueError, TypeError, ImportError) as error:
        _say(message(error), debug)
        return BAD_INPUT
    except (FileNotFoundError, IsADirectoryError, PermissionError, UnicodeDecodeError) as error:
        _say(_os_message(error), debug)
        return BAD_INPUT
    except (Diverged, FloatingPointError) as error:  # FloatingPointError: gw.TrainingDiverged
        _say(message(error), debug)
        return FAILED
    except MemoryError:
        _say("out of memory; use a smaller network (--hidden), fewer rows or a smaller "
             "--batch-size.", debug)
        return FAILED
    except OSError as error:
        if error.errno == errno.ENOSPC:  # worded by io.files.atomic_write, naming the output
            _say(_os_message(error), debug)
        else:
            _say(f"{_os_message(error)} ({type(error).__name__}; run with --debug for the "
                 "traceback)", debug)
        return FAILED
    except Exception as error:  # noqa: BLE001 - the last line of defence: no traceback
        _say(f"{error or ''} "
             f"({type(error).__name__}; run with --debug for the traceback)".strip(), debug)
        return FAILED
    finally:
        ctrl_c.stop()
    return status if isinstance(status, int) and not isinstance(status, bool) else 0


#: Modules whose code must finish once started: a ``KeyboardInterrupt`` raised inside them
#: leaves a study's storage half-written (SQLAlchemy's session closed mid-commit), and Optuna's
#: next write then fails with an error of its own ("Should not reach.", "StorageInternalError")
#: instead of the interruption, with a trial left RUNNING.
UNINTERRUPTED = ("sqlalchemy", "optuna.storages", "optuna.study._tell")

#: Seconds Ctrl-C waits at most for the code above to finish (a database that hangs).
DEFER_SECONDS = 5.0

#: Seconds between a Ctrl-C put off (or lost) and the signal sent again.
RESEND_SECONDS = 0.01


class _CtrlC:
    """How a command handles Ctrl-C (SIGINT) and SIGTERM while it runs.

    Python's own handler raises ``KeyboardInterrupt`` wherever the main thread is; SIGTERM,
    left to the system, ends the process at once, leaving its temporary files and the trials
    it was running in a stored study RUNNING for good. Here SIGTERM raises :class:`Terminated`
    (a ``KeyboardInterrupt``: the same clean-up). Two places need more:

    - inside a study's storage (:data:`UNINTERRUPTED`, on the main thread's stack) the signal
      is put off: sent again a moment later, until it lands outside (at most
      :data:`DEFER_SECONDS`);
    - a ``KeyboardInterrupt`` raised while Python runs a finalizer or a weak reference's
      callback (the garbage collector's work, at any moment of training) cannot propagate:
      Python prints "Exception ignored in ..." and carries on, and the command would train on
      as if Ctrl-C had never come. The signal is sent again too.

    The signal is sent again from another thread (sent from the handler or the hook, it would
    be handled there). Once the command has ended, none is sent and a late one is dropped.
    """

    #: The signals handled, each with what it raises and the handler it replaces (Python's
    #: own, or the system's default): a signal ignored or handled by the caller (a command
    #: started in the background of a shell ignores SIGINT) is left as it is.
    SIGNALS = {signal.SIGINT: (KeyboardInterrupt, signal.default_int_handler),
               signal.SIGTERM: (Terminated, signal.SIG_DFL)}

    def __init__(self):
        self.lock = threading.Lock()
        self.stopped = False
        self.first = {}  # signal put off: when it first came
        self.previous = {}  # signal: the handler replaced
        self.previous_hook = None

    def start(self):
        self.previous_hook = sys.unraisablehook
        sys.unraisablehook = self.hook
        if threading.current_thread() is not threading.main_thread():
            return
        for number, (_, replaced) in self.SIGNALS.items():
            if signal.getsignal(number) is replaced:
                self.previous[number] = signal.signal(number, self.handler)

    def stop(self):
        with self.lock:
            self.stopped = True
        for number, handler in self.previous.items():
            signal.signal(number, handler)
        if self.previous_hook is not None:
            sys.unraisablehook = self.previous_hook

    def handler(self, signum, frame):
        """SIGINT or SIGTERM: ``KeyboardInterrupt`` or :class:`Terminated`, unless the command
        has ended (dropped) or the main thread is in a study's storage (put off)."""
        if self.stopped:
            return
        now = time.monotonic()
        first = self.first.setdefault(signum, now)
        if now - first < DEFER_SECONDS and _in_modules(frame, UNINTERRUPTED):
            self.send_again(signum)
            return
        self.first.pop(signum, None)
        raise self.SIGNALS[signum][0]

    def hook(self, unraisable):
        """``sys.unraisablehook``: a dropped ``KeyboardInterrupt`` (or :class:`Terminated`) is
        sent again; any other exception goes to the previous hook."""
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type,
                                                          KeyboardInterrupt):
            self.send_again(signal.SIGTERM if issubclass(unraisable.exc_type, Terminated)
                            else signal.SIGINT)
            return
        self.previous_hook(unraisable)

    def send_again(self, signum):
        again = threading.Timer(RESEND_SECONDS, self._kill, (signum,))
        again.daemon = True
        again.start()

    def _kill(self, signum):
        with self.lock:
            if not self.stopped:
                os.kill(os.getpid(), signum)


def _in_modules(frame, prefixes):
    """Whether a frame of ``frame``'s stack runs code of a module named by ``prefixes`` (or of
    a module inside one)."""
    while frame is not None:
        name = frame.f_globals.get("__name__") or ""
        if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
            return True
        frame = frame.f_back
    return False


def _os_message(error):
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    return str(error)


def _say(text, debug):
    """Print the error's one line: a message of several lines (a library's own, passed on by
    the last line of defence) is joined into one."""
    if debug:
        import traceback
        traceback.print_exc()
    text = " ".join(line.strip() for line in str(text).splitlines() if line.strip())
    print(f"gradwise: error: {text}", file=sys.stderr)
