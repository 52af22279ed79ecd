"""Sentence segmentation for the STAR tagger: written text, labels as hints, run-ons, timed words."""

import pytest

from starcoach.analysis.star_segment import split_run_on, split_text, split_words
from starcoach.domain.transcript import Word


@pytest.mark.parametrize("text, expected", [
    ("One. Two! Three?", ["One.", "Two!", "Three?"]),
    ("Latency fell 99.9% to 3.5 ms. Done.", ["Latency fell 99.9% to 3.5 ms.", "Done."]),
    ("We used tools, e.g. Kafka. Then I shipped.", ["We used tools, e.g. Kafka.", "Then I shipped."]),
    ("Line one without a stop\nLine two", ["Line one without a stop", "Line two"]),
    ("- first bullet\n* second bullet\n1. third bullet", ["first bullet", "second bullet", "third bullet"]),
    ("He said “We ship Friday.” Then I rewrote it.", ["He said “We ship Friday.”", "Then I rewrote it."]),
    ("> The build was red\n> I fixed the test", ["The build was red", "I fixed the test"]),
    ("# Situation\nOur app crashed.\n\n- [ ] Add a number\n## Task\nFix it", ["Our app crashed.", "Fix it"]),
    ("**Bold** and _italic_ and [a link](http://x)", ["Bold and italic and a link"]),
    ("no punctuation at all", ["no punctuation at all"]),
])
def test_split_text_boundaries(text, expected):
    assert [s.text for s in split_text(text)] == expected


@pytest.mark.parametrize("text, expected", [
    ("S: Our app crashed.\nT: Fix it.\nA: I added tests. I rolled back.\nR: Crashes fell 90%.",
     [("Our app crashed.", "situation"), ("Fix it.", "task"), ("I added tests.", "action"),
      ("I rolled back.", "action"), ("Crashes fell 90%.", "result")]),
    ("**Situation:** The team was late.\n**Result**\nWe shipped early.",
     [("The team was late.", "situation"), ("We shipped early.", "result")]),
    ("## Task\nGet it done.\n### Action\nI did it.", [("Get it done.", "task"), ("I did it.", "action")]),
    ("Situation: the build broke. Task: fix it. Action: I fixed it. Result: green for a month.",
     [("the build broke.", "situation"), ("fix it.", "task"), ("I fixed it.", "action"),
      ("green for a month.", "result")]),
    ("**Action (what I did):** I wrote tests.", [("I wrote tests.", "action")]),
    ("**S - Situation:** The team was late.", [("The team was late.", "situation")]),
    ("Lessons learned - test with real data.", [("test with real data.", "learning")]),
    # one-letter words are only labels with a colon or dash: "A team" is text
    ("A team of five was late. A: I helped.", [("A team of five was late.", None), ("I helped.", "action")]),
    ("Our app crashed. I fixed it.", [("Our app crashed.", None), ("I fixed it.", None)]),
    # a label after the words it names (as some prep pages write them); what follows the last is unlabelled
    ("On a busy shift (Situation), two nurses called out (Task). I took three more patients [Action]. All safe.",
     [("On a busy shift", "situation"), ("two nurses called out", "task"), ("I took three more patients", "action"),
      ("All safe.", None)]),
    # it names the words back to its sentence's start only; the section's own label goes on
    ("S: The build broke. It was Friday. I fixed it (action). It stayed green.",
     [("The build broke.", "situation"), ("It was Friday.", "situation"), ("I fixed it", "action"),
      ("It stayed green.", "situation")]),
    ("Our app was slow. Users complained. I profiled it (Action).",
     [("Our app was slow.", None), ("Users complained.", None), ("I profiled it", "action")]),
    ("## Action\nI did x (action). I did y.", [("I did x", "action"), ("I did y.", "action")]),
    # before the words, in brackets, it is a label like "Situation:"; a name and its gloss are one label
    ("[Situation] Our import failed. [Task] I had to fix it.",
     [("Our import failed.", "situation"), ("I had to fix it.", "task")]),
    ("Situation (Context): The build broke.\n**Action (Approach):** I fixed it.\nResult (Impact) - green.",
     [("The build broke.", "situation"), ("I fixed it.", "action"), ("green.", "result")]),
    ("(Situation)\nOur app crashed.", [("Our app crashed.", "situation")]),
    # the text keeps its own stops and signs; doubled brackets go with the label
    ("We moved to .NET ((Result)). Latency fell -20% [result].",
     [("We moved to .NET", "result"), ("Latency fell -20%", "result")]),
    # brackets that are not one part's name are text, and so are other words for a part
    ("I used STAR (Situation, Task, Action, Result) here. We had two options (a) patch or (b) rewrite.",
     [("I used STAR (Situation, Task, Action, Result) here.", None),
      ("We had two options (a) patch or (b) rewrite.", None)]),
    ("We measured revenue per user (impact) and churn (context) first.",
     [("We measured revenue per user (impact) and churn (context) first.", None)]),
    # written after the stop, or on a line under its paragraph: still the words before it
    ("Our server crashed at 2am. (Situation) I had to restore it by 6. (Task) I rolled back the deploy. (Action)",
     [("Our server crashed at 2am.", "situation"), ("I had to restore it by 6.", "task"),
      ("I rolled back the deploy.", "action")]),
    ("Our server crashed at 2am.\n(Situation)\nI had to restore it.\n(Task)",
     [("Our server crashed at 2am.", "situation"), ("I had to restore it.", "task")]),
    ("**Situation** (Context)\nThe build broke.", [("The build broke.", "situation")]),
    # a lower-case name inside running prose is a gloss
    ("I split the migration into small units (tasks) and gave each engineer one.",
     [("I split the migration into small units (tasks) and gave each engineer one.", None)]),
])
def test_labels_become_hints(text, expected):
    assert [(s.text, s.hint) for s in split_text(text)] == expected


