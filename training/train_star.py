"""Train the STAR sentence tagger and validate it leave-one-source-out.

    make train-star        (= python training/train_star.py)

1. Every story of ``../shared/star-corpus/stories.jsonl`` is segmented with starcoach's own
   segmenter and rendered three times: as written, transcript-style with the *training*
   augmentation (``star_data.TRAIN_RENDERING``), and notes-style (``star_data.NOTES_TRAIN``:
   some goal lead-ins and opening "I"s cut). The sentence stage learns from all three, the
   presence stage from the first two.
2. Leave-one-source-out (grouped by ``source.repo``): for each repository, the sentence
   model (logistic regression + order model) is fitted on the other 18, each story as
   written and a *shortened* copy of it (every part cut to a few consecutive sentences,
   ``star_data.shortened``); its story-level presence model is fitted on those 18 alone, on
   *out-of-fold* sentence-stage outputs (2 inner folds by repository; whole stories and
   copies with one part removed, of each story and of its shortened copy); then it is scored
   on the held-out repository's stories, whole and with Situation, Task, Action or Result
   removed, as written, as a transcript made with *other* settings (``VALID_RENDERING``) and
   as notes clipped at other rates (``NOTES_VALID``), and again on shortened copies cut
   with another random draw than the training one. The same held-out copies are also scored
   as the app's default judges them (``tagger = "hybrid"``: the rules, never fitted to the
   corpus, settle the parts the tagger is unsure of); printed, not stored with the weights.
3. The shipped sentence model is fitted on all 19 repositories (stories and shortened
   copies); its presence model on the leave-one-source-out sentence-stage outputs (each from
   a model that did not see that repository), full-length and shortened.

The project's own stories in ``training/stories/*.jsonl`` (``--extra``; README there) are
training data only: in every fold's training set, the inner folds and the shipped model's,
and each file a fold of its own for the presence stage's out-of-fold data, but never scored:
every figure printed is about the corpus's sources.

Deterministic: fixed seeds, full-batch optimisation, a fixed-stamp ``.npz`` writer. Run it
single-threaded (the Makefile sets the BLAS thread counts) for bit-identical weights.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import random
import sys
import time
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from star_data import (CORPUS, NOTES_TRAIN, NOTES_VALID, SHORT_MAX, TRAIN_RENDERING,  # noqa: E402
                       VALID_RENDERING, Story, copies, load_stories, render_notes, render_transcript,
                       result_first, shortened, written)
from star_figures import figures, print_table  # noqa: E402

from starcoach.analysis.star_features import N_FEATURES, batch_features  # noqa: E402
from starcoach.analysis.star_learned import rules_opinion  # noqa: E402
from starcoach.analysis.star_report import StarOptions  # noqa: E402
from starcoach.analysis.star_tagger import PARTS, TaggerModel, presence_features, save_model, tag  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "src" / "starcoach" / "data" / "star_tagger.npz"
EXTRA = sorted((Path(__file__).resolve().parent / "stories").glob("*.jsonl"))  # training only (stories/README.md)
K = len(PARTS)
SETTINGS = dict(l2=1e-4, iters=120, lr=0.08, class_power=0.5, hint_bonus=1.5, start_mix=0.5,
                trans_smoothing=1.0, free_order=0.2, inner_folds=2, presence_l2=1e-2,
                presence_class_power=(0.75, 1.5, 1.0, 0.75, 0.75),  # per part, in PARTS order (docs/star.md)
                presence_threshold=0.5, train_kinds=("written", "train", "notes"),
                presence_kinds=("written", "train"),
                short_draw_train=0, short_draw_valid=2)  # the shortened copies training uses, and those it is checked on


# --- data -------------------------------------------------------------------------

def _rng(story_id: str, r) -> random.Random:
    return random.Random(zlib.crc32(story_id.encode()) * 1000 + r.seed)


_FEATURE_CACHE: dict[tuple[str, str], tuple] = {}


def design(keys: list[tuple[str, str]], renders):
    """Stacked features and labels of the rendered stories ``keys`` (features cached per story)."""
    rows, cols, vals, ys = [], [], [], []
    offset = 0
    for key in keys:
        pairs = renders[key]
        if key not in _FEATURE_CACHE:
            _FEATURE_CACHE[key] = batch_features([text for text, _ in pairs])
        r, c, v = _FEATURE_CACHE[key]
        rows.append(r + offset)
        cols.append(c)
        vals.append(v)
        ys += [PARTS.index(lab) for _, lab in pairs]
        offset += len(pairs)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals).astype(np.float32), np.array(ys)


# --- fitting ----------------------------------------------------------------------

def fit_logreg(keys, renders, *, l2, iters, lr, class_power):
    """Multinomial logistic regression, full-batch Adam (deterministic), L2 on the weights.

    Classes are weighted by (share)^-class_power so that the rare Learning and Task count.
    """
    rows, cols, vals, y = design(keys, renders)
    n = len(y)
    used, inv = np.unique(cols, return_inverse=True)
    # Two sorted views of the sparse matrix, so that X @ W and X.T @ G are one reduceat each.
    row_starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    by_col = np.argsort(inv, kind="stable")
    col_starts = np.flatnonzero(np.r_[True, inv[by_col][1:] != inv[by_col][:-1]])
    vals_col, rows_col = vals[by_col][:, None], rows[by_col]
    counts = np.bincount(y, minlength=K).astype(np.float64)
    cw = (counts.sum() / np.maximum(counts, 1) / K) ** class_power
    sw = cw[y] / cw[y].sum()
    onehot = np.eye(K)[y]
    W = np.zeros((len(used), K), dtype=np.float32)  # float32: the sparse products dominate the time
    sw = sw.astype(np.float32)
    onehot = onehot.astype(np.float32)
    b = np.log(np.maximum(counts, 1) / counts.sum())
    mW, vW, mb, vb = np.zeros_like(W), np.zeros_like(W), np.zeros(K), np.zeros(K)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for t in range(1, iters + 1):
        logits = np.add.reduceat(W[inv] * vals[:, None], row_starts, axis=0).astype(np.float64) + b
        logits -= logits.max(axis=1, keepdims=True)
        prob = np.exp(logits)
        prob /= prob.sum(axis=1, keepdims=True)
        G = (prob - onehot) * sw[:, None]
        G = G.astype(np.float32)
        gW = np.add.reduceat(G[rows_col] * vals_col, col_starts, axis=0) + np.float32(2 * l2) * W
        gb = G.sum(axis=0)
        mW = beta1 * mW + (1 - beta1) * gW
        vW = beta2 * vW + (1 - beta2) * gW * gW
        mb = beta1 * mb + (1 - beta1) * gb
        vb = beta2 * vb + (1 - beta2) * gb * gb
        a = lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        W -= (a * mW / (np.sqrt(vW) + eps)).astype(np.float32)
        b -= a * mb / (np.sqrt(vb) + eps)
    full = np.zeros((N_FEATURES, K), dtype=np.float32)
    full[used] = W
    effective = counts * cw  # the class shares the weighted loss saw: the prior its probabilities carry
    return full, b, effective / effective.sum()


def fit_order(sequences: list[list[str]], *, smoothing: float, start_mix: float):
    """Start and transition log-probabilities from label sequences (add-k smoothed).

    The start distribution is mixed with a uniform one: answers that open on the Task or
    the Action are common in speech and in the part-removed copies.
    """
    start = np.full(K, smoothing)
    trans = np.full((K, K), smoothing)
    for seq in sequences:
        idx = [PARTS.index(s) for s in seq]
        if idx:
            start[idx[0]] += 1
        for a, c in zip(idx, idx[1:]):
            trans[a, c] += 1
    start = (1 - start_mix) * start / start.sum() + start_mix / K
    trans = trans / trans.sum(axis=1, keepdims=True)
    return np.log(start), np.log(trans)


def train_keys(stories: list[Story]) -> list[tuple[str, str]]:
    return [(s.id, kind) for s in stories for kind in SETTINGS["train_kinds"]]


def with_short(stories: list[Story]) -> list[Story]:
    """The stories and a shortened copy of each (both stages learn from both)."""
    return stories + [shortened(s, SETTINGS["short_draw_train"]) for s in stories]


def render_all(stories: list[Story]) -> dict:
    """Every copy of every story and of its two shortened copies (training and validation
    draws), as written and in each transcript-style rendering."""
    renders = {}
    for s in with_short(stories) + [shortened(s, SETTINGS["short_draw_valid"]) for s in stories]:
        for _, c in copies(s):
            renders[(c.id, "written")] = written(c)
            for r in (TRAIN_RENDERING, VALID_RENDERING):  # TRAIN_RENDERING_2: tried, not used (docs/star.md)
                renders[(c.id, r.name)] = render_transcript(c, r, _rng(c.id, r))
            for n in (NOTES_TRAIN, NOTES_VALID):
                renders[(c.id, n.name)] = render_notes(c, n, _rng(c.id, n))
    return renders


def fit_model(stories: list[Story], renders, thresholds=None, meta=None) -> TaggerModel:
    st = SETTINGS
    W, b, prior = fit_logreg(train_keys(stories), renders, l2=st["l2"], iters=st["iters"], lr=st["lr"],
                             class_power=st["class_power"])
    seqs = [[lab for _, lab in renders[key]] for key in train_keys(stories)]
    start, trans = fit_order(seqs, smoothing=st["trans_smoothing"], start_mix=st["start_mix"])
    return TaggerModel(weights=W, bias=b, prior=prior, start=start, trans=trans,
                       thresholds=np.full(K, 0.5) if thresholds is None else thresholds,
                       hint_bonus=st["hint_bonus"], meta=meta or {}, free_order=st["free_order"])


# --- presence ----------------------------------------------------------------------

def stage1(model: TaggerModel, stories: list[Story], renders, kinds) -> list[tuple[np.ndarray, np.ndarray]]:
    """(presence features, truth per part) for every copy of every story: the sentence
    stage's outputs that the presence model learns from."""
    out = []
    for s in stories:
        for removed, c in copies(s):
            for kind in kinds:
                pairs = renders[(c.id, kind)]
                probs = model.sentence_probs([text for text, _ in pairs])
                truth = np.array([any(lab == p for _, lab in pairs) for p in PARTS])
                out.append((presence_features(probs, model.posteriors(probs)), truth))
    return out


