"""Transcription while recording: chunking at pauses, times in absolute seconds, and
the same answer as transcribing the whole file."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from starcoach.cli import app
from starcoach.asr.live import LiveOptions, LiveTranscriber
from starcoach.domain.transcript import Transcript, Word
from tests.conftest import SAMPLES, silence, tone

RATE = 16000
runner = CliRunner()


def fake_chunk(samples, context):
    """A stand-in recogniser: one 'word' per voiced second, timed relative to the chunk."""
    words, t = [], 0.0
    x = np.abs(samples)
    for k in range(0, len(samples), RATE // 2):
        if x[k:k + RATE // 2].max(initial=0) > 0.05:
            words.append(Word(f"w{len(words)}", k / RATE, k / RATE + 0.4))
    return Transcript.from_words(words, len(samples) / RATE), (), ()


def test_chunks_close_at_pauses_and_times_are_absolute():
    # 3 x (10 s of voice, 2 s pause): chunks of at least 5 s must end inside a pause.
    parts = []
    for _ in range(3):
        parts += [tone(10.0), silence(2.0)]
    x = np.concatenate(parts)
    live = LiveTranscriber(fake_chunk, options=LiveOptions(min_chunk_s=5, max_chunk_s=15, pause_s=0.3))
    for i in range(0, len(x), 1600):
        live.feed((x[i:i + 1600] * 32767).astype(np.int16))
    result = live.finish()
    assert result.transcript.duration_s == pytest.approx(36.0, abs=0.01)
    cuts = [end for _, end in result.chunks[:-1]]
    assert cuts, "the 33 s answer was never cut"
    for c in cuts:  # every cut lies in one of the pauses (10-12 s, 22-24 s, 34-36 s)
        assert any(lo <= c <= hi for lo, hi in ((10, 12), (22, 24), (34, 36))), c
    starts = [w.start for w in result.transcript.words]
    assert starts == sorted(starts)
    # every voiced half-second produced a word at its absolute time
    assert sum(1 for s in starts if 12.0 <= s < 22.0) == 20
    assert result.activity.regions[0][0] == pytest.approx(0.0, abs=0.05)


def test_a_long_stretch_without_pause_is_cut_at_max_chunk():
    x = tone(40.0)
    live = LiveTranscriber(fake_chunk, options=LiveOptions(min_chunk_s=5, max_chunk_s=12, pause_s=0.3))
    for i in range(0, len(x), 1600):
        live.feed(x[i:i + 1600])
    result = live.finish()
    assert all(e - s <= 12.5 for s, e in result.chunks)
    assert result.chunks[-1][1] == pytest.approx(40.0, abs=0.01)


def test_worker_errors_surface_in_finish():
    def broken(samples, context):
        raise RuntimeError("decoder exploded")
    live = LiveTranscriber(broken, options=LiveOptions(min_chunk_s=1, max_chunk_s=2))
    live.feed(tone(5.0))
    with pytest.raises(RuntimeError, match="decoder exploded"):
        live.finish()


@pytest.mark.slow
def test_live_path_gives_the_same_answer_as_the_whole_file():
    whole = json.loads(runner.invoke(app, ["analyze", str(SAMPLES / "demo-answer.flac"), "--json"]).stdout)
    live = json.loads(runner.invoke(app, ["analyze", str(SAMPLES / "demo-answer.flac"), "--json", "--live"]).stdout)
    a = [w["text"].lower().strip(",.") for w in whole["words"]]
    b = [w["text"].lower().strip(",.") for w in live["words"]]
    import difflib

    assert difflib.SequenceMatcher(a=a, b=b).ratio() > 0.9
    assert sorted(f["text"] for f in live["fillers"]) == sorted(f["text"] for f in whole["fillers"])
    for part in ("situation", "task", "action", "result", "learning"):
        assert live["star"][part]["present"] == whole["star"][part]["present"]
    assert [p["long"] for p in live["pauses"]] == [p["long"] for p in whole["pauses"]]


def _feed_in_real_time(live, x, block=1600):
    """Feed like a recorder does: the worker gets idle moments between blocks."""
    import time

    for i in range(0, len(x), block):
        live.feed(x[i:i + block])
        deadline = time.monotonic() + 1.0
        while not live._queue.empty() and time.monotonic() < deadline:
            time.sleep(0.001)


def _counting():
    """The stand-in recogniser, and the length of every stretch it was asked to decode."""
    calls: list[float] = []

    def counting(samples, context):
        calls.append(len(samples) / RATE)
        return fake_chunk(samples, context)

    return calls, counting


def test_a_guess_made_in_the_final_pause_is_the_last_chunk_with_no_decoding_after_stop():
    calls, counting = _counting()
    x = np.concatenate([silence(0.5), tone(4.0), silence(1.5)])
    live = LiveTranscriber(counting, options=LiveOptions(min_chunk_s=18, max_chunk_s=28, pause_s=0.3))
    _feed_in_real_time(live, x)
    guessed = len(calls)
    result = live.finish()
    assert guessed >= 1, "no guess was made in the pause"
    assert len(calls) == guessed, "finish() decoded again although only silence followed the guess"
    starts = [w.start for w in result.transcript.words]
    assert len(starts) == 8 and starts[0] == pytest.approx(0.5, abs=0.01)
    assert result.transcript.duration_s == pytest.approx(6.0, abs=0.01)


def test_a_short_piece_after_the_last_guess_is_decoded_with_the_audio_before_it_and_keeps_its_own_words():
    calls, counting = _counting()
    x = np.concatenate([tone(4.0), silence(1.0)])
    live = LiveTranscriber(counting, options=LiveOptions(min_chunk_s=18, max_chunk_s=28, pause_s=0.3))
    _feed_in_real_time(live, x)
    assert calls, "no guess was made in the pause"
    guess_len = calls[-1]
    assert guess_len <= 5.0
    live.feed(tone(2.0))  # the speaker goes on, then stops at once: no pause to guess in
    result = live.finish()
    # 2 s alone is too little for Whisper: it is read with the guessed audio before it (all of it, under 5 s)
    assert calls[-1] == pytest.approx(guess_len + (7.0 - guess_len), abs=0.01)
    starts = [w.start for w in result.transcript.words]
    # the lead's words are not repeated: 8 words from the guess, then the 4 of the last 2 s
    assert len(starts) == 12 and starts[-4:] == pytest.approx([5.0, 5.5, 6.0, 6.5], abs=0.01)
    assert starts == sorted(starts)
    cut = result.chunks[-1][0]
    last = [seg for seg in result.transcript.segments if seg.words[0].start >= cut]
    assert last and all(seg.start >= cut for seg in last)  # the lead's start is not the segment's


def test_with_lead_s_0_a_short_last_piece_is_decoded_alone():
    calls, counting = _counting()
    live = LiveTranscriber(counting, options=LiveOptions(min_chunk_s=18, max_chunk_s=28, pause_s=0.3, lead_s=0))
    _feed_in_real_time(live, np.concatenate([tone(4.0), silence(1.0)]))
    guess_len = calls[-1]
    live.feed(tone(2.0))
    live.finish()
    assert calls[-1] == pytest.approx(7.0 - guess_len, abs=0.01)


def test_the_lead_reaches_back_past_a_short_chunk_into_the_one_before():
    calls, counting = _counting()
    # a chunk closed at the pause after 8 s, a guess 2-3 s later, then 1.5 s more and the stop
    x = np.concatenate([tone(8.0), silence(1.0), tone(1.5), silence(1.0)])
    live = LiveTranscriber(counting, options=LiveOptions(min_chunk_s=5, max_chunk_s=28, pause_s=0.3))
    _feed_in_real_time(live, x)
    live.feed(tone(1.5))
    result = live.finish()
    assert len(result.chunks) == 3
    piece = result.chunks[-1][1] - result.chunks[-1][0]
    assert result.chunks[-2][1] - result.chunks[-2][0] < 5.0
    assert calls[-1] == pytest.approx(piece + 5.0, abs=0.01)  # 5 s of lead, across both chunks before


def test_a_word_the_lead_decode_stretches_over_the_cut_is_not_repeated():
    seen = []

    def stretching(samples, context):
        """Ends every stretch with "managed." just before its end; a decode with a lead (its
        second call on) also reads that word again, stretched over the cut, then "bye."."""
        n = len(samples) / RATE
        seen.append(context)
        if len(seen) == 1:
            words = [Word("a", 1.0, 1.5), Word("managed.", n - 0.6, n - 0.1)]
        else:
            back = 5.0
            words = [Word("x", 1.0, 1.5), Word("managed.", back - 0.5, back + 0.7),
                     Word("bye.", back + 1.0, back + 1.4)]
        return Transcript.from_words(words, n), (), ()

    x = np.concatenate([tone(11.5), silence(2.0), tone(1.5)])
    live = LiveTranscriber(stretching, options=LiveOptions(min_chunk_s=5, max_chunk_s=28, pause_s=0.3), guess=False)
    for i in range(0, len(x), 1600):
        live.feed(x[i:i + 1600])
    result = live.finish()
    assert len(result.chunks) == 2 and len(seen) == 2
    assert [w.text for w in result.transcript.words] == ["a", "managed.", "bye."]
    assert seen[1] == "a"  # the prompt: the words before the lead's audio


def test_a_last_piece_longer_than_short_s_is_decoded_alone():
    calls, counting = _counting()
    x = np.concatenate([tone(4.0), silence(1.0)])
    live = LiveTranscriber(counting, options=LiveOptions(min_chunk_s=18, max_chunk_s=28, pause_s=0.3, short_s=6))
    _feed_in_real_time(live, x)
    assert calls, "no guess was made in the pause"
    guess_len = calls[-1]
    live.feed(tone(7.0))  # 7 s more, no pause: long enough to be read alone
    result = live.finish()
    assert calls[-1] == pytest.approx(12.0 - guess_len, abs=0.01)
    assert len(result.transcript.words) == 8 + 14


def test_a_guess_soon_after_a_cut_is_decoded_with_the_end_of_the_chunk_before_it():
    calls = []

    def counting(samples, context):
        calls.append((len(samples) / RATE, context))
        return fake_chunk(samples, context)

    x = np.concatenate([tone(10.0), silence(1.0), tone(2.0), silence(1.0)])
    live = LiveTranscriber(counting, options=LiveOptions(min_chunk_s=5, max_chunk_s=28, pause_s=0.3))
    _feed_in_real_time(live, x)
    decoded = len(calls)
    result = live.finish()
    assert len(calls) == decoded, "the guess in the final pause was not reused"
    cut = result.chunks[0][1]
    assert 10.0 <= cut <= 11.0
    length, context = calls[-1]
    # the guess holds the pending 2-3 s and the 5 s before the cut, prompted with the words before those 5 s
    assert length - (result.chunks[-1][1] - cut) == pytest.approx(5.0, abs=0.01)
    assert context.split() == [f"w{i}" for i in range(10)]
    starts = [w.start for w in result.transcript.words]
    assert starts == sorted(starts)
    # the lead's words are not repeated: 20 from the first chunk, then only those of the last 2 s
    # (4 or 5: the stand-in marks half-seconds from where its audio starts)
    assert len([t for t in starts if t < cut]) == 20
    assert 4 <= len([t for t in starts if t >= cut]) <= 5


def test_the_take_keeps_only_the_level_regions_a_voice_detector_hears_and_its_signal_stats():
    # 4 s voiced, 3 s of a loud hum the detector does not hear as a voice, 4 s voiced
    x = np.concatenate([tone(4.0), silence(1.0), tone(3.0, freq=90.0), silence(1.0), tone(4.0), silence(1.0)])
    seen = []

    def voice(samples):  # a stand-in detector: the 180 Hz stretches are a voice, the 90 Hz one is not
        seen.append(len(samples))
        return [(0.0, 4.0), (9.0, 13.0)]

    live = LiveTranscriber(fake_chunk, options=LiveOptions(min_chunk_s=18, max_chunk_s=28), voice=voice)
    for i in range(0, len(x), 1600):
        live.feed(x[i:i + 1600])
    result = live.finish()
    assert len(seen) == 1  # one chunk, its voice detected once
    assert [(round(s), round(e)) for s, e in result.activity.regions] == [(0, 4), (9, 13)]
    assert result.activity.voice == ((0.0, 4.0), (9.0, 13.0))
    assert result.stats.samples == len(x) and result.stats.clipped == 0
    assert result.stats.peak == pytest.approx(float(np.abs(x).max()), rel=1e-6)
