"""Takes on disk: file names, recovering a recording whose writer died (no model)."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from starcoach.analysis.pipeline import Analyzer
from starcoach.asr.models import ResolvedModel
from starcoach.audio.recorder import repair_wav
from starcoach.domain.errors import RecordingError
from starcoach.takes.session import open_store, recover, take_path


def test_take_paths_are_by_date_and_never_reused(config):
    first = take_path(config)
    first.write_bytes(b"x")
    second = take_path(config)
    assert first.parent.parent == config.paths.recordings and first.parent.name.count("-") == 2
    assert second != first and second.parent == first.parent


def died_while_writing(path: Path, seconds: float) -> int:
    """A WAV whose header still says 0 bytes of data, as a killed recorder leaves it."""
    samples = (np.sin(np.arange(int(seconds * 16000)) / 5) * 8000).astype(np.int16)
    sf.write(path, samples, 16000, subtype="PCM_16")
    raw = bytearray(path.read_bytes())
    pos = raw.index(b"data")
    raw[pos + 4: pos + 8] = struct.pack("<I", 0)
    raw[4:8] = struct.pack("<I", 0)
    path.write_bytes(bytes(raw) + b"\x01")  # half a frame written when it died
    return len(samples) * 2


def test_repair_makes_a_killed_recording_whole_again(tmp_path):
    path = tmp_path / "take.wav"
    data = died_while_writing(path, 1.5)
    assert repair_wav(path) == data
    assert sf.info(str(path)).duration == pytest.approx(1.5, abs=1e-3)
    assert repair_wav(path) == data  # a consistent file is left as it is


@pytest.mark.parametrize("content", [b"", b"not a wav file at all", b"RIFF\x00\x00\x00\x00WAVE"])
def test_repair_refuses_what_is_not_a_wav_with_audio(tmp_path, content):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(RecordingError):
        repair_wav(path)


def test_recover_marks_a_take_with_no_audio_failed_and_leaves_live_ones_alone(config):
    never_loaded = Analyzer(ResolvedModel("none", config.paths.models / "none"))
    with open_store(config) as store:
        lost = store.begin_take(audio_path=take_path(config), question_id=None, question_text=None, principle=None)
        # a live starcoach process still owns it: not touched
        owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "starcoach", "record"])
        try:
            store.db.execute("UPDATE takes SET pid = ? WHERE id = ?", (owner.pid, lost))
            assert recover(config, store, analyzer=never_loaded) == []
        finally:
            owner.kill()
            owner.wait()
        store.db.execute("UPDATE takes SET pid = NULL WHERE id = ?", (lost,))
        done = recover(config, store, analyzer=never_loaded)
        assert [(r.take_id, r.error) for r in done] == [(lost, "no audio was captured")]
        assert store.get(lost).status == "failed"
