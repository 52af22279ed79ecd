"""Takes on disk: file names, recovering a recording whose writer died (no model)."""

from __future__ import annotations

import errno
import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from starcoach.analysis.pipeline import Analyzer
from starcoach.asr.models import ResolvedModel
from starcoach.audio.recorder import _describe, repair_wav
from starcoach.domain.errors import RecordingError
from starcoach.takes import sidecar
from starcoach.takes.recovery import recover
from starcoach.takes.session import open_store, take_path


def test_take_paths_are_by_date_and_never_reused(config):
    first = take_path(config)
    first.write_bytes(b"x")
    second = take_path(config)
    assert first.parent.parent == config.paths.recordings and first.parent.name.count("-") == 2
    assert second != first and second.parent == first.parent


def died_while_writing(path: Path, seconds: float, rate: int = 16000, channels: int = 1) -> int:
    """A WAV whose header still says 0 bytes of data, as a killed recorder leaves it."""
    samples = (np.sin(np.arange(int(seconds * rate)) / 5) * 8000).astype(np.int16)
    if channels > 1:
        samples = np.repeat(samples[:, None], channels, axis=1)
    sf.write(path, samples, rate, subtype="PCM_16")
    raw = bytearray(path.read_bytes())
    pos = raw.index(b"data")
    raw[pos + 4: pos + 8] = struct.pack("<I", 0)
    raw[4:8] = struct.pack("<I", 0)
    path.write_bytes(bytes(raw) + b"\x01")  # half a frame written when it died
    return samples.size * 2


@pytest.mark.parametrize("rate, channels", [(16000, 1), (44100, 2), (8000, 1), (48000, 2)])
def test_repair_makes_a_killed_recording_whole_again(tmp_path, rate, channels):
    path = tmp_path / "take.wav"
    data = died_while_writing(path, 1.5, rate, channels)
    wav = repair_wav(path)
    assert wav.data_bytes == data and wav.sample_rate == rate and wav.channels == channels
    assert wav.duration_s == pytest.approx(1.5, abs=1e-3)
    assert sf.info(str(path)).duration == pytest.approx(1.5, abs=1e-3)
    before = path.read_bytes()
    assert repair_wav(path) == wav  # a consistent file is left as it is
    assert path.read_bytes() == before


def test_repair_keeps_a_list_chunk_after_the_samples(tmp_path):
    path = tmp_path / "tagged.wav"
    sf.write(path, np.zeros(8000, dtype=np.int16), 8000, subtype="PCM_16")
    tag = b"INFOINAM\x06\x00\x00\x00Title\x00"
    raw = path.read_bytes() + b"LIST" + struct.pack("<I", len(tag)) + tag
    raw = raw[:4] + struct.pack("<I", len(raw) - 8) + raw[8:]
    path.write_bytes(raw)
    wav = repair_wav(path)
    assert wav.frames == 8000 and wav.duration_s == pytest.approx(1.0)
    assert path.read_bytes() == raw


@pytest.mark.parametrize("content", [b"", b"not a wav file at all", b"RIFF\x00\x00\x00\x00WAVE"])
def test_repair_refuses_what_is_not_a_wav_with_audio(tmp_path, content):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(RecordingError):
        repair_wav(path)


@pytest.mark.parametrize("code, said", [(errno.ENOSPC, "the disk is full"),
                                        (errno.EDQUOT, "your disk quota is used up"),
                                        (errno.EROFS, "the disk is read-only")])
def test_a_recording_the_disk_refuses_is_described_as_every_command_describes_it(tmp_path, code, said):
    """A recording cut off by a full disk said only "the disk is full (dir)" where every other command
    says what to do, and a quota or a read-only disk came out as the library's raw words."""
    line = _describe(OSError(code, os.strerror(code)), tmp_path / "take-1.wav")
    assert line.startswith(said) and f"({tmp_path})" in line, line
    assert ("free some space" if code != errno.EROFS else "point [paths] in config.toml elsewhere") in line


def test_recover_removes_a_take_with_no_audio_and_leaves_live_ones_alone(config):
    never_loaded = Analyzer(ResolvedModel("none", config.paths.models / "none"))
    with open_store(config) as store:
        path = take_path(config)
        sidecar.write(path, {"source": "record"})
        lost = store.begin_take(audio_path=path, question_id=None, question_text=None, principle=None)
        # a live starcoach process still owns it: not touched
        owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "starcoach", "record"])
        try:
            store.db.execute("UPDATE takes SET pid = ? WHERE id = ?", (owner.pid, lost))
            assert recover(config, store, analyzer=never_loaded) == []
        finally:
            owner.kill()
            owner.wait()
        store.db.execute("UPDATE takes SET pid = NULL WHERE id = ?", (lost,))
        removed: list = []
        assert recover(config, store, analyzer=never_loaded, removed=removed) == []
        assert [(r.take_id, r.why) for r in removed] == [(lost, "no audio was captured")]
        assert store.list() == [] and not sidecar.sidecar_path(path).exists()


