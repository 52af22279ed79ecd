"""Features of the learned STAR tagger: a sentence as hashed n-grams plus named cues.

Each sentence becomes hashed word 1-2-grams, character 3-4-grams and named cues (tense,
I/we, modals, numbers, a goal verb first, discourse markers), and the words of the sentences
before and after it as context (:func:`batch_features`). Nothing here says where a sentence
sits. The model over these features is in :mod:`.star_tagger`; changing anything here
changes what the committed weights mean, so ``make train-star`` has to be run after it.
"""

from __future__ import annotations

import re
import zlib
from functools import lru_cache

import numpy as np

from ..domain.vocab import FILLED_PAUSE_SPELLINGS, I_WORDS, NUMBER_WORDS, WE_WORDS

N_HASH = 1 << 16  # hashed n-gram slots; the named cues follow them
CONTEXT_WEIGHT = 0.5  # length of each neighbour's word vector, beside the sentence's own (1 + 0.5); docs/star.md

_FILLERS = FILLED_PAUSE_SPELLINGS
_IRREGULAR_PAST = frozenset(
    """built ran wrote made led took found chose began drove spoke met sent brought got gave held kept put sought
    taught told thought won did went rebuilt rewrote split cut dug sat stood paid sold bought drew caught knew
    became grew fell rose saw felt left lost meant heard understood overcame undertook""".split())
_PAST_BE = frozenset("was were had wasn't weren't hadn't".split())
_PRESENT_BE = frozenset("is are am isn't aren't".split())
# The pronoun cues the committed weights were trained with: the shared lists less "mine", "ours".
_I = I_WORDS - {"mine"}
_WE = WE_WORDS - {"ours"}
_THEY = frozenset("they their them he she his her team company customers users client clients".split())
_MODAL = frozenset("would i'd we'd will i'll we'll could should might".split())
_NOT_ACTION = frozenset("was were had needed wanted asked tasked assigned expected supposed required".split())
_GENERIC = frozenset("usually typically generally normally always often tend tends whenever".split())
# Verbs a goal opens on when notes drop its lead-in ("Protect downstream users", "Cut cloud
# costs"); only verbs that rarely open a sentence as a noun ("Support tickets doubled", "Lead
# time fell" are why support, lead, design, plan, test, release and change are not here).
_GOAL_VERBS = frozenset(
    "improve reduce cut increase protect deliver build migrate fix ensure determine launch create get bring make keep "
    "stop prevent resolve restore ship align scale automate streamline consolidate replace rebuild redesign find "
    "identify understand convince onboard hire mentor grow raise lower speed unblock reconcile establish standardize "
    "standardise modernize modernise simplify eliminate minimize minimise maximize maximise meet hit achieve recover "
    "stabilize stabilise secure enable help persuade negotiate coordinate organize organise define deploy implement "
    "introduce move turn win retain save free clean prioritize prioritise investigate diagnose rewrite refactor "
    "upgrade integrate unify communicate decide choose evaluate assess validate verify audit track measure "
    "deprecate sunset handle shorten lift boost double halve avoid".split())
_TIME_UNIT = re.compile(r"^(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|quarters?|ms|sprints?)$")


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(patterns) + r")\b")


_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("result phrase", _rx(r"as a result", r"resulted in", r"led to", r"in the end", r"ultimately", r"by the end",
                          r"the (?:result|outcome|impact) (?:was|is)", r"which (?:cut|reduced|saved|increased)",
                          r"thanks to", r"since then")),
    ("learning phrase", _rx(r"i (?:have )?(?:learned|learnt|realized|realised)", r"taught (?:me|us)", r"lessons?",
                            r"looking back", r"in hindsight", r"next time", r"takeaway", r"i should have",
                            r"(?:highlighted|reinforced|showed me) the (?:importance|value|need)",
                            # what a lesson in the users' notes sounds like; rare in the corpus, so it
                            # shares this cue with the lessons the corpus has (docs/star.md)
                            r"if i (?:did|had|could|had to do|could do|were to do) (?:(?:it|this|that) )?"
                            r"(?:again|over)",
                            r"(?:do|done|did) (?:it |things |that |this )?differently", r"going forward",
                            r"i would have")),
    ("task phrase", _rx(r"my (?:task|goal|job|role|responsibility|objective|mission) (?:was|is)",
                        r"i (?:was|were) (?:asked|tasked|responsible|assigned|expected)", r"(?:needed|had) to",
                        r"asked me to", r"the (?:goal|task|objective|challenge) (?:was|is)")),
    ("situation phrase", _rx(r"at my (?:previous|last|current|old|first) (?:job|company|role|team)",
                             r"when i was", r"at the time", r"there (?:was|were)", r"in my (?:previous|last) role",
                             r"(?:ago|last year|last quarter)")),
    ("goal frame", _rx(r"(?:goal|objective|aim|mission|target|mandate|priority|responsibility|job|role|task|"
                       r"challenge|plan|focus) (?:was|were) to", r"(?:wanted|aimed|set out|supposed|expected|required|"
                       r"needed|had) to", r"(?:asked|tasked|charged|assigned|brought in) (?:me |us )?(?:to|for|with)")),
    ("comparison", re.compile(r"\bfrom (?:#num|\$#num)\S* .{0,20}\bto\b|\bby #num ?(?:%|percent)")),
)
_CUE_NAMES = ("past verb first", "i + past", "we + past", "modal", "generic", "number", "percent", "money",
              "time unit", "i", "we", "third person", "present be", "past be", "short", "long",
              "goal verb first") + tuple(name for name, _ in _CUES) + ("i/we + past action", "goal, no action")
N_FEATURES = N_HASH + len(_CUE_NAMES)


