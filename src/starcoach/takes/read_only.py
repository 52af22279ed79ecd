"""Reading a takes database where nothing may be written: a home on a read-only disk (a backup, a
snapshot) or in a folder this user may not write.

A database in WAL mode keeps what was written since its last checkpoint in its ``-wal`` file:
SQLite folds the log into the database when the last connection closes, so a log is left only by
a run that was cut off (a crash, a power cut) or by a copy made while starcoach was running.
Those takes are stored; a read that ignores the log does not see them. SQLite reads the log in
place when the ``-shm`` index is there too; when it is not, and cannot be made, the database and
its log are read from a private copy in a temporary folder, which is removed when the store
closes. Immutable mode, which never looks at a log, only when there is none.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import weakref
from pathlib import Path
from typing import cast


class _OnACopy(sqlite3.Connection):
    """A connection to a private copy, removed with its folder when the connection closes (or the
    program exits without closing it)."""

    def keep_until_closed(self, scratch: Path) -> None:
        self._removal = weakref.finalize(self, shutil.rmtree, scratch, ignore_errors=True)

    def close(self) -> None:
        super().close()
        if hasattr(self, "_removal"):
            self._removal()


def _connect(path: Path, flags: str, factory: type[sqlite3.Connection] = sqlite3.Connection) -> sqlite3.Connection:
    db = sqlite3.connect(f"{path.as_uri()}?{flags}", uri=True, isolation_level=None, factory=factory)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # SQLite opens the file only when asked
    except sqlite3.Error:
        db.close()
        raise
    db.row_factory = sqlite3.Row
    return db


def _log(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to the database at PATH that sees every take stored, its log's included.

    Raises:
        sqlite3.Error: as SQLite does, for a file it cannot read at all (the caller names the cause).
    """
    try:
        return _connect(path, "mode=ro")
    except sqlite3.Error:
        pass
    try:
        logged = _log(path).stat().st_size > 0
    except OSError:
        logged = False
    if logged:
        scratch = Path(tempfile.mkdtemp(prefix="starcoach-read-"))  # mode 0700: this user's takes stay theirs
        try:
            copy = scratch / path.name
            shutil.copyfile(path, copy)
            shutil.copyfile(_log(path), _log(copy))
            db = cast(_OnACopy, _connect(copy, "mode=ro", _OnACopy))
        except (OSError, sqlite3.Error):
            shutil.rmtree(scratch, ignore_errors=True)  # no room for a copy: read what the database holds
        else:
            db.keep_until_closed(scratch)
            return db
    return _connect(path, "mode=ro&immutable=1")
