"""How well starcoach's audio-quality estimate tracks the noise mixed into a corpus (no model needed).

usage: quality_study.py DIR [DIR ...] [--scores CACHE_DIR --cmd 'COMMAND {audio}']

For each folder (a corpus or one of its ``make_noisy.py`` copies; the folder name says the
condition) prints the estimated SNR of every file (median, min, max) and how many files the
report would call noisy. With ``--scores``, the filled-pause F1 of each condition's files is
read from the harness cache of ``eval_noise.py`` for COMMAND, and the files are pooled by their
estimated SNR in 5 dB bands: that is what the noisy-warning threshold is chosen on.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from starcoach.analysis.pipeline import voice_activity  # noqa: E402
from starcoach.analysis.quality import NOISY_SNR_DB, audio_quality  # noqa: E402
from starcoach.audio.decode import load_audio  # noqa: E402
from starcoach.audio.stats import signal_stats  # noqa: E402


def estimate(path: Path):
    x = load_audio(path).samples
    return audio_quality(voice_activity(x), signal_stats(x))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dirs", nargs="+", type=Path)
    p.add_argument("--scores", type=Path, help="the harness cache of eval_noise.py")
    p.add_argument("--cmd", help="the analyzer command whose cached outputs are scored")
    a = p.parse_args()
    bands: dict[int, list] = {}
    if a.scores:
        from harness import _eval_corpus, run_one

        score_file = _eval_corpus().score_file
    print("| condition | files | estimated SNR median (min-max) dB | called noisy |")
    print("| --- | --- | --- | --- |")
    for d in a.dirs:
        snrs = []
        for f in sorted(d.glob("*.flac")):
            q = estimate(f)
            snr = q.snr_db if q.snr_db is not None else 99.0
            snrs.append(snr)
            truth = f.with_suffix(".json")
            if a.scores and truth.exists():
                out, _ = run_one(a.cmd, f, a.scores)
                if out is not None:
                    bands.setdefault(int(min(snr, 40) // 5 * 5), []).append(score_file(json.loads(truth.read_text()), out))
        noisy = sum(s < NOISY_SNR_DB for s in snrs)
        print(f"| {d.name} | {len(snrs)} | {statistics.median(snrs):.1f} ({min(snrs):.1f}-{max(snrs):.1f}) | {noisy} |")
    if bands:
        print("\n| estimated SNR band | files | filled-pause P | R | F1 | long-pause R |")
        print("| --- | --- | --- | --- | --- | --- |")
        for lo in sorted(bands):
            rows = bands[lo]
            tp, pred, true = (sum(r[f"filler_fp_{k}"] for r in rows) for k in ("tp", "pred", "true"))
            pr, rc = (tp / pred if pred else 1.0), (tp / true if true else 1.0)
            f1 = 2 * pr * rc / (pr + rc) if pr + rc else 0.0
            ltp, ltrue = sum(r["pause_tp"] for r in rows), sum(r["pause_true"] for r in rows)
            print(f"| {lo}-{lo + 5} dB | {len(rows)} | {pr:.2f} | {rc:.2f} | {f1:.2f} | "
                  f"{ltp / ltrue if ltrue else 1.0:.2f} |")


if __name__ == "__main__":
    main()
