"""Takes in SQLite: one store class, migrations recorded in the database.

The database lives beside the audio under ``recordings/``. WAL mode and a busy
timeout let two starcoach processes (a recording and a ``takes`` listing, say) use
it at once; a lock held longer than :data:`LOCK_WAIT_S` and a damaged file are each
one :class:`StoreError` naming the cause (``starcoach doctor`` is the way out of the
second). Each take's analysis is its JSON document (``analysis_json``); a few of
its figures are columns too, for listing and progress, and what the reviews read of
it is kept beside it (:mod:`.summaries`).
"""

from __future__ import annotations

import builtins
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, cast

from ..domain.document import stored_analysis, summary_columns
from ..domain.errors import NotFound, StoreError
from .migrations import MIGRATIONS, READ_WITHOUT
from .read_only import connect_read_only
from .rebuilding import file_id, hold_as_user
from . import sidecar, summaries
from .sidecar import AUDIO_SUFFIXES
from .take import Take, keep_principles, select_takes, with_numbers
from .store_errors import (LOCK_WAIT_S, AlreadyListed, another_programs_database, folder_unwritable, not_ours,
                           read_only_disk, store_error, swap_cut_off, unwritable)
from .store_errors import damaged_analysis, sql_errors as _sql  # noqa: F401 - damaged_analysis: for importers

