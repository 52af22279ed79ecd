"""The pipeline: audio -> speech activity -> transcript -> metrics -> STAR, the one place that strings
the stages together and times them; each stage stays a plain function (or, for the model, one adapter)."""

from __future__ import annotations

import gc
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..asr.engine import TranscribeOptions
from ..asr.live import LiveOptions
from ..asr.models import ResolvedModel
from ..audio.activity import Activity, speech_activity, with_voice
from ..audio.decode import SAMPLE_RATE, load_audio
from ..audio.stats import SignalStats, signal_stats
from ..domain.trace import mark
from ..domain.transcript import Filler, Segment, Transcript
from .alignment import fit_to_audio, skipped_speech
from .background import own_words
from .clips import decode_clips, voice_clips
from .filler_recovery import recover_fillers
from .fillers import filler_word_indexes, only_filled_pauses, unsaid_filled_pauses
from .metrics import MetricsOptions, SpeakingMetrics, compute_metrics
from .quality import AudioQuality, audio_quality
from .star import StarOptions, StarReport, check_spoken
from .windows import part_length, shift_activity, window_bounds

if TYPE_CHECKING:  # pragma: no cover
    from ..asr.engine import Engine
    from ..asr.live import LiveTranscriber


@dataclass(frozen=True)
class AnalysisOptions:
    """The settings of every stage (from config.toml's tables; defaults otherwise)."""

    transcribe: TranscribeOptions = field(default_factory=TranscribeOptions)
    metrics: MetricsOptions = field(default_factory=MetricsOptions)
    star: StarOptions = field(default_factory=StarOptions)
    live: LiveOptions = field(default_factory=LiveOptions)


@dataclass(frozen=True)
class Timings:
    load_s: float
    transcribe_s: float
    analyze_s: float
    total_s: float


@dataclass(frozen=True)
class Analysis:
    """Everything starcoach knows about one spoken answer."""

    source: str | None
    transcript: Transcript
    activity: Activity
    metrics: SpeakingMetrics
    star: StarReport
    model: ResolvedModel
    timings: Timings
    unconfirmed_hesitations: tuple[tuple[float, float], ...] = ()
    quality: AudioQuality | None = None

    @property
    def no_speech(self) -> bool:
        return not self.transcript.words


