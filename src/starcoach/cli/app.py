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

from ..domain.errors import StarcoachError
from ..domain.trace import mark

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
    from ..config import load_config

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
    live: bool = typer.Option(False, "--live", hidden=True, help="Transcribe in chunks, as record mode does."),
) -> None:
    """Transcribe and analyse a recorded answer: pace, fillers, pauses, STAR."""
    from ..analysis.pipeline import analyze_file
    from ..output.report import analysis_document, render_analysis

    result = analyze_file(file, _config(), model=model, live=live)
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
    from ..output.report import check_document, render_star
    from ..analysis.star import check_text
    from ..takes.textio import read_answer

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
    from ..asr.models import list_models
    from ..output.report import render_models

    cfg = _config()
    render_models(list_models(cfg.paths.models), cfg.model, _console())


def _interactive() -> bool:
    return sys.stdin.isatty()


def _question_from(bank, question: str | None, lp: str | None, random_pick: bool):
    if question:
        return bank.get(question)
    if lp or random_pick:
        return bank.pick(principle=lp)
    return None


@app.command()
@handles_errors
def questions(
    lp: Optional[str] = typer.Option(None, "--lp", help="Only this Leadership Principle (key, name or prefix)."),
    theme: Optional[str] = typer.Option(None, "--theme", help="Only this theme (conflict, failure, ...)."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON list."),
) -> None:
    """List practice questions: 16 Leadership Principles, classic themes, and your own."""
    from ..takes.questions import load_bank
    from ..output.report import render_questions

    bank = load_bank(_config().paths.questions)
    found = bank.filter(principle=lp, theme=theme)
    if json_out:
        _print_json([q.document() for q in found])
    else:
        render_questions(found, bank.principles, _console())


@app.command()
@handles_errors
def devices() -> None:
    """List audio devices (inputs are microphones)."""
    from ..audio.recorder import list_devices
    from ..output.report import render_devices

    render_devices(list_devices(), _console())


@app.command()
@handles_errors
def record(
    question: Optional[str] = typer.Option(None, "--question", "-q", help="Question id (see `questions`)."),
    lp: Optional[str] = typer.Option(None, "--lp", help="A random question for this Leadership Principle."),
    random_pick: bool = typer.Option(False, "--random", help="A random question."),
    seconds: Optional[float] = typer.Option(None, "--seconds", "-s", help="Stop after this many seconds."),
    device: Optional[str] = typer.Option(None, "--device", "-d", help="Input device index or name."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model for the analysis."),
    json_out: bool = typer.Option(False, "--json", help="Print the take's JSON document."),
) -> None:
    """Record one answer from the microphone, then show its report.

    Stops on Enter, Ctrl+C or the time limit. When standard input is not a terminal,
    nothing waits for a key: recording runs until --seconds or the input ends, and
    the take id is printed last.
    """
    from ..takes.questions import load_bank

    cfg = _config()
    bank = load_bank(cfg.paths.questions)
    q = _question_from(bank, question, lp, random_pick)
    _record_one(cfg, q, seconds=seconds, device=device, model=model, json_out=json_out)


def _announce(take_id: int, path: Path) -> None:
    typer.echo(f"starcoach: recording take {take_id} to {path}", err=True)


def _record_one(cfg, q, *, seconds, device, model, json_out):
    from ..output.report import analysis_document_for_take, countdown, live_meter, render_take_result
    from ..takes.session import open_store, recover, record_take

    interactive = _interactive()
    console = _console()
    with open_store(cfg) as store:
        for done in recover(cfg, store, model=model):  # a crash last time: finish that take first
            typer.echo(f"starcoach: recovered take {done.take_id} from an interrupted recording", err=True)
        if interactive and not json_out:
            countdown(q, cfg.record.countdown_s, console)
        with live_meter(console, enabled=interactive and not json_out) as tick:
            result = record_take(cfg, store, q, device=device, seconds=seconds, interactive=interactive,
                                 on_tick=tick, on_start=None if interactive else _announce, model=model)
    if json_out and result.document is not None:
        _print_json(analysis_document_for_take(result))
    elif result.analysis is not None:
        render_take_result(result, console)
    if result.error:
        typer.echo(f"starcoach: recording stopped: {result.error}; the audio captured so far is kept in "
                   f"{result.audio_path}", err=True)
    if not interactive or json_out:
        typer.echo(str(result.take_id), err=json_out)
    mark("reported")
    if result.error:
        raise typer.Exit(1)
    return result


@app.command()
@handles_errors
def practice(
    lp: Optional[str] = typer.Option(None, "--lp", help="Practise one Leadership Principle."),
    question: Optional[str] = typer.Option(None, "--question", "-q", help="Start with this question id."),
    seconds: Optional[float] = typer.Option(None, "--seconds", "-s", help="Time limit per answer."),
    device: Optional[str] = typer.Option(None, "--device", "-d", help="Input device index or name."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model for the analysis."),
) -> None:
    """The practice loop: question -> record -> report -> retake or next."""
    from ..takes.questions import load_bank
    from ..audio.recorder import find_device
    from ..output.report import ask_next

    cfg = _config()
    bank = load_bank(cfg.paths.questions)
    find_device(device, kind="input")  # no microphone: say so before showing a question
    q = bank.get(question) if question else bank.pick(principle=lp)
    console = _console()
    while True:
        _record_one(cfg, q, seconds=seconds, device=device, model=model, json_out=False)
        if not _interactive():
            return
        choice = ask_next(q, console)
        if choice == "quit":
            return
        if choice == "next":
            q = bank.pick(principle=lp)


@app.command()
@handles_errors
def takes(
    question: Optional[str] = typer.Option(None, "--question", "-q", help="Only takes of this question id."),
    lp: Optional[str] = typer.Option(None, "--lp", help="Only takes for this Leadership Principle."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON list."),
) -> None:
    """List your takes, oldest first."""
    from ..takes.questions import load_bank
    from ..output.report import render_takes
    from ..takes.session import open_store

    cfg = _config()
    principle = load_bank(cfg.paths.questions).principle_key(lp) if lp else None
    with open_store(cfg) as store:
        found = store.list(question_id=question, principle=principle)
    if json_out:
        _print_json([t.summary() for t in found])
    else:
        render_takes(found, _console())


@app.command()
@handles_errors
def show(
    take: int = typer.Argument(..., help="Take id (see `takes`)."),
    json_out: bool = typer.Option(False, "--json", help="Print the take's full JSON document."),
) -> None:
    """Show one take's report again."""
    from ..output.report import render_document, take_document
    from ..takes.session import open_store

    with open_store(_config()) as store:
        record_ = store.get(take)
        doc = store.document(take)
    full = take_document(record_, doc)
    if json_out:
        _print_json(full)
    else:
        render_document(full, _console())


@app.command()
@handles_errors
def play(
    take: int = typer.Argument(..., help="Take id (see `takes`)."),
    from_s: float = typer.Option(0.0, "--from", help="Start this many seconds in."),
    device: Optional[str] = typer.Option(None, "--device", "-d", help="Output device index or name."),
) -> None:
    """Replay a take through the speakers."""
    from ..audio.recorder import find_device, play as play_audio
    from ..takes.session import open_store

    with open_store(_config()) as store:
        record_ = store.get(take)
    out = find_device(device, kind="output")
    seconds = play_audio(Path(record_.audio_path), start_s=from_s, device=out)
    typer.echo(f"played {seconds:.1f} s of take {take}", err=True)


@app.command()
@handles_errors
def delete(
    take: int = typer.Argument(..., help="Take id (see `takes`)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask."),
) -> None:
    """Delete a take and its audio (asks first)."""
    from ..takes.session import open_store

    with open_store(_config()) as store:
        record_ = store.get(take)
        if not yes:
            if not _interactive():
                _fail(f"not deleting take {take} without confirmation; pass --yes", 2)
            if not typer.confirm(f"Delete take {take} ({record_.started_at}, {record_.audio_path})?"):
                raise typer.Exit(1)
        store.delete(take)
    Path(record_.audio_path).unlink(missing_ok=True)
    typer.echo(f"deleted take {take}", err=True)


@app.command(name="import")
@handles_errors
def import_(
    file: Path = typer.Argument(..., help="A recording made elsewhere (wav, flac, mp3, m4a, ogg)."),
    question: Optional[str] = typer.Option(None, "--question", "-q", help="The question it answers."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model for the analysis."),
    json_out: bool = typer.Option(False, "--json", help="Print the take's JSON document."),
) -> None:
    """Add a recording made elsewhere as a take, and analyse it."""
    from ..takes.questions import load_bank
    from ..output.report import analysis_document_for_take, render_take_result
    from ..takes.session import import_take, open_store

    cfg = _config()
    q = load_bank(cfg.paths.questions).get(question) if question else None
    with open_store(cfg) as store:
        result = import_take(cfg, store, file, q, model=model)
    if json_out and result.document is not None:
        _print_json(analysis_document_for_take(result))
    elif result.analysis is not None:
        render_take_result(result, _console())
    typer.echo(str(result.take_id), err=json_out)
    if result.error:
        _fail(result.error)


@app.command()
@handles_errors
def recover(model: Optional[str] = typer.Option(None, "--model", "-m", help="Model for the analysis.")) -> None:
    """Turn recordings cut off by a crash or kill into takes."""
    from ..takes.session import open_store, recover as recover_takes

    cfg = _config()
    with open_store(cfg) as store:
        done = recover_takes(cfg, store, model=model)
    if not done:
        typer.echo("nothing to recover", err=True)
    for r in done:
        if r.error:
            typer.echo(f"take {r.take_id}: {r.error}", err=True)
        else:
            secs = r.recording.duration_s if r.recording else 0.0
            typer.echo(f"recovered take {r.take_id}: {secs:.1f} s in {r.audio_path}")


@app.command()
@handles_errors
def compare(
    take_a: Optional[int] = typer.Argument(None, help="The earlier take."),
    take_b: Optional[int] = typer.Argument(None, help="The later take."),
    question: Optional[str] = typer.Option(None, "--question", "-q", help="Compare all takes of this question."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What changed between two takes (or all takes of a question): metrics and a word diff."""
    from ..takes.compare import compare_documents
    from ..output.report import comparison_document, render_comparison
    from ..takes.session import open_store

    cfg = _config()
    with open_store(cfg) as store:
        if question:
            ids = [t.id for t in store.list(question_id=question) if t.wpm is not None]
            if len(ids) < 2:
                _fail(f"question {question!r} has {len(ids)} analysed take(s); compare needs two")
        elif take_a is not None and take_b is not None:
            ids = [take_a, take_b]
        else:
            _fail("give two take ids, or --question ID", 2)
        docs = []
        for i in ids:
            doc = store.document(i)
            if doc is None:
                _fail(f"take {i} has no analysis (status {store.get(i).status})")
            docs.append((i, doc))
    pairs = [compare_documents(a_id, a, b_id, b, target_wpm=cfg.metrics.target_wpm,
                               target_length_s=cfg.star.target_length_s)
             for (a_id, a), (b_id, b) in zip(docs, docs[1:])]
    if json_out:
        _print_json([comparison_document(c) for c in pairs])
    else:
        render_comparison(pairs, docs, _console())


@app.command()
@handles_errors
def progress(
    question: Optional[str] = typer.Option(None, "--question", "-q", help="Only takes of this question."),
    lp: Optional[str] = typer.Option(None, "--lp", help="Only takes for this Leadership Principle."),
    chart: Optional[Path] = typer.Option(None, "--chart", help="Also write the chart here (SVG)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing chart file."),
) -> None:
    """How fillers, pace, length and STAR completeness moved over your takes."""
    from ..takes.compare import progress_points
    from ..output.export import progress_svg, write_new
    from ..takes.questions import load_bank
    from ..output.report import render_progress
    from ..takes.session import open_store

    cfg = _config()
    principle = load_bank(cfg.paths.questions).principle_key(lp) if lp else None
    with open_store(cfg) as store:
        points = progress_points(store.list(question_id=question, principle=principle))
    render_progress(points, cfg.metrics.target_wpm, cfg.star.target_length_s, _console())
    if chart is not None:
        svg = progress_svg(points, target_wpm=cfg.metrics.target_wpm, target_length_s=cfg.star.target_length_s)
        typer.echo(f"chart: {write_new(chart, svg, force=force)}", err=True)


@app.command()
@handles_errors
def export(
    take: int = typer.Argument(..., help="Take id (see `takes`)."),
    fmt: str = typer.Option("md", "--format", "-f", help="md, txt, json, srt, vtt or html."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="File to write (default: beside the audio)."),
    clean: bool = typer.Option(False, "--clean", help="Leave fillers out (md, txt, srt, vtt)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing file."),
) -> None:
    """Export a take: md for rewriting, srt/vtt subtitles, json, or one self-contained html page."""
    from ..output import export as ex
    from ..output.report import take_document
    from ..takes.session import open_store

    if fmt not in ex.FORMATS:
        _fail(f"unknown format {fmt!r}; choose one of {', '.join(ex.FORMATS)}", 2)
    with open_store(_config()) as store:
        record_ = store.get(take)
        analysis = store.document(take)
    if analysis is None:
        _fail(f"take {take} has no analysis (status {record_.status}); nothing to export")
    doc = take_document(record_, analysis)
    if fmt == "html":
        from ..audio.decode import SAMPLE_RATE, load_audio

        content = ex.to_html(doc, load_audio(record_.audio_path).samples, SAMPLE_RATE)
    elif fmt == "json":
        content = ex.to_json(doc)
    else:
        content = {"md": ex.to_markdown, "txt": ex.to_text, "srt": ex.to_srt, "vtt": ex.to_vtt}[fmt](doc, clean=clean)
    target = output or Path(record_.audio_path).with_suffix(f".{fmt}")
    typer.echo(str(ex.write_new(target, content, force=force)))


@app.command()
@handles_errors
def coverage(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Stories practised per Leadership Principle (aim for 2-3 each)."""
    from ..takes.compare import group_stories
    from ..takes.questions import load_bank
    from ..output.report import render_coverage
    from ..takes.session import open_store

    cfg = _config()
    bank = load_bank(cfg.paths.questions)
    by_lp: dict[str, list[tuple[int, dict]]] = {key: [] for key in bank.principles}
    with open_store(cfg) as store:
        for t in store.list():
            doc = store.document(t.id)
            if doc is None or doc.get("no_speech"):
                continue
            try:
                principles = bank.get(t.question_id).principles if t.question_id else ()
            except StarcoachError:
                principles = (t.principle,) if t.principle else ()
            for p in principles:
                by_lp.setdefault(p, []).append((t.id, doc))
    stories = {p: group_stories(docs) for p, docs in by_lp.items()}
    if json_out:
        _print_json([{"principle": p, "name": bank.principles.get(p, p), "stories": len(groups),
                      "takes": sum(len(g) for g in groups), "story_takes": groups} for p, groups in stories.items()])
    else:
        render_coverage(stories, bank.principles, _console())


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
