"""Commands on a file: analyze an audio answer, check a written one, list the models."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..domain.errors import InputTextError
from .common import app, fail, handles_errors, print_json, report_console, say, settings


@app.command()
@handles_errors
def analyze(
    file: Path = typer.Argument(..., readable=False, help="Audio file of a spoken answer (wav, flac, mp3, m4a, ogg)."),
    json_out: bool = typer.Option(False, "--json", help="Print the JSON document instead of the report."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model name or folder (default: config)."),
    live: bool = typer.Option(False, "--live", hidden=True, help="Transcribe in chunks, as record mode does."),
) -> None:
    """Transcribe and analyse a recorded answer: pace, fillers, pauses, STAR."""
    from ..analysis.document import analysis_document
    from ..output.report import render_analysis

    result = settings().analyzer(model, on_wait=say).analyze_file(file, live=live)
    if json_out:
        print_json(analysis_document(result))
    else:
        with report_console() as console:
            render_analysis(result, console)
    if result.no_speech:
        fail(f"no speech found in {file}", 3)


@app.command()
@handles_errors
def check(
    file: Path = typer.Argument(..., readable=False, help="A written answer (.txt or .md)."),
    json_out: bool = typer.Option(False, "--json", help="Print the JSON document instead of the report."),
) -> None:
    """Check the STAR structure of a written answer, for rewriting a story."""
    from ..analysis.document import check_document
    from ..analysis.star import check_text, other_language
    from ..output.export import follow_up_export
    from ..output.report import render_follow_up_export, render_star
    from ..takes.textio import read_answer

    text = read_answer(file)
    foreign = other_language(text)
    if foreign:  # both taggers read English only: their parts would be made up
        said = ", ".join(f'"{w}"' for w in foreign[:4])
        raise InputTextError(f"{file}: reads as another language than English ({said}...); the STAR check reads "
                             "English answers only: check an English version of it")
    result = check_text(text, options=settings().star)
    if not result.sentences:  # an export with its sentences deleted for a rewrite, a template
        raise InputTextError(f"{file}: holds no answer, only headings, part labels, placeholders or comments; write "
                             "the answer under them")
    follow_up = follow_up_export(text)  # STAR is judged on whole stories, as `show` of the take said
    if json_out:
        print_json(check_document(result, str(file), follow_up[0] if follow_up else None))
    else:
        with report_console() as console:
            if follow_up:
                render_follow_up_export(*follow_up, console)
            else:
                render_star(result, console)


@app.command()
@handles_errors
def models() -> None:
    """List the Whisper models: bundled, assembled or downloaded into models/, and the one in use."""
    from ..output.report import render_models

    infos = settings().model_list()
    with report_console() as console:
        render_models(infos, console)
    problem = next((m.problem for m in infos if m.default and m.problem), None)
    if problem:  # what `analyze` would refuse
        fail(problem)


@app.command()
@handles_errors
def paths() -> None:
    """Where starcoach keeps its configuration, models and takes."""
    from ..output.report import render_paths

    with report_console() as console:
        render_paths(settings().paths, console)
