"""Speaking metrics: pace, pauses, fillers and word habits.

Pure functions of a :class:`Transcript` and, for pauses and hesitations Whisper left
out, the :class:`Activity` measured from the samples. No files, clock or model here.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ..audio.activity import Activity, bridged, silences
from ..domain.transcript import Filler, Repetition, Transcript, Word, join_words
from ..domain.vocab import (DISCOURSE, FILLED, I_WORDS, MULTIPLE_WORDS, NUMBER_WORDS, SOONER_WORDS, WE_WORDS,
                            is_filled_pause)
from .alignment import align_fillers, covered
from .background import speaker_voice
from .fillers import KIND_CONTENT_BEFORE, filler_word_indexes, find_fillers, find_repetitions


@dataclass(frozen=True)
class MetricsOptions:
    """Thresholds for the metrics (the ``[metrics]`` table of config.toml).

    Attributes:
        pause_min_s: a silence between words at least this long is a pause.
        long_pause_s: a pause at least this long is called out in the report.
        target_wpm: the comfortable pace band, words per minute (low, high).
        pace_window_s: length of the windows for pace over time.
        hesitation_min_s: shortest voiced stretch in a gap that may be a filler.
        hesitation_max_s: longest such stretch (longer ones are words the
            recogniser mistimed, not hesitations).
        hesitation_max_covered: a stretch counts as a gap when recognised words
            cover at most this share of it.
    """

    pause_min_s: float = field(default=1.0, metadata={"range": (0.1, 10.0)})
    long_pause_s: float = field(default=2.0, metadata={"range": (0.2, 60.0)})
    target_wpm: tuple[float, float] = field(default=(120.0, 160.0), metadata={"range": (40.0, 400.0)})
    pace_window_s: float = field(default=15.0, metadata={"range": (2.0, 300.0)})
    hesitation_min_s: float = field(default=0.12, metadata={"range": (0.01, 2.0)})
    hesitation_max_s: float = field(default=0.9, metadata={"range": (0.05, 5.0)})
    hesitation_max_covered: float = field(default=0.35, metadata={"range": (0.0, 1.0)})


@dataclass(frozen=True)
class Pause:
    start: float
    end: float
    duration_s: float
    long: bool


@dataclass(frozen=True)
class PaceWindow:
    start: float
    end: float
    wpm: float
    flag: str  # "slow", "fast" or ""


@dataclass(frozen=True)
class Quantity:
    text: str
    start: float
    end: float
    kind: str  # "percent", "money", "duration", "number"


@dataclass(frozen=True)
class SpeakingMetrics:
    """Everything measured about how an answer was spoken.

    Times are seconds from the start of the recording.
    """

    duration_s: float
    speech_s: float
    span_start: float
    span_end: float
    content_words: int
    wpm: float
    articulation_wpm: float
    pace: tuple[PaceWindow, ...]
    pauses: tuple[Pause, ...]
    fillers: tuple[Filler, ...]
    repetitions: tuple[Repetition, ...]
    i_count: int
    we_count: int
    hedges: dict[str, int]
    quantities: tuple[Quantity, ...]
    options: MetricsOptions = field(default_factory=MetricsOptions)

    @property
    def speaking_span_s(self) -> float:
        return max(0.0, self.span_end - self.span_start)

    @property
    def filler_counts(self) -> dict[str, int]:
        return dict(Counter(f.text.lower() if f.text != "I mean" else f.text for f in self.fillers).most_common())

    @property
    def fillers_per_min(self) -> float:
        span = self.speaking_span_s
        return len(self.fillers) / (span / 60) if span > 0 else 0.0

    @property
    def filler_time_s(self) -> float:
        return sum(f.end - f.start for f in self.fillers)

    @property
    def long_pauses(self) -> tuple[Pause, ...]:
        return tuple(p for p in self.pauses if p.long)


_HEDGES = ("i think", "i guess", "i believe", "i feel like", "maybe", "probably", "perhaps", "sort of",
           "kind of", "just", "might", "somewhat", "a little bit", "hopefully")
# The STAR report's "The Result is quantified" reads the same words (star_coach._QUANTIFIED).
_NUMBER_WORDS = NUMBER_WORDS | MULTIPLE_WORDS | {"one"}
_DURATION_UNITS = re.compile(r"^(?:seconds?|minutes?|hours?|days?|weeks?|months?|quarters?|years?|sprints?|ms|"
                             r"milliseconds?|hrs?|mins?)$")
_MONEY_UNITS = re.compile(r"^(?:dollars?|euros?|pounds?|bucks|k|grand|usd)$")
_NUMERIC = re.compile(r"^[$€£]?\d[\d,.]*(?:%|k|m|x|ms|s|h)?$")


def compute_metrics(
    transcript: Transcript,
    activity: Activity,
    *,
    audio_fillers: tuple[Filler, ...] = (),
    options: MetricsOptions | None = None,
) -> SpeakingMetrics:
    """Measure pace, pauses, fillers and word habits.

    Args:
        transcript: the recognised words.
        activity: speech activity of the same audio (from ``acoustics``).
        audio_fillers: filled pauses found in the audio that the recogniser left
            out (see :func:`hesitation_gaps`).
        options: thresholds; defaults if None.

    Returns:
        The :class:`SpeakingMetrics`.
    """
    opts = options or MetricsOptions()
    words = transcript.words
    text_fillers = align_fillers(find_fillers(words), words, activity)
    fillers = tuple(sorted(text_fillers + list(audio_fillers), key=lambda f: f.start))
    repetitions = tuple(find_repetitions(words, text_fillers))
    filler_idx = filler_word_indexes(text_fillers)
    # a filled pause merged into its neighbour or dropped as unspoken is still not a content word
    content = [w for i, w in enumerate(words) if i not in filler_idx and not is_filled_pause(w.norm)]

    voice, heard = speaker_voice(activity, words)  # another voice in the room ends no pause, nor bounds the span
    span_start, span_end = _speaking_span(heard, voice)
    if transcript.duration_s > 0:  # a level frame reaches half a frame past the last sample
        span_end = min(span_end, transcript.duration_s)
    span = max(span_end - span_start, 1e-9)
    pauses = tuple(
        Pause(start=round(s, 3), end=round(e, 3), duration_s=round(e - s, 3), long=e - s >= opts.long_pause_s)
        for s, e in _unworded(silences(voice, start=span_start, end=span_end, min_s=opts.pause_min_s), heard,
                              opts.pause_min_s)
    ) if words else ()
    paused = sum(p.duration_s for p in pauses)
    n = len(content)
    wpm = n / (span / 60) if words else 0.0
    articulation = n / (max(span - paused, 1e-9) / 60) if words else 0.0

    norms = [w.norm for w in content]
    return SpeakingMetrics(
        duration_s=transcript.duration_s,
        speech_s=activity.speech_s,
        span_start=span_start,
        span_end=span_end,
        content_words=n,
        wpm=wpm,
        articulation_wpm=articulation,
        pace=tuple(_pace_windows(content, span_start, span_end, opts)),
        pauses=pauses,
        fillers=fillers,
        repetitions=repetitions,
        i_count=sum(t in I_WORDS for t in norms),
        we_count=sum(t in WE_WORDS for t in norms),
        hedges=_hedges(norms),
        quantities=tuple(find_quantities(content)),
        options=opts,
    )


def hesitation_gaps(
    transcript: Transcript, activity: Activity, *, options: MetricsOptions | None = None
) -> list[tuple[float, float]]:
    """Short voiced stretches that no recognised word accounts for.

    These are where a speaker most likely said "um" or "uh" and the recogniser,
    trained on cleaned transcripts, left it out. The caller asks the model about
    each stretch on its own and keeps those it hears as a filled pause.
    """
    opts = options or MetricsOptions()
    words = transcript.words
    stamped = find_fillers(words)
    fillers = align_fillers(stamped, words, activity)
    skip = filler_word_indexes(fillers)
    spans = sorted((w.start, w.end) for i, w in enumerate(words) if i not in skip)
    # A filled pause the recogniser wrote claims both where it was moved and where
    # it was stamped, so the same "um" is not found a second time in the audio.
    claimed = [(f.start, f.end) for f in fillers if f.kind == FILLED]
    claimed += [(f.start - 0.3, f.end + 0.3) for f in stamped if f.kind == FILLED]
    out = []
    for rs, re_ in activity.regions:
        d = re_ - rs
        if not opts.hesitation_min_s <= d <= opts.hesitation_max_s:
            continue
        if covered(rs, re_, spans) / d > opts.hesitation_max_covered:
            continue
        if any(min(re_, e) - max(rs, s) > 0.3 * d for s, e in claimed):
            continue
        out.append((rs, re_))
    return out


def find_quantities(words: list[Word] | tuple[Word, ...]) -> list[Quantity]:
    """Numbers, percentages, money and durations mentioned ("45 minutes", "30%", "$2M")."""
    out: list[Quantity] = []
    i = 0
    words = list(words)
    while i < len(words):
        raw = words[i].text.strip().strip(",.;:!?").lower()
        tok = words[i].norm
        said = _said_with_a(words, i)
        if said:
            end, kind = said
            text = join_words(w.text.strip(",.;:!?") for w in words[i:end])
            out.append(Quantity(text=text, start=words[i].start, end=words[end - 1].end, kind=kind))
            i = end
            continue
        if _NUMERIC.match(raw) or tok in _NUMBER_WORDS or (raw.startswith("$") and len(raw) > 1):
            j = i + 1
            while j < len(words) and (words[j].norm in _NUMBER_WORDS or _NUMERIC.match(words[j].norm)):
                j += 1
            unit = words[j].norm if j < len(words) else ""
            if j < len(words) and words[j].text.strip().startswith("%"):
                unit = "percent"  # "15 %": the recogniser split the sign off
            kind = "number"
            if raw.endswith("%") or unit in ("percent", "percentage"):
                kind = "percent"
            elif raw.startswith(("$", "€", "£")) or _MONEY_UNITS.match(unit):
                kind = "money"
            elif _DURATION_UNITS.match(unit) or raw.endswith(("ms", "h")):
                kind = "duration"
            has_unit = (unit in ("percent", "percentage") or bool(_MONEY_UNITS.match(unit))
                        or bool(_DURATION_UNITS.match(unit)))
            end = j + 1 if has_unit and j < len(words) else j
            if tok in ("one",) and kind == "number":  # "one of", "no one": rarely a quantity
                i += 1
                continue
            text = join_words(w.text.strip(",.;:!?") for w in words[i:end])
            out.append(Quantity(text=text, start=words[i].start, end=words[end - 1].end, kind=kind))
            i = end
            continue
        i += 1
    return out


def _said_with_a(words: list[Word], i: int) -> tuple[int, str] | None:
    """(end, kind) of a quantity said with "a" or a small number at word I: a fraction ("a third",
    "two thirds"; not "a third party") or time saved ("a day earlier", "an hour faster")."""
    nxt = [w.norm for w in words[i + 1:i + 4]]
    if words[i].norm in ("a", "one", "two", "three") and nxt[:1] \
            and nxt[0] in ("third", "thirds", "quarter", "quarters") and nxt[1:2] not in (["party"], ["part"]):
        return i + 2, "number"
    if words[i].norm in ("a", "an") and len(nxt) >= 2 and _DURATION_UNITS.match(nxt[0]) and nxt[1] in SOONER_WORDS:
        return i + 3, "duration"
    return None


def _hedges(norms: list[str]) -> dict[str, int]:
    """How often each hedge is said; "kind of" and "sort of" after a determiner are nouns ("this kind of
    thing", "a sort of queue"), as the filler rules read them, not hedges (an audit's)."""
    counts: Counter[str] = Counter()
    for h in _HEDGES:
        said = h.split()
        noun = said[1:] == ["of"]  # "kind of", "sort of"
        for i in range(len(norms) - len(said) + 1):
            if norms[i:i + len(said)] == said and not (noun and i and norms[i - 1] in KIND_CONTENT_BEFORE):
                counts[h] += 1
    return dict(counts)


def _unworded(gaps: list[tuple[float, float]], words: tuple[Word, ...], min_s: float) -> list[tuple[float, float]]:
    """The silences of the voice left where no word was heard: each cut around a word the
    recogniser placed wholly inside it. In heavy noise the voice detector loses stretches of
    speech that Whisper still transcribes, and they read as long pauses (white noise at 10 dB:
    ten false ones in 16 answers of SVOX Pico's voices; docs/accuracy.md). A word stamped across
    the silence's edge (Whisper stretches a word over a pause) does not cut, nor a filled pause
    (it is moved onto the voice on its own), nor a word of no length."""
    heard = sorted((w.start, w.end) for w in words if w.end > w.start and not is_filled_pause(w.norm))
    out = []
    for start, end in gaps:
        # overlapping words are one stretch of voice, in any order
        merged = bridged([(a, b) for a, b in heard if start <= a and b <= end], 0.0)
        edges = [start, *(t for span in merged for t in span), end]
        out += [(a, b) for a, b in zip(edges[::2], edges[1::2]) if b - a >= min_s]
    return out


def _speaking_span(words: tuple[Word, ...], activity: Activity) -> tuple[float, float]:
    """First to last spoken word, snapped to where the audio shows speech."""
    if not words:
        return 0.0, 0.0
    start, end = words[0].start, words[-1].end
    inside = [r for r in activity.regions if r[1] > start - 1.0 and r[0] < end + 1.0]
    if inside:
        first = next((r for r in inside if r[1] > start), inside[0])
        last = next((r for r in reversed(inside) if r[0] < end), inside[-1])
        start = first[0] if first[0] < words[0].end else start
        end = last[1] if last[1] > words[-1].start else end
    return start, end


def _pace_windows(content: list[Word], start: float, end: float, opts: MetricsOptions) -> list[PaceWindow]:
    if end <= start or not content:
        return []
    size = opts.pace_window_s
    n = max(1, round((end - start) / size))
    size = (end - start) / n
    low, high = opts.target_wpm
    out = []
    for k in range(n):
        ws, we = start + k * size, start + (k + 1) * size
        count = sum(ws <= (w.start + w.end) / 2 < we or (k == n - 1 and (w.start + w.end) / 2 >= we)
                    for w in content)
        wpm = count / (size / 60)
        flag = "slow" if wpm < low else "fast" if wpm > high else ""
        out.append(PaceWindow(start=round(ws, 2), end=min(round(we, 2), end), wpm=round(wpm, 1), flag=flag))
    return out


__all__ = [
    "DISCOURSE", "FILLED", "Filler", "MetricsOptions", "Pause", "PaceWindow", "Quantity", "Repetition",
    "SpeakingMetrics", "align_fillers", "compute_metrics", "find_quantities", "hesitation_gaps",
]
