"""The error of a user's table, naming the argument it concerns (so that the command line can
name its own option instead)."""

#: The library's wording of each remedy an error can suggest (``{column}`` is the column).
REMEDIES = {
    "impute": "; fill or drop missing values first, or read the file with impute=True and "
              "fill them (fill_values, complete)",
    "no-fills": "; fill or drop missing values first: the model was trained without "
                "imputation, so it has no values to fill them with",
    "drop": "; leave it out (drop=[{column!r}])",
    "not-saved": " (it lacks the column encoding)",
    "stray": "; fix those cells, read them as missing values (impute=True), or read the "
             "column as categories (categorical=[{column!r}])",
    "encoding": "; read it with its text encoding, such as encoding='latin-1'",
    "utf-16": "; read it with encoding='utf-16'",
    "utf-32": "; read it with encoding='utf-32'",
    "identifier": "; leave it out (drop=[{column!r}]) unless it carries meaning",
    "other-study": "; use another study_name",
    "table-not-model": "; a table is the data a model predicts, not a model file",
}


#: The characters of a cell a message shows; a longer cell is cut (a field may be megabytes).
SHOWN_CHARACTERS = 40


def shown_cell(text):
    """``repr(text)`` for a message, a cell longer than :data:`SHOWN_CHARACTERS` cut with its
    length given: ``'99999999'… (200,000 characters)``."""
    text = str(text)
    if len(text) <= SHOWN_CHARACTERS:
        return repr(text)
    return f"{text[:SHOWN_CHARACTERS]!r}… ({len(text):,} characters)"


class TableError(ValueError):
    """A table, or an argument describing it (or another input: a stored study), that cannot
    be used.

    ``str(error)`` reads ``"<argument>: <detail><remedy>"``, with the name of the library's own
    argument (``path``, ``target``, ``drop``, ``categorical``, ``data``, ``X``); the command line
    puts its option name in its place and words the remedy with its options.

    Attributes
    ----------
    argument : str
        The argument the error concerns.
    detail : str
        What is wrong, naming the column, the file and its line.
    remedy : str or None
        A key of :data:`REMEDIES`: what the user can do.
    column : str or None
        The column the remedy concerns.
    """

    def __init__(self, argument, detail, remedy=None, column=None):
        self.argument, self.detail, self.remedy, self.column = argument, detail, remedy, column
        super().__init__(self.worded(argument, REMEDIES))

    def worded(self, name, remedies):
        """The message with ``name`` for the argument and ``remedies`` for the remedy's words."""
        remedy = remedies[self.remedy].format(column=self.column) if self.remedy else ""
        end = "" if self.detail.endswith((".", "?", "!")) and not remedy else "."
        return f"{name}: {self.detail.rstrip('.') if remedy else self.detail}{remedy}{end}"


class TableWarning(UserWarning):
    """Something about a table worth knowing that does not stop the work (rows left out, an
    identifier-like column, cells read as missing), issued with :func:`warnings.warn`.

    As with :class:`TableError`, ``remedy`` (a key of :data:`REMEDIES`) and ``column`` let the
    command line word the remedy with its options; ``kind`` is ``"warning"`` or ``"note"``."""

    def __init__(self, detail, remedy=None, column=None, kind="warning"):
        self.detail, self.remedy, self.column, self.kind = detail, remedy, column, kind
        super().__init__(self.worded(REMEDIES))

    def worded(self, remedies):
        """The message with ``remedies`` for the remedy's words."""
        remedy = remedies[self.remedy].format(column=self.column) if self.remedy else ""
        return f"{self.detail.rstrip('.')}{remedy}."


def warn(detail, remedy=None, column=None, kind="warning"):
    """Issue a :class:`TableWarning` pointing at the caller's caller."""
    import warnings
    warnings.warn(TableWarning(detail, remedy, column, kind), stacklevel=3)
