"""Speech activity and pauses on synthetic audio with known silences."""

import numpy as np
import pytest

from starcoach.audio.activity import frame_levels, silences, speech_activity
from tests.conftest import silence, tone

RATE = 16000


def build(parts):
    """parts: list of ("v", seconds) voiced or ("s", seconds) silent. Returns samples and truth."""
    out, t, truth = [], 0.0, []
    for kind, secs in parts:
        out.append(tone(secs) if kind == "v" else silence(secs))
        if kind == "s":
            truth.append((t, t + secs))
        t += secs
    return np.concatenate(out), truth


@pytest.mark.parametrize("noise", [0.0, 0.003])  # clean, and a ~35 dB SNR room hiss
def test_pauses_found_at_their_times(noise):
    x, truth = build([("s", 0.5), ("v", 2.0), ("s", 1.2), ("v", 1.5), ("s", 2.6), ("v", 3.0),
                      ("s", 0.3), ("v", 1.0), ("s", 0.7)])
    if noise:
        x = x + silence(len(x) / RATE, noise=noise, seed=1)
    act = speech_activity(x, RATE)
    pauses = silences(act, start=act.regions[0][0], end=act.regions[-1][1], min_s=1.0)
    expected = [truth[1], truth[2]]  # the 1.2 s and 2.6 s gaps; 0.3 s is not a pause
    assert len(pauses) == 2
    for (s, e), (ts, te) in zip(pauses, expected):
        assert s == pytest.approx(ts, abs=0.05)
        assert e == pytest.approx(te, abs=0.05)
    assert act.speech_s == pytest.approx(2.0 + 1.5 + 3.0 + 1.0 + 0.3, abs=0.4)


@pytest.mark.parametrize("x", [
    np.zeros(RATE * 6, dtype=np.float32),
    silence(6, noise=0.01, seed=3),  # steady hiss with nobody speaking
    np.zeros(10, dtype=np.float32),
])
def test_silence_has_no_speech(x):
    act = speech_activity(x, RATE)
    assert act.regions == ()
    assert act.speech_s == 0


def test_short_click_is_not_speech():
    x = np.concatenate([silence(1.0), tone(0.02, level=0.8), silence(1.0)])
    assert speech_activity(x, RATE).regions == ()


def test_frame_levels_of_full_scale_tone_near_0_dbfs():
    db = frame_levels(np.ones(RATE, dtype=np.float32), RATE)
    assert np.allclose(db, 0.0, atol=0.01)


def test_levels_in_blocks_equal_one_pass_over_the_whole():
    """frame_levels works through long audio a minute at a time; the levels must not change."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(16000 * 150) * 0.1).astype(np.float32)
    x[16000 * 30: 16000 * 40] = 0.0
    hop, win = 160, 400
    n = 1 + (len(x) - win) // hop
    sq = np.concatenate(([0.0], np.cumsum(x.astype(np.float64) ** 2)))
    starts = np.arange(n) * hop
    whole = 10 * np.log10(np.maximum((sq[starts + win] - sq[starts]) / win, 1e-12))
    assert np.allclose(frame_levels(x, 16000), whole, atol=1e-3)
