"""The faster-whisper adapter: the model's decoding (with :mod:`.whisper_model`, which loads it,
:mod:`.probe`, which scores clips with the same loaded model, and :mod:`.vad`, the bundled voice
detector, the only modules that import faster_whisper).

It loads a model once per process, transcribes 16 kHz samples with word
timestamps and converts the result into our own :class:`Transcript`.
"""

from __future__ import annotations

import os
import threading
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..domain.errors import ConfigError, ModelError
from ..domain.transcript import Segment, Transcript, Word, merge_fragments
from ..domain.vocab import FILLER_PROMPT

if TYPE_CHECKING:  # pragma: no cover
    from faster_whisper import BatchedInferencePipeline

    from .probe import FillerProbe, ProbeScore

SAMPLE_RATE = 16_000


# The language codes Whisper knows (faster-whisper's ``tokenizer._LANGUAGE_CODES``, copied so that
# reading the config does not load faster-whisper; tests/test_config.py checks they agree).
WHISPER_LANGUAGES = (
    "af", "am", "ar", "as", "az", "ba", "be", "bg", "bn", "bo", "br", "bs", "ca", "cs", "cy", "da", "de", "el", "en",
    "es", "et", "eu", "fa", "fi", "fo", "fr", "gl", "gu", "ha", "haw", "he", "hi", "hr", "ht", "hu", "hy", "id", "is",
    "it", "ja", "jw", "ka", "kk", "km", "kn", "ko", "la", "lb", "ln", "lo", "lt", "lv", "mg", "mi", "mk", "ml", "mn",
    "mr", "ms", "mt", "my", "ne", "nl", "nn", "no", "oc", "pa", "pl", "ps", "pt", "ro", "ru", "sa", "sd", "si", "sk",
    "sl", "sn", "so", "sq", "sr", "su", "sv", "sw", "ta", "te", "tg", "th", "tk", "tl", "tr", "tt", "uk", "ur", "uz",
    "vi", "yi", "yo", "zh", "yue")
# The names faster-whisper downloads a model by (``utils.available_models()``), copied likewise: telling
# a name from a typo in `starcoach models` does not load it either (tests/test_models.py checks they agree).
WHISPER_MODELS = ("tiny.en", "tiny", "base.en", "base", "small.en", "small", "medium.en", "medium", "large-v1",
                  "large-v2", "large-v3", "large", "distil-large-v2", "distil-medium.en", "distil-small.en",
                  "distil-large-v3", "distil-large-v3.5", "large-v3-turbo", "turbo")