def fit_presence(scored, *, l2: float, class_power: float | tuple[float, ...], iters: int = 30):
    """Per part, an L2 logistic regression of presence on the story-level features (Newton's
    method on standardised features, deterministic). Present and absent copies are weighted
    to equal total weight (``class_power`` 1; 0 = unweighted; one number, or one per part in
    ``PARTS`` order). Returns (F, 5) weights and (5,) intercepts on the raw features."""
    powers = (class_power,) * K if isinstance(class_power, (int, float)) else tuple(class_power)
    X = np.array([f for f, _ in scored])
    Y = np.array([t for _, t in scored]).astype(np.float64)
    mu, sd = X.mean(axis=0), X.std(axis=0) + 1e-6
    A = np.c_[(X - mu) / sd, np.ones(len(X))]
    F = X.shape[1]
    reg = np.r_[np.full(F, l2), 0.0]
    W, b = np.zeros((F, K)), np.zeros(K)
    for p in range(K):
        y = Y[:, p]
        pos = min(max(y.mean(), 1e-6), 1 - 1e-6)
        w = np.where(y > 0, (0.5 / pos) ** powers[p], (0.5 / (1 - pos)) ** powers[p])
        w /= w.mean()
        beta = np.zeros(F + 1)
        for _ in range(iters):
            m = 1.0 / (1.0 + np.exp(-(A @ beta)))
            g = A.T @ (w * (m - y)) / len(y) + reg * beta
            H = (A * (w * m * (1 - m))[:, None]).T @ A / len(y) + np.diag(reg + 1e-9)
            beta -= np.linalg.solve(H, g)
        W[:, p] = beta[:F] / sd
        b[p] = beta[F] - float((beta[:F] * mu / sd).sum())
    return W, b


