"""The takes database's schema: an ordered list of named migrations.

Each is applied once, inside a transaction, and recorded by name in the database's
``migrations`` table (see :meth:`Store._migrate`).
"""

from __future__ import annotations

import re
import sqlite3
from typing import Callable


def _statements(db: sqlite3.Connection, sql: str) -> None:
    """Run a migration's statements inside the caller's transaction.

    (``executescript`` would commit first, and a half-applied migration must roll back.)
    """
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def _m001_takes(db: sqlite3.Connection) -> None:
    _statements(
        db,
        """
        CREATE TABLE takes (
            id INTEGER PRIMARY KEY,
            question_id TEXT,
            question_text TEXT,
            principle TEXT,
            started_at TEXT NOT NULL,
            duration_s REAL,
            audio_path TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL CHECK (source IN ('record', 'import')),
            status TEXT NOT NULL CHECK (status IN ('recording', 'complete', 'recovered', 'failed')),
            pid INTEGER,
            overflows INTEGER NOT NULL DEFAULT 0,
            stopped_by TEXT,
            model TEXT,
            transcript TEXT,
            speaking_span_s REAL,
            wpm REAL,
            filler_count INTEGER,
            fillers_per_min REAL,
            long_pause_count INTEGER,
            i_count INTEGER,
            we_count INTEGER,
            star_rating INTEGER,
            star_parts_present INTEGER,
            analysis_json TEXT
        );
        CREATE INDEX takes_by_question ON takes (question_id, started_at);
        CREATE INDEX takes_by_principle ON takes (principle, started_at);
        CREATE TABLE words (
            take_id INTEGER NOT NULL REFERENCES takes (id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            text TEXT NOT NULL,
            start REAL NOT NULL,
            "end" REAL NOT NULL,
            probability REAL,
            filler INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (take_id, idx)
        );
        CREATE TABLE fillers (
            take_id INTEGER NOT NULL REFERENCES takes (id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            text TEXT NOT NULL,
            start REAL NOT NULL,
            "end" REAL NOT NULL,
            kind TEXT NOT NULL,
            source TEXT NOT NULL,
            PRIMARY KEY (take_id, idx)
        );
        CREATE TABLE star_parts (
            take_id INTEGER NOT NULL REFERENCES takes (id) ON DELETE CASCADE,
            part TEXT NOT NULL,
            present INTEGER NOT NULL,
            share_words REAL,
            share_time REAL,
            PRIMARY KEY (take_id, part)
        );
        """
    )


def _m002_drop_unread_tables(db: sqlite3.Connection) -> None:
    """0.1.0 copied each take's words, fillers and STAR parts into three tables that
    nothing ever read; the take's document (``analysis_json``) holds all of it."""
    _statements(db, "DROP TABLE IF EXISTS words; DROP TABLE IF EXISTS fillers; DROP TABLE IF EXISTS star_parts;")