@dataclass(frozen=True)
class TranscribeOptions:
    """Decoding settings (the ``[model]`` table of config.toml).

    Attributes:
        language: spoken language; answers are English.
        compute_type: CTranslate2 weight type; int8 is fastest on CPUs.
        threads: CPU threads in all; 0 means one per core (one fewer for the worker that
            transcribes while recording, see :func:`starcoach.analysis.live_transcriber`).
        workers: decoders, each a copy of the model on ``threads // workers`` threads; 0 means
            one per thread. With more than one, ``analyze`` cuts a recording of 40 s or more in
            silences into a part per decoder and decodes the parts side by side
            (:meth:`Engine.lane`). Measured (2026-12-04, 2 cores, docs/benchmarks.md): ``analyze``
            about twice as fast on an Intel Xeon, 1.4 times on an AMD EPYC, but each part after
            the first started without the text before it, and WER rose by 0.4-2.5 points on the
            dev answers, the lab voices and four noisy copies (filled-pause F1 -0.03 to +0.02;
            the held-out Festival voices, AMD: 0.956 -> 0.930). With ``lead_in_s`` (2026-12-05,
            AMD: 1.26 times as fast) the clean sets lose less (WER dev 0.204, espeak-ng voices
            0.226, Festival 0.124 against 0.206, 0.216 and 0.127 with one decoder), but a cut
            costs words in pink and white noise of 10-15 dB even with the text before it (dev,
            pink 10 dB: 0.265 with one decoder, 0.293 with the two parts decoded one after
            another), so 1 it is.
        beam_size: beam search width. Measured: on whole files beam 2 was as accurate as 5
            and 17% faster (filler F1 0.978 vs 0.973, WER 0.198 vs 0.199), but on the live
            path, chunk by chunk through the virtual microphone, it lost (filler F1 0.966,
            WER 0.223 against 0.977 and 0.201 with 5), so 5 it is; 1 (greedy) loses fillers.
        initial_prompt: text the model sees as "previous" words. A short list of
            filled pauses makes Whisper write the "um"s and "uh"s it otherwise
            cleans away (measured: filled-pause recall 0.23 -> 0.91 on the dev corpus).
            Empty for none. At most 400 characters: Whisper keeps 223 tokens of prompt and
            previous text in all, and this stays in front of ``context_tokens`` of the text
            before each window (a prompt of 24,000 characters was taken: 11 words came back).
        condition_on_previous_text: feed each window's text to the next one.
        context_tokens: how much of that text, in tokens, after the filler prompt (which stays).
            faster-whisper gives up to 223 and drops the filler prompt once the text is that
            long; the beam search carries the prompt at every step. Measured (2026-12-04,
            docs/benchmarks.md): 64 made ``analyze`` ~19% faster; chosen on the dev answers and
            the espeak-ng lab voices (filled-pause F1 0.969 -> 0.961 and 0.916 -> 0.924, WER
            0.197 -> 0.199 and 0.220 -> 0.217; 32 tokens: WER 0.209 on dev), then checked on the
            held-out flite voices and four noisy copies.
        no_speech_threshold: Whisper's own skip of windows it judges silent.
        no_repeat_ngram_size: forbid repeating any run of this many tokens in a window. With
            the filler prompt, greedy decoding sometimes loops ("uh, uh, uh, ...") until the
            window's token limit before the temperature fallback rescues it; 8 tokens stops
            the loop early (one chunk: 11.8 s -> 2.3 s) and no real sentence repeats 8 tokens.
        recover_fillers: score short voiced stretches no word covers, and single words alone
            in a short voiced stretch, as possible filled pauses (see ``analysis.pipeline``).
        filler_threshold: a candidate is a filled pause when the probability that the model's
            first token for it is a filled-pause spelling reaches this. 0.015 was chosen on
            306 fillers of eight synthetic voices in four conditions, leave-one-voice-out
            (per-fold thresholds 0.0131-0.0138 at one false filler per minute;
            docs/fillers-research.md). A lone word needs this plus 0.01, its score after the
            words before it added (``analysis.filler_recovery.LONE_MARGIN``).
        fit_window: encode a clip under 30 s (or a file's last, part-filled window) at its
            own length plus 3 s, not padded with silence to Whisper's 30 s. The encoder's
            cost grows faster than the length (base, 2 cores: 0.49 s for 30 s, 0.11 s for
            15 s), so live chunks, the filler clips and the end of a recording decode
            several times faster.
        clip_s: decode the voiced stretches as clips of at most this many seconds, cut in
            pauses, encoded once each and decoded in one batch
            (:meth:`Engine.transcribe_clips`); 0 for Whisper's windows, one after another
            (``window_s``). Measured (2026-12-02, docs/accuracy.md): 25 s clips make ``analyze`` ~20%
            faster and find filled pauses better on clean audio (dev F1 0.97 -> 0.98, eight lab
            voices 0.92 -> 0.95) but worse under babble (0.90 -> 0.82) and in two more noise
            conditions, with WER 0.01-0.02 higher; the counts matter more than the speed, so 0.
        window_s: with ``clip_s`` 0, Whisper's windows, one after another, each prompted with
            the text before it, open where the voice does: the voiced stretches are grouped into
            windows of at most this many seconds, cut in pauses (``clips.voice_clips``), and
            while the beam search decodes one window the encoder reads the next
            (``whisper_model._EncodeAhead``). 0: faster-whisper's own windows, each next one
            opened at the last complete sentence of the one before, its audio encoded again.
            Measured (2026-12-04, AMD EPYC, docs/accuracy.md): 28 s windows take 15% less
            time (``make bench``) and find filled pauses about as well on clean voices (held-out
            flite 0.903 -> 0.926, Festival 0.956 -> 0.945), but in pink and white noise the
            cuts fall in the level detector's many short gaps and WER rises (dev, pink 10 dB:
            0.265 -> 0.330, over the baseline's 0.282), so 0.
        lead_in_s: with several decoders, a part decoded beside the part before it first has
            this many seconds before it decoded on their own (fillers and all), and is
            prompted with their words, as if with the text before it (which is not decoded
            yet). 0: no prompt but the filler prompt. Measured with ``workers = 0`` (2026-12-05,
            AMD EPYC, docs/accuracy.md): 6 s cost 5% more time and took WER from 0.212 to
            0.204 on the dev answers, 0.233 -> 0.226 on the espeak-ng voices, 0.130 -> 0.124 on
            the held-out Festival voices (filled-pause F1 0.930 -> 0.94); in pink noise at 10 dB
            it changed nothing (0.293 -> 0.297).
    """

    language: str = field(default="en", metadata={"choices": WHISPER_LANGUAGES})
    compute_type: str = field(default="int8", metadata={"choices": (
        "auto", "default", "int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16", "float16", "bfloat16",
        "float32")})
    threads: int = field(default=0, metadata={"range": (0, 256)})
    workers: int = field(default=1, metadata={"range": (0, 64)})
    search_threads: int = field(default=1, metadata={"range": (0, 256)})
    beam_size: int = field(default=5, metadata={"range": (1, 20)})
    initial_prompt: str = field(default=FILLER_PROMPT, metadata={"max_chars": 400})
    condition_on_previous_text: bool = True
    context_tokens: int = field(default=64, metadata={"range": (1, 223)})
    no_speech_threshold: float = field(default=0.6, metadata={"range": (0.0, 1.0)})
    no_repeat_ngram_size: int = field(default=8, metadata={"range": (0, 64)})
    recover_fillers: bool = True
    filler_threshold: float = field(default=0.015, metadata={"range": (0.0, 1.0)})
    fit_window: bool = True
    clip_s: float = field(default=0.0, metadata={"range": (0.0, 28.0)})
    window_s: float = field(default=0.0, metadata={"range": (0.0, 30.0)})
    lead_in_s: float = field(default=6.0, metadata={"range": (0.0, 30.0)})


