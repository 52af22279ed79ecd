"""The STAR report's types and the coach's notes, shared by both labellers.

(The checker's entry points are in ``star.py``.)

The report and the coach's notes. Two labellers feed it: the learned sentence tagger
(``star_learned.py``; by default with the rules settling the parts it is unsure of, ``[star]
tagger = "hybrid"``, see docs/star.md) and the hand-written rules (``star_rules.py``: cue
evidence and a Viterbi decoder over the story's order). Deterministic, offline, and a few
milliseconds per answer.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field, replace

from ..domain.transcript import plural
from ..domain.vocab import (CORE_PARTS, I_SUBJECTS, MULTIPLE_WORDS, NUMBER_WORDS, PARTS, SOONER_WORDS,
                            WE_SUBJECTS, alternatives, identifying_words, words_rx)
from .star_rules import _tells_past
from .star_segment import EXPORT_FIGURES

# Who did it: the subjects alone (counting "our" and "us" as "we" told an answer whose every step
# began "I" to stop saying "we").
_I_DID = words_rx(I_SUBJECTS)
_WE_DID = words_rx(WE_SUBJECTS)
# A Result is quantified by a figure, a number word, a fraction or a multiple ("cut the bill by a
# third", "halved", "doubled"); "one" only with a unit ("one of the smoothest launches" is no number).
# The labelling's own number cue (star_rules._NUMBER) is left as it was trained and tuned.
# metrics.find_quantities reads the same words (MULTIPLE_WORDS, SOONER_WORDS), so that the report's
# "Numbers" never says "none" beside "The Result is quantified".
_QUANTIFIED = re.compile(r"\d|%|\b(?:" + alternatives(NUMBER_WORDS | MULTIPLE_WORDS) + r"|percent|per cent)\b"
                         r"|\b(?:a|one|two|three)\s+(?:thirds?|quarters?)\b(?!\s+part)"
                         r"|\bone\s+(?:day|week|month|year|hour|minute|second|sprint|release|quarter)s?\b"
                         r"|\ban?\s+(?:day|week|month|year|hour|minute|second|sprint|quarter)\s+(?:"
                         + alternatives(SOONER_WORDS) + r")\b")
# When, not how much: "by Q4 2022", "in 2021", "H2" quantify nothing (a year was praised as a number).
_WHEN = re.compile(r"\b(?:q[1-4]|h[12]|fy ?\d\d)\b(?:\s+(?:19|20)\d\d\b)?"
                   r"|\b(?:(?:in|by|since|until|till|during|before|after|of|early|late|mid|spring|summer|autumn|"
                   r"fall|winter|january|february|march|april|may|june|july|august|september|october|november|"
                   r"december)\s+|mid-)(?:19|20)\d\d\b")
_TITLES = {"situation": "Situation", "task": "Task", "action": "Action", "result": "Result",
           "learning": "lesson"}


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


def _times(n: int) -> str:
    return {0: "not once", 1: "once", 2: "twice"}.get(n, f"{n} times")


def _not_a_story(sentences: tuple[Sentence, ...], opts: StarOptions) -> bool:
    """Most sentences say what one would/usually does, and few tell what happened."""
    body = [s for s in sentences if s.label != "learning"] or list(sentences)
    if not body:
        return False
    hypo = sum(s.hypothetical for s in body)
    past = sum(_tells_past(s.text) for s in body)
    return hypo / len(body) >= opts.hypothetical_share and past / len(body) < 0.34


_MISSING = {
    "situation": "No Situation: open with one or two sentences of context (where, when, what was at stake).",
    "task": "No Task: say what you were responsible for or asked to achieve (\"My goal was…\").",
    "action": "No Action: the interviewer needs the steps you took yourself, in the first person.",
    "result": "No Result: finish with what changed, with numbers (%, time, money).",
    "learning": "No lesson: add what you learned or would do differently (\"Looking back, I would…\").",
}


_NOT_A_STORY = ("This describes what you would do or usually do, not one time it happened: pick one specific "
                "past example and tell it (when and where, what you did, what came of it).")


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
    fillers left out: the same count whichever tagger), one that judges no part and says why.
    Every labeller gives each sentence some part, so "let me start again" read as a lesson and
    "Okay." as a Situation; its sentences are labelled "other"."""
    named = len(identifying_words(said.split()))
    letters = sum(3 if unicodedata.east_asian_width(c) in "WF" else 1 for c in said if c.isalnum())
    if named >= TOO_SHORT_WORDS or letters >= TOO_SHORT_CHARS:
        return report
    note = ("This is too short to tell a story, so no STAR part is judged: tell one specific time it "
            "happened (when and where, what you did, what came of it).")
    parts = {p: PartReport(present=False, sentences=(), share_words=0.0,
                           share_time=None if part.share_time is None else 0.0) for p, part in report.parts.items()}
    return replace(report, sentences=tuple(replace(s, label="other", parts=()) for s in report.sentences),
                   parts=parts, feedback=(Feedback("too_short_to_tell", "missing", note),), rating=1,
                   strengths=(), improvements=(note,), not_a_story=False)


