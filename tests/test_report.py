"""The terminal report, rendered from stored documents (no model)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path

import pytest
from rich.console import Console

from starcoach.output.report import render_document

LEGACY_DB = Path(__file__).parent / "data" / "legacy-0.1.0" / "recordings" / "starcoach.db"


def stored(take_id: int) -> dict:
    with sqlite3.connect(LEGACY_DB) as db:
        return json.loads(db.execute("SELECT analysis_json FROM takes WHERE id = ?", (take_id,)).fetchone()[0])


def rendered(doc: dict) -> str:
    console = Console(record=True, width=100, color_system=None)
    render_document(doc, console)
    return console.export_text()


def test_the_report_shows_the_figures_of_the_document():
    doc = stored(2)
    doc["take"] = {"id": 2, "question_id": "customer-1", "question_text": "Tell me about a customer."}
    text = rendered(doc)
    assert "Q: Tell me about a customer." in text and "take 2 · customer-1" in text
    assert f"{doc['wpm']:.0f} words/min" in text
    assert f"I-words {doc['metrics']['i_count']}, we-words {doc['metrics']['we_count']} (every form" in text
    assert f"{doc['metrics']['filler_count']} ({doc['metrics']['fillers_per_min']:.1f}/min)" in text
    assert doc["words"][0]["text"].strip() in text


def test_control_characters_in_a_name_or_a_text_are_shown_escaped_not_sent_to_the_terminal():
    """An audit: a file named "answer<ESC>[2J<ESC>[31m.wav" cleared the screen and turned it red when
    its report's title was printed; so did a checked answer holding ESC[2J, in the STAR panel."""
    from starcoach.analysis.star import check_text
    from starcoach.output.report import render_star

    doc = stored(2)
    doc.pop("take", None)  # so the title is the file's name
    doc["file"] = "answer\x1b[2J\x1b[31m.wav"
    doc["words"][0]["text"] = "So\x1b[2J"
    for no_speech in (False, True):
        doc["no_speech"] = no_speech
        text = rendered(doc)
        assert "\x1b" not in text and "answer\\x1b[2J\\x1b[31m.wav" in text
    console = Console(record=True, width=100, color_system=None)
    render_star(check_text("In 2022 our deploys were slow.\x1b[2J I was asked to fix the pipeline. I rewrote the "
                           "build and measured each step. Deploys fell from 40 minutes to 5 minutes."), console)
    star = console.export_text()
    assert "\x1b" not in star and "slow.\\x1b[2J" in star
    # a right-to-left override turned the rest of the line around (an audit, session 53); isolates stay
    console = Console(record=True, width=100, color_system=None)
    render_star(check_text("In 2022 our deploys were \u202eslow. I was asked to fix the \u2067pipeline\u2069. I "
                           "rewrote the build. Deploys fell from 40 minutes to 5 minutes."), console)
    star = console.export_text()
    assert "\u202e" not in star and "were \\u202eslow" in star and "\u2067pipeline\u2069" in star, star



def test_a_file_name_that_is_not_utf8_is_shown_escaped_as_the_error_line_shows_it():
    """An audit: `analyze $'caf\\xe9.wav'` of noise printed the byte 0xE9 raw in the no-speech panel (a
    terminal shows it as a replacement mark), while the `starcoach:` line below it said "caf\\udce9.wav"."""
    doc = stored(2)
    doc.pop("take", None)
    doc["file"] = os.fsdecode(b"caf\xe9.wav")
    for no_speech in (False, True):
        doc["no_speech"] = no_speech
        text = rendered(doc)
        assert "\udce9" not in text and "caf\\udce9.wav" in text, text

def test_fillers_and_long_pauses_are_listed_with_their_times():
    doc = stored(1)
    doc["fillers"] = [{"text": "um", "start": 61.5, "end": 61.9, "kind": "filled_pause", "source": "audio"}]
    doc["pauses"] = [{"start": 3.0, "end": 5.5, "duration_s": 2.5, "long": True}]
    text = rendered(doc)
    assert "1:01" in text and "um  (heard in the audio)" in text
    assert "pause 2.5 s" in text


