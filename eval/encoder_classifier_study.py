"""Would a classifier on Whisper's encoder states find the filled pauses the probe misses? (Tried, not kept.)

usage: encoder_classifier_study.py WORK_DIR CORPUS_DIR... [--l2 10] [--cuts 0,-2,-4] [--limit N]

Issue 14 suggests a small acoustic filled-pause classifier on Whisper encoder features, validated
leave-one-voice-out. This is that experiment, on the corpora ``make_voices.py`` renders (espeak-ng
lab voices and the flite voices, ``fl-*``) and their noisy copies (``make_noisy.py``,
``make_voices.py --babble/--typing``); a corpus folder's name is its condition.

1. **Candidates.** The analyzer (default settings, model ``base``) runs on every answer; each filler
   candidate it scores (hesitation gaps and lone words, ``analysis.filler_recovery``) is logged with
   its probe score, its pooled encoder states (mean and standard deviation of the frames that cover
   the clip, the clip at the start of the probe's 3 s window) and whether a truth filled pause's
   centre lies in it (0.15 s slack). The analyzer's own filled pauses are kept too.
2. **Training clips, from the renderer's truth alone.** Positives: every filled pause. Negatives:
   one-word lead-ins, six word-sized windows inside the spoken text, the first and last 0.2-0.6 s
   of three text pieces, four windows in the silences between pieces (the room's noise).
3. **Report.** For each voice, an L2 logistic regression (Newton's method, balanced classes) fitted
   on the OTHER voices' training clips scores that voice's candidates. Two rules are counted:
   keep a candidate when the probe keeps it (p_filler >= 0.015) or the classifier's logit reaches
   a cut; and keep it when log p_filler + A x logit reaches log 0.015 (the classifier moves the
   probe's threshold). Filled-pause F1 (``eval_corpus.py`` scoring with the harness's spellings)
   per corpus (one voice set in one condition), the analyzer as it is first.

Steps 1 and 2 are cached per corpus in WORK_DIR (pickles named after the corpus folder, so the
folders must have different names). The figures and the decision are in
docs/fillers-research.md ("A classifier on the encoder states").
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "eval"))
THRESHOLD = 0.015
WINDOW_FRAMES = 300  # the probe's 3 s window, in log-mel frames


def encoder_states(engine, clips: list[np.ndarray]) -> list[np.ndarray]:
    """Pooled encoder states of each clip, encoded as the probe encodes it."""
    import ctranslate2

    if engine._probe is None:
        engine.score_fillers([np.zeros(3200, np.float32)])
    probe, out = engine._probe, []
    for i in range(0, len(clips), 16):
        batch = clips[i:i + 16]
        feats = np.ascontiguousarray(np.stack([probe._features(c, WINDOW_FRAMES) for c in batch]).astype(np.float32))
        enc = np.array(engine._model.model.encode(ctranslate2.StorageView.from_array(feats), to_cpu=True))
        for c, e in zip(batch, enc):
            n = max(1, min(len(e), -(-len(c) // 320)))  # one encoder frame per 20 ms
            out.append(np.concatenate([e[:n].mean(0), e[:n].std(0)]).astype(np.float32))
    return out


def log_candidates(analyzer, corpus: Path, limit: int | None) -> dict:
    """Step 1 for one corpus."""
    from starcoach.analysis import filler_recovery as fr
    from starcoach.analysis import pipeline
    from starcoach.analysis.alignment import FILLED_PAUSE_MIN_S
    from starcoach.analysis.metrics import hesitation_gaps
    from starcoach.asr.probe import cut
    from starcoach.audio.decode import load_audio

    engine, seen, original = analyzer.engine(), [], fr.recover_fillers

    def logged(engine_, samples, transcript, activity, threshold, options, **kw):
        gaps = hesitation_gaps(transcript, activity, options=options)
        lone = fr.lone_words(transcript.words, activity, min_s=FILLED_PAUSE_MIN_S, max_s=fr.LONE_WORD_MAX_S)
        taken = {(s, e) for _, s, e in lone}
        cands = [(s, e) for s, e in gaps if (s, e) not in taken] + [(s, e) for _, s, e in lone]
        if cands:
            clips = [cut(samples, s, e) for s, e in cands]
            for (s, e), sc, st in zip(cands, engine_.score_fillers(clips), encoder_states(engine_, clips)):
                seen.append(dict(start=s, end=e, p_filler=sc.p_filler, p_um=sc.p_um, states=st))
        return original(engine_, samples, transcript, activity, threshold, options, **kw)

    rows, files = [], []
    pipeline.recover_fillers = logged
    try:
        for tj in sorted(corpus.glob("*.json"))[:limit]:
            truth = json.loads(tj.read_text())
            seen.clear()
            analysis = analyzer.analyze_samples(load_audio(tj.with_suffix(".flac")).samples, source=str(tj))
            for c in seen:
                c.update(file=tj.stem, label=int(any(c["start"] - 0.15 <= (f["start_s"] + f["end_s"]) / 2 <= c["end"] + 0.15
                                                    for f in truth["filled_pauses"])))
                rows.append(dict(c))
            files.append(dict(file=tj.stem, truth=truth, cands=[(c["start"], c["end"], c["p_filler"]) for c in seen],
                              fillers=[dict(start=f.start, text=f.text) for f in analysis.metrics.fillers
                                       if f.kind == "filled_pause"]))
            print(f"  {corpus.name}/{tj.stem}: {len(seen)} candidates", flush=True)
    finally:
        pipeline.recover_fillers = original
    return dict(rows=rows, files=files)


def truth_spans(truth: dict, rng: np.random.Generator) -> list[tuple[float, float, int]]:
    """Step 2's clips of one answer: (start, end, 1 for a filled pause else 0)."""
    spans = [(f["start_s"], f["end_s"], 1) for f in truth["filled_pauses"]]
    chunks = truth["chunks"]
    spans += [(c["start_s"], c["end_s"], 0) for c in chunks if c["kind"] == "lead"]
    texts = [c for c in chunks if c["kind"] == "text" and c["end_s"] - c["start_s"] > 1.0]
    for _ in range(6):
        c = texts[rng.integers(len(texts))]
        dur = rng.uniform(0.2, 0.8)
        a = rng.uniform(c["start_s"], c["end_s"] - dur)
        spans.append((a, a + dur, 0))
    for k in rng.choice(len(texts), size=min(3, len(texts)), replace=False):
        c = texts[k]
        spans.append((c["start_s"], c["start_s"] + rng.uniform(0.2, 0.6), 0))
        spans.append((c["end_s"] - rng.uniform(0.2, 0.6), c["end_s"], 0))
    gaps = [(a["end_s"] + 0.1, b["start_s"] - 0.1) for a, b in zip(chunks, chunks[1:]) if b["start_s"] - a["end_s"] > 0.6]
    for g in rng.permutation(len(gaps))[:4]:
        a, b = gaps[g]
        dur = min(b - a, rng.uniform(0.2, 0.6))
        s = rng.uniform(a, b - dur)
        spans.append((s, s + dur, 0))
    return spans


