"""The audio-quality check: estimated levels, signal-to-noise ratio and clipping, and the line
the report prints when they make the counts unreliable."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from starcoach.analysis.quality import NOISY_SNR_DB, audio_quality
from starcoach.audio.activity import frame_levels, signal_stats, speech_activity
from starcoach.audio.decode import load_audio
from starcoach.cli import app
from tests.conftest import SAMPLES, coloured_noise

RATE = 16000
runner = CliRunner()


def _bursts(level_db: float, seconds: float = 12.0, seed: int = 1) -> np.ndarray:
    """Speech-like bursts (0.6 s of voiced harmonics, 0.6 s silence) at LEVEL_DB dBFS RMS while on."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(0.6 * RATE)) / RATE
    on = sum(np.sin(2 * np.pi * 140 * k * t + rng.uniform(0, 6)) / k for k in range(1, 12))
    on = on * np.hanning(len(on)) ** 0.2
    on = on / np.sqrt((on ** 2).mean()) * 10 ** (level_db / 20)
    one = np.concatenate([on, np.zeros(int(0.6 * RATE))])
    return np.tile(one, int(seconds / 1.2)).astype(np.float32)


@pytest.mark.parametrize("snr", [25.0, 15.0, 5.0])
def test_snr_estimate_follows_the_mix(snr):
    speech = _bursts(-20.0)
    noise = coloured_noise("pink", len(speech) / RATE, -20.0 - snr, seed=2)
    mix = speech + noise
    # the voice where it is in the clean signal (the detector's job, tested elsewhere), the levels of the mix
    activity = replace(speech_activity(speech, RATE), frame_db=frame_levels(mix, RATE))
    q = audio_quality(activity, signal_stats(mix))
    assert q.snr_db is not None and q.snr_db == pytest.approx(snr, abs=3.0)
    assert q.speech_dbfs == pytest.approx(-20.0, abs=2.0)
    assert ("noisy" in q.problems) == (snr < NOISY_SNR_DB)


def test_clean_audio_is_reliable_and_says_nothing():
    x = _bursts(-20.0) + coloured_noise("pink", 12.0, -70.0)
    q = audio_quality(speech_activity(x, RATE), signal_stats(x))
    assert q.reliable and q.problems == () and q.warning is None
    assert q.peak_dbfs < 0 and q.clipped_share == 0


def test_clipping_and_quiet_speech_are_named():
    loud = np.clip(_bursts(-3.0) * 3, -1.0, 1.0)
    q = audio_quality(speech_activity(loud, RATE), signal_stats(loud))
    assert "clipped" in q.problems and q.clipped_share > 0.001 and q.peak_dbfs == pytest.approx(0.0, abs=0.1)
    assert "clipped" in q.warning
    quiet = _bursts(-55.0) + coloured_noise("pink", 12.0, -100.0)
    q = audio_quality(speech_activity(quiet, RATE), signal_stats(quiet))
    assert q.problems == ("quiet",) and "quiet" in q.warning


def test_too_little_background_leaves_the_ratio_unknown():
    x = _bursts(-20.0)[: int(1.2 * RATE)]  # one burst and 0.6 s of silence, 0.4 s of it away from the voice
    q = audio_quality(speech_activity(x, RATE), signal_stats(x))
    assert q.noise_dbfs is None and q.snr_db is None and "noisy" not in q.problems


@pytest.mark.slow
def test_a_noisy_take_carries_the_warning_in_json_and_report(tmp_path):
    clean = load_audio(SAMPLES / "demo-answer.flac").samples
    speech_rms = float(np.sqrt(np.mean(clean[np.abs(clean) > 0.01] ** 2)))
    noisy = clean + coloured_noise("white", len(clean) / RATE, 20 * np.log10(speech_rms) - 3.0, seed=5)
    path = tmp_path / "noisy.wav"
    sf.write(path, noisy, RATE)
    doc = json.loads(runner.invoke(app, ["analyze", str(path), "--json"]).stdout)
    assert doc["audio"]["reliable"] is False and "noisy" in doc["audio"]["problems"]
    assert doc["audio"]["snr_db"] < NOISY_SNR_DB
    report = runner.invoke(app, ["analyze", str(path)]).stdout
    assert "Audio quality" in report
    ok = json.loads(runner.invoke(app, ["analyze", str(SAMPLES / "demo-answer.flac"), "--json"]).stdout)
    assert ok["audio"]["reliable"] is True and ok["audio"]["warning"] is None
    assert ok["audio"]["snr_db"] > 20
