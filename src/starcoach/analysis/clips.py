"""Cut a recording's voiced stretches into clips and decode them in one batch.

Whisper reads 30 s windows. Decoding a file window by window, faster-whisper moves each next
window to the end of the last complete sentence, so audio is encoded again and again (four
encoder passes for 45 s of speech), and the windows are decoded one after another. Clips cut
in the pauses, each at most :data:`MAX_CLIP_S` long, are encoded once each and decoded together
(:meth:`starcoach.asr.engine.Engine.transcribe_clips`); silence before, between and after them
is never decoded.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ..audio.activity import Activity
from ..audio.decode import SAMPLE_RATE
from ..domain.transcript import Transcript
from .alignment import fit_to_audio

if TYPE_CHECKING:  # pragma: no cover
    from ..asr.engine import Engine

# Longest clip. Whisper's window is 30 s; 25 s leaves room for the clip's margins and for a
# pause to cut in (20, 25 and 28 s were compared on the lab voices: docs/accuracy.md).
MAX_CLIP_S = 25.0
# Audio kept before a clip's first voiced region and after its last (never past the middle of
# the pause to the next clip): Whisper needs a little lead-in, and a word's tail runs quieter
# than the level regions see.
LEAD_S = 0.3
TAIL_S = 0.5
# Pauses up to this long are better places to cut the longer they are; beyond it, all alike.
GOOD_PAUSE_S = 1.5
# Clips shorter than this cost a little for each second they lack.
SHORT_CLIP_S = 12.0


def voice_clips(regions: tuple[tuple[float, float], ...] | list[tuple[float, float]], duration_s: float, *,
                max_s: float = MAX_CLIP_S) -> list[tuple[float, float]]:
    """Group voiced regions (start, end seconds, in order) into clips of at most ``max_s``.

    The grouping is the best by, in this order: the fewest clips (each is a window of its
    own, so the fewest cuts through a sentence); cuts in the longest pauses (each counted up
    to :data:`GOOD_PAUSE_S`); no clip much shorter than :data:`SHORT_CLIP_S` (Whisper reads a
    few seconds cut from a sentence badly: "Um, builds confidence better than long
    tutorials" alone came out as "Um, wheels can't even spate an unlong tutorial").
    A single region longer than ``max_s`` is cut every ``max_s``. Returns (start, end)
    seconds with the margins added, in order and not overlapping.
    """
    pieces: list[tuple[float, float]] = []
    for a, b in regions:
        while b - a > max_s:
            pieces.append((a, a + max_s))
            a += max_s
        pieces.append((a, b))
    n = len(pieces)
    if not n:
        return []
    # best[j]: (cost, start of the last clip) for pieces[:j] grouped into clips
    best: list[tuple[float, int]] = [(0.0, 0)] + [(float("inf"), 0)] * n
    for j in range(1, n + 1):
        for i in range(j - 1, -1, -1):
            length = pieces[j - 1][1] - pieces[i][0]
            if length > max_s + 1e-6:  # (a piece cut at a + max_s measures a hair over it: 7.108 + 3 - 7.108)
                break
            pause = min(GOOD_PAUSE_S, pieces[i][0] - pieces[i - 1][1]) if i else GOOD_PAUSE_S
            cost = best[i][0] + 100.0 - 10.0 * pause + max(0.0, SHORT_CLIP_S - length)
            if cost < best[j][0]:
                best[j] = (cost, i)
    groups = []
    j = n
    while j:
        i = best[j][1]
        groups.append(pieces[i:j])
        j = i
    groups.reverse()
    clips = []
    for k, group in enumerate(groups):
        start, end = group[0][0] - LEAD_S, group[-1][1] + TAIL_S
        if k:
            start = max(start, (groups[k - 1][-1][1] + group[0][0]) / 2)
        if k + 1 < len(groups):
            end = min(end, (group[-1][1] + groups[k + 1][0][0]) / 2)
        # to the millisecond inward: rounded up past the audio's end, clips touching end to end held more
        # than the audio, and faster-whisper's time left over went negative (an assertion, "a bug")
        clips.append((math.ceil(max(0.0, start) * 1000) / 1000, math.floor(min(duration_s, end) * 1000) / 1000))
    return clips


def decode_clips(engine: Engine, samples: np.ndarray, activity: Activity, prompt: str | None,
                 max_s: float) -> Transcript:
    """Decode the voiced clips of ``samples`` (:func:`voice_clips`) in one batch.

    A clip whose decoding stops early (Whisper sometimes ends after a pause and never comes
    back to the speech that follows) leaves a second or more of voice after its last word:
    that rest is decoded again, as clips of its own, twice at most.
    """
    duration = len(samples) / SAMPLE_RATE
    clips = voice_clips(activity.regions, duration, max_s=max_s)
    transcript = fit_to_audio(engine.transcribe_clips(samples, clips, prompt=prompt), activity)
    for _ in range(2):
        words = transcript.words
        rests = []
        for start, end in clips:
            inside = [w for w in words if start <= (w.start + w.end) / 2 < end]
            done = inside[-1].end + 0.1 if inside else start
            if activity.speech_between(done, end) >= 1.0:
                rests.append((done, end))
        if not rests:
            break
        clips = rests
        more = fit_to_audio(engine.transcribe_clips(samples, clips, prompt=prompt), activity)
        if not more.words:
            break
        transcript = replace(transcript, segments=tuple(sorted(transcript.segments + more.segments,
                                                               key=lambda seg: seg.start)))
    return transcript
