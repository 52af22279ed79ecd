"""What every command shares: the app, error handling, configuration and output.

Library code raises :class:`StarcoachError`; here, and only here, it becomes one line on
standard error and a non-zero exit.
"""

from __future__ import annotations

import json
import sys
from functools import wraps
from typing import TYPE_CHECKING, Any, Callable, NoReturn, TypeVar

import typer

from ..domain.errors import StarcoachError

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

    from ..config import Config
    from ..takes.questions import Question, QuestionBank

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="starcoach: practise spoken interview answers offline. Transcript, pace, fillers, pauses "
         "and STAR structure, all on your own machine.",
)


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"starcoach: {message}", err=True)
    raise typer.Exit(code)


F = TypeVar("F", bound=Callable[..., Any])


def handles_errors(fn: F) -> F:
    """Turn library errors (and Ctrl+C) into one clear line and an exit code."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except StarcoachError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except OSError as exc:
            # Disk full, permission denied and the like, outside a stage that names them.
            fail(f"{exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}")

    return wrapper  # type: ignore[return-value]


def settings() -> Config:
    from ..config import load_config

    return load_config()


def make_console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


def interactive() -> bool:
    return sys.stdin.isatty()


def question_from(bank: QuestionBank, question: str | None, lp: str | None, random_pick: bool) -> Question | None:
    if question:
        return bank.get(question)
    if lp or random_pick:
        return bank.pick(principle=lp)
    return None
