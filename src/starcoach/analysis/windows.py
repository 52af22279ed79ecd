"""Where a recording is cut for decoding: into windows of a few minutes (memory), or into one
part per decoder when several decode side by side (``[model] workers``); cuts fall in silences."""

from __future__ import annotations

from dataclasses import replace

from ..audio.activity import Activity

# A long recording is transcribed in windows of about this length, cut in the longest silence
# near each boundary: faster-whisper computes the features of everything it is given at once,
# which for an hour of audio took gigabytes. Five minutes is ten of Whisper's own 30 s windows
# at least, so the cut costs the decoder one context reset per five minutes of speech.
WINDOW_S = 300.0
CUT_SEARCH_S = 30.0
# With more than one decoder (``[model] workers``), a recording is cut into one part per
# decoder, each at least this long, and the parts are decoded side by side.
PART_MIN_S = 20.0


def part_length(total: float, workers: int) -> tuple[float, float]:
    """(nominal part length, how far from it a cut may move) for a recording of ``total``
    seconds: :data:`WINDOW_S` windows, or with several decoders one part per decoder when
    each holds :data:`PART_MIN_S` or more."""
    parts = min(workers, int(total // PART_MIN_S))
    if parts < 2 or total / parts >= WINDOW_S:
        return WINDOW_S, CUT_SEARCH_S
    length = total / parts
    return length, length / 4


def window_bounds(activity: Activity, total: float, length: float = WINDOW_S,
                  search: float = CUT_SEARCH_S) -> list[tuple[float, float]]:
    """Windows of about ``length`` seconds, each cut in the middle of the longest silence within
    ``search`` of its nominal end (at the nominal end if there is none)."""
    cuts = [0.0]
    while total - cuts[-1] > length + search:
        nominal = cuts[-1] + length
        gaps = [(b - a, (a + b) / 2) for (_, a), (b, _) in zip(activity.regions, activity.regions[1:])
                if abs((a + b) / 2 - nominal) <= search]
        cuts.append(max(gaps)[1] if gaps else nominal)
    return list(zip(cuts, cuts[1:] + [total]))


def shift_activity(activity: Activity, offset: float, duration: float) -> Activity:
    """``activity`` as seen from a stretch of ``duration`` seconds that starts ``-offset`` in."""
    regions = tuple((max(0.0, a + offset), min(duration, b + offset)) for a, b in activity.regions
                    if b + offset > 0 and a + offset < duration)
    return replace(activity, regions=regions)
