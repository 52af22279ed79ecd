"""Speech activity and pauses on synthetic audio with known silences."""

import numpy as np
import pytest

from starcoach.audio.activity import LevelMeter, frame_levels, silences, speech_activity
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
    square = np.tile(np.array([1.0, -1.0], dtype=np.float32), RATE // 2)  # 8 kHz, RMS 1
    db = frame_levels(square, RATE)
    assert np.allclose(db, 0.0, atol=0.01)


@pytest.mark.parametrize("offset", [0.01, -0.05, 0.2])
def test_a_dc_offset_is_no_sound(offset):
    """A microphone whose samples sit off zero (a cheap codec, a USB adapter) records the same
    voice: a 0.05 offset read as background noise 26 dB under full scale, every dev answer was
    called noisy (3.7-6.0 dB) and 3 of 65 fillers were lost with the quiet stretches around them."""
    x, _ = build([("s", 0.5), ("v", 2.0), ("s", 1.2), ("v", 1.5), ("s", 2.6), ("v", 1.0), ("s", 0.7)])
    x = x + silence(len(x) / RATE, noise=0.0003, seed=2)  # a quiet room, -70 dBFS
    plain, shifted = speech_activity(x, RATE), speech_activity(x + np.float32(offset), RATE)
    assert np.allclose(shifted.frame_db, plain.frame_db, atol=0.1)
    assert shifted.regions == plain.regions and len(plain.regions) == 3
    assert shifted.noise_floor_dbfs < -65
    assert (frame_levels(np.full(RATE, offset, dtype=np.float32), RATE) <= -100).all()  # DC alone: silence


@pytest.mark.parametrize(("hz", "amplitude", "offset"), [(10.0, 0.001, 0.0), (5.0, 0.001, 0.0), (2.0, 0.003, 0.0),
                                                       (1.0, 0.002, 0.05)])
def test_a_slow_sway_in_a_quiet_room_does_not_make_the_pauses_speech(hz, amplitude, offset):
    """A review's case: the stillest frames of a slow sway (rumble, a wobbling offset) are its crests
    and troughs; the median of their means sat on one side, and a 10 Hz sway at -63 dBFS made a
    take of four utterances one 20 s region."""
    rng = np.random.default_rng(0)
    t = np.arange(20 * RATE) / RATE
    x = rng.standard_normal(len(t)) * 3e-4  # a quiet room, -70 dBFS
    for start in (2, 6, 11, 15):
        x[start * RATE: (start + 2) * RATE] += rng.standard_normal(2 * RATE) * 0.1
    x = (x + offset + amplitude * np.sin(2 * np.pi * hz * t + 0.3)).astype(np.float32)
    act = speech_activity(x, RATE)
    assert len(act.regions) == 4 and act.speech_s == pytest.approx(8.0, abs=0.3), act.regions


def test_levels_in_blocks_equal_one_pass_over_the_whole():
    """frame_levels works through long audio a minute at a time, and LevelMeter as the audio
    arrives; the levels must not change."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(16000 * 150) * 0.1 + 0.02).astype(np.float32)  # with an offset
    x[16000 * 30: 16000 * 40] = 0.0  # and a muted stretch
    hop, win = 160, 400
    n = 1 + (len(x) - win) // hop
    offset = 0.02  # the offset found is the one put in, to within its sampling error
    sq = np.concatenate(([0.0], np.cumsum((x.astype(np.float64) - offset) ** 2)))
    starts = np.arange(n) * hop
    whole = 10 * np.log10(np.maximum((sq[starts + win] - sq[starts]) / win, 1e-12))
    muted = (starts >= 16000 * 30) & (starts + win <= 16000 * 40)
    whole[muted] = -120.0  # exact zeros are silence, whatever the offset around them
    levels = frame_levels(x, 16000)
    assert np.allclose(levels, whole, atol=0.02)
    meter = LevelMeter(16000)
    at = 0
    while at < len(x):
        size = int(rng.integers(1, 20000))
        meter.feed(x[at: at + size])
        at += size
        so_far = meter.levels  # as the live worker asks, about the offset of what came so far
        assert len(so_far) == max(0, 1 + (min(at, len(x)) - win) // hop)
        assert np.allclose(so_far[-1000:][so_far[-1000:] > -90], levels[:len(so_far)][-1000:][so_far[-1000:] > -90],
                           atol=0.05)
    assert np.allclose(meter.final_levels(), levels, atol=1e-3)
    assert np.allclose(meter.levels, levels, atol=1e-3)
