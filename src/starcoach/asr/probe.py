"""Score short audio clips as possible filled pauses (um, uh, er, ah, hmm) with Whisper itself.

Decoding a short clip freely, with or without a filler prompt, turns silence and noise into
"Um." because the decoder must write something. Here a clip is scored instead: one encoder
pass and one decoder step with no prompt, and the score is the probability mass that the first
text token is a filled-pause spelling (" um", " Uh", "Hmm"...). Whisper's own no-speech
probability comes from the same step. Clips are batched: one ``generate`` call scores many.

The model is the CTranslate2 Whisper that faster-whisper loads (``WhisperModel(...).model``);
pass a loaded ``WhisperModel`` to :class:`FillerProbe` to share its weights, or use
:meth:`FillerProbe.load`.
Thresholds on the scores are the caller's, chosen on data (docs/fillers-research.md: keep a
candidate when ``p_filler >= 0.015`` at the default 3 s window). The engine
(:meth:`starcoach.asr.engine.Engine.score_fillers`) owns the probe and shares its model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..domain.vocab import FILLED_PAUSE_SPELLINGS

SAMPLE_RATE = 16000
# Spellings Whisper uses for a filled pause. Only those that are one token (" um", " Um" or "Um";
# not a lowercase form without the space, which is also a piece inside words, as "er" is) are
# scored: a multi-token spelling's first token (" H" of " Hmmm") also starts ordinary words.
PROBED_SPELLINGS = tuple(sorted(FILLED_PAUSE_SPELLINGS | {"hm"}))
# The nasal ones (um, erm, hmm, mm...), typed "um"; the rest (uh, er, ah) "uh".
NASAL_SPELLINGS = tuple(s for s in PROBED_SPELLINGS if "m" in s)


@dataclass(frozen=True)
class ProbeOptions:
    """How clips are scored.

    Attributes:
        window_s: encoder window. A clip is placed at the start of a window of this length
            (features zero-padded, as faster-whisper pads a file's last window). Whisper was
            trained on 30 s windows, but 10 s separated fillers as well (AUC 0.995 vs 0.994)
            and 3 s nearly so (0.971) at a fifteenth of the encoder time; 3 s also keeps the
            threshold 2x above jfk's word tail (docs/fillers-research.md).
        batch_size: clips per ``generate`` call.
        suppress_blank: forbid end-of-text as the first token. Off by default, so that a clip
            with nothing to write can put its mass on end-of-text instead of on "Um".
        prompt: previous text given to the decoder. None (no prompt) is what was measured;
            a filler prompt is here only for experiments.
    """

    window_s: float = 3.0
    batch_size: int = 8
    suppress_blank: bool = False
    prompt: str | None = None


@dataclass(frozen=True)
class ProbeScore:
    """Scores of one clip.

    Attributes:
        p_filler: probability that the first text token is a filled-pause spelling.
        p_no_speech: Whisper's no-speech probability for the clip.
        p_end: probability that the first token is end-of-text (nothing to write).
        p_um: the part of ``p_filler`` on nasal spellings (um, erm, hmm...); the rest is uh-like.
        spelling: the most likely filled-pause spelling, lowercase and stripped ("um", "uh"...).
        top_token: the most likely first token, as text.
        top_p: its probability.
    """

    p_filler: float
    p_no_speech: float
    p_end: float
    p_um: float
    spelling: str
    top_token: str
    top_p: float


def cut(audio: np.ndarray, start: float, end: float, *, pad_s: float = 0.1) -> np.ndarray:
    """The samples from START - PAD_S to END + PAD_S seconds of 16 kHz AUDIO, clipped to its bounds."""
    a = max(0, int(round((start - pad_s) * SAMPLE_RATE)))
    b = min(len(audio), int(round((end + pad_s) * SAMPLE_RATE)))
    return np.asarray(audio[a:max(a, b)], np.float32)


class FillerProbe:
    """Batched filled-pause scoring of short clips through a CTranslate2 Whisper model."""

    def __init__(self, whisper_model, options: ProbeOptions = ProbeOptions()):
        """Wrap a loaded ``faster_whisper.WhisperModel`` (its weights are shared, not copied)."""
        from faster_whisper.tokenizer import Tokenizer  # noqa: PLC0415 - heavy import

        self._whisper = whisper_model
        self.options = options
        tok = Tokenizer(whisper_model.hf_tokenizer, whisper_model.model.is_multilingual, task="transcribe",
                        language="en" if whisper_model.model.is_multilingual else None)
        self._tok = tok
        self._prompt = list(tok.sot_sequence) + [tok.no_timestamps]
        self._eot = tok.eot
        ids, nasal = set(), set()
        for word in PROBED_SPELLINGS:
            for form in {word.capitalize(), " " + word, " " + word.capitalize()}:
                t = tok.encode(form)
                if len(t) == 1:
                    ids.add(t[0])
                    if word in NASAL_SPELLINGS:
                        nasal.add(t[0])
        self.filler_token_ids = tuple(sorted(ids))
        self._nasal_ids = np.array(sorted(nasal))
        self._decode = tok.decode

    @classmethod
    def load(cls, model_path: str | Path, *, threads: int = 1, compute_type: str = "int8",
             options: ProbeOptions = ProbeOptions()) -> FillerProbe:
        """Load the Whisper model in MODEL_PATH (a CTranslate2 folder) on the CPU."""
        from faster_whisper import WhisperModel  # noqa: PLC0415 - heavy import

        return cls(WhisperModel(str(model_path), device="cpu", compute_type=compute_type, cpu_threads=threads),
                   options)

    def _features(self, clip: np.ndarray, frames: int) -> np.ndarray:
        mel = self._whisper.feature_extractor(np.asarray(clip, np.float32))
        mel = mel[:, :frames]
        return np.pad(mel, ((0, 0), (0, frames - mel.shape[1])))

    def score(self, clips: Sequence[np.ndarray]) -> list[ProbeScore]:
        """Score each 16 kHz mono clip (0.1-2 s is the intended length; longer is cut to the window).

        Args:
            clips: float32 arrays, typically a candidate stretch with ~0.1 s of context each side
                (see :func:`cut`).

        Returns:
            One :class:`ProbeScore` per clip, in order.

        Raises:
            ValueError: if a clip is empty or not one-dimensional.
        """
        import ctranslate2  # noqa: PLC0415 - heavy import

        for c in clips:
            if np.ndim(c) != 1 or len(c) == 0:
                raise ValueError("each clip must be a non-empty one-dimensional array")
        prompt = self._prompt
        if self.options.prompt:
            prompt = [self._tok.sot_prev] + self._tok.encode(" " + self.options.prompt.strip()) + prompt
        frames = int(round(self.options.window_s * 100))
        frames -= frames % 2  # the encoder halves the frame count
        out: list[ProbeScore] = []
        ids = np.array(self.filler_token_ids)
        for i in range(0, len(clips), self.options.batch_size):
            batch = clips[i:i + self.options.batch_size]
            feats = np.ascontiguousarray(np.stack([self._features(c, frames) for c in batch]).astype(np.float32))
            results = self._whisper.model.generate(
                ctranslate2.StorageView.from_array(feats),
                [prompt] * len(batch),
                beam_size=1,
                max_length=len(prompt) + 1,
                return_logits_vocab=True,
                return_no_speech_prob=True,
                suppress_blank=self.options.suppress_blank,
            )
            for r in results:
                p = _softmax(r.logits[0][0])
                top = int(p.argmax())
                best_filler = int(ids[p[ids].argmax()])
                out.append(ProbeScore(
                    p_filler=float(p[ids].sum()),
                    p_no_speech=float(r.no_speech_prob),
                    p_end=float(p[self._eot]),
                    p_um=float(p[self._nasal_ids].sum()),
                    spelling=self._decode([best_filler]).strip().lower(),
                    top_token="<|endoftext|>" if top == self._eot else self._decode([top]),
                    top_p=float(p[top]),
                ))
        return out

    def score_after(self, items: Sequence[tuple[np.ndarray, str, str]]) -> list[tuple[float, float, float]]:
        """Score a stretch as a filled pause in its place in the sentence.

        Each item is a clip that holds words already transcribed and then the stretch, with
        those words' text as Whisper wrote them, and the word Whisper wrote for the stretch
        (or ""). The words are forced as the decoder's prefix (no previous-text prompt, no
        timestamps); the score is the probability that the token after them is a filled-pause
        spelling, beside the probability of the written word's first token there. Where a clip
        scored on its own has to guess from the sound alone, here the decoder also knows the
        sentence the stretch would continue: "we rolled back, uh" against "we rolled back, Sir".

        Returns:
            (p_filler, p_um, p_word) per item, in order; zeros for an item whose decoding did not
            reach the end of its words (nothing measured, nothing claimed).
        """
        import ctranslate2  # noqa: PLC0415 - heavy import

        ids = np.array(self.filler_token_ids)
        out: list[tuple[float, float, float]] = []
        for clip, text, written in items:
            if np.ndim(clip) != 1 or len(clip) == 0:
                raise ValueError("each clip must be a non-empty one-dimensional array")
            words = self._tok.encode(" " + text.strip()) if text.strip() else []
            prompt = self._prompt + words
            frames = min(3000, max(int(round(self.options.window_s * 100)), len(clip) // 160 + 20))
            frames += frames % 2  # the encoder halves the frame count
            feats = np.ascontiguousarray(self._features(clip, frames)[None].astype(np.float32))
            # The forced words come back with their own logits, one step each, then the decoder's
            # next steps; CTranslate2 stops a Whisper decode after half of max_length steps: two
            # past the words, where the second is a spare.
            result = self._whisper.model.generate(ctranslate2.StorageView.from_array(feats), [prompt], beam_size=1,
                                                  max_length=2 * len(words) + 4, return_logits_vocab=True,
                                                  suppress_blank=False)[0]
            steps = result.logits[0]
            if len(steps) <= len(words):
                out.append((0.0, 0.0, 0.0))
                continue
            p = _softmax(steps[len(words)])
            first = self._tok.encode(" " + written.strip())[:1] if written.strip() else []
            out.append((float(p[ids].sum()), float(p[self._nasal_ids].sum()), float(p[first[0]]) if first else 0.0))
        return out


def _softmax(logits) -> np.ndarray:
    z = np.asarray(logits, np.float64)
    p = np.exp(z - z.max())
    return p / p.sum()
