"""Rendering: the stable JSON document and the readable terminal report.

The JSON document is a contract with scripts (documented in the README): fields are
added, never renamed or removed, and ``schema`` says which version a document is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .fillers import filler_word_indexes
from .star import PARTS, StarReport

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console

    from .analysis import Analysis
    from .models import ModelInfo

SCHEMA = 1
_PART_STYLE = {"situation": "cyan", "task": "blue", "action": "green", "result": "magenta",
               "learning": "yellow", "other": "white"}


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(float(x), nd)


def star_document(star: StarReport) -> dict[str, Any]:
    """The ``star`` object of the JSON document."""
    doc: dict[str, Any] = {}
    for p in PARTS:
        part = star.parts[p]
        doc[p] = {"present": part.present, "sentences": list(part.sentences),
                  "share_words": part.share_words, "share_time": part.share_time}
    doc["sentences"] = [
        {"text": s.text, "label": s.label, "start": _r(s.start), "end": _r(s.end), "cues": list(s.cues)}
        for s in star.sentences
    ]
    doc["feedback"] = [
        {"code": f.code, "severity": f.severity, "message": f.message, "sentences": list(f.sentences)}
        for f in star.feedback
    ]
    doc["rating"] = star.rating
    doc["strengths"] = list(star.strengths)
    doc["improvements"] = list(star.improvements)
    return doc


def analysis_document(a: "Analysis") -> dict[str, Any]:
    """The ``analyze --json`` document."""
    m = a.metrics
    words = a.transcript.words
    filler_idx = filler_word_indexes(m.fillers)
    total_words = len(words) + sum(1 for f in m.fillers if f.source == "audio")
    return {
        "schema": SCHEMA,
        "file": a.source,
        "no_speech": a.no_speech,
        "duration_s": _r(a.transcript.duration_s),
        "speech_s": _r(m.speech_s),
        "speaking_span_s": _r(m.speaking_span_s),
        "wpm": _r(m.wpm, 1),
        "transcript": a.transcript.text,
        "words": [
            {"text": w.text, "start": _r(w.start), "end": _r(w.end), "probability": _r(w.probability),
             "filler": i in filler_idx}
            for i, w in enumerate(words)
        ],
        "fillers": [
            {"text": f.text, "start": _r(f.start), "end": _r(f.end), "kind": f.kind, "source": f.source}
            for f in m.fillers
        ],
        "pauses": [
            {"start": p.start, "end": p.end, "duration_s": p.duration_s, "long": p.long} for p in m.pauses
        ],
        "metrics": {
            "span_start": _r(m.span_start),
            "span_end": _r(m.span_end),
            "content_words": m.content_words,
            "wpm": _r(m.wpm, 1),
            "articulation_wpm": _r(m.articulation_wpm, 1),
            "target_wpm": list(m.options.target_wpm),
            "pace": [{"start": w.start, "end": w.end, "wpm": w.wpm, "flag": w.flag} for w in m.pace],
            "filler_count": len(m.fillers),
            "filler_counts": m.filler_counts,
            "filled_pause_count": sum(f.kind == "filled_pause" for f in m.fillers),
            "discourse_filler_count": sum(f.kind == "discourse" for f in m.fillers),
            "fillers_per_min": _r(m.fillers_per_min, 2),
            "filler_share": _r(len(m.fillers) / total_words if total_words else 0.0),
            "filler_time_s": _r(m.filler_time_s),
            "fillers_lower_bound": bool(a.unconfirmed_hesitations),
            "unconfirmed_hesitations": [{"start": s, "end": e} for s, e in a.unconfirmed_hesitations],
            "repetitions": [{"text": r.text, "start": _r(r.start), "end": _r(r.end)} for r in m.repetitions],
            "pause_count": len(m.pauses),
            "long_pause_count": len(m.long_pauses),
            "pause_time_s": _r(sum(p.duration_s for p in m.pauses)),
            "i_count": m.i_count,
            "we_count": m.we_count,
            "action_i_count": _action_count(a.star, "i"),
            "action_we_count": _action_count(a.star, "we"),
            "hedges": m.hedges,
            "quantities": [{"text": q.text, "start": _r(q.start), "end": _r(q.end), "kind": q.kind}
                           for q in m.quantities],
        },
        "star": star_document(a.star),
        "timings": {"load_s": a.timings.load_s, "transcribe_s": a.timings.transcribe_s,
                    "analyze_s": a.timings.analyze_s, "total_s": a.timings.total_s},
        "model": {"name": a.model.name, "path": str(a.model.path)},
    }


def check_document(star: StarReport, source: str) -> dict[str, Any]:
    """The ``check --json`` document."""
    return {"schema": SCHEMA, "file": source, "words": sum(s.words for s in star.sentences),
            "star": star_document(star)}


def _action_count(star: StarReport, who: str) -> int:
    import re

    rx = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|me|my|myself)\b" if who == "i"
                    else r"\b(?:we|we're|we've|we'd|we'll|us|our|ourselves)\b")
    return sum(len(rx.findall(star.sentences[i].text.lower())) for i in star.parts["action"].sentences)


# --- the terminal report --------------------------------------------------------

def _clock(t: float | None) -> str:
    if t is None:
        return "  -  "
    m, s = divmod(max(0.0, t), 60)
    return f"{int(m)}:{s:04.1f}"


def render_analysis(a: "Analysis", console: "Console") -> None:
    """Print the readable report of one spoken answer."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    m = a.metrics
    title = a.source or "answer"
    if a.no_speech:
        console.print(Panel(f"No speech found in {title} ({a.transcript.duration_s:.1f} s of audio).\n"
                            "Check that the right microphone is selected and speak closer to it.",
                            title="starcoach", border_style="red"))
        return
    low, high = m.options.target_wpm
    pace_note = "on target" if low <= m.wpm <= high else ("slow" if m.wpm < low else "fast")
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("Length", f"{m.speaking_span_s:.0f} s speaking ({a.transcript.duration_s:.0f} s file, "
                           f"{m.speech_s:.0f} s of voice)")
    head.add_row("Pace", f"{m.wpm:.0f} words/min ({pace_note}; target {low:.0f}–{high:.0f}), "
                         f"{m.articulation_wpm:.0f} without pauses")
    head.add_row("Fillers", f"{len(m.fillers)} ({m.fillers_per_min:.1f}/min)  "
                            + ", ".join(f"{k} ×{v}" for k, v in m.filler_counts.items())
                            + (f"  — a lower bound: {len(a.unconfirmed_hesitations)} more voiced hesitation(s) "
                               "could not be named" if a.unconfirmed_hesitations else ""))
    head.add_row("Pauses", f"{len(m.pauses)} of ≥{m.options.pause_min_s:g} s, {len(m.long_pauses)} long "
                           f"(≥{m.options.long_pause_s:g} s)")
    head.add_row("I / we", f"\"I\" {m.i_count}, \"we\" {m.we_count}")
    if m.repetitions:
        head.add_row("Repeats", ", ".join(f"\"{r.text} {r.text}\" at {_clock(r.start)}" for r in m.repetitions[:6]))
    if m.hedges:
        head.add_row("Hedges", ", ".join(f"{k} ×{v}" for k, v in m.hedges.items()))
    head.add_row("Numbers", ", ".join(q.text for q in m.quantities[:10]) or "none — quantify your result")
    console.print(Panel(head, title=f"starcoach · {title}", border_style="bright_blue"))

    # Transcript with fillers marked.
    filler_idx = filler_word_indexes(m.fillers)
    text = Text()
    for i, w in enumerate(a.transcript.words):
        text.append(w.text + " ", style="bold red" if i in filler_idx else None)
    console.print(Panel(text, title="Transcript (fillers in red)", border_style="white"))

    marks = Table(title="Fillers and long pauses", show_edge=False, header_style="bold")
    marks.add_column("time", justify="right")
    marks.add_column("what")
    events = [(f.start, f"{f.text}" + ("  (heard in the audio)" if f.source == "audio" else ""))
              for f in m.fillers]
    events += [(p.start, f"[yellow]pause {p.duration_s:.1f} s[/yellow]") for p in m.long_pauses]
    for t, what in sorted(events):
        marks.add_row(_clock(t), what)
    if events:
        console.print(marks)
    slow_fast = [w for w in m.pace if w.flag]
    if slow_fast:
        console.print("Pace outside the target band: " + ", ".join(
            f"{_clock(w.start)}–{_clock(w.end)} {w.wpm:.0f} wpm ({w.flag})" for w in slow_fast))
    render_star(a.star, console)


