"""The pipeline's own logic, with a stand-in for the model (no Whisper here)."""

from __future__ import annotations

import numpy as np
import pytest

from starcoach.analysis.pipeline import WINDOW_S, AnalysisOptions, _fit_to_audio, _recover_fillers, _window_bounds
from starcoach.audio.activity import Activity, speech_activity
from starcoach.domain.transcript import Segment, Transcript, Word
from tests.conftest import silence, tone

RATE = 16000


class HearsOnePerClip:
    """Answers each clip with the words given for it, in order, and records the clips."""

    def __init__(self, answers: list[list[str]]):
        self.answers = answers
        self.clips: list[int] = []

    def transcribe_pieces(self, pieces):
        self.clips = [len(p) for p in pieces]
        return [tuple(Word(t, 0.05, 0.3, 0.9) for t in words) for words in self.answers[: len(pieces)]]


def answer_with_hesitations(slots: list[int], total: float = 9.0):
    """Words of 0.3 s every 0.5 s; at each of ``slots`` two words are replaced by a voiced
    stretch of 0.4 s with silence around it that no word covers. Returns the audio, the
    transcript and the stretches."""
    words, stretches = [], []
    for k in range(int((total - 0.8) / 0.5)):
        s = 0.3 + 0.5 * k
        if k in slots:
            stretches.append((s + 0.2, s + 0.6))
        if k in slots or k - 1 in slots:
            continue
        words.append(Word("word", s, s + 0.3, 0.9))
    x = silence(total)
    for a, b, freq in [(w.start, w.end, 180.0) for w in words] + [(a, b, 140.0) for a, b in stretches]:
        clip = tone(b - a, freq=freq)
        x[int(a * RATE): int(a * RATE) + len(clip)] = clip
    return x, Transcript.from_words(words, total), stretches


def test_gaps_heard_as_filled_pauses_become_fillers_and_silent_ones_stay_unconfirmed():
    x, transcript, stretches = answer_with_hesitations([3, 8, 13])
    engine = HearsOnePerClip([["Um."], [], ["the"]])
    fillers, unconfirmed = _recover_fillers(engine, x, transcript, speech_activity(x, RATE), AnalysisOptions())
    assert len(engine.clips) == 3  # every stretch no word covers, each heard on its own
    assert [(f.text, f.source, f.kind) for f in fillers] == [("um", "audio", "filled_pause")]
    assert fillers[0].start == pytest.approx(stretches[0][0], abs=0.1)
    assert len(unconfirmed) == 1 and unconfirmed[0][0] == pytest.approx(stretches[1][0], abs=0.1)


def test_no_gap_no_decoding():
    x, transcript, _ = answer_with_hesitations([])
    engine = HearsOnePerClip([])
    assert _recover_fillers(engine, x, transcript, speech_activity(x, RATE), AnalysisOptions()) == ((), ())
    assert engine.clips == []


def test_segments_over_silence_are_dropped_and_words_trimmed_to_the_voice():
    x = silence(6.0)
    x[RATE: 2 * RATE] = tone(1.0)
    spoken = Segment(0.8, 2.3, "Hello there.", (Word("Hello", 0.8, 1.5, 0.9), Word("there.", 1.5, 2.3, 0.9)))
    ghost = Segment(4.0, 5.0, "Thank you.", (Word("Thank", 4.0, 4.4, 0.5), Word("you.", 4.4, 5.0, 0.5)))
    out = _fit_to_audio(Transcript((spoken, ghost), 6.0), speech_activity(x, RATE))
    assert [w.text for w in out.words] == ["Hello", "there."]
    assert out.words[0].start == pytest.approx(1.0, abs=0.05)
    assert out.words[-1].end == pytest.approx(2.0, abs=0.05)


def test_long_recordings_are_cut_in_the_longest_silence_near_each_window_end():
    # speech in 10 s turns with 1 s gaps, and one 3 s gap 10 s after the first nominal cut
    regions, t = [], 0.0
    while t < 1000:
        end = t + 10.0
        regions.append((t, end))
        t = end + (3.0 if abs(end - (WINDOW_S + 10)) < 5 else 1.0)
    activity = Activity(tuple(regions), -40.0, -60.0, np.zeros(1))
    bounds = _window_bounds(activity, 1000.0)
    assert bounds[0][0] == 0.0 and bounds[-1][1] == 1000.0
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))  # no gap, no overlap
    assert all(abs((e - s) - WINDOW_S) <= 31 for s, e in bounds[:-1])
    long_gap = next((a, b) for (_, a), (b, _) in zip(regions, regions[1:]) if b - a == 3.0)
    assert bounds[0][1] == sum(long_gap) / 2  # the longest silence in reach, not the nominal time
    assert _window_bounds(activity, 200.0) == [(0.0, 200.0)]
