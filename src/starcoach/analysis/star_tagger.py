"""The learned STAR sentence tagger: a linear model, an order model, a presence stage.

Each sentence becomes hashed word 1-2-grams, character 3-4-grams and named cues
(:mod:`.star_features`); a multinomial logistic regression (trained by
``training/train_star.py``) gives p(Situation, Task, Action, Result, Learning). No feature
says where a sentence sits: that teaches "first sentence = Situation" and "finds" a
Situation that was never told.

An order model (a five-state HMM: stories go S -> T -> A -> R -> L, returns allowed) turns
the per-sentence probabilities into posteriors that use the story's shape. It is a mixture:
the order counted in the training stories and, with weight ``free_order``, no order at all,
each weighted by how well it explains the answer, so a short answer told Result first, or
with a part skipped, is not forced into the usual shape (past a handful of sentences the
counted order decides: the free one falls behind with every sentence). A second,
story-level stage decides presence: per part, a small logistic regression over summaries of
the whole answer's probabilities and posteriors (best, top-2 mean, mean, argmax share, for
every part) gives p(part present); that probability is the part's confidence.

Inference is numpy only; the weights ship as ``data/star_tagger.npz``.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ..domain.vocab import PARTS
from .star_features import batch_features
from .star_report import StarOptions

WEIGHTS_FILE = "star_tagger.npz"


# --- the model ------------------------------------------------------------------

@dataclass(frozen=True)
class TaggerModel:
    """Trained parameters (see ``training/train_star.py`` for how each is fitted).

    Attributes:
        weights: (``star_features.N_FEATURES``, 5) logistic-regression weights; ``bias`` its (5,) intercepts.
        prior: (5,) class shares the weighted loss saw; emissions are p(part | sentence) / prior.
        start, trans: (5,) and (5, 5) log-probabilities of the order model.
        thresholds: (5,) p(present) a part needs (no presence stage: best posterior needed).
        hint_bonus: log-odds added to a part named by the writer's own label (evidence, not an order).
        meta: training settings and validation figures.
        presence_w, presence_b: (F, 5), (5,) presence model over :func:`presence_features`.
        free_order: prior weight of the order model's second component, in which any part
            may open the answer or follow any other (0: the counted order alone).
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
    free_order: float = 0.0

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
        """Order-model posteriors p(part at sentence k | whole answer), (n, 5): the two
        components' posteriors, each weighted by its prior weight times its likelihood."""
        emit = emissions(probs, self.prior)
        counted, fit_counted = forward_backward(emit, self.start, self.trans)
        if not self.free_order or not len(probs):
            return counted
        uniform = np.full(len(PARTS), -np.log(len(PARTS)))
        free, fit_free = forward_backward(emit, uniform, np.tile(uniform, (len(PARTS), 1)))
        a, b = np.log1p(-self.free_order) + fit_counted, np.log(self.free_order) + fit_free
        w = 1.0 / (1.0 + np.exp(np.clip(b - a, -700.0, 700.0)))  # the counted order's share
        return w * counted + (1.0 - w) * free


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


