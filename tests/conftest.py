"""Shared fixtures: every test runs against its own starcoach home in a temp folder.

The model folder is shared by the whole session (assembled once from the bundled
packages), so tests that run the real model do not copy 75 MB each.
"""

from __future__ import annotations

import os
import subprocess
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"


@contextmanager
def mounted(target: Path, *args: str, what: str):
    """``mount ARGS TARGET`` for the block (a small or read-only disk), unmounted after it; the test
    is skipped where it cannot mount (not root). WHAT names the disk in the skip's reason."""
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", *args, str(target)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount {what} here: {done.stderr.decode().strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)  # lazily: a file may still be open


@contextmanager
def mounted_read_only(folder: Path, target: Path):
    """FOLDER seen at TARGET on a read-only disk (a backup, a snapshot) for the block; the test is
    skipped where that cannot be made."""
    with mounted(target, "--bind", str(folder), what="a folder a second time") as ro:
        if subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], capture_output=True).returncode != 0:
            pytest.skip("cannot make a mount read-only here")
        yield ro


def starcoach_stand_in(*argv: str) -> subprocess.Popen:
    """A live process whose command line reads as starcoach's (`starcoach ARGV`: an unfinished take's owner,
    a temporary file's writer), returned once it runs. Just after Popen its /proc cmdline can still be empty
    (the kernel wakes a vfork's parent before it sets the new program's arguments), and under load the
    process was taken for a dead one."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; print(flush=True); time.sleep(60)", "starcoach",
                             *argv], stdout=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()
    return proc


SHARED = ROOT.parent / "shared"


def read_one_line_then_leave(home: Path, *args: str, timeout: float = 60) -> tuple[int, str]:
    """Run ``starcoach ARGS`` in HOME with its output read as `| head -1` reads it: one line, then the pipe
    closed. Returns its exit code and what it wrote to standard error."""
    p = subprocess.Popen([sys.executable, "-m", "starcoach", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env={**os.environ, "STARCOACH_HOME": str(home)})
    assert p.stdout is not None and p.stderr is not None
    assert p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode()
    return p.wait(timeout=timeout), err


def unprivileged() -> list[str]:
    """The command prefix that runs a process without root's right to read any file (none when
    not root); skips the test when root cannot drop it."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a file cannot be made unreadable")
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", "--bounding-set", caps, "--inh-caps", caps]


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(autouse=True)
def home(tmp_path, models_dir, monkeypatch) -> Path:
    """Point STARCOACH_HOME at a fresh folder holding the project's config.toml."""
    h = tmp_path / "home"
    h.mkdir()
    text = (ROOT / "config.toml").read_text()
    text = text.replace('models = "models"', f'models = "{models_dir}"')
    (h / "config.toml").write_text(text)
    monkeypatch.setenv("STARCOACH_HOME", str(h))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return h


@pytest.fixture
def config(home):
    from starcoach.config import load_config

    return load_config()


def tone(seconds: float, freq: float = 180.0, level: float = 0.3, rate: int = 16000) -> np.ndarray:
    """A voiced-like stretch: a harmonic tone with a slow vibrato."""
    t = np.arange(int(seconds * rate)) / rate
    f = freq * (1 + 0.02 * np.sin(2 * np.pi * 4 * t))
    phase = 2 * np.pi * np.cumsum(f) / rate
    x = sum(np.sin(k * phase) / k for k in range(1, 6))
    return (level * x / np.max(np.abs(x))).astype(np.float32)


