"""The errors starcoach raises.

Library code raises these; only the CLI turns them into one line on stderr and a
non-zero exit code. Anything else escaping to the CLI is a bug.
"""

import errno
import os
import signal


class StarcoachError(Exception):
    """Base class: a problem the user can act on, described in one line."""

    exit_code = 1


class ConfigError(StarcoachError):
    """config.toml is unreadable or holds a value of the wrong kind (or an environment variable does)."""


class AudioError(StarcoachError):
    """An audio file is missing, empty, corrupt or in a format we cannot decode."""


class ModelError(StarcoachError):
    """A Whisper model cannot be found, assembled, downloaded or loaded."""


class InputTextError(StarcoachError):
    """A written answer cannot be read."""


class DeviceError(StarcoachError):
    """No usable audio device, or the one asked for does not exist."""


class RecordingError(StarcoachError):
    """Recording stopped on a fault (full disk, stream error); captured audio is kept."""


class NothingRecorded(RecordingError):
    """A take stopped (Enter, Ctrl+C, its input ended) before the first sound arrived: no take."""


class NotFound(StarcoachError):
    """A take or question id that does not exist."""


class StoreError(StarcoachError):
    """The takes database cannot be opened or written."""


# The signals that stop a command and still let it finish cleanly (a take stored, temporary files gone):
# Ctrl+C, SIGTERM, and SIGHUP, which closing the terminal sends (its default killed the process at once:
# a take being recorded was left for `recover`, an export's temporary file stayed; an audit).
STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def stopped_by(signum: int) -> str:
    """The words a command's line gives the signal SIGNUM that stopped it."""
    if signum == signal.SIGINT:
        return "interrupted"
    return "stopped by SIGHUP" if signum == signal.SIGHUP else "stopped by SIGTERM"


def signal_exit(signum: int) -> int:
    """The exit code of a command a signal stopped, as the shell gives a process it killed: 130, 143, 129."""
    return 128 + signum


class Interrupted(StarcoachError):
    """Ctrl+C (exit 130), SIGTERM (143) or SIGHUP (129) that came while a finished recording was being stored."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ExportError(StarcoachError):
    """An export target exists (without --force) or cannot be written."""


# An audio file FFmpeg cannot decode to its end: the line said what, and not what to do (an audit's).
CORRUPT_AUDIO = ("the audio is truncated or corrupt ({}); copy it again from where it came, or export it again "
                 "from the app that made it")


def disk_advice(errno_: int | None, where: str = "", *,
                elsewhere: str = "point [paths] in config.toml elsewhere", folder: bool = False) -> str | None:
    """What to do about a disk that refused a write (full, read-only, over quota), or None;
    WHERE (" (path)", say) goes after what happened, ELSEWHERE is how to write somewhere else.
    With FOLDER, a write into a folder of starcoach's that its mode refused (permission denied)
    is said too; without, that is the caller's, which knows the file."""
    said = {errno.ENOSPC: f"the disk is full{where}; free some space and try again",
            errno.EDQUOT: f"your disk quota is used up{where}; free some space and try again",
            errno.EROFS: f"the disk is read-only{where}; remount it writable, or {elsewhere}"}
    if folder:
        denied = f"the folder cannot be written{where}: make it writable, or {elsewhere}"
        said[errno.EACCES] = said[errno.EPERM] = denied
    return said.get(errno_ if errno_ is not None else -1)


def os_error_line(exc: OSError) -> str:
    """Disk full, permission denied and the like, outside a stage that names them."""
    where = f" ({exc.filename})" if exc.filename else ""
    advice = disk_advice(exc.errno, where)
    if advice:
        return advice
    if exc.errno in (errno.EACCES, errno.EPERM):
        # removing, renaming or making a file needs its folder writable (an audit: `delete` in a
        # folder that could not be written blamed the file, whose owner and mode were fine)
        named = isinstance(exc.filename, (str, bytes, os.PathLike)) and os.fspath(exc.filename) not in ("", b"")
        folder = f" ({os.path.dirname(os.path.abspath(os.fsdecode(exc.filename)))})" if named else ""
        return f"permission denied{where}; check the owner and mode of the file and of its folder{folder}"
    return f"{exc.strerror or type(exc).__name__}{where}"
