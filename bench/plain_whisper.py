"""Plain faster-whisper as a baseline analyzer, in the JSON shape eval_corpus.py reads.

usage: .venv/bin/python bench/plain_whisper.py AUDIO [--model DIR] [--int8]

Runs faster-whisper with its own defaults (compute type, threads, beam, temperature
fallback, language detection) and word timestamps, nothing of starcoach's: fillers are
the filled-pause words that survive in its transcript, pace is words over the span from
the first to the last word, pauses are the gaps between words. `--int8` loads int8
weights on all cores and sets the language, the tuned baseline the README also lists.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from pathlib import Path

FILLED = {"um", "uh", "umm", "uhh", "er", "erm", "ah", "hmm", "mm"}
ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("audio")
    ap.add_argument("--model", default=str(ROOT / "models" / "base"))
    ap.add_argument("--int8", action="store_true")
    a = ap.parse_args()
    from faster_whisper import WhisperModel, decode_audio

    t0 = time.perf_counter()
    if a.int8:
        model = WhisperModel(a.model, device="cpu", compute_type="int8", cpu_threads=os.cpu_count() or 1)
    else:
        model = WhisperModel(a.model)
    audio = decode_audio(a.audio)
    t1 = time.perf_counter()
    segments, _ = model.transcribe(audio, word_timestamps=True, **({"language": "en"} if a.int8 else {}))
    words = [w for s in segments for w in (s.words or ()) if w.word.strip()]
    t2 = time.perf_counter()
    norm = [re.sub(r"[^a-z]", "", w.word.lower()) for w in words]
    fillers = [{"text": n, "start": w.start, "end": w.end} for n, w in zip(norm, words) if n in FILLED]
    spoken = [w for n, w in zip(norm, words) if n not in FILLED]
    span = (spoken[-1].end - spoken[0].start) if spoken else 0.0
    pauses = [{"start": a_.end, "end": b.start, "duration_s": round(b.start - a_.end, 3)}
              for a_, b in zip(words, words[1:]) if b.start - a_.end >= 0.3]
    print(json.dumps({
        "duration_s": len(audio) / 16000,
        "wpm": round(len(spoken) / span * 60, 1) if span else 0.0,
        "words": [{"text": w.word.strip(), "start": w.start, "end": w.end} for w in words],
        "fillers": fillers,
        "pauses": pauses,
        "star": {},
        "timings": {"load_s": round(t1 - t0, 3), "transcribe_s": round(t2 - t1, 3)},
    }))


if __name__ == "__main__":
    main()