def test_a_new_take_s_report_names_its_question():
    from pathlib import Path

    from starcoach.output.report import render_take_result
    from starcoach.takes.questions import load_bank
    from starcoach.takes.session import TakeResult

    q = load_bank(None).get("deep-1")
    console = Console(record=True, width=100, color_system=None)
    render_take_result(TakeResult(5, Path("take.wav"), None, stored(2), None), console, q)
    text = console.export_text()
    assert f"Q: {q.text}" in text and "take 5 · deep-1" in text


def test_counts_of_one_read_in_the_singular():
    doc = stored(1)
    doc["metrics"].update(pause_count=1, long_pause_count=1)
    assert "1 pause, 1 long" in rendered(doc)
    doc["metrics"].update(pause_count=2)
    assert "2 pauses, 1 long" in rendered(doc)


@pytest.mark.parametrize("take_id", [3])
def test_no_speech_says_what_to_do(take_id):
    text = rendered(stored(take_id))
    assert "No speech found" in text and "starcoach devices" in text
    # a take stopped at the cue (0.4 s) was told to check the microphone and speak closer to it
    at_once = {**stored(take_id), "duration_s": 0.4, "speech_s": 0.0}
    at_once["audio"] = {**(at_once.get("audio") or {}), "problems": []}
    text = " ".join(rendered(at_once).split())
    assert "(0.4 s of audio)" in text and "stopped before anything could be said" in text, text
    assert "speak closer" not in text and "starcoach devices" not in text
    # one that holds a sound too short for a word (an audit's 0.25 s of "Yes.") was said to hold nothing
    cut = " ".join(rendered({**at_once, "duration_s": 0.25, "speech_s": 0.09}).split())
    assert "No word could be made out of its 0.1 s of voice" in cut and "before anything could be said" not in cut, cut


@pytest.mark.parametrize("colour, no_color", [(None, False), ("truecolor", True), ("truecolor", False)])
def test_the_word_diff_reads_without_colour_too(colour, no_color):
    from starcoach.output.review import render_comparison
    from starcoach.takes.compare import compare_documents, metric_values

    a, b = stored(1), stored(1)
    b["words"] = [dict(w) for w in a["words"]]
    removed = b["words"].pop(1)["text"]
    b["words"].insert(3, {**b["words"][2], "text": "brandnew"})
    pair = compare_documents(1, a, 2, b, target_wpm=(120, 160), target_length_s=(90, 120))
    console = Console(record=True, width=200, color_system=colour, no_color=no_color)  # NO_COLOR sets no_color
    render_comparison([pair], [(1, metric_values(a)), (2, metric_values(b))], console)
    text = console.export_text()
    if colour is None or no_color:
        assert "([-removed-], {+added+})" in text
        assert f"[-{removed.strip()}-]" in text and "{+brandnew+}" in text
    else:  # colour tells them apart; the words are there, unmarked
        assert "[-" not in text and "brandnew" in text


def test_compare_shows_shares_as_percentages_rounds_deltas_and_never_calls_unknown_same():
    from starcoach.output.review import comparison_document, render_comparison
    from starcoach.takes.compare import compare_documents, metric_values

    a, b = stored(1), stored(1)
    a["metrics"] = {**a["metrics"], "action_i_count": 0, "action_we_count": 0}  # no Action pronouns: unknown
    b["metrics"] = {**b["metrics"], "action_i_count": 3, "action_we_count": 1}
    a["wpm"], b["wpm"] = 140.1, 168.0
    pair = compare_documents(1, a, 2, b, target_wpm=(120, 160), target_length_s=(90, 120))
    changes = {c["key"]: c for c in comparison_document(pair)["changes"]}
    assert changes["wpm"]["delta"] == 27.9
    console = Console(record=True, width=200, color_system=None)
    render_comparison([pair], [(1, metric_values(a)), (2, metric_values(b))], console)
    row = next(ln for ln in console.export_text().splitlines() if "share in the Action" in ln)
    assert "75%" in row and "changed" in row and "same" not in row, row


