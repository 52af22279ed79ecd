"""Retakes: what changed between takes, progress over takes, and story coverage.

Pure functions of stored take documents (the ``analyze --json`` document), of what the
review commands read of them (:class:`ReviewSummary`) and of take summaries; no database
or files here.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..domain.transcript import join_words
from ..domain.vocab import CORE_PARTS, MIN_STORY_WORDS, PARTS, identifying_words


@dataclass(frozen=True)
class Change:
    """One metric side by side.

    Attributes:
        key: machine name ("fillers_per_min").
        label: what the user reads.
        a, b: the values of the first and second take.
        better: True if b is better than a, False if worse, None if no change or no order.
    """

    key: str
    label: str
    a: float | None
    b: float | None
    better: bool | None
    unit: str = ""

    @property
    def delta(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a


@dataclass(frozen=True)
class Comparison:
    a_id: int
    b_id: int
    changes: tuple[Change, ...]
    star_a: dict[str, bool]
    star_b: dict[str, bool]
    diff: tuple[tuple[str, str], ...]  # (op, words) with op "equal", "insert", "delete"


def _distance_to_band(value: float, band: tuple[float, float]) -> float:
    low, high = band
    return 0.0 if low <= value <= high else (low - value if value < low else value - high)


def _closer(a: float | None, b: float | None, band: tuple[float, float]) -> bool | None:
    if a is None or b is None:
        return None
    da, db = _distance_to_band(a, band), _distance_to_band(b, band)
    return None if abs(da - db) < 1e-9 else db < da


def _lower(a, b):
    return None if a is None or b is None or a == b else b < a


def _higher(a, b):
    return None if a is None or b is None or a == b else b > a


def metric_values(doc: dict[str, Any]) -> dict[str, float | None]:
    """The comparable figures of one take document."""
    m = doc.get("metrics", {})
    star = doc.get("star", {})
    action_i, action_we = m.get("action_i_count", 0), m.get("action_we_count", 0)
    return {
        "fillers_per_min": m.get("fillers_per_min"),
        "wpm": doc.get("wpm"),
        "length_s": doc.get("speaking_span_s"),
        "long_pauses": m.get("long_pause_count"),
        "star_parts": sum(bool(star.get(p, {}).get("present")) for p in CORE_PARTS),  # counts: whole numbers
        "learning": int(bool(star.get("learning", {}).get("present"))),
        "rating": star.get("rating"),
        "i_share_action": (action_i / (action_i + action_we)) if (action_i + action_we) else None,
        "numbers": len(m.get("quantities", [])),
    }


@dataclass(frozen=True)
class ReviewSummary:
    """What ``progress``, ``coverage`` and ``compare`` read of one take's analysis document
    (``compare`` its :func:`content_words` too): about a kB, kept beside the 42 kB
    document (see :mod:`.summaries`), made by :func:`summarise` alone.

    Attributes:
        no_speech: the analysis found no speech.
        story_words: :func:`story_signature`, the words that tell its story apart.
        figures: :func:`metric_values`, the figures compared.
        star: each STAR part (and the lesson), whether the answer has it.
    """

    no_speech: bool
    story_words: frozenset[str]
    figures: dict[str, float | None]
    star: dict[str, bool]

    @property
    def tells_a_story(self) -> bool:
        """Whether the take says enough to count as an answer: not a false start ("let me start
        again") or fillers alone, nor one with no STAR part (what one would or usually does:
        star_report.no_story), which coverage counts as no story, and compare and progress leave
        out of a question's or a principle's run of takes."""
        return is_a_story(self.story_words) and any(self.star.values())

    @property
    def no_part(self) -> bool:
        """Whether the take says enough to tell a story but has no STAR part (what one would or usually
        does): it tells no story, not for being too short."""
        return is_a_story(self.story_words) and not any(self.star.values())


def summarise(doc: dict[str, Any]) -> ReviewSummary:
    """The :class:`ReviewSummary` of a take's analysis document."""
    return ReviewSummary(no_speech=bool(doc.get("no_speech")), story_words=story_signature(doc),
                         figures=metric_values(doc),
                         star={p: bool(doc.get("star", {}).get(p, {}).get("present")) for p in PARTS})


def compare_documents(a_id: int, a: dict[str, Any], b_id: int, b: dict[str, Any], *,
                      target_wpm: tuple[float, float], target_length_s: tuple[float, float]) -> Comparison:
    """Compare two takes' documents (``a`` the earlier)."""
    return compare_summaries(a_id, summarise(a), b_id, summarise(b), words=(content_words(a), content_words(b)),
                             target_wpm=target_wpm, target_length_s=target_length_s)


def compare_summaries(a_id: int, a: ReviewSummary, b_id: int, b: ReviewSummary, *,
                      words: tuple[Sequence[str], Sequence[str]], target_wpm: tuple[float, float],
                      target_length_s: tuple[float, float]) -> Comparison:
    """Compare two takes by their summaries and their :func:`content_words`, WORDS (``a`` the earlier)."""
    va, vb = a.figures, b.figures
    changes = (
        Change("fillers_per_min", "fillers per minute", va["fillers_per_min"], vb["fillers_per_min"],
               _lower(va["fillers_per_min"], vb["fillers_per_min"]), "/min"),
        Change("wpm", "pace (words/min)", va["wpm"], vb["wpm"], _closer(va["wpm"], vb["wpm"], target_wpm), "wpm"),
        Change("length_s", "length", va["length_s"], vb["length_s"],
               _closer(va["length_s"], vb["length_s"], target_length_s), "s"),
        Change("long_pauses", "long pauses", va["long_pauses"], vb["long_pauses"],
               _lower(va["long_pauses"], vb["long_pauses"])),
        Change("star_parts", "STAR parts present (of 4)", va["star_parts"], vb["star_parts"],
               _higher(va["star_parts"], vb["star_parts"])),
        Change("learning", "lesson learned", va["learning"], vb["learning"], _higher(va["learning"], vb["learning"])),
        Change("rating", "rating (of 10)", va["rating"], vb["rating"], _higher(va["rating"], vb["rating"])),
        Change("i_share_action", "\"I\" share in the Action", va["i_share_action"], vb["i_share_action"],
               _higher(va["i_share_action"], vb["i_share_action"]), "%"),
        Change("numbers", "numbers quoted", va["numbers"], vb["numbers"], _higher(va["numbers"], vb["numbers"])),
    )
    return Comparison(a_id, b_id, changes, dict(a.star), dict(b.star), tuple(word_diff(*words)))


