"""Loading a CTranslate2 Whisper model for :class:`~starcoach.asr.engine.Engine`: the native
libraries' settings, a seeded sampler, an encoder that skips the padding and a beam search on
fewer threads than the encoder."""

from __future__ import annotations

import ctypes
import os
import re
import sys
from pathlib import Path

from ..domain.errors import ConfigError, ModelError
from .bundled import BUNDLED
from .model_files import REMAKE, REPLACE, folder_problem, incomplete, ours


# oneDNN (inside CTranslate2) keeps the kernels it compiled for each input shape, 1024 of
# them by default, and with ``fit_window`` every live chunk has a length of its own: a
# recording's RSS grew by chunk (15 minutes of chunks: 342 -> 569 MB; with 8 kept, 446 -> 449 MB;
# with 32 it still grew; the wall time was the same within this machine's noise). Set before
# the library first reads it; a value already in the environment wins.
ONEDNN_KERNEL_CACHE = "8"


# glibc's malloc gives a thread that allocates while another holds the lock an arena of its own
# (up to 8 per core), and memory freed in one arena serves no other. With the beam search on a
# thread of its own (``search_threads``), decoding a 94 s answer raised the peak RSS by 146 MB
# on top of the model copy's 165 MB (611 MB in all); with one arena by 50 MB (515 MB), at the
# same speed. A MALLOC_ARENA_MAX already in the environment wins.
MALLOC_ARENAS = 1
_M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)

SAMPLING_SEED = 0  # see load_model

# A window's text is bounded by its audio: at most TOKENS_BASE + TOKENS_PER_S tokens a second of
# it. Without a bound a decode that loops runs on to CTranslate2's own limit, 224 tokens, and when
# the temperature fallback samples, five hypotheses at a time: in the live path a window holding
# the last 0.3 s of a chunk took 6.9 s, a 10 s stretch in white noise 18 s. Measured on `analyze`
# of 81 answers (2026-12-05: the dev answers clean and in white and pink noise at 10 dB, 24 flite
# and 24 Festival answers; 258 windows): windows of 3 s or more held a median 2.7 tokens a second,
# at most 7.5; the bound reaches only four windows, all under 1 s and filler loops ("Uh, uh, uh,
# uh, uh, um, er, uh, uh, uh,"). A result that reaches the bound scores as a failed decode (see
# _Bounded).
TOKENS_PER_S = 12
TOKENS_BASE = 8

# A window of less audio than this is decoded at temperature 0 only (its beam search), without the
# temperature fallback. It is the stretch a window's last timestamp left over (the last word and the
# silence after it) or a chunk's last piece, and the fallback decoded it up to six times to keep hotter
# text that was as often as not garbage: in the live worker, 0.65 s of a 16.5 s chunk's 1.4 s decode at
# the stop, for five tokens (session 47 counted, over 77 answers, 35 of 948 such windows falling back,
# the fallback's text the first decode's in 14). With it and 18 s chunks (live.py), the replayed worker
# was still busy 0.85 s after the stop in 2 of 158 answers against 8 (docs/analysis.md).
SHORT_WINDOW_S = 2.0


def native_settings() -> None:
    """The one place where starcoach sets native libraries' options. It must happen before
    CTranslate2 (and so oneDNN) is first loaded, and the earlier the better for malloc's (the
    command does it first thing); a value the user already set wins, except for telemetry."""
    # onnxruntime (the Silero voice detector) records usage events from the moment it is
    # imported, into ~/.cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db, queued for
    # a Microsoft collector (https://mobile.events.data.microsoft.com): nothing of starcoach's
    # may leave the machine or be kept outside its home, so that is off, whatever was set.
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", ONEDNN_KERNEL_CACHE)
    # libgomp (CTranslate2's threads) reads OMP_NUM_THREADS as it loads and prints a line of its own,
    # "libgomp: Invalid value …", for anything but positive whole numbers ("abc", "0", ""). starcoach
    # gives the model its threads itself ([model] threads), so such a value is dropped.
    if not re.fullmatch(r"\s*0*[1-9]\d{0,17}\s*(,\s*0*[1-9]\d{0,17}\s*)*", os.environ.get("OMP_NUM_THREADS", "1")):
        del os.environ["OMP_NUM_THREADS"]
    if "MALLOC_ARENA_MAX" not in os.environ:
        try:
            mallopt = ctypes.CDLL(None).mallopt
        except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to set
            return
        mallopt(_M_ARENA_MAX, MALLOC_ARENAS)


