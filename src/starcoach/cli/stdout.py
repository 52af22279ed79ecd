"""Standard output, whatever the program was started with: closed, or a terminal that is not UTF-8.

Each command writes through ``sys.stdout`` as usual; :func:`prepare_stdout` (called once, before
the command) makes the two unusual cases fail or degrade as the README says, and
:func:`write_utf8` writes what must be UTF-8 (JSON, exports) as UTF-8 whatever the locale.
"""

from __future__ import annotations

import errno
import sys


class _ClosedStdout:
    """Standard output when the program was started with it closed (``>&-``): writing fails
    as writing to a closed file does, where Python would drop the text or fail on ``None``."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed (started with >&-), so the output was lost; "
                                   "anything stored before that is kept; send the output to a file or a pipe")

    def fileno(self) -> int:
        raise OSError(errno.EBADF, "standard output is closed")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def prepare_stdout() -> None:
    """A closed standard output fails on the first write (one line, exit 1), where Python would
    drop the text; on a terminal that is not UTF-8 (ASCII, Latin-1) a letter it cannot show
    becomes "?", where it was an "unexpected error"."""
    if sys.stdout is None:
        sys.stdout = _ClosedStdout()
    elif not (getattr(sys.stdout, "encoding", None) or "utf").lower().startswith("utf"):
        sys.stdout.reconfigure(errors="replace")  # type: ignore[union-attr]


def write_utf8(text: str) -> None:
    """Standard output as UTF-8 whatever the locale says (JSON is UTF-8; an ASCII or Latin-1
    terminal setting made any other letter an "unexpected error")."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # closed (_ClosedStdout), or a stream of text only
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    data = memoryview(text.encode("utf-8"))
    while data:  # a pipe whose reader left takes part of a write and says so by its count, not an error
        written = buffer.write(data)
        if written == 0:  # no progress: never loop on it
            raise BrokenPipeError(errno.EPIPE, "standard output took nothing more")
        data = data[written if written is not None else len(data):]
    buffer.flush()
