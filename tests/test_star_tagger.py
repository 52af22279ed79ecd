"""The learned STAR tagger (``StarOptions(tagger="learned")``): stability, labels as evidence,
not-a-story (both taggers), unclear parts, the JSON fields, the weights file, and the project's own
answers that no model was trained or tuned on."""

import json
from pathlib import Path

import numpy as np
import pytest

from starcoach.analysis.document import check_document
from starcoach.analysis.star import PARTS, StarOptions, check_spoken, check_text
from starcoach.analysis.star_features import named_cues, tokens
from starcoach.analysis.star_learned import _two_parts
from starcoach.analysis.star_segment import split_text
from starcoach.analysis.star_tagger import WEIGHTS_FILE, load_model, presence, presence_features, save_model
from starcoach.domain.transcript import Word

LEARNED = StarOptions(tagger="learned")
EXTRA = Path(__file__).parent / "data" / "star_extra"
WEIGHTS = Path(__file__).parents[1] / "src" / "starcoach" / "data" / WEIGHTS_FILE

STORY = ("At my last company, our mobile app's crash rate doubled after a major release. "
         "As the release owner, I was responsible for getting the crash rate back under one percent. "
         "I grouped the crash reports by device and found most came from older Android phones. "
         "I rolled the image library back behind a feature flag. "
         "As a result, the crash rate fell from 4 percent to 0.3 percent within a week.")


def _timed(text: str) -> list[Word]:
    return [Word(w, 0.4 * k, 0.4 * k + 0.3) for k, w in enumerate(text.split())]


def _labels(report):
    return [s.label for s in report.sentences]


# --- stable -------------------------------------------------------------------------

def test_same_input_twice_same_parts():
    a, b = check_text(STORY, options=LEARNED), check_text(STORY, options=LEARNED)
    assert _labels(a) == _labels(b)
    assert [s.probabilities for s in a.sentences] == [s.probabilities for s in b.sentences]
    words = _timed(STORY.lower().replace(".", "").replace(",", ""))
    c = check_spoken(words, duration_s=40.0, options=LEARNED)
    d = check_spoken(words, duration_s=40.0, options=LEARNED)
    assert _labels(c) == _labels(d) and c.parts == d.parts


REWORDED = [
    (STORY,
     "At my previous company, the crash rate of our mobile app doubled after a big release. "
     "As release owner, I was responsible for bringing the crash rate back below one percent. "
     "I grouped the crash reports by device and saw that most came from old Android phones. "
     "I rolled the image library back behind a feature flag. "
     "As a result, the crash rate dropped from 4 percent to 0.3 percent in a week."),
    ("Our sales team lost deals because quotes took three days to prepare. "
     "My goal was to get quotes out the same day without hiring. "
     "I mapped the approval steps with the sales leads and built a pricing template in the CRM. "
     "Quote time dropped from three days to four hours, and the win rate improved 9 percent.",
     "Our sales team was losing deals because quotes took 3 days to prepare. "
     "My goal was to send quotes the same day without adding headcount. "
     "I mapped the approval steps with the sales leads and built a pricing template in our CRM. "
     "Quote time fell from 3 days to 4 hours, and the win rate rose 9 percent."),
]


@pytest.mark.parametrize("tagger", ["rules", "learned", "hybrid"])
@pytest.mark.parametrize("a, b", REWORDED, ids=["crash", "quotes"])
def test_light_rewording_gives_the_same_parts(a, b, tagger):
    options = StarOptions(tagger=tagger)
    ra, rb = check_text(a, options=options), check_text(b, options=options)
    assert _labels(ra) == _labels(rb)
    assert {p: ra.parts[p].present for p in PARTS} == {p: rb.parts[p].present for p in PARTS}


def test_two_takes_spoken_and_written_agree_on_parts():
    written = check_text(STORY, options=LEARNED)
    spoken = check_spoken(_timed(STORY), duration_s=40.0, options=LEARNED)
    assert {p: written.parts[p].present for p in PARTS} == {p: spoken.parts[p].present for p in PARTS}


