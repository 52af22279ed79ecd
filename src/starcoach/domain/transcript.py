"""What transcription hands to the analysis stages: words with times."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 take``, ``2 takes``: the count with the word in the right number."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def join_words(texts) -> str:
    """Join recognised tokens into text, with no space before a token that continues the
    one before it ("0" + ".2%" -> "0.2%", "out" + "-of" -> "out-of")."""
    out = ""
    for t in texts:
        t = t.strip()
        if not t:
            continue
        out += t if not out or _continues(out, t) else " " + t
    return out


def _continues(before: str, token: str) -> bool:
    # "AT" + "&T" -> "AT&T" (R&D, Q&A, P&L); a lone "&" between words stays a word of its own
    ampersand = (token[0] == "&" and len(token) > 1 and token[1].isalnum()) or \
        (before.endswith("&") and len(before) > 1 and before[-2].isalnum())
    return ampersand or before.endswith("-") or token[0] in ".,%-:;!?')"


def without_fillers(words: list[dict]) -> list[dict]:
    """The words with the fillers left out (``--clean``), the text mended where one stood: "I, um,
    ran" reads "I ran", and "Um, my task" at a sentence's start reads "My task"."""
    out: list[dict] = []
    capital = False  # a filler that opened a sentence gives its capital to the next word
    comma_at: int | None = None  # the word whose comma a filler took ("I, um, ran")...
    for w in words:
        if w["filler"]:
            if out and w["text"].endswith(",") and out[-1]["text"].endswith(","):
                out[-1] = {**out[-1], "text": out[-1]["text"][:-1]}
                comma_at = len(out) - 1
            elif out and w["text"].endswith((".", "!", "?")) and not out[-1]["text"].endswith((".", "!", "?")):
                out[-1] = {**out[-1], "text": out[-1]["text"].rstrip(",;:") + w["text"][-1]}  # "held, uh." ends
            opens = not out or out[-1]["text"].endswith((".", "!", "?"))
            capital = capital or opens  # "um, last year…" opening the answer left it in lower case
            continue
        if capital and w["text"][:1].islower():
            w = {**w, "text": w["text"][:1].upper() + w["text"][1:]}
        if comma_at is not None and _CLAUSE_OPENER.match(w["text"]):  # ...gives it back between clauses:
            out[comma_at] = {**out[comma_at], "text": out[comma_at]["text"] + ","}  # "replica, um, I added"
        capital, comma_at = False, None
        out.append(w)
    return out


# A word that opens a clause of its own: a comma before a filler stays when one follows it.
_CLAUSE_OPENER = re.compile(r"(?i)(?:i|we|they|he|she|you|and|but|so|then)\b")


def merge_fragments(words) -> tuple["Word", ...]:
    """Glue the recogniser's word pieces into the words a reader sees.

    Whisper times "0.2%" as three words ("0", ".2", "%") and "out-of" as two; counted
    apart they inflate the pace and split a number from its unit.
    """
    out: list[Word] = []
    for w in words:
        text = w.text.strip()
        if out and text and _continues(out[-1].text, text):
            prev = out[-1]
            out[-1] = Word(prev.text + text, prev.start, max(prev.end, w.end), min(prev.probability, w.probability))
        elif text:
            out.append(replace(w, text=text))
    return tuple(out)


@dataclass(frozen=True)
class Word:
    """One recognised word.

    Attributes:
        text: the word as written by the recogniser, punctuation attached ("so,").
        start: start time in seconds from the start of the audio.
        end: end time in seconds.
        probability: the recogniser's confidence, 0..1 (1.0 for typed text).
    """

    text: str
    start: float
    end: float
    probability: float = 1.0

    @property
    def norm(self) -> str:
        """Lower case, without surrounding punctuation ("So," -> "so")."""
        return _EDGE_PUNCT.sub("", self.text.strip().lower())


@dataclass(frozen=True)
class Segment:
    """A stretch of words the recogniser decoded together (roughly a sentence)."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...]
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0


@dataclass(frozen=True)
class Transcript:
    """A transcribed answer.

    Attributes:
        segments: decoded segments in time order.
        duration_s: length of the audio the transcript covers.
        language: language code the model decoded in.
        heard: (code, probability) of another language Whisper heard as the likeliest in the
            first window, or None (it heard ``language``, or was not asked).
    """

    segments: tuple[Segment, ...]
    duration_s: float
    language: str = "en"
    heard: tuple[str, float] | None = None

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(w for s in self.segments for w in s.words)

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    def shifted(self, offset: float) -> "Transcript":
        """The same transcript with every time moved by ``offset`` seconds."""
        segments = tuple(
            replace(seg, start=seg.start + offset, end=seg.end + offset,
                    words=tuple(replace(w, start=w.start + offset, end=w.end + offset) for w in seg.words))
            for seg in self.segments
        )
        return replace(self, segments=segments)

    def without(self, drop: set[int]) -> "Transcript":
        """The transcript with the words at these indexes (of :attr:`words`) left out; a segment
        that loses words has its text written again from the ones left, one that loses all goes."""
        segments, first = [], 0
        for seg in self.segments:
            keep = tuple(w for i, w in enumerate(seg.words, first) if i not in drop)
            first += len(seg.words)
            if len(keep) == len(seg.words):
                segments.append(seg)
            elif keep:
                segments.append(replace(seg, words=keep, text=join_words(w.text for w in keep),
                                        start=min(seg.start, keep[0].start), end=keep[-1].end))
        return replace(self, segments=tuple(segments))

    @classmethod
    def from_words(cls, words: list[Word] | tuple[Word, ...], duration_s: float) -> "Transcript":
        """A transcript of one segment holding ``words`` (used for typed text and tests)."""
        words = tuple(words)
        if not words:
            return cls(segments=(), duration_s=duration_s)
        text = " ".join(w.text.strip() for w in words)
        seg = Segment(start=words[0].start, end=words[-1].end, text=text, words=words)
        return cls(segments=(seg,), duration_s=duration_s)


@dataclass(frozen=True)
class Filler:
    """One filler.

    Attributes:
        text: the filler as spoken ("um", "you know").
        start: start time in seconds.
        end: end time in seconds.
        kind: ``filled_pause`` or ``discourse``.
        source: ``transcript`` (the recogniser wrote it) or ``audio`` (a voiced
            hesitation in a gap the recogniser left).
        word_index: index of its first word in the word list (-1 for ``audio``).
    """

    text: str
    start: float
    end: float
    kind: str
    source: str = "transcript"
    word_index: int = -1


@dataclass(frozen=True)
class Repetition:
    """A repeated word or restarted phrase ("I I", "we were, we were")."""

    text: str
    start: float
    end: float
