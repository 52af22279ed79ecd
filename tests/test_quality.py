"""The audio-quality check: estimated levels, signal-to-noise ratio and clipping, and the line
the report prints when they make the counts unreliable."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from starcoach.analysis.quality import (BACKGROUND_VOICE_MIN_S, BACKGROUND_VOICE_SHARE, NARROWBAND_DB, NOISY_SNR_DB,
                                        SNR_FLOOR_DB, audio_quality, background_voice_share)
from starcoach.audio.activity import HOP_S, frame_levels, speech_activity
from starcoach.audio.decode import load_audio
from starcoach.audio.stats import signal_stats
from starcoach.cli import app
from tests.conftest import SAMPLES, coloured_noise, espeak, resampled

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


@pytest.mark.parametrize("snr, says", [(8.4, "background noise only 8 dB under the voice"),
                                       (0.3, "background noise as loud as the voice"),
                                       (-2.6, "background noise 3 dB louder than the voice")])
def test_the_noise_line_reads_right_whichever_is_louder(snr, says):
    x = _bursts(-20.0) + coloured_noise("pink", 12.0, -70.0)
    q = replace(audio_quality(speech_activity(x, RATE), signal_stats(x)), snr_db=snr, problems=("noisy",))
    assert says in q.warning


def test_a_voice_no_louder_than_the_background_is_buried_not_99_db_under():
    """A voice in brown noise at 0 dB: its voiced stretches measured -21.4 dBFS, the background
    -20.8, and the report said "background noise 99 dB louder than the voice" (snr_db -99.2)."""
    speech = _bursts(-20.0)
    noise = coloured_noise("pink", len(speech) / RATE, -20.0, seed=3)
    loud = noise * 3.0  # the background over the voiced stretches' level
    activity = replace(speech_activity(speech, RATE), frame_db=frame_levels(speech + loud, RATE))
    q = audio_quality(activity, signal_stats(speech + loud))
    assert q.snr_db == SNR_FLOOR_DB and "noisy" in q.problems, q
    assert "the voice buried in background noise as loud as it, or louder" in q.warning and "99" not in q.warning


def test_clean_audio_is_reliable_and_says_nothing():
    x = _bursts(-20.0) + coloured_noise("pink", 12.0, -70.0)
    q = audio_quality(speech_activity(x, RATE), signal_stats(x))
    assert q.reliable and q.problems == () and q.warning is None
    assert q.peak_dbfs < 0 and q.clipped_share == 0


@pytest.mark.parametrize("offset", [0.01, 0.05, -0.1])
def test_a_dc_offset_is_not_background_noise(offset):
    """Samples that sit off zero (a cheap codec, a USB adapter) are no sound: speech shifted by
    0.05 read 19.4 dB -> 5.7 dB, "noisy", "try a quieter room". A muted stretch stays one."""
    x = _bursts(-20.0) + coloured_noise("pink", 12.0, -50.0)
    plain = audio_quality(speech_activity(x, RATE), signal_stats(x))
    shifted = x + np.float32(offset)
    q = audio_quality(speech_activity(shifted, RATE), signal_stats(shifted))
    assert plain.snr_db is not None and plain.snr_db > NOISY_SNR_DB + 10
    assert q.snr_db == pytest.approx(plain.snr_db, abs=1.0) and q.problems == plain.problems == ()
    cut = np.concatenate([shifted, np.zeros(6 * RATE, np.float32), shifted])
    q = audio_quality(speech_activity(cut, RATE), signal_stats(cut))
    assert q.problems == ("silent_input",)
    ((start, end),) = q.silent_input
    assert start == pytest.approx(12.0, abs=0.05) and end == pytest.approx(18.0, abs=0.05)


def test_clipping_and_quiet_speech_are_named():
    loud = np.clip(_bursts(-3.0) * 3, -1.0, 1.0)
    q = audio_quality(speech_activity(loud, RATE), signal_stats(loud))
    assert "clipped" in q.problems and q.clipped_share > 0.001 and q.peak_dbfs == pytest.approx(0.0, abs=0.1)
    assert "clipped" in q.warning
    # what to do depends on what is wrong: "record closer to the microphone" clipped more
    assert "input level lower" in q.warning and "closer" not in q.warning, q.warning
    quiet = _bursts(-55.0) + coloured_noise("pink", 12.0, -100.0)
    q = audio_quality(speech_activity(quiet, RATE), signal_stats(quiet))
    assert q.problems == ("quiet",) and "quiet" in q.warning
    assert "microphone closer or its input level higher" in q.warning and "room" not in q.warning, q.warning


@pytest.mark.parametrize("gap_s", [3.0, 6.0])
def test_pure_digital_silence_is_an_input_cut_off_not_a_room_gone_quiet(gap_s):
    """A microphone muted, pulled out or switched gives exact zeros; a room never does."""
    room = coloured_noise("pink", 12.0, -75.0)
    x = np.concatenate([_bursts(-20.0) + room, np.zeros(int(gap_s * RATE), np.float32), _bursts(-20.0) + room])
    q = audio_quality(speech_activity(x, RATE), signal_stats(x))
    whole = _bursts(-20.0) + room
    assert q.noise_dbfs == pytest.approx(audio_quality(speech_activity(whole, RATE), signal_stats(whole)).noise_dbfs,
                                         abs=1.0)  # the zeros are no room's noise: they do not lower it
    if gap_s < 5.0:  # a synthetic answer's own silences (the dev corpus's reach 3.1 s) are no cut
        assert q.silent_input == () and "silent_input" not in q.problems
        return
    ((start, end),) = q.silent_input
    assert start == pytest.approx(12.0, abs=0.05) and end == pytest.approx(18.0, abs=0.05)
    assert q.problems == ("silent_input",) and not q.reliable
    assert "pure digital silence for 6 s (0:12–0:18)" in q.warning and "retake" in q.warning


def test_a_very_quiet_room_is_not_digital_silence_and_a_muted_one_is():
    hiss = np.round(np.random.default_rng(3).normal(0, 10 ** (-85 / 20), 12 * RATE) * 32767) / 32767  # 16-bit
    q = audio_quality(speech_activity(hiss, RATE), signal_stats(hiss))
    assert q.silent_input == () and q.problems == ()
    muted = np.zeros(3 * RATE, np.float32)  # all of it, however short
    q = audio_quality(speech_activity(muted, RATE), signal_stats(muted))
    assert q.silent_input == ((0.0, pytest.approx(3.0, abs=0.05)),) and q.problems == ("silent_input",)
    # given the recording's length, all of it is all of it (the last level's window ended at 2.98 s)
    q = audio_quality(speech_activity(muted, RATE), signal_stats(muted), duration_s=3.0)
    assert q.silent_input == ((0.0, 3.0),)
    loud = np.clip(_bursts(-3.0) * 3, -1.0, 1.0)
    loud[2 * RATE:9 * RATE] = 0.0  # both said, the cut first
    q = audio_quality(speech_activity(loud, RATE), signal_stats(loud))
    assert q.problems == ("silent_input", "clipped")
    assert "digital silence" in q.warning and "clipped" in q.warning


def test_a_recording_shorter_than_one_level_frame_is_measured_not_called_muted():
    """An audit: 6 ms of loud noise (peak -4 dBFS) had one level, -120 dB, the level of nothing at all,
    and the report said "pure digital silence for 0 s (0:00-0:00)", the microphone muted."""
    noise = np.random.default_rng(5).uniform(-0.6, 0.6, 100).astype(np.float32)
    act = speech_activity(noise, RATE)
    assert act.frame_db[0] > -10
    q = audio_quality(act, signal_stats(noise), duration_s=len(noise) / RATE)
    assert q.silent_input == () and "silent_input" not in q.problems
    zeros = np.zeros(160, np.float32)  # 10 ms of nothing is still nothing
    q = audio_quality(speech_activity(zeros, RATE), signal_stats(zeros), duration_s=0.01)
    assert q.problems == ("silent_input",) and "pure digital silence for 0.01 s" in q.warning


def test_a_take_of_digital_silence_says_the_microphone_is_muted(home, tmp_path):
    muted, hiss = tmp_path / "muted.wav", tmp_path / "hiss.wav"
    sf.write(muted, np.zeros(4 * RATE, np.float32), RATE)
    sf.write(hiss, coloured_noise("pink", 4.0, -75.0), RATE)
    said = runner.invoke(app, ["analyze", str(muted)])
    assert said.exit_code == 3 and "pure digital silence" in " ".join(said.output.split()), said.output
    said = runner.invoke(app, ["analyze", str(hiss)])
    assert said.exit_code == 3 and "digital silence" not in said.output and "closer" in said.output, said.output


@pytest.mark.parametrize("room_db", [-70.0, None])
def test_voice_the_detector_missed_is_not_taken_for_the_background(room_db):
    """Two clean held-out answers (SVOX Pico's voice, a drawn-out "er" the voice detector did not
    hear) were called noisy: outside the voice lay that "er" and a quiet room (8 dB), or that and
    pure digital silence (-9 dB). Here the detector misses two of ten bursts."""
    x = _bursts(-20.0)
    if room_db is not None:
        x = x + coloured_noise("pink", len(x) / RATE, room_db, seed=4)
    heard = speech_activity(x, RATE)
    missed = replace(heard, regions=heard.regions[2:], voice=())
    assert len(heard.regions) - len(missed.regions) == 2
    q = audio_quality(missed, signal_stats(x))
    assert "noisy" not in q.problems, q
    if room_db is None:  # nothing but the missed voice and digital silence: no background to measure
        assert q.snr_db is None
    else:
        assert q.snr_db == pytest.approx(-20.0 - room_db, abs=5.0)


@pytest.mark.parametrize("silent_share", [0.5, 0.49, 0.51])
def test_a_background_half_digital_silence_gives_a_number_or_none_never_nan(silent_share):
    """Half the hops outside the voice pure digital silence, half a quiet room: the median fell
    between the two, no hop was kept, and the noise read NaN ("noise_dbfs": NaN, no JSON)."""
    x = _bursts(-20.0, seconds=24.0)
    heard = speech_activity(x, RATE)
    db = np.asarray(heard.frame_db, np.float64).copy()
    voiced = np.zeros(len(db), bool)
    for s, e in heard.regions:
        voiced[max(0, int(s / HOP_S) - 10):int(np.ceil(e / HOP_S)) + 10] = True  # with the edges
    outside = np.flatnonzero(~voiced)
    cut = int(round(len(outside) * silent_share))
    db[outside[:cut]] = -120.0
    db[outside[cut:]] = -60.0
    q = audio_quality(replace(heard, frame_db=db), signal_stats(x))
    assert q.noise_dbfs is None or np.isfinite(q.noise_dbfs), q
    assert (q.noise_dbfs is None) == (silent_share >= 0.5), q
    assert "noisy" not in q.problems, q


def test_too_little_background_leaves_the_ratio_unknown():
    x = _bursts(-20.0)[: int(1.2 * RATE)]  # one burst and 0.6 s of silence, 0.4 s of it away from the voice
    q = audio_quality(speech_activity(x, RATE), signal_stats(x))
    assert q.noise_dbfs is None and q.snr_db is None and "noisy" not in q.problems


_ANSWER = ("We had two outages in a month because our deploys skipped the load test. I wrote a check that "
           "blocks any release without one and I ran the first three myself with the team. Since then we "
           "have had no outage for six months and the on call load went down by half.")


@pytest.mark.parametrize("kind, snr", [("white", 0.0), ("white", 5.0), ("pink", 5.0)])
def test_noise_loud_enough_to_fill_every_pause_is_still_named(tmp_path, kind, snr):
    """Noise that loud leaves the voice detector hearing a voice throughout, and nothing outside
    the voice to measure: the report called such a take reliable, with no ratio at all."""
    from starcoach.analysis.pipeline import voice_activity

    speech = espeak(_ANSWER, tmp_path)
    level = 10 * np.log10(np.mean(speech.astype(np.float64) ** 2))
    mix = speech + coloured_noise(kind, len(speech) / RATE, level - snr, seed=3)[: len(speech)]
    q = audio_quality(voice_activity(mix), signal_stats(mix))
    assert "noisy" in q.problems and q.snr_db is not None and q.snr_db < NOISY_SNR_DB, q
    clean = audio_quality(voice_activity(speech), signal_stats(speech))
    assert clean.reliable, clean


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


@pytest.mark.slow
def test_a_take_with_a_dc_offset_is_analysed_as_the_same_take(tmp_path):
    """The whole analysis of a recording whose samples sit off zero by 0.05, as a cheap codec's do."""
    clean = load_audio(SAMPLES / "demo-answer.flac").samples
    path = tmp_path / "offset.wav"
    sf.write(path, clean + np.float32(0.05), RATE, subtype="PCM_16")
    shifted = json.loads(runner.invoke(app, ["analyze", str(path), "--json"]).stdout)
    plain = json.loads(runner.invoke(app, ["analyze", str(SAMPLES / "demo-answer.flac"), "--json"]).stdout)
    assert shifted["audio"]["reliable"] is True and shifted["audio"]["warning"] is None
    assert shifted["audio"]["snr_db"] == pytest.approx(plain["audio"]["snr_db"], abs=1.0)
    assert abs(len(shifted["fillers"]) - len(plain["fillers"])) <= 1 and len(plain["fillers"]) >= 2
    assert [round(p["start"]) for p in shifted["pauses"] if p["long"]] == \
        [round(p["start"]) for p in plain["pauses"] if p["long"]]


