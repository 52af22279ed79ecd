"""Voice activity: where a voice is speaking, from faster-whisper's bundled Silero VAD.

A pause is silence of the voice, not of the room: a fan, hiss or typing keeps a loudness
threshold busy but not a voice detector. faster-whisper ships Silero VAD v6 as an ONNX model
run by onnxruntime; this module runs that model over the audio in blocks (so an hour of audio
costs a few minutes of frame probabilities in memory, never a copy of the whole signal) and
turns the per-frame speech probabilities into speech regions with the same hysteresis as
``faster_whisper.vad.get_speech_timestamps``: a region opens at ``threshold``, closes after
``min_silence_s`` below ``neg_threshold``, and is padded by ``pad_s`` on each side (never past the
middle of the silence to its neighbour).

The defaults differ from faster-whisper's, which are tuned to cut audio for transcription
(threshold 0.5, 2 s minimum silence, 400 ms padding, which eats ~28% of each long pause). Here
regions should end at each word gap worth measuring, keep a long pause long and still hold
every filled pause; measured on eight synthetic voices in six noise conditions (threshold 0.35,
0.1 s silence, 30 ms padding: 98-100% of filled pauses at least half inside a region, 95-97%
of each long pause kept, none of 30 s of pink, brown, white, fan noise or typing marked as
speech). See docs/fillers-research.md for the measurements and their limits (babble is speech
to any voice detector).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16000
FRAME = 512  # Silero's window at 16 kHz: one probability per 32 ms
_CONTEXT = 64  # samples of the previous window the model sees with each window
_BLOCK_FRAMES = 10000  # frames per onnxruntime call (320 s), as faster-whisper itself batches


@dataclass(frozen=True)
class VadOptions:
    """How speech probabilities become regions.

    Attributes:
        threshold: a frame at or above this speech probability opens (or continues) a region.
        neg_threshold: a region ends only at frames below this; None means threshold - 0.15
            (at least 0.01), as in faster-whisper.
        min_speech_s: regions shorter than this (before padding) are dropped.
        min_silence_s: a region ends after this much silence below ``neg_threshold``; shorter
            dips stay inside it.
        pad_s: padding added on each side of a region (at most half the silence to the next).
    """

    threshold: float = 0.35
    neg_threshold: float | None = None
    min_speech_s: float = 0.0
    min_silence_s: float = 0.1
    pad_s: float = 0.03


@dataclass(frozen=True)
class SpeechRegion:
    """A stretch of speech, in seconds from the start of the audio."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def _session():
    from faster_whisper.vad import get_vad_model  # noqa: PLC0415 - heavy import, cached model

    return get_vad_model().session


