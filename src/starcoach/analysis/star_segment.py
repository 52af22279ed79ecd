"""Sentence segmentation for the STAR tagger: written text and timed transcripts.

The tagger labels sentences, so the unit matters as much as the model. Written answers
break at sentence punctuation and also at line breaks, bullets, headings and quotes.
Transcripts of hesitant speech often have no punctuation at all, so a run-on is cut
at pauses (when word timings exist), before discourse markers ("so", "and then",
"in the end") and, failing those, into even windows.

A part label the writer gave ("S:", "Situation:", "[Task]", a "**Result**" line, "## Task") is
kept as a *hint* on the sentences it covers: evidence for the tagger, not the answer. A part's
name in brackets after words ("…my patient load (Task).") is a hint on those words alone (back
to the start of their sentence, or the label before it in the sentence). Headings that
starcoach's own ``export --format md`` writes are dropped without a hint: an edited export is judged by its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..domain.transcript import Word, join_words
from ..domain.vocab import PARTS
from .answer_text import strip_export

_PART_NAMES = {
    "s": "situation", "situation": "situation", "situations": "situation", "context": "situation",
    "background": "situation",
    "t": "task", "task": "task", "tasks": "task", "goal": "task", "objective": "task",
    "a": "action", "action": "action", "actions": "action", "actions taken": "action", "approach": "action",
    "r": "result", "result": "result", "results": "result", "outcome": "result", "impact": "result",
    "l": "learning", "learning": "learning", "learnings": "learning", "lesson": "learning",
    "lessons": "learning", "lesson learned": "learning", "lessons learned": "learning",
    "lessons learnt": "learning", "what i learned": "learning", "reflection": "learning",
    "takeaway": "learning", "takeaways": "learning", "key takeaways": "learning",
}
_NAME_RX = "|".join(sorted((re.escape(n) for n in _PART_NAMES), key=len, reverse=True))
# "**Situation:** text", "S: text", "Result - text", "**Action (what I did):** text". A one-letter
# name needs the colon or dash so that "A team…" is not read as a label.
_LABEL_LINE = re.compile(
    r"^(?:[*_]{1,3})?(?P<name>" + _NAME_RX + r")(?:\s*[-–—]\s*(?:" + "|".join(PARTS) + r")\b)?"
    r"(?:\s*\([^)]{0,40}\))?(?:[*_]{1,3})?"
    r"(?:\s*(?P<sep>[:\-–—])(?:[*_]{1,3})?\s*|\s*$)", re.I)
# A part's own name in brackets: before the words it names ("[Situation] Our import failed.") or
# after them ("On a busy shift (Situation), two nurses called out (Task)."). Only the five names
# and their plurals: "(a)" numbers a list, and "(impact)" or "(context)" are as often prose.
_BRACKET_LABEL = re.compile(r"\s*[(\[]+\s*(?P<name>situations?|tasks?|actions?|results?|learnings?)\s*[)\]]+", re.I)
# What follows a label and belongs to it: commas, a colon, the stop that ended the words it names.
_AFTER_BRACKET = re.compile(r"^(?:\s|[,;:]|[.!?–—-](?=\s|$))+")
_HEADING = re.compile(r"^#{1,6}\s*(.*?)\s*#*$")
_BULLET = re.compile(r"^(?:[-*+•▪◦·]|\d{1,2}[.)])\s+")
_CHECKBOX = re.compile(r"^[-*]\s*\[[ xX]\]")
# A span of at most 500 characters: unpaired marks on one long line each scanned to its end (140 KB, 120 s).
_EMPHASIS = re.compile(r"(\*{1,3}|_{1,3}|`)(\S(?:.{0,500}?\S)?)\1")
_ABBREV = re.compile(r"\b(?:e\.g|i\.e|vs|etc|dr|mr|mrs|inc|ltd|jr|sr|approx|u\.s|a\.m|p\.m|no)\.$", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=[.!?…][\"'”’)\]])\s+")
# starcoach's own export headings (see answer_text.strip_export)
_EXPORT_HEADINGS = frozenset(PARTS) | {"other"}

# Words a speaker uses to move on; a run-on is cut before them.
_MARKERS = re.compile(
    r"^(?:and then|and so|so then|so|then|after that|afterwards|next|eventually|finally|in the end|at the end|"
    r"as a result|ultimately|because of that|which meant|that meant|but then|but|however|meanwhile|"
    r"the result was|the outcome was|my (?:task|goal|job|role) was|i was asked|looking back|in hindsight|"
    r"what i learned|i learned|the lesson|the problem was|the situation was|at the time|first|second|third|"
    r"once)\b")
# "I"/"we" and a past-tense verb open a clause in speech as often as a marker does.
_CLAUSE_START = re.compile(
    r"^(?:i|we) (?:also |then |quickly |first |finally |immediately |personally )?"
    r"(?:\w+ed|was|were|had|built|ran|wrote|made|led|took|found|chose|began|set|got|gave|kept|put|sent|brought|"
    r"told|won|did|went|rebuilt|rewrote|split|cut|met|spoke|drove|held|knew|saw|thought|learned|learnt)\b")
_NO_CLAUSE_AFTER = frozenset("that which who because when where while if than what how".split())
_NOT_MARKER_AFTER = re.compile(r"^so (?:that|much|many|far|long|i'm|it's)\b|^then (?:on|again)\b|^once (?:a|every|per)\b")


@dataclass(frozen=True)
class Segment:
    """One sentence as the tagger reads it.

    Attributes:
        text: the sentence text (markup and label removed).
        hint: the STAR part a label or heading in the writer's text named for it, or None.
        start, end: times in the recording (spoken answers only).
        words: word count (fillers left out).
    """

    text: str
    hint: str | None = None
    start: float | None = None
    end: float | None = None
    words: int = 0


# --- written text ---------------------------------------------------------------

def split_text(text: str, *, max_words: int = 28, window: int = 14) -> list[Segment]:
    """Split a written answer into sentences with the part hints its labels give.

    Args:
        text: the answer as plain text or Markdown.
        max_words: a sentence longer than this is cut at discourse markers and into
            windows (:func:`split_run_on`): a pasted transcript's run-on, and a long
            punctuated sentence too. The weights were trained on sentences cut so; leaving
            punctuated ones whole was measured worse (docs/star.md, "What is not done").
            The rules tagger cuts only unpunctuated runs.
        window: the longest piece a run-on is cut into when it has no markers.

    Returns:
        The sentences in order.
    """
    text, exported = strip_export(text)
    first = _labels_come_first(text)  # "[Task] I had to…" or "…by 6. (Task) I rolled back…"
    hint: str | None = None
    blocks: list[tuple[str, str | None]] = []  # (line text, hint); "" is a boundary
    for raw in text.splitlines():
        line = raw.strip()
        if not line or _CHECKBOX.match(line):
            blocks.append(("", hint))
            continue
        heading = _HEADING.match(line)
        if heading:
            title = _strip_markup(heading.group(1)).strip(" :").lower()
            if exported and title in _EXPORT_HEADINGS:
                hint = None  # starcoach's own heading: no evidence either way
            else:
                hint = _heading_part(title)
            blocks.append(("", hint))
            continue
        line = _unquoted(line)
        bare = _strip_markup(line)
        label = _LABEL_LINE.match(line) or _LABEL_LINE.match(bare) or _BRACKET_LABEL.fullmatch(bare)
        if label and label.end() == len(label.string.rstrip()):  # "**Result**", "Situation:", "(Task)" alone
            if label.re is _BRACKET_LABEL and not first:  # "(Task)" under its words: theirs
                _name_last(blocks, _PART_NAMES[label.group("name").lower()])
                continue
            hint = _PART_NAMES[label.group("name").lower()]
            blocks.append(("", hint))
            continue
        blocks.append(("", hint))
        for sentence in _sentences(bare):
            label = _LABEL_LINE.match(sentence)
            if label and label.group("sep") and label.end() < len(sentence):  # "S: …", "Result - …" inline too
                hint, sentence = _PART_NAMES[label.group("name").lower()], sentence[label.end():].strip()
            elif label := _BRACKET_LABEL.match(sentence):  # "[Task] I had to…", or "…by 6. (Task) I rolled…"
                part, sentence = _PART_NAMES[label.group("name").lower()], _AFTER_BRACKET.sub("", sentence[label.end():])
                if first:
                    hint = part
                else:
                    _name_last(blocks, part)
            for words, after in _labelled_after(sentence):
                blocks.append((words, after or hint))
    out: list[Segment] = []
    for sentence, h in blocks:
        if not sentence:
            continue
        for piece in split_run_on(sentence.split(), max_words=max_words, window=window):
            # a dash, an emoji or a row of dots is no word ("I fixed it - fast 🎉" was 6), and alone no sentence
            said = sum(any(c.isalnum() for c in token) for token in piece)
            if said:
                out.append(Segment(text=" ".join(piece), hint=h, words=said))
    return out


def _unquoted(line: str) -> str:
    """A line without its quote mark and bullet."""
    return _BULLET.sub("", re.sub(r"^>\s*", "", line))


def _labels_come_first(text: str) -> bool:
    """Whether the answer's first part name in brackets comes before any of its words ("[Situation]
    Our…"): then each such name is a label for what follows; else for the words before it."""
    for raw in text.splitlines():
        if _HEADING.match(raw.strip()):
            continue
        line = _strip_markup(_unquoted(raw.strip()))
        m = _BRACKET_LABEL.search(line)
        if m is not None:
            return not line[:m.start()].strip(" *_#")
        if line.strip(" *_#-"):
            return False
    return True


