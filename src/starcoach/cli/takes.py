"""Commands on stored takes: list, show, play, delete, import, recover, doctor."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import (app, check_question, fail, for_principle, handles_errors, interactive, nonnegative_seconds,
                     print_json, report_console, say, settings, warn_unlisted)


@app.command()
@handles_errors
def takes(
    question: Optional[str] = typer.Option(None, "--question", "-q", help="Only takes of this question id."),
    lp: Optional[str] = typer.Option(None, "--lp", help="Only takes for this Leadership Principle."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON list."),
) -> None:
    """List your takes, oldest first."""
    from ..takes.questions import load_bank
    from ..output.review import render_takes
    from ..takes.session import open_store

    cfg = settings()
    with open_store(cfg) as store:
        found = store.list(question_id=question)
        if lp:  # only a principle needs the question bank: the list itself never stopped on a missing file
            found = for_principle(load_bank(cfg.paths.questions), found, lp)
        among = len(store.list()) if (question or lp) and not found else None
        unlisted = warn_unlisted(store)
    check_question(cfg, question, found)
    if json_out:
        print_json([t.summary() for t in found])
    else:
        with report_console() as console:
            render_takes(found, console, unlisted=unlisted, among=among)


@app.command()
@handles_errors
def show(
    take: int = typer.Argument(..., help="Take id (see `takes`)."),
    json_out: bool = typer.Option(False, "--json", help="Print the take's full JSON document."),
) -> None:
    """Show one take's report again."""
    from ..output.report import render_document
    from ..takes.documents import take_document
    from ..takes.session import open_store

    with open_store(settings()) as store:
        record_ = store.get(take)
        doc = store.document(take)
    full = take_document(record_, doc)
    if json_out:
        print_json(full)
    else:
        with report_console() as console:
            render_document(full, console)


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

    from_s = nonnegative_seconds(from_s, "--from")
    cfg = settings()
    with open_store(cfg) as store:
        record_ = store.get(take)
    if record_.duration_s and from_s >= record_.duration_s:  # before looking for speakers
        fail(f"--from {from_s:g} s is past the end of take {take} ({record_.duration_s:.1f} s long)")
    if not Path(record_.audio_path).exists():  # before looking for speakers too: none plays a missing file
        fail(f"take {take}'s audio {record_.audio_path} is missing: "
             + (cfg.paths.moved_audio(record_.audio_path) or "put the file back, or run `starcoach doctor`"))
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
    from ..domain.errors import NotFound
    from ..output.export import FORMATS
    from ..takes import sidecar
    from ..takes.session import open_store

    with open_store(settings()) as store:
        record_ = store.get(take)
        if not yes:
            if not interactive():
                fail(f"not deleting take {take} without confirmation; pass --yes", 2)
            if not typer.confirm(f"Delete take {take} ({record_.started_at}, {record_.audio_path})?"):
                fail(f"take {take} kept", 2)

        audio = Path(record_.audio_path)
        aside = sidecar.deleted_path(audio)
        moved = []
        # Only a take's own audio is starcoach's to delete: a row that points elsewhere (an older
        # release's absolute path, an edited database) loses the row, not the file.
        ours = store.holds(audio)

        def remove_files(t) -> None:
            if ours and audio.exists():  # set aside in the transaction: fails (and the take stays) if read-only
                audio.replace(aside)
                moved.append(aside)

        try:
            store.delete(take, remove_files=remove_files)
        except NotFound:  # it was there a moment ago: another delete of it (nothing was removed here)
            raise NotFound(f"take {take} is already gone: another starcoach process deleted it just now") from None
        except BaseException:
            if moved:  # the take is still listed: its audio goes back
                aside.replace(audio)
            raise
        left = []
        meta = sidecar.sidecar_path(audio)  # "take-1.flac" and "take-1.wav" would share it: only its own
        mine = (sidecar.read(meta) or {}).get("audio") in (audio.name, None)
        for path in (aside, sidecar.partial_path(audio), *([meta] if mine else [])) if ours else ():
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                left.append(f"{path} ({exc.strerror or exc})")
    typer.echo(f"deleted take {take}", err=True)
    # what `export` wrote beside the audio by default is the user's (an edited rewrite, say): named, not removed
    exported = [e for e in (audio.with_suffix(f".{fmt}") for fmt in FORMATS) if ours and e.is_file()]
    if exported:
        page = " (the page holds the recording)" if any(p.suffix == ".html" for p in exported) else ""
        say(f"left its exports beside where its audio was: {', '.join(p.name for p in exported)}{page}, in "
            f"{audio.parent}; remove them if they should go too")
    if not ours:
        say(f"left {audio} where it is: it is not a take's own audio in {store.recordings}, so not starcoach's "
            "to delete")
    if left:
        say(f"could not remove {', '.join(left)}; remove it by hand")


