"""Other voices in the room: stretches of voice far quieter than the speaker's own words.

A colleague or a television a few metres away reaches a desk microphone 10-20 dB under the
speaker. The voice detector hears it as voice and Whisper writes its words ("I'm not wanting
to ship a new one." at 0.04-0.97 word probability), so they fell into the speaker's own
silences and cut them: in babble at 15 dB (three other voices' answers mixed in), 5 and 9 of
the 96 long pauses of the espeak-ng lab voices' answers were lost that way, each cut by words
or voice about 10-20 dB under the speaker's. A pause is the speaker's silence, so a pause is
measured against the speaker's voice alone: in a take where the voice detector hears a voice in
the speaker's own silences (:func:`~.quality.background_voice_share`, the evidence that makes the
report name other voices), a word or stretch of voice at least :data:`QUIETER_DB` under the level of
the speaker's words around it does not end one. The words stay in the transcript; only the
pauses (and the speaking span) change. In a take with no such evidence, a stretch that quiet is the
speaker's own, said softly (a sentence said turned away between two silences of a real voice, 12 dB
under, became one long pause across it when the rule did not ask: a review's finding).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import accumulate
from statistics import median

import numpy as np

from ..audio.activity import HOP_S, Activity
from ..domain.transcript import Word
from .quality import BACKGROUND_VOICE_SHARE, background_voice_share

# How far under the speaker's words a stretch must be to be someone else's. Chosen on the espeak-ng lab
# voices' answers in babble at 15 dB (two mixes, seeds 3 and 4, 48 answers each): long pauses found
# 91 and 87 of 96 with no rule; 96 and 96 at 10 dB, 96 and 95 at 12, 95 and 95 at 14; at 15 (seed 3,
# against the whole answer's level) 91; none false at any. That was before the rule asked for other
# voices in the speaker's silences: with it, 94 and 90. Checked on sets not used to choose
# (docs/accuracy.md, "Other voices and the pauses").
# The speaker's own words, one by one, reach down to 6 dB under their median in synthetic answers
# and 11.6 dB in the real recordings on hand ("delicious" in a casual sentence), inside phrases whose
# other words are louder: a stretch is judged as a whole, so such a word never stands alone.
QUIETER_DB = 10.0
# The speaker's level at a place: the median level of the words within NEARBY_S before and after it
# (at least MIN_NEARBY of them; else the whole answer's median), so that a speaker who turns away or
# leans back for a while is measured against their own quieter words, not the answer's.
NEARBY_S = 10.0
MIN_NEARBY = 5
# With fewer words in all, there is no speaker's level to speak of: every stretch counts.
MIN_WORDS = 20
# A word's or a stretch's level: this percentile of its hops' levels (its loud part; a word's time
# often takes in a little silence at its edges, which a mean would count).
LEVEL_PERCENTILE = 90


def speaker_voice(activity: Activity, words: tuple[Word, ...]) -> tuple[Activity, tuple[Word, ...]]:
    """The ACTIVITY and WORDS a pause is measured against: without the words, and the stretches of voice
    holding no other word, that are :data:`QUIETER_DB` or more under the speaker's words around them, when
    the voice detector hears another voice in the silences between all the words (a share of
    :data:`~.quality.BACKGROUND_VOICE_SHARE` or more). Unchanged otherwise, with fewer than
    :data:`MIN_WORDS` words, or no levels. Not between the speaker's own words, as the report's warning
    is also judged (:func:`own_words`): there a sentence the speaker says 12 dB softer, between two
    pauses of 0.5-0.8 s, vouched for itself as another voice and became one long pause across the words
    said (a review's finding), so another voice whose words fill the speaker's pauses is named, and its
    pauses are lost."""
    share = background_voice_share([(w.start, w.end) for w in words], activity.voice)
    if share is None or share < BACKGROUND_VOICE_SHARE:  # no other voice heard: quiet words are the speaker's
        return activity, words
    loud = _loudness(activity, words)
    if loud is None:
        return activity, words
    heard = _own(words, loud)
    holds = _overlaps([(w.start, w.end) for w in heard])
    kept = tuple((a, b) for a, b in activity.regions if holds(a, b) or loud(a, b))
    if len(heard) == len(words) and len(kept) == len(activity.regions):
        return activity, words
    return replace(activity, regions=kept), heard


def own_words(activity: Activity, words: Sequence[Word]) -> tuple[Word, ...]:
    """WORDS less those :data:`QUIETER_DB` or more under the speaker's words around them (all of them,
    with fewer than :data:`MIN_WORDS` or no levels), whoever else is heard or not."""
    loud = _loudness(activity, tuple(words))
    return tuple(words) if loud is None else _own(words, loud)


def _own(words: Sequence[Word], loud: Callable[[float, float], bool]) -> tuple[Word, ...]:
    return tuple(w for w in words if w.end <= w.start or loud(w.start, w.end))  # a word of no length: no level


def _loudness(activity: Activity, words: tuple[Word, ...]) -> Callable[[float, float], bool] | None:
    """``loud(a, b)``: whether the stretch a-b (seconds) is less than :data:`QUIETER_DB` under the speaker's
    words around it; None with too few words or no levels."""
    db = np.asarray(activity.frame_db, dtype=np.float64)
    if len(words) < MIN_WORDS or not len(db):
        return None
    timed = sorted((w.start, w.end, level(db, w.start, w.end)) for w in words if w.end > w.start)
    if not timed:
        return None
    starts = [t[0] for t in timed]
    by_end = sorted((t[1], t[2]) for t in timed)
    ends = [t[0] for t in by_end]
    overall = median([t[2] for t in timed])

    def speaker_db(a: float, b: float) -> float:
        before = [t[2] for t in timed[bisect_left(starts, a - NEARBY_S): bisect_left(starts, a)]]
        after = [t[1] for t in by_end[bisect_right(ends, b): bisect_right(ends, b + NEARBY_S)]]
        near = before + after
        return median(near) if len(near) >= MIN_NEARBY else overall

    measured = {(a, b): db_ab for a, b, db_ab in timed}  # the words' levels, measured once

    def loud(a: float, b: float) -> bool:
        db_ab = measured.get((a, b))
        return (level(db, a, b) if db_ab is None else db_ab) > speaker_db(a, b) - QUIETER_DB

    return loud


def _overlaps(spans: list[tuple[float, float]]):
    """``f(a, b)``: whether one of SPANS (start, end) lies partly inside (a, b) (a span of no length at
    an instant inside it too), in O(log n) a call."""
    spans = sorted(spans)
    starts = [s for s, _ in spans]
    reach = list(accumulate((e for _, e in spans), max))  # the latest end among the first k spans

    def f(a: float, b: float) -> bool:
        k = bisect_left(starts, b)  # the spans that start before b
        return k > 0 and reach[k - 1] > a

    return f


def level(frame_db: np.ndarray, start: float, end: float) -> float:
    """The level of START-END (seconds) in dBFS: :data:`LEVEL_PERCENTILE` of its hops (at least one),
    interpolated between the two nearest as ``numpy.percentile`` does (which costs ten times more a call)."""
    first = int(start / HOP_S)
    hops = np.sort(frame_db[first: max(first + 1, int(np.ceil(end / HOP_S)))])
    if not len(hops):
        return float("-inf")
    at = (len(hops) - 1) * LEVEL_PERCENTILE / 100
    low = int(at)
    high = min(low + 1, len(hops) - 1)
    return float(hops[low] + (hops[high] - hops[low]) * (at - low))