class Engine:
    """A loaded Whisper model and its decoding options.

    One decode runs at a time (they share the model's window setting and the cores);
    the caller keeps the engine for as long as it needs the model
    (:class:`~starcoach.analysis.pipeline.Analyzer` does).

    Args:
        model_path: folder of a CTranslate2 Whisper model.
        options: decoding settings.

    Raises:
        ModelError: the folder does not hold a loadable model.
    """

    def __init__(self, model_path: Path, options: TranscribeOptions | None = None):
        self.options = options or TranscribeOptions()
        self.threads, self.workers, self._share = _decoders(self.options)
        self.model_path = Path(model_path)
        self._model = _load(self.model_path, self.options)
        if self.options.language != "en" and not self._model.model.is_multilingual:
            # faster-whisper said so on standard error in a line of its own and decoded English anyway
            raise ConfigError(f"[model] language = {self.options.language!r}, but the model in {self.model_path} "
                              "knows English only: set language = \"en\", or a model that knows other languages "
                              "(base) in [model] name")
        if self._model.model.is_multilingual and \
                self._model.hf_tokenizer.token_to_id(f"<|{self.options.language}|>") is None:
            # faster-whisper dropped the language token, and Whisper guessed the language itself
            raise ConfigError(f"[model] language = {self.options.language!r}, but the model in {self.model_path} "
                              "does not know that language: set one it knows, or in [model] name a model that knows "
                              "it (large-v3 knows all of Whisper's languages)")
        self._decode_lock = threading.Lock()
        self._probe: FillerProbe | None = None
        self._batched: BatchedInferencePipeline | None = None  # faster-whisper's batched pipeline over the same model, made on first use
        self._lanes: list[Engine] = [self]
        self._lanes_lock = threading.Lock()

    def lane(self, index: int) -> Engine:
        """Decoder ``index`` of :attr:`workers` (0 is this engine): an engine of its own, with
        its own copy of the model on this engine's share of the threads, loaded on first use.

        Decodes on different lanes run at once; each lane decodes one thing at a time. Each
        has its own sampler (CTranslate2 keeps one per decoding thread, seeded alike), so
        when a caller gives every lane the same work in the same order, the temperature
        fallback draws the same numbers on every run.
        """
        if not 0 <= index < self.workers:
            raise IndexError(f"lane {index} of {self.workers}")
        with self._lanes_lock:
            while len(self._lanes) <= index:
                self._lanes.append(Engine(self.model_path, replace(self.options, threads=self._share, workers=1)))
            return self._lanes[index]

    def transcribe(self, samples: np.ndarray, *, prompt: str | None = None, fallback: bool = True,
                   condition: bool | None = None, fit: bool | None = None,
                   windows: list[tuple[float, float]] | None = None) -> Transcript:
        """Transcribe 16 kHz mono samples.

        Args:
            samples: float32 samples in [-1, 1].
            prompt: overrides ``initial_prompt`` when given.
            fallback: retry a window at higher temperatures when greedy decoding
                looks wrong (Whisper's default). Off for short clips, where a retry
                costs much and finds little.
            fit: overrides ``fit_window`` when given.
            windows: (start, end) seconds, in order: decode these stretches only, each
                opening a window of its own (faster-whisper's ``clip_timestamps``; see
                ``window_s``), the text before each still its prompt. None: Whisper's own
                30 s windows over the whole.

        Returns:
            The :class:`Transcript`, times in seconds from the first sample.
        """
        opts = self.options
        initial = opts.initial_prompt if prompt is None else prompt
        with self._decode_lock:
            self._model.fit = self.options.fit_window if fit is None else fit
            return self._decode(samples, initial, condition, fallback, windows)

    def transcribe_clips(self, samples: np.ndarray, clips: list[tuple[float, float]], *,
                         prompt: str | None = None) -> Transcript:
        """Transcribe the given stretches of 16 kHz samples, each as one window, in batches.

        Each clip (start, end in seconds, at most 30 s; see
        :func:`starcoach.analysis.clips.voice_clips`) is encoded once, at its own length, and
        decoded with the others in one batched beam search: on 2 cores, two answers of 45 and
        94 s decoded in 72% and 54% of the time of Whisper's own sequential windows, which
        re-encode whatever audio follows the last complete sentence of a window. Every clip gets the
        same prompt (``initial_prompt`` unless ``prompt`` is given). The batch has no
        temperature fallback, so a clip whose text repeats itself as a loop does (Whisper's
        own test: gzip compression ratio over :data:`LOOP_COMPRESSION`) is decoded again on
        its own, with the fallback.

        Returns:
            The :class:`Transcript` of the whole of ``samples`` (times from its first sample),
            with the clips' segments in order.
        """
        opts = self.options
        initial = opts.initial_prompt if prompt is None else prompt
        out: list[Segment] = []
        if clips:
            with self._decode_lock:
                self._model.fit = self.options.fit_window
                if self._batched is None:
                    from faster_whisper import BatchedInferencePipeline

                    self._batched = BatchedInferencePipeline(self._model)
                segments, _info = self._batched.transcribe(
                    samples, **self._decoding(initial), without_timestamps=True,
                    clip_timestamps=[{"start": a, "end": b} for a, b in clips], batch_size=CLIP_BATCH)
                out = [_segment(seg) for seg in segments]
                for a, b in clips:
                    inside = [seg for seg in out if a <= seg.start < b]
                    if _compression_ratio(" ".join(seg.text for seg in inside)) > LOOP_COMPRESSION:
                        clip = samples[int(a * SAMPLE_RATE): int(b * SAMPLE_RATE)]
                        again = self._decode(clip, initial, None, True).shifted(a).segments
                        out = sorted([seg for seg in out if seg not in inside] + list(again), key=lambda seg: seg.start)
        return Transcript(segments=tuple(s for s in out if s.words), duration_s=len(samples) / SAMPLE_RATE,
                          language=opts.language)

    def _decoding(self, initial: str) -> dict:
        """The settings both decoders take (sequential windows and batched clips)."""
        opts = self.options
        return dict(language=opts.language, beam_size=opts.beam_size, word_timestamps=True,
                    initial_prompt=initial or None, no_speech_threshold=opts.no_speech_threshold,
                    no_repeat_ngram_size=opts.no_repeat_ngram_size)

    def _decode(self, samples, initial, condition, fallback, windows=None) -> Transcript:
        opts = self.options
        segments, _info = self._model.transcribe(
            samples,
            **self._decoding(initial),
            clip_timestamps=[t for window in windows for t in window] if windows else "0",
            condition_on_previous_text=opts.condition_on_previous_text if condition is None else condition,
            temperature=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0] if fallback else [0.0],
            vad_filter=False,
        )
        out = [_segment(seg) for seg in segments]  # the generator does the work here, not at the call above
        return Transcript(segments=tuple(out), duration_s=len(samples) / SAMPLE_RATE, language=opts.language,
                          heard=_other_language(getattr(self._model, "heard", None), opts.language))

    def score_fillers(self, clips: list[np.ndarray], *, window_s: float = 3.0) -> list[ProbeScore]:
        """How likely each short clip is a filled pause, scored by this model (see :mod:`.probe`).

        One encoder pass and one decoder step per clip, batched, no prompt: a clip is never
        decoded freely, so silence or noise cannot come back as "Um.".
        """
        with self._decode_lock:
            return self._filler_probe(window_s).score(clips)

    def score_fillers_after(self, items: list[tuple[np.ndarray, str, str]]) -> list[tuple[float, float, float]]:
        """How likely each clip's last stretch is a filled pause after the words it opens with, and
        how likely the word written for it (:meth:`.probe.FillerProbe.score_after`): (p_filler, p_um,
        p_word) per item."""
        with self._decode_lock:
            return self._filler_probe().score_after(items)

    def _filler_probe(self, window_s: float = 3.0) -> FillerProbe:
        """The probe over this model, made once (again only for another window); call under the decode lock."""
        from .probe import FillerProbe, ProbeOptions

        if self._probe is None or self._probe.options.window_s != window_s:
            self._probe = FillerProbe(self._model, ProbeOptions(window_s=window_s))
        return self._probe


