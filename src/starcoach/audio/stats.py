"""What a recording's samples are like, wherever the voice is: their peak, clipping, and whether
the channel carried the voice's upper frequencies (:class:`SignalStats`, for the audio-quality line).

A narrowband channel (a telephone line, a Bluetooth headset in its hands-free mode, a file
made at 8 kHz or in a phone codec) cuts everything above 3.4-4 kHz, where the consonants
that tell "fit" from "sit" live, and Whisper misheard more words on every synthetic voice measured
(docs/accuracy.md, "Narrowband audio"). Such a cut is a cliff in the spectrum: the power just above 4 kHz falls
some 45 dB or more under the power below it, where a voice picked up in full falls off gently.
So the measure is the mean power density of :data:`HIGH_HZ` over that of :data:`LOW_HZ`,
summed over whole 32 ms frames counted from the first sample. Both bands lie over 2 kHz, so
a DC offset, hum or rumble does not move it; loud frames (the voice) outweigh quiet ones, and
frames with a sample at full scale are left out: clipping splatters power over every band, and
seven clipped frames of a real 13 s recording sent through a phone codec made it read as
wideband (-28 dB; -51 dB without them).
The same frames, summed as blocks arrive (:class:`BandMeter`) or over a whole file
(:func:`band_power`), give the same figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .decode import SAMPLE_RATE

FRAME = 512  # 32 ms at 16 kHz: 31.25 Hz a bin
_WINDOW = np.hanning(FRAME).astype(np.float32)
# A sample at or above this magnitude is at full scale (int16's largest is 32767/32768).
CLIP_LEVEL = 0.999
_FRAMES_AT_ONCE = 4096  # frames transformed together (8 MB of spectra), so a long file needs no more
# The two bands, chosen among seven upper and six lower bands on the dev answers and the espeak-ng
# and Festival lab voices, each in full and sent through a narrowband channel (8 kHz, a 300-3400 Hz
# telephone band, AMR-NB, mu-law) and a wideband one (G.722, MP3, Opus 24 kbit/s, 11 kHz): the
# pair that leaves the widest gap between the two (docs/accuracy.md, "Narrowband audio").
HIGH_HZ = (4500, 6000)
LOW_HZ = (2000, 3300)
# A voice puts some of its power in LOW_HZ: 6-28 dB under its power density at 250-2000 Hz in all
# 2,035 recordings of that study (2,033 synthetic, 2 real; narrowband or not). Further under that
# than VOICELESS_DB, what was heard is no voice (a hum, a low rumble) and the measure says nothing.
# (A tone inside LOW_HZ alone, with nothing under it, is still measured: no voice sounds like that.)
VOICE_HZ = (250, 2000)
VOICELESS_DB = -40.0
# Under this mean power density in the lower band nothing was heard there (digital silence):
# no judgement either. About -100 dBFS, under any microphone's own noise.
_HEARD = 1e-10 * FRAME


def _bins(band: tuple[int, int]) -> slice:
    return slice(band[0] * FRAME // SAMPLE_RATE, band[1] * FRAME // SAMPLE_RATE)


_HIGH, _LOW, _VOICE = _bins(HIGH_HZ), _bins(LOW_HZ), _bins(VOICE_HZ)


def _density(power: float, band: slice) -> float:
    return power / (band.stop - band.start)


@dataclass(frozen=True)
class Bands:
    """Power of a recording's frames in the two bands.

    Attributes:
        voice: summed power of the frames' :data:`VOICE_HZ` bins.
        low: ...of their :data:`LOW_HZ` bins.
        high: ...of their :data:`HIGH_HZ` bins.
        frames: frames summed.
    """

    voice: float = 0.0
    low: float = 0.0
    high: float = 0.0
    frames: int = 0

    def __add__(self, other: Bands) -> Bands:
        return Bands(self.voice + other.voice, self.low + other.low, self.high + other.high,
                     self.frames + other.frames)

    @property
    def high_band_db(self) -> float | None:
        """Mean power density of the upper band over the lower band's, dB; None when nothing was
        heard in the lower band, or nothing like a voice (:data:`VOICELESS_DB`)."""
        low = _density(self.low, _LOW)
        voiceless = low < _density(self.voice, _VOICE) * 10 ** (VOICELESS_DB / 10)
        if not self.frames or low < _HEARD * self.frames or voiceless:
            return None
        return float(10 * np.log10(max(_density(self.high, _HIGH), low * 1e-12) / low))


def band_power(samples: np.ndarray) -> Bands:
    """:class:`Bands` of the whole frames of 16 kHz mono samples (a partial last frame, and frames with
    a sample at full scale, left out)."""
    total = Bands()
    for voice, low, high in _frame_bands(np.asarray(samples, dtype=np.float32)):
        total += Bands(float(voice.sum()), float(low.sum()), float(high.sum()), len(voice))
    return total


def _frame_bands(x: np.ndarray):
    """Per piece of up to :data:`_FRAMES_AT_ONCE` whole frames of X: the power of each unclipped
    frame's :data:`VOICE_HZ`, :data:`LOW_HZ` and :data:`HIGH_HZ` bins (three arrays)."""
    n = len(x) // FRAME
    for i in range(0, n, _FRAMES_AT_ONCE):
        frames = x[i * FRAME:min(n, i + _FRAMES_AT_ONCE) * FRAME].reshape(-1, FRAME)
        frames = frames[np.abs(frames).max(axis=1) < CLIP_LEVEL]
        power = np.abs(np.fft.rfft(frames * _WINDOW, axis=1)) ** 2
        yield power[:, _VOICE].sum(axis=1), power[:, _LOW].sum(axis=1), power[:, _HIGH].sum(axis=1)


