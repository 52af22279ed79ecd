"""The STAR checker's rules (``tagger = "rules"``): labels, presence, feedback, and the shared
written set they were written against. The default tagger: test_star_hybrid.py, test_star_tagger.py."""

import json

import pytest

from starcoach.analysis import star
from starcoach.analysis.metrics import find_quantities
from starcoach.analysis.star import PARTS, StarOptions, label_sentences, split_text
from starcoach.domain.transcript import Word
from tests.conftest import SHARED, needs_shared

RULES = StarOptions(tagger="rules")


def check_text(text, *, options=RULES):
    return star.check_text(text, options=options)


def check_spoken(words, *, options=RULES, **kwargs):
    return star.check_spoken(words, options=options, **kwargs)

NARRATIVE = [
    ("situation", "At my last company, our mobile app's crash rate doubled after a major release."),
    ("situation", "Reviews dropped to three stars and support tickets piled up."),
    ("task", "As the release owner, I was responsible for getting the crash rate back under one percent."),
    ("action", "First, I grouped the crash reports by device and found most came from older Android phones."),
    ("action", "I reproduced the crash on a test device and traced it to an image library we had upgraded."),
    ("action", "I rolled the library back behind a feature flag and added a crash-rate check to our release pipeline."),
    ("result", "As a result, the crash rate fell from 4 percent to 0.3 percent within a week."),
    ("result", "Our rating recovered to 4.5 stars the next month."),
    ("learning", "Looking back, I would stage rollouts to 5 percent of users before every release."),
]

NOTES = [
    ("situation", "Sales team was losing deals because quotes took 3 days to prepare."),
    ("task", "Cut quote turnaround to same day without adding headcount."),
    ("action", "I mapped the approval steps with the sales leads."),
    ("action", "Built a pricing template in the CRM and automated the discount approval."),
    ("action", "I trained 12 account executives on the new flow."),
    ("result", "Quote time dropped from 3 days to 4 hours."),
    ("result", "Win rate improved 9% that quarter."),
]

MESSY = [
    ("situation", "So we had this legacy billing system that nobody wanted to touch, and it failed every month end."),
    ("task", "My manager asked me to make month-end close reliable before the audit."),
    ("action", "I wrote tests around the worst batch job and then I split it into three smaller jobs."),
    ("action", "Then I set up alerts so the on-call person knew within minutes when a job stalled."),
    ("result", "Month-end close went from two days of firefighting to zero incidents for six months."),
]


STRAIGHT_TO_ACTION = [  # no setting: the descriptions are what the speaker found on the way
    ("action", "I profiled the slow dashboard queries one by one."),
    ("action", "Two joins scanned the whole orders table every time."),
    ("action", "The cache was keyed on the user, so nothing was ever reused."),
    ("action", "I added partition filters and moved the cache key to the report."),
    ("result", "Load time fell from 40 seconds to 3 seconds."),
]

TARGETS_IN_ACTION = [  # figures aimed at while working are not the Result
    ("situation", "Our checkout service timed out for one customer in fifty during sales."),
    ("task", "I had to make it hold the Black Friday peak."),
    ("action", "I wrote a load test that replayed last year's peak traffic."),
    ("action", "Target was p95 under 300 milliseconds at 5,000 requests per second."),
    ("action", "I moved the inventory check off the request path and added a queue."),
    ("result", "On Black Friday p95 stayed at 180 milliseconds and we lost no orders."),
]

SPOKEN_MARKERS = [  # discourse markers in front of a sentence do not hide its cue
    ("situation", "So our release train kept slipping because tests took four hours."),
    ("task", "You know, get the suite under thirty minutes without dropping coverage."),
    ("action", "I mean, I split the suite by run time and ran the shards in parallel."),
    ("result", "Basically the suite now takes 22 minutes, down from four hours."),
]

NAMED_PARTS = [  # prep notes that say which part each line is, even where the words alone would not
    ("situation", "Context: nightly ETL kept failing."),
    ("task", "Goal: stable runs before the launch."),
    ("action", "Action: rewrote the joins."),
    ("action", "Added retries with backoff."),
    ("result", "Outcome: zero failures since."),
    ("learning", "Lessons learned - test with production volumes."),
]