# The pace a written answer is timed at: the middle of the default 120-160 words a minute target.
WRITTEN_WPM = 140.0


def export_figures(text: str) -> list[str]:
    """The lines of figures a file ``export --format md`` wrote holds ("_take 4 · … · 97 s · 126 wpm · 0
    fillers_"), in any line ends; one the user made a comment of is none."""
    text = re.sub(r"<!--.*?-->", " ", text.replace("\r\n", "\n").replace("\r", "\n"), flags=re.S)
    return [line.group().strip() for line in EXPORT_FIGURES.finditer(text)]


def export_pace(text: str) -> float | None:
    """The pace a file ``export --format md`` wrote states in its line of figures ("· 97 s · 126 wpm ·"),
    if one of a speaker's (60-260 words a minute) is there: the text's length is judged at it."""
    for line in export_figures(text):
        found = re.search(r" · (\d+) wpm · ", line)
        if found and 60 <= int(found.group(1)) <= 260:
            return float(found.group(1))
    return None


def _pct(share: float) -> int:
    """A share in whole percent, as the notes show it."""
    return round(100 * share)


def _quote(text: str, limit: int = 90) -> str:
    text = text.rstrip(" .")
    if len(text) > limit:  # cut between words, not inside one (and not before a whole one)
        head = text[:limit + 1]
        text = (head.rsplit(" ", 1)[0] if " " in head else head[:limit]).rstrip(" ,;:") + "…"
    return f"\u201c{text}\u201d"


