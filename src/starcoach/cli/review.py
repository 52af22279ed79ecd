"""Commands across takes: compare, progress, export, coverage."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from ..domain.document import follow_up_of
from ..domain.errors import AudioError, ExportError
from ..domain.transcript import plural
from .common import (app, check_question, fail, for_principle, handles_errors, print_json, report_console, say,
                     settings, warn_unlisted)
from .stdout import write_utf8

if TYPE_CHECKING:
    from ..takes.summaries import Summaries


def _output_target(path: Path, cfg, *, force: bool) -> Path:
    """``path`` if an export or chart may be written there; checked before any work is done.
    The files that hold the takes (their audio and metadata, the database) are never
    replaced, --force or not."""
    from ..output.export import check_target
    from ..takes.sidecar import stored_file

    what = stored_file(path, cfg.paths.recordings, cfg.paths.database) or _a_takes_audio(path, cfg)
    if what:
        fail(f"{path} is {what}; exports never replace it, --force or not: give another file name")
    return check_target(path, force=force)


def _a_takes_audio(path: Path, cfg) -> str | None:
    """"a take's audio" when the database lists PATH as one, whatever its name."""
    from ..takes.session import open_store

    with open_store(cfg) as store:
        try:
            return "a take's audio" if store.lists_audio(path) else None
        except (OSError, RuntimeError):  # a link loop: nothing of ours
            return None


@app.command()
@handles_errors
def compare(
    take_a: Optional[int] = typer.Argument(None, help="The earlier take."),
    take_b: Optional[int] = typer.Argument(None, help="The later take."),
    question: Optional[str] = typer.Option(None, "--question", "-q", help="Compare all takes of this question."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What changed between two takes (or all takes of a question): metrics and a word diff."""
    from ..takes import summaries
    from ..takes.compare import compare_summaries
    from ..output.review import comparison_document, render_comparison
    from ..takes.session import open_store
    from ..takes.store import damaged_analysis

    cfg = settings()
    if question and (take_a is not None or take_b is not None):
        fail("give two take ids or --question ID, not both", 2)
    with open_store(cfg) as store:
        if question:
            listed = store.list(question_id=question)
            check_question(cfg, question, listed)
            ids = [t.id for t in listed if t.spoke]  # takes of silence or noise alone: nothing to compare
            read = summaries.read(store, ids, words=True)
            ids, short = read.answers(ids) if not follow_up_of(question) else (ids, [])  # short by design
            if short:  # a retake measured against "let me start again" meant nothing
                _left_out(short, read)
            if len(ids) < 2:
                fail(f"question {question!r} has {plural(len(ids), 'analysed answer')} "
                     f"{'telling a story' if short else 'with speech'}; compare needs two")
        elif take_a is not None and take_b is not None:
            if take_a == take_b:
                fail(f"take {take_a} against itself: give two different takes", 2)
            ids = [take_a, take_b]
        else:
            fail("give two take ids, or --question ID", 2)
        asked = {store.get(i).question_id or "no question" for i in ids}
        # the later take first: every change read backwards in time, "worse" for a better retake (an audit)
        backwards = not question and [t.id for t in store.list() if t.id in ids] == [take_b, take_a]
        if not question:
            read = summaries.read(store, ids, words=True)
        compared = []
        for i in ids:
            if i in read.damaged:
                raise damaged_analysis(i)
            summary = read.of.get(i)
            if summary is None:
                from ..output.report import no_analysis

                status = store.get(i).status
                fail(f"take {i} has no analysis (status {status}): {no_analysis(status)}; compare another take")
            if summary.no_speech:
                fail(f"take {i} has no speech in it; nothing to compare")
            compared.append((i, summary))
    # The table shows every take's figures but only the last change and diff: only that pair is
    # compared (a diff per pair took 2 s of `compare --question` at 333 takes); JSON has them all.
    shown = zip(compared, compared[1:]) if json_out else [(compared[-2], compared[-1])]
    pairs = [compare_summaries(a_id, a, b_id, b, words=(read.words[a_id], read.words[b_id]),
                               target_wpm=cfg.metrics.target_wpm, target_length_s=cfg.star.target_length_s)
             for (a_id, a), (b_id, b) in shown]
    if json_out:
        print_json([comparison_document(c) for c in pairs])
    else:
        with report_console() as console:
            render_comparison(pairs, [(i, summary.figures) for i, summary in compared], console,
                              stories=not any(follow_up_of(a) for a in asked))  # a follow-up answer: no STAR
    if backwards:
        typer.echo(f"note: take {take_a} was made after take {take_b}: the changes read from take {take_a} "
                   f"back to take {take_b} (`compare {take_b} {take_a}` reads them forwards)", err=True)
    if len(asked) > 1:  # two stories, not a retake: most of the words are bound to differ (said with --json too)
        typer.echo(f"note: these takes answer different questions ({', '.join(sorted(asked))})", err=True)


