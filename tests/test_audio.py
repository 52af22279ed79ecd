"""Decoding what people actually have, and refusing what is not audio."""

from contextlib import nullcontext

import numpy as np
import pytest
import soundfile as sf

from starcoach.audio.decode import SAMPLE_RATE, load_audio
from starcoach.domain.errors import AudioError
from tests.conftest import SAMPLES


def stereo_tone(rate, seconds=2.0, freq=440.0):
    t = np.arange(int(rate * seconds)) / rate
    left = 0.5 * np.sin(2 * np.pi * freq * t)
    return np.stack([left, left], axis=1).astype(np.float32)


def encode_with_av(path, codec, rate, x):
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "stereo"
        frame_size = 1024
        for i in range(0, len(x), frame_size):
            chunk = np.ascontiguousarray(x[i:i + frame_size].T)  # planar float; PyAV converts for the codec
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def dominant_freq(samples):
    spec = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)[np.argmax(spec)]


@pytest.mark.parametrize("suffix, codec, rate", [
    (".wav", None, 6000),  # old dictation devices; and a studio's 384 kHz: both were "the header is damaged"
    (".wav", None, 384000),
    (".wav", None, 44100),
    (".flac", None, 48000),
    (".ogg", "libopus", 48000),
    (".mp3", "libmp3lame", 44100),
    (".m4a", "aac", 48000),
])
def test_formats_rates_and_stereo_become_16k_mono(tmp_path, suffix, codec, rate):
    x = stereo_tone(rate)
    path = tmp_path / f"tone{suffix}"
    if codec is None:
        sf.write(path, x, rate)
    else:
        encode_with_av(path, codec, rate, x)
    audio = load_audio(path)
    assert audio.source_rate == rate and audio.source_channels == 2
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert audio.duration_s == pytest.approx(2.0, abs=0.1)
    assert dominant_freq(audio.samples) == pytest.approx(440, abs=5)
    assert np.abs(audio.samples).max() <= 1.0



@pytest.mark.parametrize("suffix, channels", [(".wav", 3), (".wav", 8), (".wav", 12), (".flac", 8)])  # FLAC: 8 at most
def test_many_channels_are_mixed_in_their_own_order(tmp_path, suffix, channels):
    """A voice heard on every channel, and on each a tone of its own at its own level: the mix
    holds every tone in proportion, so the channels were told apart right. (8 or more channels
    crashed the process before.)"""
    rate, n = 48000, 96000
    t = np.arange(n) / rate
    freqs = [300 + 100 * k for k in range(channels)]
    common = 0.3 * np.sin(2 * np.pi * 2500 * t)
    x = np.stack([common + (0.05 + 0.02 * k) * np.sin(2 * np.pi * f * t) for k, f in enumerate(freqs)], axis=1)
    path = tmp_path / f"many{suffix}"
    sf.write(path, x.astype(np.float32), rate, subtype="PCM_24" if suffix == ".flac" else "FLOAT")
    code = ("import sys, numpy as np; from starcoach.audio.decode import load_audio; "
            "a = load_audio(sys.argv[1]); print(a.source_channels, a.duration_s); "
            "np.save(sys.argv[2], a.samples)")
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code, str(path), str(tmp_path / "mix.npy")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"decoding {channels} channels: exit {done.returncode} {done.stderr[-500:]}"
    got_channels, seconds = done.stdout.split()
    assert int(got_channels) == channels and float(seconds) == pytest.approx(2.0, abs=0.05)
    mix = np.load(tmp_path / "mix.npy")[1600:-1600]
    spec = np.abs(np.fft.rfft(mix * np.hanning(len(mix))))
    hz = np.fft.rfftfreq(len(mix), 1 / SAMPLE_RATE)
    levels = np.array([spec[np.argmin(np.abs(hz - f))] for f in freqs])
    want = np.array([0.05 + 0.02 * k for k in range(channels)])
    assert levels / levels.max() == pytest.approx(want / want.max(), abs=0.03)