def _coach(sentences, parts, spoken, duration_s, opts: StarOptions, *, not_story: bool = False,
           closest: dict[str, int] | None = None, written_wpm: float | None = None):
    """Feedback, strengths and rating. ``closest``: per part, the sentence most like it
    (learned tagger), quoted when the part is unclear. ``written_wpm``: a written answer's speaker's
    own pace, where the text states it (:func:`export_pace`)."""
    fb: list[Feedback] = []
    strengths: list[str] = []
    improvements: list[str] = []
    rating = 10.0
    if not_story:
        hypo = tuple(i for i, s in enumerate(sentences) if s.hypothetical)
        fb.append(Feedback("not_a_story", "missing", _NOT_A_STORY, hypo))
        rating -= 5
    for p in PARTS:
        part = parts[p]
        if part.present:
            continue
        if part.unclear and closest and p in closest:
            best = closest[p]
            advice = _MISSING[p].split(": ", 1)[1]
            fb.append(Feedback(f"unclear_{p}", "unclear",
                               f"Unclear whether there is {'an' if p == 'action' else 'a'} {_TITLES[p]}: the closest "
                               f"is {_quote(sentences[best].text)}. Make it explicit: {advice}", (best,)))
            rating -= {"situation": 0.75, "task": 0.75, "action": 1.5, "result": 1.25, "learning": 0.25}[p]
        else:
            fb.append(Feedback(f"missing_{p}", "missing" if p != "learning" else "tip", _MISSING[p]))
            rating -= {"situation": 1.5, "task": 1.5, "action": 3.0, "result": 2.5, "learning": 0.5}[p]
    core = [p for p in PARTS[:4] if parts[p].present]
    if len(core) == 4 and not not_story:  # "in order" only when each part opens after the one before it,
        # and no setting comes again after the outcome (an audit: two stories, S T A R S T A, were praised)
        firsts = [min(parts[p].sentences) for p in core if parts[p].sentences]
        told = parts["result"].sentences
        again = bool(told) and any(i > min(told) for p in ("situation", "task") for i in parts[p].sentences)
        strengths.append("All four STAR parts are there" +
                         (", in a clear order." if firsts == sorted(firsts) and not again else "."))
    setup = parts["situation"].share_words + parts["task"].share_words
    setup_idx = tuple(sorted(parts["situation"].sentences + parts["task"].sentences))  # in the answer's order
    # Shares are judged as the note shows them, in whole percent: 34.1% against a 34% limit would
    # read "take 34%; keep them under 34%".
    if _pct(setup) > _pct(opts.setup_max_share) and parts["action"].present:
        fb.append(Feedback("setup_too_long", "warning",
                           f"Situation and Task take {_pct(setup)}% of the answer; keep them to "
                           f"{_pct(opts.setup_max_share)}% or less and spend the time on what you did.", setup_idx))
        rating -= 1
    action = parts["action"]
    if action.present:
        text = " ".join(sentences[i].text.lower() for i in action.sentences)
        n_i, n_we = len(_I_DID.findall(text)), len(_WE_DID.findall(text))
        if _pct(action.share_words) < _pct(opts.action_min_share):
            fb.append(Feedback("action_short", "warning",
                               f"The Action is only {_pct(action.share_words)}% of the answer (aim for "
                               f"{_pct(opts.action_min_share)}% or more); it should be the longest part: "
                               "the steps you took, why, and how.", action.sentences))
            rating -= 1
        if n_we > n_i:
            fb.append(Feedback("action_we", "warning",
                               f"The Action says \"we\" {_times(n_we)} and \"I\" {_times(n_i)}; interviewers hire "
                               "you, not the team: say what you did.", action.sentences))
            rating -= 1
        elif n_i:
            strengths.append(f"The Action is in the first person: \"I\" did it {_times(n_i)}, \"we\" {_times(n_we)}.")
    # A part the learned tagger judges present may have no sentence of its own (each sentence
    # went to a likelier part): nothing to judge its content by, so no note on it.
    result = parts["result"]
    if result.present and result.sentences:
        text = " ".join(sentences[i].text.lower() for i in result.sentences)
        if not _QUANTIFIED.search(_WHEN.sub(" ", text)):
            fb.append(Feedback("result_no_number", "warning",
                               "The Result has no number: quantify it (percent, time saved, money, users).",
                               result.sentences))
            rating -= 1
        else:
            strengths.append("The Result is quantified.")
    lesson = parts["learning"]
    if lesson.present and lesson.sentences:
        # "ends with" only where it does: a lesson told first was praised for coming last
        later = any(i > max(lesson.sentences) for p in CORE_PARTS if parts[p].present for i in parts[p].sentences)
        strengths.append("It draws a lesson." if later else "It ends with a lesson learned.")
    # A written answer is measured by the time it takes to say: at WRITTEN_WPM a minute (it had no
    # length note at all, so 27 words were rated as well as a full story).
    # An export states the take's own pace: an untouched one was timed at 140 and checked "short" (87 s of 97).
    words = sum(s.words for s in sentences)
    said = duration_s if spoken else words / (written_wpm or WRITTEN_WPM) * 60 if words else None
    if said:
        low, high = opts.target_length_s
        pace = f" at the take's {written_wpm:.0f} words a minute" if written_wpm else ""
        length = f"{said:.0f} s" if spoken else f"{plural(words, 'word')}, about {said:.0f} s spoken{pace},"
        if said < low:
            severe = said < 0.67 * low
            # Only the parts that are thin: "add detail to the Action" to an answer that is three
            # quarters Action, or one with none, is advice that does not fit it.
            thin = [name for p, name, enough in (("action", "the Action", 0.5), ("result", "the Result", 0.2))
                    if parts[p].present and parts[p].share_words < enough]
            fb.append(Feedback("too_short", "warning" if severe else "tip",
                               f"{length} is short of the {low:.0f}–{high:.0f} s target: "
                               + (f"add detail to {' and '.join(thin)}." if thin else
                                  "tell the story in more detail: what you did, step by step, and what changed.")))
            rating -= 1 if severe else 0.5
        elif said > high:
            severe = said > 1.5 * high
            fb.append(Feedback("too_long", "warning" if severe else "tip",
                               f"{length} is over the {low:.0f}–{high:.0f} s target: trim the "
                               "Situation and keep one thread in the Action."))
            rating -= 1 if severe else 0.5
        else:
            strengths.append(f"The length ({length.rstrip(',')}) is on target.")
    if not_story:  # praise for the parts of an answer that is no story ("in the first person") misleads,
        # and so do notes on its parts and length ("No Result", "add detail to the Action"): the one
        # thing to fix is to tell a story. The rating still counts what it lacks.
        strengths = []
        fb = [f for f in fb if f.code == "not_a_story"]
    improvements = [f.message for f in fb]
    # Rounded down: a 10 means nothing left to improve, not "only a lesson missing".
    return tuple(fb), tuple(strengths), tuple(improvements), max(1, min(10, math.floor(rating)))
