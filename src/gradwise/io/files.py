"""Writing files safely: atomic writes (a temporary file of the target's directory, synced,
then renamed into place with ``os.replace``) and the check that a path can be written, made
before any work whose result would go there."""
import errno
import os
import re
import tempfile

__all__ = ["atomic_write", "check_writable", "unwritable"]


def unwritable(path):
    """Why ``path`` cannot be written by :func:`atomic_write` (a temporary file in its directory
    renamed into place), or None; checked before any work whose result would go there."""
    if os.path.isdir(path):
        return f"{path!r} is a directory; give a file name"
    if os.path.exists(path) and not os.path.isfile(path):
        return f"{path!r} is not a regular file (a device or pipe); give a file name"
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        return f"the directory of {path!r} does not exist"
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"the directory of {path!r} is not writable"
    try:  # the permission bits do not tell all (root, read-only or special file systems)
        handle, probe = tempfile.mkstemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-", dir=directory)
    except OSError as error:
        return f"the directory of {path!r} is not writable ({error.strerror or error})"
    os.close(handle)
    os.unlink(probe)
    return None


def check_writable(path, argument="path"):
    """``path`` as a str, after refusing one :func:`atomic_write` could not write (naming
    ``argument``): not a file name (``TypeError``), a directory (``IsADirectoryError``), a
    missing or unwritable directory (``FileNotFoundError``)."""
    if not isinstance(path, (str, os.PathLike)) or not isinstance(os.fspath(path), str):
        raise TypeError(f"{argument}: expected a str or os.PathLike file name, received "
                        f"{path!r}.")
    path = os.fspath(path)
    problem = unwritable(path)
    if problem:
        error = IsADirectoryError if os.path.isdir(path) else FileNotFoundError
        raise error(f"{argument}: {problem}.")
    return path


def atomic_write(path, write, suffix=""):
    """Call ``write(file)`` on a temporary file of ``path``'s directory, then rename it to ``path``.

    The temporary file is flushed and synced before ``os.replace``, and removed if anything
    fails (including ``KeyboardInterrupt``), so ``path`` is either untouched or complete; a
    disk that fills up raises ``OSError`` ``ENOSPC`` naming ``path``. The temporary's name
    carries the writer's process id (``.tmp-gradwise-<pid>-...``): a writer killed
    outright (SIGKILL, power loss) cannot remove it, so each write first removes the
    temporaries of writers no longer running.
    """
    if os.path.isdir(path):  # os.replace would fail only after the whole write
        raise IsADirectoryError(errno.EISDIR, "is a directory; give a file name", path)
    directory = os.path.dirname(os.path.abspath(path))
    _remove_stale_temporaries(directory)
    handle, tmp = tempfile.mkstemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-", suffix=suffix,
                                   dir=directory)
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        if os.path.exists(tmp):
            os.remove(tmp)
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            raise OSError(errno.ENOSPC, "the disk filled up while writing it; nothing was "
                                        "written (free some space, or write it to another disk)",
                          path) from None
        raise

_TMP_PREFIX = ".tmp-gradwise-"

_TMP_NAME = re.compile(re.escape(_TMP_PREFIX) + r"(\d+)-")

def _remove_stale_temporaries(directory):
    """Remove ``directory``'s temporaries whose writing process (same machine) has ended."""
    try:
        names = [n for n in os.listdir(directory) if n.startswith(_TMP_PREFIX)]
    except OSError:
        return
    for name in names:
        match = _TMP_NAME.match(name)
        if match is None or _process_alive(int(match.group(1))):
            continue
        try:
            os.remove(os.path.join(directory, name))
        except OSError:  # another writer removed it first, or no permission: leave it
            pass

def _process_alive(pid):
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists but is someone else's, or cannot tell: keep its file
    return True

def _umask():
    mask = os.umask(0)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask
