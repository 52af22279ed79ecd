"""Train the STAR sentence tagger and validate it leave-one-source-out.

    make train-star        (= python training/train_star.py)

1. Every story of ``../shared/star-corpus/stories.jsonl`` is segmented with starcoach's own
   segmenter and rendered twice: as written, and transcript-style with the *training*
   augmentation (``star_data.TRAIN_RENDERING``).
2. Leave-one-source-out (grouped by ``source.repo``): for each repository, a model is fitted
   on the other 18 (logistic regression + order model), its per-part presence thresholds
   are chosen on those 18 alone (3 inner folds by repository, best balanced accuracy on
   whole stories and on copies with one part removed), and it is scored on the held-out
   repository's stories, whole and with Situation, Task, Action or Result removed, as
   written and as a transcript made with *other* settings (``VALID_RENDERING``).
3. The shipped model is fitted on all 19 repositories; its thresholds are chosen on the
   leave-one-source-out predictions (each from a model that did not see that repository).

Deterministic: fixed seeds, full-batch optimisation, a fixed-stamp ``.npz`` writer. Run it
single-threaded (the Makefile sets the BLAS thread counts) for bit-identical weights.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from star_data import (CORPUS, TRAIN_RENDERING, VALID_RENDERING, Story, load_stories,  # noqa: E402
                       render_transcript, without, written)

from starcoach.analysis.star_tagger import (N_FEATURES, PARTS, TaggerModel, batch_features,  # noqa: E402
                                   save_model, tag)

OUT = Path(__file__).resolve().parents[1] / "src" / "starcoach" / "data" / "star_tagger.npz"
K = len(PARTS)
REMOVABLE = ("situation", "task", "action", "result")
SETTINGS = dict(l2=1e-4, iters=120, lr=0.08, class_power=0.5, hint_bonus=1.5, start_mix=0.5,
                trans_smoothing=1.0, inner_folds=2)


# --- data -------------------------------------------------------------------------

def _rng(story_id: str, r) -> random.Random:
    return random.Random(zlib.crc32(story_id.encode()) * 1000 + r.seed)


def copies(story: Story) -> list[tuple[str | None, Story]]:
    """The whole story and one copy per removable part it has, that part removed."""
    out = [(None, story)]
    out += [(p, without(story, p)) for p in REMOVABLE if p in story.authored]
    return out


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
    return [(s.id, kind) for s in stories for kind in ("written", "train")]


def fit_model(stories: list[Story], renders, thresholds=None, meta=None) -> TaggerModel:
    st = SETTINGS
    W, b, prior = fit_logreg(train_keys(stories), renders, l2=st["l2"], iters=st["iters"], lr=st["lr"],
                             class_power=st["class_power"])
    seqs = [[lab for _, lab in renders[(s.id, kind)]] for s in stories for kind in ("written", "train")]
    start, trans = fit_order(seqs, smoothing=st["trans_smoothing"], start_mix=st["start_mix"])
    return TaggerModel(weights=W, bias=b, prior=prior, start=start, trans=trans,
                       thresholds=np.full(K, 0.5) if thresholds is None else thresholds,
                       hint_bonus=st["hint_bonus"], meta=meta or {})


# --- thresholds ---------------------------------------------------------------------

def confidences(model: TaggerModel, stories: list[Story], renders, kinds) -> list[tuple[np.ndarray, np.ndarray]]:
    """(best posterior per part, truth per part) for every copy of every story."""
    out = []
    for s in stories:
        for removed, c in copies(s):
            for kind in kinds:
                pairs = renders[(c.id, kind)]
                t = tag(model, [text for text, _ in pairs])
                truth = np.array([any(lab == p for _, lab in pairs) for p in PARTS])
                out.append((np.array([t.confidence[p] for p in PARTS]), truth))
    return out


def choose_thresholds(scored) -> np.ndarray:
    """Per part, the threshold with the best balanced accuracy (ties: the middle of the best run)."""
    conf = np.array([c for c, _ in scored])
    truth = np.array([t for _, t in scored])
    grid = np.round(np.r_[np.arange(0.05, 0.951, 0.025), [0.96, 0.97, 0.98, 0.99]], 3)
    out = np.zeros(K)
    for p in range(K):
        pos, neg = truth[:, p], ~truth[:, p]
        bal = []
        for g in grid:
            call = conf[:, p] >= g
            tpr = call[pos].mean() if pos.any() else 1.0
            tnr = (~call[neg]).mean() if neg.any() else 1.0
            bal.append(round((tpr + tnr) / 2, 6))
        bal = np.array(bal)
        best = np.flatnonzero(bal == bal.max())
        out[p] = grid[best[len(best) // 2]]
    return out


def inner_groups(sources: list[str], counts: Counter, k: int) -> list[list[str]]:
    """Sources dealt round-robin into k groups, largest first (deterministic)."""
    ordered = sorted(sources, key=lambda s: (-counts[s], s))
    return [ordered[i::k] for i in range(k)]


# --- evaluation ---------------------------------------------------------------------

def evaluate(model: TaggerModel, stories: list[Story], renders, kind: str) -> list[dict]:
    """One record per copy of each story: truth, calls, sentence labels."""
    out = []
    for s in stories:
        for removed, c in copies(s):
            pairs = renders[(c.id, kind)]
            t = tag(model, [text for text, _ in pairs])
            out.append({"story": s.id, "source": s.source, "removed": removed,
                        "truth": {p: any(lab == p for _, lab in pairs) for p in PARTS},
                        "author_learning": "learning" in c.authored,
                        "call": dict(t.present),
                        "sentences": (sum(a == lab for a, (_, lab) in zip(t.labels, pairs)), len(pairs))})
    return out


def figures(records: list[dict]) -> dict:
    """Part accuracy, per-part precision/recall, removed-part-missing rates, all-five-right, floors."""
    n = len(records)
    acc = np.mean([r["call"][p] == r["truth"][p] for r in records for p in PARTS])
    floor_call = {"situation": True, "task": True, "action": True, "result": True, "learning": False}
    floor = np.mean([floor_call[p] == r["truth"][p] for r in records for p in PARTS])
    out = {"copies": n, "part_accuracy": acc, "floor_accuracy": floor,
           "all_five": np.mean([all(r["call"][p] == r["truth"][p] for p in PARTS) for r in records]),
           "floor_all_five": np.mean([all(floor_call[p] == r["truth"][p] for p in PARTS) for r in records])}
    for p in PARTS:
        tp = sum(r["call"][p] and r["truth"][p] for r in records)
        fp = sum(r["call"][p] and not r["truth"][p] for r in records)
        fn = sum(not r["call"][p] and r["truth"][p] for r in records)
        out[f"precision_{p}"] = tp / max(1, tp + fp)
        out[f"recall_{p}"] = tp / max(1, tp + fn)
    for p in REMOVABLE:
        rem = [r for r in records if r["removed"] == p and not r["truth"][p]]
        out[f"missing_{p}"] = np.mean([not r["call"][p] for r in rem]) if rem else float("nan")
    whole = [r for r in records if r["removed"] is None]
    auth = [r for r in whole if r["author_learning"]]
    out["learning_recall_author"] = np.mean([r["call"]["learning"] for r in auth]) if auth else float("nan")
    out["author_learning_stories"] = len(auth)
    right = sum(r["sentences"][0] for r in whole)
    out["sentence_accuracy"] = right / max(1, sum(r["sentences"][1] for r in whole))
    return {k: (round(float(v), 3) if isinstance(v, (float, np.floating)) else v) for k, v in out.items()}


def print_table(results: dict[str, dict]) -> None:
    rows = [("copies judged (x5 parts)", "copies"), ("part accuracy", "part_accuracy"),
            ("  floor: S,T,A,R present, no L", "floor_accuracy"), ("all five calls right", "all_five"),
            ("  floor", "floor_all_five"), ("sentence accuracy (whole stories)", "sentence_accuracy")]
    rows += [(f"{p} precision / recall", (f"precision_{p}", f"recall_{p}")) for p in PARTS]
    rows += [(f"removed {p} reported missing", f"missing_{p}") for p in REMOVABLE]
    rows += [("learning recall, author labels", "learning_recall_author")]
    names = list(results)
    print(f"| figure | {' | '.join(names)} |")
    print("| --- |" + " ---: |" * len(names))
    for label, key in rows:
        cells = []
        for name in names:
            f = results[name]
            cells.append(" / ".join(f"{f[k]:.3f}" for k in key) if isinstance(key, tuple)
                         else (str(f[key]) if isinstance(f[key], int) else f"{f[key]:.3f}"))
        print(f"| {label} | {' | '.join(cells)} |")


# --- main ---------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--quick", action="store_true", help="skip the leave-one-source-out loop (no figures)")
    args = ap.parse_args(argv)
    t0 = time.time()
    stories = load_stories(args.corpus)
    renders = {}
    for s in stories:
        for _, c in copies(s):
            renders[(c.id, "written")] = written(c)
            renders[(c.id, "train")] = render_transcript(c, TRAIN_RENDERING, _rng(c.id, TRAIN_RENDERING))
            renders[(c.id, "valid")] = render_transcript(c, VALID_RENDERING, _rng(c.id, VALID_RENDERING))
    counts = Counter(s.source for s in stories)
    sources = sorted(counts, key=lambda s: (-counts[s], s))
    labels = Counter(lab for s in stories for _, lab in s.segments)
    print(f"{len(stories)} stories from {len(sources)} sources; segments: "
          + ", ".join(f"{p} {labels[p]}" for p in PARTS), flush=True)

    records = {"written": [], "transcript": []}
    oof = []
    if not args.quick:
        for i, held in enumerate(sources):
            train = [s for s in stories if s.source != held]
            test = [s for s in stories if s.source == held]
            inner_scored = []
            for group in inner_groups(sorted({s.source for s in train}), counts, SETTINGS["inner_folds"]):
                fit = [s for s in train if s.source not in group]
                val = [s for s in train if s.source in group]
                inner_scored += confidences(fit_model(fit, renders), val, renders, ("written", "train"))
            model = fit_model(train, renders, thresholds=choose_thresholds(inner_scored))
            oof += confidences(model, test, renders, ("written", "train"))
            records["written"] += evaluate(model, test, renders, "written")
            records["transcript"] += evaluate(model, test, renders, "valid")
            print(f"  fold {i + 1:2d}/{len(sources)} {held} ({len(test)} stories) "
                  f"thresholds {np.round(model.thresholds, 3).tolist()} [{time.time() - t0:.0f} s]", flush=True)
        results = {"written": figures(records["written"]), "transcript-style": figures(records["transcript"])}
        print("\nLeave-one-source-out (19 folds by source.repo); transcript-style validated on a rendering "
              "with other fillers, rates and run-on lengths than the training one:\n")
        print_table(results)
        thresholds = choose_thresholds(oof)
    else:
        results, thresholds = {}, np.full(K, 0.5)
    meta = {"corpus": "star-corpus/stories.jsonl", "corpus_sha256": hashlib.sha256(args.corpus.read_bytes()).hexdigest(),
            "stories": len(stories), "sources": sources, "settings": SETTINGS,
            "renderings": {"train": TRAIN_RENDERING.__dict__, "valid": VALID_RENDERING.__dict__},
            "validation": results}
    model = fit_model(stories, renders, thresholds=thresholds, meta=meta)
    save_model(model, args.out)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"\nthresholds (chosen on the leave-one-source-out predictions): "
          + ", ".join(f"{p} {t:.3f}" for p, t in zip(PARTS, thresholds)))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) sha256 {digest} [{time.time() - t0:.0f} s]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