def _name_last(blocks: list[tuple[str, str | None]], part: str) -> None:
    """Give the last sentence so far the part a label after it names."""
    for k in range(len(blocks) - 1, -1, -1):
        if blocks[k][0]:
            blocks[k] = (blocks[k][0], part)
            return


def _labelled_after(sentence: str) -> list[tuple[str, str | None]]:
    """The sentence cut after each label that follows the words it names (back to the sentence's
    start or the label before), each piece with that label's part; the rest with None."""
    out: list[tuple[str, str | None]] = []
    start = 0
    for m in _BRACKET_LABEL.finditer(sentence):
        if m.group("name").islower() and re.match(r"\s*\w", sentence[m.end():]):
            continue  # "into small units (tasks) and…": a gloss in prose, not a label
        piece = _AFTER_BRACKET.sub("", sentence[start:m.start()]).rstrip(" ,;:–—-")
        if piece:
            out.append((piece, _PART_NAMES[m.group("name").lower()]))
        start = m.end()
    rest = _AFTER_BRACKET.sub("", sentence[start:]) if start else sentence
    if rest:
        out.append((rest, None))
    return out


def _heading_part(title: str) -> str | None:
    label = _LABEL_LINE.match(title)
    if label and label.end() == len(title):
        return _PART_NAMES[label.group("name").lower()]
    return None