MAX_ID = 2**63 - 1  # SQLite's largest integer

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
        StoreError: the file cannot be opened or is not a starcoach database (one that is
            recognisably something else, such as text or audio, is not opened at all).
    """

    def __init__(self, path: Path, recordings: Path | None = None, *, alone: bool = False):
        self.path = Path(path)
        self.read_only: str | None = None  # opened read-only: why nothing can be written (the line to say)
        self.recordings = Path(recordings) if recordings else self.path.parent
        self._alone, self._user = alone, cast("int | None", None)  # ALONE: doctor's rebuilt copy, no one else's
        try:
            foreign = not_ours(self.path)
            if foreign is None and not alone and swap_cut_off(self.path) is not None:
                self._user = hold_as_user(self.path, LOCK_WAIT_S)  # a doctor at work ends its swap meanwhile
            if (foreign := foreign or swap_cut_off(self.path)) is not None:
                raise foreign
            self._connect()
        except BaseException:
            self.close()
            raise

    def _connect(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            seen = file_id(self.path)
            self.db = sqlite3.connect(self.path, timeout=LOCK_WAIT_S, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute(f"PRAGMA busy_timeout = {int(LOCK_WAIT_S * 1000)}")
            # before WAL mode and our tables, each a write to another program's database
            foreign = another_programs_database(self.path, self._tables())
            if foreign is not None:
                self.db.close()
                raise foreign
            if not self._alone and self._user is None:  # held while open: doctor never swaps the file from under it
                self._user = hold_as_user(self.path, LOCK_WAIT_S)
                if file_id(self.path) != seen:  # swapped while this connected: that was the old file
                    self.db.close()
                    return self._connect()
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.Error as exc:
            low = str(exc).lower()  # a place it may not write (not a lock, not damage): read as it is
            if not (self.path.is_file() and ("readonly" in low or "unable to open" in low)
                    and (read_only_disk(self.path) or folder_unwritable(self.path))):
                raise store_error(self.path, exc) from None
            self._open_read_only(str(store_error(self.path, exc)))
        except OSError as exc:
            raise StoreError(f"cannot open the takes database {self.path}: {exc.strerror}") from None

    def _tables(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def _open_read_only(self, why: str) -> None:
        """A home on a read-only disk (a backup, a snapshot), or in a folder this user may not write, is read
        as it is: listing, showing and exporting work; recording and deleting say WHY not (``read_only``)."""
        self.read_only = why
        self.db.close()
        try:
            self.db = connect_read_only(self.path)
            done = {r[0] for r in self.db.execute("SELECT name FROM migrations")}
        except sqlite3.Error as exc:
            raise store_error(self.path, exc) from None
        if any(name not in done and name not in READ_WITHOUT for name, _ in MIGRATIONS):
            where = ("it is on a read-only disk: copy the home to a writable disk" if read_only_disk(self.path)
                     else f"{unwritable(self.path) or 'its folder cannot be written'}, then try again")
            raise StoreError(f"the takes database {self.path} was written by an older starcoach, which this one must "
                             f"upgrade first, and cannot be written here: {where}")

    def close(self) -> None:
        if hasattr(self, "db"):  # (not when connecting failed)
            self.db.close()
        if self._user is not None:
            os.close(self._user)
            self._user = None

    def _rollback(self) -> None:
        """Undo the open transaction, if SQLite has not already (it does on a full disk); never
        let a failed ROLLBACK hide the error that caused it."""
        if self.db.in_transaction:
            try:
                self.db.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction around the block: begun at once (another process's write ends
        first, and none starts until the block ends), committed when the block ends, rolled back
        if it raises."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

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
            with self.transaction():
                # Another process may have migrated while we waited for the lock.
                if self.db.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone():
                    continue
                fn(self.db)
                self.db.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, now()))

    @_sql
    def applied_migrations(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT name FROM migrations ORDER BY name")]

    # --- takes ------------------------------------------------------------------

    @_sql
    def begin_take(self, *, audio_path: Path, question_id: str | None, question_text: str | None,
                   principle: str | None = None, principles: Sequence[str] = (), source: str = "record",
                   started_at: str | None = None) -> int:
        """Register a take before its first sample is written, so a crash leaves a trace. PRINCIPLES:
        every principle its question serves (a follow-up's: its story's, PRINCIPLE None)."""
        with self.transaction():
            self._ids_after_unlisted()
            cur = self.db.execute(
                "INSERT INTO takes (question_id, question_text, principle, started_at, audio_path, source, status, pid)"
                " VALUES (?, ?, ?, ?, ?, ?, 'recording', ?)",
                (question_id, question_text, principle, started_at or now(), self._index_path(audio_path), source,
                 os.getpid()))
            assert cur.lastrowid is not None  # an INSERT always sets it
            keep_principles(self.db, cur.lastrowid, principles)
        return cur.lastrowid

    @_sql
    def finish_take(self, take_id: int, *, duration_s: float, document: dict[str, Any] | None,
                    status: str = "complete", overflows: int = 0, stopped_by: str | None = None) -> None:
        """Store a take's analysis (``document`` is the ``analyze --json`` document)."""
        self.get(take_id)
        with self.transaction():
            self._finish(take_id, duration_s=duration_s, document=document, status=status, overflows=overflows,
                         stopped_by=stopped_by)

    def _finish(self, take_id: int, *, duration_s: float, document: dict[str, Any] | None, status: str,
                overflows: int, stopped_by: str | None) -> None:
        values: dict[str, Any] = {"duration_s": duration_s, "status": status, "overflows": overflows,
                                  "stopped_by": stopped_by, "pid": None}
        if document is not None:
            values.update(summary_columns(document), analysis_json=json.dumps(document))
        sets = ", ".join(f"{k} = ?" for k in values)
        self.db.execute(f"UPDATE takes SET {sets} WHERE id = ?", (*values.values(), take_id))
        if document is not None:  # (the UPDATE's trigger has deleted the summary of the analysis before)
            summaries.keep(self.db, take_id, values["analysis_json"])

    @_sql
    def get(self, take_id: int) -> Take:
        """One take.

        Raises:
            NotFound: no take has that id.
        """
        if not 1 <= take_id <= MAX_ID:
            raise NotFound(f"no take with id {take_id} (see `starcoach takes`)")
        row = self.db.execute(f"{select_takes(self.db)} WHERE takes.id = ?", (take_id,)).fetchone()
        if row is None:
            raise NotFound(f"no take with id {take_id} (see `starcoach takes`)")
        return self._take(row)

    def _take(self, row: sqlite3.Row) -> Take:
        fields = dict(row)
        fields["audio_path"] = str(self._audio_path(fields["audio_path"]))
        return Take(**with_numbers(fields))

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

    def holds(self, path: Path) -> bool:
        """Whether ``path`` has the place and shape of a take's audio: a file with an audio suffix
        in a folder of the recordings folder, judged by its name (a date folder may be a link to
        another disk; no "..", which through such a link can lead anywhere). A database row can
        point anywhere (an older release's absolute path, a damaged or edited database);
        ``delete`` removes only what this holds."""
        candidate = Path(path).absolute()
        for root in (self.recordings.absolute(), self.recordings.resolve()):
            try:
                inside = candidate.relative_to(root)
            except ValueError:
                continue
            return len(inside.parts) == 2 and ".." not in inside.parts \
                and inside.suffix.lower() in AUDIO_SUFFIXES and not candidate.is_dir()
        return False

    @_sql
    def document(self, take_id: int) -> dict[str, Any] | None:
        """The stored ``analyze --json`` document of a take (None before analysis).

        Raises:
            NotFound: no take has that id.
            StoreError: the stored document is damaged.
        """
        self.get(take_id)
        row = self.db.execute("SELECT analysis_json FROM takes WHERE id = ?", (take_id,)).fetchone()
        if not row or not row[0]:
            return None
        doc = stored_analysis(row[0])
        if doc is None:
            raise damaged_analysis(take_id)
        return doc

    @_sql
    def list(self, *, question_id: str | None = None) -> list[Take]:
        """Takes, oldest first, optionally for one question (``cli.common.for_principle``: of a principle)."""
        sql = select_takes(self.db) + (" WHERE question_id = ?" if question_id else "")
        # by the instant: the text put a take made after a move to another UTC offset before earlier ones
        sql += " ORDER BY julianday(started_at), takes.id"
        return [self._take(r) for r in self.db.execute(sql, (question_id,) if question_id else ())]

    @_sql
    def own(self, take_id: int) -> None:
        """Mark an unfinished take as this process's while ``recover`` finishes it (abandoned again if it dies)."""
        self.db.execute("UPDATE takes SET pid = ? WHERE id = ? AND status = 'recording'", (os.getpid(), take_id))

    def unfinished(self) -> builtins.list[Take]:
        """Takes still marked as recording (their process may have died)."""
        return [t for t in self.list() if t.status == "recording"]

    @_sql
    def delete(self, take_id: int, *, remove_files: Callable[[Take], None] | None = None) -> Take:
        """Delete a take; ``remove_files`` (its audio, say) runs inside the transaction, so
        if it fails the take stays listed.

        Raises:
            NotFound: no take has that id (another process deleted it since; no ``remove_files``).
        """
        with self.transaction():
            # read under the lock: two deletes of one take read it first, and both said they deleted it
            take = self.get(take_id)
            self.db.execute("DELETE FROM takes WHERE id = ?", (take_id,))
            if remove_files is not None:
                remove_files(take)
        return take

    @_sql
    def add_take(self, *, audio_path: Path, question_id: str | None, question_text: str | None,
                 principle: str | None = None, principles: Sequence[str] = (), source: str, started_at: str,
                 duration_s: float,
                 document: dict[str, Any] | None, status: str = "complete", take_id: int | None = None,
                 stopped_by: str | None = None) -> int:
        """Index a take whose audio is already in place, in one transaction; with TAKE_ID (the id its
        metadata kept) when no take has it.

        Raises:
            AlreadyListed: a take lists that audio already (another process indexed it meanwhile).
        """
        with self.transaction():
            listed = self.db.execute("SELECT id FROM takes WHERE audio_path = ?", (self._index_path(audio_path),)
                                     ).fetchone()
            if listed is not None:
                raise AlreadyListed(f"{audio_path} is listed already, as take {listed[0]} (another starcoach "
                                    "command indexed it meanwhile)")
            if take_id is not None and self.db.execute("SELECT 1 FROM takes WHERE id = ?", (take_id,)).fetchone():
                take_id = None
            if take_id is None:
                self._ids_after_unlisted()
            cur = self.db.execute(
                "INSERT INTO takes (id, question_id, question_text, principle, started_at, audio_path, source, status)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'recording')",
                (take_id, question_id, question_text, principle, started_at,
                 self._index_path(audio_path), source))
            take_id = int(cur.lastrowid or 0)
            keep_principles(self.db, take_id, principles)
            self._finish(take_id, duration_s=duration_s, document=document, status=status, overflows=0,
                         stopped_by=stopped_by)
        return take_id

    @_sql
    def holding_index(self, fn: Callable[[builtins.set[Path]], None]) -> None:
        """Run ``fn(indexed paths)`` holding the write lock: another process's open transaction (a
        delete) ends first, and none starts until ``fn`` returns."""
        with self.transaction():
            fn(self.indexed_paths())

    @_sql
    def indexed_paths(self) -> builtins.set[Path]:
        """The audio file of every take (resolved as :meth:`get` does)."""
        return {self._audio_path(r[0]) for r in self.db.execute("SELECT audio_path FROM takes")}

    def lists_audio(self, path: Path) -> bool:
        """Whether a take's audio is ``path``, links followed, whatever its name (an import by an
        earlier release kept its file's own suffix: take-X.md).

        Raises:
            OSError, RuntimeError: the path cannot be resolved (a link loop).
        """
        return Path(path).expanduser().resolve() in {p.resolve() for p in self.indexed_paths()}

    def _ids_after_unlisted(self) -> None:
        """Give the next new take an id above those that recordings no take points to still keep
        in their metadata (a database emptied or lost, not yet rebuilt by ``doctor``): the
        rebuild gives them their ids back, and an id is never given to a second take."""
        kept = [sidecar.kept_id(sidecar.read(sidecar.sidecar_path(a)) or {}) for a in self.unindexed_audio()]
        self.keep_ids_above(max((k for k in kept if k is not None), default=0))

    def keep_ids_above(self, last_id: int) -> None:
        """Start new takes' ids after LAST_ID (in the caller's transaction, if any)."""
        if last_id <= 0:
            return
        if self.db.execute("SELECT 1 FROM sqlite_sequence WHERE name = 'takes'").fetchone():
            self.db.execute("UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = 'takes'", (last_id,))
        else:
            self.db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('takes', ?)", (last_id,))

    def unindexed_audio(self) -> builtins.list[Path]:
        """Audio files in the date folders of recordings/ that no take points to (lost rows)."""
        if not self.recordings.is_dir():
            return []
        indexed = self.indexed_paths()
        return [audio for audio in sorted(self.recordings.glob("*/*"))
                if audio.suffix.lower() in AUDIO_SUFFIXES and audio not in indexed and audio.is_file()]

    @_sql
    def integrity(self) -> builtins.list[str]:
        """``PRAGMA integrity_check``: ``["ok"]`` or what is damaged."""
        return [r[0] for r in self.db.execute("PRAGMA integrity_check")]


def now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
