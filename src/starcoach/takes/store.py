"""Takes in SQLite: one store class, migrations recorded in the database.

The database lives beside the audio under ``recordings/``. WAL mode and a busy
timeout let two starcoach processes (a recording and a ``takes`` listing, say) use
it at once. Each take's analysis is its JSON document (``analysis_json``); a few of
its figures are columns too, for listing and progress.
"""

from __future__ import annotations

import builtins
import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from ..domain.errors import NotFound, StoreError
from ..domain.vocab import CORE_PARTS



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


MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = [
    ("001_takes", _m001_takes),
    ("002_drop_unread_tables", _m002_drop_unread_tables),
]


@dataclass(frozen=True)
class Take:
    """One take as listed: what ``takes --json`` prints."""

    id: int
    question_id: str | None
    question_text: str | None
    principle: str | None
    started_at: str
    duration_s: float | None
    audio_path: str
    source: str
    status: str
    overflows: int
    stopped_by: str | None
    model: str | None
    wpm: float | None
    fillers_per_min: float | None
    filler_count: int | None
    long_pause_count: int | None
    speaking_span_s: float | None
    star_rating: int | None
    star_parts_present: int | None
    pid: int | None = None

    def summary(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "pid"}
        return d


_TAKE_COLUMNS = [f for f in Take.__dataclass_fields__]


class Store:
    """The takes database.

    Args:
        path: the SQLite file; created with its folder if missing.
        recordings: the folder takes' audio lives in. Audio inside it is indexed by its
            path relative to it, so a home folder can be moved or copied whole; a take
            indexed with an absolute path is looked for under it
            by date folder and name (``recordings/2026-12-01/take-221137.flac``) beside
            the database first.

    Raises:
        StoreError: the file cannot be opened or is not a starcoach database.
    """

    def __init__(self, path: Path, recordings: Path | None = None):
        self.path = Path(path)
        self.recordings = Path(recordings) if recordings else self.path.parent
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=15.0, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA busy_timeout = 15000")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the takes database {self.path}: {exc}") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- schema -----------------------------------------------------------------

    def _migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = {r[0] for r in self.db.execute("SELECT name FROM migrations")}
        for name, fn in MIGRATIONS:
            if name in done:
                continue
            self.db.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have migrated while we waited for the lock.
                if self.db.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone():
                    self.db.execute("COMMIT")
                    continue
                fn(self.db)
                self.db.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, _now()))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def applied_migrations(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT name FROM migrations ORDER BY name")]

    # --- takes ------------------------------------------------------------------

    def begin_take(self, *, audio_path: Path, question_id: str | None, question_text: str | None,
                   principle: str | None, source: str = "record", started_at: str | None = None) -> int:
        """Register a take before its first sample is written, so a crash leaves a trace."""
        cur = self.db.execute(
            "INSERT INTO takes (question_id, question_text, principle, started_at, audio_path, source, status, pid)"
            " VALUES (?, ?, ?, ?, ?, ?, 'recording', ?)",
            (question_id, question_text, principle, started_at or _now(), self._index_path(audio_path), source,
             os.getpid()),
        )
        assert cur.lastrowid is not None  # an INSERT always sets it
        return cur.lastrowid

    def finish_take(self, take_id: int, *, duration_s: float, document: dict[str, Any] | None,
                    status: str = "complete", overflows: int = 0, stopped_by: str | None = None) -> None:
        """Store a take's analysis (``document`` is the ``analyze --json`` document)."""
        self.get(take_id)
        self.db.execute("BEGIN IMMEDIATE")
        try:
            values: dict[str, Any] = {"duration_s": duration_s, "status": status, "overflows": overflows,
                                      "stopped_by": stopped_by, "pid": None}
            if document is not None:
                m = document["metrics"]
                star = document["star"]
                values.update(
                    model=document["model"]["name"],
                    transcript=document["transcript"],
                    speaking_span_s=document["speaking_span_s"],
                    wpm=document["wpm"],
                    filler_count=m["filler_count"],
                    fillers_per_min=m["fillers_per_min"],
                    long_pause_count=m["long_pause_count"],
                    i_count=m["i_count"],
                    we_count=m["we_count"],
                    star_rating=star["rating"],
                    star_parts_present=sum(bool(star[p]["present"]) for p in CORE_PARTS),
                    analysis_json=json.dumps(document),
                )
            sets = ", ".join(f"{k} = ?" for k in values)
            self.db.execute(f"UPDATE takes SET {sets} WHERE id = ?", (*values.values(), take_id))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def get(self, take_id: int) -> Take:
        """One take.

        Raises:
            NotFound: no take has that id.
        """
        row = self.db.execute(f"SELECT {', '.join(_TAKE_COLUMNS)} FROM takes WHERE id = ?", (take_id,)).fetchone()
        if row is None:
            raise NotFound(f"no take with id {take_id} (see `starcoach takes`)")
        return self._take(row)

    def _take(self, row: sqlite3.Row) -> Take:
        fields = dict(row)
        fields["audio_path"] = str(self._audio_path(fields["audio_path"]))
        return Take(**fields)

    def _index_path(self, audio: Path) -> str:
        audio = Path(audio).absolute()
        try:
            return str(audio.relative_to(self.recordings.absolute()))
        except ValueError:
            return str(audio)

    def _audio_path(self, stored: str) -> Path:
        path = Path(stored)
        if not path.is_absolute():
            return self.recordings / path
        # Indexed by an older release with its absolute path: the database travels with its
        # recordings folder, so the copy beside it wins over the place it was made in.
        beside = self.recordings / path.parent.name / path.name
        return beside if beside != path and beside.exists() else path

    def document(self, take_id: int) -> dict[str, Any] | None:
        """The stored ``analyze --json`` document of a take (None before analysis)."""
        self.get(take_id)
        row = self.db.execute("SELECT analysis_json FROM takes WHERE id = ?", (take_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def list(self, *, question_id: str | None = None, principle: str | None = None) -> list[Take]:
        """Takes, oldest first, optionally for one question or principle."""
        where, args = [], []
        if question_id:
            where.append("question_id = ?")
            args.append(question_id)
        if principle:
            where.append("principle = ?")
            args.append(principle)
        sql = f"SELECT {', '.join(_TAKE_COLUMNS)} FROM takes"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started_at, id"
        return [self._take(r) for r in self.db.execute(sql, args)]

    def unfinished(self) -> builtins.list[Take]:
        """Takes still marked as recording (their process may have died)."""
        return [t for t in self.list() if t.status == "recording"]

    def delete(self, take_id: int) -> Take:
        take = self.get(take_id)
        self.db.execute("DELETE FROM takes WHERE id = ?", (take_id,))
        return take


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