# Words (start, end) with silences of 2, 0.5, 1.5 and 3 s between them: 6.5 s of long silences
# less 0.2 s at each end of the three that count (1 s or more): 5.3 s to judge by.
WORDS = [(0.0, 1.0), (3.0, 4.0), (4.5, 5.0), (6.5, 7.0), (10.0, 11.0)]


@pytest.mark.parametrize(("voice", "share"), [
    ([], 0.0),
    ([(0.0, 1.0), (3.0, 5.0), (6.5, 7.0), (10.0, 11.0)], 0.0),  # the speaker's own voice only
    ([(1.2, 2.8)], 1.6 / 5.3),  # someone in the first silence
    ([(0.0, 11.0)], 1.0),  # someone all the time
    ([(4.9, 5.15), (6.35, 6.6)], 0.0),  # voice spilling 0.15 s past the words' edges: trimmed off
])
def test_background_voice_share_counts_only_the_speakers_long_silences(voice, share):
    assert background_voice_share(WORDS, voice) == pytest.approx(share, abs=1e-9)


def test_too_little_silence_leaves_the_share_unknown():
    short = [(0.0, 1.0), (2.5, 3.0), (4.2, 5.0)]  # 1.5 and 1.2 s: 1.9 s once trimmed
    assert sum(b - a - 0.4 for (_, a), (b, _) in zip(short, short[1:])) < BACKGROUND_VOICE_MIN_S
    assert background_voice_share(short, [(0.0, 5.0)]) is None
    assert background_voice_share([], [(0.0, 5.0)]) is None


