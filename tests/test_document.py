"""The ``analyze --json`` document carries what the stages measured: its figures are computed from
the metrics and the STAR report of a known transcript, not read from a hand-written document."""

from pathlib import Path

import pytest

from starcoach.analysis.document import analysis_document
from starcoach.analysis.fillers import filler_word_indexes
from starcoach.analysis.metrics import compute_metrics
from starcoach.analysis.pipeline import Analysis, Timings
from starcoach.analysis.star import check_spoken
from starcoach.asr.models import ResolvedModel
from starcoach.audio.activity import speech_activity
from starcoach.domain.transcript import Filler, Transcript, Word
from tests.test_metrics import RATE, audio_for

SENTENCES = [  # and the silence after each, in seconds
    ("Last year our nightly billing job kept failing.", 1.3),
    ("So, um, my task was to make it reliable before the audit.", 0.1),
    ("I rewrote the loader and I added retries, and we tested it.", 2.6),
    ("I also set up alerts for the team.", 0.1),
    ("Failures fell from ten a month to one.", 0.0),
]


def _document() -> dict:
    words, t = [], 0.5
    for sentence, after in SENTENCES:
        for w in sentence.split():
            words.append(Word(w, round(t, 3), round(t + 0.3, 3)))
            t += 0.35
        t += after
    transcript = Transcript.from_words(words, t + 1.0)
    activity = speech_activity(audio_for(words, t + 1.0), RATE)
    # a filled pause the recogniser left out, found in the audio, inside the long pause
    heard = (Filler("um", 14.0, 14.4, "filled_pause", "audio", -1),)
    metrics = compute_metrics(transcript, activity, audio_fillers=heard)
    star = check_spoken(words, duration_s=metrics.speaking_span_s, filler_word_indexes=filler_word_indexes(metrics.fillers))
    return analysis_document(Analysis(source="answer.flac", transcript=transcript, activity=activity, metrics=metrics,
                                      star=star, model=ResolvedModel("base", Path("models/base")),
                                      timings=Timings(0.0, 0.0, 0.0, 0.0)))


def test_pauses_and_fillers_in_the_document_are_the_measured_ones():
    doc = _document()
    m = doc["metrics"]
    assert [(p["duration_s"] > 2, p["long"]) for p in doc["pauses"]] == [(False, False), (True, True)]
    assert m["pause_count"] == 2 and m["long_pause_count"] == 1
    assert m["pause_time_s"] == pytest.approx(sum(p["duration_s"] for p in doc["pauses"]), abs=0.002)
    assert sorted(f["text"] for f in doc["fillers"]) == ["so", "um", "um"]
    assert m["filler_count"] == 3 and m["filled_pause_count"] == 2 and m["discourse_filler_count"] == 1
    assert m["filler_time_s"] == pytest.approx(0.3 + 0.3 + 0.4, abs=0.01)
    # the share is of everything said: the 48 written words and the one found in the audio
    assert m["filler_share"] == round(3 / 49, 3) != round(3 / 48, 3)


def test_i_and_we_in_the_action_are_counted_apart():
    doc = _document()
    action = [s["text"] for s in doc["star"]["sentences"] if s["label"] == "action"]
    assert action == [SENTENCES[2][0], SENTENCES[3][0]], doc["star"]["sentences"]  # the tagger's reading
    assert (doc["metrics"]["action_i_count"], doc["metrics"]["action_we_count"]) == (3, 1)
