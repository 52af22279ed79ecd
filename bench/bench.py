"""Speed and memory figures for starcoach (a script that prints, not a test).

usage: .venv/bin/python bench/bench.py [--corpus DIR] [--parts 1,2,3,4,5] [--long-minutes 60] [--long-speed 4]
(`make bench` runs it all, about 40 minutes: the latency part feeds every answer at real time,
about 17 minutes, and the hour-long recording is fed at 4x real time, 15 minutes)

Prints, for the default model on the dev corpus:
  1. `analyze` wall time over audio length, and plain faster-whisper's (same model, word
     timestamps: its defaults; int8 with the language set; and issue 14's baseline, which adds
     the filler prompt, on all cores and on one thread) in the same run, with the ratios, and
     `analyze` with its beam search on all threads (`search_threads = 0`), with a decoder
     per core (`workers = 0`) and with windows opened in pauses (`window_s = 28`);
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
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
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


def _score(truth_dir: Path, outputs: dict[Path, dict]) -> str:
    """Filler F1 and mean WER of analyzer outputs, scored by ../shared/tools/eval_corpus.py."""
    tools = ROOT.parent / "shared" / "tools"
    if not (tools / "eval_corpus.py").exists():
        return "(not scored: ../shared/tools/eval_corpus.py is missing)"
    sys.path.insert(0, str(tools))
    from eval_corpus import score_file

    rows = [score_file(json.loads(f.with_suffix(".json").read_text()), out) for f, out in outputs.items()
            if f.with_suffix(".json").exists()]
    if not rows:
        return "(not scored: no truth files)"
    tp, pred, true = (sum(r[f"filler_all_{k}"] for r in rows) for k in ("tp", "pred", "true"))
    p, r = (tp / pred if pred else 0.0), (tp / true if true else 0.0)
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return f"filler F1 {f1:.3f}, WER {sum(r['wer'] for r in rows) / len(rows):.3f}"


def bench_throughput(files: list[Path], model_path: str) -> None:
    """Each analyzer as its user runs it: one process per file, model load included."""
    from starcoach.audio.decode import load_audio

    plain = [sys.executable, str(ROOT / "bench" / "plain_whisper.py"), "--model", model_path]
    baseline = [sys.executable, str(ROOT / "eval" / "baseline.py"), "{f}", "--model", model_path, "--threads"]
    systems = {
        "starcoach analyze": [*STARCOACH, "analyze", "{f}", "--json"],
        "plain faster-whisper, its defaults": [*plain, "{f}"],
        "plain faster-whisper, int8 + language set": [*plain, "{f}", "--int8"],
        # issue 14's baseline: int8, language set, the filler prompt, fillers by regex, all cores
        "baseline: int8, language, filler prompt": [*baseline, str(os.cpu_count() or 1)],
        # the same on one thread; starcoach with its beam search on all of the threads, as
        # before search_threads, and with a decoder per core, a file's parts side by side
        "the baseline on one thread": [*baseline, "1"],
        "starcoach analyze, search on all threads": [*STARCOACH, "analyze", "{f}", "--json"],
        "starcoach analyze, a decoder per core": [*STARCOACH, "analyze", "{f}", "--json"],
        # Whisper's windows opened in pauses, the next encoded while one is decoded
        "starcoach analyze, windows opened in pauses": [*STARCOACH, "analyze", "{f}", "--json"],
    }
    homes = {"starcoach analyze, search on all threads": _scratch_home("[model]\nsearch_threads = 0\n"),
             "starcoach analyze, a decoder per core": _scratch_home("[model]\nworkers = 0\n"),
             "starcoach analyze, windows opened in pauses": _scratch_home("[model]\nwindow_s = 28\n")}
    envs = {name: dict(os.environ, STARCOACH_HOME=str(homes[name])) if name in homes else None for name in systems}
    walls = {name: 0.0 for name in systems}
    outputs: dict[str, dict[Path, dict]] = {name: {} for name in systems}
    for f in files:  # interleaved, so a noisy minute on the machine hits every system alike
        for name, cmd in systems.items():
            t = time.perf_counter()
            r = subprocess.run([c.replace("{f}", str(f)) for c in cmd], capture_output=True, text=True,
                               env=envs[name])
            walls[name] += time.perf_counter() - t
            if r.returncode != 0:
                raise SystemExit(f"{name} failed on {f}: {r.stderr[-500:]}")
            outputs[name][f] = json.loads(r.stdout)
    for home in homes.values():
        shutil.rmtree(home, ignore_errors=True)
    audio = sum(load_audio(f).duration_s for f in files)
    print(f"1. analyze, {len(files)} answers, {audio:.0f} s of audio (one process per file, model load included):")
    for name in systems:
        print(f"   {name + ':':46s} {walls[name]:6.1f} s = {walls[name] / audio:.3f} x audio; "
              f"{_score(files[0].parent, outputs[name])}")
    ours, base, tuned, prompted, prompted_1, ours_all, ours_n, ours_paused = walls.values()
    print(f"   ratio starcoach / plain defaults: {ours / base:.2f}; starcoach / plain int8: {ours / tuned:.2f}; "
          f"starcoach / baseline with the filler prompt: {ours / prompted:.2f}")
    print(f"   ratio starcoach / the baseline on one thread: {ours / prompted_1:.2f}; "
          f"with the search on all threads / baseline: {ours_all / prompted:.2f}; "
          f"with a decoder per core / baseline: {ours_n / prompted:.2f}, "
          f"/ the baseline on one thread: {ours_n / prompted_1:.2f}; "
          f"with windows opened in pauses / baseline: {ours_paused / prompted:.2f}")


def _scratch_home(config: str) -> Path:
    """A STARCOACH_HOME holding CONFIG (TOML) and this checkout's models."""
    home = Path(tempfile.mkdtemp(prefix="starcoach-bench-"))
    (home / "config.toml").write_text(config + f'\n[paths]\nmodels = "{ROOT / "models"}"\n')
    return home


