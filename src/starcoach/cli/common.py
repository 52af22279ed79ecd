"""What every command shares: the app, error handling, configuration and output.

Library code raises :class:`StarcoachError`; here, and only here, it becomes one line on
standard error and a non-zero exit.
"""

from __future__ import annotations

import errno
import functools
import inspect
import math
import os
import re
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NoReturn, TypeVar

import typer
from typer.core import TyperGroup

try:  # typer 0.2x carries its own copy of click
    from typer._click import exceptions as clickx
    from typer._click.globals import get_current_context
except ImportError:  # pragma: no cover - older typer uses click itself
    from click import exceptions as clickx  # type: ignore[no-redef]
    from click.globals import get_current_context  # type: ignore[no-redef]

from ..domain.document import follow_up_of
from ..domain.errors import StarcoachError, os_error_line, signal_exit, stopped_by
from ..domain.filekind import controls_escaped
from ..domain.transcript import plural
from .params import refuse_empty_values
from .signals import SIGNALLED, Terminated, raise_interrupted, raise_terminated
from .stdout import hung_up, prepare_stdout, quiet_output, write_utf8, written_at_once

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

    from ..config import Config
    from ..takes.questions import Question, QuestionBank
    from ..takes.store import Store
    from ..takes.take import Take


class _Group(TyperGroup):
    """The command group, with one exit path: whatever happens, at most one
    ``starcoach:`` line on standard error and an exit code as the README lists them."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        # A docstring's wrapped lines are one paragraph: typer prints its later paragraphs line by
        # line, so `record --help` broke a sentence after "terminal," at any width.
        command = super().get_command(ctx, cmd_name)
        refuse_empty_values(command)
        if command is not None and command.help:
            command.help = "\n\n".join(" ".join(part.split()) for part in inspect.cleandoc(command.help).split("\n\n"))
        return command

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, windows_expand_args: bool = True, **extra: Any) -> Any:
        SIGNALLED.clear()
        old: dict[int, Any] = {}
        try:
            old[signal.SIGTERM] = signal.signal(signal.SIGTERM, raise_terminated)
            if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:  # `nohup starcoach …` ignores it: still does
                old[signal.SIGHUP] = signal.signal(signal.SIGHUP, raise_terminated)  # the terminal closed
        except ValueError:  # not the main thread (a test runner's worker): leave signals alone
            pass
        try:
            code = _run(lambda: super(_Group, self).main(args, prog_name, complete_var, False, windows_expand_args,
                                                         **extra), sys.argv[1:] if args is None else list(args))
        finally:
            for sig, handler in old.items():
                signal.signal(sig, handler)
        if not standalone_mode:
            return code
        sys.exit(code)


def _run(call: Callable[[], Any], argv: list[str] | None = None) -> int:
    """Run the command; return its exit code, having printed at most one error line."""
    if getattr(signal.getsignal(signal.SIGINT), "early", False):  # main()'s, until Ctrl+C is caught below
        signal.signal(signal.SIGINT, raise_interrupted)
    if argv is not None and (not argv or "--help" in argv):  # the group's call, to print the help: imported only
        import typer.rich_utils as rich_help  # then (50 ms), and written at once (`--help | head -1` exited 1)

        if not hasattr(rich_help.rich_format_help, "__wrapped__"):
            rich_help.rich_format_help = functools.wraps(rich_help.rich_format_help)(
                written_at_once(rich_help.rich_format_help, echoed="--help" in argv))
    prepare_stdout()
    try:
        rv = call()
        return rv if isinstance(rv, int) and not isinstance(rv, bool) else 0
    except typer.Exit as exc:
        return exc.exit_code
    except getattr(clickx, "NoArgsIsHelpError", ()) as exc:  # bare `starcoach`: the help is the answer
        exc.show()
        return 2
    except clickx.UsageError as exc:
        ctx = getattr(exc, "ctx", None) or get_current_context(silent=True)
        where = ctx.command_path if ctx is not None else "starcoach"
        name = getattr(exc, "option_name", None) or ""
        files = [a for a in argv or [] if isinstance(exc, clickx.NoSuchOption) and isinstance(a, str)
                 and a.startswith(name) and a != name and not a.startswith("--") and os.path.exists(a)]
        if isinstance(exc, clickx.NoSuchOption) and re.fullmatch(r"-\d+(?:\.\d*)?", name):  # `show -1`
            say(f"{name} was read as an option: a negative number is no value here (see `{where} --help`)")
            return 2
        if name and files:  # `import -dash.wav`: "No such option: -d"
            say(f"{files[0]} was read as options ({name}...); to name that file, put -- before it "
                 f"(`{where} -- {files[0]}`) or write ./{files[0]}")
            return 2
        say(f"{_one_line(exc.format_message())} (see `{where} --help`)")
        return 2
    except clickx.ClickException as exc:
        say(_one_line(exc.format_message()))
        return exc.exit_code or 1
    except typer.Abort as exc:
        if isinstance(exc.__context__, EOFError):
            say("standard input ended before an answer was given; pass --yes to skip the question")
            return 2
        say("interrupted")
        return 130
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    except Terminated as exc:
        say(stopped_by(exc.signum))
        return signal_exit(exc.signum)
    except StarcoachError as exc:
        say(str(exc))
        return exc.exit_code
    except OSError as exc:
        if exc.errno == errno.EPIPE:  # `starcoach takes | head`: the reader left; nothing to say
            quiet_output()
            return 141  # as a program killed by SIGPIPE: what `set -o pipefail` expects of `| head`
        if hung_up(exc):  # the terminal's window closed: nowhere to say anything (a take is stored first)
            quiet_output(sys.stdout, sys.stderr)
            return signal_exit(signal.SIGHUP)  # as the SIGHUP that comes with it would end it
        say(os_error_line(exc))
        return 1
    except MemoryError:
        say("out of memory; close other programs or use a shorter file")
        return 1
    except Exception as exc:  # noqa: BLE001 - the last resort: one line, never a traceback
        if SIGNALLED:  # what a library made of the signal's exception (see SIGNALLED)
            say(stopped_by(SIGNALLED[0]))
            return signal_exit(SIGNALLED[0])
        bad = _typed_not_utf8(exc)
        if bad is not None:
            say(f"a value given on the command line is not UTF-8 text (it holds {bad}); type it again in UTF-8")
            return 2
        say(f"unexpected error ({type(exc).__name__}: {_one_line(str(exc)) or 'no details'}); this is a bug: "
             "please report it with the command you ran")
        return 1


def _typed_not_utf8(exc: Exception) -> str | None:
    """The characters that could not be encoded, when ``exc`` is that failure and they were typed
    on the command line (bytes that are not UTF-8 arrive as lone surrogates; file names are passed
    on as they are and work, so whichever step meets another value fails on it); else None."""
    if not isinstance(exc, UnicodeEncodeError) or not isinstance(exc.object, str):
        return None
    bad = exc.object[exc.start:exc.end]
    if not all("\ud800" <= c <= "\udfff" for c in bad):  # not bytes the terminal passed on
        return None
    typed = [a for a in sys.argv[1:] if isinstance(a, str)]
    ctx = get_current_context(silent=True)
    while ctx is not None:
        typed += [str(v) for v in ctx.params.values() if isinstance(v, (str, Path))]
        ctx = ctx.parent
    if not bad or not any(bad in value for value in typed):
        return None
    try:
        return f"the bytes {bad.encode('utf-8', 'surrogateescape')!r}"
    except UnicodeEncodeError:
        return ascii(bad)


def say(message: str) -> None:
    """The one line ``starcoach: MESSAGE`` on standard error. A control character in it (a file
    name may hold a newline) is written as its escape, ``\\n``: the line stays one line. With no terminal
    left to write to (closed: SIGHUP), nothing is said."""
    try:
        typer.echo("starcoach: " + controls_escaped(message), err=True)
    except OSError as exc:
        if exc.errno not in (errno.EIO, errno.EPIPE):
            raise


def _one_line(text: str) -> str:
    return " ".join(text.split())


app = typer.Typer(
    cls=_Group,
    add_completion=False,
    no_args_is_help=True,
    help="starcoach: practise spoken interview answers offline. Transcript, pace, fillers, pauses "
         "and STAR structure, all on your own machine.",
)


def fail(message: str, code: int = 1) -> NoReturn:
    say(message)
    raise typer.Exit(code)


F = TypeVar("F", bound=Callable[..., Any])


def handles_errors(fn: F) -> F:
    """Turn library errors (and Ctrl+C, SIGTERM, anything unexpected) into one clear line
    and an exit code; :class:`_Group` does the same for what happens outside a command."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        code = _run(lambda: fn(*args, **kwargs))
        if code:
            raise typer.Exit(code)

    return wrapper  # type: ignore[return-value]


