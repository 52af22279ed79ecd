"""Temporary files beside the file they become, each one writer's own.

A file that must appear whole (a take's metadata, an export) is written under a hidden
name in its own folder and renamed over its target once flushed. The name holds the
writer's pid and a random part, ``.take-093012.4711-9f2c1ab0.meta.json.tmp`` for
``take-093012.meta.json``: two processes writing the same target (two imports started in
the same second, two exports of one take) never open, rename or remove each other's, and
one that a killed process left blocks no later write.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path


def temporary_path(target: Path) -> Path:
    """A hidden name beside ``target`` that no other writer uses: what to write it under."""
    stem, ending = _parts(target)
    return target.with_name(f".{stem}.{os.getpid()}-{secrets.token_hex(4)}{ending}.tmp")


def _parts(target: Path) -> tuple[str, str]:
    """The temporary names' stem and ending for ``target``: its name split at its first dot or,
    where that would make a name longer than a disk allows (255 bytes; a 240-byte export name was
    refused as "too long"), a digest of the name and no ending."""
    stem, dot, rest = target.name.partition(".")
    if len(f".{stem}.{'9' * 9}-{'0' * 8}{dot}{rest}.tmp".encode("utf-8", "surrogateescape")) > 255:
        return "t" + hashlib.sha1(target.name.encode("utf-8", "surrogateescape")).hexdigest()[:16], ""
    return stem, dot + rest


def writer_pid(tmp: Path) -> int | None:
    """The pid in a name :func:`temporary_path` made, or None for any other name."""
    m = re.fullmatch(r"\.[^.]+\.([1-9]\d{0,8})-[0-9a-f]{8}(\..*)?\.tmp", tmp.name)
    return int(m.group(1)) if m else None


def dead_temporaries(target: Path) -> list[Path]:
    """The temporary files of ``target`` (by :func:`temporary_path`) whose writer is no longer
    running: killed between writing one and renaming it. A live writer's are its own."""
    stem, ending = _parts(target)
    pattern = re.compile(rf"\.{re.escape(stem)}\.([1-9]\d{{0,8}})-[0-9a-f]{{8}}{re.escape(ending)}\.tmp")
    try:
        names = [m for m in map(pattern.fullmatch, os.listdir(target.parent)) if m]
    except OSError:
        return []
    return [target.with_name(m.group(0)) for m in names if not _running(int(m.group(1)))]


def _running(pid: int) -> bool:
    return pid == os.getpid() or alive(pid)


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running starcoach process (the writer of a temporary file, the owner
    of an unfinished take)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie or a recycled pid still answers; check it is a starcoach process.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return b"starcoach" in cmdline