EXPORT = """# Tell me about a time you fixed something

_take 3 · 2026-11-30T10:00 · 95 s · 140 wpm · 3 fillers_


## Situation

Our app crashed every night.

## Result

I rewrote the importer.

## Action

<!-- missing: add your action here -->

## Coach's checklist

- [ ] No Action: the interviewer needs the steps you took yourself, in the first person.
- [x] The Result is quantified.
"""


def test_starcoach_export_headings_count_for_nothing():
    segments = split_text(EXPORT)
    assert [(s.text, s.hint) for s in segments] == [("Our app crashed every night.", None),
                                                     ("I rewrote the importer.", None)]


def test_the_same_headings_written_by_hand_are_hints():
    by_hand = EXPORT.split("## Coach's checklist")[0].replace("<!-- missing: add your action here -->", "")
    by_hand = "\n".join(line for line in by_hand.splitlines() if not line.startswith("_take"))
    assert [s.hint for s in split_text(by_hand)] == ["situation", "result"]


def test_run_on_is_cut_at_discourse_markers():
    text = ("so at my last job the build kept failing and nobody knew why so i looked at the logs and i found "
            "a flaky test and then i rewrote it and in the end the build was green for a month")
    pieces = [" ".join(p) for p in split_run_on(text.split())]
    assert pieces[0] == "so at my last job the build kept failing and nobody knew why"
    assert pieces[-1] == "in the end the build was green for a month"
    assert " ".join(pieces) == text
    assert all(len(p.split()) >= 4 for p in pieces)


def test_run_on_without_markers_is_cut_into_windows():
    tokens = [f"w{k}" for k in range(60)]
    pieces = split_run_on(tokens, window=14)
    assert sum(pieces, []) == tokens
    assert len(pieces) == 4 and all(12 <= len(p) <= 17 for p in pieces)


def test_short_runs_are_left_whole():
    assert split_run_on("so i fixed it and then it worked".split()) == [
        "so i fixed it and then it worked".split()]


def _timed(text: str, pauses: dict[int, float] | None = None) -> list[Word]:
    words, t = [], 0.0
    for k, w in enumerate(text.split()):
        t += (pauses or {}).get(k, 0.0)
        words.append(Word(w, t, t + 0.3))
        t += 0.35
    return words


def test_split_words_at_pauses_keeps_times_and_drops_fillers():
    words = _timed("our build kept failing um every night i rewrote the flaky test", pauses={7: 1.2})
    segments = split_words(words, skip={4}, pause_s=0.8)
    assert [s.text for s in segments] == ["our build kept failing every night", "i rewrote the flaky test"]
    assert segments[0].start == 0.0 and segments[1].start == words[7].start
    assert [s.words for s in segments] == [6, 5]


def test_split_words_at_punctuation_and_markers():
    text = ("Our build kept failing. so i looked at the logs for a whole afternoon and i found a flaky test that "
            "timed out and then i rewrote it with a fake clock and in the end the build stayed green for a month")
    segments = split_words(_timed(text), pause_s=0.8)
    assert segments[0].text == "Our build kept failing."
    assert segments[-1].text.startswith("in the end")
    assert len(segments) >= 4
    assert all(a.end <= b.start for a, b in zip(segments, segments[1:]))


def test_a_line_italicised_in_an_edited_export_is_part_of_the_answer():
    """A check audit: in a file `export --format md` wrote, every italic line was taken for the
    export's line of figures and dropped: a lesson the user put in italics vanished ("No lesson")."""
    from starcoach.analysis.star import check_text

    exported = ("# Tell me about a time you fixed a slow service.\n\n_take 1 · 2026-12-05T21:02:47+00:00 · 43 s_\n\n"
                "## Situation\n\nLast year our checkout service timed out during big sales.\n\n"
                "## Task\n\nMy task was to find the cause before the holiday launch.\n\n"
                "## Action\n\nI profiled the slowest request and added the missing index.\n\n"
                "## Result\n\nCheckout latency dropped by 60%.\n\n"
                "## Learning\n\n_Looking back, I would run load tests before every launch._\n\n"
                "## Coach's checklist\n\n- [ ] Add detail to the Action.\n")
    report = check_text(exported)
    assert any("load tests" in s.text for s in report.sentences) and report.parts["learning"].present
    assert not any("43 s" in s.text or "take 1" in s.text for s in report.sentences)  # the figures line still goes