# --- labels are evidence ---------------------------------------------------------------

def test_a_label_raises_its_part():
    model = load_model()
    plain = model.sentence_probs(["The team met every Monday."])[0]
    labelled = model.sentence_probs(["The team met every Monday."], hints=["result"])[0]
    assert labelled[PARTS.index("result")] > plain[PARTS.index("result")]


def test_a_label_does_not_overrule_the_text():
    text = ("Result: At my previous company, our payments team had a checkout outage every Friday.\n"
            "My task was to find the cause before the holiday sales.\n"
            "I traced the outage to a cron job and moved it to Sunday night.\n"
            "The outages stopped and holiday sales ran without a single incident.")
    report = check_text(text, options=LEARNED)
    assert report.sentences[0].label == "situation"
    assert "label: result" in report.sentences[0].cues


# --- not a story -------------------------------------------------------------------------

HYPOTHETICAL = [
    "I would first talk to both people separately to understand their views. Then I would bring them together "
    "and look for common ground. If that failed, I would involve my manager.",
    "In that situation I'd start by gathering the data. I'd share a plan with the team and ask for feedback. "
    "Then I'd track progress every week.",
    "We usually handle incidents with a clear on-call rotation. Whoever is on call typically opens a channel. "
    "We always write a postmortem within a week.",
    "My approach is to over-communicate with stakeholders. I always try to flag risks early, and I tend to "
    "write things down so nobody is surprised.",
    "If I had a deadline I couldn't meet, I would tell my manager right away. I would propose a smaller scope "
    "and a new date. Generally people appreciate honesty.",
    "what i would do is um first figure out who is affected and then i would talk to the customer and i would "
    "make sure we fix the root cause",
    # verbs whose past is their present ("set", "cut", "put", "read"), and "need": no story told
    "If a project was falling behind, I would set up a meeting with the team to understand the blockers. I would "
    "cut the scope to what matters most. I would put the remaining work in a clear plan and read the status every "
    "morning. I would let my manager know early.",
]


def test_a_modal_or_need_before_a_verb_tells_no_past():
    """A check audit: "I would set / cut / put / read" read as a past story (those verbs' past is
    their present), and so did "need" (an "-ed" word): hypothetical answers were coached as stories."""
    from starcoach.analysis.star_rules import _tells_past

    for said in ("I would set up a meeting.", "I'd cut the scope.", "We could put it in a plan.",
                 "I need to tell the customer.", "We need a date."):
        assert not _tells_past(said), said
    for said in ("I set up a meeting.", "We cut the scope.", "I needed a date.", "I agreed to help."):
        assert _tells_past(said), said


@pytest.mark.parametrize("tagger", ["rules", "learned", "hybrid"])
@pytest.mark.parametrize("text", HYPOTHETICAL, ids=[f"h{k}" for k in range(len(HYPOTHETICAL))])
def test_hypothetical_or_generic_answers_are_flagged(text, tagger):
    report = check_text(text, options=StarOptions(tagger=tagger))
    assert report.not_a_story
    assert [f.code for f in report.feedback] == ["not_a_story"]  # no "No Result" for no story at all
    assert report.improvements == (report.feedback[0].message,) and report.rating == 1  # no part of a story
    assert report.strengths == ()  # "The Action is in the first person" was praise for no story at all
    # and no part of one: an audit's hypothetical answers all had a lesson in the header and the JSON
    assert not any(part.present for part in report.parts.values()), report.parts
    assert {s.label for s in report.sentences} == {"other"}


@pytest.mark.parametrize("text", [
    STORY,
    STORY + " Looking back, I would stage every rollout to 5 percent of users first.",
    "So last year our checkout kept timing out. I had to fix it before Black Friday. I wrote a load test and "
    "moved the inventory check off the request path. We lost no orders that weekend.",
], ids=["story", "story-with-would-lesson", "spoken-story"])
@pytest.mark.parametrize("tagger", ["rules", "learned", "hybrid"])
def test_stories_are_not_flagged(text, tagger):
    assert not check_text(text, options=StarOptions(tagger=tagger)).not_a_story