def load_model(path: Path, compute_type: str, threads: int, search_threads: int, *, prompt: str = "",
               context_tokens: int | None = None):
    """faster-whisper's model in PATH on THREADS threads, its beam search on SEARCH_THREADS of
    them (:class:`_SearchApart` when fewer); with CONTEXT_TOKENS, each window is prompted with
    PROMPT (when the text still starts with it) and that many tokens of the text before it.

    Raises:
        ModelError: the folder does not hold a loadable model.
    """
    native_settings()
    _hub_off()
    problem = folder_problem(Path(path))  # the models' finder said so already; a folder given here directly
    if problem:
        raise ModelError(incomplete(Path(path), problem))
    import ctranslate2  # noqa: PLC0415 - heavy: only when a model is needed, after native_settings

    runs = ctranslate2.get_supported_compute_types("cpu")
    if compute_type not in runs and compute_type not in ("auto", "default"):
        # Else CTranslate2's refusal reads as a damaged model, with advice to delete its folder.
        raise ConfigError(f"[model] compute_type = {compute_type!r} cannot run on this CPU (it runs "
                          f"{', '.join(sorted(runs))}): set another in config.toml; int8 is the default")
    try:
        model = _fitting_model_class()(str(path), device="cpu", compute_type=compute_type, cpu_threads=threads)
        if search_threads < threads:
            model.model = _SearchApart(model.model, ctranslate2.models.Whisper(
                str(path), device="cpu", compute_type=compute_type, intra_threads=search_threads))
            model.encode_ahead = True
    except (RuntimeError, ValueError, OSError) as exc:
        setting = _bad_setting(str(exc))
        if setting:
            raise ConfigError(setting) from None
        # A bundled model's folder is made again from the package; a folder of the user's own is
        # maybe the only copy, and deleting it is no repair. Which one this is, the folder's name
        # cannot tell (a copy of one's own may be called "base"): its config.json does, as the
        # finder tells it.
        fix = REMAKE if ours(Path(path), BUNDLED.get(Path(path).name)) else REPLACE
        raise ModelError(f"cannot load the model in {path}: {str(exc).splitlines()[0][:200]}; if its files are "
                         f"damaged, {fix}") from None
    mels = model.feature_extractor.mel_filters.shape[0]
    if mels != model.model.n_mels:  # a large-v3 preprocessor_config.json beside another model, or the reverse
        raise ModelError(f"{path}: its preprocessor_config.json makes {mels} mel bands where the model reads "
                         f"{model.model.n_mels}: put the model's own preprocessor_config.json back")
    if context_tokens is not None:
        head = prompt.strip()
        ids = model.hf_tokenizer.encode(" " + head, add_special_tokens=False).ids if head else []
        model.context = (tuple(ids), context_tokens)
    _give_back_freed_memory()

    # A window whose greedy text fails Whisper's checks is decoded again by sampling at a higher
    # temperature; CTranslate2 seeds its sampler from the clock unless told otherwise, so the same
    # file came back with a different transcript on each run. Seeded before the first decoding,
    # one run gives one answer (tests/test_transcribe.py); within a run, later draws follow earlier ones.
    ctranslate2.set_random_seed(SAMPLING_SEED)
    return model


# Settings CTranslate2 reads from the environment when it loads a model, what it says of a value it
# cannot take (CT2_VERBOSE=zz: a bare "stoi", which read as a damaged model), and what it takes.
_CT2_SETTINGS = {
    "CT2_VERBOSE": (("stoi", "Invalid log level"), "a log level from -3 to 3"),
    "CT2_FORCE_CPU_ISA": (("Invalid CPU ISA",), "GENERIC, AVX, AVX2, AVX512 or NEON, one this CPU runs"),
}


def _bad_setting(message: str) -> str | None:
    """One line naming the CT2_ variable that made a load fail with MESSAGE, or None."""
    for name, (says, takes) in _CT2_SETTINGS.items():
        if name in os.environ and any(s in message for s in says):
            return (f"the environment variable {name}={os.environ[name]!r} is not a value CTranslate2 takes "
                    f"({message.splitlines()[0][:100]}): unset it, or set {takes}")
    return None


def _hub_off() -> None:
    """From the first model loaded on, the process keeps off the Hugging Face hub. faster-whisper
    goes there by itself: a folder without tokenizer.json has it fetched from huggingface.co (into
    the hub's cache, outside the home; offline, after 26 s of retries and eleven lines on stderr).
    The finder refuses such a folder first; this is so that nothing but a download the user asked
    for by naming a model (:func:`.engine.download_model`, done before any load) goes online. The
    hub library reads HF_HUB_OFFLINE when first imported (a download imported it), and its flag at
    every request, so both are set."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    hub = sys.modules.get("huggingface_hub.constants")
    if hub is not None:
        setattr(hub, "HF_HUB_OFFLINE", True)


def _give_back_freed_memory() -> None:
    """Return the heap that loading freed to the system (glibc keeps it otherwise)."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


