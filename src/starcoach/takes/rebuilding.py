"""One ``doctor`` or ``recover`` at a time: a lock beside the takes database.

Both index recordings the database does not list and finish takes an interruption left;
two at once analysed the same audio twice, and the second's row made the first stop on
SQLite's "UNIQUE constraint failed". The lock is an ``flock`` on ``starcoach.db.lock``,
held for the whole run and released by the kernel when its process ends however it ends
(``kill -9`` included), so a dead owner never blocks the next run. The file holds the
owner's pid and command, for the line the others print. It is never removed: removing a
lock file lets two processes lock two different files.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..domain.errors import StoreError


class RebuildRunning(StoreError):
    """Another process is running ``doctor`` or ``recover`` on the same takes."""


@dataclass(frozen=True)
class Owner:
    """The process holding the lock: its pid and command, when it could write them."""

    pid: int | None
    command: str

    def __str__(self) -> str:
        return f"`starcoach {self.command}`" + (f" (pid {self.pid})" if self.pid else "")


_held: dict[Path, list] = {}  # lock files this process holds: [how deep (doctor runs recover inside), command]


def lock_path(database: Path) -> Path:
    return database.with_name(f"{database.name}.lock")


@contextmanager
def rebuilding(database: Path, command: str) -> Iterator[None]:
    """Hold the lock for the block.

    A lock file that cannot be made (a read-only disk) is gone without: such a run can write
    nothing, and says so itself.

    Raises:
        RebuildRunning: another process holds it; nothing was done.
    """
    key = lock_path(database).absolute()
    if key in _held:
        _held[key][0] += 1
        try:
            yield
        finally:
            _held[key][0] -= 1
        return
    fd = _open(key, write=True)
    try:
        if fd is not None:
            if not _locked(fd):
                owner = _owner(fd)
                raise RebuildRunning(f"{owner} is already rebuilding or finishing the takes in {database.parent}; "
                                     f"wait for it to finish, then run `starcoach {command}` again if it is still "
                                     "needed")
            try:  # best effort: the lock holds without it (a full disk), the others' line then has no pid
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()} {command}\n".encode(), 0)
            except OSError:
                pass
        _held[key] = [1, command]
        try:
            yield
        finally:
            del _held[key]
    finally:
        if fd is not None:
            os.close(fd)  # releases the lock


def _locked(fd: int, patience_s: float = 1.0, how: int = fcntl.LOCK_EX) -> bool:
    """Take the lock, waiting out a moment's hold: :func:`running` holds it shared for as long as
    it takes to look (a `takes` listing, say), which must not pass for a doctor at work."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            fcntl.flock(fd, how | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def running(database: Path) -> Owner | None:
    """The ``doctor`` or ``recover`` running now on these takes (this process's own included), or None."""
    key = lock_path(database).absolute()
    if key in _held:
        return Owner(os.getpid(), _held[key][1])
    fd = _open(key, write=False)
    if fd is None:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _owner(fd)
        return None
    finally:
        os.close(fd)


def file_id(path: Path) -> tuple[int, int] | None:
    """Which file is at PATH now (device and inode), or None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def users_path(database: Path) -> Path:
    return database.with_name(f"{database.name}.users")


def hold_as_user(database: Path, patience_s: float) -> int | None:
    """A shared lock on ``starcoach.db.users`` for as long as a store has DATABASE open: the descriptor
    to close with it (None where no lock file can be made: a read-only disk, where nothing is written).
    Doctor puts a rebuilt database in place only with that lock to itself (:func:`without_users`): a
    command that had the old file open across the swap wrote into the file set aside (an import said
    "take 11", which was then not listed; a delete said "deleted", the take still listed).

    Raises:
        StoreError: doctor held the lock for longer than PATIENCE_S.
    """
    fd = _open(users_path(database).absolute(), write=True)
    if fd is not None and not _locked(fd, patience_s, fcntl.LOCK_SH):
        os.close(fd)
        raise StoreError(f"`starcoach doctor` is putting the rebuilt takes database in place in {database.parent} "
                         "now; try again in a moment, when it has finished")
    return fd


@contextmanager
def without_users(database: Path) -> Iterator[None]:
    """The block with no other command holding DATABASE open (see :func:`hold_as_user`).

    Raises:
        StoreError: one still held it after 3 s; nothing was done.
    """
    fd = _open(users_path(database).absolute(), write=True)
    try:
        if fd is not None and not _locked(fd, 3.0):
            raise StoreError(f"the takes database {database} must be replaced by a rebuilt one, and another starcoach "
                             "command has it open: end that command (a practice session, say), then run "
                             "`starcoach doctor` again; nothing was changed")
        yield
    finally:
        if fd is not None:
            os.close(fd)


def _open(path: Path, *, write: bool) -> int | None:
    try:
        if write:
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError:
        pass  # read-only: a lock only read, if it is there
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


def _owner(fd: int) -> Owner:
    try:
        words = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
    except OSError:
        words = []
    pid = int(words[0]) if words and words[0].isdigit() else None
    command = words[1] if len(words) > 1 and words[1] in ("doctor", "recover", "record") else "doctor"
    return Owner(pid, command)