def _bad(tmp_path, kind):
    p = tmp_path / "bad.wav"
    if kind == "missing":
        return tmp_path / "nope.wav"
    if kind == "folder":
        return tmp_path
    if kind == "empty":
        p.write_bytes(b"")
    elif kind == "text":
        p.write_text("this is not audio\n" * 20)
    elif kind == "truncated":
        p = tmp_path / "cut.flac"
        p.write_bytes((SAMPLES / "demo-answer.flac").read_bytes()[:200_000])
    return p


@pytest.mark.parametrize("kind, expectation", [
    ("ok", nullcontext()),
    ("missing", pytest.raises(AudioError, match="no such file")),
    ("folder", pytest.raises(AudioError, match="folder")),
    ("empty", pytest.raises(AudioError, match="empty")),
    ("text", pytest.raises(AudioError, match="holds text, not audio; a written answer goes to `starcoach check`")),
    # and what to do (an audit: the line ended at FFmpeg's "Invalid data found when processing input")
    ("truncated", pytest.raises(AudioError, match=r"truncated or corrupt \(.*\); copy it again from where it came, "
                                                  "or export it again from the app that made it$")),
])
def test_bad_input_table(tmp_path, kind, expectation):
    path = SAMPLES / "short-answer.flac" if kind == "ok" else _bad(tmp_path, kind)
    with expectation:
        assert load_audio(path).duration_s > 1.0


def test_only_level_regions_near_the_voice_are_kept():
    from starcoach.audio.activity import with_voice

    levels = ((0.0, 0.4), (1.0, 2.0), (2.05, 2.5), (5.0, 5.3), (8.0, 9.0))  # a door at 0 s, typing at 5 s
    voice = ((0.95, 2.6), (7.95, 9.1))
    assert with_voice(levels, voice) == ((1.0, 2.0), (2.05, 2.5), (8.0, 9.0))
    assert with_voice(levels, ()) == ()  # no voice: no speech, however loud the room
    # noise that hides the voice from the levels: the detector's own regions
    assert with_voice(((1.0, 1.2),), ((0.9, 3.0), (4.0, 6.0))) == ((0.9, 3.0), (4.0, 6.0))


def test_a_level_region_is_split_where_the_voice_is_silent_for_a_pause():
    from starcoach.audio.activity import with_voice

    # typing kept the level up through a 2.5 s pause (3.0-5.5 s) and after the last word
    levels = ((1.0, 9.0),)
    voice = ((1.0, 2.0), (2.3, 3.0), (5.5, 7.0))  # a 0.3 s gap stays inside, the 2.5 s one splits
    assert with_voice(levels, voice) == ((1.0, 3.1), (5.4, 7.1))


def test_a_level_region_is_cut_to_the_voice_at_its_ends():
    from starcoach.audio.activity import with_voice

    # keys struck 0.6 s before the answer resumes and 0.4 s after it stops kept the level up:
    # the region starts and ends within 0.1 s of the voice, so a pause is measured to the voice
    assert with_voice(((2.0, 5.0),), ((2.6, 4.6),)) == ((2.5, 4.7),)
    # a soft onset or tail just outside the detector's region stays speech
    assert with_voice(((2.0, 5.0),), ((2.15, 4.85),)) == ((2.0, 5.0),)
    # the voice's silences inside the region are untouched by the cut
    assert with_voice(((0.0, 6.0),), ((0.5, 1.0), (1.5, 5.5))) == ((0.4, 5.6),)


