"""A virtual microphone and speakers through a real PulseAudio server.

``module-pipe-source`` turns a FIFO into an input device: bytes written to it are
what the microphone hears. ``module-null-sink`` swallows playback, and its
``.monitor`` source lets a test hear what was played. PortAudio reaches both
through ALSA's pulse plugin, so sounddevice runs unmocked.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

RATE = 16000


class VirtualAudio:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="starcoach-pulse-"))
        self.fifo = self.dir / "mic.fifo"
        self.env = dict(os.environ, XDG_RUNTIME_DIR=str(self.dir), PULSE_RUNTIME_PATH=str(self.dir / "pulse"))
        self.proc = None
        self.mic_module: str | None = None

    def start(self) -> "VirtualAudio":
        if not shutil.which("pulseaudio"):
            raise RuntimeError("pulseaudio is not installed (scripts/setup.sh installs it)")
        subprocess.run(["pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "-n", "--disallow-exit",
                        "--load=module-native-protocol-unix", "--load=module-null-sink sink_name=speakers"],
                       env=self.env, check=True, capture_output=True)
        for _ in range(50):
            if subprocess.run(["pactl", "info"], env=self.env, capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        self.plug_mic()
        self.pactl("set-default-sink", "speakers")
        return self

    def plug_mic(self, rate: int = RATE) -> None:
        """Connect the microphone (the FIFO's source) and make it the default input; RATE 8000 is a
        headset in its hands-free mode (PulseAudio resamples it for a stream that asks 16 kHz)."""
        self.mic_module = self.pactl("load-module", "module-pipe-source", "source_name=mic", f"file={self.fifo}",
                                     "format=s16le", f"rate={rate}", "channels=1").strip()
        self.mic_rate = rate
        self.pactl("set-default-source", "mic")

    def unplug_mic(self) -> None:
        """Take the microphone away, as pulling a USB one out does: PulseAudio moves a stream
        recording from it to another source (here the speakers' monitor, silent)."""
        if self.mic_module is not None:
            self.pactl("unload-module", self.mic_module)
            self.mic_module = None

    @contextmanager
    def mic_at(self, rate: int) -> Iterator[None]:
        """The microphone swapped for one at RATE for a while (8000: a headset in its hands-free
        mode), and the 16 kHz one back afterwards whatever happened, for the tests that follow."""
        self.unplug_mic()
        try:
            self.plug_mic(rate)
            yield
        finally:
            self.unplug_mic()
            self.plug_mic()

    def pactl(self, *args) -> str:
        return subprocess.run(["pactl", *args], env=self.env, check=True, capture_output=True, text=True).stdout

    def stop(self) -> None:
        subprocess.run(["pulseaudio", "--kill"], env=self.env, capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def feed(self, samples: np.ndarray, *, lead_s: float = 0.5, speed: float = 1.0) -> "Feeder":
        """Speak ``samples`` (float, at the microphone's rate: 16 kHz unless plugged otherwise) into
        the microphone at real-time pace (or ``speed`` times that), then silence."""
        return Feeder(self.fifo, samples, lead_s, speed, rate=self.mic_rate).start()

    def listen(self, path: Path) -> subprocess.Popen:
        """Record what the speakers play (16 kHz mono raw s16le) into ``path`` until terminated."""
        out = open(path, "wb")
        return subprocess.Popen(["parec", "-d", "speakers.monitor", "--rate=16000", "--channels=1",
                                 "--format=s16le", "--latency-msec=20"], stdout=out, env=self.env)


class Feeder:
    """Writes to the FIFO like a live microphone: paced, and never silent-by-absence."""

    def __init__(self, fifo: Path, samples: np.ndarray, lead_s: float, speed: float = 1.0, rate: int = RATE):
        pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
        self.rate = rate
        self.data = bytes(int(lead_s * rate) * 2) + pcm
        self.fifo = fifo
        self.speed = speed
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.speech_done = threading.Event()

    def start(self) -> "Feeder":
        self.thread.start()
        return self

    def _run(self) -> None:
        fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
        try:
            t0, n, block = time.monotonic(), 0, 3200
            while not self.stop_event.is_set():
                chunk = self.data[n:n + block] if n < len(self.data) else bytes(block)
                if n >= len(self.data):
                    self.speech_done.set()
                try:
                    n += os.write(fd, chunk)
                except OSError as e:
                    if e.errno != errno.EAGAIN:
                        raise
                    time.sleep(0.01)
                    continue
                ahead = t0 + n / (2 * self.rate * self.speed) - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
        finally:
            os.close(fd)

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=5)
