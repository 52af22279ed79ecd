"""Exports of a take: text in, text out.

Every function here turns a take's ``analyze --json`` document into a file's
content; :func:`write_new` is the one place that writes, and it never overwrites
unless told to. The HTML page is :mod:`.html_page`.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from ..analysis.answer_text import export_figures
from ..domain.document import FOLLOW_UP_NOTE, follow_up_of, is_follow_up, json_text
from ..domain.errors import ExportError, disk_advice
from ..domain.tempname import dead_temporaries, temporary_path
from ..domain.transcript import join_words, plural, without_fillers
from ..domain.vocab import PART_TITLES

FORMATS = ("md", "txt", "json", "srt", "vtt", "html")
TEXT_FORMATS = ("md", "txt", "srt", "vtt")  # made of the words: nothing to write without any
PART_COLOURS = {"situation": "#4e79a7", "task": "#59a14f", "action": "#f28e2b", "result": "#b07aa1",
                "learning": "#edc948"}


def check_target(path: Path, *, force: bool = False) -> Path:
    """Refuse a target :func:`write_new` would refuse, before any work is done for it.

    Raises:
        ExportError: the file exists (without force), is not a regular file, or its folder
            does not exist.
    """
    import os
    import stat

    path = Path(path)
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):  # the folder is checked below
        st = None
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {_what_to_do(exc)}") from None
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise ExportError(f"{path} is a symbolic link; not replacing it (give the file it points to, or "
                              "another name)")
        if not stat.S_ISREG(st.st_mode):
            kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file (a device or pipe)"
            raise ExportError(f"{path} is {kind}; not replacing it, give a file name instead")
        if not force:
            raise ExportError(f"{path} exists; pass --force to replace it")
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise ExportError(f"cannot write {path}: {folder} {what}; give a path in an existing folder "
                          "(a mistyped folder is not created)")
    return path


def write_new(path: Path, content: str | bytes, *, force: bool = False) -> Path:
    """Write an export; refuse to replace an existing file unless ``force``, and even
    then replace only a regular file (never a device, a FIFO, a folder or a link).

    The content goes to a hidden temporary file beside the target, this process's own
    (:func:`~starcoach.domain.tempname.temporary_path`), renamed over it when whole; the
    temporary file is removed whatever happens (SIGTERM included: the CLI turns it into an
    exception), and so are those of the target that killed exports left.

    Raises:
        ExportError: the file exists (without force), is not a regular file, or cannot
            be written.
    """
    import os

    path = check_target(path, force=force)
    # Under one fixed name, the temporary file of a killed export made every later one fail, --force too.
    tmp = temporary_path(path)
    try:
        with open(tmp, "xb") as f:
            f.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise ExportError(f"cannot write {path}: {_what_to_do(exc)}") from None
    except BaseException:
        _remove(tmp)
        raise
    for left in dead_temporaries(path):
        _remove(left)
    return path


def _what_to_do(exc: OSError) -> str:
    """Why a file could not be written, and what to do about it (an error line said only "File
    name too long" or "Permission denied")."""
    import errno

    advice = disk_advice(exc.errno, elsewhere="give -o a file on another disk")
    if advice:
        return advice
    if exc.errno == errno.ENAMETOOLONG:
        return "the file name is too long for this disk; give a shorter one"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied; write it into a folder you may write to"
    if exc.errno == errno.ENOENT and exc.filename and Path(exc.filename).parent.is_dir():
        # its folder is there, and no file can be made in it: a system folder such as /proc
        return "that folder takes no new files (a system folder, as /proc is); write it into a folder of your own"
    return f"{exc.strerror or exc}; write it into a folder of your own"


def _remove(tmp: Path) -> None:
    """Remove a temporary file if it is there; a disk that refused it (read-only) refuses this too."""
    try:
        tmp.unlink(missing_ok=True)
    except OSError:
        pass


# --- text formats -------------------------------------------------------------------

def sentence_word_lists(doc: dict[str, Any]) -> list[list[dict[str, Any]] | None]:
    """Every word of the take, each given to one STAR sentence: the first that the word does not
    lie after (so a filler before a sentence, which the sentence's own span leaves out, opens
    that sentence; words after the last one close it). A sentence without times gets None."""
    sentences = doc["star"]["sentences"]
    timed = [i for i, s in enumerate(sentences) if s.get("start") is not None and s.get("end") is not None]
    lists: dict[int, list[dict[str, Any]]] = {i: [] for i in timed}
    for w in doc["words"] if timed else []:
        # inside a sentence's end (a word of no length at its end too), or started before it
        home = next((i for i in timed if w["end"] <= sentences[i]["end"] + 0.01
                     or w["start"] < sentences[i]["end"] - 0.01), timed[-1])
        lists[home].append(w)
    return [lists.get(i) for i in range(len(sentences))]


def _carried_on(doc: dict[str, Any]) -> set[int]:
    """The words (by ``id``: the document's own word objects) that carry on the filler the word
    before them starts, "mean" of "I mean": the document's ``fillers`` say which words each filler
    found in the transcript is, from the one that starts at its start. A document without them
    has none (each filler word is then a mark of its own, as `check` reads too)."""
    words = doc["words"]
    carried: set[int] = set()
    for f in doc.get("fillers") or ():
        n = len(f["text"].split())
        if n < 2:
            continue
        first = next((i for i in range(len(words) - n + 1) if words[i]["filler"] and words[i]["start"] == f["start"]
                      and words[i + n - 1]["end"] == f["end"]), None)
        if first is not None:
            carried.update(id(w) for w in words[first + 1:first + n])
    return carried


def _sentence_words(sentence: dict[str, Any], words: list[dict[str, Any]] | None, *, clean: bool,
                    carried: set[int]) -> str:
    """A STAR sentence's words, fillers marked or dropped (its text when it has no times); a word
    ``carried`` on a filler goes in the mark of the word before it, when that one is unpunctuated."""
    if words is None:
        return sentence["text"]
    if clean:
        return join_words(w["text"] for w in without_fillers(words))
    out: list[str] = []
    open_mark = False  # the last word was a filler's, unpunctuated: "I" of "I mean"
    for w in words:
        if not w["filler"]:
            out.append(w["text"])
            open_mark = False
            continue
        bare = w["text"].rstrip(",.;:!?")
        if open_mark and id(w) in carried:  # one filler, one mark: "*I mean*,"
            out[-1] = f"{out[-1][:-1]} {bare}*{w['text'][len(bare):]}"
        else:
            out.append(f"*{bare}*{w['text'][len(bare):]}")
        open_mark = bare == w["text"]
    return join_words(out)


def to_markdown(doc: dict[str, Any], *, clean: bool = False) -> str:
    """The take for rewriting: question, the answer under STAR headings, feedback as a checklist.

    Running ``starcoach check`` on the edited file closes the loop (headings and the
    checklist are ignored by the checker).
    """
    take = doc.get("take", {})
    # a question file may come from someone else: its text is shown, never read as HTML (an audit's `<img onerror>`)
    lines = [f"# {_md_literal(take.get('question_text') or 'My answer')}", ""]
    story = follow_up_of(take.get("question_id"))  # `check` of the file judges a story: say what it is
    meta = [f"take {take['id']}" if take.get("id") else None, f"a follow-up to {story}" if story else None,
            take.get("started_at"),
            f"{doc.get('speaking_span_s', 0):.0f} s", f"{doc.get('wpm', 0):.0f} wpm",
            plural(doc.get('metrics', {}).get('filler_count', 0), "filler")]
    lines += ["_" + " · ".join(str(m) for m in meta if m) + "_", ""]
    star = doc["star"]
    blocks: list[tuple[str, list[str]]] = []  # (part, its sentences), in the answer's order
    carried = _carried_on(doc)
    for s, words in zip(star["sentences"], sentence_word_lists(doc)):
        text = _sentence_words(s, words, clean=clean, carried=carried)
        if not text:  # all its words went to a neighbour, or were fillers left out
            continue
        if not blocks or blocks[-1][0] != s["label"]:
            blocks.append((s["label"], []))
        blocks[-1][1].append(text)
    # A missing part's placeholder goes where it belongs in STAR order, before the first part
    # that comes after it: a story filled in where the export says reads in order.
    order = list(PART_TITLES)
    follow_up = is_follow_up(doc)  # no story: its sentences as one answer, no part asked for (FOLLOW_UP_NOTE)
    if follow_up:
        blocks = [("answer", [text for _, texts in blocks for text in texts])] if blocks else []
    for part in order if not follow_up else ():
        if star[part]["present"]:
            continue
        placeholder = (part, [f"<!-- missing: add your {PART_TITLES[part].lower()} here -->"])
        later = [i for i, (p, _) in enumerate(blocks) if p in order and order.index(p) > order.index(part)]
        blocks.insert(later[0] if later else len(blocks), placeholder)
    for part, body in blocks:
        lines += ["", f"## {PART_TITLES.get(part, part.title())}", "", *body]
    lines += ["", "## Coach's checklist", ""]
    warning = (doc.get("audio") or {}).get("warning")
    lines += [f"- [ ] Audio: {warning}"] if warning else []  # the counts above may be off: as the report says
    if follow_up:
        lines += [f"- [ ] {FOLLOW_UP_NOTE}"]
    else:
        lines += [f"- [ ] {f['message']}" for f in star["feedback"]] or ["- [x] Nothing to fix: keep it this way."]
        lines += [f"- [x] {s}" for s in star.get("strengths", [])]
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"


def follow_up_export(text: str) -> tuple[str, str] | None:
    """In a file :func:`to_markdown` wrote of an answer to a follow-up question, the id of the question it
    follows up and the start of the line of figures that says so ("_take 4 · a follow-up to deep-1"); else
    None (that line deleted, the text is judged as a story)."""
    for line in export_figures(text):
        if found := re.match(r"(_(?:take \d+ · )?a follow-up to (\S+)) · ", line):
            return found.group(2), found.group(1)
    return None


def _md_literal(text: str) -> str:
    """TEXT as Markdown shows it, not as markup: a tag's or an entity's opening escaped (``\\<``, ``\\&``),
    and a backslash too, which would otherwise escape the escape (``\\<img`` came out a live tag), and a
    backtick (in a code span an escape shows as a backslash)."""
    return re.sub(r"([\\<&`])", r"\\\1", text)


def to_text(doc: dict[str, Any], *, clean: bool = False) -> str:
    words = without_fillers(doc["words"]) if clean else doc["words"]
    return join_words(w["text"] for w in words) + "\n"


def to_json(doc: dict[str, Any]) -> str:
    return json_text(doc) + "\n"


# A cue holds at most two lines of 42 characters and 7 seconds: the usual subtitle limits (a sentence
# of 44 words was one 11 s cue on one 220-character line).
CUE_LINE_CHARS = 42
CUE_MAX_S = 7.0
CUE_MIN_S = 0.5  # (a cue is never drawn out into the next one)


def _cues(doc: dict[str, Any], *, clean: bool) -> list[tuple[float, float, list[dict[str, Any]]]]:
    """Subtitle cues: each sentence, cut where it would overrun two lines or seven seconds."""
    cues = []
    for words in sentence_word_lists(doc):
        words = without_fillers(words or []) if clean else (words or [])
        parts: list[list[dict[str, Any]]] = [[]]
        for w in words:
            if parts[-1] and not _fits([*parts[-1], w]):
                parts.append([])
            parts[-1].append(w)
        # the sentence's last cue takes words from the one before until they are about even: filled
        # greedily, it was often its last word alone ("you." for 0.3 s, too short to read)
        while len(parts) > 1 and len(parts[-2]) > 1:
            moved = [parts[-2][-1], *parts[-1]]
            if _span(moved) > _span(parts[-2][:-1]) or not _fits(moved):
                break
            parts[-2:] = [parts[-2][:-1], moved]
        cues += [(part[0]["start"], max(x["end"] for x in part), part) for part in parts if part]
    # a cue shown for at least CUE_MIN_S where the next leaves room: Whisper times some words at no length
    # ("Thanks." 10.507-10.507 gave a cue no player shows)
    return [(a, max(b, min(a + CUE_MIN_S, cues[k + 1][0] if k + 1 < len(cues) else a + CUE_MIN_S)), ws)
            for k, (a, b, ws) in enumerate(cues)]


def _fits(words: list[dict[str, Any]]) -> bool:
    return _fits_two_lines([w["text"] for w in words]) and _span(words) <= CUE_MAX_S


def _span(words: list[dict[str, Any]]) -> float:
    return max(w["end"] for w in words) - words[0]["start"]


def _line_break(words: list[dict[str, Any]]) -> int | None:
    """Where a cue's second line starts (a word index), for the most even two lines that both fit;
    None if it fits one. (Only a single word longer than a line, a link, can make a line overrun.)"""
    texts = [w["text"] for w in words]
    if len(join_words(texts)) <= CUE_LINE_CHARS or len(texts) < 2:
        return None
    cuts = range(1, len(texts))
    fitting = [i for i in cuts if _longer_line(texts, i) <= CUE_LINE_CHARS]
    return min(fitting or cuts, key=lambda i: _longer_line(texts, i))


def _fits_two_lines(texts: list[str]) -> bool:
    return len(join_words(texts)) <= CUE_LINE_CHARS or any(
        _longer_line(texts, i) <= CUE_LINE_CHARS for i in range(1, len(texts)))


def _longer_line(texts: list[str], cut: int) -> int:
    return max(len(join_words(texts[:cut])), len(join_words(texts[cut:])))


def _cue_text(text: str, *, vtt: bool) -> str:
    """Text safe in a cue: WebVTT reads & < > as markup; an arrow would end an SRT cue's timing line."""
    return html.escape(text, quote=False) if vtt else re.sub(r"-{2,}>", "->", text)  # "--->" too


def _stamp(t: float, sep: str) -> str:
    ms = int(round(max(0.0, t) * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(doc: dict[str, Any], *, clean: bool = False) -> str:
    blocks = []
    for n, (start, end, words) in enumerate(_cues(doc, clean=clean), 1):
        cut = _line_break(words) or len(words)
        lines = [join_words(w["text"] for w in part) for part in (words[:cut], words[cut:]) if part]
        text = _cue_text("\n".join(lines), vtt=False)
        blocks.append(f"{n}\n{_stamp(start, ',')} --> {_stamp(end, ',')}\n{text}\n")
    return "\n".join(blocks)


def to_vtt(doc: dict[str, Any], *, clean: bool = False) -> str:
    """WebVTT with each word's start as an inline timestamp (karaoke style). WebVTT wants each
    such stamp after the cue's start and the stamp before it, and before the cue's end: a word
    that starts no later (words of no length, at a sentence's end) goes with the word before it."""
    out = ["WEBVTT", ""]
    for start, end, words in _cues(doc, clean=clean):
        cut = _line_break(words)
        text, last = _cue_text(words[0]["text"], vtt=True), _stamp(start, ".")
        for i, w in enumerate(words[1:], 1):
            at = _stamp(w["start"], ".")
            gap = "\n" if i == cut else " "
            if last < at < _stamp(end, "."):  # fixed width: the text order is the time order
                text += f"{gap}<{at}>{_cue_text(w['text'], vtt=True)}"
                last = at
            else:
                text += f"{gap}{_cue_text(w['text'], vtt=True)}"
        out += [f"{_stamp(start, '.')} --> {_stamp(end, '.')}", text, ""]
    return "\n".join(out)
