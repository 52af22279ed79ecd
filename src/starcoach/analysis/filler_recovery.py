"""Filled pauses the main pass left out or wrote as a word, found by scoring candidate clips.

Whisper, even with the filler prompt, drops some "um"s and "uh"s from running speech, and on
some voices writes one as a short word. The candidates are where the voice is, and each is
scored on its own by the model (:mod:`starcoach.asr.probe`), never decoded freely.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ..asr.probe import cut
from ..audio.activity import Activity
from ..domain.transcript import Filler, Transcript, Word
from ..domain.vocab import FILLED, is_filled_pause
from .alignment import FILLED_PAUSE_MIN_S
from .metrics import MetricsOptions, hesitation_gaps

if TYPE_CHECKING:  # pragma: no cover
    from ..asr.engine import Engine
    from ..asr.probe import ProbeScore


def recover_fillers(engine: Engine, samples: np.ndarray, transcript: Transcript, activity: Activity,
                    threshold: float, options: MetricsOptions
                    ) -> tuple[Transcript, tuple[Filler, ...], tuple[tuple[float, float], ...]]:
    """Filled pauses the model left out or wrote as a word, scored on their own audio.

    Candidates are where the voice is: short voiced stretches no word accounts for
    (:func:`hesitation_gaps`), and single words that fill a short voiced stretch alone,
    set off by silences (on some voices Whisper writes an "um" as "and" or "I" with high
    confidence). Each candidate clip is scored, never decoded freely: the probability
    that Whisper's first token for it is a filled-pause spelling (:meth:`Engine.score_fillers`).
    Decoding the clips with the filler prompt, as before, turned pauses and noise into
    "Um." (34 of 36 such clips on other voices); the score separates fillers from words and
    noise (AUC 0.965 on 306 fillers of eight voices in four conditions; the threshold,
    chosen on those voices, moves little when one is left out: docs/fillers-research.md). A lone
    word is also scored in its place in the sentence, after the words before it (:func:`_in_context`),
    needs a little more in all than a gap does, and stays the word where the sentence wants it. A
    word confirmed as a filler becomes that filler in the transcript; a gap the model would write
    nothing for is returned as unconfirmed (a hesitation we could not name).
    """
    words = transcript.words
    gaps = hesitation_gaps(transcript, activity, options=options)
    lone = lone_words(words, activity, min_s=FILLED_PAUSE_MIN_S, max_s=LONE_WORD_MAX_S)
    # a lone word the transcript's rules took for a discourse filler ("So,") leaves its stretch a
    # gap too: it is one candidate, the word
    taken = {(s, e) for _, s, e in lone}
    cands: list[tuple[float, float, int | None]] = [(s, e, None) for s, e in gaps if (s, e) not in taken]
    cands += [(s, e, i) for i, s, e in lone]
    if not cands:
        return transcript, (), ()
    alone = engine.score_fillers([cut(samples, s, e) for s, e, _ in cands])
    lone_bar = threshold + LONE_MARGIN
    scores = _in_context(engine, samples, words, cands, alone, lone_bar)
    out, unconfirmed, renamed = [], [], {}
    for (s, e, index), (p_filler, p_um), sc in zip(cands, scores, alone):
        if p_filler >= (threshold if index is None else lone_bar):
            spelling = "um" if p_um >= p_filler / 2 else "uh"
            if index is None:
                out.append(Filler(spelling, round(s, 3), round(e, 3), FILLED, source="audio"))
            else:
                renamed[index] = spelling
        elif index is None and sc.top_token == "<|endoftext|>":
            unconfirmed.append((round(s, 3), round(e, 3)))
    if renamed:
        transcript = _rename_words(transcript, renamed)
    return transcript, tuple(out), tuple(unconfirmed)


# A lone word is a filled pause when its score on its own and its score in context add up to the
# threshold plus this (0.025 at the default 0.015): chosen on the lone words of the espeak-ng lab
# voices (48 answers: clean, pink and white 10 dB) and flite's in pink 10 dB, where a lone
# word's own score alone (at least 0.015) kept 16 and 5 true ones with 15 and 0 false, the sum (with
# the floor below) 16 and 8 with 12 and 0; checked on the clean flite, Festival and Pico answers
# (docs/fillers-research.md, section 12).
LONE_MARGIN = 0.01
# A lone word scoring under this on its own is not scored in context (each costs an encoder pass
# and a decoder step per word before it: +19% of `analyze`'s time in pink 10 dB at 0.002). At
# 0.005 the lab's lone words scored in context fall from 280 to 118, with two filled pauses fewer
# found (flite, clean and pink 10 dB) and two false ones fewer (espeak-ng, clean and pink 10 dB).
CONTEXT_FLOOR = 0.005
# The words of up to this many seconds before a lone word are its context.
CONTEXT_S = 6.0
# A lone word stays the word it was written as when, read after the words before it, the decoder
# gives that word over this many times the probability of a filled pause, however the stretch
# scored on its own: "First," (word probability 0.96) in an espeak-ng answer scored 0.031 alone
# and became "uh", yet in its sentence "First" was 0.53 and a filled pause 0.00013. On the lab's
# lone words (docs/fillers-research.md, section 14) the false fillers this caught had odds of
# 1,400-420,000 for the word, the true fillers 102 at most ("air," on a Festival voice: 0.65
# against 0.0064); 300 is a point between, chosen by eye on those rows and checked on others.
WORD_ODDS = 300.0


def _in_context(engine: Engine, samples: np.ndarray, words: tuple[Word, ...],
                cands: list[tuple[float, float, int | None]], alone: list[ProbeScore], bar: float) -> list[tuple[float, float]]:
    """(p_filler, p_um) per candidate: a gap's own scores; a lone word's own, plus its scores after
    the words before it (:meth:`Engine.score_fillers_after`) where its own fall short of BAR, or
    none at all where the words before it make the written word :data:`WORD_ODDS` times likelier.

    On some voices Whisper writes a filled pause as "Sir", "Her" or "but", and the stretch on its
    own scores like a word (0.002-0.02). Read after the sentence it interrupts, the decoder gives
    the filled pause more of its probability than it does after a word that belongs there."""
    scores = [(sc.p_filler, sc.p_um) for sc in alone]
    asked = [k for k, ((_, _, index), sc) in enumerate(zip(cands, alone))
             if index is not None and sc.p_filler >= CONTEXT_FLOOR]
    items = []
    for k in asked:
        start, end, index = cands[k]
        assert index is not None
        before = [w for w in words[:index] if w.start >= start - CONTEXT_S and w.end <= start + 0.05]
        first = before[0].start - 0.15 if before else start - 0.3
        items.append((cut(samples, first, end + 0.15, pad_s=0.0), " ".join(w.text.strip() for w in before),
                      words[index].text))
    for k, (p_filler, p_um, p_word) in zip(asked, engine.score_fillers_after(items) if items else []):
        if p_word > WORD_ODDS * p_filler:
            scores[k] = (0.0, 0.0)
        elif scores[k][0] < bar:
            scores[k] = (scores[k][0] + p_filler, scores[k][1] + p_um)
    return scores


# A single word alone in a voiced stretch this long or shorter (and at least
# FILLED_PAUSE_MIN_S) may be a filled pause the model wrote as a word (the lab's candidates:
# 3 of 43 such words on eight voices were fillers).
LONE_WORD_MAX_S = 1.0


def lone_words(words: tuple[Word, ...], activity: Activity, *, min_s: float = 0.0,
               max_s: float) -> list[tuple[int, float, float]]:
    """(index, start, end) of each word, not a filled pause, that alone fills a voiced region of
    MIN_S to MAX_S seconds (silence on both sides); start and end are the region's."""
    out = []
    j = 0
    for rs, re_ in activity.regions:
        if not min_s <= re_ - rs <= max_s:
            continue
        while j < len(words) and words[j].end <= rs:
            j += 1
        inside = [k for k in range(j, len(words)) if words[k].start < re_ and words[k].end > rs]
        if len(inside) == 1 and not is_filled_pause(words[inside[0]].norm):
            out.append((inside[0], rs, re_))
    return out


def _rename_words(transcript: Transcript, renamed: dict[int, str]) -> Transcript:
    """The transcript with the words at the given indexes (over all segments) spelt anew,
    their punctuation kept ("So," -> "um,")."""
    segments, k = [], 0
    for seg in transcript.segments:
        words = list(seg.words)
        for i, w in enumerate(words):
            if k + i in renamed:
                core = w.text.strip()
                words[i] = replace(w, text=f"{renamed[k + i]}{core[len(core.rstrip(',.?!;:')):]}")
        if words != list(seg.words):
            seg = replace(seg, words=tuple(words), text=" ".join(w.text.strip() for w in words))
        segments.append(seg)
        k += len(words)
    return replace(transcript, segments=tuple(segments))