GARBLED_OPENING = [  # a misheard first sentence with no cue left in it is still the setting before the task
    ("situation", "A product marketing platform where the launch by ten days, the new ranking table for the app."),
    ("task", "My task was to deliver a reliable pipeline by launch day."),
    ("action", "I built an incremental model and added data checks in Airflow."),
    ("result", "As a result, we launched on time with freshness under 90 minutes."),
]


@pytest.mark.parametrize("story", [NARRATIVE, NOTES, MESSY, STRAIGHT_TO_ACTION, TARGETS_IN_ACTION, SPOKEN_MARKERS,
                                   NAMED_PARTS, GARBLED_OPENING],
                         ids=["narrative", "notes", "messy", "straight-to-action", "targets", "markers", "named",
                              "garbled-opening"])
def test_labels_follow_the_story(story):
    labels = [label for label, _ in label_sentences([s for _, s in story])]
    assert labels == [label for label, _ in story]


@pytest.mark.parametrize("story", [NARRATIVE, NOTES, MESSY], ids=["narrative", "notes", "messy"])
@pytest.mark.parametrize("removed", ["situation", "action", "result"])
def test_ablated_part_is_reported_missing(story, removed):
    kept = [s for label, s in story if label != removed and not (removed == "situation" and label == "task")]
    report = check_text(" ".join(kept))
    assert not report.parts[removed].present
    codes = {f.code for f in report.feedback}
    assert f"missing_{removed}" in codes
    for label, _ in story:
        if label not in (removed, "task") and label != "learning":
            assert report.parts[label].present, label


def test_two_stories_in_one_answer_are_not_praised_for_their_order():
    """An audit: a take telling two stories (S T A R, then "Another time..." S T A R) was told "All four
    STAR parts are there, in a clear order."; one story alone still is."""
    one = ("At my first job, our checkout page crashed every Friday evening. I was asked to find out why and stop "
           "it. I traced the crash to a memory leak, fixed the cache and added an alert. As a result, the crashes "
           "stopped and sales rose 12%.")
    two = one + (" Another time, at my second company, our nightly report was always late. My task was to get it "
                 "out by seven. I rewrote two slow queries and added partitioning. The report now lands at six every "
                 "morning, an hour earlier.")
    for read in (check_text, star.check_text):  # the rules, and the default tagger
        assert "All four STAR parts are there, in a clear order." in read(one).strengths
        report = read(two)
        assert [s.label for s in report.sentences][3] == "result" and report.sentences[4].label in ("situation", "task")
        assert "All four STAR parts are there." in report.strengths
        setup = next(f for f in report.feedback if f.code == "setup_too_long")
        assert list(setup.sentences) == sorted(setup.sentences)  # the default tagger's were listed 0, 4, 1, 5


def test_full_answer_feedback_and_rating():
    report = check_text(" ".join(s for _, s in NARRATIVE))
    assert all(report.parts[p].present for p in PARTS)
    assert report.rating >= 8
    assert "The Result is quantified." in report.strengths
    assert not any(f.severity == "missing" for f in report.feedback)
    # the subjects, said as such: the report's "I / we" line counts every form (me, my, our...)
    assert any(s.startswith('The Action is in the first person: "I" did it ') for s in report.strengths), \
        report.strengths


def test_we_heavy_action_and_unquantified_result_are_flagged():
    text = ("Our team's dashboard was slow and customers complained. My task was to fix it. "
            "We profiled the queries. We added caching. We rewrote the slowest report together. "
            "In the end, customers were much happier.")
    report = check_text(text)
    codes = {f.code for f in report.feedback}
    assert {"action_we", "result_no_number", "missing_learning"} <= codes
    action = next(f for f in report.feedback if f.code == "action_we")
    assert action.sentences == report.parts["action"].sentences


