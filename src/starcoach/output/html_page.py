"""The HTML export of a take: one self-contained page (player, waveform timeline with STAR bands,
fillers and long pauses, a transcript in which clicking a word plays from there), readable at a
phone's width: the timeline's legend and time marks are page text, not text inside the drawing.
"""

from __future__ import annotations

import base64
import html
import io
import re
from importlib import resources
from typing import Any

import numpy as np

from ..domain.document import FOLLOW_UP_NOTE, follow_up_of, is_follow_up, no_speech_advice
from ..domain.transcript import plural
from ..domain.vocab import PART_TITLES
from .export import PART_COLOURS, sentence_word_lists


def waveform(samples: np.ndarray, columns: int = 900) -> list[tuple[float, float]]:
    """Min and max per column, for drawing."""
    if len(samples) == 0:
        return []
    n = min(columns, len(samples))
    edges = np.linspace(0, len(samples), n + 1).astype(int)
    return [(float(samples[a:b].min()), float(samples[a:b].max())) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def _timeline_svg(doc: dict[str, Any], peaks: list[tuple[float, float]], width: int = 900, height: int = 120) -> str:
    duration = max(doc.get("duration_s") or 0.0, 1e-6)
    x = lambda t: round(width * t / duration, 2)  # noqa: E731
    mid = height / 2
    parts = [f'<svg id="timeline" viewBox="0 0 {width} {height}" width="100%" '
             f'xmlns="http://www.w3.org/2000/svg" role="img" aria-label="waveform timeline">']
    sentences = [s for s in doc["star"]["sentences"] if s.get("start") is not None and not is_follow_up(doc)]
    for s in sentences:  # STAR's bands: none on an answer to a follow-up (no story)
        colour = PART_COLOURS.get(s["label"], "#bbb")
        parts.append(f'<rect class="band band-{s["label"]}" x="{x(s["start"])}" y="0" '
                     f'width="{max(0.5, x(s["end"]) - x(s["start"]))}" height="{height}" fill="{colour}" '
                     f'fill-opacity="0.25"><title>{PART_TITLES.get(s["label"], s["label"])}</title></rect>')
    for p in doc["pauses"]:
        if p["long"]:
            parts.append(f'<rect class="pause" x="{x(p["start"])}" y="0" width="{x(p["end"]) - x(p["start"])}" '
                         f'height="{height}" fill="#999" fill-opacity="0.35"><title>pause {p["duration_s"]:.1f} s'
                         f'</title></rect>')
    step = width / max(1, len(peaks))
    path = " ".join(f"M{i * step:.1f},{mid - hi * mid:.1f}V{mid - lo * mid:.1f}" for i, (lo, hi) in enumerate(peaks))
    parts.append(f'<path class="wave" d="{path}" stroke="#333" stroke-width="{max(0.6, step):.2f}"/>')
    for f in doc["fillers"]:
        parts.append(f'<line class="filler-mark" x1="{x(f["start"])}" x2="{x(f["start"])}" y1="0" y2="{height}" '
                     f'stroke="#d62728" stroke-width="2"><title>{html.escape(f["text"])} at '
                     f'{f["start"]:.1f} s</title></line>')
    parts.append(f'<line id="playhead" x1="0" x2="0" y1="0" y2="{height}" stroke="#000" stroke-width="1.5"/>')
    parts.append("</svg>")  # its legend and time marks are page text below it (_legend, _ticks)
    return "\n".join(parts)


def to_html(doc: dict[str, Any], audio_samples: np.ndarray, sample_rate: int) -> str:
    """One self-contained page: player, waveform timeline with STAR bands, fillers and long
    pauses, and a transcript in which clicking a word plays from there."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, audio_samples, sample_rate, format="FLAC")
    take = doc.get("take", {})
    title = html.escape(take.get("question_text") or "My answer")  # as the Markdown export names it
    figures = ((f"{doc['speaking_span_s']:.0f} s", f"{doc['wpm']:.0f} wpm", plural(doc['metrics']['filler_count'],
                "filler"), plural(doc['metrics']['long_pause_count'], "long pause")) if not doc.get("no_speech")
               else ("no speech", f"{doc.get('duration_s') or 0:.1f} s of audio"))  # 0 wpm is not a pace
    story = follow_up_of(take.get("question_id"))  # said as the Markdown export and `show` say it
    meta = html.escape(" · ".join(x for x in (
        f"take {take['id']}" if take.get("id") else "", f"a follow-up to {story}" if story else "",
        take.get("started_at") or "", *figures) if x))
    sentences = []
    for s, words in zip(doc["star"]["sentences"], sentence_word_lists(doc)):
        if not words:
            continue
        spans = " ".join(
            f'<span class="w{" filler" if w["filler"] else ""}" data-start="{w["start"]:.3f}" '
            f'data-end="{w["end"]:.3f}">{html.escape(w["text"])}</span>' for w in words)
        if is_follow_up(doc):  # no story: its sentences without STAR's parts
            sentences.append(f'<p class="sentence">{spans}</p>')
            continue
        colour = PART_COLOURS.get(s["label"], "#ccc")
        sentences.append(f'<p class="sentence" data-label="{s["label"]}" style="border-color:{colour}">'
                         f'<span class="label">{PART_TITLES.get(s["label"], s["label"])}</span> {spans}</p>')
    # As `show` lists them: what the answer does well, then what to fix.
    feedback = "".join(f'<li class="strength">✓ {_inline(s)}</li>' for s in doc["star"].get("strengths") or []) + (
        "".join(f"<li>{_inline(f['message'])}</li>" for f in doc["star"]["feedback"]) or "<li>Nothing to fix.</li>")
    rating = f" — rating {doc['star']['rating']}/10"
    if is_follow_up(doc):  # no story to rate, as `show` says
        feedback, rating = f"<li>{_inline(FOLLOW_UP_NOTE)}</li>", ""
    warning = (doc.get("audio") or {}).get("warning")
    if doc.get("no_speech"):  # as `show` says it, once: no story to coach, and no rating of silence
        advice = "" if "silent_input" in ((doc.get("audio") or {}).get("problems") or ()) and warning \
            else f" {no_speech_advice(doc)}"  # the audio warning above says what to check already
        said = f"No speech found in this take ({doc.get('duration_s') or 0:.1f} s of audio).{advice}"
        sentences, feedback, rating = [f"<p>{_inline(said)}</p>"], "<li>Nothing to coach: no speech.</li>", ""
    if warning and not warning.startswith("Audio"):
        warning = f"Audio: {warning}"
    template = resources.files("starcoach").joinpath("data/page.html").read_text("utf-8")
    return template.format(
        title=title, meta=meta, mime="audio/flac", audio=base64.b64encode(buf.getvalue()).decode("ascii"),
        warning=f'<p class="warning">{_inline(warning)}</p>' if warning else "",
        timeline=_timeline_svg(doc, waveform(audio_samples)), ticks=_ticks(doc), legend=_legend(doc),
        transcript="\n".join(sentences), rating=rating, feedback=feedback,
        duration=max(doc.get("duration_s") or 0.0, 1e-6),
    )


def _inline(text: str) -> str:
    """Text for the page: escaped, and `starcoach …` set as code (the messages are the report's;
    a backtick a message quotes from the transcript stays one)."""
    return re.sub(r"`(starcoach [^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))


def _ticks(doc: dict[str, Any]) -> str:
    """Time marks under the timeline (m:ss), as page text: text inside the drawing shrinks with it,
    to 5 px on a phone."""
    duration = doc.get("duration_s") or 0.0
    step = next((s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600) if duration / s <= 8), 1200)
    marks = [t for t in range(0, int(duration) + 1, step)] if duration > 0 else []
    return "".join(f'<span style="left:{100 * t / duration:.2f}%">{t // 60}:{t % 60:02d}</span>' for t in marks)


def _legend(doc: dict[str, Any]) -> str:
    """What the timeline's colours and marks are: the parts the answer has, fillers, long pauses."""
    present = [p for p in PART_COLOURS if (doc["star"].get(p) or {}).get("present") and not is_follow_up(doc)]
    items = [f'<span><i style="background:{PART_COLOURS[p]}"></i>{PART_TITLES[p]}</span>' for p in present]
    if doc.get("fillers"):
        items.append('<span><i class="filler-key"></i>filler</span>')
    if any(p["long"] for p in doc.get("pauses") or ()):
        items.append('<span><i class="pause-key"></i>long pause</span>')
    return "".join(items)