# Clips decoded together by :meth:`Engine.transcribe_clips`: a two-minute answer is four to six
# clips, so one batch.
CLIP_BATCH = 8


# Whisper's own limit for a window's text (faster-whisper's compression_ratio_threshold): above
# it, the text is a loop ("uh, uh, uh, ...") and is decoded again at a higher temperature.
LOOP_COMPRESSION = 2.4


def _compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def _segment(seg) -> Segment:
    """faster-whisper's segment as ours (word pieces merged, see :func:`merge_fragments`)."""
    words = merge_fragments(
        Word(text=w.word, start=float(w.start), end=float(w.end), probability=float(w.probability))
        for w in (seg.words or ())
    )
    return Segment(start=float(seg.start), end=float(seg.end), text=seg.text.strip(), words=words,
                   no_speech_prob=float(seg.no_speech_prob), avg_logprob=float(seg.avg_logprob))


def download_model(name: str, dest: Path) -> None:
    """Download a faster-whisper model by name (``small.en``) or hub id into ``dest``.

    Raises:
        ModelError: the name is unknown or the download failed (no network).
    """
    try:
        from faster_whisper.utils import download_model as _download
    except ImportError as exc:  # pragma: no cover - faster-whisper is a dependency
        raise ModelError(f"faster-whisper is not installed ({exc})") from None
    if not downloadable(name):
        raise ModelError(f"unknown model {name!r}")
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the hub's deprecation chatter is not for our users
            _download(name, output_dir=str(dest))
    except Exception as exc:  # noqa: BLE001 - hub errors come in many types
        reason = str(exc).splitlines()[0].split(". ")[0][:160] if str(exc) else type(exc).__name__
        raise ModelError(f"cannot download model {name!r} (offline?): {reason}") from None