# --- features -------------------------------------------------------------------

@lru_cache(maxsize=4096)
def tokens(text: str) -> tuple[str, ...]:
    """Lower-case word tokens of a sentence; fillers dropped, numbers (figures and number words)
    folded to ``#num``."""
    t = text.lower().replace("’", "'").replace("‘", "'")
    out: list[str] = []
    for tok in re.findall(r"[a-z0-9$%#][a-z0-9'$%.,-]*", t):
        tok = tok.strip(".,-'")
        if not tok or tok in _FILLERS:
            continue
        if tok.split("-")[0] in NUMBER_WORDS:  # "four", "twenty-five", "two-week" as "2-week" below
            if not out or out[-1] != "#num":  # "four hundred", "twenty five": one number
                out.append("#num")
            continue
        if re.search(r"\d", tok):
            if tok.startswith("$"):
                out.append("$")
            out.append("#num")
            if tok.endswith("%"):
                out.append("%")
            elif re.search(r"\d(?:k|m|x|ms|s|h)$", tok):
                out.append(re.sub(r".*\d", "", tok))
            continue
        out.append(tok.rstrip("%$") or tok)
        if tok.endswith("%") and len(tok) > 1:
            out.append("%")
    return tuple(out)


def _is_past(tok: str) -> bool:
    return (tok.endswith("ed") and len(tok) > 4) or tok in _IRREGULAR_PAST


@lru_cache(maxsize=4096)
def _cue_values(toks: tuple[str, ...]) -> tuple[float, ...]:
    joined = " ".join(toks)
    first = toks[0] if toks else ""
    pairs = list(zip(toks, toks[1:] + ("",), toks[2:] + ("", "")))
    values = [
        _is_past(first),
        any(a == "i" and (_is_past(b) or _is_past(c)) for a, b, c in pairs),
        any(a == "we" and (_is_past(b) or _is_past(c)) for a, b, c in pairs),
        any(t in _MODAL for t in toks),
        any(t in _GENERIC for t in toks),
        "#num" in toks,
        "%" in toks or "percent" in toks,
        "$" in toks or "dollars" in toks,
        any(_TIME_UNIT.match(t) for t in toks),
        any(t in _I for t in toks),
        any(t in _WE for t in toks),
        any(t in _THEY for t in toks[:4]),
        any(t in _PRESENT_BE for t in toks),
        any(t in _PAST_BE for t in toks),
        len(toks) < 6,
        len(toks) > 25,
        first in _GOAL_VERBS and not any(t in _I or t in _WE for t in toks),  # a goal with no subject
    ] + [bool(rx.search(joined)) for _, rx in _CUES]
    acted = any(a in ("i", "we") and any(_is_past(v) and v not in _NOT_ACTION for v in (b, c)) for a, b, c in pairs)
    values += [acted, bool(values[-2] or values[-4]) and not acted]  # goal frame or task phrase, nothing done
    return tuple(float(v) for v in values)


def named_cues(text: str) -> tuple[str, ...]:
    """The names of the named cues found in a sentence (for explaining a label)."""
    return tuple(name for name, v in zip(_CUE_NAMES, _cue_values(tokens(text))) if v)


@lru_cache(maxsize=1 << 16)
def _slot(gram: str) -> int:
    return zlib.crc32(gram.encode()) & (N_HASH - 1)


@lru_cache(maxsize=1 << 14)
def _char_slots(token: str) -> frozenset[int]:
    padded = f" {token} "
    return frozenset(_slot("c:" + padded[i:i + n]) for n in (3, 4) for i in range(len(padded) - n + 1))


def _sentence_slots(text: str) -> tuple[list[int], list[float]]:
    toks = tokens(text)
    seq = ("<s>",) + toks + ("</s>",)
    words = sorted({_slot("w:" + t) for t in toks} | {_slot(f"b:{a} {b}") for a, b in zip(seq, seq[1:])})
    chars = sorted(set().union(*(_char_slots(t) for t in set(toks)))) if toks else []
    cols = words + chars
    vals = [1.0 / len(words) ** 0.5] * len(words) + ([1.0 / len(chars) ** 0.5] * len(chars) if chars else [])
    for k, v in enumerate(_cue_values(toks)):
        if v:
            cols.append(N_HASH + k)
            vals.append(v)
    return cols, vals


@lru_cache(maxsize=4096)
def _context_slots(text: str, side: str) -> tuple[int, ...]:
    return tuple(sorted({_slot(f"{side}:{t}") for t in tokens(text)}))


def batch_features(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sparse features of an answer's sentences (in order) as (rows, columns, values).

    Each sentence: its word 1-2-grams and character 3-4-grams hashed into ``N_HASH`` slots,
    each group scaled to unit length, then the named cues (0/1). Context: the words of the
    sentence before and after, in their own hash namespaces, each scaled to length
    ``CONTEXT_WEIGHT``; a missing neighbour adds nothing, so position is not a feature.
    A slot hit twice appears twice; the model adds the two.
    """
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    n = len(texts)
    for r, text in enumerate(texts):
        c, v = _sentence_slots(text)
        for side, j in (("p", r - 1), ("n", r + 1)):
            if 0 <= j < n:
                ctx = _context_slots(texts[j], side)
                if ctx:
                    c = c + list(ctx)
                    v = v + [CONTEXT_WEIGHT / len(ctx) ** 0.5] * len(ctx)
        rows += [r] * len(c)
        cols += c
        vals += v
    return (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), np.array(vals, dtype=np.float32))


def clear_caches() -> None:
    """Forget the memoised tokens, cues and hash slots (for honest timing in the benchmark)."""
    for f in (tokens, _cue_values, _slot, _char_slots, _context_slots):
        f.cache_clear()