@pytest.mark.parametrize("goal", [
    "I wanted to get them unblocked without doing the work for them.",
    "I aimed to halve the time a new hire needs before their first deploy.",
    "I set out to make the on-call rota fair again.",
])
def test_a_goal_said_as_what_i_wanted_is_the_task(goal):
    """A one-sentence Task phrased as the speaker's aim: before, "I wanted to" was no cue and
    the sentence took the Situation's label, so a complete answer was told its Task is missing."""
    text = ("Two juniors on my team kept getting stuck on the same build errors. " + goal
            + " I paired with each of them for an hour and wrote a page on the five errors we saw most."
            " Their questions in the team channel dropped from about ten a week to two.")
    report = check_text(text)
    assert report.sentences[1].label == "task"
    assert all(report.parts[p].present for p in ("situation", "task", "action", "result"))


def test_long_setup_is_flagged():
    setup = " ".join(["Our company had a very old and complicated billing platform with many parts."] * 5)
    report = check_text(setup + " My task was to replace it. I migrated the invoices. "
                                "As a result, billing errors fell 50%.")
    assert "setup_too_long" in {f.code for f in report.feedback}


def test_spoken_answer_uses_times_and_length_target():
    text = " ".join(s for _, s in NARRATIVE)
    words, t = [], 0.0
    for w in text.split():
        words.append(Word(w, t, t + 0.3))
        t += 0.35
    report = check_spoken(words, duration_s=t)
    assert report.spoken and report.parts["action"].share_time > 0.3
    assert report.sentences[0].start == 0.0
    assert "too_short" in {f.code for f in report.feedback}  # ~45 s, under the 90-120 s target


@pytest.mark.parametrize("text, expected", [
    ("One. Two! Three?", ["One.", "Two!", "Three?"]),
    ("Latency fell 99.9% to 3.5 ms. Done.", ["Latency fell 99.9% to 3.5 ms.", "Done."]),
    ("We used tools, e.g. Kafka. Then I shipped.", ["We used tools, e.g. Kafka.", "Then I shipped."]),
    ("# Situation\nOur app crashed.\n\n- [ ] Add a number\n## Task\nFix it", ["Our app crashed.", "Fix it"]),
    ("no punctuation at all", ["no punctuation at all"]),
])
def test_split_text(text, expected):
    assert split_text(text) == expected


def test_shared_written_set_every_file_right():
    folder = needs_shared(SHARED / "star")
    expected = json.loads((folder / "expected.json").read_text())
    wrong = {}
    for name, parts in expected.items():
        report = check_text((folder / name).read_text())
        got = {p: report.parts[p].present for p in PARTS}
        if got != parts:
            wrong[name] = {p: got[p] for p in PARTS if got[p] != parts[p]}
    # Measured: 35 of 36. The miss is seed001-Q94-no-situation, which opens on "Platform team
    # was understaffed, work was queued": a setting by every general cue, an Action in the
    # story it was cut from. The test holds that line.
    assert len(wrong) <= 1, wrong


def test_ten_out_of_ten_only_when_nothing_is_left_to_improve():
    from dataclasses import replace

    from starcoach.analysis.star import StarOptions

    story = " ".join(s for _, s in NARRATIVE)
    short = check_text(story)  # a written answer is timed as spoken: this one is far too short
    assert "too_short" in {f.code for f in short.feedback} and short.rating < 10
    said = len(story.split()) / 140 * 60
    fits = replace(RULES, target_length_s=(said - 5, said + 5))
    assert check_text(story, options=fits).rating == 10
    no_lesson = check_text(" ".join(s for label, s in NARRATIVE if label != "learning"), options=fits)
    assert "missing_learning" in {f.code for f in no_lesson.feedback}
    assert no_lesson.rating < 10


def _require_evidence_as_written_before(path, whys):
    """The rule as it was written first: a scan each way for every sentence (quadratic)."""
    from starcoach.analysis.star_rules import _LABELS

    path = list(path)
    for part in _LABELS:
        idx = [k for k, label in enumerate(path) if label == part]
        if not idx or any(whys[k][part] for k in idx):
            continue
        if part == "situation" and idx == list(range(len(idx))) and len(idx) < len(path) \
                and path[len(idx)] == "task" and whys[len(idx)]["task"]:
            continue
        for k in idx:
            before = next((path[j] for j in range(k - 1, -1, -1) if path[j] != part), None)
            after = next((path[j] for j in range(k + 1, len(path)) if path[j] != part), None)
            path[k] = before or after or part
    return path


