"""The labelled story corpus as the tagger sees it: segments, relabelling, renderings.

A *story* here is a list of (segment text, part) pairs in the author's order, made by
running each author-labelled part through starcoach's own segmenter (so training sees
the same units as the app). Three renderings:

* written: the segments as the author wrote them (labels and markup already removed);
* transcript-style: lower case, punctuation stripped, fillers and false starts inserted,
  several sentences run together and re-cut by the run-on splitter; each piece takes the
  part most of its words came from. The settings (filler words, rates, run lengths) are a
  :class:`Rendering`; training and validation use different ones;
* notes: written, but in the clipped style of interview-prep notes, where the goal is stated
  without its lead-in ("I needed to cut costs" -> "Cut costs") and "I" or "we" is dropped
  before the verb ("I mapped the tables" -> "Mapped the tables"); the share of sentences
  clipped is a :class:`NotesRendering`, again one for training and another for validation.
"""

from __future__ import annotations

import json
import random
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from starcoach.analysis.star_segment import split_run_on, split_text
from starcoach.analysis.star_tagger import PARTS

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "star-corpus" / "stories.jsonl"

# Learning relabelling. The corpus keeps the authors' labels; 77 Result parts also state a
# lesson. A segment of a *Result* part is relabelled Learning when it matches this pattern:
# the writer says what they learned or realised, what it taught them, a lesson/takeaway,
# "looking back"/"in hindsight"/"next time", "I should have", or that the experience
# highlighted/reinforced the importance of something. Nothing else is relabelled.
LESSON = re.compile(
    r"\b(?:i|we|the team) (?:also )?(?:have )?(?:learned|learnt|realized|realised)\b|^learned\b"
    r"|\btaught (?:me|us|the team)\b|\blessons?\b|\btakeaways?\b|\blooking back\b|\bin hindsight\b"
    r"|\bnext time\b|\bi should have\b"
    r"|\b(?:highlighted|reinforced|underscored|showed me|reminded me of) (?:the )?(?:importance|value|need)\b",
    re.I)


@dataclass(frozen=True)
class Story:
    id: str
    source: str
    segments: tuple[tuple[str, str], ...]  # (text, part) after relabelling
    authored: tuple[str, ...]  # each segment's part as the author labelled it

    @property
    def author_learning(self) -> bool:
        return "learning" in self.authored


def load_stories(path: Path = CORPUS) -> list[Story]:
    """Read the corpus and segment every part (see the module docstring)."""
    return [story_from_record(json.loads(line)) for line in Path(path).read_text(encoding="utf-8").splitlines()
            if line.strip()]


def story_from_record(rec: dict) -> Story:
    """One record of the corpus's format (``id``, ``source.repo``, ``parts`` of ``label`` and
    ``text``) as a story; parts labelled "other" (or anything not a STAR part) are left out."""
    segs, authored = [], []
    for part in rec["parts"]:
        label = part["label"]
        if label not in PARTS:
            continue
        for seg in split_text(part["text"]):
            segs.append((seg.text, "learning" if label == "result" and LESSON.search(seg.text) else label))
            authored.append(label)
    return Story(rec["id"], rec["source"]["repo"], tuple(segs), tuple(authored))


def without(story: Story, part: str) -> Story:
    """The story with the author's part removed (lessons relabelled out of a Result go with it)."""
    keep = [k for k, a in enumerate(story.authored) if a != part]
    return Story(f"{story.id}-no-{part}", story.source, tuple(story.segments[k] for k in keep),
                 tuple(story.authored[k] for k in keep))


REMOVABLE = ("situation", "task", "action", "result")  # the parts validation removes, each in turn


def copies(story: Story) -> list[tuple[str | None, Story]]:
    """The whole story and one copy per removable part it has, that part removed."""
    out = [(None, story)]
    out += [(p, without(story, p)) for p in REMOVABLE if p in story.authored]
    return out


# Shortened copies: the corpus's parts run long (Action about six sentences), while the users'
# notes ask for a Situation and Task of one or two sentences each. A tagger that only sees long
# parts learns that one clear sentence is what a copy *without* that part looks like,
# and calls a short complete answer's Action absent (docs/star.md). Each run of an authored part
# keeps a random stretch of at most this many consecutive sentences (at least one).
SHORT_MAX = {"situation": 2, "task": 2, "action": 3, "result": 2, "learning": 2}


def shortened(story: Story, draw: int) -> Story:
    """The story with each part cut to 1..SHORT_MAX[part] consecutive sentences; ``draw`` picks
    the random cut (training and validation use different draws). Relabelled lessons stay
    with their Result run and may be cut away with it."""
    rng = random.Random(zlib.crc32(f"{story.id}/short{draw}".encode()))
    keep: list[int] = []
    for part, indexes in groupby(range(len(story.segments)), key=lambda k: story.authored[k]):
        run = list(indexes)
        n = min(len(run), rng.randint(1, SHORT_MAX[part]))
        first = rng.randint(0, len(run) - n)
        keep += run[first:first + n]
    return Story(f"{story.id}-short{draw}", story.source, tuple(story.segments[i] for i in keep),
                 tuple(story.authored[i] for i in keep))


