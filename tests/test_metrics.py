"""Pace, pauses, fillers and word habits from transcripts with known timing."""

from dataclasses import replace

import numpy as np
import pytest

from starcoach.audio.activity import speech_activity
from starcoach.domain.transcript import Filler
from starcoach.analysis.metrics import MetricsOptions, align_fillers, compute_metrics, find_quantities, hesitation_gaps
from starcoach.analysis.background import own_words
from starcoach.analysis.quality import audio_quality, background_voice_share
from starcoach.audio.stats import signal_stats
from starcoach.domain.transcript import Transcript, Word
from tests.conftest import silence, tone

RATE = 16000


def timed_words(spec):
    """spec: list of (text, start, end)."""
    return [Word(t, s, e) for t, s, e in spec]


def audio_for(words, total):
    x = silence(total)
    for w in words:
        a, b = int(w.start * RATE), int(w.end * RATE)
        x[a:b] = tone((b - a) / RATE)
    return x


def steady_words(n, start, per_word=0.4, gap=0.05, text="word"):
    out, t = [], start
    for i in range(n):
        out.append(Word(f"{text}{i}", t, t + per_word))
        t += per_word + gap
    return out


def test_wpm_counts_content_words_over_the_speaking_span():
    words = steady_words(60, 1.0, per_word=0.45, gap=0.05)  # 60 words in 30 s -> 120 wpm
    x = audio_for(words, 33)
    m = compute_metrics(Transcript.from_words(words, 33), speech_activity(x, RATE))
    assert m.speaking_span_s == pytest.approx(30.0 - 0.05, abs=0.1)
    assert m.wpm == pytest.approx(120, rel=0.02)
    assert m.content_words == 60


def test_fillers_do_not_count_as_words_and_pauses_come_from_audio():
    words = steady_words(20, 0.5) + [Word("um,", 10.0, 10.4)] + steady_words(20, 13.0)
    x = audio_for(words, 23)
    m = compute_metrics(Transcript.from_words(words, 23), speech_activity(x, RATE))
    assert m.content_words == 40
    assert [f.text for f in m.fillers] == ["um"]
    assert m.fillers[0].start == pytest.approx(10.0, abs=0.05)
    # silences: 9.47->10.0 (0.5 s, not a pause), 10.4->13.0 (2.6 s, a long pause)
    assert len(m.pauses) == 1
    p = m.pauses[0]
    assert p.start == pytest.approx(10.4, abs=0.05) and p.end == pytest.approx(13.0, abs=0.05) and p.long
    assert m.articulation_wpm > m.wpm


def test_words_heard_where_the_audio_shows_no_voice_are_no_pause():
    """In heavy noise the voice detector loses stretches of speech that Whisper still transcribes:
    the silence of the activity is cut around each word placed wholly inside it, so only the
    stretches no word was heard in are pauses. Filled pauses, words of no length and a word
    stamped across the silence's edge do not cut."""
    before, after = steady_words(10, 0.5), steady_words(10, 12.0)
    lost = [Word("to", 6.0, 6.3), Word("push", 6.3, 6.7), Word("back", 6.7, 7.1)]
    heard = speech_activity(audio_for(before + lost + after, 17), RATE)  # the words are in the audio...
    activity = replace(heard, regions=tuple(r for r in heard.regions if r[1] <= 6.0 or r[0] >= 7.1))  # ...not the voice
    plain = compute_metrics(Transcript.from_words(before + after, 17), activity)
    assert [(round(p.start), round(p.end)) for p in plain.pauses] == [(5, 12)]
    m = compute_metrics(Transcript.from_words(before + lost + after, 17), activity)
    assert [(p.start, p.end) for p in m.pauses] == [(pytest.approx(plain.pauses[0].start), 6.0),
                                                    (7.1, pytest.approx(plain.pauses[0].end))]
    assert [p.long for p in m.pauses] == [False, True]  # about 5 -> 6 s and 7.1 -> 12 s
    # a piece of the silence left beside such a word and shorter than a pause is none
    near = compute_metrics(Transcript.from_words(before + [Word("so", 11.2, 11.5)] + after, 17), activity)
    assert [(p.start, p.end) for p in near.pauses] == [(pytest.approx(plain.pauses[0].start), 11.2)]
    # nor a word stamped across the silence's edge: Whisper stretched "I" over a 2 s pause
    stretched = before[:-1] + [Word("I", before[-1].start, 11.0)] + after
    for spoken in ([*before, Word("um,", 8.0, 8.5), Word("so", 9.0, 9.0), *after], stretched):
        kept = compute_metrics(Transcript.from_words(spoken, 17), activity)
        assert [(p.start, p.end) for p in kept.pauses] == [(p.start, p.end) for p in plain.pauses]


