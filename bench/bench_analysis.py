"""Benchmark: the analysis stage (metrics + STAR) on a 3-minute answer.

Transcribes a 3-minute answer once (three answers of the dev corpus laid end to end),
then times everything after transcription: speech activity, metrics (fillers, pace,
pauses, habits) and the STAR checker. Prints figures; asserts nothing.

usage: .venv/bin/python bench/bench_analysis.py [CORPUS_DIR]
"""

import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from starcoach.analysis.alignment import fit_to_audio
from starcoach.audio.activity import speech_activity
from starcoach.audio.decode import SAMPLE_RATE, load_audio
from starcoach.config import load_config
from starcoach.analysis.fillers import filler_word_indexes
from starcoach.analysis.metrics import compute_metrics, hesitation_gaps
from starcoach.asr.models import resolve_model
from starcoach.analysis.star import check_spoken
from starcoach.asr.engine import Engine


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def main() -> None:
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared/corpus/dev")
    files = sorted(corpus.glob("*-full.flac"))[:3]
    samples = np.concatenate([load_audio(f).samples for f in files])[: 180 * SAMPLE_RATE]
    cfg = load_config()
    engine = Engine(resolve_model(cfg.model, cfg.paths.models).path, cfg.transcribe)
    activity = speech_activity(samples, SAMPLE_RATE)
    transcript = fit_to_audio(engine.transcribe(samples), activity)

    def stage():
        act = speech_activity(samples, SAMPLE_RATE)
        hesitation_gaps(transcript, act, options=cfg.metrics)
        m = compute_metrics(transcript, act, options=cfg.metrics)
        check_spoken(transcript.words, duration_s=m.speaking_span_s,
                     filler_word_indexes=filler_word_indexes(m.fillers), options=cfg.star)

    def metrics_only():
        compute_metrics(transcript, activity, options=cfg.metrics)

    def star_only():
        check_spoken(transcript.words, duration_s=180.0, options=cfg.star)

    print(f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}")
    print(f"answer: {len(samples) / SAMPLE_RATE:.0f} s, {len(transcript.words)} words, model {cfg.model}")
    for name, fn in (("analysis stage (activity + gaps + metrics + STAR)", stage),
                     ("metrics alone", metrics_only), ("STAR alone", star_only)):
        fn()  # warm up
        runs = []
        for _ in range(30):
            t0 = time.perf_counter()
            fn()
            runs.append((time.perf_counter() - t0) * 1000)
        print(f"{name}: median {statistics.median(runs):.1f} ms, max {max(runs):.1f} ms (30 runs)")


if __name__ == "__main__":
    main()