def with_presence(model: TaggerModel, scored) -> TaggerModel:
    st = SETTINGS
    W, b = fit_presence(scored, l2=st["presence_l2"], class_power=st["presence_class_power"])
    return dataclasses.replace(model, presence_w=W, presence_b=b, thresholds=np.full(K, st["presence_threshold"]))


def inner_groups(sources: list[str], counts: Counter, k: int) -> list[list[str]]:
    """Sources dealt round-robin into k groups, largest first (deterministic)."""
    ordered = sorted(sources, key=lambda s: (-counts[s], s))
    return [ordered[i::k] for i in range(k)]


# --- evaluation ---------------------------------------------------------------------

def evaluate(model: TaggerModel, stories: list[Story], renders, kind: str) -> list[dict]:
    """One record per copy of each story: truth, calls (the tagger's, and the default hybrid's:
    the rules settling the parts the tagger is unsure of), sentence labels."""
    out = []
    for s in stories:
        for removed, c in copies(s):
            pairs = renders[(c.id, kind)]
            texts = [text for text, _ in pairs]
            t = tag(model, texts)
            hybrid = tag(model, texts, second=rules_opinion(StarOptions().unclear_margin))
            out.append({"story": s.id, "source": s.source, "removed": removed,
                        "truth": {p: any(lab == p for _, lab in pairs) for p in PARTS},
                        "author_learning": "learning" in c.authored,
                        "call": dict(t.present), "confidence": dict(t.confidence), "hybrid": dict(hybrid.present),
                        "sentences": (sum(a == lab for a, (_, lab) in zip(t.labels, pairs)), len(pairs)),
                        "hybrid_sentences": (sum(a == lab for a, (_, lab) in zip(hybrid.labels, pairs)), len(pairs))})
    return out