def _with_voice(x, words, db, freq=240.0):
    """X with WORDS said DB under the speaker's tone, in another voice."""
    x = x.copy()
    for w in words:
        a, b = int(w.start * RATE), int(w.end * RATE)
        x[a:b] = tone((b - a) / RATE, freq=freq, level=0.3 * 10 ** (db / 20))
    return x


def _asked_in_a_pause(other_db, *, heard_around, n=15, m=15):
    """N of the speaker's words, a silence to 11.0 s in which another voice says three words OTHER_DB
    under the speaker (8.6-9.6 s), M more words, a second silence to 20.0 s, and 5 last words. With
    HEARD_AROUND the voice detector hears a voice throughout (people talking in the room), else on the
    words alone. Returns the metrics."""
    before, after, last = steady_words(n, 0.5), steady_words(m, 11.0), steady_words(5, 20.0, text="last")
    other = [Word("I'm", 8.6, 8.9), Word("not", 8.9, 9.2), Word("sure.", 9.2, 9.6)]
    x = _with_voice(audio_for(before + after + last, 23), other, other_db)
    levels = speech_activity(x, RATE)
    assert any(8.5 <= a and b <= 9.7 for a, b in levels.regions)  # the other voice is voice to the levels
    words = before + other + after + last
    voice = ((0.0, 23.0),) if heard_around else tuple((w.start, w.end) for w in words)
    return compute_metrics(Transcript.from_words(words, 23), replace(levels, voice=voice))


def _long(m):
    return [(round(p.start, 1), round(p.end, 1)) for p in m.pauses if p.long]


@pytest.mark.parametrize("under_db, long_pauses", [
    (-20, [(7.2, 11.0), (17.7, 20.0)]), (-13, [(7.2, 11.0), (17.7, 20.0)]), (-7, [(17.7, 20.0)]), (-5, [(17.7, 20.0)]),
])
def test_another_voice_far_under_the_speakers_ends_no_pause(under_db, long_pauses):
    """A colleague or a television across the room reaches the microphone 10-20 dB under the speaker;
    Whisper writes its words and the voice detector hears it, so it cut the speaker's long pauses (babble
    at 15 dB: 5 and 9 of 96 lost). Where the detector hears a voice in the speaker's silences, a stretch
    QUIETER_DB or more under the speaker's words around it ends no pause, and its words stay in the
    transcript; one a little under the speaker is the speaker's."""
    m = _asked_in_a_pause(under_db, heard_around=True)
    assert _long(m) == long_pauses
    assert m.content_words == 38


def test_a_soft_aside_in_a_quiet_room_is_the_speakers_own():
    """A review: a sentence of a real voice said 12 dB under the rest, between two silences, became one
    long pause across it. With no other voice heard in the speaker's silences, a quiet stretch is the
    speaker's, and ends a pause as any word does; so does one in a take of under MIN_WORDS words."""
    assert _long(_asked_in_a_pause(-20, heard_around=False)) == [(17.7, 20.0)]
    end_4, end_5 = 0.5 + 4 * 0.45 - 0.05, 0.5 + 5 * 0.45 - 0.05  # the speaker's last word before the pause
    assert _long(_asked_in_a_pause(-20, heard_around=True, n=4, m=7)) == \
        [(pytest.approx(end_4, abs=0.1), 8.6), (14.1, 20.0)]  # 19 words
    assert _long(_asked_in_a_pause(-20, heard_around=True, n=5, m=7)) == \
        [(pytest.approx(end_5, abs=0.1), 11.0), (14.1, 20.0)]  # 20


