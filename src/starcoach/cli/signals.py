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


def end_quietly(code: int) -> None:
    """From the end of the command on (its exit CODE decided), Ctrl+C and SIGTERM end the process at once:
    they were Python's KeyboardInterrupt (a traceback from an exit callback, exit 0) and the default
    SIGTERM (killed, no line). After work done (CODE 0): one line and 130 or 143. After a command that
    failed or was stopped, whose line is said: nothing more, and its own code. What was written goes out
    first. A signal the process was started ignoring stays ignored."""
    def ended(signum: int, frame: Any) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a reader gone, a stream closed: nothing more to say there
                pass
        if code:
            os._exit(code)
        said = "interrupted" if signum == signal.SIGINT else "stopped by SIGTERM"
        os.write(2, f"starcoach: {said} as it exited; the command had finished its work\n".encode())
        os._exit(130 if signum == signal.SIGINT else 143)

    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, ended)
