"""Transcription while recording, so the report is ready moments after the speaker stops.

A background worker takes the recorder's blocks, measures their levels as they come
(constant memory), and closes a chunk at the first pause once the chunk is long
enough (or at the quietest moment when it gets too long). Each chunk is transcribed
with the previous chunk's words as context, its word times shifted to absolute
time, and its dropped fillers recovered while the speaker goes on talking. At each
pause, when idle, it also transcribes the unfinished chunk as it stands (a guess); when
the recording stops, only the speech after the last guess is left to decode, and
usually there is none. A short stretch (a guess soon after a cut, the last piece) is
decoded with a few seconds of the audio before it, whose words are dropped: on its own,
a second or two of speech in noise came back as "3.5, 2.2.2.2…" after a 5 s temperature fallback.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field, replace

import numpy as np

from ..audio.activity import HOP_S, Activity, LevelMeter, activity_from_levels, with_voice
from ..audio.stats import SignalStats
from ..domain.trace import mark
from ..domain.transcript import Filler, Segment, Transcript, join_words


@dataclass(frozen=True)
class LiveOptions:
    """Chunking for transcription while recording (the ``[live]`` table of config.toml).

    Attributes:
        enabled: transcribe while recording (off: transcribe the file after stopping).
        min_chunk_s: close a chunk at the first pause after this much audio.
        max_chunk_s: close it at the quietest moment before this, pause or not.
        pause_s: a silence at least this long is a place to cut.
        context_chars: how much of the previous chunk's text is given as context.
        short_s: a stretch shorter than this (a guess soon after a cut, the last piece after
            the stop) is decoded with audio from before it, up to this length in all...
        lead_s: ...and at most this much of it (its words dropped): Whisper reads a second or
            two of speech on its own poorly ("Bye, all." after the last words), and in noise it
            can read it as anything.
    """

    enabled: bool = True
    min_chunk_s: float = field(default=12.0, metadata={"range": (5.0, 29.0)})
    max_chunk_s: float = field(default=18.0, metadata={"range": (5.0, 29.5)})
    pause_s: float = field(default=0.3, metadata={"range": (0.05, 5.0)})
    context_chars: int = field(default=200, metadata={"range": (0, 2000)})
    short_s: float = field(default=10.0, metadata={"range": (0.0, 29.0)})
    lead_s: float = field(default=5.0, metadata={"range": (0.0, 15.0)})


@dataclass(frozen=True)
class LiveResult:
    transcript: Transcript
    activity: Activity
    audio_fillers: tuple[Filler, ...]
    unconfirmed: tuple[tuple[float, float], ...]
    chunks: tuple[tuple[float, float], ...]
    stats: SignalStats


class LiveTranscriber:
    """Feed it int16 or float blocks; :meth:`finish` returns the whole answer's transcript.

    Args:
        transcribe_chunk: ``f(samples, context) -> (transcript, fillers, unconfirmed)`` with
            times relative to the chunk (:func:`starcoach.analysis.live_transcriber` provides it).
        sample_rate: rate of the blocks.
        options: chunking settings.
        guess: when the speaker pauses and the worker has nothing else to do, transcribe
            the pending chunk as it stands. If the recording stops during that pause, the
            guess is the last chunk's transcript and the report needs no decoding at all;
            if more speech follows, only that part is decoded after the stop.
        voice: ``f(samples) -> [(start, end), ...]``, where a voice detector hears a voice in a
            chunk (seconds from its start). Given, the answer's activity keeps only the level
            regions near a voice, as a file's analysis does
            (:func:`starcoach.analysis.pipeline.voice_activity`).
    """

    def __init__(self, transcribe_chunk, *, sample_rate: int = 16_000, options: LiveOptions | None = None,
                 guess: bool = True, voice=None):
        self.opts = options or LiveOptions()
        self.rate = sample_rate
        self._transcribe_chunk = transcribe_chunk
        self._meter = LevelMeter(sample_rate)
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue()
        self._pending: list[np.ndarray] = []
        self._pending_len = 0
        self._start = 0  # sample index where the pending chunk starts
        self._segments: list[Segment] = []
        self._heard: tuple[str, float] | None = None  # another language in the first chunk
        self._fillers: list[Filler] = []
        self._unconfirmed: list[tuple[float, float]] = []
        self._chunks: list[tuple[float, float]] = []
        self._context = ""
        self._tail = np.zeros(0, dtype=np.float32)  # the lead_s of audio before the pending chunk
        self._guess: tuple[int, tuple, list] | None = None  # (end in the pending chunk, its transcription, voice)
        self._find_voice = voice
        self._voice: list[tuple[float, float]] = []
        self.guess = guess
        self._error: BaseException | None = None
        self._abandoned = False
        self._thread = threading.Thread(target=self._run, name="starcoach-live", daemon=True)
        self._thread.start()

    def feed(self, block: np.ndarray) -> None:
        """Hand over a block (called from the recorder's writer thread; never blocks)."""
        self._queue.put(block)

    def abandon(self) -> None:
        """Stop the worker after the decode in hand, decoding nothing more (its transcript will not be used),
        and wait for it: not beside the file's analysis, nor in native code as the process ends."""
        self._abandoned = True
        self._queue.put(None)
        self._thread.join()

    def finish(self) -> LiveResult:
        """Decode what is left and return the whole transcript (waits for the worker)."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        mark("caught up")
        if self._guess and self._guess[0] < self._pending_len:
            # The speaker paused here and the worker transcribed up to the pause: keep
            # that, and decode only what followed it, if it holds any speech.
            self._close_chunk(self._guess[0])
        if self._pending_len and self._has_speech():
            self._close_chunk(self._pending_len)
        levels = self._meter.final_levels()
        activity = activity_from_levels(levels)
        if self._find_voice is not None:
            activity = replace(activity, regions=with_voice(activity.regions, tuple(self._voice)),
                               voice=tuple(self._voice))
        duration = (self._start + self._pending_len) / self.rate
        transcript = Transcript(segments=tuple(self._segments), duration_s=duration, heard=self._heard)
        return LiveResult(transcript, activity, tuple(self._fillers), tuple(self._unconfirmed),
                          tuple(self._chunks), self._meter.stats)

    # --- the worker -----------------------------------------------------------------

    def _run(self) -> None:
        try:
            since_check = 0
            while True:
                block = self._queue.get()
                if block is None or self._abandoned:
                    return
                x = block.astype(np.float32).reshape(-1)
                if block.dtype == np.int16:
                    x /= 32768.0
                self._meter.feed(x)
                self._pending.append(x)
                self._pending_len += len(x)
                since_check += len(x)
                if since_check >= self.rate // 4:  # look for a cut four times a second
                    since_check = 0
                    cut = self._find_cut()
                    if cut:
                        self._close_chunk(cut)
                    elif self.guess and self._queue.empty() and self._worth_guessing():
                        self._make_guess()
        except BaseException as exc:  # noqa: BLE001 - reported by finish(), in the caller's thread
            self._error = exc

    def _worth_guessing(self) -> bool:
        """The speaker has paused after saying something the last guess did not hear."""
        levels = self._meter.levels
        first = int(self._start / self.rate / HOP_S)
        since = first + (int(self._guess[0] / self.rate / HOP_S) if self._guess else 0)
        quiet = self._quiet(levels, levels[since:])
        need = max(1, int(self.opts.pause_s / HOP_S))
        if len(quiet) < need + 10 or not quiet[-need:].all():
            return False
        return int((~quiet).sum()) * HOP_S >= 0.2

    def _make_guess(self) -> None:
        """Transcribe the pending chunk as it stands, in case the speaker stops here."""
        end = self._pending_len
        mark(f"worker: guess {(self._start + end) / self.rate:.2f}")
        audio = np.concatenate(self._pending)
        self._pending = [audio]
        self._guess = (end, self._decode(audio[:end]), self._voice_in(audio[:end]))

    def _voice_in(self, samples: np.ndarray) -> list[tuple[float, float]]:
        return list(self._find_voice(samples)) if self._find_voice is not None else []

    def _find_cut(self) -> int | None:
        """Sample offset (in the pending chunk) to cut at, or None to keep listening."""
        o = self.opts
        if self._pending_len < o.min_chunk_s * self.rate:
            return None
        if self._guess and self._guess[0] >= o.min_chunk_s * self.rate:
            return self._guess[0]  # a pause, already transcribed
        levels = self._meter.levels
        first = int(self._start / self.rate / HOP_S)
        chunk = levels[first:]
        if len(chunk) < 10:
            return None
        quiet = self._quiet(levels, chunk)
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

    def _has_speech(self) -> bool:
        """Whether the pending chunk holds any voice (a tenth of a second or more)."""
        levels = self._meter.levels
        first = int(self._start / self.rate / HOP_S)
        return int((~self._quiet(levels, levels[first:])).sum()) * HOP_S >= 0.1

    @staticmethod
    def _quiet(levels: np.ndarray, frames: np.ndarray) -> np.ndarray:
        """Which of ``frames`` are below the speech threshold of the last 30 s of ``levels``."""
        recent = activity_from_levels(levels[max(0, len(levels) - int(30 / HOP_S)):])
        if recent.regions:
            return frames < recent.threshold_dbfs
        if recent.threshold_dbfs < -40:  # nothing but silence lately: anywhere is a pause
            return np.ones(len(frames), dtype=bool)
        return np.zeros(len(frames), dtype=bool)  # one steady level, no contrast: no pause

    def _close_chunk(self, cut: int) -> None:
        audio = np.concatenate(self._pending)
        cut = min(cut, len(audio))
        chunk, rest = audio[:cut], audio[cut:]
        offset = self._start / self.rate
        self._chunks.append((offset, offset + cut / self.rate))
        mark(f"worker: chunk {offset:.2f}-{offset + cut / self.rate:.2f}")
        if self._guess and self._guess[0] == cut:
            transcript, fillers, unconfirmed = self._guess[1]
            voice = self._guess[2]
        else:
            transcript, fillers, unconfirmed = self._decode(chunk)
            voice = self._voice_in(chunk)
        self._voice += [(round(s + offset, 3), round(e + offset, 3)) for s, e in voice]
        self._guess = None
        self._segments += transcript.shifted(offset).segments
        self._heard = transcript.heard if len(self._chunks) == 1 else self._heard
        self._fillers += [replace(f, start=round(f.start + offset, 3), end=round(f.end + offset, 3))
                          for f in fillers]
        self._unconfirmed += [(round(s + offset, 3), round(e + offset, 3)) for s, e in unconfirmed]
        if transcript.text:
            self._context = (self._context + " " + transcript.text).strip()[-self.opts.context_chars:]
        self._start += cut
        keep = int(self.opts.lead_s * self.rate)  # the audio a lead can reach back into, across chunks
        self._tail = np.concatenate([self._tail, chunk])[max(0, len(self._tail) + len(chunk) - keep):].copy() \
            if keep else self._tail[:0]
        self._pending = [rest] if len(rest) else []
        self._pending_len = len(rest)

    def _decode(self, chunk: np.ndarray):
        """Transcribe a stretch of the pending chunk (a short one with audio from before it)."""
        lead = min(self.opts.lead_s, max(0.0, self.opts.short_s - len(chunk) / self.rate))
        if lead > 0 and len(self._tail):
            return self._with_lead(chunk, lead)
        return self._transcribe_chunk(chunk, self._context)

    def _with_lead(self, chunk: np.ndarray, lead: float):
        """Decode ``chunk`` with up to ``lead`` seconds of the audio before it, prompted with the
        words before that audio, and keep what falls in ``chunk`` (times relative to it): words
        centred after the cut that do not start inside the last word already kept (the lead's
        decode can stretch that word over the cut)."""
        tail = self._tail[len(self._tail) - min(len(self._tail), int(lead * self.rate)):]
        back = len(tail) / self.rate
        start = self._start / self.rate - back  # absolute time of the lead's first sample
        kept_words = [w for seg in self._segments for w in seg.words]
        context = join_words(w.text for w in kept_words if w.end <= start)[-self.opts.context_chars:]
        last_end = kept_words[-1].end - self._start / self.rate if kept_words else -back  # relative to the cut
        transcript, fillers, unconfirmed = self._transcribe_chunk(np.concatenate([tail, chunk]), context)
        transcript = transcript.shifted(-back)
        drop = {i for i, w in enumerate(transcript.words) if (w.start + w.end) / 2 < 0 or w.start < last_end - 0.05}
        kept = transcript.without(drop)
        segments = tuple(replace(seg, start=max(seg.start, seg.words[0].start if seg.words else 0.0, 0.0))
                         for seg in kept.segments if seg.words or seg.start >= 0)
        transcript = replace(kept, segments=segments, duration_s=len(chunk) / self.rate)
        fillers = tuple(replace(f, start=round(f.start - back, 3), end=round(f.end - back, 3))
                        for f in fillers if f.start - back >= 0)
        unconfirmed = tuple((round(a - back, 3), round(b - back, 3)) for a, b in unconfirmed if a - back >= 0)
        return transcript, fillers, unconfirmed
