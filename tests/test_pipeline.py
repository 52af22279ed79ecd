"""The pipeline's own logic, with a stand-in for the model (no Whisper here)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from starcoach.analysis.filler_recovery import recover_fillers
from starcoach.analysis.metrics import MetricsOptions
from starcoach.analysis.alignment import fit_to_audio
from starcoach.analysis.windows import PART_MIN_S, WINDOW_S, part_length, window_bounds
from starcoach.asr.engine import TranscribeOptions
from starcoach.asr.probe import ProbeScore
from starcoach.audio.activity import Activity, speech_activity
from starcoach.domain.transcript import Segment, Transcript, Word
from tests.conftest import silence, tone

RATE = 16000


class ScoresEachClip:
    """Scores each clip with the next of the given filled-pause probabilities, and records the clips."""

    def __init__(self, p_filler: list[float], *, nasal: bool = True, after: Sequence[float] = (),
                 word: float = 0.0):
        self.p_filler = p_filler
        self.nasal = nasal
        self.clips: list[int] = []
        self.after = list(after)  # the scores in context, one per lone word asked
        self.word = word  # the written word's probability in context
        self.asked: list[tuple[int, str]] = []  # (clip length, words before) of each lone word asked
        self.written: list[str] = []  # the word written for each lone word asked

    def score_fillers_after(self, items):
        self.asked = [(len(c), text) for c, text, _ in items]
        self.written = [w for _, _, w in items]
        return [(p, p if self.nasal else 0.0, self.word) for p in self.after[: len(items)]]

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


def _so_alone():
    """Audio and words: "So," alone in its voiced stretch, after "I agreed." and a 0.7 s silence."""
    x = silence(4.0)
    words = [Word("I", 0.5, 0.8, 0.9), Word("agreed.", 0.8, 1.3, 0.9), Word("So,", 2.0, 2.4, 0.96),
             Word("then", 3.0, 3.3, 0.9), Word("we", 3.3, 3.6, 0.9)]
    for a, b in [(0.5, 1.3), (2.0, 2.4), (3.0, 3.6)]:
        clip = tone(b - a, freq=150.0)
        x[int(a * RATE): int(a * RATE) + len(clip)] = clip
    return x, words


@pytest.mark.parametrize(("p", "nasal", "expect"), [(0.4, True, "um,"), (0.4, False, "uh,"), (0.01, True, "So,")])
def test_a_word_alone_in_a_short_voiced_stretch_may_be_a_filler(p, nasal, expect):
    x, words = _so_alone()
    transcript = Transcript.from_words(words, 4.0)
    engine = ScoresEachClip([p], nasal=nasal)
    out, fillers, _ = recover_fillers(engine, x, transcript, speech_activity(x, RATE), 0.015, MetricsOptions())
    assert len(engine.clips) == 1  # only "So," fills a short voiced stretch alone
    # spelt as every other word, with no space before it: " uh," was a bullet in the md export
    assert [w.text for w in out.words] == ["I", "agreed.", expect, "then", "we"]
    assert [w.start for w in out.words] == [w.start for w in words]
    assert out.text == f"I agreed. {expect} then we"
    assert fillers == ()  # a renamed word is found as a filler by the transcript's own rules


def _scored_so(own: float, after: list[float], word: float = 0.0):
    """``_so_alone`` with "So," scored OWN on its own and AFTER in context, and the word "So" WORD
    there: the engine, and what "So," became."""
    x, words = _so_alone()
    engine = ScoresEachClip([own], after=after, word=word)
    out, _, _ = recover_fillers(engine, x, Transcript.from_words(words, 4.0), speech_activity(x, RATE), 0.015,
                                MetricsOptions())
    return engine, [w.text.strip() for w in out.words][2]


@pytest.mark.parametrize(("own", "after", "word", "asked", "expect"), [
    (0.012, [0.02], 0.0, True, "um,"),    # under the bar on its own, over it after the words before: a filled pause
    (0.012, [0.005], 0.0, True, "So,"),   # in context no more likely: the word stays
    (0.016, [0.0], 0.0, True, "So,"),     # a gap would count at 0.016; a lone word needs the bar, 0.025
    (0.03, [0.0], 0.0, True, "um,"),      # over the bar on its own: the context adds nothing, takes nothing
    (0.004, [], 0.0, False, "So,"),       # under the floor (0.005): not asked, not a filler
    (0.03, [0.0001], 0.05, True, "So,"),  # the sentence wants the word 500 times more: it was said
    (0.012, [0.02], 0.9, True, "um,"),    # 45 times: a filled pause the word was written over
])
def test_a_lone_word_is_also_scored_after_the_words_before_it(own, after, word, asked, expect):
    engine, so = _scored_so(own, after, word)
    assert so == expect
    if asked:  # the clip runs from the first word before (less 0.15 s) to the stretch's end (plus 0.15 s)
        assert engine.asked == [(pytest.approx((2.4 + 0.15 - (0.5 - 0.15)) * RATE, abs=RATE * 0.11), "I agreed.")]
        assert engine.written == ["So,"]
    else:
        assert engine.asked == []


def test_a_word_in_a_fragment_of_voice_too_short_for_a_filled_pause_is_not_scored():
    # in white or pink noise the level regions break words into pieces a tenth of a second long;
    # a word "alone" in such a piece is not a word set off by silences
    x = silence(4.0)
    words = [Word("I", 0.5, 0.8, 0.9), Word("agreed.", 0.8, 1.3, 0.9), Word("and", 1.9, 2.1, 0.9),
             Word("So,", 2.6, 3.0, 0.96), Word("then", 3.4, 3.7, 0.9)]
    for a, b in [(0.5, 1.3), (2.0, 2.1), (2.6, 3.0), (3.4, 3.7)]:
        clip = tone(b - a, freq=150.0)
        x[int(a * RATE): int(a * RATE) + len(clip)] = clip
    engine = ScoresEachClip([0.4, 0.4, 0.4])
    activity = speech_activity(x, RATE)
    assert any(b - a < 0.15 for a, b in activity.regions)  # the fragment is a region of its own
    out, _, _ = recover_fillers(engine, x, Transcript.from_words(words, 4.0), activity, 0.015, MetricsOptions())
    assert len(engine.clips) == 2  # "So," (0.4 s) and "then" (0.3 s); not "and" in its 0.1 s fragment
    assert [w.text.strip() for w in out.words] == ["I", "agreed.", "and", "um,", "um"]


def test_segments_over_silence_are_dropped_and_words_trimmed_to_the_voice():
    x = silence(6.0)
    x[RATE: 2 * RATE] = tone(1.0)
    spoken = Segment(0.8, 2.3, "Hello there.", (Word("Hello", 0.8, 1.5, 0.9), Word("there.", 1.5, 2.3, 0.9)))
    ghost = Segment(4.0, 5.0, "Thank you.", (Word("Thank", 4.0, 4.4, 0.5), Word("you.", 4.4, 5.0, 0.5)))
    out = fit_to_audio(Transcript((spoken, ghost), 6.0), speech_activity(x, RATE))
    assert [w.text for w in out.words] == ["Hello", "there."]
    assert out.words[0].start == pytest.approx(1.0, abs=0.05)
    assert out.words[-1].end == pytest.approx(2.0, abs=0.05)


def test_words_squeezed_faster_than_anyone_speaks_are_dropped_and_fast_speech_is_kept():
    # the last 0.4 s of a recording, decoded with the text before it as the prompt, came back as
    # that text again: 21 words aligned into 0.38 s over the tail of the last word's voice
    x = silence(8.0)
    x[RATE: 5 * RATE] = tone(4.0)
    fast = "so I asked each lead to own one piece".split()  # 9 words in 1.3 s: 6.9 a second
    said = Segment(1.0, 2.3, " ".join(fast), tuple(Word(w, 1.0 + i * 0.144, 1.0 + (i + 1) * 0.144, 0.9)
                                                   for i, w in enumerate(fast)))
    echo = ("Um, uh, uh, uh, uh, um, the audit framework over the weekend, and I'm on a dear to life, "
            "preparing everything").split()
    ghost = Segment(4.5, 4.88, " ".join(echo), tuple(Word(w, 4.5 + i * 0.018, 4.5 + (i + 1) * 0.018, 0.8)
                                                     for i, w in enumerate(echo)))
    short = Segment(2.5, 2.7, "Um, uh.", (Word("Um,", 2.5, 2.6, 0.9), Word("uh.", 2.6, 2.7, 0.9)))
    thanks = Segment(2.8, 3.2, "Thanks, that's all.", (Word("Thanks,", 2.8, 3.0, 0.9), Word("that's", 3.0, 3.1, 0.9),
                                                       Word("all.", 3.1, 3.2, 0.9)))  # 7.5 a second: kept
    loop = Segment(4.9, 5.04, "Err, err, err, err.", (Word("Err,", 4.9, 5.04, 0.01),
                                                      *(Word(w, 5.04, 5.04, 0.5) for w in ("err,", "err,", "err."))))
    out = fit_to_audio(Transcript((said, short, thanks, ghost, loop), 8.0), speech_activity(x, RATE))
    assert [w.text for w in out.words] == fast + ["Um,", "uh.", "Thanks,", "that's", "all."]


def test_a_sentence_read_back_in_no_time_inside_its_segment_is_dropped_and_a_spoken_repeat_kept():
    # a two-second answer came back as "We shipped it on time. We shipped it on time.", the copy's
    # five words in 0.2 s at the end of one segment, where the squeezed-segment rule cannot see it
    x = silence(3.0)
    x[int(0.2 * RATE): int(1.3 * RATE)] = tone(1.1)
    said = [Word(w, 0.2 + i * 0.16, 0.2 + (i + 1) * 0.16, 0.9) for i, w in enumerate("We shipped it on time.".split())]
    copy = [Word(w, 1.0 + i * 0.05, 1.0 + i * 0.05, 0.9) for i, w in enumerate("We shipped it on time.".split())]
    seg = Segment(0.2, 1.2, "We shipped it on time. We shipped it on time.", tuple(said + copy))
    out = fit_to_audio(Transcript((seg,), 3.0), speech_activity(x, RATE))
    assert [w.text for w in out.words] == [w.text for w in said] and out.text == "We shipped it on time."
    again = [Word(w, 0.2 + i * 0.12, 0.2 + (i + 1) * 0.12, 0.9) for i, w in enumerate("I said no, I said no.".split())]
    kept = fit_to_audio(Transcript((Segment(0.2, 0.92, "I said no, I said no.", tuple(again)),), 3.0),
                        speech_activity(x, RATE))
    assert [w.text for w in kept.words] == "I said no, I said no.".split()  # 8 words a second: said twice


def test_three_words_said_at_one_instant_are_dropped_and_one_or_two_kept():
    # an audit: "so that it could never come back" came back "so that I could use it. It could never
    # come back.", the three words "could use it." all at 59.84 s, of no length: a repeated "it it"
    x = silence(4.0)
    x[int(0.5 * RATE): int(3.5 * RATE)] = tone(3.0)
    said = [Word(w, 0.5 + i * 0.3, 0.5 + (i + 1) * 0.3, 0.9) for i, w in enumerate("so that I".split())]
    ghost = [Word(w, 1.4, 1.4, 0.4) for w in ("could", "use", "it.")]
    rest = [Word(w, 1.5 + i * 0.3, 1.5 + (i + 1) * 0.3, 0.9) for i, w in enumerate("It could never come back.".split())]
    brief = [Word("a", 3.0, 3.0, 0.9), Word("b", 3.0, 3.0, 0.9)]  # two of no length: as before
    seg = Segment(0.5, 3.0, "", tuple(said + ghost + rest + brief))
    out = fit_to_audio(Transcript((seg,), 4.0), speech_activity(x, RATE))
    assert [w.text for w in out.words] == "so that I It could never come back. a b".split()
    assert out.text == "so that I It could never come back. a b"


def test_with_two_decoders_an_answer_is_cut_in_two_in_its_longest_silence_near_the_middle():
    # 4 s turns 0.4 s apart, one 1.2 s pause at 52 s and a longer one (2 s) at 80 s, too far out
    regions, t = [], 0.5
    while t < 94:
        regions.append((round(t, 2), round(t + 4.0, 2)))
        t += 4.0 + (1.2 if 50 < t + 4.0 < 54 else 2.0 if 78 < t + 4.0 < 82 else 0.4)
    activity = Activity(tuple(regions), -40.0, -60.0, np.zeros(1))
    bounds = window_bounds(activity, 96.0, *part_length(96.0, 2))
    pause = next((a, b) for (_, a), (b, _) in zip(regions, regions[1:]) if b - a == pytest.approx(1.2))
    assert bounds == [(0.0, sum(pause) / 2), (sum(pause) / 2, 96.0)]
    assert len(window_bounds(activity, 96.0, *part_length(96.0, 4))) == 4  # 24 s each
    # one decoder, or parts that would be shorter than PART_MIN_S: one part
    assert part_length(96.0, 1) == (WINDOW_S, 30.0)
    assert part_length(2 * PART_MIN_S - 0.1, 2) == (WINDOW_S, 30.0)
    # an hour with two decoders: still the memory-bounded windows, not two halves
    assert part_length(3600.0, 2) == (WINDOW_S, 30.0)


def test_a_lead_in_decodes_only_the_seconds_before_a_part_and_only_where_a_voice_is():
    from starcoach.analysis import pipeline

    seen: list[int] = []

    class Lane:
        def transcribe(self, samples, **kwargs):
            seen.append(len(samples))
            words = (Word("we", 1.0, 1.3, 0.9), Word("shipped", 1.3, 1.8, 0.9), Word("it.", 1.8, 2.0, 0.9))
            return Transcript((Segment(1.0, 2.0, "we shipped it.", words),), len(samples) / RATE)

    options = pipeline.AnalysisOptions(transcribe=TranscribeOptions(lead_in_s=6.0))
    samples = np.zeros(60 * RATE, np.float32)
    voiced = Activity(((0.5, 20.0), (21.0, 40.0), (41.0, 59.0)), -40.0, -60.0, np.zeros(1))
    assert pipeline._lead_in(Lane(), options, samples, voiced, 40.5) == "we shipped it."
    assert seen == [6 * RATE]  # 34.5-40.5 s, decoded on its own
    quiet_before = Activity(((0.5, 20.0), (41.0, 59.0)), -40.0, -60.0, np.zeros(1))
    assert pipeline._lead_in(Lane(), options, samples, quiet_before, 40.5) == ""
    assert pipeline._lead_in(Lane(), options, samples, voiced, 0.0) == ""
    assert seen == [6 * RATE]  # no voice before the part, or no part before it: nothing decoded


def test_with_two_decoders_every_model_is_loaded_before_any_part_is_decoded(monkeypatch):
    # A model loading (a transient of ~130 MB) beside the other decoder's work raised the peak RSS.
    import time

    from starcoach.analysis import pipeline

    events: list[tuple[str, int]] = []

    class Engine:
        workers = 2

        def lane(self, k):
            time.sleep(0.2 * k)  # the second decoder's model takes a while to load
            events.append(("load", k))
            return k

    def decode(lane, options, samples, context, activity):
        events.append(("decode", lane))
        return Transcript(segments=(), duration_s=len(samples) / RATE), (), ()

    monkeypatch.setattr(pipeline, "_transcribe_chunk", decode)
    activity = Activity(((0.5, 40.0), (42.0, 79.5)), -40.0, -60.0, np.zeros(1))
    options = pipeline.AnalysisOptions(transcribe=TranscribeOptions(lead_in_s=0.0))
    pipeline._transcribe_windows(Engine(), options, np.zeros(80 * RATE, np.float32), activity)
    assert sorted(events) == [("decode", 0), ("decode", 1), ("load", 0), ("load", 1)]
    assert [op for op, _ in events] == ["load", "load", "decode", "decode"], events


def test_long_recordings_are_cut_in_the_longest_silence_near_each_window_end():
    # speech in 10 s turns with 1 s gaps, and one 3 s gap 10 s after the first nominal cut
    regions, t = [], 0.0
    while t < 1000:
        end = t + 10.0
        regions.append((t, end))
        t = end + (3.0 if abs(end - (WINDOW_S + 10)) < 5 else 1.0)
    activity = Activity(tuple(regions), -40.0, -60.0, np.zeros(1))
    bounds = window_bounds(activity, 1000.0)
    assert bounds[0][0] == 0.0 and bounds[-1][1] == 1000.0
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))  # no gap, no overlap
    assert all(abs((e - s) - WINDOW_S) <= 31 for s, e in bounds[:-1])
    long_gap = next((a, b) for (_, a), (b, _) in zip(regions, regions[1:]) if b - a == 3.0)
    assert bounds[0][1] == sum(long_gap) / 2  # the longest silence in reach, not the nominal time
    assert window_bounds(activity, 200.0) == [(0.0, 200.0)]


# --- voiced clips for batched decoding (analysis/clips.py) ---

def _runs(until: float, pauses: dict[float, float]) -> list[tuple[float, float]]:
    """2 s voiced runs 0.3 s apart from 0.5 s to ``until``; a run ending after a key of ``pauses`` is
    followed by that pause instead (once)."""
    regions, t, left = [], 0.5, dict(pauses)
    while t < until:
        regions.append((round(t, 2), round(t + 2.0, 2)))
        at = next((k for k in left if k <= t + 2.0), None)
        t += 2.0 + (left.pop(at) if at is not None else 0.3)
    return regions


def test_clips_hold_every_voiced_region_once_in_the_fewest_clips_cut_in_the_longest_pause():
    from starcoach.analysis.clips import LEAD_S, TAIL_S, voice_clips

    regions = _runs(44.0, {20.0: 1.5, 24.0: 0.6})  # either cut leaves two clips under 25 s
    clips = voice_clips(regions, 47.0, max_s=25.0)
    assert len(clips) == 2  # 46 s needs two, and two it is
    assert all(b - a <= 25.0 + LEAD_S + TAIL_S for a, b in clips)
    assert all(b0 <= a1 for (_, b0), (a1, _) in zip(clips, clips[1:]))  # in order, no overlap
    for a, b in regions:  # every region inside exactly one clip
        assert sum(1 for c0, c1 in clips if c0 <= a and b <= c1) == 1, (a, b)
    first_end = max(b for a, b in regions if b < clips[1][0])
    following = min(a for a, b in regions if a >= clips[1][0])
    assert following - first_end == pytest.approx(1.5)  # in the 1.5 s pause, not the 0.6 s one


def test_no_clip_is_left_a_few_seconds_long_when_a_pause_allows_a_longer_one():
    from starcoach.analysis.clips import voice_clips

    # evenly spoken, 35 s: cutting as late as possible would leave a last clip of 7 s; with the
    # pauses all alike the cut may fall anywhere else, but no clip is under 12 s
    clips = voice_clips(_runs(33.0, {}), 36.0, max_s=28.0)
    assert len(clips) == 2 and min(b - a for a, b in clips) >= 12.0


def test_a_region_longer_than_a_clip_is_cut_and_no_region_gives_no_clip():
    from starcoach.analysis.clips import voice_clips

    clips = voice_clips([(1.0, 61.0)], 62.0, max_s=25.0)
    assert len(clips) == 3 and clips[0][0] == pytest.approx(0.7) and clips[-1][1] == pytest.approx(61.5)
    assert all(b - a <= 25.5 for a, b in clips)
    assert voice_clips([], 10.0) == []


def test_clips_stay_inside_the_audio_and_a_long_region_is_cut_whatever_its_start():
    """An audit (session 53): with `[model] clip_s` set, a file whose speech ran close to both ends and whose
    length rounded up at 3 decimals (32.1745 s) failed "unexpected error (AssertionError: non-negative
    timestamp expected); this is a bug": the last clip ended at 32.175 s, and clips touching end to end held
    more than the audio. And a region starting at 7.108 s, cut every 3 s, measured a hair over 3 s a piece:
    no grouping fitted, and the whole file became one clip (faster-whisper kept its first 30 s)."""
    from starcoach.analysis.clips import LEAD_S, TAIL_S, voice_clips

    duration = 514792 / 16000  # 32.1745 s
    regions = [(0.05, 9.9), (10.3, 20.1), (20.5, 31.99)]  # short pauses: clips meet at their middles
    for max_s in (25.0, 12.0):
        clips = voice_clips(regions, duration, max_s=max_s)
        assert clips[0][0] >= 0.0 and clips[-1][1] <= duration, clips
        assert sum(b - a for a, b in clips) <= duration and all(b0 <= a1 for (_, b0), (a1, _) in zip(clips, clips[1:]))
    for start in (7.108, 7.002, 0.3):
        clips = voice_clips([(start, start + 27.0)], 40.0, max_s=3.0)
        assert len(clips) == 9 and all(b - a <= 3.0 + LEAD_S + TAIL_S for a, b in clips), (start, clips)


class DecodesClips:
    """Writes one word a second over each clip it is given; ``stop_after`` ends a clip's
    first decoding early (Whisper sometimes stops after a pause and never comes back)."""

    def __init__(self, stop_after: float | None = None):
        self.stop_after = stop_after
        self.calls: list[list[tuple[float, float]]] = []

    def transcribe_clips(self, samples, clips, *, prompt=None):
        self.calls.append(list(clips))
        segments = []
        for a, b in clips:
            end = b if self.stop_after is None or len(self.calls) > 1 else min(b, a + self.stop_after)
            words = tuple(Word("word", s, s + 0.6, 0.9) for s in np.arange(a + 0.3, end - 0.6, 1.0))
            if words:
                segments.append(Segment(words[0].start, words[-1].end, "word " * len(words), words))
        return Transcript(segments=tuple(segments), duration_s=len(samples) / RATE)


def _voiced(seconds: float, runs: list[tuple[float, float]]) -> tuple[np.ndarray, Activity]:
    x = silence(seconds)
    for a, b in runs:
        clip = tone(b - a, freq=160.0)
        x[int(a * RATE): int(a * RATE) + len(clip)] = clip
    return x, speech_activity(x, RATE)


def test_all_clips_go_to_the_model_in_one_call_and_silence_is_never_decoded():
    from starcoach.analysis.clips import decode_clips

    x, activity = _voiced(60.0, [(1.0, 20.0), (30.0, 45.0), (50.0, 58.0)])
    engine = DecodesClips()
    transcript = decode_clips(engine, x, activity, None, 25.0)
    assert len(engine.calls) == 1 and len(engine.calls[0]) == 3
    assert all(not (21.0 < w.start < 29.5 or 46.0 < w.start < 49.5) for w in transcript.words)


def test_a_clip_whose_decoding_stopped_early_has_its_rest_decoded_again():
    from starcoach.analysis.clips import decode_clips

    x, activity = _voiced(30.0, [(1.0, 20.0)])
    engine = DecodesClips(stop_after=8.0)
    transcript = decode_clips(engine, x, activity, None, 25.0)
    assert len(engine.calls) == 2
    (rest_start, rest_end), = engine.calls[1]
    assert 7.0 < rest_start < 9.0 and rest_end == pytest.approx(20.5, abs=0.1)
    assert transcript.words[-1].end > 19.0  # the rest is in the transcript, in order
    assert [w.start for w in transcript.words] == sorted(w.start for w in transcript.words)


class SkipsAWindow:
    """Whisper's own windows, writing one word a second over the voice, except that the first
    call skips SKIP (start, end): the decoder ended a window early and the next began after it."""

    def __init__(self, activity: Activity, skip: tuple[float, float]):
        self.activity, self.skip = activity, skip
        self.calls: list[tuple[float, float]] = []

    def transcribe(self, samples, *, prompt=None, **_):
        first = not self.calls
        n = len(samples) / RATE
        offset = 0.0 if first else self._offset(samples)
        self.calls.append((round(offset, 1), round(offset + n, 1)))
        segments = []
        for a, b in self.activity.regions:  # a segment (a sentence) per voiced run
            words = tuple(Word("word", s - offset, s - offset + 0.6, 0.9) for s in np.arange(a + 0.1, b - 0.5, 1.0)
                          if offset <= s < offset + n - 0.5 and not (first and self.skip[0] <= s < self.skip[1]))
            if words:
                segments.append(Segment(words[0].start, words[-1].end, "word " * len(words), words))
        return Transcript(segments=tuple(segments), duration_s=n)

    def _offset(self, samples) -> float:
        return self.full_offsets[len(samples)]


def test_speech_the_decoder_skipped_in_the_middle_is_decoded_on_its_own():
    from starcoach.analysis.pipeline import AnalysisOptions, _transcribe_chunk, skipped_speech
    from starcoach.asr.engine import TranscribeOptions

    x, activity = _voiced(40.0, [(0.5, 12.0), (14.0, 30.0), (33.0, 39.8)])  # no silence to trim at the ends
    engine = SkipsAWindow(activity, skip=(14.0, 30.0))
    engine.full_offsets = {}
    holes = skipped_speech(engine.transcribe(x), activity)
    engine.calls.clear()
    # from the last word before it to the first word after it
    assert len(holes) == 1 and 11.0 < holes[0][0] < 14.0 and holes[0][1] == pytest.approx(33.1, abs=0.2)
    # the engine tells the re-decoded stretch by its length
    engine.full_offsets = {int(holes[0][1] * RATE) - int(holes[0][0] * RATE): holes[0][0]}
    options = AnalysisOptions(transcribe=TranscribeOptions(recover_fillers=False))
    transcript, _, _ = _transcribe_chunk(engine, options, x, "", activity)
    assert len(engine.calls) == 2  # the whole, then the skipped stretch alone
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts)
    assert sum(14.0 <= s < 30.0 for s in starts) == 16  # the 16 s it skipped are words again
    assert not any(12.0 < s < 13.9 or 30.1 < s < 32.9 for s in starts)  # the pauses stay silent


def test_speech_the_decoder_skipped_before_its_first_word_is_decoded_on_its_own():
    """A live chunk prompted with the text before it opened its words 7 s in (audit 33): the
    stretch before the first word is a hole like one between two words."""
    from starcoach.analysis.pipeline import AnalysisOptions, _transcribe_chunk, skipped_speech
    from starcoach.asr.engine import TranscribeOptions

    x, activity = _voiced(40.0, [(0.5, 12.0), (14.0, 30.0), (33.0, 39.8)])
    engine = SkipsAWindow(activity, skip=(0.0, 8.0))
    engine.full_offsets = {}
    holes = skipped_speech(engine.transcribe(x), activity)
    engine.calls.clear()
    assert len(holes) == 1 and holes[0][0] == pytest.approx(0.3, abs=0.05) and 8.0 < holes[0][1] < 8.7
    engine.full_offsets = {int(holes[0][1] * RATE) - int(holes[0][0] * RATE): holes[0][0]}
    transcript, _, _ = _transcribe_chunk(engine, AnalysisOptions(transcribe=TranscribeOptions(recover_fillers=False)),
                                         x, "", activity)
    assert len(engine.calls) == 2  # the whole, then the skipped opening alone
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts) and sum(s < 8.0 for s in starts) == 8  # words from 0.6 s on again


def test_no_speech_skipped_no_second_decoding():
    from starcoach.analysis.pipeline import AnalysisOptions, _transcribe_chunk
    from starcoach.asr.engine import TranscribeOptions

    x, activity = _voiced(40.0, [(0.5, 12.0), (14.0, 30.0), (33.0, 39.8)])  # no silence to trim at the ends
    engine = SkipsAWindow(activity, skip=(0.0, 0.0))
    engine.full_offsets = {}
    _transcribe_chunk(engine, AnalysisOptions(transcribe=TranscribeOptions(recover_fillers=False)), x, "", activity)
    assert len(engine.calls) == 1


def test_the_voice_detector_runs_on_its_own_thread_while_the_model_loads_on_this_one(monkeypatch, tmp_path):
    import threading

    from starcoach.analysis import pipeline
    from starcoach.asr.models import ResolvedModel

    analyzer = pipeline.Analyzer(ResolvedModel("base", tmp_path / "base"))
    loading, detecting = threading.Event(), threading.Event()
    seen = []

    def engine(threads: int = 0):  # stands in for the model's load: waits for the detector to start
        seen.append(("load", threading.current_thread() is threading.main_thread()))
        loading.set()
        assert detecting.wait(10), "the voice detector did not run while the model loaded"
        analyzer._engines[2] = object()

    def voice_spans(samples):
        on_main = threading.current_thread() is threading.main_thread()
        seen.append(("detect", on_main, round(len(samples) / 16000, 1)))
        if on_main:
            return [(0.1, 0.5)]  # the first seconds: a voice, so the model may load
        detecting.set()
        assert loading.wait(10), "the model did not load while the voice detector ran"
        return []  # no voice after all: nothing is decoded

    monkeypatch.setattr(analyzer, "engine", engine)
    monkeypatch.setattr(analyzer, "loaded", lambda threads=0: bool(analyzer._engines))
    monkeypatch.setattr(pipeline, "voice_spans", voice_spans)
    samples = np.concatenate([silence(1.0), tone(14.0), silence(1.0)])
    result = analyzer.analyze_samples(samples)
    assert sorted(seen) == [("detect", False, 16.0), ("detect", True, 10.0), ("load", True)]
    assert not result.transcript.words


def test_audio_with_no_voice_in_its_first_seconds_never_loads_the_model(monkeypatch, tmp_path):
    from starcoach.analysis import pipeline
    from starcoach.asr.models import ResolvedModel

    analyzer = pipeline.Analyzer(ResolvedModel("base", tmp_path / "base"))
    monkeypatch.setattr(analyzer, "engine", lambda threads=0: pytest.fail("the model was loaded"))
    calls = []
    monkeypatch.setattr(pipeline, "voice_spans", lambda samples: calls.append(len(samples)) or [])
    result = analyzer.analyze_samples(np.concatenate([silence(1.0), tone(14.0), silence(1.0)]))  # a fan, say
    assert calls == [10 * 16000, 16 * 16000] and not result.transcript.words  # the first 10 s, then the whole


def test_a_short_take_decoded_in_a_loop_keeps_the_words_said_and_a_word_echoed_in_no_time_goes():
    """A 1 s take ("Last year I led") came back as that phrase four times, the copies of no length:
    the segment was squeezed past any pace, and dropped whole (exit 3, "no speech found"). And a
    lone "Absolutely." came back twice, the copy at one instant: two words."""
    x = silence(3.0)
    x[int(0.05 * RATE): int(0.8 * RATE)] = tone(0.75)
    said = [Word(w, 0.05 + i * 0.18, 0.05 + (i + 1) * 0.18, 0.9) for i, w in enumerate("Last year I led.".split())]
    loop = [Word(w, 0.8, 0.8, 0.5) for copy in ("Last year I led.", "Last year, right led.", "Last year I led.")
            for w in copy.split()]  # a copy need not be exact: each is of no length
    seg = Segment(0.05, 0.8, "Last year I led. " * 4, tuple(said + loop))
    out = fit_to_audio(Transcript((seg,), 3.0), speech_activity(x, RATE))
    assert [w.text for w in out.words] == "Last year I led.".split()
    echo = Segment(0.1, 0.8, "Absolutely. Absolutely.", (Word("Absolutely.", 0.1, 0.8, 0.9),
                                                         Word("Absolutely.", 0.8, 0.8, 0.6)))
    assert [w.text for w in fit_to_audio(Transcript((echo,), 3.0), speech_activity(x, RATE)).words] == ["Absolutely."]
    twice = Segment(0.05, 0.8, "No. No.", (Word("No.", 0.05, 0.3, 0.9), Word("No.", 0.4, 0.7, 0.9)))
    assert len(fit_to_audio(Transcript((twice,), 3.0), speech_activity(x, RATE)).words) == 2  # said twice