def positive_seconds(value: float | None, option: str = "--seconds") -> float | None:
    """A time limit from the command line: None, or a finite number above zero.

    Raises:
        UsageError: nan, inf, zero or negative.
    """
    if value is None:
        return None
    if not math.isfinite(value) or value <= 0:
        raise clickx.UsageError(f"{option} must be a number of seconds above 0, not {value}")
    return value


def nonnegative_seconds(value: float, option: str) -> float:
    """A position from the command line: a finite number, 0 or more.

    Raises:
        UsageError: nan, inf or negative.
    """
    if not math.isfinite(value) or value < 0:
        raise clickx.UsageError(f"{option} must be a number of seconds, 0 or more, not {value}")
    return value


def settings() -> Config:
    from ..config import load_config

    return load_config()


def check_question(config: Config, question: str | None, takes: list) -> None:
    """With ``--question ID`` and no take found: an id no question has is a typo, said as
    one (a question deleted from the bank still lists its takes: they are found)."""
    if question and not takes:
        from ..takes.questions import load_bank

        load_bank(config.paths.questions).get(question)


def for_principle(bank: "QuestionBank", takes: list[Take], lp: str | None) -> list[Take]:
    """The TAKES that answer a question of principle LP (a key, display name or prefix; None: all),
    any of its question's principles counting, as in `coverage`; a principle the bank no longer
    has is named by the key its takes hold, as `coverage` shows it (and only such a key). An answer to
    a follow-up counts under its question's principles here (`coverage` counts it nowhere: no story).

    Raises:
        NotFound: LP names no principle, or several.
    """
    if not lp:
        return takes
    from ..takes.questions import gone_principles_note

    def principles(t: Take) -> tuple[str, ...]:
        return bank.principles_of(follow_up_of(t.question_id) or t.question_id, t.principles)

    key = bank.with_principles(p for t in takes for p in principles(t)).principle_key(lp)
    if note := gone_principles_note(bank, [key]):
        typer.echo(note, err=True)
    return [t for t in takes if key in principles(t)]