def test_parts_without_evidence_fold_as_before_and_in_linear_time():
    """A megabyte of ". . ." is 490,000 sentences with no cue: folding them scanned the whole
    answer for each one, and `check` ran for many minutes. The same folds, in one pass."""
    import random
    import time

    from starcoach.analysis.star_rules import _LABELS, _require_evidence

    rng = random.Random(7)
    for _ in range(300):
        n = rng.randint(1, 12)
        path = [rng.choice(_LABELS) for _ in range(n)]
        whys = [{p: (["cue"] if rng.random() < 0.25 else []) for p in _LABELS} for _ in range(n)]
        assert _require_evidence(path, whys) == _require_evidence_as_written_before(path, whys), (path, whys)
    n = 40_000
    path = ["situation"] * 10 + ["action"] * n + ["result"] * 10
    whys = [{p: [] for p in _LABELS} for _ in range(len(path))]
    start = time.perf_counter()
    folded = _require_evidence(path, whys)
    assert time.perf_counter() - start < 5.0  # 0.05 s in one pass; the scans took minutes
    assert folded == ["result"] * len(path)  # no part shows a cue: each folds into the next


def test_the_rules_cut_a_pasted_transcript_and_leave_a_long_punctuated_sentence_whole():
    """A transcript pasted into `check` (no punctuation at all) was one sentence with one part for
    the rules, the default tagger: a whole story rated 2, "No Action", "No Result"."""
    said = ("so last spring our mobile app kept crashing on older phones and reviews dropped to two stars "
            "and my job was to find the cause and fix it before the summer release so I collected the crash "
            "logs and I reproduced the crash on three old devices and I rewrote the image cache that ran out "
            "of memory and I added a test on the oldest phone we support and in the end crashes fell by 80 "
            "percent and the rating went back to four stars")
    report = check_text(said)
    assert len(report.sentences) > 3
    assert all(report.parts[p].present for p in ("situation", "action", "result")), \
        [(s.text, s.label) for s in report.sentences]
    long = ("I rewrote the image cache, which had been loading every picture at full size, so that it kept "
            "small copies, dropped the ones off screen, and never held more than twenty megabytes at once.")
    assert [s.text for s in check_text(long).sentences] == [long]


@pytest.mark.parametrize("result, quantified", [
    ("We cut the monthly bill by a third.", True), ("Our costs roughly halved.", True),
    ("Sign-ups doubled within the quarter.", True), ("As a result, two thirds of users moved over.", True),
    ("As a result, it was one of the smoothest launches the company had seen.", False),
    ("As a result, the bill came down, with a third party tool doing the tagging.", False),
    ("As a result, the run time dropped tenfold.", True), ("As a result, costs fell fourfold.", True),
    ("As a result, the report was ready an hour earlier.", True),
    ("As a result, the report arrived a day earlier than before.", True)])
def test_a_result_is_quantified_by_fractions_and_multiples_and_not_by_one_of(result, quantified):
    """"cut the bill by a third" was told "The Result has no number", and "one of the smoothest
    launches" "The Result is quantified"."""
    text = ("Our cloud bill had grown every month for a year. I was asked to bring it down. I tagged every "
            "resource, found the idle clusters and moved the batch jobs to spot instances. " + result)
    report = check_text(text)
    assert report.parts["result"].present, [(s.text, s.label) for s in report.sentences]
    codes = {f.code for f in report.feedback}
    assert ("result_no_number" not in codes) == quantified, codes
    # the report's "Numbers" line agrees: an audit saw "Numbers none" beside "The Result is quantified"
    words = [Word(t, i * 0.4, i * 0.4 + 0.3) for i, t in enumerate(result.split())]
    assert bool(find_quantities(words)) == quantified, find_quantities(words)