@pytest.mark.parametrize("under_db, named", [(-18, True), (-6, False)])
def test_another_voice_whose_words_fill_the_speakers_pauses_is_judged_between_the_speakers_own_words(
        under_db, named):
    """An audit: a colleague 18 dB under, talking in two of the speaker's 3 s pauses. Whisper wrote the
    colleague's words there, which left no silence between the words to hear a voice in, so nothing was
    said of other voices. Between the speaker's own words (not 10 dB or more under the words around them)
    the voice is heard, and the report's warning is judged on that too. The pause rule is not (see the
    next test): its pauses stay lost. A voice as loud as the speaker's is not told from it."""
    first, mid, last = steady_words(15, 0.5), steady_words(15, 10.2), steady_words(10, 19.9, text="last")
    said = "did you see the game last night".split()
    other = [Word(t, 7.6 + i * 0.3, 7.9 + i * 0.3) for i, t in enumerate(said)] + \
        [Word(t, 17.3 + i * 0.3, 17.6 + i * 0.3) for i, t in enumerate(said)]
    x = _with_voice(audio_for(first + mid + last, 26), other, under_db)
    words = sorted(first + mid + last + other, key=lambda w: w.start)
    heard = replace(speech_activity(x, RATE), voice=tuple((w.start, w.end) for w in words))
    spans = [(w.start, w.end) for w in words]
    assert background_voice_share(spans, heard.voice) is None  # between all the words: no silence to judge
    own = own_words(heard, words)  # the colleague's words are not the speaker's own: 10 dB or more under
    assert (set(own) == set(first + mid + last)) is named
    share = background_voice_share([(w.start, w.end) for w in own], heard.voice)
    assert (share is not None and share > 0.7) is named
    q = audio_quality(heard, signal_stats(x), words=spans, own=[(w.start, w.end) for w in own])
    assert ("voices" in q.problems) is named and (q.background_voice_share == pytest.approx(share, abs=0.001)
                                                  if named else True)
    assert _long(compute_metrics(Transcript.from_words(words, 26), heard)) == []


@pytest.mark.parametrize("gap_s", [0.5, 0.8])
def test_a_soft_sentence_between_short_pauses_is_the_speakers_own(gap_s):
    """A review: a sentence the speaker says 12 dB softer between two ordinary pauses (0.5-0.8 s), in a
    quiet room, vouched for itself as another voice when the pause rule judged the silences between the
    speaker's own words: one long pause across the words said. The rule judges the silences between all
    the words, where there is none here, so the sentence is the speaker's and no pause is long."""
    first = steady_words(20, 0.5)
    soft = steady_words(6, 0.5 + 20 * 0.45 - 0.05 + gap_s, text="soft")
    last = steady_words(20, soft[-1].end + gap_s, text="again")
    x = _with_voice(audio_for(first + last, last[-1].end + 1), soft, -12, freq=180.0)
    words = first + soft + last
    heard = replace(speech_activity(x, RATE), voice=tuple((w.start, w.end) for w in words))
    assert _long(compute_metrics(Transcript.from_words(words, last[-1].end + 1), heard)) == []