def test_voices_in_the_speakers_silences_make_the_counts_unreliable_unless_noise_explains_it():
    x = _bursts(-20.0)
    regions = speech_activity(x, RATE).regions
    for k, (a, b) in enumerate(regions):
        if k % 3:  # every third burst is left: 2.4 s silences between them
            x[int(a * RATE):int(b * RATE) + 1] = 0.0
    x = x + coloured_noise("pink", 12.0, -70.0)
    words = list(regions[::3])
    clean = replace(speech_activity(x, RATE), voice=tuple(words))
    q = audio_quality(clean, signal_stats(x), words=words)
    assert q.problems == () and q.background_voice_share == 0.0
    # someone else talking through the first 70 % of each silence (the rest stays background)
    others = [(e, e + 0.7 * (s2 - e)) for (_, e), (s2, _) in zip(words, words[1:])]
    babble = replace(clean, voice=tuple(sorted(words + others)))
    q = audio_quality(babble, signal_stats(x), words=words)
    assert q.problems == ("voices",) and q.background_voice_share >= BACKGROUND_VOICE_SHARE
    assert "other voices in the background" in q.warning and not q.reliable
    noisy = x + coloured_noise("white", 12.0, -25.0, seed=3)
    q = audio_quality(replace(babble, frame_db=frame_levels(noisy, RATE)), signal_stats(noisy), words=words)
    assert q.problems == ("noisy",)  # the noise is named, not the voices
    assert audio_quality(replace(babble, voice=()), signal_stats(x), words=words).background_voice_share is None


