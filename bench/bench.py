"""Speed and memory figures for starcoach (a script that prints, not a test).

usage: .venv/bin/python bench/bench.py [--corpus DIR] [--skip-latency] [--skip-long]
(`make bench` runs it; the latency part feeds every answer at real time, about 15 minutes)

Prints, for the default model on the dev corpus:
  1. `analyze` wall time over audio length, and plain faster-whisper's (same model, its
     defaults, word timestamps) in the same run, with the ratio;
  2. record-mode latency: from the end of the audio entering the virtual microphone (fed
     at real-time speed) to the finished report;
  3. the analysis stage alone (metrics + STAR) per answer;
  4. peak memory (RSS) of `analyze`, and of a 60-minute recording;
  5. `starcoach --help` start-up time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
STARCOACH = [sys.executable, "-m", "starcoach"]


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def peak_rss_mb(cmd: list[str], env=None) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run a command; return (wall seconds, peak RSS in MB of it and its children, result)."""
    code = ("import resource, subprocess, sys, time, json; t=time.perf_counter(); "
            "r=subprocess.run(sys.argv[1:], capture_output=True, text=True); w=time.perf_counter()-t; "
            "print(json.dumps([w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024, r.returncode])); "
            "sys.stderr.write(r.stderr)")
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, env=env)
    wall, rss, rc = json.loads(out.stdout.strip().splitlines()[-1])
    return wall, rss, subprocess.CompletedProcess(cmd, rc, "", out.stderr)


PLAIN = """
import sys, time, json
from faster_whisper import WhisperModel, decode_audio
t0 = time.perf_counter()
model = WhisperModel(sys.argv[1], device="cpu", compute_type="int8", cpu_threads=0)
out = []
for f in sys.argv[2:]:
    t = time.perf_counter()
    audio = decode_audio(f)
    segments, _ = model.transcribe(audio, language="en", word_timestamps=True)
    words = [w for s in segments for w in s.words]
    out.append(time.perf_counter() - t)
print(json.dumps(out))
"""


def bench_throughput(files: list[Path], model_path: str) -> None:
    from starcoach.audio import load_audio

    audio_s = [load_audio(f).duration_s for f in files]
    ours = []
    for f in files:
        t = time.perf_counter()
        r = subprocess.run([*STARCOACH, "analyze", str(f), "--json"], capture_output=True, text=True)
        ours.append(time.perf_counter() - t)
        if r.returncode != 0:
            raise SystemExit(f"analyze failed on {f}: {r.stderr}")
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", PLAIN, model_path, *map(str, files)], capture_output=True, text=True)
    plain_total = time.perf_counter() - t
    per_file = json.loads(r.stdout)
    total_audio = sum(audio_s)
    print(f"1. analyze, {len(files)} answers, {total_audio:.0f} s of audio:")
    print(f"   starcoach analyze (one process per file, load included): {sum(ours):.1f} s "
          f"= {sum(ours) / total_audio:.3f} x audio")
    print(f"   plain faster-whisper (one process, model loaded once):   {plain_total:.1f} s "
          f"= {plain_total / total_audio:.3f} x audio (transcription alone {sum(per_file):.1f} s)")
    print(f"   ratio starcoach / plain: {sum(ours) / plain_total:.2f}")


def bench_latency(files: list[Path]) -> None:
    from tests.mic import VirtualAudio
    from starcoach.audio import load_audio

    audio = VirtualAudio().start()
    env = dict(os.environ, **{k: audio.env[k] for k in ("XDG_RUNTIME_DIR", "PULSE_RUNTIME_PATH")})
    home = Path(tempfile.mkdtemp(prefix="starcoach-bench-"))
    cfg = (ROOT / "config.toml").read_text().replace('models = "models"', f'models = "{ROOT / "models"}"')
    (home / "config.toml").write_text(cfg)
    env["STARCOACH_HOME"] = str(home)
    lat = []
    try:
        for f in files:
            samples = load_audio(f).samples
            proc = subprocess.Popen([*STARCOACH, "record", "--question", "deep-1"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            while "recording take" not in (proc.stderr.readline() or "recording take"):
                pass
            feeder = audio.feed(samples, lead_s=0.3)
            feeder.speech_done.wait()
            t_end = time.monotonic()
            proc.stdin.write("\n")  # Enter, as the speaker stops
            proc.stdin.flush()
            out = proc.stdout.read()
            proc.wait()
            lat.append(time.monotonic() - t_end)
            feeder.stop()
            print(f"   {f.name}: {len(samples) / 16000:.0f} s answer -> report {lat[-1]:.2f} s after the audio ended")
    finally:
        audio.stop()
    print(f"2. record-mode latency: median {statistics.median(lat):.2f} s, max {max(lat):.2f} s")


def bench_analysis_stage() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_analysis.py")], capture_output=True, text=True)
    print("3. " + "\n   ".join(line for line in r.stdout.splitlines() if not line.startswith("machine")))


def bench_memory(files: list[Path], skip_long: bool) -> None:
    longest = max(files, key=lambda f: f.stat().st_size)
    wall, rss, r = peak_rss_mb([*STARCOACH, "analyze", str(longest), "--json"])
    print(f"4. peak RSS of analyze ({longest.name}): {rss:.0f} MB")
    if not skip_long:
        print("   60-minute recording: not measured yet (an hour of audio through the virtual microphone)")


def bench_help() -> None:
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([*STARCOACH, "--help"], capture_output=True)
        runs.append(time.perf_counter() - t)
    print(f"5. starcoach --help: median {statistics.median(runs):.3f} s (5 runs)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus" / "dev"))
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-long", action="store_true")
    a = ap.parse_args()
    from starcoach.config import load_config
    from starcoach.models import resolve_model

    cfg = load_config()
    model = resolve_model(cfg.model, cfg.paths.models)
    files = sorted(Path(a.corpus).glob("*.flac"))
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}, "
          f"model {model.name}, {time.strftime('%Y-%m-%d')}")
    bench_throughput(files, str(model.path))
    if not a.skip_latency:
        bench_latency([f for f in files if 49 <= _duration(f) <= 120])
    bench_analysis_stage()
    bench_memory(files, a.skip_long)
    bench_help()


def _duration(f: Path) -> float:
    import soundfile as sf

    return sf.info(str(f)).duration


if __name__ == "__main__":
    main()
