"""The learned STAR path: the tagger of :mod:`.star_tagger` behind the checker's API.

Chosen with ``[star] tagger = "hybrid"`` (the default) or ``"learned"``. The answer is
cut into sentences by :mod:`.star_segment` (punctuation, line breaks, bullets, labels as
hints; pauses and discourse markers in transcripts); the tagger gives every sentence a
probability per part and decides which parts are present (see docs/star.md for how, and for
the leave-one-source-out figures). On top: a sentence whose clauses read as two parts
("I rewrote the parser, which cut load time 40%") reports both with their word shares, and
a part the tagger is unsure about is "unclear" with the closest sentence quoted, or, with
"hybrid", settled by the rules on the same sentences (present when they find it; an unsure
Action absent when they find none). The feedback is the checker's own (:func:`.star_coach.coach`).
"""

from __future__ import annotations

import re

from . import star_segment
from ..domain.transcript import Word
from ..domain.vocab import PARTS
from .answer_text import export_pace
from .star_coach import coach
from .star_report import PartReport, Sentence, StarOptions, StarReport, _not_a_story, no_story
from .star_rules import _hypothetical, label_sentences
from .star_features import named_cues
from .star_tagger import SecondOpinion, TaggerModel, load_model, tag


# ``tagger = "hybrid"``: a part whose confidence is within ``unclear_margin`` of the threshold is
# settled by the rules on the same sentences, each way the rules are trusted for. Their
# "present" seconds Situation, Task, Result and Learning; their "absent" vetoes Action (they
# find Action in any "I + past verb", so missing it says something; on the corpus they report a
# removed Action missing only 0.55 of the time, so finding it says little). Chosen
# leave-one-source-out; docs/star.md.
SECONDED = frozenset(PARTS) - {"action"}
VETOED = frozenset({"action"})


def rules_opinion(margin: float, hints: list[str | None] | None = None) -> SecondOpinion:
    """The rules as the tagger's second opinion (``tagger = "hybrid"``).

    Args:
        margin: a part whose confidence is within this of the threshold is unsure.
        hints: per sentence, the part the writer's own label named ("Result: ..."), or None;
            the rules read the label as they do when they run alone.

    Returns:
        The opinion: the rules' labels of the tagger's own sentences.
    """
    def labels(texts: list[str]) -> list[str]:
        named = [f"{h.capitalize()}: {t}" if h else t for t, h in zip(texts, hints or [None] * len(texts))]
        return [label for label, _ in label_sentences(named)]

    return SecondOpinion(SECONDED, margin, labels, vetoes=VETOED)


def label_sentences_learned(texts: list[str], *, model: TaggerModel | None = None) -> list[tuple[str, tuple[str, ...]]]:
    """Label each sentence with a STAR part (learned tagger + order model).

    Args:
        texts: the answer's sentences in order.
        model: the tagger; the packaged one if None.

    Returns:
        For each sentence, its label and the named cues found in it.
    """
    t = tag(model or load_model(), list(texts))
    return [(label, _cues(text)) for label, text in zip(t.labels, texts)]


def _cues(text: str, hint: str | None = None) -> tuple[str, ...]:
    return ((f"label: {hint}",) if hint else ()) + named_cues(text)


# --- two parts in one sentence ------------------------------------------------------

_CLAUSE_BREAK = re.compile(r",\s+(?=(?:which|so|and|resulting|leading|cutting|reducing|saving|bringing|"
                           r"but|after which|until)\b)|;\s+|\s+[-–—]\s+")


