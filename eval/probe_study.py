"""Measure the filler probe: true filled pauses against words, lone words, pauses and noise.

usage: probe_study.py CORPUS_DIR [CORPUS_DIR ...] [--noise-dir DIR] [--window 3] [--prompt TEXT]
                      [--per-answer-words 6] [--cache FILE] [--threads 1] [--max-answers N]

Candidate clips are cut from make_voices.py answers at their exact times, each with 0.1 s of
context on both sides (what a pipeline would cut around a candidate):
  filler  every filled pause (um, uh, er, ah, hmm)
  lead    every one-word lead-in set off by silences ("So", "Well"...): the word that could
          hide a filler, the hard negative
  word    up to N random 0.25-0.8 s stretches inside spoken phrases
  pause   two 0.3-0.8 s stretches inside each long pause (room noise or the added noise)
  noise   ten 0.3-0.8 s stretches of each speech-free file in --noise-dir
Scores are cached per clip and option set, so a rerun only prints. Reports ROC AUC of three
scores (p_filler; p_filler / (1 - p_end); p_filler x (1 - p_no_speech)), recall at zero and at
one false positive per minute of source audio, and leave-one-voice-out: for each voice, the
threshold is the smallest that keeps the OTHER voices' negatives at or under the target rate,
and recall and false positives are counted on the left-out voice alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from starcoach.asr.probe import FillerProbe, ProbeOptions, cut  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCORES = {
    "p_filler": lambda r: r["p_filler"],
    "p_filler/(1-p_end)": lambda r: r["p_filler"] / max(1e-9, 1 - r["p_end"]),
    "p_filler*(1-p_nospeech)": lambda r: r["p_filler"] * (1 - r["p_no_speech"]),
}


def _load(path: Path) -> np.ndarray:
    x, rate = sf.read(path, dtype="float32", always_2d=True)
    if rate != 16000:
        raise SystemExit(f"{path}: {rate} Hz, expected 16000")
    return x.mean(axis=1)


def clip_specs(corpus: Path, per_answer_words: int, max_answers: int | None) -> list[dict]:
    specs = []
    for tj in sorted(corpus.glob("*.json"))[:max_answers]:
        t = json.loads(tj.read_text())
        rng = np.random.default_rng(sum(map(ord, tj.stem)))  # the same clips on every run
        base = {"corpus": corpus.name, "file": str(tj.with_suffix(".flac")), "voice": t["voice_id"],
                "minutes": t["duration_s"] / 60}
        for f in t["filled_pauses"]:
            specs.append({**base, "kind": "filler", "spoken": f["spoken"], "start": f["start_s"], "end": f["end_s"]})
        for c in t["chunks"]:
            if c["kind"] == "lead":
                specs.append({**base, "kind": "lead", "spoken": c["text"], "start": c["start_s"], "end": c["end_s"]})
        texts = [c for c in t["chunks"] if c["kind"] == "text" and c["end_s"] - c["start_s"] > 0.9]
        for c in rng.permutation(texts)[:per_answer_words]:
            length = rng.uniform(0.25, 0.8)
            s = rng.uniform(c["start_s"], c["end_s"] - length)
            specs.append({**base, "kind": "word", "spoken": c["text"], "start": round(s, 3), "end": round(s + length, 3)})
        for lp in t["long_pauses"]:
            for _ in range(2):
                length = rng.uniform(0.3, 0.8)
                s = rng.uniform(lp["start_s"] + 0.15, lp["start_s"] + lp["duration_s"] - length - 0.15)
                specs.append({**base, "kind": "pause", "spoken": "", "start": round(s, 3), "end": round(s + length, 3)})
    return specs


def noise_specs(noise_dir: Path) -> list[dict]:
    specs = []
    for f in sorted(noise_dir.glob("*.flac")):
        rng = np.random.default_rng(sum(map(ord, f.stem)))
        for _ in range(10):
            length = rng.uniform(0.3, 0.8)
            s = rng.uniform(0.2, 29.0 - length)
            specs.append({"corpus": "noise", "file": str(f), "voice": "none", "minutes": 0.0, "kind": "noise",
                          "spoken": f.stem, "start": round(s, 3), "end": round(s + length, 3)})
    return specs


def real_specs() -> list[dict]:
    """Real speech (evaluation only): crisper_sample's two fillers and its words; jfk's words and end."""
    real = ROOT.parent / "shared" / "real"
    specs = []
    cr = real / "crisper_sample.wav"
    if cr.exists():
        for kind, spoken, s, e in [("filler", "UH", 2.54, 2.92), ("filler", "UM", 10.60, 11.24),
                                   ("lead", "So", 2.00, 2.38), ("word", "tonight", 3.08, 3.62),
                                   ("word", "the", 4.28, 4.52), ("word", "will", 5.50, 5.86),
                                   ("word", "delicious", 8.98, 9.70), ("lead", "or", 11.52, 12.00),
                                   ("pause", "gap", 6.85, 8.90), ("word", "I don't know", 12.95, 13.12)]:
            specs.append({"corpus": "real", "file": str(cr), "voice": "crisper", "minutes": 0.0, "kind": kind,
                          "spoken": spoken, "start": s, "end": e})
    jfk = real / "jfk.flac"
    if jfk.exists():
        for kind, spoken, s, e in [("word", "country. (end)", 9.94, 10.3), ("pause", "after country 10.2-11.0", 10.2, 11.0),
                                   ("pause", "10.5-11.0", 10.5, 11.0), ("pause", "10.7-11.0 (the '10.83 um')", 10.7, 10.95),
                                   ("lead", "And so", 0.3, 0.9), ("word", "ask not", 3.6, 4.2)]:
            specs.append({"corpus": "real", "file": str(jfk), "voice": "jfk", "minutes": 0.0, "kind": kind,
                          "spoken": spoken, "start": s, "end": e})
    return specs


def _load_any(path: str) -> np.ndarray:
    x, rate = sf.read(path, dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    if rate != 16000:  # jfk is 44.1 kHz stereo: resample as faster-whisper does (PyAV)
        from faster_whisper.audio import decode_audio  # noqa: PLC0415

        x = decode_audio(path, sampling_rate=16000)
    return x


def auc(pos: list[float], neg: list[float]) -> float:
    if not pos or not neg:
        return float("nan")
    p, n = np.asarray(pos), np.asarray(neg)
    greater = (p[:, None] > n[None, :]).sum() + 0.5 * (p[:, None] == n[None, :]).sum()
    return float(greater / (len(p) * len(n)))


def recall_at(pos: list[float], neg: list[float], max_fp: int) -> tuple[float, float]:
    """Recall with the threshold just above the (max_fp+1)-th highest negative; returns (recall, threshold)."""
    n = sorted(neg, reverse=True)
    thr = n[max_fp] if len(n) > max_fp else 0.0
    return float(np.mean([p > thr for p in pos])) if pos else float("nan"), thr


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("corpora", type=Path, nargs="+")
    p.add_argument("--noise-dir", type=Path)
    p.add_argument("--window", type=float, default=3.0)
    p.add_argument("--prompt")
    p.add_argument("--per-answer-words", type=int, default=6)
    p.add_argument("--max-answers", type=int)
    p.add_argument("--cache", type=Path, default=Path("/work/lab/probe_cache.json"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--json", type=Path, help="write every clip's scores here")
    a = p.parse_args()
    opts = ProbeOptions(window_s=a.window, prompt=a.prompt, batch_size=a.batch)
    tag = f"w{a.window:g}|{a.prompt or ''}"
    specs = [s for c in a.corpora for s in clip_specs(c, a.per_answer_words, a.max_answers)]
    if a.noise_dir:
        specs += noise_specs(a.noise_dir)
    specs += real_specs()
    cache = json.loads(a.cache.read_text()) if a.cache.exists() else {}
    key = lambda s: f"{tag}|{s['file']}|{s['start']}|{s['end']}"  # noqa: E731
    todo = [s for s in specs if key(s) not in cache]
    if todo:
        from starcoach.asr.models import resolve_model  # noqa: PLC0415

        probe = FillerProbe.load(resolve_model("base", ROOT / "models").path, threads=a.threads, options=opts)
        audio: dict[str, np.ndarray] = {}
        t0 = time.perf_counter()
        for i in range(0, len(todo), 64):
            part = todo[i:i + 64]
            clips = []
            for s in part:
                if s["file"] not in audio:
                    audio[s["file"]] = _load_any(s["file"])
                clips.append(cut(audio[s["file"]], s["start"], s["end"], pad_s=0.1))
            for s, r in zip(part, probe.score(clips)):
                cache[key(s)] = {"p_filler": r.p_filler, "p_no_speech": r.p_no_speech, "p_end": r.p_end,
                                 "top": r.top_token, "top_p": r.top_p, "spelling": r.spelling,
                                 "p_um": r.p_um}
            a.cache.write_text(json.dumps(cache))
            print(f"scored {min(i + 64, len(todo))}/{len(todo)} clips, {(time.perf_counter() - t0) / min(i + 64, len(todo)):.2f} s/clip",
                  file=sys.stderr, flush=True)
    rows = [{**s, **cache[key(s)]} for s in specs]
    if a.json:
        a.json.write_text(json.dumps(rows, indent=0))
    synth = [r for r in rows if r["corpus"] not in ("real",)]
    minutes = sum({(r["file"]): r["minutes"] for r in synth}.values())
    print(f"probe options: window {a.window:g} s, prompt {a.prompt!r}; corpora: {', '.join(c.name for c in a.corpora)}"
          f"{'; noise: ' + a.noise_dir.name if a.noise_dir else ''}")
    kinds = ["filler", "lead", "word", "pause", "noise"]
    print("clips: " + ", ".join(f"{k} {sum(r['kind'] == k for r in synth)}" for k in kinds)
          + f"; source audio {minutes:.1f} min")
    print()
    print("| score | AUC all | vs lead | vs word | vs pause+noise | recall @0 FP | @1 FP/min (thr) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, f in SCORES.items():
        pos = [f(r) for r in synth if r["kind"] == "filler"]
        neg = [f(r) for r in synth if r["kind"] != "filler"]
        by = {k: [f(r) for r in synth if r["kind"] == k] for k in kinds}
        r0, _ = recall_at(pos, neg, 0)
        r1, t1 = recall_at(pos, neg, int(minutes))
        print(f"| {name} | {auc(pos, neg):.3f} | {auc(pos, by['lead']):.3f} | {auc(pos, by['word']):.3f} "
              f"| {auc(pos, by['pause'] + by['noise']):.3f} | {r0:.3f} | {r1:.3f} ({t1:.3g}) |")
    print()
    # per corpus (condition)
    print("| corpus | fillers | AUC (p_filler) | recall @0 FP in this corpus |")
    print("| --- | --- | --- | --- |")
    for c in sorted({r["corpus"] for r in synth}):
        pos = [r["p_filler"] for r in synth if r["corpus"] == c and r["kind"] == "filler"]
        neg = [r["p_filler"] for r in synth if r["corpus"] in (c, "noise") and r["kind"] != "filler"]
        print(f"| {c} | {len(pos)} | {auc(pos, neg):.3f} | {recall_at(pos, neg, 0)[0]:.3f} |")
    print()
    # leave one voice out, for each score, at targets 0 FP and 1 FP/min on the training voices
    voices = sorted({r["voice"] for r in synth if r["voice"] != "none"})
    print("Leave-one-voice-out (threshold from the other voices' negatives, noise clips always in training):")
    print("| score | target | recall (pooled over left-out voices) | false positives on left-out voices (per min) | thresholds |")
    print("| --- | --- | --- | --- | --- |")
    for name, f in SCORES.items():
        for target in ("0 FP", "1 FP/min"):
            tp = npos = fp = 0
            thrs = []
            for v in voices:
                train = [r for r in synth if r["voice"] != v]
                test = [r for r in synth if r["voice"] == v]
                neg = sorted((f(r) for r in train if r["kind"] != "filler"), reverse=True)
                tmin = sum({r["file"]: r["minutes"] for r in train}.values())
                k = 0 if target == "0 FP" else int(tmin)
                thr = neg[k] if len(neg) > k else 0.0
                thrs.append(thr)
                tp += sum(f(r) > thr for r in test if r["kind"] == "filler")
                npos += sum(r["kind"] == "filler" for r in test)
                fp += sum(f(r) > thr for r in test if r["kind"] != "filler")
            print(f"| {name} | {target} | {tp / max(npos, 1):.3f} ({tp}/{npos}) | {fp} ({fp / max(minutes, 1e-9):.2f}/min) "
                  f"| {min(thrs):.3g}-{max(thrs):.3g} |")
    print()
    print("Per voice (p_filler): fillers found at the pooled 0-FP threshold, and the median filler score")
    pos_all = [r["p_filler"] for r in synth if r["kind"] == "filler"]
    thr0 = recall_at(pos_all, [r["p_filler"] for r in synth if r["kind"] != "filler"], 0)[1]
    for v in voices:
        pv = [r["p_filler"] for r in synth if r["voice"] == v and r["kind"] == "filler"]
        print(f"  {v}: {sum(x > thr0 for x in pv)}/{len(pv)}, median {np.median(pv):.3f}")
    print("Per spoken filler (p_filler): median and share above the pooled 0-FP threshold")
    for sp in ("um", "uh", "er", "ah", "hmm"):
        pv = [r["p_filler"] for r in synth if r["kind"] == "filler" and r["spoken"] == sp]
        if pv:
            print(f"  {sp}: n={len(pv)} median {np.median(pv):.3f}, above {np.mean([x > thr0 for x in pv]):.2f}")
    print("Top negatives (p_filler):")
    for r in sorted((r for r in synth if r["kind"] != "filler"), key=lambda r: -r["p_filler"])[:8]:
        print(f"  {r['p_filler']:.3f} {r['kind']} {r['spoken']!r} {Path(r['file']).parent.name}/{Path(r['file']).stem}"
              f" {r['start']}-{r['end']} top {r['top']!r}")
    print("Real recordings (evaluation only):")
    for r in rows:
        if r["corpus"] == "real":
            print(f"  {r['voice']} {r['kind']} {r['spoken']!r} {r['start']}-{r['end']}: p_filler {r['p_filler']:.3f}, "
                  f"p_end {r['p_end']:.3f}, no_speech {r['p_no_speech']:.2f}, top {r['top']!r} {r['top_p']:.2f}")


if __name__ == "__main__":
    main()
