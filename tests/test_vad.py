"""Voice activity from the bundled Silero VAD: real model, synthetic speech and noise."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pytest

from starcoach.asr.vad import (
    SpeechRegion,
    VadOptions,
    regions_from_probabilities,
    silences,
    speech_probabilities,
    speech_regions,
)
from tests.conftest import TRIM_SILENCE, coloured_noise, espeak

RATE = 16000


@pytest.fixture(scope="module")
def spoken(tmp_path_factory) -> tuple[np.ndarray, float, float]:
    """Two espeak-ng sentences with a 2.5 s pause between them: (audio, pause start, pause end)."""
    d = tmp_path_factory.mktemp("vad")
    parts = [espeak(text, d, effects=("rate", "16000", *TRIM_SILENCE), name=str(i))
             for i, text in enumerate(["I rolled back the release first.", "Then the errors stopped."])]
    lead, gap = np.zeros(8000, np.float32), np.zeros(int(2.5 * RATE), np.float32)
    x = np.concatenate([lead, parts[0], gap, parts[1], lead]) * 0.5
    pause_start = (len(lead) + len(parts[0])) / RATE
    return x, pause_start, pause_start + 2.5


@pytest.mark.parametrize("kind", ["pink", "brown", "white", "fan"])
def test_noise_alone_is_no_speech(kind):
    assert speech_regions(coloured_noise(kind, 30.0)) == ()


def test_speech_found_and_long_pause_kept(spoken):
    x, p0, p1 = spoken
    regions = speech_regions(x)
    assert regions, "no speech found in spoken sentences"
    long = silences(regions, start=regions[0].start, end=regions[-1].end, min_s=1.5)
    assert len(long) == 1
    s, e = long[0]
    assert s < p1 and e > p0
    assert e - s >= 0.9 * (p1 - p0), "padding ate the long pause"


def test_speech_survives_fancoloured_noise(spoken):
    x, p0, p1 = spoken
    speech_level = np.sqrt((x[np.abs(x) > 0.01] ** 2).mean())
    noisy = x + coloured_noise("fan", len(x) / RATE, level_db=20 * np.log10(speech_level) - 10)
    long = silences(speech_regions(noisy), start=0.5, end=len(x) / RATE - 0.5, min_s=1.5)
    assert any(s < p1 and e > p0 for s, e in long)


def test_blocks_give_the_same_probabilities_as_one_array(spoken):
    x = np.concatenate([spoken[0]] * 3)
    whole, n = speech_probabilities(x)
    blocks, n2 = speech_probabilities(x[i:i + 7777] for i in range(0, len(x), 7777))
    assert n == n2 == len(x)
    np.testing.assert_allclose(whole, blocks, atol=1e-3)


def test_matches_faster_whispers_own_segmentation(spoken):
    from faster_whisper.vad import VadOptions as FwOptions
    from faster_whisper.vad import get_speech_timestamps

    x = spoken[0]
    probs, n = speech_probabilities(x)
    for fw, ours in [
        (FwOptions(), VadOptions(threshold=0.5, min_silence_s=2.0, pad_s=0.4)),
        (FwOptions(threshold=0.35, min_silence_duration_ms=100, speech_pad_ms=30), VadOptions()),
    ]:
        ref = [(r["start"] / RATE, r["end"] / RATE) for r in get_speech_timestamps(x, fw)]
        got = [(r.start, r.end) for r in regions_from_probabilities(probs, n, ours)]
        assert len(got) == len(ref)
        assert all(abs(a - c) < 0.002 and abs(b - d) < 0.002 for (a, b), (c, d) in zip(got, ref))


@pytest.mark.parametrize(
    ("audio", "expect"),
    [
        (np.zeros(16000, np.float32), nullcontext(())),
        (np.zeros(0, np.float32), nullcontext(())),
        (np.zeros(100, np.float32), nullcontext(())),
        (np.zeros((2, 16000), np.float32), pytest.raises(ValueError)),
    ],
)
def test_inputs(audio, expect):
    with expect as e:
        assert speech_regions(audio) == e


def test_silences_between_regions():
    regions = (SpeechRegion(1.0, 2.0), SpeechRegion(4.5, 5.0), SpeechRegion(5.2, 6.0))
    assert silences(regions, start=0.5, end=9.0, min_s=1.0) == ((2.0, 4.5), (6.0, 9.0))
    assert silences((), start=0.0, end=3.0, min_s=1.0) == ((0.0, 3.0),)


@pytest.mark.parametrize("where", ["before", "after"])
def test_keys_struck_in_a_pause_are_not_speech(spoken, where):
    """Typing just before the answer resumes (or just after a sentence ends) keeps the level up
    into the voice; the pause is still measured to the voice, not to the keys."""
    from starcoach.analysis.pipeline import voice_activity
    from starcoach.audio.activity import silences as level_silences

    x, p0, p1 = spoken
    x = x.copy()
    rng = np.random.default_rng(5)
    lo, hi = (p1 - 0.8, p1) if where == "before" else (p0, p0 + 0.8)
    at = lo
    while at < hi - 0.03:  # a click every 40-70 ms: one level region with the speech beside it
        i = int(at * RATE)
        x[i:i + 400] += 0.25 * rng.standard_normal(400).astype(np.float32) * np.exp(-np.arange(400) / 60)
        at += rng.uniform(0.04, 0.07)
    act = voice_activity(x)
    pauses = level_silences(act, start=act.regions[0][0], end=act.regions[-1][1], min_s=1.0)
    assert len(pauses) == 1, act.regions
    s, e = pauses[0]
    # the keys' 0.8 s are out of the speech (the detector's own ends move by a few tenths)
    assert s == pytest.approx(p0, abs=0.3) and e == pytest.approx(p1, abs=0.3)