def content_words(doc: dict[str, Any]) -> list[str]:
    """The answer's words without fillers, as written."""
    return [w["text"] for w in doc.get("words", []) if not w.get("filler")]


def word_diff(a: Sequence[str], b: Sequence[str]) -> list[tuple[str, str]]:
    """A word-level diff: runs of ("equal" | "delete" | "insert", text)."""
    matcher = difflib.SequenceMatcher(a=[_diff_key(w) for w in a], b=[_diff_key(w) for w in b], autojunk=False)
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(("equal", join_words(b[j1:j2])))
        else:
            if i2 > i1:
                out.append(("delete", join_words(a[i1:i2])))
            if j2 > j1:
                out.append(("insert", join_words(b[j1:j2])))
    return out


@functools.cache  # a diff per pair of takes keyed each take's words twice; speech repeats its words
def _diff_key(word: str) -> str:
    """A word as the diff compares it: case and punctuation do not count ("U.S." is "us",
    "e-mail" "email"), but what makes a figure does: a point, comma, colon or slash between
    digits ("4.8%" is not "48%", "9:30" not "930"; "1,200" is "1200"), a sign or a currency
    before one ("-5%" is not "+5%", "€2.5" not "2.5")."""
    word = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", word.lower())
    kept = [c for i, c in enumerate(word)
            if c.isalnum() or c in "%$€£¥_'"
            or (c in ".,:/" and 0 < i < len(word) - 1 and word[i - 1].isdigit() and word[i + 1].isdigit())
            or (c in "+-−±" and i + 1 < len(word) and word[i + 1].isdigit() and (i == 0 or not word[i - 1].isalnum()))]
    return "".join(kept).strip("'_")


# --- progress and coverage ----------------------------------------------------------

@dataclass(frozen=True)
class Point:
    take_id: int
    started_at: str
    fillers_per_min: float | None
    wpm: float | None
    length_s: float | None
    star_parts: float | None


def progress_points(takes: list[Any]) -> list[Point]:
    """One point per analysed take with speech in it, in order (takes from :meth:`Store.list`)."""
    return [
        Point(t.id, t.started_at, t.fillers_per_min, t.wpm, t.speaking_span_s,
              float(t.star_parts_present) if t.star_parts_present is not None else None)
        for t in takes if t.spoke
    ]


def story_signature(doc: dict[str, Any]) -> frozenset[str]:
    """The content words that identify a story (names, numbers, nouns), for telling stories apart."""
    return identifying_words(content_words(doc))


def is_a_story(signature: frozenset[str]) -> bool:
    """Whether a take says enough to be told apart as a story (``vocab.MIN_STORY_WORDS``): a
    shorter one is no story of its own, and joins none, where one or two shared words made it "the
    same story" as anything (and, single-linked, merged different stories through it)."""
    return len(signature) >= MIN_STORY_WORDS


SAME_STORY_SHARE = 0.35


def same_story(a: frozenset[str], b: frozenset[str], *, threshold: float = SAME_STORY_SHARE) -> bool:
    """Two tellings of one story share much of their vocabulary; different stories little."""
    if not is_a_story(a) or not is_a_story(b):
        return False
    return len(a & b) / min(len(a), len(b)) >= threshold


def group_stories(docs: list[tuple[int, dict[str, Any]]]) -> list[list[int]]:
    """Group takes into distinct stories (single-link on :func:`same_story`); takes too short to
    tell a story (:func:`is_a_story`) are in no group."""
    return story_groups([(tid, story_signature(doc)) for tid, doc in docs])[0]


def story_groups(every: list[tuple[int, frozenset[str]]]) -> tuple[list[list[int]], list[int]]:
    """:func:`group_stories` of takes given by their :func:`story_signature`, and the ids of the
    takes too short to tell a story. Single link: a take that is the same story as two groups
    (the whole answer after its two halves) joins them, whatever order the takes came in; groups
    come in the order of their first take, each in the takes' order."""
    sigs = [(tid, sig) for tid, sig in every if is_a_story(sig)]
    short = [tid for tid, sig in every if not is_a_story(sig)]
    root = list(range(len(sigs)))

    def find(k: int) -> int:
        while root[k] != k:
            root[k] = k = root[root[k]]
        return k

    # same_story, inline, over the earlier takes that share a word with this one (an index of
    # who uses each word): a call per pair took most of `coverage`
    used_by: dict[str, list[int]] = {}
    for k, (_, sig) in enumerate(sigs):
        n = len(sig)
        for j, shared in Counter(j for word in sig for j in used_by.get(word, ())).items():
            if shared / min(n, len(sigs[j][1])) >= SAME_STORY_SHARE:
                a, b = find(k), find(j)
                root[max(a, b)] = min(a, b)
        for word in sig:
            used_by.setdefault(word, []).append(k)
    groups: dict[int, list[int]] = {}
    for k, (tid, _) in enumerate(sigs):
        groups.setdefault(find(k), []).append(tid)
    return list(groups.values()), short