def test_recover_removes_the_metadata_write_a_killed_take_left_and_keeps_a_live_ones(config):
    # killed between writing its metadata's temporary file and renaming it: the file stays behind
    never_loaded = Analyzer(ResolvedModel("none", config.paths.models / "none"))
    with open_store(config) as store:
        path = take_path(config)
        owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "starcoach", "record"])
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        try:
            live_path = path.with_name("take-000001.wav")
            sidecar.write(live_path, {"source": "record", "pid": owner.pid})
            tmps = {}
            for audio, pid in [(path, int(dead.stdout)), (live_path, owner.pid)]:
                real = sidecar.sidecar_path(audio)
                tmps[pid] = real.with_name(f".{real.name}.tmp")
                tmps[pid].write_text(json.dumps({"version": 1, "audio": audio.name, "pid": pid}))
            unreadable = tmps[owner.pid].with_name(".take-000002.meta.json.tmp")
            unreadable.write_text('{"vers')  # cut off mid-write, a moment ago
            recover(config, store, analyzer=never_loaded)
            assert not tmps[int(dead.stdout)].exists()  # its writer is dead: gone at once
            assert tmps[owner.pid].exists() and unreadable.exists()  # a live writer's, and a fresh one
            os.utime(unreadable, (time.time() - 10, time.time() - 10))
            recover(config, store, analyzer=never_loaded)
            assert not unreadable.exists() and tmps[owner.pid].exists()
        finally:
            owner.kill()
            owner.wait()


def test_recover_keeps_a_recording_s_partial_audio_whose_row_the_database_lost(config):
    """A recording streams into take-X.wav.part, its only copy. With its row gone (the database
    emptied or rebuilt after a crash) recover, which also runs before every `record`, deleted it:
    "interrupted before its audio was complete" with its metadata, "a partial copy" without. An
    import's partial copy is still removed: its original is where it was."""
    never_loaded = Analyzer(ResolvedModel("none", config.paths.models / "none"))
    with open_store(config) as store:
        with_meta = take_path(config)
        sidecar.write(with_meta, {"source": "record", "status": "recording", "pid": None})
        no_meta = with_meta.with_name("take-000002.wav")
        imported = with_meta.with_name("take-000003.flac")
        for audio in (with_meta, no_meta):
            died_while_writing(audio, 2.0)
            audio.replace(sidecar.partial_path(audio))
        sidecar.write(imported, {"source": "import", "status": "importing", "pid": None})
        sf.write(sidecar.partial_path(imported), np.zeros(8000, np.float32), 16000, format="FLAC")
        removed: list = []
        recover(config, store, analyzer=never_loaded, removed=removed)
        kept = {Path(t.audio_path): t for t in store.list()}
        assert set(kept) == {with_meta, no_meta}, kept
        for audio in (with_meta, no_meta):
            assert audio.is_file() and not sidecar.partial_path(audio).exists()
            assert sf.info(str(audio)).duration == pytest.approx(2.0, abs=1e-3)
            assert kept[audio].status == "recovered" and kept[audio].duration_s == pytest.approx(2.0, abs=0.01)
        assert [r.path for r in removed] == [imported] and not sidecar.partial_path(imported).exists()


def test_recover_leaves_a_partial_file_it_cannot_repair_or_that_is_a_link_or_a_folder(config, tmp_path, monkeypatch):
    """A second review: a `.part` recover could not write (a take recorded under another user)
    was deleted as "a partial copy"; a `.part` that is a link had the header of the file it points
    to, outside recordings/, rewritten and the link stored as a take; a folder by such a name made
    every `record` fail ("Is a directory")."""
    from starcoach.takes import recovery

    never_loaded = Analyzer(ResolvedModel("none", config.paths.models / "none"))
    with open_store(config) as store:
        theirs = take_path(config)
        died_while_writing(theirs, 1.0)
        theirs.replace(sidecar.partial_path(theirs))
        outside = tmp_path / "elsewhere.wav"
        died_while_writing(outside, 1.0)
        before = outside.read_bytes()
        linked = sidecar.partial_path(theirs.with_name("take-000004.wav"))
        linked.symlink_to(outside)
        folder = sidecar.partial_path(theirs.with_name("take-000005.wav"))
        folder.mkdir()
        real_repair = recovery.repair_wav

        def not_ours(path):
            if path == sidecar.partial_path(theirs):
                raise PermissionError(13, "Permission denied", str(path))
            return real_repair(path)

        monkeypatch.setattr(recovery, "repair_wav", not_ours)
        removed: list = []
        recover(config, store, analyzer=never_loaded, removed=removed)
        assert removed == [] and store.list() == []
        assert sidecar.partial_path(theirs).is_file() and linked.is_symlink() and folder.is_dir()
        assert outside.read_bytes() == before  # not repaired through the link
