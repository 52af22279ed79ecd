"""Choose and validate the probe threshold on the candidates a pipeline really makes (leave-one-voice-out).

usage: candidate_study.py CANDIDATES.jsonl [--score p_filler|p_filler_speech]

CANDIDATES.jsonl is what ``prototype.py --dump-candidates`` appends: every voiced stretch no word
covers and every lone word, with its probe scores. A candidate is a true filled pause when it
overlaps one of the answer's ``filled_pauses`` (its truth JSON beside the audio) by at least
0.1 s. For each voice, the threshold is chosen on the OTHER voices' candidates (the lowest that
keeps their false positives at or under a target rate per minute of audio) and counted on the
left-out voice alone. Prints AUC, per-kind counts and the pooled left-out figures.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def load(path: Path, score: str) -> list[dict]:
    rows, truths = [], {}
    for line in path.read_text().splitlines():
        c = json.loads(line)
        f = Path(c["file"])
        if f not in truths:
            truths[f] = json.loads(f.with_suffix(".json").read_text())
        t = truths[f]
        c["voice"] = t["voice_id"]
        c["condition"] = f.parent.name
        c["minutes"] = t["duration_s"] / 60
        c["true"] = any(min(c["end"], g["end_s"]) - max(c["start"], g["start_s"]) >= 0.1 for g in t["filled_pauses"])
        c["s"] = c["p_filler"] if score == "p_filler" else c["p_filler"] * (1 - c["p_no_speech"])
        rows.append(c)
    # the same candidate written twice (a rerun) counts once
    seen, out = set(), []
    for c in rows:
        k = (c["file"], c["start"], c["end"], c["window"])
        if k not in seen:
            seen.add(k)
            out.append(c)
    return out


def auc(pos, neg) -> float:
    p, n = np.asarray(pos), np.asarray(neg)
    if not len(p) or not len(n):
        return float("nan")
    return float(((p[:, None] > n[None, :]).sum() + 0.5 * (p[:, None] == n[None, :]).sum()) / (len(p) * len(n)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("candidates", type=Path)
    ap.add_argument("--score", default="p_filler", choices=["p_filler", "p_filler_speech"])
    a = ap.parse_args()
    rows = load(a.candidates, a.score)
    for window in sorted({r["window"] for r in rows}):
        rs = [r for r in rows if r["window"] == window]
        minutes = sum({r["file"]: r["minutes"] for r in rs}.values())
        files = len({r["file"] for r in rs})
        print(f"window {window:g} s, score {a.score}: {len(rs)} candidates from {files} files, {minutes:.1f} min "
              f"({len(rs) / minutes:.0f} per minute); true fillers among them: {sum(r['true'] for r in rs)}")
        for kind in sorted({r["kind"] for r in rs}):
            k = [r for r in rs if r["kind"] == kind]
            print(f"  {kind}: {len(k)} candidates, {sum(r['true'] for r in k)} true, AUC "
                  f"{auc([r['s'] for r in k if r['true']], [r['s'] for r in k if not r['true']]):.3f}")
        print(f"  all: AUC {auc([r['s'] for r in rs if r['true']], [r['s'] for r in rs if not r['true']]):.3f}")
        voices = sorted({r["voice"] for r in rs})
        print("  | target FP/min on training voices | left-out recall | left-out FP (per min) | thresholds |")
        print("  | --- | --- | --- | --- |")
        for target in (0.0, 0.25, 0.5, 1.0):
            tp = npos = fp = 0
            thrs = []
            for v in voices:
                train = [r for r in rs if r["voice"] != v]
                test = [r for r in rs if r["voice"] == v]
                tmin = sum({r["file"]: r["minutes"] for r in train}.values())
                neg = sorted((r["s"] for r in train if not r["true"]), reverse=True)
                k = int(target * tmin)
                thr = neg[k] if len(neg) > k else 0.0
                thrs.append(thr)
                tp += sum(r["s"] > thr for r in test if r["true"])
                npos += sum(r["true"] for r in test)
                fp += sum(r["s"] > thr for r in test if not r["true"])
            print(f"  | {target:g} | {tp / max(npos, 1):.3f} ({tp}/{npos}) | {fp} ({fp / minutes:.2f}) "
                  f"| {min(thrs):.3g}-{max(thrs):.3g} |")
        for cond in sorted({r["condition"] for r in rs}):
            c = [r for r in rs if r["condition"] == cond]
            print(f"  {cond}: {len(c)} candidates, {sum(r['true'] for r in c)} true, AUC "
                  f"{auc([r['s'] for r in c if r['true']], [r['s'] for r in c if not r['true']]):.3f}")


if __name__ == "__main__":
    main()
