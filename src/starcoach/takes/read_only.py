"""Reading a takes database where nothing may be written: a home on a read-only disk (a backup, a
snapshot) or in a folder this user may not write.

A database in WAL mode keeps what was written since its last checkpoint in its ``-wal`` file:
SQLite folds the log into the database when the last connection closes, so a log is left only by
a run that was cut off (a crash, a power cut) or by a copy made while starcoach was running.
Those takes are stored; a read that ignores the log does not see them. SQLite reads the log where
it lies when the ``-shm`` index is beside it. When it is not, and cannot be made there, the index is
kept in memory instead (exclusive locking mode, which never asks for the ``-shm``), without file
locks: safe only where no one can be writing, so when no ``-shm`` shows a writer or the disk is
read-only. Immutable mode, which never looks at a log, only when there is none or it cannot be read.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .store_errors import read_only_disk

_CANTOPEN, _READONLY = 14, 8  # SQLite's primary result codes (the low byte of an extended one)


def _connect(path: Path, flags: str, *pragmas: str) -> sqlite3.Connection:
    db = sqlite3.connect(f"{path.as_uri()}?{flags}", uri=True, isolation_level=None)
    try:
        for pragma in pragmas:  # before the first read, which is when SQLite opens the file
            db.execute(pragma)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        db.close()
        raise
    db.row_factory = sqlite3.Row
    return db


def _beside(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to the database at PATH that sees every take stored, its log's included.

    Raises:
        sqlite3.Error: as SQLite does, for a file it cannot read at all, or one locked or damaged (the
            caller names the cause).
    """
    try:
        return _connect(path, "mode=ro")
    except sqlite3.Error as exc:  # only where it cannot open or index the log: a lock or damage is said
        if (getattr(exc, "sqlite_errorcode", _CANTOPEN) or 0) & 0xFF not in (_CANTOPEN, _READONLY):
            raise
    try:
        logged = _beside(path, "-wal").stat().st_size > 0
    except OSError:
        logged = False
    if logged and (read_only_disk(path) or not _beside(path, "-shm").exists()):
        try:
            return _connect(path, "mode=ro&vfs=unix-none", "PRAGMA locking_mode = EXCLUSIVE")
        except sqlite3.Error:
            pass
    return _connect(path, "mode=ro&immutable=1")