@pytest.mark.parametrize("placeholder", [0xFFFFFFFF, 0x7FFFFFFF, 0x7FFFF000, 0])
def test_a_wav_written_to_a_pipe_is_read_whole(tmp_path, placeholder):
    """A writer to a pipe cannot seek back to fill in the sizes and leaves a placeholder
    (sox: 0x7FFFF000): that is not a file cut off, and the audio that is there is read."""
    import struct

    path = tmp_path / "piped.wav"
    t = np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
    sf.write(path, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    at = data.index(b"data")
    data[at + 4:at + 8] = struct.pack("<I", placeholder)
    data[4:8] = struct.pack("<I", placeholder if placeholder in (0, 0xFFFFFFFF) else placeholder + at)
    path.write_bytes(bytes(data))
    audio = load_audio(path)
    assert audio.duration_s == pytest.approx(3.0, abs=0.05)
    assert dominant_freq(audio.samples) == pytest.approx(440, abs=5)


def test_an_mp3_whose_header_states_its_length_loads_whole_and_cut_off_is_refused(tmp_path):
    """A cut-off MP3 (its Xing frame promising more) was analysed as a whole, shorter answer."""
    from tests.test_bad_inputs import mp3_bytes

    whole = tmp_path / "whole.mp3"
    whole.write_bytes(mp3_bytes(6.0))
    assert load_audio(whole).duration_s == pytest.approx(6.0, abs=0.1)
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[:len(whole.read_bytes()) // 2])
    with pytest.raises(AudioError, match=r"cut off: its header promises 6\.0 s of audio but it holds [23]\.\d s"):
        load_audio(cut)


def test_a_file_of_samples_that_are_not_numbers_is_damaged_not_silence(tmp_path):
    """A float WAV of NaN was read as "pure digital silence, as from a muted microphone"."""
    bad = tmp_path / "nan.wav"
    sf.write(bad, np.full(16000, np.nan, dtype=np.float32), 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="not a number .* damaged"):
        load_audio(bad)
    some = tmp_path / "some.wav"  # a few damaged samples among good ones: those are silence
    x = (0.3 * np.sin(np.arange(16000) / 5)).astype(np.float32)
    x[100:110] = np.inf
    sf.write(some, x, 16000, subtype="FLOAT")
    samples = load_audio(some).samples
    assert np.isfinite(samples).all() and (samples[100:110] == 0).all() and np.abs(samples).max() > 0.2


def test_audio_whose_header_is_text_is_decoded_not_taken_for_a_written_answer(tmp_path):
    """A NIST SPHERE file opens with a text header (here all of its first 4 KB): it was refused as
    "holds text, not audio" before any decoder was asked. Text is told apart only once decoding fails."""
    samples = (np.sin(np.arange(16000) / 7) * 6000).astype("<i2")
    fields = (f"sample_count -i {len(samples)}\nsample_rate -i 16000\nchannel_count -i 1\nsample_n_bytes -i 2\n"
              "sample_byte_format -s2 01\nsample_coding -s3 pcm\nend_head\n")
    header = ("NIST_1A\n   4096\n" + fields).encode()
    sphere = tmp_path / "answer.sph"
    sphere.write_bytes(header + b" " * (4095 - len(header)) + b"\n" + samples.tobytes())
    assert load_audio(sphere).duration_s == pytest.approx(1.0, abs=0.01)
    text = tmp_path / "answer.txt"
    text.write_text("Situation: our nightly import failed.\n" * 200)
    with pytest.raises(AudioError, match="holds text, not audio"):
        load_audio(text)


def test_a_text_file_ffmpeg_would_read_as_a_list_of_other_files_is_refused_unread(tmp_path):
    """A text file in FFmpeg's `ffconcat` format (or an HLS playlist of addresses) was handed to
    FFmpeg once text was told apart only after decoding failed: `analyze` read the file it named."""
    target = tmp_path / "other.flac"
    sf.write(target, (np.sin(np.arange(16000) / 9) * 0.3).astype(np.float32), 16000, format="FLAC")
    listed = tmp_path / "answer.txt"
    listed.write_text(f"ffconcat version 1.0\nfile '{target.name}'\n")  # beside it: allowed in safe mode
    playlist = tmp_path / "answer.m3u8"
    playlist.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://127.0.0.1:9/x.ts\n#EXT-X-ENDLIST\n")
    for text in (listed, playlist):
        with pytest.raises(AudioError, match="holds text, not audio"):
            load_audio(text)
