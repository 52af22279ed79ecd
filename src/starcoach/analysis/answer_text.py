"""What around a written answer is not the answer: a note's YAML header, comments, a template's
placeholders, and what starcoach's own ``export --format md`` writes around a take's words (its
line of figures, its checklist, its marks on fillers). :func:`strip_export` takes them away
before the answer is cut into sentences (:mod:`.star_segment`, :mod:`.star_rules`); the line of figures
says a take's pace (:func:`export_pace`) and whose follow-up it answers (``output.export``)."""

from __future__ import annotations

import re

from ..domain.transcript import without_fillers
from ..domain.vocab import DISCOURSE_FILLERS, is_filled_pause

# What starcoach's export writes around the answer (see export.to_markdown).
_EXPORT_MARK = re.compile(r"^## Coach's checklist\s*$|^<!-- missing: add your ", re.M)
_PROSE = re.compile(r":\s*(?:\S+\s+){3,}\S*[.!?…][\"'”’)\]]*\s*$")  # a value of five words or more, ended
_FRONT_MATTER = re.compile(r"\A\ufeff?\s*---[ \t]*\n(?:[A-Za-z_][\w -]*:[^\n]*\n|(?:[ \t]+|-[ \t])[^\n]*\n|\n)+"
                          r"---[ \t]*(?:\n|\Z)")
# The export's line of figures, "_take 2 · 2026-12-03T11:38:01+00:00 · 42 s · 140 wpm · 3 fillers_" (its head may hold
# a question id, which may hold "_": "_take 4 · a follow-up to mine_1 · … · 2 fillers_").
EXPORT_FIGURES = re.compile(r"^[ \t]*_(?:[^\n]* · )?\d+ s · \d+ wpm · \d+ fillers?_[ \t]*$", re.M)
# A template's placeholder: a line that is one, or holds one after a bullet, a number or a label ("Task:
# <what you had to do>", "1. <describe the context>"), that reads as an instruction or a heading's few
# words, not as the answer typed in the brackets (:func:`_placeholder`). Only a whole line's: "load<threshold
# we scaled" and "stayed <target … to >0.1%" are the answer's.
_PLACEHOLDER = re.compile(r"^([ \t]*(?:[-*+•][ \t]+|\d{1,2}[.)][ \t]+)?)((?:[^\n<>:]{1,40}:[*_]{0,3})?[ \t]*)"
                          r"<([^\W\d_][^<>\n]{0,160})>[ \t]*$", re.M)
_INSTRUCTION = re.compile(r"^(?:what|how|why|when|where|which|who|describe|explain|list|add|insert|write|enter|give|"
                          r"state|summari[sz]e|mention|briefly)\b|\b(?:you|your|yours|here|e\.g)\b", re.I)


def _placeholder(said: str) -> bool:
    """Whether SAID, in a template's brackets, is a placeholder: not a sentence (one ends in a stop: "<What I
    learned: measure first.>"), nor a figure ("<errors down 40%>") unless it reads as an instruction ("<describe
    it in 2-3 sentences>"), and worded as one or as a heading's few words ("<the outcome, with numbers>")."""
    if said.rstrip().endswith((".", "!", "?")):
        return False
    instruction = bool(_INSTRUCTION.search(said))
    return instruction or (not re.search(r"\d", said) and len(said.split()) <= 6)


def _unfilled(m: re.Match) -> str:
    """A line of placeholder M without it: its label stays (a hint of a part with no answer), a bullet or a
    number alone goes ("1." was read as a Situation)."""
    if not _placeholder(m.group(3)):
        return m.group()
    return m.group(1) + m.group(2) if m.group(2).strip() else ""