@pytest.fixture
def utc():
    """This process's clock set to UTC (the takes list shows times on the local clock)."""
    import os
    import time

    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_the_takes_list_shows_every_take_on_one_clock(utc):
    """A take made under another UTC offset (after travelling, or a change of summer time) showed
    its own clock: "03:18" listed below an earlier "11:17"."""
    from datetime import datetime

    from starcoach.output.review import render_takes
    from starcoach.takes.store import Take

    year = datetime.now().year
    takes = [Take(id=i, question_id="frugal-1", question_text=None, principle=None, principles=(), started_at=stamp,
                  duration_s=30.0, audio_path=f"{i}.wav", source="record", status="complete", overflows=0,
                  stopped_by=None, model="base", wpm=140.0, fillers_per_min=1.0, filler_count=1, long_pause_count=0,
                  speaking_span_s=25.0, star_rating=8, star_parts_present=4)
             for i, stamp in ((1, f"{year}-12-06T11:17:00+00:00"), (2, f"{year}-12-06T03:18:30-08:00"),
                              (3, "not a time"), (4, "0001-01-01T00:30:00+05:00"))]
    console = Console(record=True, width=80, color_system=None)
    render_takes(takes, console)
    rows = {ln.split()[0]: ln for ln in console.export_text().splitlines() if ln.split()[:1] in (["1"], ["2"], ["3"],
                                                                                                    ["4"])}
    assert "12-06 11:17" in rows["1"] and "12-06 11:18" in rows["2"] and "not a time" in rows["3"], rows
    assert "0001-01-01 00:30" in rows["4"], rows  # out of range on this clock: as stored, not a crash


def test_the_takes_list_fits_80_columns_and_gives_speaking_time(utc):
    from datetime import datetime

    from starcoach.output.review import render_takes
    from starcoach.takes.store import Take

    year = datetime.now().year
    take = Take(id=12, question_id="customer-obsession-3", question_text=None, principle=None, principles=(),
                started_at=f"{year}-12-03T11:38:01+00:00", duration_s=48.2, audio_path="a.wav", source="record",
                status="complete", overflows=0, stopped_by=None, model="base", wpm=140.0, fillers_per_min=4.3,
                filler_count=3, long_pause_count=1, speaking_span_s=42.4, star_rating=9, star_parts_present=4)
    console = Console(record=True, width=80, color_system=None)
    render_takes([take], console)
    text = console.export_text()
    assert all(len(line) <= 80 for line in text.splitlines())
    for whole in ("spoke", "fillers/min", "rating", "status", "12-03 11:38", "42 s", "complete", "4/4"):
        assert whole in text, (whole, text)
    assert "…" not in text and "48 s" not in text


@pytest.mark.parametrize("typed, choice", [("q\n", "quit"), ("Q\n", "quit"), ("retake\n", "retake"), ("\n", "retake"),
                                           ("  Next \n", "next"), ("x\nN\n", "next")])
def test_the_question_after_a_take_takes_any_case_and_the_whole_word(monkeypatch, typed, choice):
    """"Q", "R", "N" and "retake" were answered "Please select one of the available options"."""
    import io

    from starcoach.output.report import ask_next

    monkeypatch.setattr("sys.stdin", io.StringIO(typed))
    console = Console(record=True, width=100, color_system=None)
    assert ask_next(None, console) == choice
    assert ("Answer r" in console.export_text()) == typed.startswith("x")


def test_the_end_of_input_at_the_question_after_a_take_is_an_eof(monkeypatch):
    import io

    from starcoach.output.report import ask_next

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(EOFError):
        ask_next(None, Console(width=100, color_system=None))


def test_the_level_meter_is_red_only_near_clipping_and_does_not_fill_on_ordinary_speech():
    """It was full at a peak of -9.5 dBFS and red from -11, so half of ordinary speech showed red."""
    from starcoach.output.report import meter_bar

    speech = meter_bar(10 ** (-10 / 20))  # a loud-ish speech peak
    assert speech.startswith("[green]") and 20 <= speech.count("█") < 30
    assert meter_bar(10 ** (-0.5 / 20)).startswith("[red]") and meter_bar(1.0).count("█") == 30
    assert meter_bar(0.0).count("█") == 0 and meter_bar(10 ** (-40 / 20)).count("█") == 10


def test_each_window_of_pace_off_target_keeps_its_figure_and_unit_together_at_80_columns():
    """"… 103 ⏎ wpm (slow)": the windows were one wrapped line, and a figure lost its unit."""
    doc = stored(2)
    doc["metrics"]["pace"] = [{"start": 10.0 * i, "end": 10.0 * i + 10, "wpm": 103.0 + i, "flag": "slow"}
                              for i in range(6)]
    console = Console(record=True, width=80, color_system=None)
    render_document(doc, console)
    lines = console.export_text().splitlines()
    windows = [ln for ln in lines if "wpm (slow)" in ln]
    assert len(windows) == 6 and not any(ln.strip().startswith("wpm") for ln in lines)


