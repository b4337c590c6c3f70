"""Files: model files (one ``.npz`` archive of arrays plus a JSON description; never pickle),
ONNX export, and the atomic writes and path checks every file written by gradwise goes through.

- :mod:`~gradwise.io.files`: :func:`~gradwise.io.files.atomic_write` (a temporary file of the
  target's directory renamed into place with ``os.replace``, so a crash never leaves a
  half-written file) and :func:`~gradwise.io.files.unwritable`.
- :mod:`~gradwise.io.saving`: :func:`save_model` and the file format.
- :mod:`~gradwise.io.loading`: :func:`load_model`, which checks everything before copying in.
- :mod:`~gradwise.io.onnx`: :func:`export_onnx` (needs the optional ``onnx`` package), an ONNX
  file computing ``predict``, with the same atomic write.

Examples
--------
>>> import gradwise as gw
>>> # gw.save_model(model, "digits.npz"); model = gw.load_model("digits.npz")
>>> # gw.io.export_onnx(model, "digits.onnx")
"""
import os  # noqa: F401  (gw.io.os: tests replace os.replace to simulate a failed rename)

from .files import atomic_write, unwritable
from .files import atomic_write as _atomic_write, unwritable as _unwritable  # noqa: F401
from .loading import load_model
from .onnx import export_onnx
from .saving import FORMAT, VERSION, save_model

__all__ = ["export_onnx", "load_model", "save_model"]
