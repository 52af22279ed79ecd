"""What a file is by how it begins.

For telling a file starcoach must not take for one of its own (a written answer, the takes
database) from one that is that thing, if damaged: a recording, a document, text, or an
SQLite database are each recognised by their first bytes.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from pathlib import Path

# How recordings begin (WAV, FLAC, MP3, Ogg, AIFF, Sun audio, Matroska/WebM; MP4/M4A by "ftyp" at
# byte 4, an MP3 with no tag by its frame sync), and documents that hold text in another format
# (Word, OpenDocument, zip; old Word).
_RECORDING = (b"RIFF", b"fLaC", b"ID3", b"OggS", b"FORM", b".snd", b"\x1aE\xdf\xa3")
_MP3_SYNC = (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")
_DOCUMENT = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
RECORDING = "a recording"
DOCUMENT = "a Word, OpenDocument or zip file"
TEXT = "a text file (TOML, JSON or the like)"
NOT_A_FILE = "a device, pipe or socket"
SQLITE_HEADER = b"SQLite format 3\x00"
UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16's byte-order marks, little- and big-endian
HEAD_BYTES = 512  # enough to tell text from what is not
# What to do about a file that is no takes database where the database goes (the config's line and
# the store's say it alike).
WRITTEN_OVER = ("if that is the right place and the file was written over, move it elsewhere: `starcoach "
                "doctor` then rebuilds the database from recordings/")


def not_utf8(path: str | Path, raw: bytes, exc: UnicodeDecodeError) -> str:
    """The line for a text file (RAW, decoded as "utf-8-sig") where EXC found a byte that is not UTF-8: its
    line, not Python's codec and byte offset. The decoder counts from after a byte-order mark, and its
    offset into the bytes put the line one early (a review's)."""
    line = raw[:exc.start + (len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0)].count(b"\n") + 1
    return f"{path}: line {line} is not UTF-8 text; save the file as UTF-8"


def no_such_file(path: str | Path, instead: str) -> str:
    """The line for a file that does not exist; for ``-`` (standard input, as ``export -o -`` is standard
    output: it read "-: no such file"), that it is not read, and INSTEAD: what to give."""
    return f"standard input is not read (`-`): {instead}" if str(path) == "-" else f"{path}: no such file"


def binary_kind(head: bytes) -> str | None:
    """:data:`RECORDING` or :data:`DOCUMENT` for a file that begins with ``head``; None for
    anything else (text among it: a caller that reads text checks for a nought byte first)."""
    if head.startswith(_RECORDING) or head[4:8] == b"ftyp" or head[:2] in _MP3_SYNC:
        return RECORDING
    if head.startswith(_DOCUMENT):
        return DOCUMENT
    return None


def is_text(head: bytes) -> bool:
    """Whether ``head`` (a file's first bytes, perhaps cut inside a character) is text: UTF-8, or
    UTF-16 with its byte-order mark, with no control character but tabs and line breaks."""
    utf16 = head[:2] in UTF16_MARKS
    try:
        text = codecs.getincrementaldecoder("utf-16" if utf16 else "utf-8-sig")().decode(head)
    except UnicodeDecodeError:
        return False
    return bool(text) and not unprintable(text) and not (utf16 and not mostly_ascii(text))


# C0 and C1 controls, the two separators Python's splitlines() breaks a line at, and lone surrogates (a
# file name's bytes that are not UTF-8, as Python decodes them: written raw, "caf\xe9.wav" reached the
# terminal as a byte it cannot show, where the error line beside it said "caf\\udce9.wav"); and the
# bidirectional embeddings and overrides U+202A-U+202E, which turn the rest of a terminal line around (an
# answer given to `check` printed one raw: the question files refuse them; the isolates and marks that
# right-to-left text uses stay).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\ud800-\udfff]")


def controls_escaped(text: str) -> str:
    """TEXT with each control character and lone surrogate written as its escape (``\\n``, ``\\x1b``,
    ``\\udce9``): a file name or an answer holding ESC[2J cleared the terminal when printed (an audit),
    and a newline broke a line."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def unprintable(text: str) -> bool:
    """Whether ``text`` holds a character that is not printable (a control character, among
    others), tabs and line and page breaks aside: binary data decoded as text does."""
    return any(not c.isprintable() and c not in "\t\n\r\f" for c in text)


def mostly_ascii(text: str) -> bool:
    """Whether half of ``text`` or more is ASCII. Any two bytes are a UTF-16 character: binary
    data that opens on a byte-order mark decodes, and is mostly not ASCII."""
    return sum(c.isascii() for c in text) >= len(text) / 2


def not_a_database(path: Path) -> str | None:
    """What the file at ``path`` is when it is recognisably no SQLite database: "a folder",
    :data:`NOT_A_FILE`, :data:`RECORDING`, :data:`DOCUMENT` or :data:`TEXT`.

    None when it is missing, cannot be read, is empty (SQLite makes it a new database), begins
    as an SQLite database does (however short or damaged after that), or is nothing recognisable:
    a database whose first page is damaged or zeroed, which ``doctor`` is for. Links are followed.
    """
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if stat.S_ISDIR(st.st_mode):
        return "a folder"
    if not stat.S_ISREG(st.st_mode):
        return NOT_A_FILE
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError:
        return None
    if SQLITE_HEADER.startswith(head[:len(SQLITE_HEADER)]):  # "" too: an empty file
        return None
    return binary_kind(head) or (TEXT if is_text(head) else None)
