"""A prototype of the recommended design, scored like any analyzer: baseline words + VAD + filler probe.

usage: prototype.py AUDIO [--threshold 0.015] [--window 3] [--threads 1] [--reuse-baseline CACHE_DIR]
                    [--keep-words-outside-speech] [--no-single-words]

1. Silero VAD regions (starcoach.vad defaults).
2. Words from the baseline pass (plain faster-whisper with the filler prompt, eval/baseline.py);
   with --reuse-baseline, the harness's cached baseline output for the same file is reused.
   Words (fillers included) with no voice activity within 0.1 s of them are dropped: no voice,
   no words.
3. Candidates: whole voice regions of at least 0.12 s that no word touches (first 1.0 s), and
   single words that fill a voice region of at most 1.0 s alone (set off by silences), unless
   the word is already a filler. With --partial-gaps, also voiced stretches beside words inside
   a region (words shrunk by 20 ms): measured, these are mostly the tails of words.
   Filler words are first cut to their voiced part.
4. Filler words of the main pass in one voice region less than 0.35 s apart ("er, um" for one
   "um") are merged into one, typed by its more probable word; a filler word stamped on
   silence moves onto the nearest voiced gap within 1 s. All candidates are scored in one batched probe
   call; a candidate is a filled pause when p_filler >= threshold; a single word it replaces
   is removed.
5. Pauses: every VAD silence of >= 1 s between the first and the last word, at its full
   extent (a pause is silence of the voice, not a gap between Whisper's loose word times).
This is a lab prototype, not the integration: it exists to measure the design end to end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from starcoach.asr.probe import FillerProbe, ProbeOptions, cut  # noqa: E402
from starcoach.asr.vad import silences, speech_regions  # noqa: E402

FILLER_RE = re.compile(r"^(um+|uh+|er+m?|ah+|hm+|mm+|mhm)$")


def _norm(t: str) -> str:
    return re.sub(r"[^a-z' ]", "", t.lower()).strip()


def _overlap(a0: float, a1: float, regions) -> float:
    return sum(max(0.0, min(a1, r.end) - max(a0, r.start)) for r in regions)


def _baseline_doc(audio: Path, reuse: Path | None, threads: int) -> dict:
    import baseline  # noqa: PLC0415
    from harness import BASELINE_CMD  # noqa: PLC0415

    if reuse:
        key = hashlib.sha1(f"{BASELINE_CMD}\0{audio.resolve()}\0{audio.stat().st_mtime_ns}".encode()).hexdigest()[:16]
        c = reuse / f"{audio.stem}-{key}.json"
        if c.exists():
            return json.loads(c.read_text())["out"]
    return baseline.analyze(str(audio), str(HERE.parent / "models" / "base"), threads, baseline.PROMPT)


def analyze(audio_path: Path, *, threshold: float, window: float, threads: int, reuse: Path | None,
            words_outside: bool, single_words: bool, dump: Path | None = None, partial_gaps: bool = False) -> dict:
    from faster_whisper.audio import decode_audio  # noqa: PLC0415

    x = decode_audio(str(audio_path), sampling_rate=16000)
    regions = speech_regions(x)
    doc = _baseline_doc(audio_path, reuse, threads)
    # a word with no voice activity within 0.1 s of it was invented in noise; Whisper's word
    # edges are loose (a zero-length "so,", a "Yeah" stamped 0-1.86 s over 0.3 s of voice), so
    # any overlap keeps a word
    words = [w for w in doc["words"] if words_outside or _overlap(w["start"] - 0.1, w["end"] + 0.1, regions) > 0]
    fillers = [{"text": _norm(w["text"]), "start": w["start"], "end": w["end"], "source": "word",
                "probability": w.get("probability", 0.0)}
               for w in words if FILLER_RE.match(_norm(w["text"]))]
    # candidates
    cands: list[tuple[float, float, int | None]] = []  # (start, end, index of a single word or None)
    kinds: dict[tuple[float, float], str] = {}
    for r in regions:
        t = r.start
        inside = [w for w in words if w["end"] > r.start and w["start"] < r.end]
        if not inside and 0.12 <= r.duration:  # a whole voiced region that no word covers
            cands.append((r.start, min(r.end, r.start + 1.0), None))
            kinds[cands[-1][:2]] = "region"
        elif partial_gaps:  # voiced stretches inside a region beside words: often a word's tail
            for w in sorted(inside, key=lambda w: w["start"]):
                s, e = w["start"] + 0.02, w["end"] - 0.02
                if s - t >= 0.12:
                    cands.append((t, min(s, t + 1.0), None))
                    kinds[cands[-1][:2]] = "partial"
                t = max(t, e)
            if r.end - t >= 0.12:
                cands.append((t, min(r.end, t + 1.0), None))
                kinds[cands[-1][:2]] = "partial"
        if single_words and len(inside) == 1 and r.duration <= 1.0 and not FILLER_RE.match(_norm(inside[0]["text"])):
            cands.append((r.start, r.end, words.index(inside[0])))
    # a filler word's times are loose: keep the voiced part of it (it moved fillers across
    # sentence boundaries by up to 0.5 s)
    for f in fillers:
        part = [(max(f["start"], r.start), min(f["end"], r.end)) for r in regions if r.end > f["start"] and r.start < f["end"]]
        if part:
            f["start"], f["end"] = round(part[0][0], 3), round(part[-1][1], 3)
    # one voiced stretch holds one filled pause: the main pass often writes "er, um" for one
    # "um"; filler words in the same voice region with under 0.35 s between them are merged
    merged: list[dict] = []
    for f in fillers:
        same = merged and f["start"] - merged[-1]["end"] < 0.35 and not silences(
            [r for r in regions if r.end > merged[-1]["end"] and r.start < f["start"]],
            start=merged[-1]["end"], end=f["start"], min_s=0.1)
        if same:  # the pair's type is that of its more probable word
            keep = f if f["probability"] > merged[-1]["probability"] else merged[-1]
            merged[-1] = {**merged[-1], "text": keep["text"], "end": f["end"], "probability": keep["probability"]}
        else:
            merged.append(dict(f))
    fillers = merged
    # a candidate on a filler the main pass already wrote is that filler
    cands = [c for c in cands if not any(f["start"] < c[1] and f["end"] > c[0] for f in fillers)]
    # a main-pass filler stamped on silence (Whisper's times for an "uh" are loose) is the nearest
    # voiced gap candidate within 1 s with no word between them: move it there
    content = [w for w in words if not FILLER_RE.match(_norm(w["text"]))]
    for f in fillers:
        if _overlap(f["start"], f["end"], regions) >= 0.5 * max(f["end"] - f["start"], 0.02):
            continue
        near = [c for c in cands if c[2] is None and min(abs(c[0] - f["end"]), abs(f["start"] - c[1])) <= 1.0
                and not any(w["start"] < max(c[1], f["end"]) and w["end"] > min(c[0], f["start"]) for w in content)]
        if near:
            c = min(near, key=lambda c: abs((c[0] + c[1]) / 2 - (f["start"] + f["end"]) / 2))
            f.update(start=round(c[0], 3), end=round(c[1], 3), moved=True)
            cands.remove(c)
    drop: set[int] = set()
    if cands:
        from starcoach.asr.models import resolve_model  # noqa: PLC0415

        probe = FillerProbe.load(resolve_model("base", HERE.parent / "models").path, threads=threads,
                                 options=ProbeOptions(window_s=window))
        scores = probe.score([cut(x, s, e, pad_s=0.1) for s, e, _ in cands])
        if dump:
            with dump.open("a") as fh:
                for (s, e, wi), sc in zip(cands, scores):
                    fh.write(json.dumps({"file": str(audio_path), "start": round(s, 3), "end": round(e, 3),
                                         "kind": "word" if wi is not None else kinds.get((s, e), "gap"),
                                         "word": words[wi]["text"] if wi is not None else None,
                                         "p_filler": sc.p_filler, "p_um": sc.p_um, "p_no_speech": sc.p_no_speech,
                                         "window": window}) + "\n")
        for (s, e, wi), sc in zip(cands, scores):
            if sc.p_filler >= threshold:
                fillers.append({"text": "um" if sc.p_um >= sc.p_filler / 2 else "uh", "start": round(s, 3),
                                "end": round(e, 3), "source": "probe-word" if wi is not None else "probe-gap",
                                "p_filler": round(sc.p_filler, 4)})
                if wi is not None:
                    drop.add(wi)
    words = [w for i, w in enumerate(words) if i not in drop]
    fillers.sort(key=lambda f: f["start"])
    # discourse fillers as the baseline counts them
    fillers += [f for f in doc["fillers"] if not FILLER_RE.match(_norm(f["text"]))]
    # pauses: silences of the voice of at least 1 s between the first and the last word, at their
    # full VAD extent (Whisper's word edges are loose: bounding a pause by them cut 0.5 s off some)
    spoken = [w for w in words if not FILLER_RE.match(_norm(w["text"]))]
    pauses = []
    if spoken:
        for s, e in silences(regions, start=regions[0].start, end=regions[-1].end, min_s=1.0):
            if s >= spoken[0]["start"] - 0.5 and e <= spoken[-1]["end"] + 0.5:
                pauses.append({"start": round(s, 3), "end": round(e, 3), "duration_s": round(e - s, 3)})
    content = [w for w in words if not FILLER_RE.match(_norm(w["text"]))]
    span = (content[-1]["end"] - content[0]["start"]) if content else 0.0
    return {
        "duration_s": round(len(x) / 16000, 3),
        "wpm": round(len(content) / (span / 60), 1) if span > 0 else None,
        "no_speech": not regions,
        "transcript": " ".join(w["text"] for w in words),
        "words": words, "fillers": fillers, "pauses": pauses, "star": {},
        "candidates": len(cands),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("audio", type=Path)
    p.add_argument("--threshold", type=float, default=0.015)
    p.add_argument("--window", type=float, default=3.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reuse-baseline", type=Path)
    p.add_argument("--keep-words-outside-speech", dest="words_outside", action="store_true")
    p.add_argument("--no-single-words", dest="single_words", action="store_false")
    p.add_argument("--dump-candidates", type=Path, help="append every candidate and its scores to this JSONL file")
    p.add_argument("--partial-gaps", action="store_true",
                   help="also probe voiced stretches beside words inside a region (measured: mostly word tails)")
    a = p.parse_args()
    doc = analyze(a.audio, threshold=a.threshold, window=a.window, threads=a.threads, reuse=a.reuse_baseline,
                  words_outside=a.words_outside, single_words=a.single_words, dump=a.dump_candidates,
                  partial_gaps=a.partial_gaps)
    json.dump(doc, sys.stdout)
    print()


if __name__ == "__main__":
    main()