def strip_export(text: str) -> tuple[str, bool]:
    """The text without a note's YAML header, comments and a template's placeholders and, in a file
    `starcoach export --format md` wrote, without what the export adds around the answer (its italic
    line of figures, its checklist).

    Returns:
        The text, and whether it is an export (whose part headings then count for nothing).
    """
    # Windows' and old Mac line ends read as lines too: the rules below look at lines (the
    # export's line of figures stayed in an export saved with CRLF, and was read as a Situation).
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # a note's YAML header (Obsidian, Jekyll, Hugo), not an answer between rules ("Situation: …", sentences)
    if (head := _FRONT_MATTER.match(text)) and not any(map(_PROSE.search, head.group().splitlines()[1:-1])):
        text = text[head.end():]
    exported = bool(_EXPORT_MARK.search(text))  # before the comments go: a placeholder is one
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    # a template's placeholders are no answer ("Task: <what you had to do>" was read as a Task)
    text = _PLACEHOLDER.sub(_unfilled, text)
    figures = bool(EXPORT_FIGURES.search(text))
    text = EXPORT_FIGURES.sub("", text)  # by its shape: the checklist may have been deleted
    if exported:
        # Its checklist's heading; its items go as any checkbox line does (text written below them is the
        # answer's: a Result added at the end was dropped, and "No Result" reported).
        text = re.sub(r"^## Coach's checklist\s*$", "", text, flags=re.M)
        # Its line of figures in any shape, the first line under the title: a line the user italicised in
        # the answer is the answer's (a lesson in italics vanished, and "No lesson" was reported).
        text = re.sub(r"\A((?:[ \t]*(?:#[ \t][^\n]*)?\n)*)[ \t]*_[^\n]*_[ \t]*$", r"\1", text, count=1, flags=re.M)
    if exported or figures:  # its checklist ticked off and deleted, its fillers are still its marks
        text = "\n".join(_without_export_fillers(line) for line in text.split("\n"))
    return text, exported



def export_figures(text: str) -> list[str]:
    """The lines of figures a file ``export --format md`` wrote holds ("_take 4 · … · 97 s · 126 wpm · 0
    fillers_"), in any line ends; one the user made a comment of is none."""
    text = re.sub(r"<!--.*?-->", " ", text.replace("\r\n", "\n").replace("\r", "\n"), flags=re.S)
    return [line.group().strip() for line in EXPORT_FIGURES.finditer(text)]


def export_pace(text: str) -> float | None:
    """The pace a file ``export --format md`` wrote states in its line of figures ("· 97 s · 126 wpm ·"),
    if one of a speaker's (60-260 words a minute) is there: the text's length is judged at it."""
    for line in export_figures(text):
        found = re.search(r" · (\d+) wpm · ", line)
        if found and 60 <= int(found.group(1)) <= 260:
            return float(found.group(1))
    return None


# The export marks each filler it keeps in single asterisks, its punctuation after ("*So*, *um*,
# deliver…"; a two-word one as one mark, "*I mean*", as two, "*I* *mean*", before 2026-12-06):
# read as words, they made an untouched export of a take check otherwise than the take (a Task
# opening "So, um, deliver" read as Action). In an export, such a word that can be a filler (a
# filled pause, a discourse filler, alone or as its pair) is the speaker's and goes, as the take's
# analysis left it out; the user's own words in asterisks ("*never*", "*Result:*", "*really
# proud*") and the rest of the line stay as written.
_EXPORT_FILLER = re.compile(r"\*([^*\s]+(?: [^*\s]+)?)\*([^\w\s*]*)")
_TOKEN = re.compile(r"\*[^*\s]+ [^*\s]+\*[^\w\s*]*(?!\S)|\S+")  # a two-word mark is one token


def _without_export_fillers(line: str) -> str:
    if "*" not in line:
        return line
    tokens = _TOKEN.findall(line)
    marks = [_EXPORT_FILLER.fullmatch(t) for t in tokens]
    bare = [m.group(1).lower() if m else "" for m in marks]
    filler = [False] * len(tokens)
    for i, m in enumerate(marks):
        if m and not filler[i]:
            pair = i + 1 < len(tokens) and marks[i + 1] is not None and not m.group(2) and \
                f"{bare[i]} {bare[i + 1]}" in DISCOURSE_FILLERS
            if pair:
                filler[i] = filler[i + 1] = True
            elif is_filled_pause(bare[i]) or bare[i] in DISCOURSE_FILLERS:
                filler[i] = True
    if not any(filler):
        return line
    words = [{"text": m.group(1) + m.group(2) if f and m else t, "filler": f} for t, m, f in zip(tokens, marks, filler)]
    return line[:len(line) - len(line.lstrip())] + " ".join(w["text"] for w in without_fillers(words))