def test_the_speaking_span_starts_where_the_voice_of_its_first_word_does():
    """Whisper stamps a first word late inside its stretch of voice: the span (and with it the pace) runs
    from the voice, not the stamp; so at its end."""
    said = steady_words(20, 1.0)
    x = audio_for(said, 14)
    stamped = [Word(said[0].text, 1.2, said[0].end), *said[1:-1], Word(said[-1].text, said[-1].start, said[-1].end - 0.2)]
    m = compute_metrics(Transcript.from_words(stamped, 14), speech_activity(x, RATE))
    assert m.span_start == pytest.approx(1.0, abs=0.05) and m.span_end == pytest.approx(said[-1].end, abs=0.05)


def test_another_voice_before_the_first_word_is_outside_the_speaking_span():
    """A review: a voice before the speaker's first word, no longer ending a pause, was still inside the
    speaking span, so the time up to the first word counted as speaking (articulation rate = pace)."""
    other = [Word("Are", 0.5, 0.8), Word("we", 0.8, 1.0), Word("recording?", 1.0, 1.6)]
    said = steady_words(30, 3.0) + steady_words(10, 19.0, text="more")  # a pause 16.45 -> 19.0 s
    x = _with_voice(audio_for(said, 25), other, -20)
    heard = replace(speech_activity(x, RATE), voice=((0.0, 25.0),))
    m = compute_metrics(Transcript.from_words(other + said, 25), heard)
    assert m.span_start == pytest.approx(3.0, abs=0.05)
    assert [(round(p.start, 1), round(p.end, 1)) for p in m.pauses] == [(16.5, 19.0)]


def test_a_speaker_who_turns_away_is_measured_against_their_own_quieter_words():
    """The speaker's level is read from the words around a stretch, not the whole answer: a speaker who
    leans back for a while, 15 dB under the rest of the answer, keeps the short phrase said between two
    pauses there (measured against the whole answer it read as another voice, and the two pauses and
    the phrase as one long pause)."""
    first, last = steady_words(25, 0.5), steady_words(25, 28.0, text="again")
    leaning = [*steady_words(10, 12.0, text="soft"), *steady_words(5, 18.0, text="aside"),
               *steady_words(10, 21.8, text="still")]  # silences 16.45 -> 18.0, 20.2 -> 21.8, 26.25 -> 28.0 s
    x = _with_voice(audio_for(first + last, 41), leaning, -15, freq=180.0)
    heard = replace(speech_activity(x, RATE), voice=((0.0, 41.0),))  # a television on throughout
    words = first + leaning + last
    assert background_voice_share([(w.start, w.end) for w in words], heard.voice) == 1.0  # so the rule is asked
    m = compute_metrics(Transcript.from_words(words, 41), heard)
    assert [(round(p.start, 1), round(p.end, 1)) for p in m.pauses] == [(16.5, 18.0), (20.2, 21.8), (26.3, 28.0)]


@pytest.mark.parametrize("words", [
    [Word("to", 6.0, 6.5), Word("push", 6.3, 7.1)], [Word("push", 6.3, 7.1), Word("to", 6.0, 6.5)],
    [Word("push", 6.2, 6.5), Word("pushback", 6.0, 7.1)],
])
def test_words_that_overlap_cut_a_silence_once_in_any_order(words):
    """A review: each word cut the pieces left by the one before, so a word overlapping one that
    had cut was inside no piece, and the time it covered stayed a pause (which part, by order)."""
    from starcoach.analysis.metrics import _unworded

    assert _unworded([(5.0, 12.0)], tuple(words), 0.3) == [(5.0, 6.0), (7.1, 12.0)]


def test_speech_to_the_last_sample_ends_no_later_than_the_audio():
    """An audit: speech running to the end of a file whose length is no whole number of 10 ms hops
    gave a speaking span and a last pace window ending after `duration_s` (9.008 and 9.01 s against
    9.005): a level frame reaches half a frame past the last sample."""
    total = 9.005
    words = steady_words(18, 0.5, per_word=0.45, gap=0.05)[:-1] + [Word("end", 8.6, total)]
    x = audio_for(words, total)[: int(total * RATE)]
    activity = speech_activity(x, RATE)
    assert activity.regions[-1][1] > total  # what the metrics must not pass on
    m = compute_metrics(Transcript.from_words(words, total), activity)
    assert m.span_end == pytest.approx(total, abs=0.011) and m.span_end <= total
    assert m.pace and m.pace[-1].end <= total


