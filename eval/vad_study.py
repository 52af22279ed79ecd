"""How Silero VAD options behave on noise alone, filled pauses, word gaps and long pauses.

usage: vad_study.py NOISE_DIR CORPUS_DIR [CORPUS_DIR ...] [--json OUT]

NOISE_DIR holds speech-free files (make_voices.py --noise-only); each CORPUS_DIR holds
make_voices.py answers (their ``chunks``, ``filled_pauses`` and ``long_pauses`` give exact times).
Frame probabilities are computed once per file; every option set is applied to the same ones.
Prints, per option set and corpus:
  noise%     share of the speech-free seconds marked as speech (all noise files pooled)
  fill>=.5   filled pauses with at least half their length inside a region (and >=.9)
  gaps       word/sentence gaps of 0.2-0.6 s that show as a silence between regions (>= 0.1 s)
  LP R / P   long pauses found (a silence >= 1.5 s overlapping one) / silences >= 1.5 s inside
             the speech span that overlap a true long pause
  LP kept    mean (silence length / true pause length) over the long pauses found
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from starcoach.asr.vad import VadOptions, regions_from_probabilities, silences, speech_probabilities  # noqa: E402

OPTION_SETS = {
    "fw-defaults (thr .5, sil 2 s, pad .4)": VadOptions(threshold=0.5, min_silence_s=2.0, pad_s=0.4),
    "thr .5 sil .1 pad .4": VadOptions(threshold=0.5, min_silence_s=0.1, pad_s=0.4),
    "thr .5 sil .1 pad .2": VadOptions(threshold=0.5, min_silence_s=0.1, pad_s=0.2),
    "thr .5 sil .1 pad .1": VadOptions(threshold=0.5, min_silence_s=0.1, pad_s=0.1),
    "thr .5 sil .1 pad .03": VadOptions(threshold=0.5, min_silence_s=0.1, pad_s=0.03),
    "thr .5 sil .1 pad 0": VadOptions(threshold=0.5, min_silence_s=0.1, pad_s=0.0),
    "thr .35 sil .1 pad .03": VadOptions(threshold=0.35, min_silence_s=0.1, pad_s=0.03),
    "thr .65 sil .1 pad .03": VadOptions(threshold=0.65, min_silence_s=0.1, pad_s=0.03),
    "thr .5 sil .25 pad .03": VadOptions(threshold=0.5, min_silence_s=0.25, pad_s=0.03),
}


def _load(path: Path) -> np.ndarray:
    x, rate = sf.read(path, dtype="float32", always_2d=True)
    if rate != 16000:
        raise SystemExit(f"{path}: {rate} Hz, expected 16000")
    return x.mean(axis=1)


def _inside(regions, a: float, b: float) -> float:
    return sum(max(0.0, min(b, r.end) - max(a, r.start)) for r in regions) / max(b - a, 1e-9)


def study_corpus(cache: list[tuple[dict, np.ndarray, int]], opts: VadOptions) -> dict:
    f_half = f_most = n_f = 0
    gap_seen = n_gap = 0
    lp_hit = lp_n = lp_pred = lp_good = 0
    kept: list[float] = []
    for truth, probs, n in cache:
        regions = regions_from_probabilities(probs, n, opts)
        for f in truth["filled_pauses"]:
            c = _inside(regions, f["start_s"], f["end_s"])
            n_f += 1
            f_half += c >= 0.5
            f_most += c >= 0.9
        sil = silences(regions, start=0.0, end=n / 16000, min_s=0.1)
        ch = truth["chunks"]
        for a, b in zip(ch, ch[1:]):
            g0, g1 = a["end_s"], b["start_s"]
            if 0.2 <= g1 - g0 <= 0.6:
                n_gap += 1
                gap_seen += any(s < g1 and e > g0 for s, e in sil)
        span0, span1 = truth["sentences"][0]["start_s"], truth["sentences"][-1]["end_s"]
        long_sil = [(s, e) for s, e in sil if e - s >= 1.5 and s >= span0 - 0.05 and e <= span1 + 0.05]
        for lp in truth["long_pauses"]:
            a, b = lp["start_s"], lp["start_s"] + lp["duration_s"]
            lp_n += 1
            over = [(s, e) for s, e in long_sil if s < b and e > a]
            if over:
                lp_hit += 1
                kept.append(max(e - s for s, e in over) / lp["duration_s"])
        lp_pred += len(long_sil)
        lp_good += sum(any(s < lp["start_s"] + lp["duration_s"] and e > lp["start_s"] for lp in truth["long_pauses"])
                       for s, e in long_sil)
    return {"fill_half": f_half / max(n_f, 1), "fill_most": f_most / max(n_f, 1), "n_fill": n_f,
            "gaps": gap_seen / max(n_gap, 1), "n_gaps": n_gap, "lp_r": lp_hit / max(lp_n, 1),
            "lp_p": lp_good / max(lp_pred, 1), "lp_kept": float(np.mean(kept)) if kept else 0.0, "n_lp": lp_n}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("noise_dir", type=Path)
    p.add_argument("corpora", type=Path, nargs="+")
    p.add_argument("--json", type=Path)
    a = p.parse_args()
    noise = []
    for f in sorted(a.noise_dir.glob("*.flac")):
        probs, n = speech_probabilities(_load(f))
        noise.append((f.stem, probs, n))
    corpora = {}
    for d in a.corpora:
        cache = []
        for tj in sorted(d.glob("*.json")):
            probs, n = speech_probabilities(_load(tj.with_suffix(".flac")))
            cache.append((json.loads(tj.read_text()), probs, n))
        corpora[d.name] = cache
    results = {}
    print("| options | noise kinds (% of 30 s marked speech) |")
    print("| --- | --- |")
    for name, opts in OPTION_SETS.items():
        parts = []
        for stem, probs, n in noise:
            regions = regions_from_probabilities(probs, n, opts)
            parts.append(f"{stem.removeprefix('noise-')} {100 * sum(r.duration for r in regions) / (n / 16000):.0f}")
        print(f"| {name} | {', '.join(parts)} |")
    print()
    print("| options | corpus | filled pauses >=50% in speech | >=90% | gaps 0.2-0.6 s seen | long-pause R | P "
          "| long pause kept |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, opts in OPTION_SETS.items():
        for cname, cache in corpora.items():
            r = study_corpus(cache, opts)
            results[f"{name} / {cname}"] = r
            print(f"| {name} | {cname} | {r['fill_half']:.3f} (n={r['n_fill']}) | {r['fill_most']:.3f} "
                  f"| {r['gaps']:.2f} (n={r['n_gaps']}) | {r['lp_r']:.2f} (n={r['n_lp']}) | {r['lp_p']:.2f} "
                  f"| {r['lp_kept']:.2f} |")
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