def test_a_take_of_a_few_words_gets_no_verdict_on_its_pace():
    """"Yes." reported 494 words/min, "fast", and a pace window out of the target band: a pace from
    one word judges nothing."""
    doc = stored(2)
    doc["metrics"]["content_words"] = 1
    doc["wpm"] = 493.8
    doc["metrics"]["pace"] = [{"start": 0.1, "end": 0.3, "wpm": 493.8, "flag": "fast"}]
    text = rendered(doc)
    assert "494 words/min (too few words to judge" in text and "fast" not in text
    assert "Pace outside the target band" not in text
    doc = stored(2)
    assert doc["metrics"]["content_words"] >= 10
    assert "too few words" not in rendered(doc)


def test_a_time_just_under_a_minute_reads_as_the_next_minute_not_sixty_seconds():
    """A filler at 59.98 s was listed at "0:60.0"."""
    from starcoach.output.report import _clock

    assert [_clock(t) for t in (59.98, 59.94, 119.96, 61.25, 0.0)] == ["1:00.0", "0:59.9", "2:00.0", "1:01.2", "0:00.0"]


def test_the_structure_numbers_its_sentences_as_the_notes_cite_them():
    """A note's "(sentence N)" counts the checker's sentences (a long one is cut in pieces);
    the STAR panel numbers its lines the same way, so the N can be found."""
    from starcoach.analysis.star import check_text
    from starcoach.output.report import render_star

    story = ("Our reporting service crashed at every month end and finance could not close the books on time, "
             "which meant that the auditors, the controllers and two regional teams waited for days without "
             "any word from us about when the numbers would be ready again. I had to fix it. "
             "I rewrote the ledger query to stream rows. The close now finishes in two hours.")
    star = check_text(story)
    console = Console(record=True, width=100, color_system=None)
    render_star(star, console)
    lines = console.export_text().splitlines()
    assert len(star.sentences) > story.count(". ") + 1  # the first sentence was cut in pieces
    for n, s in enumerate(star.sentences, 1):
        head = " ".join(s.text.split()[:3])
        assert any(re.match(rf"│\s+{n} ", line) and head in line for line in lines), (n, head)
    # a sentence's wrapped lines stay under its text, clear of the numbers
    narrow = Console(record=True, width=60, color_system=None)
    render_star(star, narrow)
    panel = narrow.export_text().split("Coach's notes")[0].splitlines()
    body = [line.strip("│").rstrip() for line in panel if line.startswith("│")]
    wrapped = [line for line in body if line and not re.match(r"^ [A-Z]+ ·|^\s+\d+ ", line)]
    assert wrapped and all(line.startswith(" " * 5) for line in wrapped), wrapped


def test_the_numbers_row_says_how_many_more_it_leaves_out():
    """The row stopped at ten numbers unsaid (an answer's Result figures come last, and went)."""
    doc = stored(2)
    doc["metrics"]["quantities"] = [{"text": f"{n} days", "start": float(n), "end": n + 0.5} for n in range(1, 17)]

    def numbers_row():
        console = Console(record=True, width=240, color_system=None)
        render_document(doc, console)
        return next(ln for ln in console.export_text().splitlines() if "Numbers" in ln)
    assert "9 days, 10 days … and 6 more" in numbers_row() and "11 days" not in numbers_row()
    doc["metrics"]["quantities"] = doc["metrics"]["quantities"][:10]
    assert "10 days" in numbers_row() and "more" not in numbers_row()