def test_pace_windows_flag_slow_and_fast_stretches():
    fast = steady_words(50, 0.0, per_word=0.25, gap=0.05)  # 200 wpm for 15 s
    slow = steady_words(20, 15.0, per_word=0.6, gap=0.15)  # 80 wpm for 15 s
    words = fast + slow
    x = audio_for(words, 31)
    m = compute_metrics(Transcript.from_words(words, 31), speech_activity(x, RATE),
                        options=MetricsOptions(pace_window_s=15))
    assert [w.flag for w in m.pace] == ["fast", "slow"]


def test_hallucinated_filler_over_silence_is_dropped():
    words = steady_words(10, 0.5) + [Word("Uh,", 8.0, 8.5)]
    x = audio_for(steady_words(10, 0.5), 10)  # nothing said at 8 s
    act = speech_activity(x, RATE)
    fillers = [Filler("uh", 8.0, 8.5, "filled_pause", word_index=10)]
    assert align_fillers(fillers, tuple(words), act) == []


def test_filler_stamped_before_a_pause_moves_to_where_it_was_said():
    # "...end. [2 s pause] uh, next..." with Whisper stamping "uh" at the end of the sentence.
    before = steady_words(8, 0.5)
    after = steady_words(8, 7.0)
    said = Word("uh", 6.2, 6.6)
    x = audio_for(before + [said] + after, 12)
    stamped = Word("Uh,", 4.2, 5.6)  # stretched over the silence, as Whisper does
    words = tuple(before + [stamped] + after)
    out = align_fillers([Filler("uh", 4.2, 5.6, "filled_pause", word_index=8)], words, speech_activity(x, RATE))
    assert len(out) == 1 and out[0].start == pytest.approx(6.2, abs=0.05)


def test_filler_in_running_speech_keeps_its_stamp_and_is_not_moved_onto_a_fragment():
    # In noise the speech around a filler is one long region, or broken into pieces a tenth of a
    # second long: neither is a stretch of its own to move the filler onto, so it stays where
    # Whisper stamped it (not 0.3 s earlier, across the start of its sentence).
    words = steady_words(6, 0.5) + [Word("uh,", 3.8, 4.1)] + steady_words(6, 4.2)
    x = audio_for(words, 8)
    fragment = tone(0.1, freq=150.0)
    x[int(3.4 * RATE): int(3.4 * RATE) + len(fragment)] = fragment  # a burst in the pause before it
    act = speech_activity(x, RATE)
    assert any(b - a < 0.15 and a < 3.8 for a, b in act.regions)
    out = align_fillers([Filler("uh", 3.8, 4.1, "filled_pause", word_index=6)], tuple(words), act)
    assert len(out) == 1 and out[0].start == pytest.approx(3.8, abs=0.03)


def test_filler_stamped_across_a_pause_that_typing_filled_starts_where_the_voice_comes_back():
    # "...customers. [0.5 s of keys] Uh, watching...": the keys keep the level up, so the speech
    # is one region and there is no free stretch to move the "Uh" onto; the voice detector still
    # hears the pause, and the filler starts where the voice comes back (6.0 s), not at 5.5 s.
    before = steady_words(11, 0.5)  # ends at 5.45 s
    said = Word("uh", 6.0, 6.5)
    after = steady_words(6, 6.55)
    x = audio_for(before + [said] + after, 10)
    x[int(5.45 * RATE): int(6.0 * RATE)] = tone(0.55, freq=900.0, level=0.1)  # the keys, as a level
    stamped = Word("Uh,", 5.45, 6.5)
    words = tuple(before + [stamped] + after)
    voice = ((0.47, 5.48), (5.97, 9.3))
    act = replace(speech_activity(x, RATE), voice=voice)
    assert len(act.regions) == 1
    out = align_fillers([Filler("uh", 5.45, 6.5, "filled_pause", word_index=11)], words, act)
    assert len(out) == 1 and out[0].start == pytest.approx(5.97, abs=0.03)
    # with no silence of the voice inside the stamp (one region, or two that touch), it is kept
    for voice in (((0.47, 9.3),), ((0.47, 5.9), (5.9, 9.3))):
        act = replace(act, voice=voice)
        out = align_fillers([Filler("uh", 5.45, 6.5, "filled_pause", word_index=11)], words, act)
        assert len(out) == 1 and out[0].start == pytest.approx(5.45, abs=0.03)


