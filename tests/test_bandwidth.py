"""A narrowband channel (a phone line, a Bluetooth headset's hands-free mode, a file made at 8 kHz)
is told from a voice picked up in full, through the codecs that make each (PyAV's, as installed)."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from starcoach.analysis.quality import NARROWBAND_DB, NARROWBAND_MIN_VOICE_S, audio_quality
from starcoach.audio.activity import LevelMeter, speech_activity
from starcoach.audio.stats import BandMeter, band_power, signal_stats
from tests.conftest import espeak

RATE = 16000
SAY = ("The first thing I did was sit down with each of the six customers, list every fix they "
       "asked for, and check which of those the release could ship that week.")


def _through(samples: np.ndarray, codec: str, rate: int, bit_rate: int | None, container: str) -> np.ndarray:
    """SAMPLES (16 kHz) encoded by CODEC at RATE and decoded again to 16 kHz, as a file or a call would carry them."""
    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        if bit_rate:
            stream.bit_rate = bit_rate
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray((np.clip(samples, -1, 1) * 32767).astype(np.int16)[None, :],
                                           format="s16", layout="mono")
        frame.sample_rate = RATE
        to_codec = av.AudioResampler(format=stream.format.name, layout="mono", rate=rate)
        for piece in to_codec.resample(frame) + to_codec.resample(None):
            for packet in stream.encode(piece):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    buf.seek(0)
    back = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    pieces = []
    with av.open(buf) as inp:
        for frame in inp.decode(audio=0):
            pieces += [p.to_ndarray().reshape(-1) for p in back.resample(frame)]
        pieces += [p.to_ndarray().reshape(-1) for p in back.resample(None)]
    return np.concatenate(pieces).astype(np.float32)


@pytest.fixture(scope="module")
def voice(tmp_path_factory) -> np.ndarray:
    return espeak(SAY, tmp_path_factory.mktemp("band"))


# (codec, its rate, bit rate, container, narrowband)
CHANNELS = [
    ("pcm_s16le", 16000, None, "wav", False),
    ("pcm_s16le", 8000, None, "wav", True),  # a file made at 8 kHz
    ("pcm_mulaw", 8000, None, "wav", True),  # G.711, a phone line
    ("libopencore_amrnb", 8000, 12200, "amr", True),  # a mobile call
    ("g722", 16000, 64000, "wav", False),  # wideband ("HD") voice
    ("libopus", 16000, 24000, "ogg", False),
    ("libmp3lame", 16000, 32000, "mp3", False),
    ("pcm_s16le", 11025, None, "wav", False),  # 5.5 kHz of the voice: enough
]


@pytest.mark.parametrize("codec,rate,bit_rate,container,narrow", CHANNELS)
def test_a_narrowband_channel_is_told_from_a_full_one(voice, codec, rate, bit_rate, container, narrow):
    heard = _through(voice, codec, rate, bit_rate, container)
    high = band_power(heard).high_band_db
    assert high is not None
    if narrow:  # espeak-ng's voice reads -51 to -53 dB through these, the full voice -7 to -10 dB
        assert high <= NARROWBAND_DB - 3
    else:
        assert high >= NARROWBAND_DB + 24
    q = audio_quality(speech_activity(heard, RATE), signal_stats(heard))
    assert ("narrowband" in q.problems) == narrow
    assert q.high_band_db == pytest.approx(high, abs=0.05)
    if narrow:
        assert not q.reliable and "narrowband" in str(q.warning) and "4 kHz" in str(q.warning)


def test_hum_rumble_and_a_dc_offset_do_not_move_it(voice):
    t = np.arange(len(voice)) / RATE
    rng = np.random.default_rng(3)
    brown = np.cumsum(rng.standard_normal(len(voice))).astype(np.float32)
    brown = 0.02 * (brown - brown.mean()) / brown.std()
    mixed = voice + 0.05 + 0.05 * np.sin(2 * np.pi * 50 * t).astype(np.float32) + brown
    assert band_power(mixed).high_band_db == pytest.approx(band_power(voice).high_band_db, abs=1.0)


def test_white_noise_over_a_narrowband_voice_is_sound_above_4_khz(voice):
    narrow = _through(voice, "pcm_s16le", 8000, None, "wav")
    noise = np.random.default_rng(4).standard_normal(len(narrow)).astype(np.float32) * np.sqrt(np.mean(narrow ** 2))
    assert band_power(narrow + 0.3 * noise).high_band_db > NARROWBAND_DB  # the file does carry it: not cut off


@pytest.mark.parametrize("signal", [
    np.zeros(3 * RATE, np.float32),  # digital silence
    np.zeros(100, np.float32),  # under one frame
    (0.3 * np.sin(2 * np.pi * 120 * np.arange(3 * RATE) / RATE)).astype(np.float32),  # a hum, no voice
])
def test_no_voice_no_judgement(signal):
    assert band_power(signal).high_band_db is None
    q = audio_quality(speech_activity(signal, RATE), signal_stats(signal))
    assert q.high_band_db is None and "narrowband" not in q.problems


def test_blocks_of_any_size_sum_to_the_whole(voice):
    whole = band_power(voice)
    meter, level = BandMeter(), LevelMeter(RATE)
    rng = np.random.default_rng(5)
    at = 0
    while at < len(voice):
        n = int(rng.choice([1, 17, 511, 512, 513, 1600, 4000]))
        meter.feed(voice[at:at + n])
        level.feed(voice[at:at + n])
        at += n
    for bands in (meter.bands, level.stats.bands):
        assert bands.frames == whole.frames == len(voice) // 512
        assert bands.high_band_db == pytest.approx(whole.high_band_db, abs=1e-4)
        assert bands.low == pytest.approx(whole.low, rel=1e-5) and bands.voice == pytest.approx(whole.voice, rel=1e-5)


@pytest.mark.parametrize("gain", [1.5, 3.0])
def test_clipping_after_a_narrowband_channel_is_not_sound_above_4_khz(voice, gain):
    """A hot recording through a phone codec, clipped where it was turned up: the clipped frames'
    splatter reaches every band (a real one read -28 dB with them, -51 dB without)."""
    narrow = _through(voice, "libopencore_amrnb", 8000, 12200, "amr")
    hot = np.clip(narrow * (gain / np.abs(narrow).max()), -1.0, 1.0)
    assert np.count_nonzero(np.abs(hot) >= 0.999) > 10
    q = audio_quality(speech_activity(hot, RATE), signal_stats(hot))
    assert q.high_band_db is not None and q.high_band_db <= NARROWBAND_DB - 3
    assert {"narrowband", "clipped"} <= set(q.problems)


def test_a_few_words_are_measured_but_not_judged(voice):
    """Under NARROWBAND_MIN_VOICE_S of voice the ratio is a few sounds': a second of a narrowband voice,
    and a vowel of a full-band one that reads as low on its own, give a figure but not the problem."""
    narrow = _through(voice, "pcm_s16le", 8000, None, "wav")
    frames = [voice[i:i + 512] for i in range(0, len(voice) - 512, 512)]
    vowel = next(f for f in frames if (band_power(f).high_band_db or 0.0) <= NARROWBAND_DB)
    for clip in (narrow[:RATE], vowel):
        q = audio_quality(speech_activity(clip, RATE), signal_stats(clip))
        assert q.high_band_db is not None and q.high_band_db <= NARROWBAND_DB and "narrowband" not in q.problems
    q = audio_quality(speech_activity(narrow, RATE), signal_stats(narrow))
    assert len(narrow) / RATE > NARROWBAND_MIN_VOICE_S + 1 and "narrowband" in q.problems