class _SearchApart:
    """A CTranslate2 Whisper model whose beam searches run on a copy of it with fewer threads.

    Decoding a window is one encoder pass, then a search that runs the decoder once per token
    on a handful of beams: small matrix products, which two threads shared worse than one
    (2 cores: 4.0 s on one thread, 6.8 s on two, for a 94 s answer) while the encoder gained
    (3.0 -> 1.9 s). So ``generate`` given encoder output runs on ``search``; a call that still
    has to encode (mel features in, as :mod:`.probe` sends), and everything else, on ``main``.
    One search at a time runs on ``search``'s own thread, so its sampler sees the same draws
    on every run (see :func:`load_model`).
    """

    def __init__(self, main, search):
        self._main = main
        self._search = search

    def generate(self, features, *args, **kwargs):
        encoded = features.shape[1] != self._main.n_mels
        return (self._search if encoded else self._main).generate(features, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._main, name)


class _Bounded:
    """A model whose ``generate`` scores a result that reached ``bound`` tokens as failed.

    faster-whisper's fallback keeps the best of its decodes by average log probability among
    those whose text is not repetitive. Cut short at the bound, a loop can look neither
    repetitive nor unlikely ("3-2-1-1-1-1-2" in fan noise, kept where the uncut loop was
    rejected). Scored minus infinity, it is decoded again at the next temperature and kept
    only if every decode of the window reached the bound (then the greedy one, cut short); in a
    window the model judges silent (no-speech probability over the threshold) it counts as
    silence and the window is skipped, as any unlikely text there is.
    """

    def __init__(self, model, bound: int):
        self._model = model
        self._bound = bound

    def generate(self, *args, **kwargs):
        results = self._model.generate(*args, **kwargs)
        return [_Failed(r) if len(r.sequences_ids[0]) >= self._bound else r for r in results]

    def __getattr__(self, name: str):
        return getattr(self._model, name)


class _Failed:
    """A generation result with the scores of one that failed every check."""

    def __init__(self, result):
        self.sequences_ids = result.sequences_ids
        self.scores = [float("-inf")] * len(result.scores)
        self.no_speech_prob = result.no_speech_prob


