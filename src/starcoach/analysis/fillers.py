"""Filler words: which recognised words are hesitations rather than content.

Two kinds:

* **filled pauses** (um, uh, er, ah, hmm, erm and their spellings) are fillers
  wherever they occur;
* **discourse fillers** (like, you know, I mean, basically, actually, literally,
  sort of, kind of, clause-initial so) are fillers only in filler use. "I like",
  "looks like", "would like", "felt like a", "kind of tool" are content. The rules
  below look at the neighbouring words and the recogniser's punctuation; where they
  cannot tell, they say "not a filler", so counts err low rather than accuse a
  speaker of a habit they do not have.

Also: immediate repetitions and restarts ("I I", "we we decided", "I was, I was").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..domain.transcript import Filler, Repetition, Word
from ..domain.vocab import DISCOURSE, FILLED, NUMBER_WORDS, SENTENCE_ADVERB_FILLERS, alternatives, is_filled_pause


# Words after which "like" is a verb or preposition of comparison, not a filler.
_LIKE_CONTENT_BEFORE = frozenset(
    """look looks looked looking seem seems seemed seeming feel feels felt feeling sound
    sounds sounded sounding smell smells smelled taste tastes tasted would 'd i you we they
    he she people don't didn't doesn't do did does really not just more much less nothing
    something anything everything exactly things stuff tools ones one "s "re is was
    would've might wouldn't what whatever""".split()
)
# Words after which a "like" starting a comparison or example is filler-like when
# the recogniser also set it off with commas, or when a quantity follows.
_LIKE_QUANTITY_NEXT = re.compile(
    r"^(?:\d[\d.,%$]*|\$\d.*|a|an|one|a?\s?couple|several|few|"
    + alternatives(NUMBER_WORDS) + r")$"
)
# "you know" followed by one of these is a real clause ("you know what happened").
_KNOW_COMPLEMENT = frozenset(
    "what how that the a an why where when who whom whether if about him her them it this these those his "
    "their your my our me us everything anything something nothing".split()
)
# "you know" preceded by these is a real question or clause ("do you know", "as you know").
_KNOW_CONTENT_BEFORE = frozenset("do did don't didn't if as would will could can what whether let".split())
# "I mean" preceded by these is content ("what I mean is", "do I mean").
_MEAN_CONTENT_BEFORE = frozenset("what do did if when that".split())
_MEAN_CONTENT_NEXT = frozenset("it that to what this is was".split())
# Determiners before "kind of"/"sort of" make them nouns ("a kind of tool").
KIND_CONTENT_BEFORE = frozenset(
    "a an the this that these those what which some any every one same different other another new "
    "first last only this".split()
)


def find_fillers(words: tuple[Word, ...] | list[Word]) -> list[Filler]:
    """Find filled pauses and discourse fillers among recognised words.

    Args:
        words: words in time order, punctuation attached as the recogniser wrote it.

    Returns:
        Fillers in time order; a two-word filler spans both words.
    """
    words = list(words)
    norms = [w.norm for w in words]
    out: list[Filler] = []
    i = 0
    while i < len(words):
        n = norms[i]
        if is_filled_pause(n):
            out.append(Filler(n, words[i].start, words[i].end, FILLED, word_index=i))
            i += 1
            continue
        span = _discourse_span(words, norms, i)
        if span:
            text = " ".join(norms[i : i + span])
            if text == "i mean":
                text = "I mean"
            out.append(Filler(text, words[i].start, words[i + span - 1].end, DISCOURSE, word_index=i))
            i += span
            continue
        i += 1
    return out


def filler_word_indexes(fillers: list[Filler] | tuple[Filler, ...]) -> frozenset[int]:
    """Indexes of the words that fillers found in the transcript are made of."""
    out: set[int] = set()
    for f in fillers:
        if f.word_index >= 0:
            out.update(range(f.word_index, f.word_index + len(f.text.split())))
    return frozenset(out)


def find_repetitions(words: tuple[Word, ...] | list[Word], fillers: list[Filler]) -> list[Repetition]:
    """Immediate repeats of one or two words, ignoring fillers between them.

    Numbers and deliberate doublings ("very very", "had had", "that that") are not
    counted.
    """
    skip = filler_word_indexes(fillers)
    kept = [(i, w) for i, w in enumerate(words) if i not in skip and w.norm]
    out: list[Repetition] = []
    j = 0
    while j < len(kept):
        for size in (2, 1):
            if j + 2 * size > len(kept):
                continue
            first = [w.norm for _, w in kept[j : j + size]]
            second = [w.norm for _, w in kept[j + size : j + 2 * size]]
            if first == second and not _deliberate_double(first):
                out.append(Repetition(" ".join(first), kept[j][1].start, kept[j + size - 1][1].end))
                j += size
                break
        else:
            j += 1
    return out


def _deliberate_double(tokens: list[str]) -> bool:
    return len(tokens) == 1 and (tokens[0] in {"very", "had", "that", "is", "really", "bye", "no", "so", "ha"}
                                 or tokens[0][:1].isdigit())


def _discourse_span(words: list[Word], norms: list[str], i: int) -> int:
    """Length in words of a discourse filler starting at ``i``, or 0."""
    n = norms[i]
    prev = _prev_content(norms, i)
    nxt = norms[i + 1] if i + 1 < len(norms) else ""
    comma_before = i == 0 or _ends_clause(words[i - 1].text)
    comma_after = _ends_clause(words[i].text)
    sentence_start = i == 0 or _ends_sentence(words[i - 1].text)

    if n == "like":
        if prev == "like":  # "like, like" - the second is a stumble
            return 1
        if prev in _LIKE_CONTENT_BEFORE and not comma_before:
            return 0
        if comma_before and comma_after:
            return 1
        if comma_after and sentence_start:
            return 1
        if (comma_before or prev in {"and", "or", "but"}) and _bare_word(words, i + 1):
            # "engagement, like metrics": an example list starts with an article or
            # a name ("tools, like the profiler", "like Kafka"), a filler does not.
            return 1
        if _LIKE_QUANTITY_NEXT.match(nxt) and prev in {"and", "or", "but", "so", "with", "within", "under",
                                                         "over", "for", "about", "around", "in", "at",
                                                         "took", "takes", "take", "had", "have", "was",
                                                         "were", "is", "are", "be", "been", "by", "of"}:
            return 1
        return 0
    if n == "you" and nxt == "know" and i + 1 < len(words):
        after = norms[i + 2] if i + 2 < len(norms) else ""
        if prev in _KNOW_CONTENT_BEFORE:
            return 0
        if _ends_clause(words[i + 1].text) or i + 2 >= len(words):
            return 2
        if after in _KNOW_COMPLEMENT:
            return 0
        return 2 if comma_before or prev else 0
    if n == "i" and nxt == "mean" and i + 1 < len(words):
        after = norms[i + 2] if i + 2 < len(norms) else ""
        if prev in _MEAN_CONTENT_BEFORE:
            return 0
        if _ends_clause(words[i + 1].text):
            return 2
        if after in _MEAN_CONTENT_NEXT:
            return 0
        return 2 if comma_before else 0
    if n in ("kind", "sort") and nxt == "of":
        if prev in KIND_CONTENT_BEFORE:
            return 0
        after = norms[i + 2] if i + 2 < len(norms) else ""
        return 2 if after and not after[:1].isdigit() and prev else 0
    if n in SENTENCE_ADVERB_FILLERS:
        return 1 if (comma_after and (comma_before or sentence_start)) else 0
    if n == "so":
        # clause-initial "so" used as a run-up: "So, um, ..." / "So, we ..." / "..., so, ..."
        if (sentence_start or comma_before) and (comma_after or is_filled_pause(nxt)):
            return 1
        return 0
    return 0


_DETERMINERS = frozenset("a an the this that these those my our your his her their its some any every each "
                         "what which".split())


def _bare_word(words: list[Word], j: int) -> bool:
    """True when word ``j`` is a lower-case word that is not a determiner or pronoun."""
    if j >= len(words):
        return False
    raw = words[j].text.strip()
    norm = words[j].norm
    return bool(norm) and raw[:1].islower() and norm not in _DETERMINERS and norm not in {
        "i", "you", "he", "she", "it", "we", "they", "me", "him", "us", "them", "to", "that", "when", "if"}


def _prev_content(norms: list[str], i: int) -> str:
    """The previous word that is not itself a filled pause."""
    j = i - 1
    while j >= 0 and is_filled_pause(norms[j]):
        j -= 1
    return norms[j] if j >= 0 else ""


def _ends_clause(text: str) -> bool:
    return text.rstrip().endswith((",", ";", ":", ".", "?", "!", "—", "-", "…"))


def _ends_sentence(text: str) -> bool:
    return text.rstrip().endswith((".", "?", "!"))


def only_filled_pauses(words: Sequence[Word]) -> bool:
    """Whether WORDS, some at least, are all filled pauses: no answer. Loud noise alone came back as
    "ah." or "Uh, uh." (an audit: 20 s of pink noise at -20 dBFS, "Fillers 1 (172.4/min)"; 30 s of
    each kind at -25 dBFS had reached no word); a take of "um" alone tells nothing either."""
    return bool(words) and all(is_filled_pause(w.norm) for w in words)


def unsaid_filled_pauses(words: Sequence[Word], counted: Sequence[Filler]) -> set[int]:
    """Indexes of the filled-pause WORDS no COUNTED filler stands for: never said apart from one
    that is counted. Laid over no speech (the filler prompt read back at the end of a take, "Um,
    uh, um, er, ah.", or a loop of "uh, uh, uh" of no length), or one hesitation written twice.
    The transcript leaves them out too: it showed them, exported them, put them in word diffs,
    and stretched the speaking span to them."""
    kept = filler_word_indexes(tuple(counted))
    return {i for i, w in enumerate(words) if is_filled_pause(w.norm) and i not in kept}
