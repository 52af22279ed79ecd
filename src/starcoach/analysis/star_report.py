"""The STAR report's types, shared by both labellers, and what makes an answer no story (too short to
tell one, or what one would or usually does): the coach's notes on a story are in ``star_coach.py``.

(The checker's entry points are in ``star.py``.)

Two labellers feed the report: the learned sentence tagger
(``star_learned.py``; by default with the rules settling the parts it is unsure of, ``[star]
tagger = "hybrid"``, see docs/star.md) and the hand-written rules (``star_rules.py``: cue
evidence and a Viterbi decoder over the story's order). Deterministic, offline, and a few
milliseconds per answer.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace

from ..domain.vocab import identifying_words
from .star_rules import _tells_past


@dataclass(frozen=True)
class StarOptions:
    """Settings for the STAR checker and its feedback (``[star]`` in config.toml).

    Attributes:
        tagger: "hybrid" (the default: the tagger trained on other authors' stories,
            :mod:`.star_learned`, with the rules settling the parts it is unsure of), "learned"
            (the tagger alone) or "rules" (the hand-written cues and order decoder); docs/star.md
            gives each one's validated figures.
        target_length_s: the answer length interviewers expect (low, high).
        setup_max_share: Situation + Task above this share of the words is too much setup.
        action_min_share: an Action below this share of the words is thin.
        split_pause_s: in a spoken answer, a pause this long ends a sentence the
            recogniser did not punctuate.
        unclear_margin: (learned tagger) a part judged absent whose confidence is within this much of its
            presence threshold is reported "unclear" (with the sentence quoted), not missing; with
            "hybrid", such a part is present when the rules find it, and an Action judged present
            within it is absent (and unclear) when the rules find none.
        hypothetical_share: at least this share of the sentences saying what one would,
            will or usually does, with little past narrative, makes the answer "not a story".
        two_part_min_prob: (learned tagger) both clauses of a sentence need at least this probability for
            their parts before the sentence reports two parts.
        presence_floor: (learned tagger) a part no sentence reads as with at least this probability
            is absent, whatever the answer-level model says (its confidence is that probability);
            chosen on the leave-one-source-out folds (docs/star.md).
    """

    tagger: str = field(default="hybrid", metadata={"choices": ("rules", "learned", "hybrid")})
    target_length_s: tuple[float, float] = field(default=(90.0, 120.0), metadata={"range": (10.0, 3600.0)})
    setup_max_share: float = field(default=0.34, metadata={"range": (0.0, 1.0)})
    action_min_share: float = field(default=0.30, metadata={"range": (0.0, 1.0)})
    split_pause_s: float = field(default=0.8, metadata={"range": (0.1, 10.0)})
    unclear_margin: float = field(default=0.2, metadata={"range": (0.0, 1.0)})
    hypothetical_share: float = field(default=0.4, metadata={"range": (0.0, 1.0)})
    two_part_min_prob: float = field(default=0.6, metadata={"range": (0.0, 1.0)})
    presence_floor: float = field(default=0.1, metadata={"range": (0.0, 1.0)})


@dataclass(frozen=True)
class Sentence:
    """One sentence of the answer and the label it was given.

    Attributes:
        text: the sentence as read by the checker.
        label: its STAR part.
        start, end: times in the recording (spoken answers).
        words: word count.
        cues: named cues found in the sentence (and "label: <part>" for the writer's own label).
        probabilities: (learned tagger) p(part) after the order model, in ``PARTS`` order.
        parts: (learned tagger) (part, word share) pairs; two entries when the sentence's
            clauses carry two parts.
        hypothetical: the sentence says what one would, will or usually does.
    """

    text: str
    label: str
    start: float | None = None
    end: float | None = None
    words: int = 0
    cues: tuple[str, ...] = ()
    probabilities: tuple[float, ...] = ()
    parts: tuple[tuple[str, float], ...] = ()
    hypothetical: bool = False

    @property
    def duration(self) -> float:
        """Seconds spoken (0 for written text)."""
        return self.end - self.start if self.start is not None and self.end is not None else 0.0


@dataclass(frozen=True)
class PartReport:
    """One part of the answer.

    Attributes:
        present: the part is judged present.
        sentences: indexes of its sentences.
        share_words, share_time: its share of the answer's words and (spoken) time.
        confidence: (learned tagger) the probability that the part is present, from the
            story-level presence model over the sentence probabilities (0..1); None with the rules.
        unclear: (learned tagger) judged absent, but within ``unclear_margin`` of 0.5 (with the
            hybrid: a part the rules did not second, or an Action they vetoed).
    """

    present: bool
    sentences: tuple[int, ...]
    share_words: float
    share_time: float | None
    confidence: float | None = None
    unclear: bool = False


@dataclass(frozen=True)
class Feedback:
    """One coaching note, tied to the sentences it is about."""

    code: str
    severity: str  # "missing", "unclear", "warning", "tip"
    message: str
    sentences: tuple[int, ...] = ()


@dataclass(frozen=True)
class StarReport:
    """The STAR analysis of one answer.

    ``not_a_story`` is True when the answer describes what one would or usually does
    instead of one specific past example; the feedback then says so.
    """

    sentences: tuple[Sentence, ...]
    parts: dict[str, PartReport]
    feedback: tuple[Feedback, ...]
    rating: int
    strengths: tuple[str, ...]
    improvements: tuple[str, ...]
    spoken: bool = False
    duration_s: float | None = None
    options: StarOptions = field(default_factory=StarOptions)
    not_a_story: bool = False


def _not_a_story(sentences: tuple[Sentence, ...], opts: StarOptions) -> bool:
    """Most sentences say what one would/usually does, and few tell what happened."""
    body = [s for s in sentences if s.label != "learning"] or list(sentences)
    if not body:
        return False
    hypo = sum(s.hypothetical for s in body)
    past = sum(_tells_past(s.text) for s in body)
    return hypo / len(body) >= opts.hypothetical_share and past / len(body) < 0.34


def no_story(sentences: tuple[Sentence, ...], parts: dict[str, PartReport]) \
        -> tuple[tuple[Sentence, ...], dict[str, PartReport]]:
    """SENTENCES labelled "other" and every part absent: the answer tells no past example (too short to
    tell one, or what one would or usually does), so it has no Situation, Action or lesson of one. Every
    labeller gives each sentence some part: "let me start again" read as a lesson; a hypothetical
    answer's "I'd also keep my manager informed" lit the lesson in the report's header and the JSON."""
    return (tuple(replace(s, label="other", parts=()) for s in sentences),
            {p: PartReport(present=False, sentences=(), share_words=0.0,
                           share_time=None if part.share_time is None else 0.0) for p, part in parts.items()})


# An answer with fewer words that name things than this (``vocab.identifying_words``) and fewer
# letters and digits than TOO_SHORT_CHARS tells no story: a false start ("Um, so, let me start
# again.", 2 such words), "Okay.", a test. Four, not coverage's eight (which tells stories apart):
# one-sentence stories have 5-7 ("I led the migration to Postgres and we finished two weeks
# early.", 5) and are judged. The letters are for scripts written without spaces, whose sentences
# are one "word" each: a wide (Chinese, Japanese, Korean) character is a syllable or a word, and
# counts as three letters.
TOO_SHORT_WORDS = 4
TOO_SHORT_CHARS = 60


def unless_too_short(report: StarReport, said: str) -> StarReport:
    """REPORT, or, for an answer too short to tell a story (SAID, the answer's own text or words,
    fillers left out: the same count whichever tagger), one that judges no part (:func:`no_story`) and
    says why ("Okay." read as a Situation)."""
    named = len(identifying_words(said.split()))
    letters = sum(3 if unicodedata.east_asian_width(c) in "WF" else 1 for c in said if c.isalnum())
    if named >= TOO_SHORT_WORDS or letters >= TOO_SHORT_CHARS:
        return report
    note = ("This is too short to tell a story, so no STAR part is judged: tell one specific time it "
            "happened (when and where, what you did, what came of it).")
    sentences, parts = no_story(report.sentences, report.parts)
    return replace(report, sentences=sentences, parts=parts, feedback=(Feedback("too_short_to_tell", "missing", note),),
                   rating=1, strengths=(), improvements=(note,), not_a_story=False)
