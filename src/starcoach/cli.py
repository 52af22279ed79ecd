"""The ``starcoach`` command. Each command: parse -> one library call -> render.

Library code raises :class:`StarcoachError`; here, and only here, it becomes one
line on stderr and a non-zero exit.
"""

from __future__ import annotations

import json
import sys
from functools import wraps
from pathlib import Path
from typing import Optional

import typer

from .errors import StarcoachError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="starcoach: practise spoken interview answers offline. Transcript, pace, fillers, pauses "
         "and STAR structure, all on your own machine.",
)


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"starcoach: {message}", err=True)
    raise typer.Exit(code)


def handles_errors(fn):
    """Turn library errors (and Ctrl+C) into one clear line and an exit code."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except StarcoachError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except OSError as exc:
            # Disk full, permission denied and the like, outside a stage that names them.
            _fail(f"{exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}")

    return wrapper


def _config():
    from .config import load_config

    return load_config()


def _console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def _print_json(doc) -> None:
    sys.stdout.write(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


@app.command()
@handles_errors
def analyze(
    file: Path = typer.Argument(..., help="Audio file of a spoken answer (wav, flac, mp3, m4a, ogg)."),
    json_out: bool = typer.Option(False, "--json", help="Print the JSON document instead of the report."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model name or folder (default: config)."),
) -> None:
    """Transcribe and analyse a recorded answer: pace, fillers, pauses, STAR."""
    from .analysis import analyze_file
    from .report import analysis_document, render_analysis

    result = analyze_file(file, _config(), model=model)
    if json_out:
        _print_json(analysis_document(result))
    else:
        render_analysis(result, _console())
    if result.no_speech:
        _fail(f"no speech found in {file}", 3)


@app.command()
@handles_errors
def check(
    file: Path = typer.Argument(..., help="A written answer (.txt or .md)."),
    json_out: bool = typer.Option(False, "--json", help="Print the JSON document instead of the report."),
) -> None:
    """Check the STAR structure of a written answer, for rewriting a story."""
    from .report import check_document, render_star
    from .star import check_text
    from .textio import read_answer

    text = read_answer(file)
    result = check_text(text, options=_config().star)
    if json_out:
        _print_json(check_document(result, str(file)))
    else:
        render_star(result, _console())


@app.command()
@handles_errors
def models() -> None:
    """List the Whisper models: bundled, assembled or downloaded into models/."""
    from .models import list_models
    from .report import render_models

    cfg = _config()
    render_models(list_models(cfg.paths.models), cfg.model, _console())


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