# A frame is loud (a voice's, most likely) when its power at VOICE_HZ is within this of the loudest
# frame's. The live meter has no voice detector: it counts these instead, so that a voice begun a
# moment ago is not judged on its first syllables (a full-band real voice's first 0.5 s read -45 dB).
LOUD_RANGE_DB = 30.0
_LOUD_BINS = np.arange(-200, 61)  # 1 dB steps of a frame's summed power at VOICE_HZ (speech: +20 to +40)


class BandMeter:
    """:func:`band_power` of samples that arrive in blocks of any size: ``bands`` after the last
    block equals ``band_power`` of them all (but for the order of the sums). ``loud_s``: the time
    of the frames within :data:`LOUD_RANGE_DB` of the loudest of them (kept as a histogram, so a
    room's noise before the voice stops counting once the voice comes)."""

    def __init__(self) -> None:
        self._carry = np.zeros(0, dtype=np.float32)
        self.bands = Bands()
        self._counts = np.zeros(len(_LOUD_BINS), dtype=np.int64)
        self._heard_db = 10 * np.log10(_HEARD * (_VOICE.stop - _VOICE.start))  # under it: nothing heard

    @property
    def loud_s(self) -> float:
        heard = np.flatnonzero(self._counts)
        if not len(heard):
            return 0.0
        floor = max(_LOUD_BINS[heard[-1]] - LOUD_RANGE_DB, self._heard_db)
        return int(self._counts[_LOUD_BINS >= floor].sum()) * FRAME / SAMPLE_RATE

    def feed(self, samples: np.ndarray) -> None:
        x = np.concatenate([self._carry, np.asarray(samples, dtype=np.float32)])
        whole = len(x) // FRAME * FRAME
        for voice, low, high in _frame_bands(x[:whole]):
            self.bands += Bands(float(voice.sum()), float(low.sum()), float(high.sum()), len(voice))
            db = np.floor(10 * np.log10(np.maximum(voice, 1e-30))).astype(np.int64)
            np.add.at(self._counts, np.clip(db - _LOUD_BINS[0], 0, len(_LOUD_BINS) - 1), 1)
        self._carry = x[whole:]


@dataclass(frozen=True)
class SignalStats:
    """Peak, full-scale samples and band power of a recording (for the audio-quality line).

    Attributes:
        peak: largest absolute sample value (1.0 is full scale).
        clipped: number of samples at or above :data:`CLIP_LEVEL`.
        samples: number of samples seen.
        damaged: of those, samples a decoded file held that were not numbers (NaN or infinite),
            silence now (:attr:`~starcoach.audio.decode.Audio.damaged_samples`).
        bands: their power below and above 4 kHz (:class:`Bands`: a narrowband channel).
        source_rate: the sample rate a file was made at (None: unknown, or recorded here).
    """

    peak: float
    clipped: int
    samples: int
    damaged: int = 0
    bands: Bands = Bands()
    source_rate: int | None = None


def signal_stats(samples: np.ndarray, *, damaged: int = 0, source_rate: int | None = None) -> SignalStats:
    """:class:`SignalStats` of float samples in [-1, 1] (16 kHz for the bands)."""
    peak, clipped = peak_and_clipped(samples)
    return SignalStats(peak, clipped, len(samples), damaged, band_power(samples), source_rate)


def peak_and_clipped(samples: np.ndarray) -> tuple[float, int]:
    """The largest absolute sample of SAMPLES and how many are at full scale."""
    if not len(samples):
        return 0.0, 0
    mag = np.abs(samples)
    return float(mag.max()), int(np.count_nonzero(mag >= CLIP_LEVEL))
