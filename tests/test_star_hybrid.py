"""The default STAR checker, ``tagger = "hybrid"``: the learned tagger decides, and the rules
settle only the parts it is unsure of (confidence within ``unclear_margin`` of the threshold):
their "present" seconds Situation, Task, Result and Learning; their "absent" vetoes Action,
which they find in any "I + past verb". Chosen leave-one-source-out on the corpus; docs/star.md."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from starcoach.analysis import star_learned
from starcoach.analysis.star import PARTS, StarOptions, check_spoken, check_text
from starcoach.analysis.star_learned import SECONDED, rules_opinion
from starcoach.analysis.star_tagger import SecondOpinion, load_model, tag
from starcoach.domain.transcript import Word

LEARNED, HYBRID, RULES = (StarOptions(tagger=t) for t in ("learned", "hybrid", "rules"))
EXTRA = Path(__file__).parent / "data" / "star_extra"


def _present(report) -> dict[str, bool]:
    return {p: report.parts[p].present for p in PARTS}


def _unsure(monkeypatch, text: str, part: str, confidence: float) -> None:
    """Use the shipped model with ``part``'s presence intercept moved so that the tagger gives
    ``text`` that confidence. These tests are about what the hybrid does with the tagger's
    unsure band; which answers fall in it moves with every retraining (session 36's weights are
    sure of the answers these tests used to find there)."""
    model = load_model()
    now = check_text(text, options=LEARNED).parts[part].confidence
    bias = model.presence_b.copy()
    bias[PARTS.index(part)] += np.log(confidence / (1 - confidence)) - np.log(now / (1 - now))
    monkeypatch.setattr(star_learned, "load_model", lambda: dataclasses.replace(model, presence_b=bias))
    assert check_text(text, options=LEARNED).parts[part].confidence == pytest.approx(confidence, abs=0.01)


def test_hybrid_is_the_default():
    assert StarOptions().tagger == "hybrid"
    text = (EXTRA / "01-written-warehouse.txt").read_text()
    assert _present(check_text(text)) == _present(check_text(text, options=HYBRID))


@pytest.mark.parametrize("name, part", [("01-written-warehouse.txt", "result"), ("12-notes-terse.txt", "task")])
def test_an_unclear_part_the_rules_find_is_present(name, part, monkeypatch):
    text = (EXTRA / name).read_text()
    _unsure(monkeypatch, text, part, 0.4)
    learned, hybrid, rules = (check_text(text, options=o) for o in (LEARNED, HYBRID, RULES))
    assert learned.parts[part].unclear and not learned.parts[part].present  # the tagger is unsure...
    assert rules.parts[part].present  # ...the rules find it...
    assert hybrid.parts[part].present and not hybrid.parts[part].unclear  # ...so it is there
    assert hybrid.parts[part].confidence == learned.parts[part].confidence  # the tagger's own figure
    assert any(s.label == part for s in hybrid.sentences)  # and a sentence shows it
    assert {p: v for p, v in _present(hybrid).items() if p != part} == \
        {p: v for p, v in _present(learned).items() if p != part}


def test_the_rules_do_not_overrule_a_sure_tagger(monkeypatch):
    # Result: the tagger is sure it is absent (0.15, under the unclear band); the rules find it.
    text = (EXTRA / "13-spoken-punctuated.txt").read_text()
    _unsure(monkeypatch, text, "result", 0.15)
    learned, hybrid = check_text(text, options=LEARNED), check_text(text, options=HYBRID)
    assert check_text(text, options=RULES).parts["result"].present
    assert learned.parts["result"].confidence < 0.5 - HYBRID.unclear_margin
    assert not hybrid.parts["result"].present
    # Action is never seconded: here it is unclear to the tagger (no sentence does anything) and
    # the rules call "Failed releases dropped from 6 a month to 1." Action.
    no_action = ("Our deploys failed every Friday. I needed to make releases safe. "
                 "Failed releases dropped from 6 a month to 1.")
    _unsure(monkeypatch, no_action, "action", 0.4)
    learned, hybrid = check_text(no_action, options=LEARNED), check_text(no_action, options=HYBRID)
    assert check_text(no_action, options=RULES).parts["action"].present
    assert learned.parts["action"].unclear and not hybrid.parts["action"].present
    assert "action" not in SECONDED


def test_the_second_opinion_is_asked_only_when_a_part_it_may_second_is_unsure():
    model = load_model()
    # two Action sentences: a part the opinion seconds can take one of them (a present part
    # needs a sentence labelled with it)
    texts = ["Our support queue had grown to 400 open tickets.", "My job was to bring it under 50 in a month.",
             "I sorted the tickets by cause and wrote fixes for the three most common ones.",
             "I also wrote a short guide for the support team.", "The queue fell to 35 in three weeks."]
    asked = []

    def opinion(found):
        def labels(t):
            asked.append(list(t))
            return [sorted(found)[0] if found else "situation"] * len(t)
        return labels

    plain = tag(model, texts)
    absent = [p for p in PARTS if not plain.present[p]]
    assert absent == ["learning"]
    # A margin short of the absent part's distance from the threshold: nothing unsure, nothing asked.
    short = 0.5 - plain.confidence["learning"] - 0.01
    same = tag(model, texts, second=SecondOpinion(frozenset(PARTS), short, opinion(PARTS)))
    assert asked == [] and same.present == plain.present
    # Every absent part unsure (margin 1): asked once, with the sentences; only what it finds and may second.
    assert tag(model, texts, second=SecondOpinion(frozenset(PARTS), 1.0, opinion(set()))).present == plain.present
    assert asked == [texts]
    seconded = tag(model, texts, second=SecondOpinion(frozenset(PARTS), 1.0, opinion({"learning"})))
    assert seconded.present["learning"] and seconded.confidence == plain.confidence
    only_task = SecondOpinion(frozenset({"task"}), 1.0, opinion({"learning"}))
    assert not tag(model, texts, second=only_task).present["learning"]


def test_a_veto_removes_an_unsure_part_the_opinion_does_not_find():
    model = load_model()
    texts = ["Our support queue had grown to 400 open tickets.", "My job was to bring it under 50 in a month.",
             "I sorted the tickets by cause and wrote fixes for the three most common ones.",
             "The queue fell to 35 in three weeks."]
    plain = tag(model, texts)
    assert plain.present["action"]

    def finds(found):
        return lambda sentences: [sorted(found)[0] if found else "situation"] * len(sentences)

    vetoed = tag(model, texts, second=SecondOpinion(frozenset(), 1.0, finds(set()), vetoes=frozenset({"action"})))
    assert not vetoed.present["action"] and "action" not in vetoed.labels
    assert vetoed.confidence == plain.confidence
    kept = tag(model, texts, second=SecondOpinion(frozenset(), 1.0, finds({"action"}), vetoes=frozenset({"action"})))
    assert kept.present == plain.present
    # Outside the margin the tagger is sure: no veto.
    short = plain.confidence["action"] - 0.5 - 0.01
    sure = tag(model, texts, second=SecondOpinion(frozenset(), short, finds(set()), vetoes=frozenset({"action"})))
    assert sure.present == plain.present


def test_an_unsure_action_the_rules_do_not_find_is_unclear(monkeypatch):
    text = ("At my last job the support queue had 400 open tickets. A canary stage got added to the pipeline. "
            "It worked.")
    _unsure(monkeypatch, text, "action", 0.6)
    learned, hybrid = check_text(text, options=LEARNED), check_text(text, options=HYBRID)
    assert not check_text(text, options=RULES).parts["action"].present  # nobody said "I did"
    assert learned.parts["action"].present and learned.parts["action"].confidence < 0.5 + HYBRID.unclear_margin
    assert not hybrid.parts["action"].present and hybrid.parts["action"].unclear
    assert "unclear_action" in {f.code for f in hybrid.feedback}


def test_a_part_judged_present_takes_the_sentence_it_reads_as_before_a_weaker_claim():
    """With session 35's weights Situation (0.71) and Result (0.51) were both judged present and
    neither was a sentence's first choice (both read as Action); the second sentence reads more
    as Result than as Situation, yet Situation, claiming first in the parts' order, took it and
    the Result was dropped. Claims now go strongest first. Session 36's weights no longer call
    Situation here; test_star_tagger's test_parts_judged_present_claim_a_sentence_strongest_first
    keeps the case with fixed sentence probabilities. (Six words that name things: `check` judges no
    part in so short an answer, so the labeller is asked here without that rule.)"""
    from starcoach.analysis.star_learned import check_text_learned

    report = check_text_learned("We added a load test. We lost no orders that weekend.", options=HYBRID)
    assert report.parts["result"].present and report.parts["result"].sentences == (1,)
    assert report.sentences[1].label == "result" and not report.parts["situation"].present


def test_the_rules_read_the_writers_labels_too(monkeypatch):
    text = ("Situation: our deploys failed every Friday.\nAction: rewrote the deploy script, added a canary stage.\n"
            "Result: it worked.\nLesson: test the rollback first.")
    _unsure(monkeypatch, text, "result", 0.4)
    learned, hybrid = check_text(text, options=LEARNED), check_text(text, options=HYBRID)
    assert learned.parts["result"].unclear  # the tagger is unsure of "it worked."...
    assert hybrid.parts["result"].present and hybrid.sentences[2].label == "result"  # ...the label settles it


def test_no_note_on_the_content_of_a_part_with_no_sentence():
    """The coach judges a part's content only by its sentences ("The Result has no number" was
    once said of a Result with two, judged present with no sentence of its own). The tagger
    no longer reports such a part present; the notes must not rely on it."""
    import dataclasses

    from starcoach.analysis.star_coach import coach

    report = check_text((EXTRA / "10-no-action.txt").read_text())
    assert report.parts["result"].present and report.parts["result"].sentences
    parts = dict(report.parts)
    parts["result"] = dataclasses.replace(parts["result"], sentences=())
    parts["learning"] = dataclasses.replace(parts["learning"], present=True, sentences=())
    feedback, strengths, _, _ = coach(report.sentences, parts, False, None, HYBRID)
    assert "result_no_number" not in {f.code for f in feedback}
    assert "The Result is quantified." not in strengths and "It ends with a lesson learned." not in strengths


def test_a_lesson_is_said_to_end_the_answer_only_where_it_does():
    """An audit: "It ends with a lesson learned." was said of a lesson told first."""
    import dataclasses

    from starcoach.analysis.star_coach import coach

    report = check_text((EXTRA / "10-no-action.txt").read_text())
    last = len(report.sentences) - 1
    parts = dict(report.parts)
    taken = {i for p in PARTS for i in parts[p].sentences}
    for where, says in ((last, "It ends with a lesson learned."), (0, "It draws a lesson.")):
        others = {p: dataclasses.replace(parts[p], sentences=tuple(i for i in parts[p].sentences if i != where))
                  for p in PARTS[:4]}
        lesson = dataclasses.replace(parts["learning"], present=True, sentences=(where,))
        _, strengths, _, _ = coach(report.sentences, {**others, "learning": lesson}, False, None, HYBRID)
        assert says in strengths and {s for s in strengths if "lesson" in s} == {says}, (where, strengths)
    assert {0, last} <= taken and last > 0  # both sentences belong to a part: one that comes after is left


def test_the_rules_second_four_parts_and_may_only_veto_action():
    opinion = rules_opinion(0.2)
    assert opinion.parts == frozenset(PARTS) - {"action"} and opinion.vetoes == {"action"}
    assert opinion.margin == 0.2
    assert opinion.labels(["I rewrote the deploy script."]) == ["action"]


def test_spoken_answers_use_it_too():
    text = (EXTRA / "12-notes-terse.txt").read_text()
    words = [Word(w, 0.4 * k, 0.4 * k + 0.3) for k, w in enumerate(text.split())]
    assert _present(check_spoken(words, duration_s=0.4 * len(words))) == \
        _present(check_spoken(words, duration_s=0.4 * len(words), options=HYBRID))
    assert check_spoken(words, duration_s=0.4 * len(words), options=HYBRID).parts["task"].present


def test_answers_written_for_this_project():
    """Measured with the committed weights (docs/star.md): hybrid 57/60 (0.950), learned 53/60,
    rules 55/60; the bound guards against regressions."""
    expected = json.loads((EXTRA / "expected.json").read_text())["files"]
    right = {"hybrid": 0, "learned": 0}
    judged = 0
    for name, want in expected.items():
        if want["parts"] is None:
            continue
        text = (EXTRA / name).read_text()
        for tagger in right:
            report = check_text(text, options=StarOptions(tagger=tagger))
            right[tagger] += sum(report.parts[p].present == want["parts"][p] for p in PARTS)
        judged += len(PARTS)
    assert right["hybrid"] / judged >= 0.93 and right["hybrid"] > right["learned"]


def test_a_plain_outcome_after_a_one_sentence_action_is_the_result():
    """A known defect until session 35: the tagger read the outcome as Action with Result at
    0.24, under the band the rules settle. With the presence stage balanced per part it is 0.33
    (the tagger alone still calls it absent), and the rules second it (docs/star.md)."""
    report = check_text("Our release pipeline failed every Friday. My task was to fix it. "
                        "I rewrote the deploy script and added a canary stage. "
                        "Failed releases dropped from 6 a month to 1. Looking back, I would add the canary first.")
    assert report.parts["result"].present
