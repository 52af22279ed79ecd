"""The handlers that turn SIGTERM and Ctrl+C into exceptions in the main thread, remembering them."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that every ``finally`` (temporary files,
    transactions) runs before the process ends. A BaseException, like Ctrl+C's, so that
    no ``except Exception`` swallows it."""


# The signals raised in this command. A library can turn their exception into an error of its own:
# Ctrl+C or SIGTERM while onnxruntime's extension initialises came back as "RuntimeError: Applying the
# VAD filter requires the onnxruntime package" ("this is a bug", exit 1; an audit), the cause lost.
SIGNALLED: list[int] = []


def raise_terminated(signum: int, frame: Any) -> None:
    SIGNALLED.append(signum)
    raise Terminated()


def raise_interrupted(signum: int, frame: Any) -> None:
    """Python's own Ctrl+C, remembered in :data:`SIGNALLED`."""
    SIGNALLED.append(signum)
    raise KeyboardInterrupt


def _ended(signum: int, frame: Any) -> None:
    """A signal after the command's work is done (its exit code decided, Python tearing down):
    what was written goes out, then one line and the signal's exit status, at once."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a reader gone, a stream closed: nothing more to say there
            pass
    said = "interrupted" if signum == signal.SIGINT else "stopped by SIGTERM"
    os.write(2, f"starcoach: {said} as it exited; the command had finished its work\n".encode())
    os._exit(130 if signum == signal.SIGINT else 143)


def end_quietly() -> None:
    """From the end of the command on, Ctrl+C and SIGTERM end the process with one line and 130
    or 143: they were Python's KeyboardInterrupt (a traceback from an exit callback, exit 0) and
    the default SIGTERM (killed, no line). A signal the process was started ignoring stays ignored."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, _ended)
