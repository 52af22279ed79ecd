"""Reading written answers (the ``check`` command's input)."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

from ..domain.errors import InputTextError
from ..domain.filekind import (DOCUMENT, RECORDING, UTF16_MARKS, binary_kind, mostly_ascii, no_such_file,
                               unprintable)

MAX_BYTES = 1_000_000


def read_answer(path: str | Path) -> str:
    """Read a written answer as text.

    Only a regular file is read, and never more than :data:`MAX_BYTES` of it: a FIFO
    or ``/dev/zero`` is refused from its ``stat`` (the open does not block either).

    Raises:
        InputTextError: missing, a folder, not a regular file, empty, too large, or not
            UTF-8 text (nor English UTF-16 text, with its byte-order mark or without).
    """
    path = Path(path)
    try:
        # O_NONBLOCK: if the path is swapped for a FIFO after any check, open still returns.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputTextError(no_such_file(path, "save the answer in a file and give its path")) from None
    except IsADirectoryError:
        raise InputTextError(f"{path}: is a folder, not a text file") from None
    except OSError as exc:
        raise InputTextError(f"{path}: cannot read it ({exc.strerror})") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        if stat.S_ISDIR(st.st_mode):
            raise InputTextError(f"{path}: is a folder, not a text file")
        raise InputTextError(f"{path}: not a regular file (a device, pipe or socket); give a .txt or .md file")
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(st.st_mode):
            raise InputTextError(f"{path}: not a regular file (a device, pipe or socket); give a .txt or .md file")
        try:
            data = f.read(MAX_BYTES + 1)
        except OSError as exc:
            raise InputTextError(f"{path}: cannot read it ({exc.strerror})") from None
    # What the file is comes before how long it is: an audio file is "not a text file", not "too long".
    kind = _binary_kind(data)
    if kind:
        raise InputTextError(f"{path}: {kind}")
    # "Unicode" text as Notepad and Word save it: UTF-16 with its byte-order mark (or without one).
    # (UTF-32's mark opens on UTF-16's: it was read as UTF-16, and said "not a text file")
    encoding = "utf-32" if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff") else \
        "utf-16" if data[:2] in UTF16_MARKS else _utf16_unmarked(data) or "utf-8-sig"
    if not encoding.startswith(("utf-16", "utf-32")) and b"\x00" in data[:8192]:
        raise InputTextError(f"{path}: not a text file; save the answer as UTF-8 text (.txt or .md)")
    if len(data) > MAX_BYTES:  # a web page or subtitles, by its head (an html export holds its audio: 1.6 MB)
        _refuse_data(path, data[:MAX_BYTES].decode(encoding, errors="ignore"))
        raise InputTextError(f"{path}: {max(st.st_size, len(data)):,} bytes is too long for one answer "
                             f"(at most {MAX_BYTES:,})")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise InputTextError(f"{path}: not a UTF-8 text file (nor UTF-16 or UTF-32); save it as UTF-8 text") from None
    # binary data can look like UTF-16 with no mark (a nought every other byte): text has no controls
    if encoding in ("utf-16-le", "utf-16-be") and unprintable(text):
        raise InputTextError(f"{path}: not a text file; save the answer as UTF-8 text (.txt or .md)")
    # binary data can open on the same two bytes as UTF-16; an answer starcoach reads is English
    if encoding.startswith("utf-16") and not mostly_ascii(text):
        raise InputTextError(f"{path}: opens as UTF-16 text but most of it is not English letters: a binary file, "
                             "or an answer in another language (starcoach reads English)? "
                             "Save the answer as UTF-8 text")
    if "\x00" in text:
        raise InputTextError(f"{path}: not a text file")
    if not text:
        raise InputTextError(f"{path}: the file is empty")
    if not any(ch.isalnum() for ch in text):
        raise InputTextError(f"{path}: holds no words (only spaces, markup, symbols or emoji); write the answer in it")
    _refuse_data(path, text)
    return text


def _refuse_data(path: Path, text: str) -> None:
    kind = _not_prose(text)
    if kind:
        raise InputTextError(f"{path}: {kind}, not a written answer: `check` reads plain text or Markdown (a "
                             "take's transcript to rewrite: `starcoach export TAKE --format md`)")


_SRT_CUE = re.compile(r"\d+[ \t]*\r?\n\d{1,2}:\d\d:\d\d[,.]\d{3}[ \t]*-->")
_VTT = re.compile(r"WEBVTT(?:[ \t][^\n]*)?\r?\n")  # its first line: the word alone or with a title
_VTT_CUE = re.compile(r"^(?:\d+:)?\d\d:\d\d\.\d{3}[ \t]+-->", re.M)


def _not_prose(text: str) -> str | None:
    """What a text file that holds data, not prose, is (starcoach's own json, html, srt and vtt
    exports among them: each was scored as an answer, the JSON as one of 2,000 words); None for
    an answer, which may open on a bracket, a tag or the word WEBVTT ("<HTML> emails from our
    billing tool rendered blank…")."""
    head = text.lstrip("\ufeff \t\r\n")
    if head[:1] in ("{", "["):
        try:
            json.loads(head)
            return "a JSON document"
        except (ValueError, RecursionError):  # "[Task] I had to…" is an answer
            pass
    if head.startswith("{\\rtf"):  # TextEdit's and WordPad's own format: its control words read as sentences
        return "a rich-text (RTF) document (save it as plain text: TextEdit's Format > Make Plain Text)"
    low = head[:4096].lower()
    if low.startswith("<!doctype html") or low.startswith("<?xml") and "?>" in low.split("\n", 1)[0] \
            or low.startswith("<html") and "</html>" in text.lower():
        return "a web page or XML document"
    if _VTT.match(head) and _VTT_CUE.search(head[:4096]) or _SRT_CUE.match(head):
        return "subtitles"
    return None


def _utf16_unmarked(data: bytes) -> str | None:
    """"utf-16-le" or "utf-16-be" for English text saved as UTF-16 with no byte-order mark (every
    other byte nought), else None."""
    head = data[:4096]
    if len(head) < 4:
        return None
    odd, even = head[1::2], head[0::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
        return "utf-16-be"
    return None


_ADVICE = {RECORDING: "not a text file: `starcoach analyze` reads recordings",
           DOCUMENT: "not plain text: save the answer as plain text (.txt, UTF-8) and check that"}


def _binary_kind(data: bytes) -> str | None:
    """What a file that is no text is, by how it begins, said with what to do instead (None: it
    may be text). Each has a nought byte in its header, which text never has: an answer that
    opens on "FORMER" or "RIFF" is not taken for one."""
    if b"\x00" not in data[:64]:
        return None
    kind = binary_kind(data)
    return f"{kind}, {_ADVICE[kind]}" if kind else None