def test_filler_stamped_from_the_word_before_across_a_silence_goes_after_the_silence():
    # "...errors. [0.3 s] Uh, now I...": Whisper ends "errors." early (5.45 s; its sound runs to
    # 5.75 s) and stamps the "Uh," from there across the silence, so the stamp overlaps the word's
    # tail more than the filler (which runs into "now", one region). The filler is said after the
    # silence the voice detector hears inside the stamp, not in the word's tail.
    before = steady_words(11, 0.5)  # ends at 5.45 s
    after = steady_words(6, 6.4)
    x = audio_for(before + [Word("uh", 6.05, 6.35)] + after, 10)
    x[int(5.45 * RATE): int(5.75 * RATE)] = tone(0.3)  # the tail of "errors."
    words = tuple(before + [Word("Uh,", 5.45, 6.3)] + after)
    act = replace(speech_activity(x, RATE), voice=((0.47, 5.78), (6.03, 9.1)))
    (_, tail_end), (said, _) = [r for r in act.regions if r[0] < 6.3 and r[1] > 5.45]
    assert (tail_end, said) == (pytest.approx(5.75, abs=0.03), pytest.approx(6.05, abs=0.03))
    out = align_fillers([Filler("uh", 5.45, 6.3, "filled_pause", word_index=11)], words, act)
    assert len(out) == 1 and out[0].start == pytest.approx(6.04, abs=0.03)


def test_filler_inside_one_long_stretch_of_speech_keeps_its_stamp():
    words = steady_words(8, 0.5) + [Word("uh,", 4.1, 4.4)] + steady_words(6, 4.45)
    x = audio_for(words, 8)
    act = speech_activity(x, RATE)
    assert len(act.regions) == 1  # no pause anywhere: nothing short to move it onto
    out = align_fillers([Filler("uh", 4.1, 4.4, "filled_pause", word_index=8)], tuple(words), act)
    assert len(out) == 1 and (out[0].start, out[0].end) == pytest.approx((4.1, 4.4), abs=0.03)


def test_hesitation_gaps_find_voiced_stretches_no_word_covers():
    before, after = steady_words(5, 0.5), steady_words(5, 4.0)
    x = audio_for(before + [Word("(uh)", 3.0, 3.4)] + after, 7)
    gaps = hesitation_gaps(Transcript.from_words(before + after, 7), speech_activity(x, RATE))
    assert len(gaps) == 1 and gaps[0][0] == pytest.approx(3.0, abs=0.05)


def test_i_we_hedges():
    text = "I think we shipped it and I fixed my bug but maybe we should have waited"
    words = [Word(t, i * 0.4, i * 0.4 + 0.3) for i, t in enumerate(text.split())]
    x = audio_for(words, len(words) * 0.4 + 1)
    m = compute_metrics(Transcript.from_words(words, len(words) * 0.4 + 1), speech_activity(x, RATE))
    assert (m.i_count, m.we_count) == (3, 2)
    assert m.hedges == {"i think": 1, "maybe": 1}


