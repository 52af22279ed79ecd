"""Each take's review summary, kept beside its analysis: what ``progress``, ``coverage`` and
``compare`` read of a take (:class:`~.compare.ReviewSummary`, and for ``compare`` its words).

Those commands read a few figures and words of every take; parsing each take's whole analysis
document for them (42 kB of JSON, 87 MB at 2000 takes) took seconds. The store keeps a take's
summary, made from the document as stored, whenever it stores an analysis, in the same
transaction; whatever else changes or deletes an analysis deletes its summary (the triggers of
migration 004). A take with no summary of this :data:`VERSION` (in a database an older release
wrote, or a newer one) is summarised from its document when a review reads it, and that
summary kept: an upgraded database is quick from its second review on.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..domain.document import stored_analysis
from ..domain.vocab import PARTS
from .compare import ReviewSummary, content_words, metric_values, summarise
from .store_errors import store_error

VERSION = 1
"""Raise it when :class:`~.compare.ReviewSummary`, :func:`~.compare.summarise` or
:func:`~.compare.content_words` changes: every summary kept is then made again from its document."""

_BATCH = 200  # summaries made while reading, kept this many to a transaction (a kill loses one batch at most)


class Store(Protocol):
    """What this module uses of :class:`~.store.Store` (which imports this module)."""

    path: Path
    db: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[None]: ...


@dataclass(frozen=True)
class Summaries:
    """Takes' review summaries. A take in neither ``of`` nor ``damaged`` has no analysis.

    Attributes:
        of: by take id, those of the takes analysed.
        damaged: the takes whose stored analysis is damaged (``doctor`` analyses them again),
            in the order asked for.
        words: by take id, the :func:`~.compare.content_words` of the takes in ``of``, when asked for.
    """

    of: dict[int, ReviewSummary]
    damaged: list[int]
    words: dict[int, tuple[str, ...]]

    def answers(self, ids: Iterable[int]) -> tuple[list[int], list[int]]:
        """IDS split into takes that tell an answer and those too short to (a false start, fillers
        alone: coverage counts them as no story), each in the order given. A take whose analysis
        cannot be read stays with the answers: ``show`` and ``compare`` name it."""
        answers: list[int] = []
        short: list[int] = []
        for i in ids:
            summary = self.of.get(i)
            (short if summary is not None and not summary.tells_a_story else answers).append(i)
        return answers, short


def read(store: Store, ids: Iterable[int], *, words: bool = False) -> Summaries:
    """The review summaries of the takes IDS (an id no take has is in none of the attributes),
    and with WORDS their words too.

    Those missing (or of another version) are made from the takes' documents and kept, unless
    the database cannot be written now (a read-only disk, another process's lock): the review
    is the same without them.

    Raises:
        StoreError: the database cannot be read.
    """
    try:
        return _read(store, list(ids), words)
    except sqlite3.Error as exc:
        raise store_error(store.path, exc) from None


def keep(db: sqlite3.Connection, take_id: int, text: str) -> None:
    """Keep the summary of TEXT, the analysis just stored for TAKE_ID, in the caller's
    transaction. It is made from the text, parsed as a review would parse it, so that it says
    what the document says; a damaged analysis gets none (a review then finds it damaged)."""
    doc = stored_analysis(text)
    if doc is not None:
        db.execute("INSERT OR REPLACE INTO review_summaries (take_id, version, summary, words) VALUES (?, ?, ?, ?)",
                   (take_id, VERSION, *_texts(summarise(doc), content_words(doc))))


def _read(store: Store, ids: list[int], with_words: bool) -> Summaries:
    kept = _kept(store.db, set(ids), with_words)
    found = Summaries({}, [], {})
    made: list[tuple[int, str, str, str]] = []  # (take id, summary, words, the analysis they were made from)
    for take_id in ids:
        summary = _summary(kept[take_id][0]) if take_id in kept else None
        said = _words(kept[take_id][1]) if with_words and summary is not None else ()
        if summary is None or said is None:
            row = store.db.execute("SELECT analysis_json FROM takes WHERE id = ?", (take_id,)).fetchone()
            if not row or not row[0]:
                continue  # no such take, or no analysis
            doc = stored_analysis(row[0])
            if doc is None:
                found.damaged.append(take_id)
                continue
            summary, said = summarise(doc), tuple(content_words(doc))
            made.append((take_id, *_texts(summary, said), row[0]))
            if len(made) == _BATCH:
                _keep_made(store, made)
                made = []
        found.of[take_id] = summary
        if with_words:
            found.words[take_id] = said
    _keep_made(store, made)
    return found


def _kept(db: sqlite3.Connection, ids: set[int], with_words: bool) -> dict[int, tuple[str, ...]]:
    """The summary (and words) texts of this version kept for IDS; none in a database an older
    release wrote that cannot be upgraded where it is (a read-only disk: see
    :data:`~.migrations.REBUILT_WHEN_READ`)."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'review_summaries'").fetchone():
        return {}
    return {row[0]: row[1:] for row in db.execute(
        f"SELECT take_id, summary{', words' if with_words else ''} FROM review_summaries WHERE version = ? "
        "AND take_id IN (SELECT value FROM json_each(?))", (VERSION, json.dumps(sorted(ids))))}


def _keep_made(store: Store, made: list[tuple[int, str, str, str]]) -> None:
    """Keep the summaries a review made, each only if its take still holds the analysis it was
    made from (another process may have analysed the take again meanwhile). Not kept when the
    database cannot be written now: the next review makes them again."""
    if not made:
        return
    try:
        with store.transaction():
            store.db.executemany(
                "INSERT OR REPLACE INTO review_summaries (take_id, version, summary, words) SELECT ?, ?, ?, ? "
                "WHERE EXISTS (SELECT 1 FROM takes WHERE id = ? AND analysis_json = ?)",
                [(take_id, VERSION, summary, said, take_id, analysis) for take_id, summary, said, analysis in made])
    except sqlite3.Error:  # a read-only disk, a lock held past the wait, a full disk
        pass


def _texts(summary: ReviewSummary, words: Sequence[str]) -> tuple[str, str]:
    """A take's summary and words as the table holds them (two columns: only ``compare`` reads the
    words, most of the bytes)."""
    return (json.dumps({"no_speech": summary.no_speech, "story_words": sorted(summary.story_words),
                        "figures": summary.figures, "star": summary.star}), json.dumps(list(words)))


_FIGURES = tuple(metric_values({}))


def _summary(text: Any) -> ReviewSummary | None:
    """The summary TEXT holds; None if it is not one (edited by hand, say): it is made again."""
    try:
        d = json.loads(text)
        no_speech, story_words, figures, star = (d[k] for k in ("no_speech", "story_words", "figures", "star"))
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
    whole = (type(no_speech) is bool and type(figures) is dict and tuple(figures) == _FIGURES
             and all(v is None or type(v) in (int, float) for v in figures.values())
             and type(star) is dict and tuple(star) == PARTS and all(type(v) is bool for v in star.values())
             and type(story_words) is list and set(map(type, story_words)) <= {str})
    return ReviewSummary(no_speech, frozenset(story_words), figures, star) if whole else None


def _words(text: Any) -> tuple[str, ...] | None:
    """The words TEXT holds; None if it is not a list of words."""
    try:
        words = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return None
    return tuple(words) if type(words) is list and set(map(type, words)) <= {str} else None