@app.command()
@handles_errors
def progress(
    question: Optional[str] = typer.Option(None, "--question", "-q", help="Only takes of this question."),
    lp: Optional[str] = typer.Option(None, "--lp", help="Only takes for this Leadership Principle."),
    chart: Optional[Path] = typer.Option(None, "--chart", help="Also write the chart here (SVG)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing chart file."),
) -> None:
    """How fillers, pace, length and STAR completeness moved over your takes."""
    from ..takes import summaries
    from ..takes.compare import progress_points
    from ..output.chart import progress_svg
    from ..output.export import write_new
    from ..takes.questions import load_bank
    from ..output.review import render_progress
    from ..takes.session import open_store

    cfg = settings()
    if chart is not None:
        if str(chart) == "-":
            fail("--chart needs a file name: the table already goes to standard output", 2)
        chart = _output_target(chart, cfg, force=force)
        if chart.suffix.lower() != ".svg":  # an SVG under another format's name opens as neither
            fail(f"--chart writes SVG: give it a name that ends in .svg, not {chart.name}", 2)
    with open_store(cfg) as store:
        listed = store.list(question_id=question)
        if lp:  # only a principle needs the question bank, as in `takes`
            listed = for_principle(load_bank(cfg.paths.questions), listed, lp)
        stories = not follow_up_of(question)  # answers to one follow-up question, or stories (no follow-ups)
        follow_ups = {t.id for t in listed if t.spoke and follow_up_of(t.question_id)} if stories else set()
        listed = [t for t in listed if t.id not in follow_ups]
        warn_unlisted(store)
        spoke = [t.id for t in listed if t.spoke]
        # a follow-up answer is short by design: the story rule's "too short" is not for it
        read = summaries.read(store, spoke)
        short = read.answers(spoke)[1] if stories else []
    check_question(cfg, question, listed)
    if short:
        _left_out(short, read)
    points = progress_points([t for t in listed if t.id not in short])
    with report_console() as console:
        render_progress(points, cfg.metrics.target_wpm, cfg.star.target_length_s, console,
                        filtered=bool(question or lp), left_out=len(short), stories=stories,
                        follow_ups=len(follow_ups))
    if chart is not None:
        svg = progress_svg(points, target_wpm=cfg.metrics.target_wpm, target_length_s=cfg.star.target_length_s,
                           stories=stories)
        typer.echo(f"chart: {write_new(chart, svg, force=force)}", err=True)


def _left_out(short: list[int], read: "Summaries") -> None:
    from ..domain.vocab import MIN_STORY_WORDS

    told = any(read.of[i].no_part for i in short)
    typer.echo(f"note: left out {plural(len(short), 'take')} too short to tell a story (under {MIN_STORY_WORDS} "
               f"words that name things: a false start, fillers alone)"
               + (" or that tell none (no STAR part: what one would do)" if told else "")
               + f", as `coverage` leaves them: {', '.join(map(str, short))} (`compare A B` compares any two)",
               err=True)


# File suffixes of formats export does not write: a name ending in one of them is refused, not
# given Markdown. Any other suffix ("answer.notes") gets Markdown.
_OTHER_FORMATS = frozenset("pdf doc docx odt rtf epub pages csv tsv xml yaml yml xls xlsx ppt pptx key "
                           "wav flac mp3 ogg oga opus m4a aac png jpg jpeg gif svg webp".split())