class Analyzer:
    """The pipeline with one model: audio -> activity -> transcript -> metrics -> STAR.

    It owns the loaded model (an :class:`~starcoach.asr.engine.Engine` per thread count, loaded
    on first use and kept until :meth:`afresh`), so a practice session loads it once for all its
    takes. ``model``: the resolved model (:func:`starcoach.asr.models.resolve_model`);
    ``options``: the stages' settings.
    """

    def __init__(self, model: ResolvedModel, options: AnalysisOptions | None = None):
        self.model = model
        self.options = options or AnalysisOptions()
        self._engines: dict[int, Engine] = {}

    def engine(self, threads: int = 0) -> Engine:
        """The model loaded for ``threads`` CPU threads (0: the configured number)."""
        key = self._threads(threads)
        if key not in self._engines:
            from ..asr.engine import Engine  # heavy imports inside: only when a model is needed

            self._engines[key] = Engine(self.model.path, replace(self.options.transcribe, threads=key))
        return self._engines[key]

    def afresh(self) -> None:
        """Drop the loaded models: the next file decodes as in a new process (CTranslate2 seeds a worker
        thread's sampler at its first draw, and the threads live as long as the model)."""
        self._engines.clear()
        gc.collect()  # their memory and threads go now (left to the collector: 1.4 GB after six takes)

    def loaded(self, threads: int = 0) -> bool:
        """Whether :meth:`engine` has the model for ``threads`` loaded already."""
        return self._threads(threads) in self._engines

    def _threads(self, threads: int) -> int:
        return threads or self.options.transcribe.threads or (os.cpu_count() or 1)

    def analyze_file(self, path: str | Path, *, live: bool = False) -> Analysis:
        """Decode, transcribe and analyse an audio file (wav, flac, mp3, m4a, ogg, ...); ``live``:
        in chunks as record mode does (fed as fast as it decodes), to measure that path on files.

        Raises:
            AudioError: the file cannot be decoded.
            ModelError: the model cannot be loaded.
        """
        t0 = time.perf_counter()
        audio = load_audio(path)
        if live:
            transcriber = self.live_transcriber(realtime=False)
            block = SAMPLE_RATE // 10
            for i in range(0, len(audio.samples), block):
                transcriber.feed(audio.samples[i:i + block])
            return self.finish_live(transcriber, source=str(path))
        return self.analyze_samples(audio.samples, source=str(path), started=t0, damaged=audio.damaged_samples,
                                    source_rate=audio.source_rate)

    def analyze_samples(self, samples: np.ndarray, *, source: str | None = None, started: float | None = None,
                        damaged: int = 0, source_rate: int | None = None) -> Analysis:
        """Analyse 16 kHz mono samples in memory (a recording; a file: DAMAGED were no numbers, made at SOURCE_RATE)."""
        t0 = started if started is not None else time.perf_counter()
        levels = speech_activity(samples, SAMPLE_RATE)
        voice = None
        first = levels.regions[0][0] if levels.regions else 0.0
        if levels.regions and not self.loaded() and voice_spans(samples[int(first * SAMPLE_RATE):][:EARLY_VOICE]):
            # A voice early on: the detector (0.2 s a minute) reads the whole on a thread while the model
            # loads here (made on another thread, it aborted the process at a SIGTERM; 29e40f6).
            voice = _voice_while_loading(samples, self.engine)
        activity = voice_activity(samples, voice=voice, levels=levels)
        t_transcribe = time.perf_counter()
        result: ChunkResult = (Transcript(segments=(), duration_s=len(samples) / SAMPLE_RATE), (), ())
        if activity.regions:  # never run the model on silence
            result = _transcribe_windows(self.engine(), self.options, samples, activity)
        transcript, audio_fillers, unconfirmed = result
        t_analyze = time.perf_counter()
        return _finish(transcript, activity, audio_fillers, unconfirmed, self.options, self.model, source,
                       (t0, t_transcribe, t_analyze), signal_stats(samples, damaged=damaged, source_rate=source_rate))

    def live_transcriber(self, *, realtime: bool = True) -> LiveTranscriber:
        """A :class:`~starcoach.asr.live.LiveTranscriber` for a recording (loads the model now, before the
        speaker starts, not after they stop).

        ``realtime``: the audio arrives as it is spoken, alongside the audio server and the recorder's threads.
        The worker then guesses at pauses, and (with ``threads = 0``) decodes on one core fewer than the machine
        has: on 2 cores, two decoding threads stalled whenever the audio path took a core, and the last chunk
        took twice as long as on one thread (bench part 2). ``False`` for a file fed as fast as it decodes.
        """
        from ..asr.live import LiveTranscriber

        threads = 0
        if realtime and not self.options.transcribe.threads:
            threads = max(1, (os.cpu_count() or 1) - 1)
        engine = self.engine(threads)
        options = self.options
        last: dict = {}

        def voice(samples: np.ndarray) -> list[tuple[float, float]]:
            # the worker asks for a chunk's voice twice (for its transcript, then for the take's
            # pauses), on views of one buffer: detect it once
            key = (samples.__array_interface__["data"][0], len(samples))
            if last.get("key") != key:
                last.update(key=key, spans=voice_spans(samples))
            return last["spans"]

        def transcribe_chunk(samples: np.ndarray, context: str) -> ChunkResult:
            activity = voice_activity(samples, voice=voice(samples))
            if not activity.regions:
                return Transcript(segments=(), duration_s=len(samples) / SAMPLE_RATE), (), ()
            return _transcribe_chunk(engine, options, samples, context, activity)

        return LiveTranscriber(transcribe_chunk, sample_rate=SAMPLE_RATE, options=options.live, guess=realtime,
                               voice=voice)

    def finish_live(self, live: LiveTranscriber, *, source: str | None = None) -> Analysis:
        """Finish a recording transcribed while it was made: decode the last chunk, then analyse."""
        t0 = time.perf_counter()
        result = live.finish()
        mark("transcribed")
        t1 = time.perf_counter()
        return _finish(result.transcript, result.activity, result.audio_fillers, result.unconfirmed,
                       self.options, self.model, source, (t0, t0, t1), result.stats)


