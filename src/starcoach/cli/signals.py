"""The handlers that turn SIGTERM and Ctrl+C into exceptions in the main thread, remembering them."""

from __future__ import annotations

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
