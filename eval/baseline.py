"""The baseline analyzer of issue 14: plain faster-whisper, fillers by regex, as a careful user would script it.

usage: baseline.py AUDIO [--model PATH] [--threads N] [--no-prompt]

Same model as starcoach, int8, language en, word timestamps, initial_prompt
"Um, uh, hmm, er, ah.", default beam size; fillers are the words that are a filler spelling;
pauses are gaps of at least 1 s between consecutive words (starcoach's pause_min_s). Prints one
JSON object in the shape ``eval_corpus.py`` reads (no STAR analysis: ``star`` is empty).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

FILLER_RE = re.compile(r"^(um+|uh+|er+m?|ah+|hm+|mm+)$")
DISCOURSE = ("you know", "i mean")
PROMPT = "Um, uh, hmm, er, ah."


def _norm(text: str) -> str:
    return re.sub(r"[^a-z' ]", "", text.lower()).strip()


def analyze(audio: str, model_path: str, threads: int, prompt: str | None) -> dict:
    from faster_whisper import WhisperModel  # noqa: PLC0415
    from faster_whisper.audio import decode_audio  # noqa: PLC0415

    x = decode_audio(audio, sampling_rate=16000)
    model = WhisperModel(model_path, device="cpu", compute_type="int8", cpu_threads=threads)
    segments, _ = model.transcribe(x, language="en", word_timestamps=True, initial_prompt=prompt)
    words = [{"text": w.word.strip(), "start": round(w.start, 3), "end": round(w.end, 3),
              "probability": round(w.probability, 3)} for s in segments for w in (s.words or [])]
    fillers = [w for w in words if FILLER_RE.match(_norm(w["text"]))]
    norm = [_norm(w["text"]) for w in words]
    for i in range(len(words) - 1):  # discourse fillers, as a regex user would count them
        if f"{norm[i]} {norm[i + 1]}" in DISCOURSE:
            fillers.append({"text": f"{norm[i]} {norm[i + 1]}", "start": words[i]["start"], "end": words[i + 1]["end"]})
        elif norm[i] == "like" and words[i]["text"].endswith(","):
            fillers.append({"text": "like", "start": words[i]["start"], "end": words[i]["end"]})
    pauses = [{"start": a["end"], "end": b["start"], "duration_s": round(b["start"] - a["end"], 3)}
              for a, b in zip(words, words[1:]) if b["start"] - a["end"] >= 1.0]
    content = [w for w, n in zip(words, norm) if not FILLER_RE.match(n)]
    span = (content[-1]["end"] - content[0]["start"]) if content else 0.0
    return {
        "duration_s": round(len(x) / 16000, 3),
        "wpm": round(len(content) / (span / 60), 1) if span > 0 else None,
        "transcript": " ".join(w["text"] for w in words),
        "words": words, "fillers": sorted(fillers, key=lambda f: f["start"]), "pauses": pauses, "star": {},
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("audio")
    p.add_argument("--model", default=str(Path(__file__).resolve().parents[1] / "models" / "base"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-prompt", action="store_true")
    a = p.parse_args()
    json.dump(analyze(a.audio, a.model, a.threads, None if a.no_prompt else PROMPT), sys.stdout)
    print()


if __name__ == "__main__":
    main()