def forward_backward(emit: np.ndarray, start: np.ndarray, trans: np.ndarray) -> tuple[np.ndarray, float]:
    """Posterior state marginals of an HMM given log emissions (computed in log space), and
    the log-likelihood of the emissions under it."""
    n = len(emit)
    if n == 0:
        return np.zeros((0, len(start))), 0.0
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
    return post / post.sum(axis=1, keepdims=True), float(_logsumexp(fwd[-1], axis=0))


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
        "trans": model.trans, "thresholds": model.thresholds, "hint_bonus": np.array(model.hint_bonus),
        "free_order": np.array(model.free_order)}
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
        if "free_order" in z and not 0.0 <= float(z["free_order"].ravel()[0]) < 1.0:
            raise ValueError(f"{path}: free_order must be in [0, 1)")
        return TaggerModel(weights=z["weights"], bias=z["bias"].astype(np.float64), prior=z["prior"],
                           start=z["start"], trans=z["trans"], thresholds=z["thresholds"],
                           hint_bonus=float(z["hint_bonus"].ravel()[0]), meta=json.loads(bytes(z["meta"]).decode()),
                           presence_w=z["presence_w"] if "presence_w" in z else None,
                           presence_b=z["presence_b"] if "presence_b" in z else None,
                           free_order=float(z["free_order"].ravel()[0]) if "free_order" in z else 0.0)


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
        present: per part, whether its confidence reaches the part's threshold, or what a
            second opinion settled (:class:`SecondOpinion`).
    """

    probs: np.ndarray
    posteriors: np.ndarray
    labels: tuple[str, ...]
    confidence: dict[str, float]
    present: dict[str, bool]


@dataclass(frozen=True)
class SecondOpinion:
    """Another labeller that settles the parts the tagger is unsure of: those whose confidence
    is within ``margin`` of the threshold. An unsure part is present exactly when the opinion
    labels some sentence with it, in the direction the opinion is trusted for.

    Attributes:
        parts: the parts it may second (judged absent, unsure: present if it finds them).
        margin: how far from its threshold a part's confidence may be and still be unsure.
        labels: its part for each of the answer's sentences.
        vetoes: the parts it may veto (judged present, unsure: absent if it does not find them).
    """

    parts: frozenset[str]
    margin: float
    labels: Callable[[list[str]], list[str]]
    vetoes: frozenset[str] = frozenset()


# See :func:`tag`; the setting lives with the checker's others (config.py reads [star] into them,
# and loading them must not load numpy and the tagger at every command's start).
PRESENCE_FLOOR: float = StarOptions.presence_floor


def tag(model: TaggerModel, texts: list[str], hints: list[str | None] | None = None, *,
        second: SecondOpinion | None = None, floor: float = PRESENCE_FLOOR) -> Tagging:
    """Label an answer's sentences (in order) and decide which parts it has; ``hints``: per
    sentence, a part the writer's own label named, or None. ``second``: asked only when a
    part it may second or veto is unsure (see :class:`SecondOpinion`). ``floor``: a part is
    judged present only if some sentence reads as it with at least this probability; under it,
    its confidence is that best sentence's probability (the story-level summaries can otherwise
    call present a part no sentence reads as: a lesson in an answer whose Result is most of it)."""
    probs = model.sentence_probs(texts, hints)
    post = model.posteriors(probs)
    n = len(texts)
    score = presence(model, probs, post)
    if n:  # a part no sentence reads as is not there, whatever the summaries say
        best = probs.max(axis=0)
        score = np.where(best < floor, np.minimum(score, best), score)
    present = score >= model.thresholds
    opinion: list[int] = []  # the second opinion's label of each sentence, when it was asked
    settled: dict[int, bool] = {}  # part -> present, for the parts the opinion changed
    if second is not None:
        low, high = model.thresholds - second.margin, model.thresholds + second.margin
        unsure = [i for i, p in enumerate(PARTS)
                  if (p in second.parts and not present[i] and score[i] >= low[i])
                  or (p in second.vetoes and present[i] and score[i] < high[i])]
        if unsure:
            opinion = [PARTS.index(label) for label in second.labels(texts)]
            for i in unsure:
                if present[i] != (i in opinion):
                    settled[i] = present[i] = i in opinion
    if n and not present.any():  # every sentence needs some label; not a part the opinion vetoed
        present[int(np.where([settled.get(i, True) for i in range(len(PARTS))], score, -1.0).argmax())] = True
    # Each sentence takes its most probable part among those present; a present part that
    # is no sentence's first choice takes its own best sentence if that leaves the other
    # part with a sentence, the strongest claim first: how much that sentence reads as the
    # part on its own (not its posterior, which the order model squashes), so a part that
    # reads weakly everywhere does not take the sentence another reads as more. Where
    # the second opinion changed a part, the sentences follow the opinion: a part it seconded
    # takes a sentence it labelled so, and the sentences that read as a part it vetoed take
    # its label for them, if that part is present.
    masked = np.where(present, post, -1.0)
    labels = masked.argmax(axis=1) if n else np.zeros(0, dtype=np.int64)
    for i, kept in settled.items():
        for j in range(n):
            if not kept and post[j].argmax() == i and present[opinion[j]]:
                labels[j] = opinion[j]
            elif kept and opinion[j] == i and not (labels == i).any() and (labels == labels[j]).sum() > 1:
                labels[j] = i
    best_of = post.argmax(axis=0) if n else np.zeros(len(PARTS), dtype=np.int64)  # each part's best sentence
    for k in sorted(np.flatnonzero(present), key=lambda k: -probs[best_of[k], k]) if n else []:
        best = int(best_of[k])
        if not (labels == k).any() and (labels == labels[best]).sum() > 1:
            labels[best] = k
    # A part still no sentence's label is not shown as there (a report could not point to
    # it), whoever judged it present: absent, and its confidence no more than its best
    # sentence's own probability, so the coach calls it unclear (quoting that sentence) only
    # when that sentence reads somewhat as it, and missing otherwise.
    for k in np.flatnonzero(present):
        if n and not (labels == k).any():
            present[k] = False
            score[k] = min(score[k], probs[:, k].max())
    return Tagging(probs=probs, posteriors=post, labels=tuple(PARTS[int(k)] for k in labels),
                   confidence={p: float(score[k]) for k, p in enumerate(PARTS)},
                   present={p: bool(present[k]) for k, p in enumerate(PARTS)})