def truth_clips(analyzer, corpus: Path, limit: int | None) -> dict:
    """Step 2 for one corpus."""
    from starcoach.asr.probe import cut
    from starcoach.audio.decode import load_audio

    rng = np.random.default_rng(14)
    states, labels, voices = [], [], []
    for tj in sorted(corpus.glob("*.json"))[:limit]:
        audio = load_audio(tj.with_suffix(".flac")).samples
        spans = truth_spans(json.loads(tj.read_text()), rng)
        states += encoder_states(analyzer.engine(), [cut(audio, s, e) for s, e, _ in spans])
        labels += [lab for _, _, lab in spans]
        voices += [tj.stem.rsplit("-", 1)[0]] * len(spans)
    return dict(x=np.array(states, np.float64), y=np.array(labels), voice=np.array(voices))


def fit(x: np.ndarray, y: np.ndarray, l2: float, iterations: int = 12):
    """Standardisation and an L2 logistic regression by Newton's method, classes balanced."""
    mean, scale = x.mean(0), x.std(0) + 1e-6
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    sw = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    w, reg = np.zeros(z.shape[1]), np.full(z.shape[1], l2)
    reg[-1] = 0.0
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-(z @ w)))
        hess = (z * (sw * p * (1 - p))[:, None]).T @ z + np.diag(reg) + 1e-9 * np.eye(len(w))
        w -= np.linalg.solve(hess, z.T @ (sw * (p - y)) + reg * w)
    return lambda x2: ((x2 - mean) / scale) @ w[:-1] + w[-1]


