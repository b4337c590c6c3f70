"""The arguments of a ``gradwise train`` command line, parsed by the command's own parser."""
from gradwise.cli import _parser


def train_args(*argv):
    """``gradwise train ARGV`` as the command's functions receive it."""
    return _parser().parse_args(["train", *argv])