@pytest.mark.parametrize("step", [
    "I flew out to meet their operations lead and heard their complaints in full.",
    "I fought for two more engineers and spent a week pairing with each of them.",
    "I threw out the old plan and drew up a new one with weekly milestones.",
])
def test_an_action_told_with_an_irregular_past_verb_is_the_action(step):
    """An Action whose verb is irregular ("flew", "fought", "threw") had no "I + past verb" cue for
    the rules: it took the Task's label before it, and the answer was told its Task is missing."""
    text = ("A key client threatened to leave after three missed delivery dates. "
            "I was responsible for winning back their trust. " + step
            + " As a result, the client renewed their contract for three more years.")
    report = check_text(text)
    assert [s.label for s in report.sentences] == ["situation", "task", "action", "result"], \
        [(s.text, s.label) for s in report.sentences]


def test_the_setup_and_action_notes_judge_the_share_they_show():
    from starcoach.analysis.star import StarOptions

    """With 34.1% of the words in Situation and Task against a 0.34 limit, the note read "Situation
    and Task take 34% of the answer; keep them to about a third": flagged for a figure it showed
    as within the limit. Shares are judged in the whole percent the note shows, and the note gives
    the configured limit."""
    text = ("Our billing platform was old and failed at every month end. My task was to make the close "
            "reliable. I rewrote the ledger export to stream rows instead of loading them all. "
            "As a result, the close ran without a failure for six months.")
    report = check_text(text)
    setup = report.parts["situation"].share_words + report.parts["task"].share_words
    action = report.parts["action"].share_words
    assert report.parts["action"].present and 0.2 < setup < 0.8 and 0.1 < action < 0.9
    shown_setup, shown_action = round(100 * setup), round(100 * action)
    # limits that the shares pass by a fraction of a percent: the same figures once rounded
    just_under = StarOptions(tagger="rules", setup_max_share=(shown_setup - 0.49) / 100,
                             action_min_share=(shown_action + 0.49) / 100)
    assert setup > just_under.setup_max_share and round(100 * just_under.setup_max_share) == shown_setup
    assert action < just_under.action_min_share and round(100 * just_under.action_min_share) == shown_action
    codes = {f.code for f in check_text(text, options=just_under).feedback}
    assert not {"setup_too_long", "action_short"} & codes, codes
    over = StarOptions(tagger="rules", setup_max_share=setup - 0.02, action_min_share=action + 0.02)
    notes = {f.code: f.message for f in check_text(text, options=over).feedback}
    assert f"take {shown_setup}% of the answer" in notes["setup_too_long"]
    assert f"{round(100 * over.setup_max_share)}% or less" in notes["setup_too_long"]
    assert f"only {shown_action}% of the answer" in notes["action_short"]
    assert f"{round(100 * over.action_min_share)}% or more" in notes["action_short"]


def test_a_label_after_the_words_weighs_as_one_before_them():
    parts = [("Situation", "Our nightly import had failed three times in a week"),
             ("Task", "I had to make it reliable before the audit"),
             ("Action", "I added retries and a check of every batch against the source"),
             ("Result", "It has not failed since, and the audit passed")]
    before = star.check_text("\n".join(f"{name}: {text}." for name, text in parts))
    after = star.check_text(" ".join(f"{text} ({name})." for name, text in parts))
    plain = star.check_text(" ".join(f"{text}." for _, text in parts))
    for p in PARTS:
        assert after.parts[p].present == before.parts[p].present, p
        assert after.parts[p].confidence == pytest.approx(before.parts[p].confidence, abs=0.02), p
    # the labels are evidence: they move the parts they name
    assert after.parts["task"].confidence > plain.parts["task"].confidence


def test_the_length_note_names_only_the_parts_that_are_thin():
    """A short answer that is mostly Action is told to add to its Result, not to its Action;
    one without an Action is not told to add detail to it."""
    heavy = check_text(
        "Our deploys failed every week. I had to fix it. I rewrote the deploy script, added a canary "
        "stage, wrote rollback tests for every service, moved the secrets into the vault, trained two "
        "teammates on the new flow and documented each step in the runbook. Failures dropped to zero.")
    assert heavy.parts["action"].share_words >= 0.5 and heavy.parts["result"].share_words < 0.2
    note = next(f.message for f in heavy.feedback if f.code == "too_short")
    assert note.endswith("add detail to the Result.")
    none = check_text("Our deploys failed every week. I had to fix it. Failures dropped to zero within a month.")
    assert not none.parts["action"].present
    note = next(f.message for f in none.feedback if f.code == "too_short")
    assert "the Action" not in note and "what you did" in note