def coloured_noise(kind: str, seconds: float, level_db: float = -20.0, seed: int = 0, wander_hz: float = 0.0,
                   rate: int = 16000) -> np.ndarray:
    """Pink, brown, white or fan-like noise at ``level_db`` dBFS RMS; ``wander_hz`` swings its
    level by half, as a fan's wanders."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    white = rng.standard_normal(n)
    spec = np.fft.rfft(white)
    f = np.fft.rfftfreq(n)
    f[0] = f[1]
    if kind == "pink":
        spec /= np.sqrt(f)
    elif kind == "brown":
        spec /= f
    elif kind == "fan":
        spec = spec / f + spec * 40 * np.exp(-((f * rate - 120) / 15) ** 2)
    x = np.fft.irfft(spec, n) if kind != "white" else white
    if wander_hz:
        x = x * (1 + 0.5 * np.sin(2 * np.pi * wander_hz * np.arange(n) / rate))
    return (x * 10 ** (level_db / 20) / np.sqrt((x ** 2).mean())).astype(np.float32)


def silence(seconds: float, rate: int = 16000, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (noise * rng.standard_normal(int(seconds * rate))).astype(np.float32)


# sox trims leading and trailing silence with these effects (the voice starts at once).
TRIM_SILENCE = ("silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse")


def espeak(text: str, out_dir: Path, *, voice: str = "en-us", speed: int | None = None,
           effects: tuple[str, ...] = ("rate", "16000"), name: str = "say") -> np.ndarray:
    """TEXT spoken by espeak-ng's VOICE, put through sox's EFFECTS, as float32 samples.

    ``sox -R``: the same dither on every run, so a fixture is the same audio each time. Files are
    written as OUT_DIR/NAME*.wav. Skips the test where espeak-ng or sox is missing.
    """
    if not shutil.which("espeak-ng") or not shutil.which("sox"):
        pytest.skip("espeak-ng and sox make the speech fixtures")
    raw, out = out_dir / f"{name}.raw.wav", out_dir / f"{name}.wav"
    speak = ["espeak-ng", "-v", voice] + (["-s", str(speed)] if speed else []) + ["-w", str(raw), text]
    subprocess.run(speak, check=True, capture_output=True)
    subprocess.run(["sox", "-R", str(raw), str(out), *effects], check=True, capture_output=True)
    return sf.read(out, dtype="float32")[0]


def resampled(samples: np.ndarray, rate: int, *, source_rate: int = 16000) -> np.ndarray:
    """Float SAMPLES at SOURCE_RATE brought to RATE by PyAV's resampler, as 16-bit audio is: 8000 is
    a file made at 8 kHz, or a headset in its hands-free mode (narrowband)."""
    import av

    frame = av.AudioFrame.from_ndarray((np.clip(samples, -1, 1) * 32767).astype(np.int16)[None, :], format="s16",
                                       layout="mono")
    frame.sample_rate = source_rate
    to = av.AudioResampler(format="s16", layout="mono", rate=rate)
    pieces = [f.to_ndarray().reshape(-1) for f in to.resample(frame) + to.resample(None)]
    return (np.concatenate(pieces) / 32768).astype(np.float32)


def needs_shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not found (the shared material sits beside the project in CI)")
    return path


@pytest.fixture
def copy_sample(tmp_path):
    def _copy(name: str) -> Path:
        dst = tmp_path / name
        shutil.copyfile(SAMPLES / name, dst)
        return dst

    return _copy


def pytest_report_header(config):
    return f"starcoach tests; cores={os.cpu_count()}"


@pytest.fixture(scope="session")
def pulse():
    """A PulseAudio server with a virtual microphone and speakers, for the whole session.

    The test process itself talks to it (CliRunner runs commands in-process), so its
    XDG_RUNTIME_DIR points there before sounddevice is first imported.
    """
    from tests.mic import VirtualAudio

    audio = VirtualAudio()
    try:
        audio.start()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"the virtual microphone could not start: {exc}")
        pytest.skip(f"no PulseAudio here: {exc}")
    old = {k: os.environ.get(k) for k in ("XDG_RUNTIME_DIR", "PULSE_RUNTIME_PATH")}
    os.environ.update(XDG_RUNTIME_DIR=audio.env["XDG_RUNTIME_DIR"], PULSE_RUNTIME_PATH=audio.env["PULSE_RUNTIME_PATH"])
    yield audio
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    audio.stop()


# --- fast tests never load the model -------------------------------------------------
# A test not marked ``slow`` that loads Whisper fails: ``make test-fast`` must stay fast
# and must not need the model. Module fixtures count for the first test that uses them.
_RUNNING_SLOW = {"now": False}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _RUNNING_SLOW["now"] = item.get_closest_marker("slow") is not None


@pytest.fixture(autouse=True, scope="session")
def _fast_tests_load_no_model():
    from starcoach.asr import engine

    real = engine._load

    def guarded(path, options):
        if not _RUNNING_SLOW["now"]:
            pytest.fail("a test not marked slow loaded the Whisper model: mark it @pytest.mark.slow",
                        pytrace=False)
        return real(path, options)

    engine._load = guarded
    yield
    engine._load = real