def warn_unlisted(store: Store) -> int:
    """Say on stderr how many recordings the database does not list (a new, emptied or replaced database
    file loses the rows, never the audio) and that `doctor` lists them (or is listing them now); and
    which takes an interruption left unfinished, for `recover`."""
    from ..takes.rebuilding import running
    from ..takes.recovery import abandoned, holdable_name, not_a_take, unlisted_audio

    left = [] if (busy := running(store.path)) else [t.id for t in abandoned(store)]  # a doctor's are its own
    if left:
        say(f"{plural(len(left), 'take')} ({', '.join(map(str, left))}) left unfinished by an interruption; run "
            "`starcoach recover` to finish them")
    found = [a for a in unlisted_audio(store) if not_a_take(a) is None]  # doctor names the others
    # A name that is not UTF-8 the database cannot hold is to be renamed first ("run doctor" sent the user to and fro)
    odd = [a for a in found if not holdable_name(a)]
    unlisted = len(found) - len(odd)
    if unlisted:
        say(f"{plural(unlisted, 'recording')} under {store.recordings} {'is' if unlisted == 1 else 'are'} " + (
            f"being listed again by {busy}, running now" if busy else f"not in the takes database {store.path}; "
            f"run `starcoach doctor` to list {'it' if unlisted == 1 else 'them'} again"))
    if odd:
        them = "them" if len(odd) > 1 else "it"
        say(f"{plural(len(odd), 'recording')} under {store.recordings} {'have names' if len(odd) > 1 else 'has a name'}"
            f" the takes database cannot hold (not UTF-8 text): rename {them}, then run `starcoach doctor` to list "
            f"{them}")
    return unlisted


@contextmanager
def keys_unechoed(enabled: bool) -> Iterator[None]:
    """While recording at a terminal, keys are not echoed: the echo of Enter moved the cursor down a
    line, and the live meter, cleared from where it thought it was, left a stale line above the
    report. The terminal's settings come back on the way out, however it is left."""
    import termios

    fd, saved = -1, None
    if enabled and sys.stdin is not None and sys.stdin.isatty():
        try:
            fd = sys.stdin.fileno()
            saved = termios.tcgetattr(fd)
            quiet = termios.tcgetattr(fd)
            quiet[3] &= ~termios.ECHO
            termios.tcsetattr(fd, termios.TCSANOW, quiet)
        except (OSError, termios.error):
            saved = None
    try:
        yield
    finally:
        if saved is not None:
            try:
                termios.tcsetattr(fd, termios.TCSANOW, saved)
            except (OSError, termios.error):
                pass


def drop_typed_ahead() -> None:
    """Forget keys typed at the terminal before a recording began (Enter twice at the retake
    prompt, or in the countdown): read as the stop, they ended the take at 0:00."""
    import termios

    if sys.stdin is not None and sys.stdin.isatty():
        try:
            termios.tcflush(sys.stdin.fileno(), termios.TCIFLUSH)
        except (OSError, termios.error):
            pass


def make_console() -> Console:
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # Rich's own exits 1, the code of bad input; a reader that left (`| head`) is 141.
            self.quiet = True
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    return _Console(highlight=False, soft_wrap=False, emoji=False)  # ":thumbs_up:" in a question is text


@contextmanager
def report_console() -> Iterator[Console]:
    """A console whose report is written in one piece when the block ends. Rich writes each
    print as it comes, so a reader that stopped after the first line (`show 1 | head -1`) met
    the next write with the pipe closed and a short report exited 141, where output that fits
    the pipe's buffer is to be all written before the reader can leave (README). For reports
    only: a recording's live lines must show as they come."""
    console = make_console()
    with console:
        yield console


def print_json(doc: Any) -> None:
    from ..domain.document import json_text

    write_utf8(json_text(doc) + "\n")


def interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()  # None: started with standard input closed


def question_from(bank: QuestionBank, question: str | None, lp: str | None, random_pick: bool) -> Question | None:
    if question and (lp or random_pick):  # the question would win, the other silently ignored
        fail("give --question, or --lp / --random, not both", 2)
    if question:
        return bank.get(question)
    if lp or random_pick:
        return bank.pick(principle=lp)
    return None
