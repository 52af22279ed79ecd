"""The pipeline's own logic, with a stand-in for the model (no Whisper here)."""

from __future__ import annotations

import pytest

from starcoach.analysis.pipeline import AnalysisOptions, _fit_to_audio, _recover_fillers
from starcoach.audio.activity import speech_activity
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
