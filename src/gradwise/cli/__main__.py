"""``python -m gradwise.cli``: the same as ``gradwise``."""
import sys

from . import main

sys.exit(main())