def _babble(seconds: float, tmp_path) -> np.ndarray:
    """Three espeak-ng voices talking at once, looped to SECONDS, at 1.0 RMS."""
    text = ("The quarterly numbers came in late again, so the meeting moved to Thursday afternoon, "
            "and nobody had booked a room for the people flying in from the other office.")
    tracks = []
    for k, voice in enumerate(("en-gb+m2", "en-us+f3", "en-029+m4")):
        y = espeak(text, tmp_path, voice=voice, speed=150 + 15 * k, name=f"b{k}")
        tracks.append(np.roll(np.resize(y, int(seconds * RATE)), k * RATE))
    mix = np.sum(tracks, axis=0)
    return mix / np.sqrt(np.mean(mix ** 2))


@pytest.mark.slow
def test_an_answer_over_background_voices_carries_the_warning(tmp_path):
    clean = load_audio(SAMPLES / "demo-answer.flac").samples
    speech_rms = float(np.sqrt(np.mean(clean[np.abs(clean) > 0.01] ** 2)))
    mixed = clean + _babble(len(clean) / RATE, tmp_path) * speech_rms * 10 ** (-15 / 20)  # 15 dB under the voice
    path = tmp_path / "babble.wav"
    sf.write(path, mixed, RATE)
    doc = json.loads(runner.invoke(app, ["analyze", str(path), "--json"]).stdout)
    assert "voices" in doc["audio"]["problems"] and doc["audio"]["reliable"] is False
    assert doc["audio"]["background_voice_share"] >= BACKGROUND_VOICE_SHARE
    assert "other voices" in runner.invoke(app, ["analyze", str(path)]).stdout
    ok = json.loads(runner.invoke(app, ["analyze", str(SAMPLES / "demo-answer.flac"), "--json"]).stdout)
    assert "voices" not in ok["audio"]["problems"] and ok["audio"]["background_voice_share"] < 0.2


