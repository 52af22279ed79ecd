"""How long the review commands take over thousands of takes (`takes`, `progress`, `coverage`, `compare`).

    PYTHONPATH=src .venv/bin/python bench/bench_review.py [--takes 2000] [--runs 3] [--home DIR]

Builds a scratch home (``STARCOACH_HOME`` in a temporary folder, or DIR, kept) holding N takes
of six questions of three principles, stored through the store's own API as `import` stores
them: each a 0.2 s silent FLAC and the analysis document the pipeline writes for a two-minute
answer of about 300 words (the analysis stages themselves, run on timed words cut from the
project's test answers: fillers, pauses, pace, the STAR checker; no speech model). Then runs
each command in a fresh process, as a user does, and prints the median (and slowest) wall time
of RUNS runs, after one run to warm the disk cache. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANSWERS = ROOT / "tests" / "data" / "star_extra"
QUESTIONS = ("customer-1", "customer-2", "ownership-1", "ownership-2", "deep-1", "deep-2")
FILLERS = ("um,", "uh,", "you know,", "like,")


def answer_words(rng: random.Random, story: list[str], words: int = 300) -> list:
    """A two-minute answer as the recogniser gives it: STORY's words (cycled to WORDS), a filler
    every 20 words or so, timed at about 150 a minute with a long pause now and then."""
    from starcoach.domain.transcript import Word

    out, t = [], 0.5
    for k in range(words):
        text = story[k % len(story)]
        if rng.random() < 0.05:
            for f in rng.choice(FILLERS).split():
                out.append(Word(f, t, t + 0.25, 0.9))
                t += 0.3
        out.append(Word(text, t, t + 0.3, 0.95))
        t += 0.4 + (2.5 if rng.random() < 0.01 else 0.0)
    return out


def analysis(words: list, source: str) -> dict:
    """The pipeline's document for WORDS, made by its own stages (speech where the words are)."""
    import numpy as np

    from starcoach.analysis.document import analysis_document
    from starcoach.analysis.fillers import filler_word_indexes
    from starcoach.analysis.metrics import compute_metrics
    from starcoach.analysis.pipeline import Analysis, Timings
    from starcoach.analysis.quality import audio_quality
    from starcoach.analysis.star import check_spoken
    from starcoach.asr.models import ResolvedModel
    from starcoach.audio.activity import HOP_S, Activity
    from starcoach.audio.stats import SignalStats
    from starcoach.domain.transcript import Transcript

    duration = words[-1].end + 1.0
    frames = np.full(int(duration / HOP_S), -60.0)
    for w in words:
        frames[int(w.start / HOP_S):int(w.end / HOP_S)] = -20.0
    activity = Activity(regions=tuple((w.start, w.end) for w in words), threshold_dbfs=-45.0,
                        noise_floor_dbfs=-60.0, frame_db=frames)
    transcript = Transcript.from_words(words, duration)
    metrics = compute_metrics(transcript, activity)
    star = check_spoken(words, duration_s=metrics.speaking_span_s, filler_word_indexes=filler_word_indexes(metrics.fillers))
    stats = SignalStats(peak=0.5, clipped=0, samples=int(duration * 16_000))  # a voice at -20 dBFS peaks near -6
    quality = audio_quality(activity, stats, heard=transcript.heard, duration_s=transcript.duration_s,
                            words=[(w.start, w.end) for w in transcript.words])  # as the pipeline's _finish
    return analysis_document(Analysis(source=source, transcript=transcript, activity=activity, metrics=metrics,
                                      star=star, model=ResolvedModel("base", Path("models/base")),
                                      timings=Timings(0.0, 0.0, 0.0, 0.0), quality=quality))


def build_home(home: Path, n: int) -> int:
    """N takes in HOME (with the project's config.toml); returns the bytes of one document."""
    import json

    import numpy as np
    import soundfile as sf

    from starcoach.config import load_config
    from starcoach.takes.questions import load_bank
    from starcoach.takes.session import open_store

    shutil.copyfile(ROOT / "config.toml", home / "config.toml")
    os.environ["STARCOACH_HOME"] = str(home)
    cfg = load_config()
    bank = load_bank(cfg.paths.questions)
    rng = random.Random(0)
    stories = [" ".join(p.read_text().split()).split() for p in sorted(ANSWERS.glob("*.txt"))]
    # one document per story and question, cycled: each is a different telling, stored as many times
    docs = [analysis(answer_words(rng, stories[k % len(stories)]), f"take-{k}.flac") for k in range(24)]
    silent = home / "silent.flac"
    sf.write(silent, np.zeros(3200, np.float32), 16000)
    start = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
    with open_store(cfg) as store:
        for i in range(n):
            when = start + timedelta(hours=5 * i)
            folder = cfg.paths.recordings / when.strftime("%Y-%m-%d")
            folder.mkdir(parents=True, exist_ok=True)
            audio = folder / when.strftime("take-%H%M%S.flac")
            shutil.copyfile(silent, audio)
            question = bank.get(QUESTIONS[i % len(QUESTIONS)])
            doc = docs[(i * 7) % len(docs)]
            store.add_take(audio_path=audio, question_id=question.id, question_text=question.text,
                           principle=question.principles[0], principles=question.principles, source="import",
                           started_at=when.isoformat(),
                           duration_s=doc["duration_s"], document=doc)
    silent.unlink()
    return len(json.dumps(docs[0]))


def timed(args: list[str], runs: int) -> tuple[float, float, int]:
    """Median and slowest wall time of ``starcoach ARGS`` in a fresh process, and its exit code."""
    cmd = [sys.executable, "-m", "starcoach", *args]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # the disk cache warm
    times, code = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        code = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        times.append(time.perf_counter() - t0)
    return statistics.median(times), max(times), code


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--takes", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--home", type=Path, help="build the home here and keep it (a new, empty folder)")
    args = ap.parse_args()
    if args.home is not None and args.home.exists() and (not args.home.is_dir() or any(args.home.iterdir())):
        sys.exit(f"bench_review: {args.home} is not a new, empty folder; it would get a config.toml and "
                 f"{args.takes} takes: give a folder that does not exist yet")
    home = args.home or Path(tempfile.mkdtemp(prefix="bench-review-"))
    home.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        size = build_home(home, args.takes)
        print(f"home: {home}; {args.takes} takes of {len(QUESTIONS)} questions, a document {size / 1000:.0f} kB "
              f"(built in {time.perf_counter() - t0:.0f} s); {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        commands = [["--help"], ["takes"], ["takes", "--json"], ["progress"], ["progress", "--lp", "ownership"],
                    ["coverage"], ["coverage", "--json"], ["compare", "--question", QUESTIONS[0]],
                    ["compare", "--question", QUESTIONS[0], "--json"]]
        print(f"{'command':<48} {'median':>8} {'slowest':>8}  (wall, {args.runs} runs, a fresh process each)")
        for command in commands:
            median, slowest, code = timed(command, args.runs)
            note = "" if code == 0 else f"  exit {code}"
            print(f"{'starcoach ' + ' '.join(command):<48} {median:>7.2f}s {slowest:>7.2f}s{note}")
    finally:
        if args.home is None:
            shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