@pytest.mark.parametrize("headings", [True, False])
def test_an_edited_export_keeps_what_the_user_wrote_below_the_checklist_and_in_italics(headings):
    """An audit (session 53): a Result the user added below the export's checklist was dropped ("No
    Result"), and with the part headings taken out, a lesson in italics vanished ("No lesson"): every
    italic line above the first heading was taken for the line of figures. Edited, that line still goes."""
    from starcoach.analysis.star import check_text

    parts = [("Situation", "Last year our checkout service timed out during big sales."),
             ("Task", "My task was to find the cause before the holiday launch."),
             ("Action", "I profiled the slowest request and added the missing index.")]
    body = "".join(f"## {name}\n\n{said}\n\n" if headings else f"{said}\n" for name, said in parts)
    exported = ("# Tell me about a time you fixed a slow service.\n\n_take 1 · 2026-12-05 · 43 seconds_\n\n"
                f"{body}\n_Looking back, I would run load tests before every launch._\n\n"
                "## Coach's checklist\n\n- [ ] No Result: finish with what changed, with numbers.\n"
                "- [x] It ends with a lesson learned.\n\nAs a result, checkout latency dropped by 60%.\n")
    report = check_text(exported)
    said = [s.text for s in report.sentences]
    assert "As a result, checkout latency dropped by 60%." in said and report.parts["result"].present, said
    assert any("load tests" in s for s in said) and report.parts["learning"].present, said
    assert not any("43 seconds" in s or "No Result" in s or "lesson learned" in s for s in said), said


@pytest.mark.parametrize("ending", ["\r\n", "\r"])
def test_an_export_saved_with_other_line_ends_reads_as_with_newlines(ending):
    """An export saved with Windows line ends (CRLF) kept its italic line of figures ("take 3 · … · 19 s
    · 172 wpm · 1 filler"), read as the answer's first sentence, a Situation, and counted in its words."""
    want = [(s.text, s.hint) for s in split_text(EXPORT)]
    assert [(s.text, s.hint) for s in split_text(EXPORT.replace("\n", ending))] == want


@pytest.mark.parametrize("text", ["I fixed it fast.", "I fixed it — fast.", "I fixed it - fast 🎉 🎉.",
                                  "I fixed it ... fast !!", "I fixed it fast. 😱 😱 — —"])
def test_dashes_emoji_and_dots_are_no_words_nor_a_sentence(text):
    """An audit: `check --json` counted every token, so "I fixed it - fast 🎉 🎉." was 7 words (the
    length note and the parts' shares with it), and a row of emoji and dashes was a sentence."""
    segments = split_text(text)
    assert sum(s.words for s in segments) == 4 and all(s.words for s in segments), segments


@pytest.mark.parametrize("header", [
    "---\ntitle: Checkout outage story\ntags: [ownership, customer-obsession]\ndate: 2026-11-30\n---\n",
    "\n---\ntitle: Checkout\ntags:\n- ownership\n  - nested\n\nsummary: >\n  folded text\n---\n",
])
def test_a_note_s_yaml_header_is_not_read_as_the_answer(header):
    """An audit (session 53): an Obsidian, Jekyll or Hugo note opens with YAML front matter; its fields were
    the answer's first three sentences, all Situation."""
    story = "Last year our checkout failed for eight percent of customers. I rewrote the loading order."
    assert [s.text for s in split_text(header + story)] == [s.text for s in split_text(story)]
    assert [s.text for s in split_text("---\n\n" + story)][-1].endswith("loading order.")  # a rule, not a header
    # a labelled answer between two rules is the answer (a review: all of it was left out, rated 1/10)
    labelled = ("---\nSituation: Last year our checkout failed for eight percent of customers.\nTask: I had to fix it "
                "before the holiday sale.\nAction: I rewrote the loading order.\nResult: Failures fell to 0.1 percent."
                "\n---\nI learned to measure before I change anything.\n")
    assert [(s.hint, s.text[:9]) for s in split_text(labelled)][:4] == [
        ("situation", "Last year"), ("task", "I had to "), ("action", "I rewrote"), ("result", "Failures ")]
    asked = "---\nQuestion: Tell me about a time you fixed a slow service?\nAnswer: I rewrote the loading order.\n---\n"
    assert len(split_text(asked)) == 2  # (a review: "holds no answer")
    for key in ("goal", "context", "impact"):  # a header with a key a part may be named by is still a header
        assert [s.text for s in split_text(f"---\n{key}: migration\ntitle: Q3 story\n---\n" + story)] == \
            [s.text for s in split_text(story)], key