def voice_spans(samples: np.ndarray) -> list[tuple[float, float]]:
    """Where the Silero voice detector hears a voice, as (start, end) seconds."""
    from ..asr.vad import speech_regions  # onnxruntime: only when audio is analysed

    return [(r.start, r.end) for r in speech_regions(samples)]


EARLY_VOICE = 10 * SAMPLE_RATE  # samples from the first level region the detector reads before the model loads


def _voice_while_loading(samples: np.ndarray, load: Callable[[], object]) -> list[tuple[float, float]]:
    """The voice detector's spans, read on a thread while ``load()`` runs on this one, or what either raised;
    the thread is waited for even then (at most 0.2 s a minute of audio): a process ending under it aborted."""
    import threading

    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["spans"] = voice_spans(samples)
        except BaseException as exc:  # noqa: BLE001 - raised again below, on the caller's thread
            out["error"] = exc

    thread = threading.Thread(target=run, name="starcoach-voice", daemon=True)
    thread.start()
    try:
        load()
    finally:
        thread.join()
    if "error" in out:
        raise out["error"]
    return out["spans"]


def voice_activity(samples: np.ndarray, *, voice: list[tuple[float, float]] | None = None,
                   levels: Activity | None = None) -> Activity:
    """Where the voice is: the signal's level regions that a voice detector hears a voice in.

    A pause is silence of the voice, not of the room. The level regions (12 dB over an
    adaptive noise floor) place words and fillers well on clean audio, but a fan's wandering
    level, typing or a door is "speech" to them: the model then read its filler prompt back
    into the noise ("Um, um, um, uh."), noise bursts split long pauses and were offered as
    filler candidates. The Silero voice detector (:mod:`starcoach.asr.vad`) marks none of
    that as speech, so only level regions near one of its regions are kept
    (:func:`~starcoach.audio.activity.with_voice`), and audio in which it hears no voice has
    none.
    Measured on the dev corpus, the detector's own regions in place of the level regions cost filled-pause F1
    (0.952 -> 0.918, same machine), so the levels still give the edges (docs/accuracy.md).
    ``voice``: the detector's (start, end) spans for these samples, when already known;
    ``levels``: their level regions (:func:`~starcoach.audio.activity.speech_activity`), likewise.
    """
    levels = speech_activity(samples, SAMPLE_RATE) if levels is None else levels
    spans = tuple(voice_spans(samples) if voice is None else voice)
    return replace(levels, regions=with_voice(levels.regions, spans), voice=spans)


ChunkResult = tuple[Transcript, tuple[Filler, ...], tuple[tuple[float, float], ...]]


