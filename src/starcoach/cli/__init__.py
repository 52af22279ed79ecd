"""The ``starcoach`` command. Each command: parse -> one library call -> render.

One module per group of commands; importing them registers their commands on ``app``.
"""

from __future__ import annotations

from . import analyze, record, takes, review  # noqa: F401, I001 - registers the commands, in help order
from ..asr.whisper_model import native_settings
from .common import app


def main() -> None:
    native_settings()
    app()
