"""Each take's small metadata file beside its audio: what the database would lose.

``recordings/2026-12-01/take-221137.wav`` has ``take-221137.meta.json`` beside it,
holding the question, the time, the source and the status. It is written when the
take is created (before its audio), only where no file has its name, which claims the
name for that take, and rewritten when the take is finished; always to a temporary name
of the writing process's own first, so it is whole or absent. With it, ``starcoach
doctor`` can rebuild the index from ``recordings/`` alone, and ``recover`` can tell
what an interruption left.

While a take's audio is being written it has a temporary name too:
``take-221137.wav.part``; the rename to ``take-221137.wav`` is what makes it a take.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

from ..domain.tempname import temporary_path

SUFFIX = ".meta.json"
PART = ".part"
# `delete` renames a take's audio to this (``take-221137.wav.deleted``) in the transaction that
# removes its row, and removes it once that has committed.
DELETED = ".deleted"
# What a take's audio file may be called (imports keep their own kind; a name that is not a
# plain suffix becomes .audio).
AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".m4a", ".ogg", ".opus", ".aac", ".mp4", ".webm", ".audio", ".oga",
                  ".wma", ".aiff", ".aif"}
VERSION = 1
# pid: the process writing the take, while it does (so recovery leaves a live one alone); id: the
# take's id once it has one, so that a database rebuilt from these files gives each take its id again.
FIELDS = ("question_id", "question_text", "principle", "principles", "started_at", "source", "status", "duration_s",
          "pid", "id")


def sidecar_path(audio: Path) -> Path:
    """``take-221137.wav`` (or ``take-221137.wav.part``) -> ``take-221137.meta.json``."""
    name = audio.name.removesuffix(PART)
    stem = name.split(".", 1)[0] if name.startswith("take-") else Path(name).stem
    return audio.with_name(stem + SUFFIX)


def stored_file(path: Path, recordings: Path, database: Path) -> str | None:
    """What ``path`` is when it is one of the files that hold the takes, else None: the takes
    database (or a file named from it beside it), or under ``recordings`` a take's audio, partial
    audio or metadata. Writing over one of them loses a take, so exports never do, ``--force``
    or not. Links are followed, so another name for the same file is caught too.
    """
    try:
        target = Path(path).expanduser().resolve()
        db = Path(database).resolve()
        folder = Path(recordings).resolve()
    except (OSError, RuntimeError):  # a link loop: nothing of ours
        return None
    if target in {db, *(db.with_name(db.name + s) for s in ("-wal", "-shm", "-journal"))}:
        return "the takes database"  # a journal written there would be read into it
    if target.parent == db.parent and target.name.startswith(f"{db.name}.") and target.exists():
        return "a file the takes database keeps beside it"  # its lock, a rebuilt copy, one doctor set aside
    if not target.is_relative_to(folder):
        return None
    name = target.name.lower()
    if name.endswith(SUFFIX):
        return "a take's metadata file"
    if name.endswith(PART):
        return "a recording in progress"
    if target.suffix.lower() in AUDIO_SUFFIXES:
        return "a take's audio (or where one would be kept)"
    return None


def deleted_path(audio: Path) -> Path:
    """Where ``delete`` sets a take's audio aside until its row is gone."""
    return audio.with_name(audio.name + DELETED)


def partial_path(audio: Path) -> Path:
    """Where a take's audio is written before it is complete."""
    return audio.with_name(audio.name + PART)


def write(audio: Path, meta: dict[str, Any]) -> None:
    """Write (or replace) the metadata of the take whose audio is ``audio``.

    Raises:
        OSError: it cannot be written (a full disk, say); nothing is left half-written.
    """
    tmp = _written(audio, meta)
    try:
        os.replace(tmp, sidecar_path(audio))
    finally:
        tmp.unlink(missing_ok=True)


def create(audio: Path, meta: dict[str, Any]) -> None:
    """Write the metadata of a new take, only if no file has its name yet: this is what claims
    a take's name (see :func:`~.newtake.new_take`), so of two processes that picked the same
    one, one gets it and the other is told.

    Raises:
        FileExistsError: the take's metadata file is there already (nothing was changed).
        OSError: it cannot be written (a full disk, say); nothing is left half-written.
    """
    tmp = _written(audio, meta)
    target = sidecar_path(audio)
    try:
        try:
            os.link(tmp, target)  # whole, and never over a file that is there (FileExistsError)
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
                raise
            # A disk without hard links (FAT): the name is claimed empty, then filled.
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
            os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _written(audio: Path, meta: dict[str, Any]) -> Path:
    """The metadata, flushed to disk under a temporary name of this process's own (two takes
    started in the same second once shared one, and the second writer's rename failed)."""
    doc = {"version": VERSION, "audio": audio.name.removesuffix(PART)}
    doc.update({k: meta.get(k) for k in FIELDS})
    tmp = temporary_path(sidecar_path(audio))
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def update(audio: Path, **changes: Any) -> None:
    """Change some fields; a missing or damaged file is rewritten with what is known.

    Best effort: the database is the index of record, so a failure here (a full disk)
    does not fail the take.
    """
    meta = read(sidecar_path(audio)) or {}
    meta.update(changes)
    try:
        write(audio, meta)
    except OSError:
        pass


def read(path: Path) -> dict[str, Any] | None:
    """A metadata file's fields, or None if it is missing or damaged."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("audio"), str) or "/" in doc["audio"]:
        return None
    out: dict[str, Any] = {"audio": doc["audio"]}
    for key in FIELDS:
        value = doc.get(key)
        out[key] = value if isinstance(value, (str, int, float)) or value is None else None
    keys = doc.get("principles")
    out["principles"] = keys if isinstance(keys, list) and all(isinstance(k, str) and k for k in keys) else None
    return out


def principles(meta: dict[str, Any]) -> list[str]:
    """Every principle the take's question served, as its metadata kept them (a file written before
    they were kept, or damaged there: the one ``principle`` it kept)."""
    if meta.get("principles") is not None:
        return list(meta["principles"])
    return [meta["principle"]] if isinstance(meta.get("principle"), str) and meta["principle"] else []


def kept_id(meta: dict[str, Any]) -> int | None:
    """The take id a metadata file kept (those written before it did keep none). Nobody records a
    billion takes: a higher id is an edited file, and giving it would use the ids up."""
    kept = meta.get("id")
    return kept if type(kept) is int and 0 < kept < 10**9 else None


def remove(audio: Path) -> None:
    """Remove a take's metadata file (if there is one)."""
    sidecar_path(audio).unlink(missing_ok=True)
