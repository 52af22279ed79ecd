"""What SQLite's errors about the takes database mean for the user, in one line each."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ..domain.errors import StoreError
from ..domain.filekind import WRITTEN_OVER, not_a_database

LOCK_WAIT_S = 3.0  # how long to wait for another process's write lock before saying so


class AlreadyListed(StoreError):
    """A take lists that audio already (another process indexed it meanwhile)."""


def read_only_disk(path: Path) -> bool:
    """The database's folder is on a file system mounted read-only."""
    try:
        return bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def not_ours(path: Path) -> StoreError | None:
    """The error for a file at the database's path that is recognisably no takes database (config.toml,
    a take's audio, a device): never to be opened, or moved aside as damaged and replaced; None if
    it may be one (see :func:`~starcoach.domain.filekind.not_a_database`)."""
    kind = not_a_database(path)
    return None if kind is None else _not_ours(path, kind)


def rebuilt_path(database: Path) -> Path:
    """Where ``doctor`` keeps a rebuilt database once it is whole, until it has replaced the
    damaged one: there only while the swap runs, or after a doctor stopped part-way through it."""
    return database.with_name(f"{database.name}.rebuilt")


def swap_cut_off(path: Path) -> StoreError | None:
    """The error while a rebuilt database waits beside PATH (:func:`rebuilt_path`): the file at PATH
    may be the damaged one without its log, and a write to it would be lost at the swap."""
    if not rebuilt_path(path).exists():
        return None
    return StoreError(f"`starcoach doctor` was stopped while it put the rebuilt takes database in place "
                      f"({rebuilt_path(path).name} beside {path}); run `starcoach doctor` to finish it")


def another_programs_database(path: Path, tables: set[str]) -> StoreError | None:
    """The error for an SQLite database with tables but none of a takes database's (a browser's
    history, say): not to be made one, or replaced by one as damaged. None for one that has
    starcoach's (damaged or not) or has none (a new one)."""
    theirs = sorted(t for t in tables if not t.startswith("sqlite_"))
    if not theirs or tables & {"takes", "migrations"}:
        return None
    return _not_ours(path, f"an SQLite database of another program's, with tables {', '.join(theirs[:3])}"
                           + (", …" if len(theirs) > 3 else ""))


def _not_ours(path: Path, kind: str) -> StoreError:
    return StoreError(f"{path} is not a takes database (it is {kind}); it was left as it is: check [paths] "
                      f"database in config.toml ({WRITTEN_OVER})")


def store_error(path: Path, exc: sqlite3.Error) -> StoreError:
    """One line for an SQLite failure: locked, full disk, damaged, or what SQLite said; for a file
    that is no database at all, :func:`not_ours` (not "damaged": `doctor` would replace it)."""
    foreign = not_ours(path)
    if foreign is not None:
        return foreign
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        return StoreError(f"the takes database {path} stayed locked by another process for {LOCK_WAIT_S:.0f} s "
                          "(another starcoach command still writing?); wait for it to finish and try again")
    if "full" in low:
        return StoreError(f"the disk is full: cannot write the takes database {path}; free some space and try again")
    if "disk i/o error" in low:  # what SQLite says when a write to a full disk fails part-way, among others
        return StoreError(f"the disk failed to read or write the takes database {path} (disk I/O error): it may be "
                          "full or failing; free some space, then try again (and run `starcoach doctor` if it "
                          "persists)")
    if isinstance(exc, sqlite3.DatabaseError) and ("malformed" in low or "not a database" in low
                                                   or "corrupt" in low or "no such table" in low
                                                   or "no such column" in low):
        return StoreError(f"the takes database {path} is damaged ({text}); run `starcoach doctor` to check it "
                          "and rebuild it from recordings/")
    if ("readonly" in low or "read-only" in low or "unable to open" in low) and read_only_disk(path):
        return StoreError(f"the takes database {path} is on a read-only disk: takes can be listed, shown and "
                          "exported, not recorded, imported or deleted; remount it writable, or point [paths] "
                          "in config.toml elsewhere")
    if "unable to open" in low:  # reading as much as writing: the file's or its folder's permissions
        return StoreError(f"cannot open the takes database {path} ({text}); check the permissions of the file "
                          "and its folder")
    if "readonly" in low or "read-only" in low:
        return StoreError(f"cannot write the takes database {path} ({text}); check the permissions of the file "
                          "and its folder")
    return StoreError(f"the takes database {path}: {text}")