def test_kind_of_after_a_determiner_is_a_noun_not_a_hedge():
    """An audit: "catch this kind of thing in code review" was a hedge, "kind of" x1, where the filler
    rules read it as the noun it is."""
    from starcoach.analysis.metrics import _hedges

    said = "it was kind of slow so we built a kind of queue that would catch this kind of thing and sort of".split()
    assert _hedges(said) == {"kind of": 1, "sort of": 1}
    assert _hedges("the sort of fix i think".split()) == {"i think": 1}


@pytest.mark.parametrize("text, expected", [
    ("runtime fell from 45 minutes to 15 minutes", [("45 minutes", "duration"), ("15 minutes", "duration")]),
    ("tickets dropped 50%", [("50%", "percent")]),
    ("carts fell 15 % that quarter", [("15%", "percent")]),
    ("saved $2M a year", [("$2M", "money")]),
    ("saved 500 thousand dollars", [("500 thousand dollars", "money")]),
    ("a 30 percent cut", [("30 percent", "percent")]),
    ("within two weeks", [("two weeks", "duration")]),
    ("one of the teams", []),
    ("nothing measurable", []),
    # multiples, fractions and time saved said with "a" (an audit: "The Result has no number" for them)
    ("costs dropped tenfold", [("tenfold", "number")]),
    ("the open rate doubled and complaints halved", [("doubled", "number"), ("halved", "number")]),
    ("the report was ready an hour earlier", [("an hour earlier", "duration")]),
    ("it arrived a day earlier than before", [("a day earlier", "duration")]),
    ("we cut the bill by a third", [("a third", "number")]),
    ("two thirds of users moved", [("two thirds", "number")]),
    ("hundreds of users wrote in", [("hundreds", "number")]),
    ("a third party tool did the tagging", []),
    ("a day in the life", []),
])
def test_quantities(text, expected):
    words = [Word(t, i * 0.4, i * 0.4 + 0.3) for i, t in enumerate(text.split())]
    assert [(q.text, q.kind) for q in find_quantities(words)] == expected


def test_empty_transcript_gives_zeros():
    m = compute_metrics(Transcript(segments=(), duration_s=5.0), speech_activity(np.zeros(RATE * 5, np.float32), RATE))
    assert m.wpm == 0 and m.fillers == () and m.pauses == ()


@pytest.mark.parametrize(("spoken", "expect"), [
    (["Er,", "um,"], 1),  # one hesitation written twice
    (["Er,", "er,", "er,", "er."], 1),  # one long "er" written as a run
])
def test_filled_pauses_written_back_to_back_over_one_voiced_stretch_count_once(spoken, expect):
    before, after = steady_words(6, 0.5), steady_words(6, 5.0)
    step = 1.2 / len(spoken)
    run = [Word(t, 3.2 + i * step, 3.2 + (i + 1) * step - 0.02, 0.5 + 0.1 * i) for i, t in enumerate(spoken)]
    x = audio_for(before + [Word("(voice)", 3.2, 4.4)] + after, 8)  # one voiced stretch under the run
    m = compute_metrics(Transcript.from_words(before + run + after, 8), speech_activity(x, RATE))
    filled = [f for f in m.fillers if f.kind == "filled_pause"]
    assert len(filled) == expect
    assert filled[0].text == spoken[-1].strip(",.").lower()  # the most confident spelling
    assert m.content_words == 12  # the merged-away spellings are not words either


def test_filled_pauses_with_a_word_or_a_silence_between_stay_apart():
    before, after = steady_words(6, 0.5), steady_words(6, 6.6)
    run = [Word("um,", 3.2, 3.6, 0.9), Word("I", 3.65, 3.8, 0.9), Word("uh,", 3.85, 4.2, 0.9),
           Word("uh,", 5.5, 5.9, 0.9)]
    x = audio_for(before + run + after, 10)  # the last "uh" after a 1.3 s silence
    m = compute_metrics(Transcript.from_words(before + run + after, 10), speech_activity(x, RATE))
    assert len([f for f in m.fillers if f.kind == "filled_pause"]) == 3