# --- a goal said as in notes --------------------------------------------------------------------

def test_a_goal_without_its_lead_in_opens_on_a_goal_verb():
    """Notes drop "I needed to": the cue is the verb a goal opens on, with no subject."""
    assert "goal verb first" in named_cues("Protect downstream users and reduce breakages.")
    assert "goal verb first" in named_cues("get that under one week without adding mentors")
    assert "goal verb first" not in named_cues("Support tickets doubled in March.")  # a noun that opens
    assert "goal verb first" not in named_cues("Improve it, I told the team, and we did.")  # a subject


NOTES_STORY = ("Our onboarding took new engineers three weeks to ship a first change. "
               "Get that under one week without adding mentors. "
               "Wrote a setup script, a starter task list and a buddy rota. "
               "New hires shipped in four days on average.")


def test_a_task_written_as_a_bare_goal_is_found():
    """Task presence 0.30 and the goal read as Action before the cue (notes-style Task recall on
    held-out sources 0.44 -> 0.56, docs/star.md)."""
    report = check_text(NOTES_STORY, options=LEARNED)
    assert report.sentences[1].label == "task" and report.parts["task"].present


# --- a lesson as the users' notes phrase it --------------------------------------------------

LESSONS = [
    "If I did it again, I would test the image library on old phones before the release.",
    "If I had to do it over, I would stage the rollout by device.",
    "Looking back, I would have asked QA to test on older devices first.",
    "Going forward, I always stage a release by device class.",
]


@pytest.mark.parametrize("tagger", ["rules", "learned", "hybrid"])
@pytest.mark.parametrize("lesson", LESSONS, ids=["did-it-again", "do-it-over", "looking-back", "going-forward"])
def test_a_lesson_phrased_as_the_users_notes_phrase_it_is_found(lesson, tagger):
    """The first two read as Action or Result to the learned tagger (Learning presence 0.11 and
    0.06: the corpus has no lesson said that way), the second also to the rules."""
    report = check_text(f"{STORY} {lesson}", options=StarOptions(tagger=tagger))
    assert report.sentences[-1].label == "learning" and report.parts["learning"].present
    assert not report.not_a_story


# --- confidence and "unclear" ---------------------------------------------------------------

NO_RESULT = ("At my last company, our mobile app's crash rate doubled after a major release. "
             "I was responsible for getting the crash rate back under one percent. "
             "I grouped the crash reports by device and rolled the image library back.")


def test_every_part_has_a_confidence():
    report = check_text(STORY, options=LEARNED)
    for p in PARTS:
        assert 0.0 <= report.parts[p].confidence <= 1.0
    assert min(report.parts[p].confidence for p in ("situation", "task", "action", "result")) > 0.5


def test_unsure_parts_are_called_unclear_with_the_sentence_quoted():
    sure = check_text(NO_RESULT, options=StarOptions(tagger="learned", unclear_margin=0.0))
    assert "missing_result" in {f.code for f in sure.feedback}
    unsure = check_text(NO_RESULT, options=StarOptions(tagger="learned", unclear_margin=1.0))
    codes = {f.code for f in unsure.feedback}
    assert "unclear_result" in codes and "missing_result" not in codes
    note = next(f for f in unsure.feedback if f.code == "unclear_result")
    assert note.severity == "unclear" and len(note.sentences) == 1
    assert unsure.sentences[note.sentences[0]].text[:40] in note.message
    assert unsure.parts["result"].unclear and not unsure.parts["result"].present