class _Mic:
    """The virtual microphone and a scratch STARCOACH_HOME for `starcoach record` runs."""

    def __init__(self, max_seconds: float = 600.0):
        from tests.mic import VirtualAudio

        self.audio = VirtualAudio().start()
        self.env = dict(os.environ, **{k: self.audio.env[k] for k in ("XDG_RUNTIME_DIR", "PULSE_RUNTIME_PATH")})
        home = self.home = Path(tempfile.mkdtemp(prefix="starcoach-bench-"))
        cfg = (ROOT / "config.toml").read_text().replace('models = "models"', f'models = "{ROOT / "models"}"')
        cfg = cfg.replace("max_seconds = 600.0", f"max_seconds = {max_seconds}")
        (home / "config.toml").write_text(cfg)
        self.env["STARCOACH_HOME"] = str(home)
        self.env["STARCOACH_TRACE"] = "1"

    def start_take(self) -> subprocess.Popen:
        proc = subprocess.Popen([*STARCOACH, "record", "--question", "deep-1", "--json"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env)
        while "recording take" not in (proc.stderr.readline() or "recording take"):
            pass
        return proc

    def stop(self) -> None:
        self.audio.stop()
        shutil.rmtree(self.home, ignore_errors=True)  # the takes: an hour-long one is 115 MB


def bench_latency(files: list[Path]) -> None:
    from starcoach.audio.decode import load_audio

    mic = _Mic()
    lat, to_report = [], []
    stages: dict[str, list[float]] = {}
    outputs: dict[Path, dict] = {}
    try:
        for f in files:
            samples = load_audio(f).samples
            proc = mic.start_take()
            feeder = mic.audio.feed(samples, lead_s=0.3)
            feeder.speech_done.wait()
            t_end = time.monotonic()
            proc.stdin.write("\n")  # Enter, as the speaker stops
            proc.stdin.flush()
            out = proc.stdout.read()
            proc.wait()
            lat.append(time.monotonic() - t_end)
            feeder.stop()
            outputs[f] = json.loads(out)
            marks = _trace_marks(proc.stderr.read(), t_end)
            for label, t in marks.items():
                stages.setdefault(label, []).append(t)
            to_report.append(marks.get("reported", lat[-1]))
            steps = ", ".join(f"{label} {t:.2f}" for label, t in marks.items())
            print(f"   {f.name}: {len(samples) / 16000:.0f} s answer: {steps}, process exit {lat[-1]:.2f} s")
    finally:
        mic.stop()
    print(f"2. record-mode latency, from the end of the audio to the report on screen: median "
          f"{statistics.median(to_report):.2f} s, max {max(to_report):.2f} s, within a second "
          f"{sum(t <= 1.0 for t in to_report)} of {len(to_report)}; to the end of the process: "
          f"median {statistics.median(lat):.2f} s, max {max(lat):.2f} s")
    print("   median time of each stage after the audio ended: "
          + ", ".join(f"{label} {statistics.median(ts):.2f} s" for label, ts in stages.items()))
    print(f"   the recorded takes' transcripts: {_score(files[0].parent, outputs)}")


def _trace_marks(stderr: str, t_end: float) -> dict[str, float]:
    """The ``starcoach-trace`` stage marks (see starcoach.domain.trace), in seconds after ``t_end``."""
    marks = {}
    for line in stderr.splitlines():
        if line.startswith("starcoach-trace "):
            _, t, label = line.split(" ", 2)
            if os.environ.get("BENCH_DEBUG"):
                print(f"      {float(t) - t_end:+8.2f} {label}")
            if not label.startswith("worker:"):
                marks[label] = float(t) - t_end
    return marks


def bench_analysis_stage() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_analysis.py")], capture_output=True, text=True)
    if r.returncode:  # say so, rather than print an empty figure
        print(f"3. FAILED (exit {r.returncode}): {(r.stderr.strip().splitlines() or ['no output'])[-1]}")
        return
    print("3. " + "\n   ".join(line for line in r.stdout.splitlines() if not line.startswith("machine")))


def bench_memory(files: list[Path], long_minutes: float, speed: float) -> None:
    longest = max(files, key=lambda f: f.stat().st_size)
    wall, rss, r = peak_rss_mb([*STARCOACH, "analyze", str(longest), "--json"])
    print(f"4. peak RSS of analyze ({longest.name}): {rss:.0f} MB")
    if long_minutes <= 0:
        return
    import numpy as np

    from starcoach.audio.decode import load_audio

    # The dev answers one after another, 2 s apart, until the hour is full.
    pieces, total, gap = [], 0, np.zeros(32000, dtype=np.float32)
    while total < long_minutes * 60 * 16000:
        for f in files:
            pieces += [load_audio(f).samples, gap]
            total += len(pieces[-2]) + len(gap)
    samples = np.concatenate(pieces)[: int(long_minutes * 60 * 16000)]
    import soundfile as sf

    with tempfile.TemporaryDirectory() as scratch:
        for minutes in sorted({10.0, long_minutes}):
            path = Path(scratch) / f"speech-{minutes:.0f}min.flac"
            sf.write(path, samples[: int(minutes * 60 * 16000)], 16000)
            wall, rss, r = peak_rss_mb([*STARCOACH, "analyze", str(path), "--json"])
            print(f"   peak RSS of analyze on {minutes:.0f} minutes of speech: {rss:.0f} MB "
                  f"({wall:.0f} s, exit {r.returncode})")
    mic = _Mic(max_seconds=long_minutes * 60 + 60)
    try:
        proc = mic.start_take()
        feeder = mic.audio.feed(samples, lead_s=0.3, speed=speed)
        piped = {"out": [], "err": []}  # read both pipes all along: a full pipe would stall the take
        readers = [threading.Thread(target=lambda k=k, f=f: piped[k].extend(f), daemon=True)
                   for k, f in (("out", proc.stdout), ("err", proc.stderr))]
        for r in readers:
            r.start()
        t0, samples_rss, peak = time.monotonic(), [], 0.0
        while not feeder.speech_done.wait(1.0):
            rss, hwm = _rss_mb(proc.pid)
            peak = max(peak, hwm)
            samples_rss.append(((time.monotonic() - t0) * speed / 60, rss))
        t_end = time.monotonic()
        proc.stdin.write("\n")
        proc.stdin.flush()
        while proc.poll() is None:
            peak = max(peak, _rss_mb(proc.pid)[1])
            time.sleep(0.05)
        for r in readers:
            r.join()
        feeder.stop()
        doc = json.loads("".join(piped["out"]) or "{}")
        marks = _trace_marks("".join(piped["err"]), t_end)
    finally:
        mic.stop()
    every = max(1, len(samples_rss) // 6)
    curve = ", ".join(f"{m:.0f} min {r:.0f} MB" for m, r in samples_rss[::every])
    print(f"   {long_minutes:.0f}-minute recording (fed at {speed:g}x real time): RSS {curve}; peak {peak:.0f} MB; "
          f"{doc.get('duration_s', 0) / 60:.1f} min, {len(doc.get('words', []))} words in the report, "
          f"{marks.get('reported', float('nan')):.2f} s after the audio ended")


def _rss_mb(pid: int) -> tuple[float, float]:
    """Current and peak resident memory of a process, in MB (0 once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0, 0.0
    values = {line.split(":")[0]: line.split()[1] for line in status.splitlines() if line.startswith("Vm")}
    return int(values.get("VmRSS", 0)) / 1024, int(values.get("VmHWM", 0)) / 1024


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
    ap.add_argument("--parts", default="1,2,3,4,5", help="which figures to measure, e.g. 3,4,5")
    ap.add_argument("--long-minutes", type=float, default=60.0,
                    help="length of the long recording for the memory figure (0: skip it)")
    ap.add_argument("--long-speed", type=float, default=4.0,
                    help="how many times faster than real time the long recording is fed")
    a = ap.parse_args()
    from starcoach.config import load_config
    from starcoach.asr.models import resolve_model

    cfg = load_config()
    model = resolve_model(cfg.model, cfg.paths.models)
    files = sorted(Path(a.corpus).glob("*.flac"))
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}, "
          f"model {model.name}, {time.strftime('%Y-%m-%d')}")
    parts = {p.strip() for p in a.parts.split(",")}
    if "1" in parts:
        bench_throughput(files, str(model.path))
    if "2" in parts:
        bench_latency([f for f in files if 49 <= _duration(f) <= 120])
    if "3" in parts:
        bench_analysis_stage()
    if "4" in parts:
        bench_memory(files, a.long_minutes, a.long_speed)
    if "5" in parts:
        bench_help()


def _duration(f: Path) -> float:
    import soundfile as sf

    return sf.info(str(f)).duration


if __name__ == "__main__":
    main()
