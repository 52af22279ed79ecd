"""Transcription while recording, so the report is ready moments after the speaker stops.

A background worker takes the recorder's blocks, measures their levels as they come
(constant memory), and closes a chunk at the first pause once the chunk is long
enough (or at the quietest moment when it gets too long). Each chunk is transcribed
with the previous chunk's words as context, its word times shifted to absolute
time, and its dropped fillers recovered while the speaker goes on talking. When
the recording stops, only the last chunk is left to decode.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, replace

import numpy as np

from .acoustics import HOP_S, Activity, LevelMeter, activity_from_levels
from .fillers import Filler
from .transcript import Segment, Transcript


@dataclass(frozen=True)
class LiveOptions:
    """Chunking for transcription while recording (the ``[live]`` table of config.toml).

    Attributes:
        enabled: transcribe while recording (off: transcribe the file after stopping).
        min_chunk_s: close a chunk at the first pause after this much audio.
        max_chunk_s: close it at the quietest moment before this, pause or not.
        pause_s: a silence at least this long is a place to cut.
        context_chars: how much of the previous chunk's text is given as context.
    """

    enabled: bool = True
    min_chunk_s: float = 18.0
    max_chunk_s: float = 28.0
    pause_s: float = 0.3
    context_chars: int = 200


@dataclass(frozen=True)
class LiveResult:
    transcript: Transcript
    activity: Activity
    audio_fillers: tuple[Filler, ...]
    unconfirmed: tuple[tuple[float, float], ...]
    chunks: tuple[tuple[float, float], ...]


class LiveTranscriber:
    """Feed it int16 or float blocks; :meth:`finish` returns the whole answer's transcript.

    Args:
        transcribe_chunk: ``f(samples, context) -> (transcript, fillers, unconfirmed)`` with
            times relative to the chunk (:func:`starcoach.analysis.live_transcriber` provides it).
        sample_rate: rate of the blocks.
        options: chunking settings.
    """

    def __init__(self, transcribe_chunk, *, sample_rate: int = 16_000, options: LiveOptions | None = None):
        self.opts = options or LiveOptions()
        self.rate = sample_rate
        self._transcribe_chunk = transcribe_chunk
        self._meter = LevelMeter(sample_rate)
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue()
        self._pending: list[np.ndarray] = []
        self._pending_len = 0
        self._start = 0  # sample index where the pending chunk starts
        self._segments: list[Segment] = []
        self._fillers: list[Filler] = []
        self._unconfirmed: list[tuple[float, float]] = []
        self._chunks: list[tuple[float, float]] = []
        self._context = ""
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="starcoach-live", daemon=True)
        self._thread.start()

    def feed(self, block: np.ndarray) -> None:
        """Hand over a block (called from the recorder's writer thread; never blocks)."""
        self._queue.put(block)

    def finish(self) -> LiveResult:
        """Decode what is left and return the whole transcript (waits for the worker)."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        if self._pending_len:
            self._close_chunk(self._pending_len)
        levels = self._meter.levels
        activity = activity_from_levels(levels)
        duration = (self._start + self._pending_len) / self.rate
        transcript = Transcript(segments=tuple(self._segments), duration_s=duration)
        return LiveResult(transcript, activity, tuple(self._fillers), tuple(self._unconfirmed),
                          tuple(self._chunks))

    # --- the worker -----------------------------------------------------------------

    def _run(self) -> None:
        try:
            since_check = 0
            while True:
                block = self._queue.get()
                if block is None:
                    return
                x = block.astype(np.float32).reshape(-1)
                if block.dtype == np.int16:
                    x /= 32768.0
                self._meter.feed(x)
                self._pending.append(x)
                self._pending_len += len(x)
                since_check += len(x)
                if since_check >= self.rate // 2:  # look for a cut twice a second
                    since_check = 0
                    cut = self._find_cut()
                    if cut:
                        self._close_chunk(cut)
        except BaseException as exc:  # noqa: BLE001 - reported by finish(), in the caller's thread
            self._error = exc

    def _find_cut(self) -> int | None:
        """Sample offset (in the pending chunk) to cut at, or None to keep listening."""
        o = self.opts
        if self._pending_len < o.min_chunk_s * self.rate:
            return None
        levels = self._meter.levels
        first = int(self._start / self.rate / HOP_S)
        chunk = levels[first:]
        if len(chunk) < 10:
            return None
        recent = activity_from_levels(levels[max(0, len(levels) - int(30 / HOP_S)):])
        if recent.regions:
            quiet = chunk < recent.threshold_dbfs
        elif recent.threshold_dbfs < -40:  # nothing but silence lately: anywhere is a pause
            quiet = np.ones(len(chunk), dtype=bool)
        else:  # one steady level, no contrast: no pause to be found
            quiet = np.zeros(len(chunk), dtype=bool)
        min_frame = int(o.min_chunk_s / HOP_S)
        need = max(1, int(o.pause_s / HOP_S))
        run = 0
        for k in range(min_frame, len(chunk)):
            run = run + 1 if quiet[k] else 0
            if run >= need:
                middle = k - run // 2
                return int(middle * HOP_S * self.rate)
        if self._pending_len >= o.max_chunk_s * self.rate:
            window = max(1, int(0.3 / HOP_S))
            span = chunk[min_frame: int(o.max_chunk_s / HOP_S)]
            if len(span) <= window:
                return self._pending_len
            smooth = np.convolve(span, np.ones(window) / window, mode="valid")
            k = min_frame + int(np.argmin(smooth)) + window // 2
            return int(k * HOP_S * self.rate)
        return None

    def _close_chunk(self, cut: int) -> None:
        audio = np.concatenate(self._pending)
        cut = min(cut, len(audio))
        chunk, rest = audio[:cut], audio[cut:]
        offset = self._start / self.rate
        self._chunks.append((offset, offset + cut / self.rate))
        transcript, fillers, unconfirmed = self._transcribe_chunk(chunk, self._context)
        self._segments += transcript.shifted(offset).segments
        self._fillers += [replace(f, start=round(f.start + offset, 3), end=round(f.end + offset, 3))
                          for f in fillers]
        self._unconfirmed += [(round(s + offset, 3), round(e + offset, 3)) for s, e in unconfirmed]
        if transcript.text:
            self._context = (self._context + " " + transcript.text).strip()[-self.opts.context_chars:]
        self._start += cut
        self._pending = [rest] if len(rest) else []
        self._pending_len = len(rest)

