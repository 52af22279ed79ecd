"""Where a new take's files go: a name claimed for it alone, and audio that appears whole.

A take's files share one stem, by date and time: ``recordings/2026-11-22/take-093012.wav``,
its ``take-093012.meta.json`` and, while it is written, ``take-093012.wav.part``. Two
takes started in the same second (two imports at once) get two stems: creating the
metadata file where no file has that name is what claims one, so no process ever writes,
renames or removes a file of another's take.
"""

from __future__ import annotations

import errno
import os
import shutil
from datetime import datetime
from pathlib import Path

from ..config import Config
from ..domain.errors import RecordingError, StarcoachError, disk_advice
from . import sidecar


def new_take(config: Config, meta: dict, *, suffix: str = ".wav", when: datetime | None = None) -> Path:
    """A new take's audio path under recordings/, by date (``2026-11-22/take-093012.wav``),
    claimed by creating its metadata file from ``meta`` (see :func:`.sidecar.create`).

    Raises:
        OSError: the metadata cannot be written (a full disk, say); nothing was claimed.
        RecordingError: a file holds the day folder's name.
    """
    when = when or datetime.now()
    folder = config.paths.storage_folder("recordings") / when.strftime("%Y-%m-%d")
    try:
        folder.mkdir(exist_ok=True)
    except FileExistsError:  # not a folder (exist_ok covers a folder only): "cannot copy … (File exists …)"
        raise RecordingError(f"{folder} is in the way: a day's takes go in a folder by that name, and a file or a "
                             "broken link has it; move it elsewhere and try again (nothing was stored)") from None
    stem = when.strftime("take-%H%M%S")
    n = 1
    while True:
        name = stem if n == 1 else f"{stem}-{n}"
        n += 1
        if any(folder.glob(f"{name}.*")):
            continue  # the stem of a take (an older one's audio may have no metadata file)
        path = folder / f"{name}{suffix}"
        try:
            sidecar.create(path, meta)
        except FileExistsError:
            continue  # another process claimed it since the look
        return path


def audio_suffix(file: Path) -> str:
    """The file's own suffix when it names a kind of audio, else ".audio": kept, ``answer.part`` read as
    a partial copy (``recover`` removed it), ``answer.md`` as the take's export (``--force`` replaced it)."""
    suffix = file.suffix.lower()
    return suffix if suffix in sidecar.AUDIO_SUFFIXES else ".audio"


def copy_atomically(src: Path, dest: Path) -> None:
    """Copy ``src`` to ``dest`` (a name :func:`new_take` claimed) through ``dest.part``: flushed
    to disk, then renamed.

    Raises:
        OSError: the copy failed (``dest.part`` is removed if this made it; ``dest`` never exists then).
    """
    part = sidecar.partial_path(dest)
    with open(src, "rb") as fin:
        fout = open(part, "xb")  # one that is there already is not this copy's to remove
        try:
            with fout:
                shutil.copyfileobj(fin, fout, 1 << 20)
                fout.flush()
                os.fsync(fout.fileno())
            os.replace(part, dest)
        finally:
            part.unlink(missing_ok=True)


def copy_error(exc: OSError, src: Path, folder: Path, dest: Path | None = None) -> StarcoachError:
    """What an import says when copying ``src`` into ``folder`` failed: its metadata (no name
    claimed yet: ``dest`` None) or its audio (to ``dest``)."""
    if exc.errno == errno.ENOSPC:
        try:
            size = f"{src.stat().st_size / 1e6:.1f} MB"
        except OSError:
            size = "the file"
        to = f" to {dest.name}" if dest else ""
        return RecordingError(f"the disk is full: {size} did not fit in {folder} (copying {src.name}{to}); "
                              "nothing was stored. Free some space and import it again")
    advice = disk_advice(exc.errno, f" ({folder})", folder=True)  # read-only, over quota, not writable
    if advice:
        return RecordingError(f"{advice}; nothing was stored")
    return RecordingError(f"cannot copy {src} into recordings/ ({exc.strerror or exc}: "
                          f"{exc.filename or dest or folder}); nothing was stored")
