"""The ``starcoach`` command. Each command: parse -> one library call -> render.

One module per group of commands; importing them registers their commands on ``app``.
"""

from __future__ import annotations

import os
import signal
import threading


def _interrupted_while_starting(signum, frame) -> None:
    """Ctrl+C before the commands can say it (importing them takes 0.1-0.3 s): a traceback from
    deep inside an import, an audit saw; now the same line and exit status as later."""
    os.write(2, b"starcoach: interrupted\n")
    os._exit(130)


_interrupted_while_starting.early = True  # type: ignore[attr-defined]  # common._run gives Python's back

# Only where Python would raise KeyboardInterrupt (not when SIGINT is ignored, as in a background job), and
# only in the main thread (the only one that may set a handler). After the imports Python's own is back, for
# whoever imports the commands (a test runner); main() sets it again until the command's own handling runs.
_EARLY = threading.current_thread() is threading.main_thread() and \
    signal.getsignal(signal.SIGINT) is signal.default_int_handler
if _EARLY:
    signal.signal(signal.SIGINT, _interrupted_while_starting)
try:
    from . import analyze, record, takes, review  # noqa: E402, F401, I001 - registers the commands, in help order
    from ..asr.whisper_model import native_settings  # noqa: E402
    from .common import app  # noqa: E402
    from .signals import end_quietly  # noqa: E402
finally:
    if _EARLY:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main() -> None:
    if _EARLY:  # typer builds the commands before they can catch Ctrl+C themselves
        signal.signal(signal.SIGINT, _interrupted_while_starting)
    native_settings()
    try:
        app()
    except SystemExit as done:  # the command is over, its exit code decided
        end_quietly(done.code if isinstance(done.code, int) else 1)
        raise