def downloadable(name: str) -> bool:
    """Whether faster-whisper downloads a model by this name: one of its own (``small.en``) or a
    hub id (``org/model``)."""
    return "/" in name or name in WHISPER_MODELS


def _load(path: Path, opts: TranscribeOptions):
    """The model on one decoder's share of the threads (the first of ``opts``'s decoders)."""
    from .whisper_model import load_model

    share = _decoders(opts)[2]
    return load_model(path, opts.compute_type, share, min(share, opts.search_threads or share),
                      prompt=opts.initial_prompt, context_tokens=opts.context_tokens)


def _decoders(opts: TranscribeOptions) -> tuple[int, int, int]:
    """(threads in all, decoders, threads per decoder) for these options, their 0s resolved (see
    :class:`TranscribeOptions`)."""
    threads = opts.threads or os.cpu_count() or 1
    workers = min(threads, opts.workers or threads)
    return threads, workers, max(1, threads // workers)


def _other_language(heard, language: str) -> tuple[str, float] | None:
    """The language Whisper heard most likely in the first window, with its probability, when
    it is not the one decoded in (``heard``: its ("<|fr|>", probability) pair), else None."""
    if not heard:
        return None
    token, probability = heard
    code = token.strip("<|>")
    return None if code == language else (code, round(float(probability), 3))