def f1_counts(files: list[dict], keep) -> tuple[int, int, int]:
    """(true positives, predicted, true) filled pauses when candidate (file, start) is kept by KEEP."""
    from harness import _eval_corpus

    score_file = _eval_corpus().score_file
    tp = pr = tr = 0
    for f in files:
        old = [(s, e) for s, e, p in f["cands"] if p >= THRESHOLD]
        main = [x for x in f["fillers"] if not any(s - 0.05 <= x["start"] <= e + 0.05 for s, e in old)]
        new = [dict(start=c["start"], text="um" if c["p_um"] >= c["p_filler"] / 2 else "uh")
               for c in f["rows"] if keep(c)]
        r = score_file(f["truth"], {"fillers": main + new})
        tp, pr, tr = tp + r["filler_fp_tp"], pr + r["filler_fp_pred"], tr + r["filler_fp_true"]
    return tp, pr, tr


def f1(t: tuple[int, int, int]) -> str:
    p, r = t[0] / max(t[1], 1), t[0] / max(t[2], 1)
    return f"{2 * p * r / max(p + r, 1e-9):.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("work", type=Path)
    ap.add_argument("corpora", type=Path, nargs="+")
    ap.add_argument("--l2", type=float, default=10.0)
    ap.add_argument("--cuts", default="0,-2,-4")
    ap.add_argument("--moves", default="0.1,0.2")
    ap.add_argument("--limit", type=int)
    a = ap.parse_args()
    from starcoach.config import load_config

    analyzer = load_config().analyzer()
    a.work.mkdir(parents=True, exist_ok=True)
    logs, clips = {}, []
    for corpus in a.corpora:
        for kind, make in (("log", log_candidates), ("clips", truth_clips)):
            cache = a.work / f"{corpus.name}.{kind}.pkl"
            if not cache.exists():
                with open(cache, "wb") as fh:
                    pickle.dump(make(analyzer, corpus, a.limit), fh)
            with open(cache, "rb") as fh:
                data = pickle.load(fh)
            if kind == "log":
                logs[corpus.name] = data
            else:
                clips.append(data)
    x = np.vstack([c["x"] for c in clips])
    y = np.concatenate([c["y"] for c in clips])
    voice = np.concatenate([c["voice"] for c in clips])
    print(f"training clips: {len(y)} ({int(y.sum())} filled pauses), voices {', '.join(np.unique(voice))}")
    rows = [dict(r, cond=cond) for cond, d in logs.items() for r in d["rows"]]
    for v in np.unique([r["file"].rsplit("-", 1)[0] for r in rows]):
        model = fit(x[voice != v], y[voice != v], a.l2)  # never trained on the voice it scores
        mine = [r for r in rows if r["file"].rsplit("-", 1)[0] == v]
        for r, s in zip(mine, model(np.array([r["states"] for r in mine], np.float64))):
            r["logit"] = float(s)
    for cond, d in logs.items():
        for f in d["files"]:
            f["rows"] = [r for r in rows if r["cond"] == cond and r["file"] == f["file"]]
    rules = [("analyzer as it is (probe only)", lambda c: c["p_filler"] >= THRESHOLD)]
    rules += [(f"probe or logit >= {cut:g}", lambda c, cut=cut: c["p_filler"] >= THRESHOLD or c["logit"] >= cut)
              for cut in map(float, a.cuts.split(","))]
    rules += [(f"log p + {m:g} x logit", lambda c, m=m: np.log(max(c["p_filler"], 1e-6)) + m * c["logit"] >= np.log(THRESHOLD))
              for m in map(float, a.moves.split(","))]
    print("| rule | " + " | ".join(logs) + " |")
    print("| --- |" + " ---: |" * len(logs))
    for name, keep in rules:
        print(f"| {name} | " + " | ".join(f1(f1_counts(d["files"], keep)) for d in logs.values()) + " |")

if __name__ == "__main__":
    main()
