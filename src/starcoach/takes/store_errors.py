"""What SQLite's errors about the takes database mean for the user, in one line each."""

from __future__ import annotations

import functools
import os
import sqlite3
from pathlib import Path
from typing import Any, Callable, TypeVar

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


def folder_unwritable(path: Path) -> bool:
    """The database's folder is one this user may not write (SQLite cannot make its -shm file there)."""
    return path.parent.is_dir() and not os.access(path.parent, os.W_OK | os.X_OK)


def unwritable(path: Path) -> str | None:
    """What keeps this user from writing the takes database at PATH, when the disk itself is writable,
    and what to do: its folder, or the database or its -wal or -shm file (as left by a starcoach run as
    another user, say with sudo), each named with its owner and mode; None if nothing does."""
    fix = "give it back to this user (chown) or make it writable"
    try:
        if folder_unwritable(path):
            folder = path.parent
            return f"its folder {folder} cannot be written by this user ({_owned(folder)}): {fix} (chmod u+rwx)"
        for f in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
            if f.exists() and not os.access(f, os.R_OK | os.W_OK):
                return f"{f} cannot be read and written by this user ({_owned(f)}): {fix} (chmod u+rw)"
    except OSError:
        return None
    return None


def doctor_can_write(path: Path) -> None:
    """Raise doctor's line when this user may not write the database at PATH (on a writable disk: a
    read-only one has its own line)."""
    what = None if read_only_disk(path) else unwritable(path)
    if what is not None:
        raise StoreError(f"the takes database {path} cannot be written, so nothing can be checked or repaired: "
                         f"{what}, then run `starcoach doctor` again (nothing was changed)")


def _owned(path: Path) -> str:
    import grp
    import pwd

    st = path.stat()
    try:
        user = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        user = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return f"owner {user}:{group}, mode {st.st_mode & 0o777:o}"


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
    if "unable to open" in low or "readonly" in low or "read-only" in low:
        what = unwritable(path)  # the file's, its folder's or its -wal and -shm files' permissions
        verb = "open" if "unable to open" in low else "write"
        if what:
            return StoreError(f"cannot {verb} the takes database {path}: {what}, then try again")
        return StoreError(f"cannot {verb} the takes database {path} ({text}); check the permissions of the file, "
                          "its -wal and -shm files and its folder")
    return StoreError(f"the takes database {path}: {text}")


F = TypeVar("F", bound=Callable[..., Any])


def sql_errors(fn: F) -> F:
    """Turn SQLite's errors in a store method into one :class:`StoreError` naming the cause."""

    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise store_error(self.path, exc) from None

    return wrapper  # type: ignore[return-value]


def damaged_analysis(take_id: int) -> StoreError:
    """The error for a take whose stored analysis is damaged."""
    return StoreError(f"take {take_id}: its stored analysis is damaged; `starcoach doctor` analyses its audio again")
