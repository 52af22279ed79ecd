"""The one serializer of the versioned JSON document (``analyze``/``check``/``show --json``).

The stages hand each other frozen dataclasses (:class:`Transcript`,
:class:`SpeakingMetrics`, :class:`StarReport`, :class:`Analysis`); this module turns
them into the document that scripts read and the store keeps. The document is a
contract: fields are added, never renamed or removed; ``schema`` is its version, and
``docs/schema/starcoach.schema.json`` describes it (checked by the tests).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..domain.vocab import I_WORDS, PARTS, WE_WORDS, words_rx
from .fillers import filler_word_indexes
from .star import StarReport

if TYPE_CHECKING:  # pragma: no cover
    from .pipeline import Analysis
    from .quality import AudioQuality

SCHEMA = 1


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(float(x), nd)


def star_document(star: StarReport) -> dict[str, Any]:
    """The ``star`` object of the JSON document."""
    doc: dict[str, Any] = {}
    for p in PARTS:
        part = star.parts[p]
        doc[p] = {"present": part.present, "sentences": list(part.sentences),
                  "share_words": part.share_words, "share_time": part.share_time,
                  "confidence": part.confidence, "unclear": part.unclear}
    doc["sentences"] = [
        {"text": s.text, "label": s.label, "start": _r(s.start), "end": _r(s.end), "cues": list(s.cues),
         "probabilities": dict(zip(PARTS, s.probabilities)),
         "parts": [{"part": part, "share": share,
                    "probability": s.probabilities[PARTS.index(part)] if s.probabilities and part in PARTS
                    else None}
                   for part, share in (s.parts or ((s.label, 1.0),))],
         "hypothetical": s.hypothetical}
        for s in star.sentences
    ]
    doc["not_a_story"] = star.not_a_story
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
        "audio": audio_document(a.quality),
        "timings": {"load_s": a.timings.load_s, "transcribe_s": a.timings.transcribe_s,
                    "analyze_s": a.timings.analyze_s, "total_s": a.timings.total_s},
        "model": {"name": a.model.name, "path": str(a.model.path)},
    }


def audio_document(q: AudioQuality | None) -> dict[str, Any] | None:
    """The ``audio`` object: levels of the recording and whether its counts are reliable."""
    if q is None:
        return None
    return {"speech_dbfs": q.speech_dbfs, "noise_dbfs": q.noise_dbfs, "snr_db": q.snr_db,
            "peak_dbfs": q.peak_dbfs, "clipped_share": q.clipped_share, "reliable": q.reliable,
            "problems": list(q.problems), "warning": q.warning,
            "background_voice_share": q.background_voice_share,
            "silent_input": [{"start": a, "end": b} for a, b in q.silent_input],
            "other_language": None if q.other_language is None else
            {"code": q.other_language[0], "probability": q.other_language[1]},
            "damaged_share": q.damaged_share, "high_band_db": q.high_band_db}


def check_document(star: StarReport, source: str, follow_up_to: str | None = None) -> dict[str, Any]:
    """The ``check --json`` document; FOLLOW_UP_TO: the story whose follow-up question an exported answer
    answers (see ``output.export.follow_up_export``)."""
    return {"schema": SCHEMA, "file": source, "words": sum(s.words for s in star.sentences),
            "star": star_document(star), "follow_up_to": follow_up_to}


def _action_count(star: StarReport, who: str) -> int:
    rx = words_rx(I_WORDS if who == "i" else WE_WORDS)
    return sum(len(rx.findall(star.sentences[i].text.lower())) for i in star.parts["action"].sentences)
