"""How long the STAR stage takes on a two-minute answer (issue 15: at most 20 ms on one core).

    .venv/bin/python bench/bench_star.py [--runs 50]

Builds a ~300-word answer (two minutes at 150 words a minute) from the project's own test
answers, once as written text and once as timed words with no punctuation (what Whisper
gives on hesitant speech), and prints the median and the slowest time of ``check_text`` and
``check_spoken`` with each tagger (the default hybrid, also with the rules asked every time;
the learned tagger alone; the rules), after one warm-up call (memo caches cleared before
every run), plus the one-off cost of loading the weights.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ANSWERS = Path(__file__).resolve().parents[1] / "tests" / "data" / "star_extra"


def two_minute_text(words: int = 300) -> str:
    text = " ".join((ANSWERS / name).read_text() for name in
                    ("01-written-warehouse.txt", "13-spoken-punctuated.txt", "15-two-part-sentences.txt"))
    return " ".join(text.split()[:words])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args()

    t0 = time.perf_counter()
    from starcoach.analysis.star import StarOptions, check_spoken, check_text
    from starcoach.analysis.star_features import clear_caches
    from starcoach.analysis.star_tagger import load_model
    from starcoach.domain.transcript import Word

    load_model()
    load_ms = (time.perf_counter() - t0) * 1000
    text = two_minute_text()
    spoken = [Word(re.sub(r"[^\w'%]", "", w.lower()) or w, 0.4 * k, 0.4 * k + 0.3)
              for k, w in enumerate(text.split())]
    print(f"answer: {len(text.split())} words; import + weights load {load_ms:.0f} ms (once per process)")
    # hybrid (the default) asks the rules only when a part is unsure; "asked" forces the worst case
    taggers = {"hybrid": StarOptions(), "hybrid, rules always asked": StarOptions(unclear_margin=1.0),
               "learned": StarOptions(tagger="learned"), "rules": StarOptions(tagger="rules")}
    runs = []
    for tagger, options in taggers.items():
        runs += [(f"{tagger}: check_text (written)", lambda o=options: check_text(text, options=o)),
                 (f"{tagger}: check_spoken (timed words, no punctuation)",
                  lambda o=options: check_spoken(spoken, duration_s=spoken[-1].end, options=o))]
    for name, run in runs:
        run()
        times = []
        for _ in range(args.runs):
            clear_caches()  # a new answer: no memoised tokens or hash slots
            t = time.perf_counter()
            run()
            times.append((time.perf_counter() - t) * 1000)
        print(f"{name}: median {statistics.median(times):.1f} ms, max {max(times):.1f} ms over {args.runs} runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