def _m003_never_reuse_take_ids(db: sqlite3.Connection) -> None:
    """A take's id is never given to another take: ``id INTEGER PRIMARY KEY`` hands a deleted
    take's id (the highest one) to the next take, so a retried ``delete 4 --yes`` or an old
    ``show 4`` would reach the new take. SQLite adds AUTOINCREMENT only by rebuilding the table
    (its documented way: a copy made from the table's own definition, the rows moved, the
    indexes made again). Ids deleted before this migration cannot be known; every one from
    now on is kept."""
    (table,) = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'takes'").fetchone()
    indexes = [r[0] for r in db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'takes' AND sql IS NOT NULL")]
    copy, n = re.subn(r"^CREATE TABLE takes \((\s*)id INTEGER PRIMARY KEY,",
                      r"CREATE TABLE takes_new (\1id INTEGER PRIMARY KEY AUTOINCREMENT,", table)
    if n != 1:
        raise sqlite3.DatabaseError(f"the takes table is not the one starcoach made: {table[:80]!r}")
    db.execute(copy)
    _statements(db, "INSERT INTO takes_new SELECT * FROM takes; DROP TABLE takes; "
                    "ALTER TABLE takes_new RENAME TO takes")
    for sql in indexes:
        db.execute(sql)


def _m004_review_summaries(db: sqlite3.Connection) -> None:
    """Each take's review summary (see :mod:`.summaries`): what ``progress``, ``coverage`` and
    ``compare`` read of its analysis, which they had to parse whole (87 MB of JSON at 2000
    takes). Empty at first: a take without one is summarised when a review reads it, so this
    migration is instant at any size.

    A summary is only ever of the analysis beside it: whatever changes or deletes a take's
    analysis (this release, an older one, a hand edit) deletes its summary too, by trigger. A
    table of its own, not columns of ``takes``: SQLite reaches a column stored after
    ``analysis_json`` through the document's own pages, the reading this is to save. (A
    migration that rebuilds ``takes``, as 003 did, must make these triggers again.)"""
    db.execute("CREATE TABLE review_summaries (take_id INTEGER PRIMARY KEY, version INTEGER NOT NULL, "
               "summary TEXT NOT NULL, words TEXT NOT NULL)")
    for name, event in _SUMMARY_TRIGGERS.items():
        db.execute(f"CREATE TRIGGER {name} AFTER {event} ON takes "
                   "BEGIN DELETE FROM review_summaries WHERE take_id = OLD.id; END")


_SUMMARY_TRIGGERS = {"review_summary_follows_analysis": "UPDATE OF id, analysis_json",
                     "review_summary_follows_take": "DELETE"}
REVIEW_SUMMARIES = "004_review_summaries"
# What it makes, by name: without one of them (dropped by hand) a take could not be stored, or a
# review would read the summary of an analysis that is gone; `doctor` counts that as damage.
REVIEW_SUMMARY_OBJECTS = ("review_summaries", *_SUMMARY_TRIGGERS)


def _m005_take_principles(db: sqlite3.Connection) -> None:
    """Nothing now. As committed in 2508dc5 it made the takes table again with a ``principles`` column
    beside ``principle`` (the database's size again in free disk, the id counter lost); a database it
    upgraded keeps that column, which 006 reads."""


def _m006_take_principles_table(db: sqlite3.Connection) -> None:
    """Every principle a take's question served when it was asked, a JSON list (``principle``, a
    column of ``takes``, keeps the first): a take stored only the first, so a question of two
    principles taken out of the bank left its takes counted under one. A table of its own, as 004's:
    a column added to ``takes`` comes after ``analysis_json`` (see there). A take with no row here
    (stored before, or of no principle) reads as its one ``principle``; its row goes with it, by
    trigger. What 005's column holds, in a database 2508dc5 upgraded, is moved here; the table and
    trigger a database ce4d564-f33c9af made, as their 005, are kept as they are."""
    db.execute("CREATE TABLE IF NOT EXISTS take_principles (take_id INTEGER PRIMARY KEY, principles TEXT NOT NULL)")
    db.execute(f"CREATE TRIGGER IF NOT EXISTS {_PRINCIPLES_TRIGGER} AFTER DELETE ON takes "
               "BEGIN DELETE FROM take_principles WHERE take_id = OLD.id; END")
    if any(r[1] == "principles" for r in db.execute("PRAGMA table_info(takes)")):
        db.execute("INSERT OR IGNORE INTO take_principles (take_id, principles) SELECT id, principles FROM takes "
                   "WHERE principles IS NOT NULL")


_PRINCIPLES_TRIGGER = "take_principles_follow_take"
TAKE_PRINCIPLES = "006_take_principles_table"
TAKE_PRINCIPLES_OBJECTS = ("take_principles", _PRINCIPLES_TRIGGER)
# What each migration makes that a take cannot be stored or read right without (dropped by hand:
# `doctor` counts that as damage, once the migration is recorded).
MADE_BY = {REVIEW_SUMMARIES: REVIEW_SUMMARY_OBJECTS, TAKE_PRINCIPLES: TAKE_PRINCIPLES_OBJECTS}

# Migrations that add only what a review can make from the rest when it is missing (a cache): a
# database without them is read as it is where it cannot be upgraded (a read-only disk).
REBUILT_WHEN_READ = frozenset({REVIEW_SUMMARIES})
# And those a database is read without there: the above, and what reads as a default when missing.
READ_WITHOUT = REBUILT_WHEN_READ | {"005_take_principles", TAKE_PRINCIPLES}

MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = [
    ("001_takes", _m001_takes),
    ("002_drop_unread_tables", _m002_drop_unread_tables),
    ("003_never_reuse_take_ids", _m003_never_reuse_take_ids),
    (REVIEW_SUMMARIES, _m004_review_summaries),
    ("005_take_principles", _m005_take_principles),
    (TAKE_PRINCIPLES, _m006_take_principles_table),
]