def test_a_one_word_answer_is_too_short_to_tell_a_story():
    """"1 words, about 0 s spoken, is short of the target" (a check audit): a one-word answer is
    judged as too short to tell a story, and that alone."""
    assert [f.code for f in check_text("Hello.").feedback] == ["too_short_to_tell"]


@pytest.mark.parametrize("tagger", ["hybrid", "learned", "rules"])
@pytest.mark.parametrize("framed", ["# Teamwork story draft\n\n{}", "## Situation\n\n{}\n",
                                    "# Ownership: the login outage story\n\n**Action**\n\n{}\n"])
def test_a_title_or_headings_do_not_make_a_short_answer_long_enough(tagger, framed):
    """An audit: "I fixed my login bug." was too short to tell a story, and the same under a title was
    judged (Action present, "No Situation"...): the heading's words were counted as the answer's.
    So an untouched md export of a too-short take, with its own headings, checked otherwise."""
    options = StarOptions(tagger=tagger)
    alone = star.check_text("I fixed my login bug.", options=options)
    report = star.check_text(framed.format("I fixed my login bug."), options=options)
    assert [f.code for f in alone.feedback] == [f.code for f in report.feedback] == ["too_short_to_tell"]
    assert not any(report.parts[p].present for p in PARTS)


@pytest.mark.parametrize("tagger", ["hybrid", "learned", "rules"])
@pytest.mark.parametrize("said", ["Um, so, let me start again.", "Okay.", "Sorry, can I start over?",
                                  "Testing, testing, one two three."])
def test_an_answer_too_short_to_tell_a_story_has_no_part_and_says_so(tagger, said):
    """An audit: the false start "Um, so, let me start again." was reported as a lesson ("It ends
    with a lesson learned", Learning present), "Okay." as a Situation (the learned tagger) or an
    Action (the rules). Under 4 words that name things, no part is judged."""
    from starcoach.analysis.document import star_document
    from starcoach.analysis.fillers import filler_word_indexes, find_fillers

    options = StarOptions(tagger=tagger)
    words = [Word(t, 0.4 * i, 0.4 * i + 0.3) for i, t in enumerate(said.split())]
    spoken = star.check_spoken(words, duration_s=3.0, filler_word_indexes=filler_word_indexes(find_fillers(words)),
                               options=options)
    for report in (star.check_text(said, options=options), spoken):
        assert not any(report.parts[p].present for p in PARTS), (said, {p: report.parts[p].present for p in PARTS})
        assert {s.label for s in report.sentences} == {"other"} and not report.strengths
        assert [f.code for f in report.feedback] == ["too_short_to_tell"], report.feedback
        assert "too short to tell a story" in report.feedback[0].message
        star_document(report)  # the document is written with its sentences' probabilities


@pytest.mark.parametrize("tagger", ["hybrid", "learned", "rules"])
@pytest.mark.parametrize("said", [
    "Our checkout failed during the sale, so I rewrote the connection pool and errors fell 90%.",
    "I led the migration to Postgres and we finished two weeks early.",  # 5 words that name things
    "When checkout broke, I rolled back the deploy and we lost no orders.",
    "Situation: prod outage. Task: restore it. Action: I rolled back. Result: 5 min downtime.",
    "结账服务在促销期间宕机了，我回滚了发布并重写了连接池，错误率下降了百分之九十，我们没有丢失任何订单。",
])
def test_a_short_answer_that_tells_a_story_is_still_judged(tagger, said):
    """A review: the first rule (under 8 words that name things, coverage's) took real one-sentence
    stories (5-7 such words) for false starts, counted a labelled answer differently by tagger
    (the learned one reads it without its labels), and any answer in a script written without
    spaces. Judged as before, whichever tagger."""
    report = star.check_text(said, options=StarOptions(tagger=tagger))
    assert "too_short_to_tell" not in {f.code for f in report.feedback}, report.feedback
    assert any(report.parts[p].present for p in PARTS)