def render_star(star: StarReport, console: "Console") -> None:
    """Print the answer's STAR parts as labelled sections, then the coach's notes."""
    from rich.panel import Panel
    from rich.text import Text

    body = Text()
    current = None
    for s in star.sentences:
        if s.label != current:
            current = s.label
            part = star.parts.get(current)
            share = ""
            if part is not None:
                share = f" · {part.share_words:.0%} of words"
                if part.share_time is not None:
                    secs = sum(star.sentences[i].end - star.sentences[i].start for i in part.sentences)
                    share += f", {secs:.0f} s"
            if body:
                body.append("\n")
            body.append(f"{current.upper()}{share}\n", style=f"bold {_PART_STYLE[current]}")
        when = f"[{_clock(s.start)}] " if s.start is not None else ""
        body.append(f"  {when}{s.text}\n")
    present = " ".join(
        f"[{_PART_STYLE[p]}]{p[0].upper()}[/]" if star.parts[p].present else f"[dim]{p[0].upper()}·[/]"
        for p in PARTS
    )
    console.print(Panel(body, title=f"STAR structure  {present}", border_style="green"))
    lines = [f"[bold]Rating {star.rating}/10[/bold]"]
    lines += [f"[green]✓[/green] {s}" for s in star.strengths]
    for f in star.feedback:
        mark = {"missing": "[red]✗[/red]", "warning": "[yellow]![/yellow]"}.get(f.severity, "[cyan]→[/cyan]")
        where = f"  (sentences {', '.join(str(i + 1) for i in f.sentences)})" if f.sentences else ""
        lines.append(f"{mark} {f.message}{where}")
    console.print(Panel("\n".join(lines), title="Coach's notes", border_style="yellow"))


def render_models(infos: list["ModelInfo"], default: str, console: "Console") -> None:
    from rich.table import Table

    table = Table(header_style="bold")
    for col in ("name", "ready", "size", "source", "path"):
        table.add_column(col)
    for m in infos:
        size = f"{m.size_bytes / 1e6:.0f} MB" if m.size_bytes else "?"
        name = m.name + (" (default)" if m.name == default else "")
        table.add_row(name, "yes" if m.ready else "no", size, m.source, str(m.path or ""))
    console.print(table)
