"""What the samples themselves say: where someone is speaking, and voiced hesitations.

Whisper's word times are approximate (they come from cross-attention, not from the
signal) and it leaves silence unmarked, so pauses and speech time are measured here
from short-time energy (about the samples' resting offset) with a noise floor that adapts
to the recording. Pure functions: an array in, a small result out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from .decode import SAMPLE_RATE
from .stats import BandMeter, SignalStats, peak_and_clipped

T = TypeVar("T", int, float)  # hops or seconds

HOP_S = 0.01
_LEVEL_BLOCK = 6000  # hops per block of frame_levels (60 s)
FRAME_S = 0.025


@dataclass(frozen=True)
class ActivityOptions:
    """Settings for energy-based speech activity.

    Attributes:
        margin_db: speech must be this much louder than the noise floor.
        dynamic_range_db: ...and no more than this much quieter than the loud speech,
            so digital silence (a floor of -inf) does not make every tail "speech".
        min_speech_s: shorter bursts (clicks, bumps) are not speech.
        bridge_s: silences shorter than this inside speech are bridged (stop
            consonants, breaths between syllables).
        silent_peak_dbfs: a file whose loud frames stay under this level is silent.
    """

    margin_db: float = 12.0
    dynamic_range_db: float = 40.0
    min_speech_s: float = 0.06
    bridge_s: float = 0.12
    silent_peak_dbfs: float = -55.0


@dataclass(frozen=True)
class Activity:
    """Speech activity of one recording.

    Attributes:
        regions: (start, end) seconds of speech, in order, not overlapping.
        threshold_dbfs: the level that separated speech from background.
        noise_floor_dbfs: the estimated background level.
        frame_db: per-hop level in dBFS (hop :data:`HOP_S`), for later stages.
        voice: where a voice detector heard a voice, when one was asked (else empty).
    """

    regions: tuple[tuple[float, float], ...]
    threshold_dbfs: float
    noise_floor_dbfs: float
    frame_db: np.ndarray
    voice: tuple[tuple[float, float], ...] = ()

    @property
    def speech_s(self) -> float:
        return float(sum(e - s for s, e in self.regions))

    def speech_between(self, start: float, end: float) -> float:
        """Seconds of speech inside [start, end]."""
        total = 0.0
        for s, e in self.regions:
            if e <= start:
                continue
            if s >= end:
                break
            total += min(e, end) - max(s, start)
        return total


def frame_levels(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Short-time RMS level in dBFS, one value per :data:`HOP_S` hop, about the recording's
    offset from zero (:func:`_offset`)."""
    hop, win = _sizes(sample_rate)
    n = max(0, 1 + (len(samples) - win) // hop) if len(samples) >= win else 0
    if n == 0:  # shorter than one frame: one level from what there is (a loud 6 ms was "digital silence")
        if not len(samples):
            return np.full(1, -120.0)
        power, mean = _moments(samples, 1, hop, len(samples))
        return _db(power, mean, _offset(power, mean))
    # In blocks of a minute of hops: a running sum over the whole of an hour-long recording
    # (float64, squared, summed, padded) took three copies of 460 MB at once.
    power, mean = np.empty(n), np.empty(n)
    for first in range(0, n, _LEVEL_BLOCK):
        m = min(_LEVEL_BLOCK, n - first)
        power[first: first + m], mean[first: first + m] = _moments(
            samples[first * hop: first * hop + (m - 1) * hop + win], m, hop, win)
    return _db(power, mean, _offset(power, mean))


def _sizes(sample_rate: int) -> tuple[int, int]:
    return int(round(HOP_S * sample_rate)), int(round(FRAME_S * sample_rate))


def _moments(x: np.ndarray, m: int, hop: int, win: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean square and mean of the first ``m`` frames of ``x`` (float64)."""
    seg = x.astype(np.float64)
    sq = np.concatenate(([0.0], np.cumsum(seg * seg)))
    total = np.concatenate(([0.0], np.cumsum(seg)))
    starts = np.arange(m) * hop
    return (sq[starts + win] - sq[starts]) / win, (total[starts + win] - total[starts]) / win


# A frame whose samples vary less than this about their own mean (power) stands still: silence,
# wherever it sits (exact zeros from a muted input, or a constant one).
_STILL = 1e-12
# The recording's offset is the mean of the means of its stillest frames, this share of them.
_OFFSET_SHARE = 0.1


def _offset(power: np.ndarray, mean: np.ndarray) -> float:
    """Where the samples sit when nothing sounds (a DC offset: a cheap codec, a USB adapter):
    the mean of the means of the tenth of the frames that vary least about their own mean, a
    choice no offset sways. Measured about zero, an offset of 0.05 read as background noise 26 dB
    under full scale. Not their median: a slow sway (rumble under 10 Hz, a wobbling offset) makes
    its crests and troughs the stillest frames, and the median sat on one side, so that in a quiet
    room the other side's pauses read as speech. Not the mean of the whole recording, which is the
    voice's too (synthetic voices' waveforms are lopsided: 0.6-1.0e-3 over a dev answer, under
    2e-5 in its pauses), nor a running mean, which takes a low rumble's slow swell for an offset:
    either moved every noise measured, and with it the limits chosen on those measurements
    (docs/accuracy.md, "A DC offset")."""
    spread = power - mean * mean
    moving = spread > _STILL  # exact zeros (a muted stretch) are silence whatever the offset
    if not moving.any():
        return 0.0
    spread, mean = spread[moving], mean[moving]
    k = max(1, int(len(spread) * _OFFSET_SHARE))
    stillest = np.argpartition(spread, k - 1)[:k]
    return float(np.mean(mean[stillest]))


def _db(power: np.ndarray, mean: np.ndarray, offset: float) -> np.ndarray:
    """Level in dBFS of frames of these moments, measured about ``offset``."""
    energy = power - 2.0 * offset * mean + offset * offset
    energy[power - mean * mean <= _STILL] = 0.0
    return (10.0 * np.log10(np.maximum(energy, 1e-12))).astype(np.float32)


def speech_activity(samples: np.ndarray, sample_rate: int, *, options: ActivityOptions | None = None) -> Activity:
    """Find where speech is, from energy against an adaptive noise floor.

    Args:
        samples: mono float samples.
        sample_rate: their rate.
        options: thresholds; defaults if None.

    Returns:
        An :class:`Activity`; ``regions`` is empty for a silent recording.
    """
    return activity_from_levels(frame_levels(samples, sample_rate), options=options)


def activity_from_levels(db: np.ndarray, *, options: ActivityOptions | None = None) -> Activity:
    """:func:`speech_activity` from frame levels already measured (see :class:`LevelMeter`)."""
    opts = options or ActivityOptions()
    if len(db) == 0:
        db = np.full(1, -120.0, dtype=np.float32)
    floor = float(np.percentile(db, 10))
    loud = float(np.percentile(db, 99))
    threshold = max(floor + opts.margin_db, loud - opts.dynamic_range_db)
    if loud < opts.silent_peak_dbfs or loud < floor + opts.margin_db:
        return Activity(regions=(), threshold_dbfs=threshold, noise_floor_dbfs=floor, frame_db=db)
    active = db > threshold
    regions = _runs(active)
    regions = bridged(regions, int(round(opts.bridge_s / HOP_S)))
    min_len = int(round(opts.min_speech_s / HOP_S))
    half = FRAME_S / 2
    out = tuple(
        (max(0.0, s * HOP_S + half - HOP_S / 2), e * HOP_S + half + HOP_S / 2)
        for s, e in regions
        if e - s >= min_len
    )
    return Activity(regions=out, threshold_dbfs=threshold, noise_floor_dbfs=floor, frame_db=db)


class LevelMeter:
    """:func:`frame_levels` computed block by block as audio arrives, with the
    :class:`SignalStats` of everything fed (``stats``, with its bands).

    :meth:`final_levels` after feeding a signal in any number of pieces equals ``frame_levels``
    of the whole signal (but for the rounding of sums taken over other spans). ``levels``, asked
    several times a second while audio arrives, are measured about the offset found when the
    frames were last a fifth fewer or less (finding it is a partial sort of every frame), and
    each frame's level is worked out once between those times, so that an hour's recording asks
    no more of the live worker a second than two minutes do.
    """

    def __init__(self, sample_rate: int):
        self.hop, self.win = _sizes(sample_rate)
        self.sample_rate = sample_rate
        self._carry = np.zeros(0, dtype=np.float32)
        # per frame: mean square, mean, level; the first _frames columns are filled (room doubles)
        self._rows = np.zeros((3, 1024))
        self._frames = 0
        self._measured = 0  # frames whose level is measured
        self._offset = 0.0
        self._offset_frames = 0  # frames there were when the offset was found
        self.stats = SignalStats(0.0, 0, 0)
        self._bands = BandMeter()  # its bands are those of 16 kHz audio: at another rate they stay empty

    def feed(self, samples: np.ndarray) -> None:
        peak, clipped = peak_and_clipped(samples)
        if self.sample_rate == SAMPLE_RATE:
            self._bands.feed(samples)
        self.stats = SignalStats(max(self.stats.peak, peak), self.stats.clipped + clipped,
                                 self.stats.samples + len(samples), bands=self._bands.bands)
        x = np.concatenate([self._carry, samples.astype(np.float32, copy=False)])
        if len(x) < self.win:
            self._carry = x
            return
        n = 1 + (len(x) - self.win) // self.hop
        power, mean = _moments(x[: (n - 1) * self.hop + self.win], n, self.hop, self.win)
        if self._frames + n > self._rows.shape[1]:
            grown = np.zeros((3, max(2 * self._rows.shape[1], self._frames + n)))
            grown[:, : self._frames] = self._rows[:, : self._frames]
            self._rows = grown
        self._rows[0, self._frames: self._frames + n] = power
        self._rows[1, self._frames: self._frames + n] = mean
        self._frames += n
        self._carry = x[n * self.hop:]

    @property
    def levels(self) -> np.ndarray:
        if self._frames > self._offset_frames * 1.2:
            return self.final_levels()
        power, mean = self._rows[0], self._rows[1]
        done, n = self._measured, self._frames
        self._rows[2, done:n] = _db(power[done:n], mean[done:n], self._offset)
        self._measured = n
        return self._rows[2, :n].astype(np.float32)

    def final_levels(self) -> np.ndarray:
        """The levels of everything fed, about the offset of all of it (under one frame: -120 dBFS, as
        :func:`frame_levels` gives)."""
        n = self._frames
        if n == 0:
            return np.full(1, -120.0, dtype=np.float32)
        power, mean = self._rows[0, :n], self._rows[1, :n]
        self._offset, self._offset_frames = _offset(power, mean), n
        self._rows[2, :n] = _db(power, mean, self._offset)
        self._measured = n
        return self._rows[2, :n].astype(np.float32)


# A level region this close to a voice detector's region is the voice: its regions are padded by
# only 30 ms, and the soft start and end of a word fall below its threshold.
VOICE_NEAR_S = 0.1


def near(regions: tuple[tuple[float, float], ...], voice: list[tuple[float, float]], *,
         within: float = VOICE_NEAR_S) -> tuple[tuple[float, float], ...]:
    """The REGIONS that lie within WITHIN seconds of a VOICE region (both in time order)."""
    out, j = [], 0
    for s, e in regions:
        while j < len(voice) and voice[j][1] < s - within:
            j += 1
        if j < len(voice) and voice[j][0] <= e + within:
            out.append((s, e))
    return tuple(out)


# A silence of the voice this long inside a level region (typing, a fan's swell, a door kept it
# loud) splits the region: it is a pause (``pause_min_s``), not speech. Shorter ones stay inside,
# so the level edges of words and fillers are untouched.
VOICE_SILENCE_S = 1.0

# At a level region's ends there is no word on the other side to keep: level before the voice
# starts or after it stops, more than this beyond VOICE_NEAR_S, is the room (a key struck before
# the answer resumes), and the region is cut to the voice. Whisper stamps a filler that opens a
# sentence early, into that noise, so it was counted in the sentence before. Chosen on the eight
# espeak-ng lab voices in typing at 15 dB, replayed on logged runs (0 and 0.1 s tied, 0.2 s
# lower); measured end to end there, filled-pause F1 0.82 -> 0.87 and long-pause recall 0.89 ->
# 1.00, clean and white 10 dB unchanged (docs/accuracy.md).
VOICE_EDGE_S = 0.1


def with_voice(regions: tuple[tuple[float, float], ...], voice: tuple[tuple[float, float], ...]
               ) -> tuple[tuple[float, float], ...]:
    """The level REGIONS near the VOICE, split at silences of the voice of :data:`VOICE_SILENCE_S`
    or more and cut to the voice at their ends (:data:`VOICE_EDGE_S`); or the voice's own regions
    where noise hides it from the levels (they then cover under 30% of what the detector hears)."""
    kept = near(regions, list(voice))
    if sum(e - s for s, e in kept) < 0.3 * sum(e - s for s, e in voice):
        return voice
    return _split_at_voice_silences(kept, voice)


def _split_at_voice_silences(regions: tuple[tuple[float, float], ...], voice: tuple[tuple[float, float], ...]
                             ) -> tuple[tuple[float, float], ...]:
    out: list[tuple[float, float]] = []
    for s, e in regions:
        inside = [(max(s, vs - VOICE_NEAR_S), min(e, ve + VOICE_NEAR_S)) for vs, ve in voice
                  if ve + VOICE_NEAR_S > s and vs - VOICE_NEAR_S < e]
        if not inside:
            out.append((s, e))
            continue
        start = s if inside[0][0] - s <= VOICE_EDGE_S else inside[0][0]
        for (_, a_end), (b_start, _) in zip(inside, inside[1:]):
            if b_start - a_end >= VOICE_SILENCE_S:
                out.append((start, a_end))
                start = b_start
        out.append((start, e if e - inside[-1][1] <= VOICE_EDGE_S else inside[-1][1]))
    return tuple((round(a, 3), round(b, 3)) for a, b in out)


def snap_to_speech(start: float, end: float, activity: Activity, *, tolerance: float = 0.03) -> tuple[float, float]:
    """Trim a word's stamped span so it neither starts nor ends inside a silence.

    Whisper stamps the first word of an answer from 0.0 and stretches words over
    the pauses around them; the samples say where the voice actually starts and
    stops. A span with no speech in it at all is returned unchanged.
    """
    regions = activity.regions
    inside = [r for r in regions if r[1] > start and r[0] < end]
    if not inside:
        return start, end
    new_start, new_end = start, end
    if not any(rs - tolerance <= start <= re_ + tolerance for rs, re_ in regions):
        new_start = inside[0][0]
    if not any(rs - tolerance <= end <= re_ + tolerance for rs, re_ in regions):
        new_end = inside[-1][1]
    return new_start, max(new_start, new_end)


def silences(activity: Activity, *, start: float, end: float, min_s: float) -> list[tuple[float, float]]:
    """Gaps between speech regions inside [start, end] lasting at least ``min_s``."""
    out = []
    regions = [r for r in activity.regions if r[1] > start and r[0] < end]
    for (_, e1), (s2, _) in zip(regions, regions[1:]):
        if s2 - e1 >= min_s:
            out.append((e1, s2))
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) index pairs of the True runs of a boolean array."""
    if not mask.any():
        return []
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), ends.tolist()))


def bridged(spans: list[tuple[T, T]], max_gap: T) -> list[tuple[T, T]]:
    """SPANS (sorted by start; they may overlap) joined where the gap between them is at most MAX_GAP."""
    merged: list[tuple[T, T]] = []
    for s, e in spans:
        if merged and s - merged[-1][1] <= max_gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged
