"""A path the user wrote (in config.toml, ``STARCOACH_HOME``, ``--model``), made absolute.

``Path.expanduser`` and ``Path.resolve`` raise ``RuntimeError``, not ``OSError``, for a
``~user`` with no home on this machine and (Python 3.11) for a loop of symbolic links: left
alone, either reached the user as "unexpected error… this is a bug". Every such path goes
through :func:`user_path`, which says which setting and what to write instead.
"""

from __future__ import annotations

import errno
from pathlib import Path

from .errors import ConfigError, StarcoachError


def user_path(value: str | Path, what: str, *, base: Path | None = None,
              error: type[StarcoachError] = ConfigError) -> Path:
    """VALUE with ``~`` expanded, from BASE when relative, and resolved (links followed).

    Args:
        value: the path as written.
        what: where it was written, for the message (``"config.toml: [paths] models"``).
        base: the folder a relative path is from (none: the current folder).
        error: the error to raise.

    Raises:
        error: ``~user`` names no home folder here, or the path runs into a loop of links.
    """
    try:
        path = Path(value).expanduser()
    except RuntimeError:  # "Could not determine home directory."
        head = str(value).split("/", 1)[0]
        raise error(f"{what}: {value}: {head} is no home folder on this machine; "
                    "write the folder's full path") from None
    try:
        return ((base / path) if base is not None else path).resolve()
    except (RuntimeError, OSError) as exc:  # a loop of symbolic links (OSError from Python 3.13)
        reason = "a loop of symbolic links" if isinstance(exc, RuntimeError) or exc.errno == errno.ELOOP \
            else exc.strerror or str(exc)
        raise error(f"{what}: {value}: cannot follow it ({reason}); give another path") from None