def _strip_markup(s: str) -> str:
    s = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", s)  # links keep their text
    for _ in range(2):
        s = _EMPHASIS.sub(r"\2", s)
    s = s.replace("<br>", " ").replace("<br/>", " ")
    return " ".join(s.split())


def _sentences(line: str) -> list[str]:
    out, current = [], ""
    for piece in _SENTENCE_END.split(line):
        current = f"{current} {piece}".strip() if current else piece.strip()
        if _ABBREV.search(current):
            continue
        if current:
            out.append(current)
        current = ""
    if current:
        out.append(current)
    return out


# --- run-ons --------------------------------------------------------------------

def split_run_on(tokens: list[str], *, max_words: int = 28, window: int = 14,
                 min_words: int = 4) -> list[list[str]]:
    """Cut a long unpunctuated run of words into sentence-sized pieces.

    A run of more than ``max_words`` words is cut before each discourse marker that
    leaves at least ``min_words`` words on both sides; pieces still longer than
    ``window`` + half a window are cut into even windows.

    Args:
        tokens: the words, as written (case and punctuation kept).
        max_words: runs up to this length are left whole.
        window: target length of the windows a marker-less piece is cut into.
        min_words: no piece shorter than this is cut off.

    Returns:
        The pieces, each a list of the original tokens, in order.
    """
    if len(tokens) <= max_words:
        return [tokens] if tokens else []
    cuts = [i for i in _marker_positions(tokens) if i >= min_words and len(tokens) - i >= min_words]
    pieces, last = [], 0
    for i in cuts:
        if i - last >= min_words:
            pieces.append(tokens[last:i])
            last = i
    pieces.append(tokens[last:])
    out = []
    for piece in pieces:
        if len(piece) <= window + window // 2:
            out.append(piece)
            continue
        n = max(2, round(len(piece) / window))
        size = len(piece) / n
        out += [piece[round(k * size):round((k + 1) * size)] for k in range(n)]
    return out


def _marker_positions(tokens: list[str]) -> list[int]:
    norm = [re.sub(r"[^\w']", "", t.lower().replace("’", "'")) for t in tokens]
    out = []
    for i in range(1, len(norm)):
        tail = " ".join(norm[i:i + 5])
        if _MARKERS.match(tail) and not _NOT_MARKER_AFTER.match(tail):
            out.append(i)
        elif _CLAUSE_START.match(tail) and norm[i - 1] not in _NO_CLAUSE_AFTER:
            out.append(i)  # "... tight deadlines i organized ...": a new clause with its own subject
    return out


# --- transcripts ----------------------------------------------------------------

def split_words(words: tuple[Word, ...] | list[Word], *, skip: set[int] | frozenset[int] = frozenset(),
                pause_s: float = 0.8, max_words: int = 28, window: int = 14) -> list[Segment]:
    """Split recognised words into sentences: punctuation, pauses, then discourse markers.

    Args:
        words: all recognised words, fillers included (their time counts for pauses).
        skip: indexes of words left out of the sentences' text (fillers).
        pause_s: a silence this long between words ends a sentence, unless the word
            before it ends in a comma.
        max_words, window: how long runs are cut (see :func:`split_run_on`).

    Returns:
        The sentences, with start and end times.
    """
    chunks: list[list[Word]] = []
    cur: list[Word] = []
    prev: Word | None = None
    for i, w in enumerate(words):
        if (cur and prev is not None and w.start - prev.end >= pause_s and len(cur) >= 3
                and not prev.text.rstrip().endswith((",", ";", ":"))):
            chunks.append(cur)
            cur = []
        prev = w
        if i in skip:
            continue
        cur.append(w)
        if w.text.rstrip().endswith((".", "?", "!")) and not _ABBREV.search(w.text.strip()):
            chunks.append(cur)
            cur = []
    if cur:
        chunks.append(cur)
    out = []
    for chunk in chunks:
        pieces = split_run_on([w.text.strip() for w in chunk], max_words=max_words, window=window)
        k = 0
        for piece in pieces:
            ws = chunk[k:k + len(piece)]
            k += len(piece)
            out.append(Segment(text=join_words(w.text for w in ws), start=ws[0].start, end=ws[-1].end,
                               words=len(ws)))
    return out