# Written for these tests (2026-12-05), not from any corpus: a Result said only in a clause of an
# Action sentence, and a Result told first (the order model reads the opening as Situation).
RESULT_IN_A_CLAUSE = (
    "At my previous company, a client complained that our weekly reports were always late. "
    "I was asked to find out why and fix it. I traced the delay to a manual step where an analyst "
    "copied data between two spreadsheets, so I automated it with a small script and scheduled it to "
    "run every Monday morning. Reports went out on Monday at 9 am every week after that, and the client "
    "renewed their contract. Looking back, I would have asked the analyst about the manual steps much "
    "earlier, instead of assuming the delay was in the data pipeline.")
RESULT_FIRST = (
    "We cut our cloud bill by 40% in one quarter. I did that by going through every service we ran and "
    "shutting down the ones nobody used, and I moved our batch jobs to spot instances. This was at my "
    "last company, where the bill had doubled in a year without anyone noticing. My manager asked me to "
    "find savings before the budget review.")


@pytest.mark.parametrize("options", [StarOptions(), LEARNED], ids=["hybrid", "learned"])
def test_the_report_never_shows_a_part_and_calls_it_missing(options):
    """A part judged absent that some sentence's clause reads as is unclear, and that sentence
    is the one quoted; a part judged present is some sentence's label (the report can point
    to it), and one the answer-level model called present without is unclear. Both happened
    before: "(also result 33%)" beside "No Result", and a Result marked present with no
    sentence under it (see also test_a_part_no_sentence_reads_as_is_not_there)."""
    seen_clause = False
    one_line = "In production, our payment service response time spiked from 20ms to 8 seconds during peak traffic."
    clause = "Our builds took an hour. I rewrote the parser, which cut load time 40%."
    for text in (RESULT_IN_A_CLAUSE, RESULT_FIRST, STORY, NO_RESULT, SHORT_COMPLETE, one_line, clause):
        report = check_text(text, options=options)
        codes = {f.code: f for f in report.feedback}
        for p in PARTS:
            part = report.parts[p]
            assert not part.present or part.sentences, (p, text[:30])
            carriers = [i for i, s in enumerate(report.sentences) if p in dict(s.parts) and s.label != p]
            if carriers and not part.present:
                seen_clause = True
                note = codes[f"unclear_{p}"]
                assert part.unclear and f"missing_{p}" not in codes and note.sentences == (carriers[0],)
                assert " ".join(report.sentences[carriers[0]].text.split()[:6]) in note.message
            if not part.present and part.confidence >= 0.5:  # the answer-level model's "yes", no sentence
                assert part.unclear and f"unclear_{p}" in codes
    assert seen_clause



def test_a_quoted_sentence_is_cut_between_words():
    from starcoach.analysis.star_coach import _quote

    quoted = _quote("the client renewed their contract " * 5)
    inner = quoted.strip("\u201c\u201d")
    assert inner.endswith("…") and len(inner) <= 91
    assert set(inner[:-1].split()) <= {"the", "client", "renewed", "their", "contract"}
    # a cut that falls just after a whole word keeps it
    assert _quote("a" * 85 + " bcde fgh").strip("\u201c\u201d") == "a" * 85 + " bcde…"


# --- short complete answers ------------------------------------------------------------------

SHORT_COMPLETE = ("Our support queue had grown to 400 open tickets. My job was to bring it under 50 in a month. "
                  "I sorted the tickets by cause and wrote fixes for the three most common ones. "
                  "The queue fell to 35 in three weeks.")


def test_a_short_complete_answer_keeps_a_part_its_sentence_clearly_shows():
    """One sentence per part. Trained on the corpus's long parts alone, the presence stage read
    one Action-like sentence as what a copy without its Action looks like and judged Action
    absent; it now also learns from shortened copies (docs/star.md)."""
    report = check_text(SHORT_COMPLETE, options=LEARNED)
    action = report.sentences[2]
    assert action.probabilities[PARTS.index("action")] > 0.9  # the sentence stage reads it right...
    assert report.parts["action"].present and action.label == "action"  # ...the presence stage agrees
    assert [s.label for s in report.sentences] == ["situation", "task", "action", "result"]
    assert not report.parts["learning"].present


# --- numbers said as words ------------------------------------------------------------------