def test_the_meter_names_a_narrowband_input_once_it_has_heard_enough(tmp_path):
    """The live line says "narrowband input", on a line of its own that fits 80 columns, once the
    recorder has summed NARROWBAND_MIN_VOICE_S of loud sound and the bands read as a narrowband
    channel's; not before, and not for a full-band voice."""
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from starcoach.analysis.quality import NARROWBAND_MIN_VOICE_S
    from starcoach.audio.stats import band_power
    from starcoach.output.report import live_meter, narrowband_input
    from tests.conftest import espeak

    said = "I moved the reports to the new warehouse and cut the nightly run from six hours to two."
    full = espeak(said, tmp_path, effects=("rate", "16000"))
    narrow = espeak(said, tmp_path, effects=("rate", "8000", "rate", "16000"), name="phone")
    for samples, named in ((narrow, True), (full, False)):
        bands = band_power(samples)
        assert not narrowband_input(SimpleNamespace(loud_s=NARROWBAND_MIN_VOICE_S - 0.1, bands=bands))
        assert narrowband_input(SimpleNamespace(loud_s=NARROWBAND_MIN_VOICE_S, bands=bands)) is named
        out = io.StringIO()
        with live_meter(Console(file=out, force_terminal=True, width=80, highlight=False), enabled=True) as tick:
            tick(SimpleNamespace(elapsed_s=12.0, level=0.3, loud_s=6.0, bands=bands))
        shown = out.getvalue()
        assert ("narrowband input, little above 4 kHz: a headset in hands-free mode?" in shown) is named, shown


def test_a_voice_begun_a_moment_ago_is_not_judged_on_its_first_syllables():
    """A real full-band voice (tests/data/jfk.flac, a broadcast that rolls off from 3 kHz) after 4.5 s of
    digital silence or of a quiet room, fed as the recorder feeds: its first half-second read -45 dB,
    under the line, when the take was 5 s long but held 0.5 s of voice (a review's case: the meter
    judged by time then). The same voice through 8 kHz is named."""
    from types import SimpleNamespace

    import numpy as np

    from starcoach.audio.decode import load_audio
    from starcoach.audio.stats import BandMeter
    from starcoach.output.report import narrowband_input
    from tests.conftest import resampled

    voice = load_audio(Path(__file__).parent / "data" / "jfk.flac").samples
    narrow = resampled(resampled(voice, 8000), 16000, source_rate=8000)
    room = np.random.default_rng(0).normal(0, 10 ** (-80 / 20), int(4.5 * 16000)).astype(np.float32)
    for lead in (np.zeros(len(room), np.float32), room):  # digital silence; a quiet room's hiss, loud till the voice
        for samples, named in ((voice, False), (narrow, True)):
            take = np.concatenate([lead, samples])
            meter, said = BandMeter(), []
            for i in range(0, len(take), 1600):
                meter.feed(take[i:i + 1600])
                said.append(narrowband_input(SimpleNamespace(loud_s=meter.loud_s, bands=meter.bands)))
            assert any(said) is named and said[-1] is named, said


def test_a_follow_up_answer_is_reported_without_a_star_judgement(monkeypatch):
    """An answer to a follow-up question (practice, key f) is no story: its report named "No Situation",
    rated it and asked for 90-120 s. It says what a follow-up answer needs instead, and `f` is offered
    only for a question that has follow-ups."""
    import io

    from starcoach.domain.document import FOLLOW_UP_NOTE
    from starcoach.output.report import ask_next
    from starcoach.takes.questions import load_bank

    doc = stored(2)
    story = rendered({**doc, "take": {"id": 2, "question_id": "deep-1", "question_text": "Tell me about a bug."}})
    assert "Q: Tell me about a bug." in story and "STAR structure" in story and "Rating" in story
    doc["take"] = {"id": 3, "question_id": "deep-1/follow-up-2", "question_text": "How did you verify the root cause?"}
    text = " ".join(rendered(doc).split())
    assert "Follow-up: How did you verify the root cause?" in text, text
    assert FOLLOW_UP_NOTE[:50] in text and "STAR structure" not in text and "Rating" not in text, text
    assert "in the Action" not in text  # no Action to count in
    assert "Transcript" in text and "Fillers" in text  # the delivery is judged as any take's

    deep = load_bank().get("deep-1")
    assert deep.follow_up(1).id == "deep-1/follow-up-2" and deep.follow_up(1).text == deep.follow_ups[1]
    assert deep.follow_up(1).principles == ()  # no story: `coverage` counts none
    monkeypatch.setattr("sys.stdin", io.StringIO("f\n"))
    console = Console(record=True, width=100, color_system=None)
    assert ask_next(deep, console) == "follow-up"
    assert "(f)ollow-up" in console.export_text() and deep.follow_ups[0] not in console.export_text()  # asked, not told
    monkeypatch.setattr("sys.stdin", io.StringIO("f\nq\n"))
    console = Console(record=True, width=100, color_system=None)
    assert ask_next(None, console) == "quit" and "(f)ollow-up" not in console.export_text()  # none to ask