def _fitting_model_class():
    """faster-whisper's WhisperModel with an encoder that skips the padding and a shorter
    previous text.

    faster-whisper pads every window's features with zeros to 3000 frames (30 s) before
    the encoder: the whole of a short clip's window, the end of a long file's last
    window. With ``fit`` on, ``encode`` cuts that padding off again, keeping 3 s of it
    (with 1 s, the last words suffered), so the encoder works on the audio and the
    decoder attends to it alone. Real log-mel frames are never all zero.

    Each window is prompted with the text before it, up to 223 tokens in faster-whisper,
    where the filler prompt that opened it falls off once the text is long. With ``context``
    set (``(head, n)``), a window gets ``head`` (the filler prompt's tokens, when the text
    still starts with them) and the last ``n`` tokens: the beam search carries the prompt in
    every beam at every step, and on one thread 223 tokens cost a third of its time.
    """
    from dataclasses import replace

    import numpy as np
    from faster_whisper import WhisperModel  # heavy: only when a model is needed

    class FittingWhisperModel(WhisperModel):
        fit = True
        encode_ahead = False  # see _EncodeAhead
        context: tuple[tuple[int, ...], int] | None = None

        def get_prompt(self, tokenizer, previous_tokens, *args, **kwargs):
            if self.context is not None:
                head, n = self.context
                kept = len(head) if tuple(previous_tokens[: len(head)]) == head else 0
                if len(previous_tokens) > kept + n:
                    previous_tokens = list(previous_tokens[:kept]) + list(previous_tokens[len(previous_tokens) - n:])
            return super().get_prompt(tokenizer, previous_tokens, *args, **kwargs)

        def generate_segments(self, features, tokenizer, options, *args, **kwargs):
            ahead = _EncodeAhead(self, features, options.clip_timestamps) if self.encode_ahead else None
            self._ahead = ahead
            self.heard, self._hear = None, True  # the first window's language, from its encoder output
            try:
                yield from super().generate_segments(features, tokenizer, options, *args, **kwargs)
            finally:
                self._ahead = None
                if ahead is not None:
                    ahead.close()

        def encode(self, features):
            # the window about to be decoded: how much audio it holds, for generate_with_fallback
            audio = _audio_frames(features)
            self._window_s = audio * self.feature_extractor.time_per_frame
            ahead = getattr(self, "_ahead", None)
            return ahead.encode(features) if ahead is not None else self.encode_now(features, audio)

        def generate_with_fallback(self, encoder_output, prompt, tokenizer, options):
            window_s = getattr(self, "_window_s", 30.0)
            if window_s < SHORT_WINDOW_S and len(options.temperatures or ()) > 1:
                options = replace(options, temperatures=[0.0])
            bound = TOKENS_BASE + int(TOKENS_PER_S * window_s)
            # CTranslate2 stops a Whisper decode after min((P + M) // 2, M + 1) tokens, P the
            # prompt's length and M faster-whisper's max_new_tokens (the whole, P + M, is its
            # max_length): the M that stops it after `bound`
            new = max(bound - 1, 2 * bound - len(prompt))
            room = self.max_length - len(prompt)
            if new >= min(room, options.max_new_tokens or room):
                return super().generate_with_fallback(encoder_output, prompt, tokenizer, options)
            model = self.model
            self.model = _Bounded(model, bound)
            try:
                return super().generate_with_fallback(encoder_output, prompt, tokenizer,
                                                      replace(options, max_new_tokens=new))
            finally:
                self.model = model

        def encode_now(self, features, audio: int | None = None):
            if self.fit:
                keep = max(500, (_audio_frames(features) if audio is None else audio) + 300)
                features = features[..., : min(features.shape[-1], keep + keep % 2)]
            out = super().encode(features)
            if getattr(self, "_hear", False):  # one decoder step: which language Whisper hears
                self._hear = False
                try:
                    self.heard = self.model.detect_language(out)[0][0]  # the likeliest (token, probability)
                except RuntimeError:  # an English-only model has no language tokens
                    self.heard = None
            return out

    def _audio_frames(features) -> int:
        """How many of a window's mel frames hold audio: the rest is faster-whisper's zero padding."""
        frames = features.shape[-1]
        voiced = np.flatnonzero(np.any(features.reshape(-1, frames) != 0, axis=0))
        return int(voiced[-1]) + 1 if len(voiced) else 0

    return FittingWhisperModel


class _EncodeAhead:
    """Encodes the next window while the beam search decodes this one.

    With the windows given in advance (faster-whisper's ``clip_timestamps``: starcoach's
    windows cut in pauses), the first window of each is known before it is decoded. The
    search runs on a thread of its own (:class:`_SearchApart`), so while it decodes window k
    the encoder (on the model's other threads) reads window k + 1, and the search need not
    wait for it. A window faster-whisper opens inside a given one (after a decode that
    stopped early) is encoded when it comes, as before. The encoder's output is the same
    whichever thread computes it, so the text is too.
    """

    def __init__(self, model, features, clip_timestamps):
        from concurrent.futures import ThreadPoolExecutor

        from faster_whisper.audio import pad_or_trim

        self._model = model
        content = features.shape[-1] - 1
        size = model.feature_extractor.nb_max_frames
        points = [round(t * model.frames_per_second) for t in clip_timestamps] \
            if not isinstance(clip_timestamps, str) else []
        starts = [(a, min(size, min(b, content) - a)) for a, b in zip(points[::2], points[1::2]) if a < min(b, content)]
        # The window faster-whisper will pass to encode for each start (the same slice, padded).
        self._windows = [lambda a=a, n=n: pad_or_trim(features[:, a: a + n]) for a, n in starts]
        self._next = 0  # the first given window not yet encoded
        self._pending = None  # (index, window, future) of the window being encoded ahead
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="starcoach-encoder") if len(starts) > 1 else None

    def encode(self, features):
        pending = self._pending
        if pending is not None and _same(features, pending[1]):
            self._pending = None
            out = pending[2].result()
            self._ahead_of(pending[0])
            return out
        out = self._model.encode_now(features)
        if pending is None and self._next < len(self._windows) and _same(features, self._windows[self._next]()):
            self._ahead_of(self._next)
        return out

    def _ahead_of(self, index: int) -> None:
        """Window ``index`` is being decoded: encode the next one meanwhile."""
        self._next = index + 1
        if self._pool is not None and self._next < len(self._windows):
            window = self._windows[self._next]()
            self._pending = (self._next, window, self._pool.submit(self._model.encode_now, window))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def _same(a, b) -> bool:
    import numpy as np

    return a.shape == b.shape and bool(np.array_equal(a, b))
