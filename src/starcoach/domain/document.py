"""The shape every stored analysis document has had since release 0.1.0 (docs/json.md): what a
take's document must hold for `show`, `export`, `compare` and the rest to read it.

A leaf module (no numpy, no analysis code), so that listing takes stays quick.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .vocab import CORE_PARTS, PARTS

# A file name that is not UTF-8 reaches Python as lone surrogates (bytes 0x80-0xff as U+DC80-U+DCFF).
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def json_text(doc: Any) -> str:
    """A document as the JSON every ``--json`` and json export writes: UTF-8 text (RFC 8259), other
    scripts as they are. A file name that is not UTF-8 keeps its bytes as ``\\udcXX``
    escapes (Python's ``os.fsencode(json.loads(...)["file"])`` gives the name back), where writing the
    raw byte made the whole document invalid UTF-8."""
    text = json.dumps(doc, indent=1, ensure_ascii=False)
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)  # only inside strings: JSON's own are ASCII


# A follow-up answer (`practice`, key f) is stored under its question's id, this mark and the follow-up's
# number: "deep-1/follow-up-2". It is no story: STAR is not judged on it, and `progress` and `coverage`
# leave it out (`takes --lp` lists it under its question's principles). A question file may not use such an id.
FOLLOW_UP_MARK = "/follow-up-"
_FOLLOW_UP_ID = re.compile(r"(.+)/follow-up-([1-9][0-9]*)")


def follow_up_of(question_id: str | None) -> str | None:
    """The id of the question a follow-up answer's QUESTION_ID belongs to ("deep-1" for
    "deep-1/follow-up-2"); None for any other id, or none."""
    found = _FOLLOW_UP_ID.fullmatch(question_id or "")
    return found.group(1) if found else None


def is_follow_up(doc: dict[str, Any]) -> bool:
    """Whether a take's document is an answer to a follow-up question."""
    return follow_up_of((doc.get("take") or {}).get("question_id")) is not None


# The coach's notes on an answer to a follow-up question, in place of the STAR notes a story gets (the
# report, the page and the Markdown export): "No Situation", a rating of 2 and "aim for 90-120 s" would
# mislead there.
FOLLOW_UP_NOTE = ("A follow-up answer: STAR is judged on whole stories, not here. Answer the question in your first "
                  "sentence, then back it with one specific: what you did yourself (\"I\"), a number, a name. Keep "
                  "it short: an interviewer who wants more asks again.")


def no_speech_advice(doc: dict[str, Any]) -> str:
    """What to do about a take with no speech in it, as every report of it says: a muted or
    switched input (pure digital silence) is told apart from a quiet or distant voice."""
    if "silent_input" in ((doc.get("audio") or {}).get("problems") or ()):
        return ("It is pure digital silence, as from a microphone that is muted, unplugged or not the one you "
                "speak into. Check the system's mute and `starcoach devices`.")
    if (doc.get("duration_s") or 0) < STOPPED_AT_ONCE_S:  # Enter at the cue: nothing to blame the microphone for
        voice = doc.get("speech_s") or 0
        if voice >= 0.05:  # a sound cut short (an audit's 0.25 s file of "Yes." was told nothing could be said)
            return f"No word could be made out of its {voice:.1f} s of voice; retake it when you are ready."
        return "It was stopped before anything could be said; retake it when you are ready."
    return "Check that the right microphone is selected (`starcoach devices`) and speak closer to it."


# A take with no speech shorter than this was stopped at once (Enter or Ctrl+C at the cue): a
# judgement, not a fitted value: the shortest answer, "Yes.", is said and heard within it.
STOPPED_AT_ONCE_S = 1.5


# What every stored analysis has held since release 0.1.0 (its JSON contract, docs/json.md), by type:
# one without them was damaged by something else, and reading it fails later, field by field.
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "no_speech": bool, "duration_s": (int, float), "speech_s": (int, float), "speaking_span_s": (int, float),
    "wpm": (int, float), "transcript": str, "words": list, "fillers": list, "pauses": list, "metrics": dict,
    "star": dict}
_NUMBER = (int, float)
# ... and under them, by type too: a value of another type (a count edited to null) made `show`
# fail on it with "unexpected error" while `doctor` called the database ok.
_METRICS: dict[str, type | tuple[type, ...]] = {
    "filler_count": int, "filler_counts": dict, "fillers_per_min": _NUMBER, "pause_count": int,
    "long_pause_count": int, "target_wpm": list, "articulation_wpm": _NUMBER, "pace": list, "quantities": list,
    "i_count": int, "we_count": int, "action_i_count": int, "action_we_count": int, "fillers_lower_bound": bool,
    "unconfirmed_hesitations": list, "repetitions": list, "hedges": dict}
_STAR: dict[str, type | tuple[type, ...]] = {**dict.fromkeys(PARTS, dict), "sentences": list, "feedback": list,
                                              "rating": int, "strengths": list}
_PART: dict[str, type | tuple[type, ...]] = {"present": bool, "share_words": _NUMBER}
# The items of the lists, by what the report, the exports and the page read of them (a field that
# may be absent or null has NoneType among its types).
_OR_NONE = type(None)
_ITEMS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "words": {"text": str, "start": _NUMBER, "end": _NUMBER, "filler": bool},
    "fillers": {"text": str, "start": _NUMBER, "source": str},
    "pauses": {"start": _NUMBER, "end": _NUMBER, "duration_s": _NUMBER, "long": bool}}