@dataclass(frozen=True)
class Rendering:
    """Settings of a transcript-style rendering."""

    name: str
    fillers: tuple[str, ...]
    filler_rate: float
    false_start_rate: float
    run_lengths: tuple[int, int]  # sentences joined into one unpunctuated run (inclusive range)
    seed: int


TRAIN_RENDERING = Rendering("train", ("um", "uh", "like", "you know"), 0.06, 0.05, (1, 3), 1)
# A second training rendering for variety: other fillers, longer runs (still not the validation settings).
TRAIN_RENDERING_2 = Rendering("train2", ("so", "well", "actually", "kind of", "and um"), 0.08, 0.08, (3, 8), 3)
VALID_RENDERING = Rendering("valid", ("er", "ah", "i mean", "basically", "sort of", "okay so", "right"),
                            0.10, 0.10, (2, 6), 2)

_PUNCT = re.compile(r"[^\w\s'%$.-]|(?<!\d)[.](?!\d)|(?<=\w)-(?=\s|$)")


def _spoken_tokens(text: str) -> list[str]:
    return [t.strip(".-") for t in _PUNCT.sub(" ", text.lower().replace("’", "'")).split() if t.strip(".-")]


def render_transcript(story: Story, r: Rendering, rng: random.Random) -> list[tuple[str, str]]:
    """The story as hesitant speech transcribed without punctuation, re-segmented."""
    items = []  # (tokens, labels) per sentence
    for text, lab in story.segments:
        toks = _spoken_tokens(text)
        if not toks:
            continue
        words: list[str] = []
        if rng.random() < r.false_start_rate:
            k = 1 if r.name.startswith("train") or len(toks) < 3 else 2
            words += toks[:k] + (["i", "mean"] if not r.name.startswith("train") and rng.random() < 0.5 else [])
        for t in toks:
            if rng.random() < r.filler_rate:
                words += rng.choice(r.fillers).split()
            words.append(t)
        items.append((words, lab))
    out = []
    k = 0
    while k < len(items):
        n = rng.randint(*r.run_lengths)
        run = items[k:k + n]
        k += n
        toks = [t for words, _ in run for t in words]
        labs = [lab for words, lab in run for _ in words]
        pos = 0
        for piece in split_run_on(toks):
            piece_labs = labs[pos:pos + len(piece)]
            pos += len(piece)
            top = Counter(piece_labs).most_common()
            best = max(c for _, c in top)
            lab = next(lab for lab in piece_labs if dict(top)[lab] == best)  # ties: the earlier part
            out.append((" ".join(piece), lab))
    return out


def written(story: Story) -> list[tuple[str, str]]:
    return list(story.segments)


@dataclass(frozen=True)
class NotesRendering:
    """Settings of a notes-style rendering: the share of the sentences that can be clipped
    each way that are."""

    name: str
    lead_rate: float  # a goal's lead-in ("I needed to", "My task was to") cut
    subject_rate: float  # an opening "I" or "we" dropped before a verb
    seed: int


NOTES_TRAIN = NotesRendering("notes", 0.3, 0.3, 4)
NOTES_VALID = NotesRendering("notes_valid", 0.9, 0.8, 5)

_OPENER = r"^(?:(?:so|then|and|first|next|finally),?\s+)?"
_GOAL_LEAD = re.compile(
    _OPENER + r"(?:as (?:the|a|an) [^,]{1,60},\s+)?"
    r"(?:(?:i|we) (?:really |also |first |then |urgently )?(?:(?:needed|had|wanted|was asked|were asked|was expected"
    r"|were expected|was tasked|were tasked|set out|aimed|had been asked) to|(?:was|were) tasked with"
    r"|(?:was|were) responsible for)\s+"
    r"|(?:my|our) (?:main |primary |key |immediate |specific |core |first |biggest )?(?:task|goal|job|role"
    r"|responsibility|objective|mission|challenge|aim|priority|focus|assignment) (?:here |then )?"
    r"(?:was|is|became|were)(?: to)?\s+)", re.I)
_SUBJECT = re.compile(_OPENER + r"(?:i|we)\s+(?!(?:am|was|were|had|have|would|will|could|should|did|do|also|then"
                      r"|is|are)\b)(?=[a-z])", re.I)


def clip_note(text: str, r: NotesRendering, rng: random.Random) -> str:
    """One sentence as a note: its goal lead-in or its subject cut, each at its rate."""
    for pattern, rate in ((_GOAL_LEAD, r.lead_rate), (_SUBJECT, r.subject_rate)):
        m = pattern.match(text)
        if m and len(text) - m.end() > 3:
            if rng.random() < rate:
                rest = text[m.end():]
                return rest[0].upper() + rest[1:]
            return text
    return text


def render_notes(story: Story, r: NotesRendering, rng: random.Random) -> list[tuple[str, str]]:
    return [(clip_note(text, r, rng), lab) for text, lab in story.segments]


def result_first(renders: dict, kind: str) -> dict:
    """The ``kind`` renderings told Result first, as a speaker who opens on the outcome does:
    the Result sentences moved to the front, the others in their order. For validation only:
    the corpus has no such stories, and the order model is counted from them."""
    return {key: [p for p in pairs if p[1] == "result"] + [p for p in pairs if p[1] != "result"]
            for key, pairs in renders.items() if key[1] == kind}
