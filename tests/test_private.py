"""Nothing of a take leaves the machine or is kept outside starcoach's home."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import soundfile as sf


def test_an_analysis_writes_nothing_outside_the_home(tmp_path, home):
    """onnxruntime (the voice detector) recorded usage events from the moment it was imported,
    into ~/.cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db, queued for Microsoft's
    collector: every `analyze` added to it. A process that never set ORT_DISABLE_TELEMETRY
    itself must leave the user's own folders as they were."""
    user = tmp_path / "user"
    user.mkdir()
    audio = tmp_path / "hum.wav"
    hum = 0.1 * np.sin(2 * np.pi * 200 * np.arange(3 * 16000) / 16000)
    sf.write(audio, hum.astype(np.float32), 16000)  # the voice detector hears no speech: no model needed
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY" and not k.startswith("XDG_")}
    env.update(HOME=str(user), STARCOACH_HOME=str(home))
    done = subprocess.run([sys.executable, "-m", "starcoach", "analyze", str(audio), "--json"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 3, done.stderr  # no speech: the voice detector ran
    assert done.stderr == f"starcoach: no speech found in {audio}\n", done.stderr
    assert sorted(p.relative_to(user).as_posix() for p in user.rglob("*")) == []