def test_numbers_said_as_words_read_like_figures():
    """Whisper writes most small numbers as words; the written corpus uses figures. Both fold to
    one ``#num`` ("four hundred" is one number), so a spoken outcome carries the same cues."""
    assert tokens("fell from four a quarter to zero") == tokens("fell from 4 a quarter to 0")
    assert tokens("about three hundred orders in twenty-five days") == tokens("about 300 orders in 25 days")
    assert tokens("a two-week sprint") == tokens("a 2-week sprint")
    assert "comparison" in named_cues("Breakages fell from four a quarter to zero.")
    assert tokens("no one noticed") == ("no", "one", "noticed")  # "one" stays a word


WORDS = ("Our support queue kept growing after the spring launch. I needed to get it under control. "
         "I sorted the open tickets by cause and fixed the two most common ones myself. "
         "I also wrote a short guide for the support team. "
         "tickets older than a week went from three hundred to twelve in two months.")
FIGURES = WORDS.replace("the two most", "the 2 most").replace("three hundred to twelve in two", "300 to 12 in 2")


@pytest.mark.parametrize("tagger", ["rules", "learned", "hybrid"])
def test_an_outcome_said_with_number_words_reads_like_its_figures(tagger):
    """Whisper writes "three hundred" in one take and "300" in the next. With number words the
    last sentence read as Action in both taggers (learned: Result presence 0.41 against 0.78),
    when only figures, and for the rules the words up to ten, counted as numbers."""
    options = StarOptions(tagger=tagger)
    said, written = check_text(WORDS, options=options), check_text(FIGURES, options=options)
    assert _labels(said) == _labels(written) and _labels(said)[-1] == "result"
    assert said.parts["result"].present and said.parts["result"].confidence == written.parts["result"].confidence


# --- two parts in one sentence --------------------------------------------------------------

TWO_PART = ("Our reporting service crashed every month end. I had to make it survive the close. "
            "I rewrote the ledger query to stream rows, which cut memory use by 80 percent.")


def test_a_sentence_read_as_one_part_reports_both_parts_of_its_clauses():
    """The two-part report itself: a sentence labelled Action whose clauses read as Action
    and Result reports both, with their word shares."""
    model = load_model()
    texts = [seg.text for seg in split_text(TWO_PART)]
    probs = model.sentence_probs(texts)
    parts = _two_parts(model, texts, ("situation", "task", "action"), probs, LEARNED)[2]
    assert [p for p, _ in parts] == ["action", "result"]
    assert abs(sum(share for _, share in parts) - 1.0) < 1e-6


def test_a_sentence_can_carry_action_and_result():
    """A strict xfail until the neighbours' weight went from 1.0 to 0.5 (docs/star.md): the
    presence stage had judged Action and Result both absent here and labelled the last
    sentence Task."""
    last = check_text(TWO_PART, options=LEARNED).sentences[-1]
    parts = dict(last.parts)
    assert set(parts) == {"action", "result"}
    assert abs(sum(parts.values()) - 1.0) < 1e-6


# --- the JSON document ------------------------------------------------------------------------

def test_json_fields_added():
    doc = check_document(check_text(STORY, options=LEARNED), "story.txt")["star"]
    assert doc["not_a_story"] is False
    for p in PARTS:
        assert {"present", "sentences", "share_words", "share_time", "confidence", "unclear"} <= set(doc[p])
    for s in doc["sentences"]:
        assert set(s["probabilities"]) == set(PARTS)
        assert abs(sum(s["probabilities"].values()) - 1.0) < 0.01
        assert s["parts"] and s["parts"][0]["part"] in PARTS and s["parts"][0]["probability"] is not None
        assert {"text", "label", "start", "end", "cues", "hypothetical"} <= set(s)
    json.dumps(doc)


# --- the weights -----------------------------------------------------------------------------------