_METRIC_ITEMS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "pace": {"start": _NUMBER, "end": _NUMBER, "wpm": _NUMBER, "flag": (str, _OR_NONE)},
    "quantities": {"text": str}, "repetitions": {"text": str, "start": _NUMBER}}
_STAR_ITEMS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "sentences": {"text": str, "label": str, "start": (*_NUMBER, _OR_NONE), "end": (*_NUMBER, _OR_NONE)},
    "feedback": {"severity": str, "message": str, "sentences": list}}
_SHARE: dict[str, type | tuple[type, ...]] = {"part": str, "share": _NUMBER}
_LABELS = (*PARTS, "other")  # a sentence's label: the report reads the part of that name
_AUDIO: dict[str, type | tuple[type, ...]] = {"warning": (str, _OR_NONE), "problems": (list, _OR_NONE)}


def _typed(d: Any, fields: dict[str, type | tuple[type, ...]]) -> bool:
    """D is a dict whose FIELDS all hold their types (a bool is no number here)."""
    return _all_typed((d,), fields)


def _all_typed(items: Any, fields: dict[str, type | tuple[type, ...]]) -> bool:
    """Each of ITEMS is :func:`_typed` by FIELDS: one plain loop, since every review command
    checks each take's hundreds of words (generators and a call per word took 0.7 s of
    `progress` at 2000 takes)."""
    checks = tuple(fields.items())
    for d in items:
        if not isinstance(d, dict):
            return False
        for k, t in checks:
            v = d.get(k)
            # a bool is an int to isinstance; here it is only a bool (a type checked here is
            # bool, an int or a number, or not one a bool can be)
            if not isinstance(v, t) or (v.__class__ is bool and t is not bool):
                return False
    return True


def whole_analysis(doc: Any) -> bool:
    """Whether a stored analysis has the shape of one: :data:`_FIELDS` and the fields under them,
    each of its type, down to every field that `show`, `export` and the page read (a sentence
    number points at a sentence)."""
    if not (_typed(doc, _FIELDS) and _typed(doc["metrics"], _METRICS) and _typed(doc["star"], _STAR)):
        return False
    m, star = doc["metrics"], doc["star"]
    n = len(star["sentences"])
    return (len(m["target_wpm"]) == 2 and all(_number(v) for v in m["target_wpm"])
            and all(v.__class__ is int for v in m["hedges"].values())
            and all(_all_typed(m[key], fields) for key, fields in _METRIC_ITEMS.items())
            and _all_typed((star[p] for p in PARTS), _PART)
            and all(_indexes(star[p].get("sentences", ()), n) for p in PARTS)
            and all(_all_typed(doc[key], fields) for key, fields in _ITEMS.items())
            and all(_all_typed(star[key], fields) for key, fields in _STAR_ITEMS.items())
            and all("start" in s and "end" in s and (s["start"] is None) == (s["end"] is None) and s["label"] in _LABELS
                    and isinstance(s.get("parts", []), list) and _all_typed(s.get("parts", ()), _SHARE)
                    for s in star["sentences"])
            and all(len({star["sentences"][i]["start"] is None for i in star[p].get("sentences", ())}) <= 1
                    for p in PARTS)  # a part's time is summed over its sentences: all timed, or none
            and all("flag" in w for w in m["pace"]) and (m.get("content_words") is None or _number(m["content_words"]))
            and all(_indexes(f["sentences"], n) for f in star["feedback"])
            and all(isinstance(v, str) for v in star["strengths"])
            and (doc.get("audio") is None or _typed(doc["audio"], _AUDIO)))


def _number(v: Any) -> bool:
    return isinstance(v, _NUMBER) and v.__class__ is not bool


def _indexes(v: Any, n: int) -> bool:
    """V is a list of sentence numbers, each of one of N sentences."""
    return isinstance(v, (list, tuple)) and all(i.__class__ is int and 0 <= i < n for i in v)


def stored_analysis(text: str) -> dict[str, Any] | None:
    """The analysis document a take's stored TEXT holds, or None when it is damaged: not JSON (NaN
    and Infinity are not, nor a number too large for a float), or not :func:`whole_analysis`."""
    try:
        doc = json.loads(text, parse_constant=_no_number, parse_float=_finite)
    except (ValueError, TypeError, RecursionError):
        return None
    return doc if whole_analysis(doc) else None


def _finite(token: str) -> float:
    """A JSON number as a float; one too large for a float (1e999) read as infinity: damaged too."""
    value = float(token)
    if math.isinf(value):
        raise ValueError(f"{token} is too large a number")
    return value


def _no_number(token: str) -> float:
    """NaN and Infinity, which Python's json reads and writes but JSON has not: a stored analysis
    holding one is damaged (it was printed as invalid JSON by `show`, `export` and `compare`)."""
    raise ValueError(f"{token} is not a JSON number")


def summary_columns(document: dict[str, Any]) -> dict[str, Any]:
    """The columns `takes` and `progress` list, read from an analysis document.

    Raises:
        KeyError, TypeError: the document is not an analysis (damaged).
    """
    m = document["metrics"]
    star = document["star"]
    return {"model": document["model"]["name"], "transcript": document["transcript"],
            "speaking_span_s": document["speaking_span_s"], "wpm": document["wpm"],
            "filler_count": m["filler_count"], "fillers_per_min": m["fillers_per_min"],
            "long_pause_count": m["long_pause_count"], "i_count": m["i_count"], "we_count": m["we_count"],
            "star_rating": star["rating"], "star_parts_present": sum(bool(star[p]["present"]) for p in CORE_PARTS)}