# --- main ---------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--extra", type=Path, nargs="*", default=EXTRA,
                    help="stories for training only, in the corpus's format (default: training/stories/*.jsonl); "
                    "never a validation fold")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--quick", action="store_true", help="skip the leave-one-source-out loop (no figures)")
    ap.add_argument("--train-kinds", help="experiments: the renderings to train on, comma-separated "
                    f"(default {','.join(SETTINGS['train_kinds'])}; the validation ones: valid, notes_valid)")
    ap.add_argument("--dump", type=Path, help="write every held-out copy's record (truth, calls, presence "
                    "confidences) to this JSON file")
    ap.add_argument("--presence-kinds", help="experiments: the renderings the presence stage learns from "
                    f"(default {','.join(SETTINGS['presence_kinds'])})")
    args = ap.parse_args(argv)
    if args.train_kinds:
        SETTINGS["train_kinds"] = tuple(args.train_kinds.split(","))
    if args.presence_kinds:
        SETTINGS["presence_kinds"] = tuple(args.presence_kinds.split(","))
    t0 = time.time()
    corpus = load_stories(args.corpus)
    extra = [s for path in args.extra for s in load_stories(path)]
    stories = corpus + extra
    renders = render_all(stories)
    counts = Counter(s.source for s in stories)
    sources = sorted({s.source for s in corpus}, key=lambda s: (-counts[s], s))  # the validation folds
    extra_sources = sorted({s.source for s in extra})
    if set(sources) & set(extra_sources) or len({s.id for s in stories}) < len(stories):
        raise SystemExit("train_star: a training-only story shares a source or an id with the corpus")
    labels = Counter(lab for s in stories for _, lab in s.segments)
    print(f"{len(corpus)} stories from {len(sources)} sources, {len(extra)} for training only from "
          f"{len(extra_sources)}; segments: " + ", ".join(f"{p} {labels[p]}" for p in PARTS), flush=True)

    records: dict[str, list[dict]] = {"written": [], "transcript": [], "notes": [], "short written": [],
                                      "short transcript": [], "result first": []}
    told_result_first = result_first(renders, "written")
    oof = []
    if not args.quick:
        # The training-only sources are folds too, for the presence stage's out-of-fold data,
        # but their copies are never scored.
        for i, held in enumerate(sources + extra_sources):
            train = [s for s in stories if s.source != held]
            test = [s for s in stories if s.source == held]
            if held in extra_sources:
                oof += stage1(fit_model(with_short(train), renders), with_short(test), renders,
                              SETTINGS["presence_kinds"])
                print(f"  fold {i + 1:2d} {held} ({len(test)} stories, training only) [{time.time() - t0:.0f} s]",
                      flush=True)
                continue
            inner_scored = []
            for group in inner_groups(sorted({s.source for s in train}), counts, SETTINGS["inner_folds"]):
                fit = [s for s in train if s.source not in group]
                val = [s for s in train if s.source in group]
                inner_scored += stage1(fit_model(with_short(fit), renders), with_short(val), renders,
                                       SETTINGS["presence_kinds"])
            base = fit_model(with_short(train), renders)
            oof += stage1(base, with_short(test), renders, SETTINGS["presence_kinds"])
            model = with_presence(base, inner_scored)
            records["written"] += evaluate(model, test, renders, "written")
            records["transcript"] += evaluate(model, test, renders, "valid")
            records["notes"] += evaluate(model, test, renders, NOTES_VALID.name)
            cut = [shortened(s, SETTINGS["short_draw_valid"]) for s in test]
            records["short written"] += evaluate(model, cut, renders, "written")
            records["short transcript"] += evaluate(model, cut, renders, "valid")
            records["result first"] += evaluate(model, test, told_result_first, "written")
            print(f"  fold {i + 1:2d}/{len(sources)} {held} ({len(test)} stories) [{time.time() - t0:.0f} s]",
                  flush=True)
        if args.dump:
            args.dump.write_text(json.dumps(records))
        results = {"written": figures(records["written"]), "transcript-style": figures(records["transcript"]),
                   "notes-style": figures(records["notes"])}
        print(f"\nLeave-one-source-out ({len(sources)} folds by source.repo); transcript-style validated on a rendering "
              "with other fillers, rates and run-on lengths than the training one:\n")
        print_table(results)
        results["shortened"] = {"written": figures(records["short written"]),
                                "transcript-style": figures(records["short transcript"])}
        results["result first"] = figures(records["result first"])
        print("\nThe same folds on shortened copies of the held-out stories (each part cut to one or "
              "more consecutive sentences, at most " + ", ".join(f"{p} {n}" for p, n in SHORT_MAX.items())
              + "; another random draw than training used):\n")
        print_table(results["shortened"])
        print("\nThe default, tagger = \"hybrid\" (the rules, never fitted to the corpus, settle the parts the "
              "tagger is unsure of), on the same held-out copies:\n")
        print_table({f"hybrid: {name}": figures([dict(r, call=r["hybrid"], sentences=r["hybrid_sentences"])
                                                 for r in records[kind]])
                     for name, kind in (("written", "written"), ("transcript-style", "transcript"),
                                        ("notes-style", "notes"), ("shortened written", "short written"),
                                        ("shortened transcript-style", "short transcript"),
                                        ("written, Result first", "result first"))})
    else:
        results = {}
    meta = {"corpus": "star-corpus/stories.jsonl", "corpus_sha256": hashlib.sha256(args.corpus.read_bytes()).hexdigest(),
            "stories": len(corpus), "sources": sources, "settings": SETTINGS,
            "renderings": {r.name: r.__dict__ for r in (TRAIN_RENDERING, VALID_RENDERING, NOTES_TRAIN, NOTES_VALID)},
            "validation": results}
    if extra:
        meta["extra"] = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in args.extra}
        meta["extra_stories"] = len(extra)
    model = fit_model(with_short(stories), renders, meta=meta)
    if oof:  # the presence stage learns from the leave-one-source-out sentence-stage outputs
        model = with_presence(model, oof)
    save_model(model, args.out)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) sha256 {digest} [{time.time() - t0:.0f} s]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