@app.command()
@handles_errors
def export(
    take: int = typer.Argument(..., help="Take id (see `takes`)."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f",
                                      help="md, txt, json, srt, vtt or html (default: the -o file's suffix, else md)."),
    output_name: Optional[str] = typer.Option(None, "--output", "-o",
                                              help="File to write (default: beside the audio); - for standard output."),
    clean: bool = typer.Option(False, "--clean", help="Leave fillers out (md, txt, srt, vtt)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing file."),
) -> None:
    """Export a take: md for rewriting, srt/vtt subtitles, json, or one self-contained html page."""
    from ..output import export as ex
    from ..takes.documents import take_document
    from ..takes.session import open_store

    # Exactly "-" is standard output; "./-" is a file of that name (a Path would make both "-").
    to_stdout = output_name == "-"
    output = None if output_name is None or to_stdout else Path(output_name)
    suffix = output.suffix.lower().lstrip(".") if output is not None else ""
    suffix = {"htm": "html", "markdown": "md", "text": "txt", "webvtt": "vtt"}.get(suffix, suffix)
    if suffix in _OTHER_FORMATS and fmt is None:  # `-o x.pdf` got Markdown under a name that says PDF
        fail(f"cannot export to .{suffix}: formats are {', '.join(ex.FORMATS)}; name the file for one of them", 2)
    fmt = (fmt or (suffix if suffix in ex.FORMATS else "md")).lower()  # `-o notes.txt`: text; `-o a.notes`: md
    if fmt not in ex.FORMATS:
        fail(f"unknown format {fmt!r}; choose one of {', '.join(ex.FORMATS)}", 2)
    if clean and fmt not in ex.TEXT_FORMATS:  # json and html keep every word, as stored
        fail(f"--clean applies to {', '.join(ex.TEXT_FORMATS)}, not {fmt}", 2)
    cfg = settings()
    with open_store(cfg) as store:
        record_ = store.get(take)
        analysis = store.document(take)
    if analysis is None and fmt != "json":  # json: the document `show --json` prints for it
        from ..output.report import no_analysis

        fail(f"take {take} has no analysis (status {record_.status}): {no_analysis(record_.status)}; nothing to export "
             "but what is known of the take (--format json)")
    if not to_stdout:
        target = _output_target(output or Path(record_.audio_path).with_suffix(f".{fmt}"), cfg, force=force)
    if suffix != fmt and (suffix in _OTHER_FORMATS or suffix in ex.FORMATS):  # (after: a take's file is named so)
        # with --format too: `-f md -o x.pdf` and `-f html -o notes.md`, a page `check` then refused
        fail(f"cannot export {fmt} into {target.name}, a name that says {suffix}: name the file .{fmt}", 2)
    if analysis is not None and fmt in ex.TEXT_FORMATS and not any(not w.get("filler") for w in analysis["words"]):
        heard = "only fillers" if analysis.get("words") else "no speech"  # no sentence to hold them either
        fail(f"take {take} has {heard}: no transcript to export as {fmt}; --format json or html keeps its analysis")
    doc = take_document(record_, analysis)
    if fmt == "html":
        from ..audio.decode import SAMPLE_RATE, load_audio
        from ..output.html_page import to_html

        if not Path(record_.audio_path).exists():  # it said only "…/take-X.wav: no such file"
            fail(f"take {take}'s audio {record_.audio_path} is missing, and the page plays it: "
                 + (cfg.paths.moved_audio(record_.audio_path) or "put the file back, or run `starcoach doctor`")
                 + "; the other formats need no audio")

        try:
            samples = load_audio(record_.audio_path).samples
        except AudioError as exc:  # the advice for a file given to `analyze` ("copy it again…") fits no take
            what = str(exc).removeprefix(f"{record_.audio_path}: ").split("; ")[0]
            if what.startswith(("cannot read it (", "not enough memory", "cannot decode audio")):
                raise  # the disk's, the machine's or the install's: its own advice holds
            fail(f"take {take}'s audio {record_.audio_path} cannot be read ({what}), and the page plays it: "
                 "`starcoach doctor` names the takes whose audio is damaged; the other formats need no audio")
        content = to_html(doc, samples, SAMPLE_RATE)
    elif fmt == "json":
        content = ex.to_json(doc)
    else:
        content = {"md": ex.to_markdown, "txt": ex.to_text, "srt": ex.to_srt, "vtt": ex.to_vtt}[fmt](doc, clean=clean)
    if to_stdout:
        write_utf8(content if content.endswith("\n") else content + "\n")
    else:
        try:
            typer.echo(str(ex.write_new(target, content, force=force)))
        except ExportError as exc:  # beside the audio, where the user named no folder: say how to name one
            raise exc if output else ExportError(f"{exc} (with -o FILE, anywhere else)") from None


@app.command()
@handles_errors
def coverage(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Stories practised per Leadership Principle (aim for 2-3 each)."""
    from ..takes import summaries
    from ..takes.compare import story_groups
    from ..takes.questions import gone_principles_note, load_bank
    from ..output.review import render_coverage
    from ..takes.session import open_store

    cfg = settings()
    bank = load_bank(cfg.paths.questions)
    by_lp: dict[str, list[tuple[int, frozenset[str]]]] = {key: [] for key in bank.principles}
    with open_store(cfg) as store:
        listed = store.list()
        read = summaries.read(store, [t.id for t in listed])
    damaged = read.damaged  # a damaged analysis (`doctor` fixes it): count the others, and say so
    for t in listed:
        summary = read.of.get(t.id)
        if summary is None or summary.no_speech or follow_up_of(t.question_id):  # a follow-up answer: no story
            continue
        for p in bank.principles_of(t.question_id, t.principles):
            # one that tells no story (too short, or with no STAR part) is in none: its words are none
            by_lp.setdefault(p, []).append((t.id, summary.story_words if summary.tells_a_story else frozenset()))
    if note := gone_principles_note(bank, by_lp):  # shown by their key: say why
        typer.echo(note, err=True)
    grouped = {p: story_groups(signatures) for p, signatures in by_lp.items()}
    stories = {p: groups for p, (groups, _) in grouped.items()}
    short = {p: few for p, (_, few) in grouped.items()}
    if json_out:
        print_json([{"principle": p, "name": bank.principles.get(p, p), "stories": len(groups),
                     "takes": sum(len(g) for g in groups), "story_takes": groups, "short_takes": short[p]}
                    for p, groups in stories.items()])
    else:
        with report_console() as console:
            told = {t for few in short.values() for t in few if read.of[t].no_part}
            render_coverage(stories, bank.principles, console, short=short, told=told)
    if damaged:  # the count above is short of them: a silent undercount is a wrong figure
        say(f"not counted: {plural(len(damaged), 'take')} ({', '.join(map(str, damaged))}) whose stored analysis "
            "is damaged; `starcoach doctor` analyses their audio again, then run `coverage` again")
