"""Standard output, whatever the program was started with: closed, or a terminal that is not UTF-8.

Each command writes through ``sys.stdout`` as usual; :func:`prepare_stdout` (called once, before
the command) makes the two unusual cases fail or degrade as the README says, and
:func:`write_utf8` writes what must be UTF-8 (JSON, exports) as UTF-8 whatever the locale.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import sys
from typing import Any, Callable


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


def quiet_output(*streams: Any) -> None:
    """Point standard output (or STREAMS) at /dev/null, so the interpreter's last flush does not fail too."""
    for stream in streams or (sys.stdout,):
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError, AttributeError):
            pass


# The device numbers (Linux) of terminals: the consoles and serial lines (4), /dev/tty and the console (5),
# and pseudo-terminals' slave sides (136-143), where a terminal window's shell and its programs write.
_TERMINAL_MAJORS = frozenset({4, 5, *range(136, 144)})


def hung_up(exc: OSError) -> bool:
    """Whether EXC is a write to a terminal that has hung up (its window closed): EIO, no file named, and the
    standard output or error a terminal device that no longer answers as a terminal. A disk's EIO names its
    file, and /dev/null or a pipe is no terminal."""
    if exc.errno != errno.EIO or exc.filename is not None:
        return False
    for fd in (1, 2):
        try:
            st = os.fstat(fd)
        except OSError:
            continue
        if stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) in _TERMINAL_MAJORS and not os.isatty(fd):
            return True
    return False


_SET_ASIDE: list[Any] = []


def written_at_once(print_help: Callable[..., None], *, echoed: bool) -> Callable[..., None]:
    """typer's help printer, writing the help in one piece to a pipe or file: it wrote each panel as it
    came, and click a newline after them, so a reader that left after the first line (`starcoach --help |
    head -1`) met a later write with the pipe closed, and the help exited 1 (rich's and click's code for
    it), where output that fits the pipe's buffer is written before the reader can leave (README). Click's
    newline is in that one write, and its own goes nowhere (ECHOED: `--help`'s; the bare command's help
    has none). A reader that leaves a longer help ends it as any command's output: 141. At a terminal it
    prints as it did (its colours, its width)."""
    def printed(**kwargs: Any) -> None:
        if sys.stdout.isatty():
            print_help(**kwargs)
            return
        real, sys.stdout = sys.stdout, io.StringIO()
        try:
            print_help(**kwargs)
            text = sys.stdout.getvalue()
        finally:
            sys.stdout = real
        try:
            write_utf8(text + "\n" * echoed)  # and the newline click's `echo(ctx.get_help())` writes after it
        except BrokenPipeError:
            quiet_output()
            raise SystemExit(141) from None
        if not echoed:
            return
        _SET_ASIDE.append(real)  # (dropped, a wrapper closes the stream under it: a test runner's buffer)
        sys.stdout = open(os.devnull, "w")  # (click's own newline; nothing else is written after the help)

    return printed