def _coached(texts_and_labels, missing=(), duration_s=100.0):
    """The coach on sentences labelled by hand: each part present but the MISSING ones."""
    from starcoach.analysis.star_coach import coach
    from starcoach.analysis.star_report import PartReport, Sentence, StarOptions

    sentences = [Sentence(text, label, words=len(text.split())) for text, label in texts_and_labels
                 if label not in missing]
    total = sum(s.words for s in sentences)
    parts = {p: PartReport(present=p not in missing,
                           sentences=tuple(i for i, s in enumerate(sentences) if s.label == p),
                           share_words=sum(s.words for s in sentences if s.label == p) / total, share_time=None)
             for p in ("situation", "task", "action", "result", "learning")}
    return coach(sentences, parts, True, duration_s, StarOptions())  # spoken, by default for 100 s: on target


STORY = [("Our release pipeline failed every other night last spring.", "situation"),
         ("I had to make it reliable before the audit in June.", "task"),
         ("I traced the failures to a shared lock, I rewrote the loader so that each job took its own, "
          "and I added retries and alerts for the rest of the team to watch.", "action"),
         ("I also walked the on-call engineers through the new runbook and I paired with them on it.", "action"),
         ("Failures fell from twelve a month to one, and the audit passed.", "result"),
         ("Looking back, I would have asked for the logs sooner.", "learning")]


def test_a_missing_part_costs_the_rating_by_its_weight_in_a_story():
    """Without its Action a story has nothing to judge; without a Result, no outcome; a lesson is a tip.
    (The rating is rounded down to whole points, so the Action's and the Result's may meet.)"""
    rating = {p: _coached(STORY, missing=(p,))[3] for p in ("action", "result", "learning")}
    assert rating["action"] <= rating["result"] < rating["learning"] < _coached(STORY)[3] == 10


@pytest.mark.parametrize("action, warned", [
    ("We traced the lock, we rewrote the loader and I added retries.", True),   # "we" twice, "I" once
    ("We traced the lock and I rewrote the loader.", False),                    # once each
    ("I traced the lock and I rewrote the loader, and we shipped it.", False),
])
def test_an_action_said_as_we_more_than_i_is_noted(action, warned):
    story = [STORY[0], STORY[1], (action, "action"), STORY[4], STORY[5]]
    feedback = _coached(story)[0]
    assert ("action_we" in {f.code for f in feedback}) is warned


def test_a_template_s_placeholders_are_no_answer():
    """An audit: an unfilled template ("Task: <what you had to do>") rated 5 of 10, with a lesson for
    "<what you learned>"; filled in part, the parts left as placeholders are missing."""
    template = ("Situation: <describe the context here>\nTask: <what you had to do>\nAction: <the steps you took>\n"
                "Result: <what happened, with numbers>\nLearning: <what you learned>\n")
    assert star.check_text(template).sentences == ()
    # worded in the first person, numbered, as a heading's words (reviews of the rules before: rated 4 to 6 of 10)
    for blank in ("1. Situation: <where I was>\n2. Action: <what I did>\n3. Result: <what changed>\n"
                  "4. Learning: <what I learned>\n",
                  "1. <describe the context here>\n2. <your goal>\n3. <the steps you took>\n4. <what happened, "
                  "with numbers>\n5. <what you learned>\n",
                  "Situation: <context and background of the project>\nTask: <the goal>\nAction: <the actions I "
                  "took>\nResult: <the outcome, with numbers>\nLearning: <the lesson>\n"):
        assert star.check_text(blank).sentences == (), blank
    half = template.replace("<describe the context here>", "At my last job the nightly billing run failed twice a "
                            "week and finance closed the month late.").replace(
        "<the steps you took>", "I traced the failures to a shared lock and rewrote the loader so each job took its "
        "own, then added retries.")
    report = star.check_text(half)
    assert [p for p in PARTS if report.parts[p].present] == ["situation", "action"]
    assert not any("<" in s.text for s in report.sentences)


