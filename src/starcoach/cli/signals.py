"""The handlers that turn SIGTERM, SIGHUP and Ctrl+C into exceptions in the main thread, remembering them."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from ..domain.errors import STOPPING_SIGNALS, signal_exit, stopped_by


class Terminated(BaseException):
    """SIGTERM or SIGHUP, raised in the main thread so that every ``finally`` (temporary files,
    transactions) runs before the process ends. A BaseException, like Ctrl+C's, so that
    no ``except Exception`` swallows it."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(signum)
        self.signum = signum


# The signals raised in this command. A library can turn their exception into an error of its own:
# Ctrl+C or SIGTERM while onnxruntime's extension initialises came back as "RuntimeError: Applying the
# VAD filter requires the onnxruntime package" ("this is a bug", exit 1; an audit), the cause lost.
SIGNALLED: list[int] = []


def raise_terminated(signum: int, frame: Any) -> None:
    SIGNALLED.append(signum)
    raise Terminated(signum)


def raise_interrupted(signum: int, frame: Any) -> None:
    """Python's own Ctrl+C, remembered in :data:`SIGNALLED`."""
    SIGNALLED.append(signum)
    raise KeyboardInterrupt


def end_quietly(code: int) -> None:
    """From the end of the command on (its exit CODE decided), Ctrl+C, SIGTERM and SIGHUP end the process at
    once: they were Python's KeyboardInterrupt (a traceback from an exit callback, exit 0) and the default
    SIGTERM (killed, no line). After work done (CODE 0): one line and 130, 143 or 129. After a command that
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
        try:
            os.write(2, f"starcoach: {stopped_by(signum)} as it exited; the command had finished its work\n".encode())
        except OSError:  # the terminal is gone (SIGHUP)
            pass
        os._exit(signal_exit(signum))

    for sig in STOPPING_SIGNALS:
        if signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, ended)
