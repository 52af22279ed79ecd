"""What the live level meter asks of the recording worker, for a short and an hour-long take.

    .venv/bin/python bench/bench_meter.py [--minutes 2,60]

Feeds noise in 0.1 s blocks, as the recorder does, to ``LevelMeter`` and reads its ``levels``
after every second block (the live worker looks for a cut four times a second of audio and asks
for the levels up to twice each time), then ``final_levels`` once; prints the time all those
reads took, the slowest one, and the final read, and the time the blocks took to feed (the
levels' sums, the peak, and the band power that tells a narrowband channel).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from starcoach.audio.activity import LevelMeter  # noqa: E402

RATE = 16000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", default="2,60", help="comma-separated lengths of the takes")
    a = p.parse_args()
    block = (np.random.default_rng(0).standard_normal(RATE // 10) * 0.01 + 0.003).astype(np.float32)
    lengths = [float(m) for m in a.minutes.split(",")]
    if not lengths or min(lengths) <= 0:
        p.error("--minutes takes lengths over 0, e.g. 2,60")
    for minutes in lengths:
        meter = LevelMeter(RATE)
        reads, total, worst, fed = 0, 0.0, 0.0, 0.0
        for i in range(int(minutes * 600)):
            t = time.perf_counter()
            meter.feed(block)
            fed += time.perf_counter() - t
            if i % 2 == 0:
                t = time.perf_counter()
                meter.levels
                took = time.perf_counter() - t
                reads, total, worst = reads + 1, total + took, max(worst, took)
        t = time.perf_counter()
        final = meter.final_levels()
        last = time.perf_counter() - t
        print(f"{minutes:g} min ({len(final)} frames): {reads} reads of `levels` took {total:.2f} s in all "
              f"({total / (minutes * 60) * 100:.2f}% of the audio's time), the slowest {worst * 1000:.1f} ms; "
              f"`final_levels` {last * 1000:.1f} ms; feeding the blocks {fed:.2f} s "
              f"({fed / (minutes * 60) * 100:.2f}%)")


if __name__ == "__main__":
    main()