@pytest.mark.parametrize("said", [
    "I kept p99 <target while traffic grew >3x.",
    "When load<threshold we scaled down, and when cost>budget we alerted.",
    "In the end p99 latency stayed <target for the whole sale and timeouts fell from 4% to >0.1% of requests.",
    "Situation: <At my last job the nightly billing run failed twice a week and I was on call.>",  # typed in
    "Result: <Failures fell from eight a month to zero and the audit passed.>",
    "<When I joined, the team had no on-call rota and I set one up.>",
    "<What I learned: always measure first.>",   # a sentence, though it opens as an instruction would
    "Result: <errors down 40%>",                  # a figure
])
def test_angle_brackets_in_an_answer_are_its_words(said):
    """A review of the placeholders' first rule (anything from "<" and a letter to ">"): "When load budget
    we alerted.", and an answer typed inside a template's brackets refused as no answer."""
    from starcoach.analysis.answer_text import strip_export

    assert strip_export(said)[0] == said


def test_a_labelled_outline_and_an_answer_in_the_second_person_keep_their_verdicts():
    """A review: an outline with the writer's labels and no "I" or past tense lost every part to a gate
    for text that tells nothing done (6 of 10 -> 1), and "you would…" lost its not-a-story note to it
    (the gate was taken out: answers in other languages, unlabelled outlines and notes under headings
    lost every part to it too)."""
    outline = ("Context: payments team, checkout failing 5% of the time on Black Friday week. Goal: stop the failures "
               "before the sale. Steps: trace the timeouts, add a circuit breaker, load test at 3x traffic. Outcome: "
               "failures down to 0.1%, sales up 12%. Lesson: load test before the peak, not during.")
    you = ("In that situation you would first talk to both people separately. Then you'd bring them together and look "
           "for common ground. If that doesn't work, you would escalate to a manager.")
    for tagger in ("rules", "learned", "hybrid"):
        report = star.check_text(outline, options=StarOptions(tagger=tagger))
        assert report.parts["result"].present and report.rating > 1
        report = star.check_text(you, options=StarOptions(tagger=tagger))
        assert report.not_a_story and [f.code for f in report.feedback] == ["not_a_story"]


def test_a_long_answer_is_told_to_trim_the_parts_it_has():
    """An audit: "trim the Situation" beside "No Situation"."""
    action = [("I traced the failures to a shared lock and rewrote the loader so that each job took its own.",
               "action")] * 40
    with_setup = _coached(STORY[:2] + action + STORY[4:], duration_s=300.0)
    without = _coached(STORY[1:2] + action + STORY[4:], missing=("situation",), duration_s=300.0)
    note = {f.code: f.message for f in with_setup[0]}["too_long"]
    assert note.endswith("trim the Situation and the Task and keep one thread in the Action."), note
    note = {f.code: f.message for f in without[0]}["too_long"]
    assert note.endswith("trim the Task and keep one thread in the Action."), note


def test_an_unclear_part_is_not_quoted_from_a_sentence_another_part_has():
    """An audit: an answer's one sentence, shown as its Result, was also "the closest" Situation. (In a longer
    answer another part's sentence is quoted: test_star_tagger.py, an unclear Result's closest sentence.)"""
    from starcoach.analysis.star_coach import coach
    from starcoach.analysis.star_report import PartReport, Sentence

    said = Sentence("I led the move of our payroll to the new system and we cut the run from 6 hours to 40 minutes.",
                    "result", words=22)
    parts = {p: PartReport(present=p == "result", sentences=(0,) if p == "result" else (),
                           share_words=float(p == "result"), share_time=None, unclear=p == "situation") for p in PARTS}
    note = next(f for f in coach((said,), parts, False, None, StarOptions(), closest={"situation": 0})[0]
                if f.code == "unclear_situation")
    assert "closest" not in note.message and note.sentences == ()
    clause = Sentence(said.text, "result", words=22, parts=(("situation", 0.4), ("result", 0.6)))  # one of its clauses
    note = next(f for f in coach((clause,), parts, False, None, StarOptions(), closest={"situation": 0})[0]
                if f.code == "unclear_situation")
    assert "the closest is" in note.message and note.sentences == (0,)
