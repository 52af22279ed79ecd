"""Reading written answers (the ``check`` command's input)."""

from __future__ import annotations

from pathlib import Path

from ..domain.errors import InputTextError

MAX_BYTES = 1_000_000


def read_answer(path: str | Path) -> str:
    """Read a written answer as text.

    Raises:
        InputTextError: missing, a folder, empty, too large, or not UTF-8 text.
    """
    path = Path(path)
    if not path.exists():
        raise InputTextError(f"{path}: no such file")
    if path.is_dir():
        raise InputTextError(f"{path}: is a folder, not a text file")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InputTextError(f"{path}: {size} bytes is too long for one answer")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputTextError(f"{path}: not a UTF-8 text file") from None
    if "\x00" in text:
        raise InputTextError(f"{path}: not a text file")
    if not text.strip():
        raise InputTextError(f"{path}: the file is empty")
    return text
