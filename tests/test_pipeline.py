"""The pipeline's own logic, with a stand-in for the model (no Whisper here)."""

from __future__ import annotations

import numpy as np
import pytest

from starcoach.analysis.filler_recovery import recover_fillers
from starcoach.analysis.metrics import MetricsOptions
from starcoach.analysis.pipeline import WINDOW_S, _fit_to_audio, _window_bounds
from starcoach.asr.probe import ProbeScore
from starcoach.audio.activity import Activity, speech_activity
from starcoach.domain.transcript import Segment, Transcript, Word
from tests.conftest import silence, tone

RATE = 16000


class ScoresEachClip:
    """Scores each clip with the next of the given filled-pause probabilities, and records the clips."""

    def __init__(self, p_filler: list[float], *, nasal: bool = True):
        self.p_filler = p_filler
        self.nasal = nasal
        self.clips: list[int] = []

    def score_fillers(self, clips):
        self.clips = [len(c) for c in clips]
        return [ProbeScore(p_filler=p, p_no_speech=0.1, p_end=1 - p, p_um=p if self.nasal else 0.0,
                           spelling="um", top_token=" Um" if p > 0.5 else "<|endoftext|>", top_p=max(p, 1 - p))
                for p in self.p_filler[: len(clips)]]


def answer_with_hesitations(slots: list[int], total: float = 9.5):
    """Words of 0.45 s every 0.5 s (one voiced run); at each of ``slots`` two words are replaced by a voiced
    stretch of 0.4 s with silence around it that no word covers. Returns the audio, the
    transcript and the stretches."""
    words, stretches = [], []
    for k in range(int((total - 0.8) / 0.5)):
        s = 0.3 + 0.5 * k
        if k in slots:
            stretches.append((s + 0.2, s + 0.6))
        if k in slots or k - 1 in slots:
            continue
        words.append(Word("word", s, s + 0.45, 0.9))
    x = silence(total)
    for a, b, freq in [(w.start, w.end, 180.0) for w in words] + [(a, b, 140.0) for a, b in stretches]:
        clip = tone(b - a, freq=freq)
        x[int(a * RATE): int(a * RATE) + len(clip)] = clip
    return x, Transcript.from_words(words, total), stretches


def test_gaps_scored_as_filled_pauses_become_fillers_and_the_others_stay_unconfirmed():
    x, transcript, stretches = answer_with_hesitations([3, 8, 13])
    engine = ScoresEachClip([0.6, 0.001, 0.0149])
    out, fillers, unconfirmed = recover_fillers(engine, x, transcript, speech_activity(x, RATE), 0.015,
                                                MetricsOptions())
    assert len(engine.clips) == 3  # every stretch no word covers, each scored on its own
    assert all(n < 1.2 * RATE for n in engine.clips)  # the stretch and a little context, not a window
    assert [(f.text, f.source, f.kind) for f in fillers] == [("um", "audio", "filled_pause")]
    assert fillers[0].start == pytest.approx(stretches[0][0], abs=0.1)
    assert len(unconfirmed) == 2 and unconfirmed[0][0] == pytest.approx(stretches[1][0], abs=0.1)
    assert out == transcript


def test_no_candidate_no_scoring():
    x, transcript, _ = answer_with_hesitations([])
    engine = ScoresEachClip([])
    assert recover_fillers(engine, x, transcript, speech_activity(x, RATE), 0.015, MetricsOptions()) == (
        transcript, (), ())
    assert engine.clips == []


@pytest.mark.parametrize(("p", "nasal", "expect"), [(0.4, True, "um,"), (0.4, False, "uh,"), (0.01, True, "So,")])
def test_a_word_alone_in_a_short_voiced_stretch_may_be_a_filler(p, nasal, expect):
    x = silence(4.0)
    words = [Word("I", 0.5, 0.8, 0.9), Word("agreed.", 0.8, 1.3, 0.9), Word("So,", 2.0, 2.4, 0.96),
             Word("then", 3.0, 3.3, 0.9), Word("we", 3.3, 3.6, 0.9)]
    for a, b in [(0.5, 1.3), (2.0, 2.4), (3.0, 3.6)]:
        clip = tone(b - a, freq=150.0)
        x[int(a * RATE): int(a * RATE) + len(clip)] = clip
    transcript = Transcript.from_words(words, 4.0)
    engine = ScoresEachClip([p], nasal=nasal)
    out, fillers, _ = recover_fillers(engine, x, transcript, speech_activity(x, RATE), 0.015, MetricsOptions())
    assert len(engine.clips) == 1  # only "So," fills a short voiced stretch alone
    assert [w.text.strip() for w in out.words] == ["I", "agreed.", expect, "then", "we"]
    assert [w.start for w in out.words] == [w.start for w in words]
    assert out.text == f"I agreed. {expect} then we"
    assert fillers == ()  # a renamed word is found as a filler by the transcript's own rules


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
