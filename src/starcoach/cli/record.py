"""Commands at the microphone: questions, devices, record one take, the practice loop."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.pipeline import Analyzer
    from ..config import Config
    from ..takes.questions import Question
    from ..takes.session import TakeResult

from ..domain.document import follow_up_of
from ..domain.errors import Interrupted, NothingRecorded, signal_exit, stopped_by
from ..domain.trace import mark
from .common import (Terminated, app, drop_typed_ahead, fail, handles_errors, interactive, keys_unechoed, make_console,
                     positive_seconds, print_json, question_from, report_console, say, settings)


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

    bank = load_bank(settings().paths.questions)
    found = bank.filter(principle=lp, theme=theme)
    if json_out:
        print_json([q.document() for q in found])
    else:
        with report_console() as console:
            render_questions(found, bank.principles, console, among=len(bank.questions))


@app.command()
@handles_errors
def devices() -> None:
    """List audio devices (inputs are microphones)."""
    from ..audio.recorder import list_devices
    from ..output.report import render_devices

    with report_console() as console:
        render_devices(list_devices(), console)


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

    seconds = positive_seconds(seconds)
    cfg = settings()
    bank = load_bank(cfg.paths.questions)
    q = question_from(bank, question, lp, random_pick)
    _record_one(cfg, cfg.analyzer(model, on_wait=say), q, seconds=seconds, device=device, json_out=json_out)


def _announce(take_id: int, path: Path) -> None:
    typer.echo(f"recording take {take_id} to {path}", err=True)


def _announce_at_terminal(take_id: int, path: Path) -> None:
    """`record --json` at a terminal: no report on the screen, but a cue (it showed nothing at all)."""
    drop_typed_ahead()
    typer.echo(f"recording take {take_id} to {path}; press Enter to stop", err=True)


def _record_one(cfg: Config, analyzer: Analyzer, q: Question | None, *, seconds: float | None,
                device: str | None, json_out: bool, against_the_last: bool = False) -> TakeResult:
    """AGAINST_THE_LAST (practice): the figures against the last take of the question follow the report."""
    from ..output.report import countdown, live_meter, recording_cue, render_take_result
    from ..takes.documents import new_take_document
    from ..takes.rebuilding import RebuildRunning
    from ..takes.recovery import recover
    from ..takes.session import open_store, record_take

    at_terminal = interactive()
    console = make_console()
    with open_store(cfg) as store:
        try:
            for done in recover(cfg, store, analyzer=analyzer):  # a crash last time: finish that take first
                typer.echo(f"recovered take {done.take_id} from an interrupted recording", err=True)
        except RebuildRunning:
            pass  # a doctor or recover running now finishes what a crash left; the recording need not wait
        shown = at_terminal and not json_out

        def cue(take_id: int, path: Path) -> None:  # once the microphone is open, not before
            drop_typed_ahead()
            recording_cue(console)

        if not shown:
            cue = _announce_at_terminal if at_terminal else _announce
        with keys_unechoed(at_terminal), live_meter(console, enabled=shown) as tick:  # the meter: from the first tick
            ready = (lambda: countdown(q, cfg.record.countdown_s, console)) if shown else None
            result = record_take(cfg, store, q, device=device, seconds=seconds, interactive=at_terminal,
                                 on_tick=tick, on_start=cue, before_start=ready, analyzer=analyzer)
    try:
        if json_out and result.document is not None:
            print_json(new_take_document(result.document, result.take_id, result.audio_path, q))
        elif result.analysis is not None:
            render_take_result(result, console, q)
    except (KeyboardInterrupt, Terminated) as exc:  # "interrupted" alone, the report cut short, read as a lost take
        signum = exc.signum if isinstance(exc, Terminated) else signal.SIGINT
        raise Interrupted(f"{stopped_by(signum)} while the report was shown; take {result.take_id} is stored "
                          f"(`starcoach show {result.take_id}`)", signal_exit(signum)) from None
    silent = result.document is None or result.document.get("no_speech")
    if result.error:
        say(f"recording stopped: {result.error}; the audio captured so far is kept in {result.audio_path}")
    elif silent and not (at_terminal and console.is_terminal and not json_out and result.analysis is not None):
        muted = "silent_input" in (((result.document or {}).get("audio") or {}).get("problems") or ())
        say(f"no speech found in take {result.take_id} (kept in {result.audio_path}); "
            + ("the microphone sent pure digital silence: check the system's mute and `starcoach devices`"
               if muted else "check the microphone with `starcoach devices` and speak closer to it"))
    if against_the_last and q is not None and not result.error and not silent and not result.terminated:
        _against_the_last_take(cfg, q, result, console)  # before the id: it came after it without a terminal
    if not at_terminal or json_out:  # the id last, after any line about the take (the README says so)
        typer.echo(str(result.take_id), err=json_out)
    mark("reported")
    code = 1 if result.error else 3 if silent else 0  # 3: said above, or at a terminal by the report's panel
    if result.terminated:  # SIGTERM or SIGHUP: the take is stored and reported; the program ends, with its exit
        raise _Ended(code)
    if code:
        raise typer.Exit(code)
    return result


class _Ended(typer.Exit):
    """The program ends after this take (SIGTERM or SIGHUP stopped it), whatever `practice` would ask next."""


@app.command()
@handles_errors
def practice(
    lp: Optional[str] = typer.Option(None, "--lp", help="Practise one Leadership Principle."),
    question: Optional[str] = typer.Option(None, "--question", "-q", help="Start with this question id."),
    seconds: Optional[float] = typer.Option(None, "--seconds", "-s", help="Time limit per answer."),
    device: Optional[str] = typer.Option(None, "--device", "-d", help="Input device index or name."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model for the analysis."),
) -> None:
    """The practice loop: question -> record -> report -> retake, a follow-up question, or next."""
    from ..takes.questions import load_bank
    from ..audio.recorder import find_device
    from ..output.report import ask_next

    seconds = positive_seconds(seconds)
    cfg = settings()
    bank = load_bank(cfg.paths.questions)
    q = bank.get(question) if question else bank.pick(principle=lp)  # a bad id or principle: said first
    find_device(device, kind="input")  # no microphone: say so before showing a question
    analyzer = cfg.analyzer(model, on_wait=say)  # one model for every take of the session
    console = make_console()
    asked: list[str] = []  # this session's questions, so that "next" brings another
    story = q  # the question whose follow-ups f asks; q is one of them while it is answered
    # per question, the follow-up f asks next: the one after the last answered (a silent answer or none
    # moved on, and the unanswered one was never asked again)
    probed: dict[str, int] = {}
    k = 0  # the follow-up q is, while it is one
    while True:
        try:
            _record_one(cfg, analyzer, q, seconds=seconds, device=device, json_out=False, against_the_last=True)
            if q is not story:
                probed[story.id] = k + 1
        except typer.Exit as exc:
            if exc.exit_code != 3 or not interactive() or isinstance(exc, _Ended):  # no speech: offer a retake
                raise
        except NothingRecorded:  # stopped at the cue, before the microphone's first sound: no take, and
            if not interactive():  # no reason to end the session ("try again" said, and no way to)
                raise
            console.print("[yellow]Nothing was recorded: the take stopped before the microphone's first sound "
                          "arrived, so there is no take.[/yellow]")
        if not interactive():
            return
        drop_typed_ahead()  # keys typed while recording or while the report came ("q", a second Enter) answered it
        try:
            choice = ask_next(story, console)
        except EOFError:  # standard input closed (Ctrl+D): nothing more will be asked
            console.print()  # the shell's prompt on a line of its own, not after "[r]: "
            return
        if choice == "quit":
            return
        if choice == "next":
            asked.append(story.id)
            story = q = bank.pick(principle=lp, asked=asked)
        elif choice == "follow-up":
            k = probed.get(story.id, 0) % len(story.follow_ups)
            q = story.follow_up(k)
        # "retake": q again, the story or the follow-up just answered


def _against_the_last_take(cfg: Config, q: Question, result: TakeResult, console) -> None:
    """After a take with speech: what changed since the last take of the same question (a
    retake now, or the last session's), the figures only (`compare` shows the words). Takes too
    short to tell a story (a false start: "Um, so, I", then Enter) are left out on either side,
    as `compare --question` leaves them: a retake read "better" on every row against one."""
    from ..domain.errors import StarcoachError
    from ..domain.vocab import MIN_STORY_WORDS
    from ..output.review import render_comparison
    from ..takes import summaries
    from ..takes.compare import compare_summaries, content_words, summarise
    from ..takes.session import open_store

    if result.document is None or result.document.get("no_speech"):
        return
    this = summarise(result.document)
    story = follow_up_of(q.id) is None  # a follow-up answer is short by design: the rule below is a story's
    if story and not this.tells_a_story:
        # not "too short to tell a story": the coach's panel above may have judged it as one (its own
        # rule, 4 words that name things); the reviews ask for more to tell stories apart
        why = ("No story to compare (no STAR part: the coach's notes above say why)" if this.no_part
               else f"Too short to compare (under {MIN_STORY_WORDS} words that name things)")
        console.print(f"\n[dim]{why}: not compared with your last take, and left out of `compare --question` and "
                      "`progress`.[/dim]")
        return
    try:
        with open_store(cfg) as store:
            earlier = [t.id for t in store.list(question_id=q.id) if t.spoke and t.id < result.take_id]
            read = summaries.read(store, earlier, words=True)
    except StarcoachError:  # a damaged database: the take itself is stored; say nothing more
        return
    answers = read.answers(earlier)[0] if story else earlier
    last = None
    for i in reversed(answers):
        if i in read.damaged:  # a damaged analysis: likewise
            return
        if i in read.of:
            last = i
            break
    if last is None:
        return
    pair = compare_summaries(last, read.of[last], result.take_id, this,
                             words=(read.words[last], content_words(result.document)),
                             target_wpm=cfg.metrics.target_wpm, target_length_s=cfg.star.target_length_s)
    console.print(f"\n[bold]Against your last take of this question (take {last})[/bold]")
    render_comparison([pair], [(last, read.of[last].figures), (result.take_id, this.figures)], console,
                      show_words=False, stories=story)
    console.print(f"[dim]`starcoach compare {last} {result.take_id}` shows the words that changed.[/dim]")