@pytest.mark.slow
def test_a_question_from_across_the_room_in_the_speakers_pause_does_not_end_it(tmp_path):
    """A television talks 25 dB under the speaker all along, and someone asks a question 18 dB under
    in the speaker's four-second pause: Whisper writes the question and the voice detector hears it,
    and the pause was cut to 1.2 s (no long pause). The detector hears voices in the speaker's
    silences, so the question is another voice's and the pause the speaker's, whole and long."""
    said = espeak("I rewrote the import job so that it ran in parallel, and the nightly load finished "
                  "two hours earlier.", tmp_path, name="a")
    more = espeak("Then I moved the reports to the new warehouse and showed the finance team how to "
                  "read them.", tmp_path, name="b")
    last = espeak("In the end the reports were ready by eight every morning, and nobody waited for them "
                  "again.", tmp_path, name="d")
    other = espeak("Sorry, is this the meeting room for the planning call?", tmp_path, voice="en-gb+f3", name="c")
    speech_rms = float(np.sqrt(np.mean(said[np.abs(said) > 0.01] ** 2)))
    pause = np.zeros(int(4.0 * RATE), np.float32)
    pause[int(0.7 * RATE): int(0.7 * RATE) + len(other)] = other[: int(3.3 * RATE)] * 10 ** (-18 / 20)
    half = np.zeros(RATE // 2, np.float32)
    x = np.concatenate([half, said, pause, more, np.zeros(int(3.5 * RATE), np.float32), last, half])
    x = x + _babble(len(x) / RATE, tmp_path) * speech_rms * 10 ** (-25 / 20)
    path = tmp_path / "asked.wav"
    sf.write(path, x.astype(np.float32), RATE)
    doc = json.loads(runner.invoke(app, ["analyze", str(path), "--json"]).stdout)
    end = 0.5 + len(said) / RATE
    assert "voices" in doc["audio"]["problems"]
    assert [(p["start"], p["end"]) for p in doc["pauses"] if p["long"]][0] == \
        (pytest.approx(end, abs=0.4), pytest.approx(end + 4.0, abs=0.4))


@pytest.mark.slow
def test_a_colleague_talking_in_the_speakers_pauses_is_named(tmp_path):
    """An audit: another voice 18 dB under the speaker, talking in the speaker's pauses, in a quiet room.
    Whisper wrote its words into the pauses, which left no silence between the words to judge: no word
    of other voices, though the long pauses were lost and its words counted in the pace. Judged between
    the speaker's own words as well, the report names the voices, so the counts are not shown as sure.
    (The pauses stay lost: the pause rule does not judge there, tests/test_metrics.py.)"""
    said = [espeak(text, tmp_path, name=f"s{i}") for i, text in enumerate((
        "Last year our checkout conversion dropped by eight percent in a single week, and I was asked to find "
        "the root cause.", "I split the drop by browser, country and payment method, and found a fraud rule "
        "that was timing out.", "I changed the timeout with the fraud team, and conversion recovered within "
        "two days."))]
    other = [espeak(text, tmp_path, voice="en-gb+f3", name=f"o{i}") for i, text in enumerate((
        "Did you see the game last night?", "Can you pass me the stapler, please?"))]
    rms = float(np.sqrt(np.mean(said[0][np.abs(said[0]) > 0.01] ** 2)))
    pauses = []
    for line in other:
        gap = np.zeros(int(3.2 * RATE), np.float32)
        line = line[np.flatnonzero(np.abs(line) > 1e-3)[0]:][: int(2.4 * RATE)]
        gap[int(0.4 * RATE): int(0.4 * RATE) + len(line)] = \
            line / np.sqrt(np.mean(line[np.abs(line) > 0.01] ** 2)) * rms * 10 ** (-18 / 20)
        pauses.append(gap)
    half = np.zeros(RATE // 2, np.float32)
    x = np.concatenate([half, said[0], pauses[0], said[1], pauses[1], said[2], half])
    path = tmp_path / "colleague.wav"
    sf.write(path, x, RATE)
    doc = json.loads(runner.invoke(app, ["analyze", str(path), "--json"]).stdout)
    assert "voices" in doc["audio"]["problems"] and not doc["audio"]["reliable"], doc["audio"]
    assert "other voices in the background" in doc["audio"]["warning"]


@pytest.mark.slow
def test_a_sentence_said_softly_between_two_silences_keeps_them_two_pauses(tmp_path):
    """A review: a real voice (jfk.flac) saying one sentence 12 dB softer between two silences of 1.3 s,
    in a quiet room, came back as one long pause of 5.4 s across the sentence it had transcribed. No
    other voice is heard in the speaker's silences there, so the soft sentence is the speaker's."""
    jfk = load_audio(SAMPLES.parent / "tests" / "data" / "jfk.flac").samples

    def part(a, b, db=0.0):
        return jfk[int(a * RATE): int(b * RATE)] * np.float32(10 ** (db / 20))

    def silent(seconds):
        return np.zeros(int(seconds * RATE), np.float32)

    first, again = part(0.0, 7.6), part(7.9, 10.45)  # "And so ... for you." / "Ask what ... your country."
    x = np.concatenate([silent(0.3), first, silent(1.3), part(7.9, 10.45, -12.0), silent(1.3), first, silent(0.6),
                        again, silent(0.5)])
    x = x + np.random.default_rng(1).normal(0, 10 ** (-58 / 20), len(x)).astype(np.float32)  # a quiet room
    path = tmp_path / "aside.wav"
    sf.write(path, x, RATE)
    doc = json.loads(runner.invoke(app, ["analyze", str(path), "--json"]).stdout)
    soft = (0.3 + 7.6 + 1.3, 0.3 + 7.6 + 1.3 + 2.55)
    assert "voices" not in doc["audio"]["problems"]
    assert any(soft[0] - 0.3 < w["start"] < soft[1] for w in doc["words"])  # the soft sentence is heard...
    assert not any(p["start"] < soft[0] and p["end"] > soft[1] for p in doc["pauses"])  # ...and no pause spans it


def test_another_language_heard_with_confidence_makes_the_counts_unreliable():
    """Whisper decodes in the configured language whatever it hears: French came back as seven
    "ah" (seven fillers) and German as invented English, fully scored, with no word of warning."""
    x = _bursts(-20.0)
    act, stats = speech_activity(x, RATE), signal_stats(x)
    q = audio_quality(act, stats, heard=("fr", 0.93))
    assert q.problems[0] == "other_language" and not q.reliable and q.other_language == ("fr", 0.93)
    assert q.warning.startswith("Language:") and "'fr', 93%" in q.warning and "[model] language" in q.warning
    # a real English recording whose first window Whisper could not place (its top: Nynorsk, 0.243)
    unsure = audio_quality(act, stats, heard=("nn", 0.243))
    assert unsure.problems == () and unsure.other_language is None and unsure.warning is None
    # Latin is what Whisper names speech it cannot place (English said with another language's
    # sounds, 0.55-0.96): nobody's answer, never "another language"
    assert audio_quality(act, stats, heard=("la", 0.93)).problems == ()
    # a short answer is placed less surely: 0.6 is enough (0.7 left 0.6-0.7 answers in German unnamed)
    assert audio_quality(act, stats, heard=("de", 0.64)).other_language == ("de", 0.64)


@pytest.mark.slow
@pytest.mark.parametrize("voice, text, code", [
    ("de", "Letztes Jahr habe ich die Migration unseres Abrechnungssystems geleitet. Die Rechnungen laden "
           "jetzt in unter einer Sekunde, und die Supportanfragen sind um vierzig Prozent gesunken.", "de"),
    ("en-us", "Last year I led the migration of our billing system. Invoices now load in under a second, "
              "and support tickets dropped by forty percent.", None),
    # English said with Polish sounds: Whisper heard "Latin" at 0.86-0.96 and the answer was told it
    # was in another language, though most of its words came back right
    ("pl", "Last year I was working in a small team that looked after our payments app. Customers complained "
           "that their invoices arrived late every single month.", None),
])
def test_an_answer_in_another_language_is_named_and_an_english_one_is_not(tmp_path, voice, text, code):
    path = tmp_path / "answer.wav"
    sf.write(path, espeak(text, tmp_path, voice=voice), 16000)
    result = CliRunner().invoke(app, ["analyze", str(path), "--json"])
    assert result.exit_code == 0, result.output
    audio = json.loads(result.stdout)["audio"]
    if code is None:
        assert audio["other_language"] is None and "other_language" not in audio["problems"], audio
    else:
        assert audio["other_language"]["code"] == code and audio["other_language"]["probability"] >= 0.8, audio
        assert "other_language" in audio["problems"] and audio["warning"].startswith("Language:")


@pytest.mark.parametrize("rate, named", [(4000, True), (8000, True), (9000, True), (11025, False), (44100, False)])
def test_a_file_made_at_9_khz_or_under_is_narrowband_whatever_the_measure(rate, named):
    """An audit: a flite answer at 4 kHz has nothing in either band the measure compares (its content ends
    at 2 kHz), so `high_band_db` was null and no problem named, where the same answer at 5-8 kHz was
    narrowband. A file made at 9 kHz or under has nothing at 4.5-6 kHz by construction."""
    x = _bursts(-20.0)  # harmonics under 2 kHz: the measure has nothing to compare
    stats = signal_stats(x, source_rate=rate)
    assert stats.bands.high_band_db is None
    q = audio_quality(speech_activity(x, RATE), stats)
    assert ("narrowband" in q.problems) is named and q.high_band_db is None
    assert "narrowband" not in audio_quality(speech_activity(x[:2 * RATE], RATE), stats).problems  # 3 s of voice


@pytest.mark.slow
@pytest.mark.parametrize("live", [False, True])
def test_a_take_made_at_8_khz_is_named_narrowband_in_json_and_report(tmp_path, live):
    """A file made at 8 kHz (as a phone or a Bluetooth headset's hands-free mode records): the
    problem is named, in the file's analysis and in the one made chunk by chunk as a recording is,
    and the counts stay near the full-band take's."""
    path = tmp_path / "phone.wav"
    sf.write(path, resampled(load_audio(SAMPLES / "demo-answer.flac").samples, 8000), 8000, subtype="PCM_16")
    extra = ["--live"] if live else []
    doc = json.loads(runner.invoke(app, ["analyze", str(path), "--json", *extra]).stdout)
    plain = json.loads(runner.invoke(app, ["analyze", str(SAMPLES / "demo-answer.flac"), "--json", *extra]).stdout)
    assert doc["audio"]["problems"] == ["narrowband"] and doc["audio"]["high_band_db"] < NARROWBAND_DB - 5
    assert "narrowband" in doc["audio"]["warning"] and "4 kHz" in doc["audio"]["warning"]
    assert plain["audio"]["reliable"] is True and plain["audio"]["high_band_db"] > NARROWBAND_DB + 20
    assert abs(len(doc["fillers"]) - len(plain["fillers"])) <= 1
    if not live:
        assert "narrowband" in runner.invoke(app, ["analyze", str(path)]).stdout


@pytest.mark.slow
def test_a_file_made_at_4_khz_is_named_narrowband(tmp_path):
    """The audit's case: flite's slt voice at 4 kHz leaves the measure nothing to compare (null)."""
    if not shutil.which("flite") or not shutil.which("sox"):
        pytest.skip("flite and sox make this fixture")
    said, path = tmp_path / "slt.wav", tmp_path / "dictaphone.wav"
    subprocess.run(["flite", "-voice", "slt", "-o", str(said), "-t",
                    "In my previous job, two senior engineers disagreed about how to migrate our database. The "
                    "project was already three weeks late, and I was asked to get it moving again. I met each of "
                    "them separately and wrote down what they were worried about."], check=True)
    subprocess.run(["sox", "-R", str(said), "-r", "4000", "-b", "16", str(path)], check=True)
    audio = json.loads(runner.invoke(app, ["analyze", str(path), "--json"]).stdout)["audio"]
    assert "narrowband" in audio["problems"] and audio["high_band_db"] is None, audio


@pytest.mark.parametrize("share, named", [(0.003, True), (0.0005, False)])
def test_clipping_is_named_from_a_thousandth_of_the_samples(share, named):
    """A few full-scale samples (a plosive into the microphone) leave the counts as they are; from a
    thousandth of the recording on, the clipping is named."""
    x = _bursts(-20.0) + coloured_noise("pink", 12.0, -70.0)
    hit = np.random.default_rng(1).choice(len(x), int(share * len(x)), replace=False)
    x[hit] = 1.0
    q = audio_quality(speech_activity(x, RATE), signal_stats(x))
    assert q.clipped_share == pytest.approx(share, rel=0.05)
    assert ("clipped" in q.problems) is named, q