def _transcribe_chunk(engine: Engine, config: AnalysisOptions, samples: np.ndarray, context: str,
                      activity: Activity) -> ChunkResult:
    """Transcribe one stretch of audio and recover the fillers it dropped (times relative to it).

    Silence before the first and after the last speech is not decoded: it costs a decoder pass for
    nothing, and a long silent tail is where Whisper hallucinates and falls back to slower, hotter decoding.
    """
    first = max(0.0, activity.regions[0][0] - 0.3)
    last = min(len(samples) / SAMPLE_RATE, activity.regions[-1][1] + 0.5)
    if first > 1.0 or len(samples) / SAMPLE_RATE - last > 1.0:
        inner = samples[int(first * SAMPLE_RATE): int(last * SAMPLE_RATE)]
        sub = shift_activity(activity, -first, last - first)
        inner_t, inner_f, inner_u = _transcribe_chunk(engine, config, inner, context, sub)
        return (replace(inner_t.shifted(first), duration_s=len(samples) / SAMPLE_RATE),
                tuple(replace(f, start=round(f.start + first, 3), end=round(f.end + first, 3)) for f in inner_f),
                tuple((round(a + first, 3), round(b + first, 3)) for a, b in inner_u))
    base = config.transcribe.initial_prompt
    prompt = f"{base} {context}".strip() if context else None
    if config.transcribe.clip_s:
        transcript = decode_clips(engine, samples, activity, prompt, config.transcribe.clip_s)
    else:
        max_s = config.transcribe.window_s  # Whisper's windows opened in pauses, or (0) its own
        windows = voice_clips(activity.regions, len(samples) / SAMPLE_RATE, max_s=max_s) if max_s else None
        transcript = fit_to_audio(engine.transcribe(samples, prompt=prompt, windows=windows), activity)
    # Whisper sometimes ends a window early after a long silence and never comes back to the speech
    # that follows: at the end of the audio, or in the middle, where the next window starts 30 s after
    # the last one and 10-16 s of speech are lost (seen in white, pink, babble and typing noise, and
    # by the baseline alike). Decode what it skipped on its own, with the text before it as context.
    tried: set[tuple[float, float]] = set()
    for _ in range(0 if config.transcribe.clip_s else 3):
        holes = [h for h in skipped_speech(transcript, activity) if h not in tried]
        if not holes:
            break
        tried.update(holes)
        found = []
        for start, end in holes:
            before = " ".join(w.text.strip() for w in transcript.words if w.end <= start)
            more = engine.transcribe(samples[int(start * SAMPLE_RATE): int(end * SAMPLE_RATE)],
                                     prompt=f"{base} {before}"[-400:].strip())
            shifted = fit_to_audio(replace(more.shifted(start), duration_s=transcript.duration_s), activity)
            found += [seg for seg in shifted.segments if seg.words and seg.words[-1].end <= end + 0.05
                      and not any(s.start < seg.start < s.end for s in transcript.segments)]
        if not found:
            break
        transcript = replace(transcript, segments=tuple(sorted(transcript.segments + tuple(found),
                                                               key=lambda seg: seg.start)))
    fillers: tuple[Filler, ...] = ()
    unconfirmed: tuple[tuple[float, float], ...] = ()
    if config.transcribe.recover_fillers and transcript.words:
        transcript, fillers, unconfirmed = recover_fillers(engine, samples, transcript, activity,
                                                           config.transcribe.filler_threshold, config.metrics)
    return transcript, fillers, unconfirmed


