"""The readable terminal report, rendered from the JSON documents so that ``show``
and ``analyze`` print the same thing (the documents come from ``analysis.document``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..analysis.document import analysis_document, star_document
from ..analysis.star import StarReport
from ..domain.document import FOLLOW_UP_NOTE, follow_up_of, is_follow_up, no_speech_advice
from ..domain.filekind import controls_escaped
from ..domain.transcript import plural
from ..domain.vocab import PARTS
from ..takes.documents import new_take_document

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

    from ..analysis.pipeline import Analysis
    from ..asr.models import ModelInfo
    from ..config import Paths


def plain(text: object) -> str:
    """TEXT as Rich prints it literally: a file name, question or word holding "[/x]" or
    "[bold red]" was read as markup (the title lost it, and a closing tag stopped the report)."""
    from rich.markup import escape

    return escape(controls_escaped(str(text)))


_PART_STYLE = {"situation": "cyan", "task": "blue", "action": "green", "result": "magenta",
               "learning": "yellow", "other": "white"}


# --- the terminal report (rendered from the documents, so `show` and `analyze` match) ---

# Fewer content words than this and the report judges no pace: per minute, a few words over a
# second or two say nothing about how fast someone speaks (a 15 s pace window holds about 35).
PACE_MIN_WORDS = 10


def _clock(t: float | None) -> str:
    if t is None:
        return "  -  "
    m, s = divmod(round(max(0.0, t), 1), 60)  # rounded first: 59.98 s is 1:00.0, not 0:60.0
    return f"{int(m)}:{s:04.1f}"


def render_analysis(a: "Analysis", console: "Console") -> None:
    """Print the readable report of one spoken answer."""
    render_document(analysis_document(a), console)


def no_analysis(status: str) -> str:
    """Why a take of STATUS has no analysis, and what to do (a take left recording by a kill, or
    finished by an analysis cut short, was said to hold audio that "could not be analysed")."""
    if status == "failed":
        return "its audio could not be analysed when it was stored (too short, empty or unreadable)"
    if status == "recording":
        return "it is being recorded now, or a crash or kill cut its recording off: `starcoach recover` finishes it"
    return "its analysis is missing (one was cut short): `starcoach doctor` analyses it again"


def render_document(doc: dict[str, Any], console: "Console") -> None:
    """Print the readable report from an ``analyze --json`` document."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    title = plain(doc.get("file") or "answer")
    if doc.get("take"):
        t = doc["take"]
        title = f"take {t['id']}" + (f" · {plain(t['question_id'])}" if t.get("question_id") else "")
        if t.get("question_text"):
            asked = "Follow-up" if is_follow_up(doc) else "Q"
            console.print(f"[bold]{asked}:[/bold] {plain(t['question_text'])}")
    if doc.get("analysed") is False:  # a take with no analysis: nothing was heard or missed
        t = doc.get("take") or {}
        who, status = title[:1].upper() + title[1:], t.get("status", "failed")
        kept = "" if status == "recording" else \
            f"\nIts audio ({doc['duration_s']:.1f} s) is kept in {plain(t.get('audio_path', '?'))}."
        console.print(Panel(f"{who} has no analysis (status {status}): {no_analysis(status)}.{kept}",
                            title="starcoach", border_style="red"))
        return
    if doc["no_speech"]:
        console.print(Panel(f"No speech found in {title} ({doc['duration_s']:.1f} s of audio).\n"
                            + no_speech_advice(doc), title="starcoach", border_style="red"))
        return
    m = doc["metrics"]
    low, high = m["target_wpm"]
    wpm = doc["wpm"]
    pace_note = "on target" if low <= wpm <= high else ("slow" if wpm < low else "fast")
    # a pace in words a minute from a handful of words ("Yes." at 494 wpm, "fast") judges nothing
    judged = (m.get("content_words") or 0) >= PACE_MIN_WORDS
    pace_note = pace_note if judged else "too few words to judge"
    long_pauses = [p for p in doc["pauses"] if p["long"]]
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("Length", f"{doc['speaking_span_s']:.0f} s speaking ({doc['duration_s']:.0f} s file, "
                           f"{doc['speech_s']:.0f} s of voice)")
    head.add_row("Pace", f"{wpm:.0f} words/min ({pace_note}; target {low:.0f}–{high:.0f}), "
                         f"{m['articulation_wpm']:.0f} without pauses")
    counts = ", ".join(f"{k} ×{v}" for k, v in m["filler_counts"].items())
    bound = ""
    if m["fillers_lower_bound"]:
        bound = (f"  — a lower bound: {plural(len(m['unconfirmed_hesitations']), 'more voiced hesitation')} "
                 "could not be named")
    head.add_row("Fillers", f"{m['filler_count']} ({m['fillers_per_min']:.1f}/min) {counts}{bound}")
    head.add_row("Pauses", f"{plural(m['pause_count'], 'pause')}, {m['long_pause_count']} long")
    # "I-words": every form of the pronoun is counted (vocab.I_WORDS, vocab.WE_WORDS), not "I" alone
    # (the coach's note on the Action counts "I" and "we" as subjects only, and says so: an audit
    # saw "in the Action: 6 and 3" beside "first person ("I" 4, "we" 0)")
    in_action = "" if is_follow_up(doc) else f"; in the Action {m['action_i_count']} and {m['action_we_count']}"
    head.add_row("I / we", f"I-words {m['i_count']}, we-words {m['we_count']} (every form: me, my, us, our…"
                           f"{in_action})")
    if m["repetitions"]:
        head.add_row("Repeats", _some([f"\"{plain(r['text'])} {plain(r['text'])}\" at {_clock(r['start'])}"
                                       for r in m["repetitions"]], 6))
    if m["hedges"]:
        head.add_row("Hedges", ", ".join(f"{plain(k)} ×{v}" for k, v in m["hedges"].items()))
    head.add_row("Numbers", _some([plain(q["text"]) for q in m["quantities"]], 10)
                 or ("none" if is_follow_up(doc) else "none — quantify your result"))
    audio = doc.get("audio") or {}  # takes stored before the audio check have none
    if audio.get("warning"):
        head.add_row("Audio", Text(audio["warning"], style="yellow"))
    console.print(Panel(head, title=f"starcoach · {title}", border_style="bright_blue"))

    text = Text()
    for w in doc["words"]:
        text.append(controls_escaped(w["text"]) + " ", style="bold red" if w["filler"] else None)
    console.print(Panel(text, title="Transcript (fillers in red)", border_style="white"))

    events = [(f["start"], plain(f["text"]) + ("  (heard in the audio)" if f["source"] == "audio" else ""))
              for f in doc["fillers"]]
    events += [(p["start"], f"[yellow]pause {p['duration_s']:.1f} s[/yellow]") for p in long_pauses]
    if events:
        marks = Table(title="Fillers and long pauses", title_justify="left", show_edge=False,
                      header_style="bold", min_width=40)
        marks.add_column("time", justify="right")
        marks.add_column("what")
        for t, what in sorted(events):
            marks.add_row(_clock(t), what)
        console.print(marks)
    off = [w for w in m["pace"] if w["flag"]] if judged else []
    if off:
        console.print("Pace outside the target band:")  # a window a line: wrapped, a figure lost its unit
        for w in off:
            console.print(f"  {_clock(w['start'])}–{_clock(w['end'])}  {w['wpm']:.0f} wpm ({w['flag']})")
    if is_follow_up(doc):  # no story to judge (domain.document.FOLLOW_UP_NOTE)
        console.print(Panel(FOLLOW_UP_NOTE, title="Coach's notes", border_style="yellow"))
        return
    render_star_document(doc["star"], console)


