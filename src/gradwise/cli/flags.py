"""The command's option names in the errors of the table reader (:mod:`gradwise.tabular`),
which name the library's own arguments."""
import contextlib

from ..tabular.errors import TableError, TableWarning

#: The option that gives each argument of the table reader, unless a call says otherwise.
OPTIONS = {"path": "--data", "data": "--data", "X": "--data", "target": "--target",
           "drop": "--drop", "categorical": "--categorical", "encoding": "--encoding",
           "study_name": "--study"}

#: The command's wording of each remedy (see :data:`gradwise.tabular.errors.REMEDIES`).
REMEDIES = {
    "impute": "; fill or drop missing values first, or impute them with --impute median",
    "no-fills": "; fill or drop missing values first: the model was trained without --impute, "
                "so it has no values to fill them with",
    "drop": "; leave it out with --drop {column}",
    "not-saved": " with --save (it lacks the column encoding)",
    "stray": "; fix those cells, read them as missing values with --impute median, or read "
             "the column as categories with --categorical {column}",
    "encoding": "; give its text encoding, such as --encoding latin-1",
    "utf-16": "; give --encoding utf-16",
    "utf-32": "; give --encoding utf-32",
    "identifier": "; leave it out with --drop {column} unless it carries meaning",
    "other-study": "; give another --study name",
    "table-not-model": "; a CSV is passed with --data, not as a model",
}


def message(error, **options):
    """The text of ``error`` for the command line: a :class:`TableError` with the option that
    gave its argument (``options`` maps arguments to options for this call), others as they
    are."""
    if not isinstance(error, TableError):
        return str(error)
    option = {**OPTIONS, **options}.get(error.argument, error.argument)
    return error.worded(option, REMEDIES)


def show_warning(message, category, filename, lineno, file=None, line=None, _default=None):
    """``warnings.showwarning`` for the command: a :class:`TableWarning` as one line,
    ``gradwise: warning: ...`` (or ``note``) with the command's option names."""
    import sys
    if isinstance(message, TableWarning):
        print(f"gradwise: {message.kind}: {message.worded(REMEDIES)}", file=file or sys.stderr)
    elif _default is not None:
        _default(message, category, filename, lineno, file, line)


@contextlib.contextmanager
def table_warnings():
    """Show every :class:`TableWarning` raised inside with :func:`show_warning`."""
    import functools
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("always", TableWarning)
        warnings.showwarning = functools.partial(show_warning, _default=warnings.showwarning)
        yield


@contextlib.contextmanager
def options(**names):
    """Reword the :class:`TableError` raised inside with the command's option names, e.g.
    ``with options(path="--dev-data"):``."""
    try:
        yield
    except TableError as error:
        raise ValueError(message(error, **names)) from None