def _blocks_of(audio: np.ndarray | Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    if isinstance(audio, np.ndarray):
        if audio.ndim != 1:
            raise ValueError(f"audio must be one-dimensional, got shape {audio.shape}")
        step = FRAME * _BLOCK_FRAMES
        for i in range(0, len(audio), step):
            yield audio[i:i + step]
    else:
        yield from audio


def speech_probabilities(audio: np.ndarray | Iterable[np.ndarray]) -> tuple[np.ndarray, int]:
    """Silero speech probability of every 32 ms frame.

    Args:
        audio: 16 kHz mono float32 samples in [-1, 1], either one array or an iterable of
            consecutive blocks of any length (read from a file piece by piece, say); memory
            then stays bounded by one block plus 4 bytes per 32 ms.

    Returns:
        (probabilities, number of samples seen). The last frame is zero-padded, as in
        faster-whisper, so the probabilities are identical to its own.

    Raises:
        ValueError: if a block is not one-dimensional.
    """
    session = _session()
    h = np.zeros((1, 1, 128), np.float32)
    c = np.zeros((1, 1, 128), np.float32)
    context = np.zeros(_CONTEXT, np.float32)
    carry = np.zeros(0, np.float32)
    out: list[np.ndarray] = []
    n = 0

    def run(frames: np.ndarray) -> None:
        nonlocal h, c, context
        windows = frames.reshape(-1, FRAME)
        ctx = np.vstack([context[None, :], windows[:-1, -_CONTEXT:]])
        context = windows[-1, -_CONTEXT:].copy()
        for i in range(0, len(windows), _BLOCK_FRAMES):
            batch = np.concatenate([ctx[i:i + _BLOCK_FRAMES], windows[i:i + _BLOCK_FRAMES]], axis=1)
            p, h, c = session.run(None, {"input": batch, "h": h, "c": c})
            out.append(np.asarray(p, np.float32).reshape(-1))

    for block in _blocks_of(audio):
        block = np.asarray(block, np.float32)
        if block.ndim != 1:
            raise ValueError(f"audio blocks must be one-dimensional, got shape {block.shape}")
        n += len(block)
        buf = np.concatenate([carry, block]) if len(carry) else block
        whole = len(buf) // FRAME * FRAME
        if whole:
            run(buf[:whole])
        carry = buf[whole:].copy()
    # faster-whisper pads with a whole frame when the length is already a multiple of 512
    tail = np.zeros(FRAME, np.float32)
    tail[: len(carry)] = carry
    run(tail)
    return (np.concatenate(out) if out else np.zeros(0, np.float32)), n


def regions_from_probabilities(probs: np.ndarray, n_samples: int, options: VadOptions = VadOptions()
                               ) -> tuple[SpeechRegion, ...]:
    """Speech regions from frame probabilities (faster-whisper's hysteresis, without its max length).

    Args:
        probs: one speech probability per 512-sample frame, as from :func:`speech_probabilities`.
        n_samples: length of the audio in samples (regions are clipped to it).
        options: thresholds and durations.

    Returns:
        Regions in time order, not overlapping.
    """
    neg = options.neg_threshold if options.neg_threshold is not None else max(options.threshold - 0.15, 0.01)
    min_silence = SAMPLE_RATE * options.min_silence_s
    min_speech = SAMPLE_RATE * options.min_speech_s
    pad = SAMPLE_RATE * options.pad_s
    spans: list[list[int]] = []
    start: int | None = None
    temp_end = 0
    for i, p in enumerate(probs):
        pos = FRAME * i
        if p >= options.threshold:
            temp_end = 0
            if start is None:
                start = pos
            continue
        if start is not None and p < neg:
            if not temp_end:
                temp_end = pos
            if pos - temp_end >= min_silence:
                if temp_end - start > min_speech:
                    spans.append([start, temp_end])
                start, temp_end = None, 0
    if start is not None and n_samples - start > min_speech:
        spans.append([start, n_samples])
    for i, s in enumerate(spans):
        if i == 0:
            s[0] = int(max(0, s[0] - pad))
        if i < len(spans) - 1:
            gap = spans[i + 1][0] - s[1]
            grow = gap // 2 if gap < 2 * pad else pad
            s[1] = int(s[1] + grow)
            spans[i + 1][0] = int(max(0, spans[i + 1][0] - grow))
        else:
            s[1] = int(min(n_samples, s[1] + pad))
    return tuple(SpeechRegion(round(a / SAMPLE_RATE, 3), round(b / SAMPLE_RATE, 3)) for a, b in spans)


def speech_regions(audio: np.ndarray | Iterable[np.ndarray], options: VadOptions = VadOptions()
                   ) -> tuple[SpeechRegion, ...]:
    """Where a voice speaks in 16 kHz mono audio.

    Args:
        audio: one float32 array, or an iterable of consecutive blocks (bounded memory).
        options: see :class:`VadOptions`.

    Returns:
        Speech regions in seconds, in time order; empty for noise, music or silence alone.

    Raises:
        ValueError: if the audio is not one-dimensional.
    """
    probs, n = speech_probabilities(audio)
    return regions_from_probabilities(probs, n, options)


def silences(regions: Iterable[SpeechRegion], *, start: float, end: float, min_s: float) -> tuple[tuple[float, float], ...]:
    """Gaps of at least MIN_S seconds between regions, within [START, END]."""
    out, t = [], start
    for r in regions:
        if r.start - t >= min_s:
            out.append((t, r.start))
        t = max(t, r.end)
    if end - t >= min_s:
        out.append((t, end))
    return tuple(out)