def render_star(star: StarReport, console: "Console") -> None:
    """Print a STAR report (from ``check``)."""
    render_star_document(star_document(star), console)


def render_follow_up_export(story: str, line: str, console: "Console") -> None:
    """``check`` of an export of an answer to a follow-up question of STORY (LINE: its line of figures' start)."""
    from rich.panel import Panel
    from rich.text import Text

    said = (f"This is starcoach's export of an answer to a follow-up question of the story {story}. {FOLLOW_UP_NOTE} "
            f"(To have it judged as a story, delete its line \u201c{line} \u2026\u201d.)")
    console.print(Panel(Text(said), title="Coach's notes", border_style="yellow"))


def render_star_document(star: dict[str, Any], console: "Console") -> None:
    """Print the answer's STAR parts as labelled sections, then the coach's notes."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    blocks: list[Any] = []
    grid: Any = None
    current = None
    sentences = star["sentences"]
    for n, s in enumerate(sentences, 1):
        if s["label"] != current:
            current = s["label"]
            part = star.get(current, {})
            info = f" · {part.get('share_words', 0):.0%} of words" if part else ""
            idx = part.get("sentences", []) if part else []
            if idx and sentences[idx[0]]["start"] is not None:
                secs = sum(sentences[i]["end"] - sentences[i]["start"] for i in idx)
                info += f", {secs:.0f} s"
            if blocks:
                blocks.append(Text(""))
            blocks.append(Text(f"{current.upper()}{info}", style=f"bold {_PART_STYLE.get(current, 'white')}"))
            # a grid, so that a sentence's wrapped lines stay under its text, not under its number
            grid = Table.grid(padding=(0, 1))
            grid.add_column(justify="right", no_wrap=True, min_width=3)
            grid.add_column()
            blocks.append(grid)
        when = f"[{_clock(s['start'])}] " if s["start"] is not None else ""
        also = [f"{x['part']} {x['share']:.0%}" for x in s.get("parts", []) if x["part"] != s["label"]]
        # Numbered as the notes' "(sentence N)" count them: the tagger's pieces, not the writer's sentences.
        said = f"{when}{controls_escaped(s['text'])}" + (f"  (also {', '.join(also)})" if also else "")
        grid.add_row(str(n), Text(said))
    body = Group(*blocks)
    present = " ".join(
        f"[{_PART_STYLE[p]}]{p[0].upper()}[/]" if star[p]["present"] else f"[dim]{p[0].upper()}·[/]"
        for p in PARTS
    )
    console.print(Panel(body, title=f"STAR structure  {present}", border_style="green"))
    lines = [f"[bold]Rating {star['rating']}/10[/bold]"]
    lines += [f"[green]✓[/green] {plain(s)}" for s in star["strengths"]]
    for f in star["feedback"]:
        mark = {"missing": "[red]✗[/red]", "warning": "[yellow]![/yellow]",
                "unclear": "[yellow]?[/yellow]"}.get(f["severity"], "[cyan]→[/cyan]")
        where = (f"  ({'sentence' if len(f['sentences']) == 1 else 'sentences'} "
                 f"{', '.join(str(i + 1) for i in f['sentences'])})" if f["sentences"] else "")
        lines.append(f"{mark} {plain(f['message'])}{where}")
    console.print(Panel("\n".join(lines), title="Coach's notes", border_style="yellow"))


def render_models(infos: list["ModelInfo"], console: "Console") -> None:
    from rich.table import Table

    table = Table(header_style="bold")
    for col in ("name", "ready", "size", "source", "path"):
        table.add_column(col, overflow="fold")  # folded onto the next line, never cut with "…"
    for m in infos:
        size = f"{m.size_bytes / 1e6:.0f} MB" if m.size_bytes else "?"
        name = m.name + (" (default)" if m.default else "")
        table.add_row(plain(name), "yes" if m.ready else "no", size, m.source, plain(m.path or ""))
    console.print(table)


# --- takes, questions, devices, recording -------------------------------------------

def render_take_result(result, console: "Console", question=None) -> None:
    render_document(new_take_document(result.document, result.take_id, result.audio_path, question), console)


def _some(items: list[str], n: int) -> str:
    """The first N of ITEMS, and how many more there are (the row cut a Result's figures off unsaid)."""
    more = f" … and {len(items) - n} more" if len(items) > n else ""
    return ", ".join(items[:n]) + more


def render_questions(questions: list, principles: dict[str, str], console: "Console", *, among: int = 0) -> None:
    """AMONG: how many questions there are in all, when QUESTIONS are those --lp or --theme chose."""
    from rich.table import Table

    if not questions:  # a header alone read as a list that failed to load
        console.print(f"No questions match (of {plural(among, 'question')} in all; `starcoach questions` lists them).")
        return
    table = Table(header_style="bold", show_lines=False)
    for col in ("id", "question", "principles"):
        table.add_column(col)
    for q in questions:
        table.add_row(plain(q.id), plain(q.text), plain(", ".join(principles.get(p, p) for p in q.principles)))
    console.print(table)


def render_devices(devices: list, console: "Console") -> None:
    from rich.table import Table

    if not devices:
        console.print("No audio devices found.")
        return
    table = Table(header_style="bold")
    for col in ("index", "name", "inputs", "outputs", "rate", "default"):
        table.add_column(col)
    for d in devices:
        default = ", ".join(x for x, y in (("input", d.is_default_input), ("output", d.is_default_output)) if y)
        table.add_row(str(d.index), plain(d.name), str(d.inputs), str(d.outputs), f"{d.default_rate:.0f}", default)
    console.print(table)
    if not any(d.inputs for d in devices):
        console.print("[red]No input device: connect a microphone.[/red]")


def countdown(question, seconds: int, console: "Console") -> None:
    import time

    if question is not None:
        asked = "Follow-up: " if follow_up_of(question.id) else ""  # an interviewer's probe of the story just told
        console.print(f"\n[bold]{asked}{plain(question.text)}[/bold]")
    for n in range(seconds, 0, -1):
        console.print(f"  recording in {n}…", end="\r")
        time.sleep(1)


def recording_cue(console: "Console") -> None:
    """Said once the microphone is open, not before."""
    console.print("  [green]Recording.[/green] Press Enter to stop (Ctrl+C also stops and keeps the audio).")


class _Meter:
    """The timer and level line, from the first tick (the recording's start) to the end."""

    def __init__(self, console, enabled):
        self.console, self.enabled, self.live = console, enabled, None

    def __enter__(self):
        return self.tick

    def tick(self, recorder) -> None:
        if not self.enabled:
            return
        line = f"  ● {_clock(recorder.elapsed_s)}  {meter_bar(recorder.level)}"
        if narrowband_input(recorder):  # said while there is time to stop and switch, not only in the report
            line += "\n  [yellow]narrowband input, little above 4 kHz: a headset in hands-free mode?[/]"
        try:
            if self.live is None:
                from rich.live import Live

                self.live = Live("", console=self.console, refresh_per_second=8, transient=True)
                self.live.__enter__()
            self.live.update(line)
        except OSError:  # the terminal closed (EIO): the take goes on to be stored, with no meter
            self.enabled = False
            self.__exit__(None, None, None)

    def __exit__(self, *exc):
        live, self.live = self.live, None
        if live is not None:
            try:
                live.__exit__(*exc)
            except OSError:  # its last write, to a terminal closed mid-take: the take is stored all the same
                pass


# The level bar spans METER_FLOOR_DB to 0 dBFS; red from CLIP_WARN_DB, where a peak is about to clip.
# It filled at -9.5 dBFS and went red at -11, for half of ordinary speech's blocks, which read as "too
# loud" with no clipping at all.
METER_FLOOR_DB = -60.0
CLIP_WARN_DB = -1.0


def meter_bar(level: float, width: int = 30) -> str:
    """The input level (a block's peak, 0..1) as a bar of WIDTH cells, in dB, with its colour markup."""
    import math

    db = 20 * math.log10(level) if level > 0 else METER_FLOOR_DB
    bars = int(round(width * min(1.0, max(0.0, (db - METER_FLOOR_DB) / -METER_FLOOR_DB))))
    return f"[{'red' if db >= CLIP_WARN_DB else 'green'}]{'█' * bars}{'·' * (width - bars)}[/]"


def narrowband_input(recorder) -> bool:
    """Whether the microphone has sent narrowband audio (little or nothing above 4 kHz) in the take
    so far, once it has sent as much loud sound (a voice, most likely: the meter has no voice
    detector) as the report's check needs of voice."""
    from ..analysis.quality import NARROWBAND_DB, NARROWBAND_MIN_VOICE_S

    if recorder.loud_s < NARROWBAND_MIN_VOICE_S:
        return False
    high = recorder.bands.high_band_db
    return high is not None and high <= NARROWBAND_DB


def live_meter(console: "Console", *, enabled: bool) -> _Meter:
    """A live timer and input level while recording (terminal only)."""
    return _Meter(console, enabled)


def ask_next(question, console: "Console") -> str:
    """After a take: retake, a follow-up of QUESTION (when it has any), next question or quit.

    Raises:
        EOFError: standard input ended (Ctrl+D).
    """
    answers = {"": "retake", "r": "retake", "retake": "retake", "n": "next", "next": "next", "q": "quit",
               "quit": "quit", "exit": "quit"}  # any case: "Q" and "retake" were refused
    offer = ""
    if question is not None and question.follow_ups:  # asked aloud, not listed: an interviewer does not warn
        n = len(question.follow_ups)
        console.print(f"[dim]f: answer a follow-up an interviewer might ask about this story, aloud "
                      f"({plural(n, 'follow-up')}{', asked in turn' if n > 1 else ''}).[/dim]")
        answers.update({"f": "follow-up", "follow-up": "follow-up", "followup": "follow-up"})
        offer = "(f)ollow-up, "
    while True:
        try:  # "\[r]": rich read "[r]" as markup, and the default was never shown
            said = console.input(f"(r)etake, {offer}(n)ext question or (q)uit \\[r]: ").strip().casefold()
        except BaseException as exc:  # Ctrl+C, SIGTERM: "starcoach: interrupted" on a line of its own
            if not isinstance(exc, Exception):
                console.print()
            raise
        if said in answers:
            return answers[said]
        console.print(f"[yellow]Answer r (or Enter) to retake, {'f for a follow-up, ' if offer else ''}n for the next "
                      "question, q to quit.[/yellow]")


def render_paths(paths: "Paths", console: "Console") -> None:
    from ..config.paths import PACKAGED_CONFIG

    # Plain lines, never cut to the terminal's width: a path shortened with "…" names no file.
    config = paths.config_file if paths.config_file.exists() else f"{paths.config_file} (none there: every setting " \
        f"at its default; to change one, copy {PACKAGED_CONFIG} there)"  # (a wheel's home had no config.toml at all)
    for name, value in (("home", paths.home), ("config", config), ("models", paths.models),
                        ("recordings", paths.recordings), ("database", paths.database),
                        ("questions", paths.questions or "(built-in only)")):
        console.print(f"{name:<11} {plain(value)}", soft_wrap=True)