def test_weights_are_small_and_rewrite_bit_for_bit(tmp_path):
    assert WEIGHTS.stat().st_size < 5_000_000
    model = load_model()
    save_model(model, tmp_path / "a.npz")
    save_model(load_model(tmp_path / "a.npz"), tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    again = load_model(tmp_path / "a.npz")
    assert np.array_equal(again.weights, model.weights) and np.array_equal(again.thresholds, model.thresholds)
    assert model.presence_w is not None and np.array_equal(again.presence_w, model.presence_w)
    assert again.presence_b is not None and np.array_equal(again.presence_b, model.presence_b)
    assert again.free_order == model.free_order > 0
    import dataclasses

    save_model(dataclasses.replace(model, free_order=1.5), tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="free_order"):
        load_model(tmp_path / "bad.npz")
    assert model.meta["validation"], "the shipped model carries its leave-one-source-out figures"


def test_the_order_model_mixes_the_counted_order_with_none():
    """Posteriors are the two components' posteriors weighted by prior weight times
    likelihood: no free weight gives the counted order alone; all of it gives each sentence's
    own probabilities (divided by the class shares), whatever the order."""
    import dataclasses

    model = load_model()
    assert 0.0 < model.free_order < 0.5
    probs = model.sentence_probs([s.text for s in split_text(RESULT_FIRST)])
    counted = dataclasses.replace(model, free_order=0.0).posteriors(probs)
    none = dataclasses.replace(model, free_order=1.0 - 1e-12).posteriors(probs)
    own = probs / model.prior
    assert np.allclose(none, own / own.sum(axis=1, keepdims=True), atol=1e-6)
    mixed = model.posteriors(probs)
    assert np.allclose(mixed.sum(axis=1), 1.0)
    # each sentence's posterior lies between the components' (one weight for the whole answer)
    w = (mixed - none) / np.where(np.abs(counted - none) > 1e-9, counted - none, np.nan)
    assert np.nanmax(w) - np.nanmin(w) < 1e-6
    # the counted order reads the opening result as a Situation; the mixture gives its Result reading
    # far more weight (session 35's weights made it the Result; session 36's leave it a Situation,
    # 0.68 against 0.26: docs/star.md, "Session 36")
    result = PARTS.index("result")
    assert PARTS[int(counted[0].argmax())] == "situation" and mixed[0, result] > 5 * counted[0, result]


def test_presence_is_decided_over_the_whole_answer():
    model = load_model()
    texts = [s.text for s in check_text(STORY, options=LEARNED).sentences]
    probs = model.sentence_probs(texts)
    post = model.posteriors(probs)
    features = presence_features(probs, post)
    assert features.shape == (model.presence_w.shape[0],) and np.isfinite(features).all()
    p = presence(model, probs, post)
    assert ((0.0 <= p) & (p <= 1.0)).all()
    assert np.array_equal(p, presence(model, probs, post))
    report = check_text(STORY, options=LEARNED)
    assert [report.parts[q].confidence for q in PARTS] == [round(float(x), 3) for x in p]


@pytest.mark.parametrize("text", [
    # notes without an Action, whose Result is most of the answer: no sentence reads as a lesson
    "Our delivery dashboard showed the carrier at 95% on time, but the carrier claimed 98%. Find the source of "
    "truth and fix the gap. The numbers now match the carrier's within 0.2%. Users can see both promise dates "
    "side by side. No more disputes with the carrier.",
    "Releases broke the reporting pipeline twice a month. Keep downstream users safe while the app team kept "
    "shipping. Breakages fell from four a quarter to none. Runtime variance dropped 35% and on-call pages fell "
    "60%. Three other teams adopted the playbook.",
])
@pytest.mark.parametrize("tagger", ["learned", "hybrid"])
def test_an_answer_whose_result_is_most_of_it_has_no_lesson(text, tagger):
    """Session 34's weights called a lesson in these from the story-level summaries alone (Learning's
    weight on the mean Result probability), with no sentence reading as one; the floor and the
    rule that a present part needs a sentence kept it out (below). Not even unclear."""
    for floor in (StarOptions.presence_floor, 0.0):
        report = check_text(text, options=StarOptions(tagger=tagger, presence_floor=floor))
        assert not report.parts["learning"].present and not report.parts["learning"].unclear
        assert report.parts["result"].present


def _with_sentence_probs(probs: list[list[float]], forced: tuple[str, ...]):
    """The shipped model, but every answer's sentences read with these probabilities and the
    ``forced`` parts called present by the story-level model (their intercepts raised by 50)."""
    import dataclasses

    from starcoach.analysis.star_tagger import TaggerModel

    class Fixed(TaggerModel):
        def sentence_probs(self, texts, hints=None):
            return np.array(probs)

    model = load_model()
    bias = model.presence_b.copy()
    bias[[PARTS.index(p) for p in forced]] += 50.0
    return Fixed(**{f.name: getattr(model, f.name) for f in dataclasses.fields(model)} | {"presence_b": bias})


def test_the_floor_keeps_out_a_part_the_answer_level_model_calls_but_no_sentence_reads_as():
    """``[star] presence_floor``: a part the story-level model calls present (here forced, for
    Learning) is absent when no sentence reads as it with the floor's probability, and its
    confidence is that best sentence's; without the floor it would take a sentence."""
    from starcoach.analysis.star_tagger import tag

    fixed = _with_sentence_probs([[0.70, 0.10, 0.15, 0.03, 0.02], [0.05, 0.05, 0.85, 0.03, 0.02],
                                  [0.05, 0.05, 0.80, 0.08, 0.02], [0.05, 0.03, 0.10, 0.80, 0.02],
                                  [0.05, 0.03, 0.05, 0.85, 0.02]], forced=("learning",))
    lesson = PARTS.index("learning")
    texts = ["Our import failed.", "I rewrote the parser.", "I added a retry.", "Imports now take ten minutes.",
             "Nobody waits for them now."]
    assert presence(fixed, fixed.sentence_probs(texts), fixed.posteriors(fixed.sentence_probs(texts)))[lesson] > 0.99
    floored = tag(fixed, texts)
    assert not floored.present["learning"] and floored.confidence["learning"] == pytest.approx(0.02)
    assert floored.labels == ("situation", "action", "action", "result", "result")
    loose = tag(fixed, texts, floor=0.0)
    assert loose.present["learning"] and "learning" in loose.labels


def test_parts_judged_present_claim_a_sentence_strongest_first():
    """Situation and Result judged present (here forced), both sentences reading best as Action:
    the second sentence reads more as Result (0.37) than as Situation (0.28), so it is the
    Result's, and the Situation, left without a sentence, is not reported. Claimed in the parts'
    order, Situation took it and the Result was dropped (session 35's strict xfail)."""
    from starcoach.analysis.star_tagger import tag

    fixed = _with_sentence_probs([[0.06, 0.01, 0.88, 0.05, 0.00], [0.28, 0.03, 0.31, 0.37, 0.01]],
                                 forced=("situation", "result"))
    t = tag(fixed, ["We added a load test.", "We lost no orders that weekend."])
    assert t.labels == ("action", "result")
    assert t.present["result"] and not t.present["situation"]


def test_every_part_judged_present_has_a_sentence_that_reads_as_it():
    from starcoach.analysis.star_tagger import PRESENCE_FLOOR, tag

    model = load_model()
    for path in sorted(EXTRA.glob("*.*")):
        if path.name == "expected.json":
            continue
        texts = [s.text for s in split_text(path.read_text())]
        t = tag(model, texts)
        for k, part in enumerate(PARTS):
            if t.present[part] and len(texts) > 1:
                assert t.probs[:, k].max() >= PRESENCE_FLOOR, (path.name, part)
            if t.probs[:, k].max() < PRESENCE_FLOOR:
                assert t.confidence[part] <= t.probs[:, k].max() + 1e-9, (path.name, part)


# --- answers written for this project (never trained or tuned on) ---------------------------------

def test_own_answers_figure():
    expected = json.loads((EXTRA / "expected.json").read_text())["files"]
    right = judged = flags = 0
    for name, want in expected.items():
        report = check_text((EXTRA / name).read_text(), options=LEARNED)
        flags += report.not_a_story == want["not_a_story"]
        if want["parts"] is not None:
            right += sum(report.parts[p].present == want["parts"][p] for p in PARTS)
            judged += len(PARTS)
    # Measured with the committed weights: 50/60 = 0.833 (docs/star.md; 52/60 before the presence model);
    # the bound guards against regressions.
    assert right / judged >= 0.82
    assert flags == len(expected)


def test_the_action_s_voice_is_judged_by_who_did_it_not_by_our_and_us():
    """A check audit: "our" and "us" counted as "we", so an Action whose every step begins "I"
    ("I asked our platform team to give us…") was told to stop saying "we"."""
    mine = ("At my last company our release process took a full day and often broke. My manager asked me to make "
            "releases safe enough to do daily. I asked our platform team to give us a staging cluster, and I wrote "
            "our deployment checklist into a script that our on-call engineers could run. I also showed our team "
            "how to roll back in one command. Releases now take 20 minutes and we ship every day.")
    report = check_text(mine)
    assert "action_we" not in {f.code for f in report.feedback}
    team = ("Our checkout failed every Friday. We had to fix it before the sale. We rewrote the retry logic and "
            "we added a queue, and we load-tested it twice. Errors fell 90 percent.")
    assert "action_we" in {f.code for f in check_text(team).feedback}


def test_a_year_or_a_quarter_is_no_number_in_the_result():
    """A check audit: "By Q4 2022 the team was much calmer" was praised as a quantified Result."""
    story = ("At my last company in 2021, our support team was overwhelmed by repeated questions about billing. "
             "I was asked to reduce the load on the team. I wrote a set of help articles for the most common "
             "questions and added a link to them in the billing emails. I also trained the support agents to point "
             "customers to the articles. By Q4 2022 the team was much calmer and customers were happier.")
    report = check_text(story)
    assert report.parts["result"].present
    assert "result_no_number" in {f.code for f in report.feedback}
    assert "result_no_number" in {f.code for f in check_text(story.replace("By Q4 2022", "By mid-2022")).feedback}
    counted = check_text(story.replace("much calmer", "handling 40% fewer tickets"))
    assert "result_no_number" not in {f.code for f in counted.feedback}
    assert "The Result is quantified." in counted.strengths


def test_the_notes_are_english_whatever_the_counts():
    """A check audit: "we" 1 times, "I" 0 times."""
    from starcoach.analysis.star_coach import _times

    assert [_times(n) for n in (0, 1, 2, 5)] == ["not once", "once", "twice", "5 times"]
    team = ("Our checkout failed every Friday. We had to fix it before the sale. We rewrote the retry logic and "
            "we added a queue. Errors fell 90 percent.")
    said = " ".join(f.message for f in check_text(team).feedback)
    assert " 1 times" not in said and " 0 times" not in said


def test_the_order_is_praised_only_when_it_was_checked():
    """A check audit: "All four STAR parts are there, in a clear order." was said of any answer with
    all four parts; no order was ever looked at."""
    shuffled = ("Situation: last year our checkout service timed out during every big sale.\n"
                "Action: I profiled the slowest request, added the missing index and moved the report job off "
                "the primary.\nTask: as the on-call engineer my job was to find the cause before the holiday "
                "launch.\nResult: checkout errors fell 90 percent and we lost no orders on Black Friday.\n")
    report = check_text(shuffled, options=StarOptions(tagger="rules"))  # the rules follow the labels
    assert "All four STAR parts are there." in report.strengths, report.strengths
    in_order = shuffled.split("\n")
    in_order[1], in_order[2] = in_order[2], in_order[1]
    report = check_text("\n".join(in_order), options=StarOptions(tagger="rules"))
    assert "All four STAR parts are there, in a clear order." in report.strengths, report.strengths