def _two_parts(model: TaggerModel, texts: list[str], labels: tuple[str, ...], probs, opts: StarOptions):
    """Per sentence, (part, word share) pairs: two when its clauses read as two parts.

    Only sentences whose own probabilities are mixed (a second part at 0.15 or more) are
    split at a clause break and their halves tagged apart.
    """
    out: list[tuple[tuple[str, float], ...]] = [((label, 1.0),) for label in labels]
    splits = []
    for k, text in enumerate(texts):
        if sorted(probs[k])[-2] < 0.15:
            continue
        m = list(_CLAUSE_BREAK.finditer(text))
        if m and len(text.split()) >= 8:
            cut = m[len(m) // 2]
            a, b = text[:cut.start()].strip(), text[cut.end():].strip()
            if len(a.split()) >= 3 and len(b.split()) >= 3:
                splits.append((k, a, b))
    for k, a, b in splits:
        # The halves are read in place: the sentence before, the two halves, the sentence after.
        around = ([texts[k - 1]] if k else []) + [a, b] + ([texts[k + 1]] if k + 1 < len(texts) else [])
        probs_ab = model.sentence_probs(around)
        pa, pb = probs_ab[1 if k else 0], probs_ab[2 if k else 1]
        la, lb = PARTS[int(pa.argmax())], PARTS[int(pb.argmax())]
        if la != lb and labels[k] in (la, lb) and min(pa.max(), pb.max()) >= opts.two_part_min_prob:
            wa, wb = len(a.split()), len(b.split())
            out[k] = ((la, round(wa / (wa + wb), 3)), (lb, round(wb / (wa + wb), 3)))
    return out


# --- the report -----------------------------------------------------------------

def check_text_learned(text: str, *, options: StarOptions | None = None) -> StarReport:
    """Run the learned STAR tagger on a written answer (with the rules' second opinion when
    ``options.tagger`` is "hybrid", as by default).

    Args:
        text: the answer (plain text or Markdown; an edited ``export --format md`` file works).
        options: settings; defaults if None.

    Returns:
        The :class:`StarReport`.
    """
    return _report(star_segment.split_text(text), spoken=False, duration_s=None, options=options or StarOptions(),
                   written_wpm=export_pace(text))


def check_spoken_learned(
    words: tuple[Word, ...] | list[Word],
    *,
    duration_s: float,
    filler_word_indexes: set[int] | frozenset[int] = frozenset(),
    options: StarOptions | None = None,
) -> StarReport:
    """Run the learned STAR tagger on a transcribed answer (with the rules' second opinion when
    ``options.tagger`` is "hybrid", as by default).

    Args:
        words: the recognised words, with times.
        duration_s: the speaking time judged against the target length.
        filler_word_indexes: indexes of words that are fillers; left out of the text
            the checker reads (their time still counts as pause).
        options: settings; defaults if None.

    Returns:
        The :class:`StarReport`.
    """
    opts = options or StarOptions()
    segments = star_segment.split_words(words, skip=filler_word_indexes, pause_s=opts.split_pause_s)
    return _report(segments, spoken=True, duration_s=duration_s, options=opts)


def _report(segments: list[star_segment.Segment], *, spoken: bool, duration_s: float | None,
            options: StarOptions, written_wpm: float | None = None) -> StarReport:
    model = load_model()
    texts = [s.text for s in segments]
    hints = [s.hint for s in segments]
    second = rules_opinion(options.unclear_margin, hints) if options.tagger == "hybrid" else None
    tagged = tag(model, texts, hints, second=second, floor=options.presence_floor)
    two = _two_parts(model, texts, tagged.labels, tagged.probs, options)
    sentences = tuple(
        Sentence(text=seg.text, label=label, start=seg.start, end=seg.end, words=seg.words or len(seg.text.split()),
                 cues=_cues(seg.text, seg.hint), probabilities=tuple(round(float(x), 3) for x in post),
                 parts=parts, hypothetical=_hypothetical(seg.text))
        for seg, label, post, parts in zip(segments, tagged.labels, tagged.posteriors, two)
    )
    # A part judged absent that a clause reads as (point 5 of docs/star.md) is unclear, and
    # that sentence is the one quoted: the report must not show the clause and call it missing.
    clause_of: dict[str, int] = {}
    for i, s in enumerate(sentences):
        for part, _ in s.parts:
            if part != s.label:
                clause_of.setdefault(part, i)
    total_words = sum(s.words for s in sentences) or 1
    total_time = sum(s.duration for s in sentences) if spoken else 0.0
    parts = {}
    for k, p in enumerate(PARTS):
        idx = tuple(i for i, s in enumerate(sentences) if s.label == p)
        # Word (and time) shares follow the clauses: a sentence carrying two parts splits its words.
        share = sum(s.words * w for s in sentences for part, w in s.parts if part == p)
        time = sum(s.duration * w for s in sentences for part, w in s.parts if part == p) if spoken else None
        present = tagged.present[p]
        conf = tagged.confidence[p]
        parts[p] = PartReport(
            present=present,
            sentences=idx,
            share_words=round(share / total_words, 3),
            share_time=round(time / total_time, 3) if time is not None and total_time else None,
            confidence=round(conf, 3),
            unclear=bool(not present and (conf >= model.thresholds[k] - options.unclear_margin or p in clause_of)),
        )
    not_story = _not_a_story(sentences, options)
    if not_story:
        sentences, parts = no_story(sentences, parts)
    closest = {p: int(tagged.posteriors[:, k].argmax()) for k, p in enumerate(PARTS)} if sentences else {}
    closest.update({p: i for p, i in clause_of.items() if not parts[p].present})
    feedback, strengths, improvements, rating = coach(sentences, parts, spoken, duration_s, options,
                                                      not_story=not_story, closest=closest, written_wpm=written_wpm)
    return StarReport(sentences=sentences, parts=parts, feedback=feedback, rating=rating,
                      strengths=strengths, improvements=improvements, spoken=spoken,
                      duration_s=duration_s, options=options, not_a_story=not_story)
