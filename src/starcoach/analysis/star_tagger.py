"""The learned STAR sentence tagger: features, a linear model, an order model.

Each sentence becomes hashed word 1-2-grams, character 3-4-grams and named cues (tense,
I/we, modals, numbers, discourse markers); a multinomial logistic regression (trained by
``training/train_star.py``) gives p(Situation, Task, Action, Result, Learning). No feature
says where a sentence sits: that teaches "first sentence = Situation" and "finds" a
Situation that was never told.

An order model (a five-state HMM: stories go S -> T -> A -> R -> L, returns allowed) turns
the per-sentence probabilities into posteriors that use the story's shape. A second,
story-level stage decides presence: per part, a small logistic regression over summaries of
the whole answer's probabilities and posteriors (best, top-2 mean, mean, argmax share, for
every part) gives p(part present); that probability is the part's confidence.

Inference is numpy only; the weights ship as ``data/star_tagger.npz``.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ..domain.vocab import FILLED_PAUSE_SPELLINGS, I_WORDS, NUMBER_WORDS, PARTS, WE_WORDS

N_HASH = 1 << 16  # hashed n-gram slots; the named cues follow them
WEIGHTS_FILE = "star_tagger.npz"
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
                            r"if i (?:did|had|could|had to do|could do|were to do) (?:(?:it|this|that) )?(?:again|over)",
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
              "time unit", "i", "we", "third person", "present be", "past be", "short", "long", "goal verb first") + tuple(
    name for name, _ in _CUES) + ("i/we + past action", "goal, no action")
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


# --- the model ------------------------------------------------------------------

@dataclass(frozen=True)
class TaggerModel:
    """Trained parameters (see ``training/train_star.py`` for how each is fitted).

    Attributes:
        weights: (N_FEATURES, 5) logistic-regression weights; ``bias`` its (5,) intercepts.
        prior: (5,) class shares the weighted loss saw; emissions are p(part | sentence) / prior.
        start, trans: (5,) and (5, 5) log-probabilities of the order model.
        thresholds: (5,) p(present) a part needs (no presence stage: best posterior needed).
        hint_bonus: log-odds added to a part named by the writer's own label (evidence, not an order).
        meta: training settings and validation figures.
        presence_w, presence_b: (F, 5), (5,) presence model over :func:`presence_features`.
    """

    weights: np.ndarray
    bias: np.ndarray
    prior: np.ndarray
    start: np.ndarray
    trans: np.ndarray
    thresholds: np.ndarray
    hint_bonus: float
    meta: dict
    presence_w: np.ndarray | None = None
    presence_b: np.ndarray | None = None

    def sentence_probs(self, texts: list[str], hints: list[str | None] | None = None) -> np.ndarray:
        """p(part | sentence, its neighbours' words) for each sentence, (n, 5)."""
        n = len(texts)
        if n == 0:
            return np.zeros((0, len(PARTS)))
        rows, cols, vals = batch_features(texts)
        logits = np.zeros((n, len(PARTS)), dtype=np.float64)
        contrib = self.weights[cols].astype(np.float64) * vals[:, None]
        for p in range(len(PARTS)):
            logits[:, p] = np.bincount(rows, weights=contrib[:, p], minlength=n)
        logits += self.bias
        for k, h in enumerate(hints or []):
            if h in PARTS:
                logits[k, PARTS.index(h)] += self.hint_bonus
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def posteriors(self, probs: np.ndarray) -> np.ndarray:
        """Order-model posteriors p(part at sentence k | whole answer), (n, 5)."""
        return forward_backward(emissions(probs, self.prior), self.start, self.trans)


def presence_features(probs: np.ndarray, post: np.ndarray) -> np.ndarray:
    """Story-level summaries for the presence stage, (F,): per part (from the order-model
    posteriors) the logit of the best, the top-2 mean, the mean, the share of sentences whose
    best part it is; (from the sentence probabilities) the logit of the best and the mean;
    then log(1 + number of sentences). Nothing here says where a sentence sits."""
    n = len(post)
    if n == 0:
        return np.zeros(6 * len(PARTS) + 1)
    top2 = np.sort(post, axis=0)[-2:].mean(axis=0) if n > 1 else post[0]
    arg = np.bincount(post.argmax(axis=1), minlength=len(PARTS)) / n

    best, raw = np.clip(post.max(axis=0), 1e-4, 1 - 1e-4), np.clip(probs.max(axis=0), 1e-4, 1 - 1e-4)
    return np.concatenate([np.log(best / (1 - best)), top2, post.mean(axis=0), arg,
                           np.log(raw / (1 - raw)), probs.mean(axis=0), [np.log1p(n)]])


def presence(model: TaggerModel, probs: np.ndarray, post: np.ndarray) -> np.ndarray:
    """Per part, p(present) from the presence stage, or the best posterior without one, (5,)."""
    if not len(post):
        return np.zeros(len(PARTS))
    if model.presence_w is None or model.presence_b is None:
        return post.max(axis=0)
    z = presence_features(probs, post) @ model.presence_w + model.presence_b
    return 1.0 / (1.0 + np.exp(-z))


def emissions(probs: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Scaled log-likelihoods: log p(part | x) - log p(part)."""
    return np.log(np.clip(probs, 1e-9, 1.0)) - np.log(prior)


def forward_backward(emit: np.ndarray, start: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """Posterior state marginals of an HMM given log emissions, in log space."""
    n = len(emit)
    if n == 0:
        return np.zeros((0, len(start)))
    fwd = np.empty_like(emit)
    bwd = np.zeros_like(emit)
    fwd[0] = start + emit[0]
    for k in range(1, n):
        fwd[k] = emit[k] + _logsumexp(fwd[k - 1][:, None] + trans, axis=0)
    for k in range(n - 2, -1, -1):
        bwd[k] = _logsumexp(trans + (emit[k + 1] + bwd[k + 1])[None, :], axis=1)
    post = fwd + bwd
    post -= post.max(axis=1, keepdims=True)
    post = np.exp(post)
    return post / post.sum(axis=1, keepdims=True)


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    m = a.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))).squeeze(axis)


# --- the weights file -----------------------------------------------------------

def save_model(model: TaggerModel, path) -> None:
    """Write the model as an ``.npz`` whose bytes depend only on the values.

    ``np.savez`` stamps each member with the current time; this writes fixed stamps so
    that retraining reproduces the committed file bit for bit.
    """
    arrays: dict[str, np.ndarray] = {
        "weights": model.weights.astype(np.float32), "bias": model.bias, "prior": model.prior, "start": model.start,
        "trans": model.trans, "thresholds": model.thresholds, "hint_bonus": np.array(model.hint_bonus)}
    if model.presence_w is not None and model.presence_b is not None:
        arrays.update(presence_w=model.presence_w, presence_b=model.presence_b)
    arrays["meta"] = np.frombuffer(json.dumps(model.meta, sort_keys=True).encode(), dtype=np.uint8)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            arr = np.asarray(arr) if np.ndim(arr) == 0 else np.ascontiguousarray(arr)
            np.lib.format.write_array(buf, arr, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


def load_model(path=None) -> TaggerModel:
    """Read a model file (the packaged one if ``path`` is None)."""
    if path is None:
        return _packaged()
    with np.load(path, allow_pickle=False) as z:
        return TaggerModel(weights=z["weights"], bias=z["bias"].astype(np.float64), prior=z["prior"],
                           start=z["start"], trans=z["trans"], thresholds=z["thresholds"],
                           hint_bonus=float(z["hint_bonus"].ravel()[0]), meta=json.loads(bytes(z["meta"]).decode()),
                           presence_w=z["presence_w"] if "presence_w" in z else None,
                           presence_b=z["presence_b"] if "presence_b" in z else None)


@lru_cache(maxsize=1)
def _packaged() -> TaggerModel:
    with resources.as_file(resources.files("starcoach") / "data" / WEIGHTS_FILE) as path:
        return load_model(path)


# --- tagging an answer ----------------------------------------------------------

@dataclass(frozen=True)
class Tagging:
    """What the tagger says about one answer.

    Attributes:
        probs: (n, 5) p(part | sentence) from each sentence alone.
        posteriors: (n, 5) the same after the order model.
        labels: each sentence's part: its most probable one among the parts judged present.
        confidence: per part, p(present) from the presence stage (0..1).
        present: per part, whether its confidence reaches the part's threshold.
    """

    probs: np.ndarray
    posteriors: np.ndarray
    labels: tuple[str, ...]
    confidence: dict[str, float]
    present: dict[str, bool]


def tag(model: TaggerModel, texts: list[str], hints: list[str | None] | None = None) -> Tagging:
    """Label an answer's sentences (in order) and decide which parts it has; ``hints``: per
    sentence, a part the writer's own label named, or None."""
    probs = model.sentence_probs(texts, hints)
    post = model.posteriors(probs)
    n = len(texts)
    score = presence(model, probs, post)
    present = score >= model.thresholds
    if n and not present.any():
        present[int(score.argmax())] = True  # every sentence needs some label
    # Each sentence takes its most probable part among those present; a present part that
    # is no sentence's first choice takes its own best sentence if that leaves the other
    # part with a sentence.
    masked = np.where(present, post, -1.0)
    labels = masked.argmax(axis=1) if n else np.zeros(0, dtype=np.int64)
    for k in np.flatnonzero(present):
        if n and not (labels == k).any():
            best = int(post[:, k].argmax())
            if (labels == labels[best]).sum() > 1:
                labels[best] = k
    return Tagging(probs=probs, posteriors=post, labels=tuple(PARTS[int(k)] for k in labels),
                   confidence={p: float(score[k]) for k, p in enumerate(PARTS)},
                   present={p: bool(present[k]) for k, p in enumerate(PARTS)})


def clear_caches() -> None:
    """Forget the memoised tokens, cues and hash slots (for honest timing in the benchmark)."""
    for f in (tokens, _cue_values, _slot, _char_slots, _context_slots):
        f.cache_clear()