@app.command(name="import")
@handles_errors
def import_(
    file: Path = typer.Argument(..., readable=False, help="A recording made elsewhere (wav, flac, mp3, m4a, ogg)."),
    question: Optional[str] = typer.Option(None, "--question", "-q", help="The question it answers."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model for the analysis."),
    json_out: bool = typer.Option(False, "--json", help="Print the take's JSON document."),
) -> None:
    """Add a recording made elsewhere as a take, and analyse it."""
    from ..takes.questions import load_bank
    from ..output.report import render_take_result
    from ..takes.documents import new_take_document
    from ..takes.session import import_take, open_store

    cfg = settings()
    q = load_bank(cfg.paths.questions).get(question) if question else None
    with open_store(cfg) as store:
        result = import_take(cfg, store, file, q, analyzer=cfg.analyzer(model, on_wait=say))
    if json_out and result.document is not None:
        print_json(new_take_document(result.document, result.take_id, result.audio_path, q))
    elif result.analysis is not None:
        with report_console() as console:
            render_take_result(result, console, q)
    problem, code = (result.error, 1) if result.error else (None, 0)
    if not problem and (result.document is None or result.document.get("no_speech")):
        problem, code = (f"no speech found in {file} (stored as take {result.take_id}; `starcoach delete "
                         f"{result.take_id}` removes it)", 3)
    if problem:
        say(problem)
    typer.echo(str(result.take_id), err=json_out)  # the id last, as record prints it (the README says so)
    if code:
        raise typer.Exit(code)


@app.command()
@handles_errors
def recover(model: Optional[str] = typer.Option(None, "--model", "-m", help="Model for the analysis.")) -> None:
    """Finish or remove what a crash, kill or full disk left: every take ends complete or gone."""
    from ..takes.recovery import Removed, Restored, recover as recover_takes
    from ..takes.session import open_store

    cfg = settings()
    removed: list[Removed] = []
    restored: list[Restored] = []
    with open_store(cfg) as store:
        done = recover_takes(cfg, store, analyzer=cfg.analyzer(model, on_wait=say, settings_first=False),
                             removed=removed, restored=restored)
    if not done and not removed and not restored:
        typer.echo("nothing to recover", err=True)
    for back in restored:
        typer.echo(f"kept take {back.take_id}: its delete was interrupted before it finished; its audio is back "
                   f"in {back.path}", err=True)
    for gone in removed:
        typer.echo(gone.line(), err=True)
    for r in done:
        if r.error:
            typer.echo(f"take {r.take_id}: {r.error}", err=True)
        else:
            secs = r.recording.duration_s if r.recording else (r.document or {}).get("duration_s", 0.0)
            typer.echo(f"recovered take {r.take_id}: {secs:.1f} s in {r.audio_path}")


@app.command()
@handles_errors
def doctor(model: Optional[str] = typer.Option(None, "--model", "-m", help="Model for re-analysis.")) -> None:
    """Check the takes database; rebuild it from recordings/ if it is damaged."""
    from ..domain.transcript import plural
    from ..takes.doctor import examine

    cfg = settings()
    report = examine(cfg, analyzer=cfg.analyzer(model, on_wait=say, settings_first=False))  # the database first
    for line in report.lines():
        typer.echo(line)
    if report.unusable:
        fail(f"{plural(report.unusable, 'take')} still listed without usable audio (above); restore the files"
             + (" (or set [paths] recordings back, as above)" if report.moved else "")
             + ", or remove the takes with `starcoach delete ID`")
    if report.problems:
        fail(f"{plural(len(report.problems), 'problem')} above need you: doctor moves and deletes none of those files")