def _transcribe_windows(engine: Engine, options: AnalysisOptions, samples: np.ndarray,
                        activity: Activity) -> ChunkResult:
    """Transcribe a recording of any length in bounded memory (see :mod:`.windows`), its
    parts side by side when the engine has several decoders."""
    total = len(samples) / SAMPLE_RATE
    workers = 1 if options.transcribe.clip_s else engine.workers  # clips are one batch already
    bounds = window_bounds(activity, total, *part_length(total, workers))
    if len(bounds) == 1:
        return _transcribe_chunk(engine, options, samples, "", activity)

    def part(lane: Engine, start: float, end: float, context: str | None) -> ChunkResult | None:
        sub = shift_activity(activity, -start, end - start)
        if not sub.regions:
            return None
        window = samples[int(start * SAMPLE_RATE): int(end * SAMPLE_RATE)]
        if context is None:  # the part before is not decoded yet: read its last seconds first
            context = _lead_in(lane, options, samples, activity, start)
        return _transcribe_chunk(lane, options, window, context, sub)

    results: list[ChunkResult | None] = []
    if workers > 1:
        # Side by side, part i on decoder i % workers, each decoder's parts in order (so a
        # decoder's sampler sees the same work on every run); the text before a part is not
        # decoded yet, so its decoder reads the seconds before the part first (_lead_in).
        from concurrent.futures import ThreadPoolExecutor

        lanes = min(workers, len(bounds))
        # Every decoder loaded first: a load's transient (~130 MB) beside a decode raised the peak RSS.
        decoders = [engine.lane(k) for k in range(lanes)]
        with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="starcoach-decoder") as pool:
            by_lane = list(pool.map(lambda k: [part(decoders[k], a, b, None) for a, b in bounds[k::lanes]],
                                    range(lanes)))
        results = [by_lane[i % lanes][i // lanes] for i in range(len(bounds))]
    else:  # one after another, each part prompted with the text before it
        for start, end in bounds:
            context = " ".join(s.text for r in results if r for s in r[0].segments)[-options.live.context_chars:]
            results.append(part(engine, start, end, context))
    segments: list[Segment] = []
    fillers: list[Filler] = []
    unconfirmed: list[tuple[float, float]] = []
    for (start, _end), result in zip(bounds, results):
        if result is None:
            continue
        text, found, unsure = result
        segments.extend(text.shifted(start).segments)
        fillers.extend(replace(f, start=round(f.start + start, 3), end=round(f.end + start, 3)) for f in found)
        unconfirmed.extend((round(a + start, 3), round(b + start, 3)) for a, b in unsure)
    return (Transcript(segments=tuple(segments), duration_s=total, language=options.transcribe.language,
                       heard=next((r[0].heard for r in results if r), None)), tuple(fillers), tuple(unconfirmed))


def _lead_in(engine: Engine, options: AnalysisOptions, samples: np.ndarray, activity: Activity,
             start: float) -> str:
    """The words of the ``lead_in_s`` seconds before ``start`` (none if no voice is there),
    decoded on their own: the text before a part that is decoded beside the part before it,
    to prompt it with as Whisper prompts each window with the text before."""
    first = max(0.0, start - options.transcribe.lead_in_s)
    sub = shift_activity(activity, -first, start - first)
    if start - first <= 0 or not sub.regions:
        return ""
    lead = engine.transcribe(samples[int(first * SAMPLE_RATE): int(start * SAMPLE_RATE)], fallback=False)
    return " ".join(w.text.strip() for w in fit_to_audio(lead, sub).words)


def _finish(transcript: Transcript, activity: Activity, audio_fillers: tuple[Filler, ...],
            unconfirmed: tuple[tuple[float, float], ...], config: AnalysisOptions, model: ResolvedModel,
            source: str | None, marks: tuple[float, float, float], stats: SignalStats) -> Analysis:
    t0, t_transcribe, t_analyze = marks
    if only_filled_pauses(transcript.words):  # no answer: loud noise alone came back "ah." (fillers.py)
        transcript, audio_fillers = replace(transcript, segments=()), ()
    metrics = compute_metrics(transcript, activity, audio_fillers=audio_fillers, options=config.metrics)
    unsaid = unsaid_filled_pauses(transcript.words, metrics.fillers)
    if unsaid:  # out of the transcript too, then measured again
        transcript = transcript.without(unsaid)
        metrics = compute_metrics(transcript, activity, audio_fillers=audio_fillers, options=config.metrics)
    star = check_spoken(transcript.words, duration_s=metrics.speaking_span_s,
                        filler_word_indexes=filler_word_indexes(metrics.fillers), options=config.star)
    t_end = time.perf_counter()
    timings = Timings(
        load_s=round(t_transcribe - t0, 3),
        transcribe_s=round(t_analyze - t_transcribe, 3),
        analyze_s=round(t_end - t_analyze, 4),
        total_s=round(t_end - t0, 3),
    )
    return Analysis(source=source, transcript=transcript, activity=activity, metrics=metrics, star=star,
                    model=model, timings=timings, unconfirmed_hesitations=tuple(unconfirmed),
                    quality=audio_quality(activity, stats, heard=transcript.heard, duration_s=transcript.duration_s,
                                          words=[(w.start, w.end) for w in transcript.words],
                                          own=[(w.start, w.end) for w in own_words(activity, transcript.words)]
                                          if activity.voice else None))
