"""The training data helpers of ``training/star_data.py`` that need no corpus: the shortened
copies both stages of the tagger also learn from; the notes-style rendering; and the figures
``training/eval_star.py --answers`` prints for labelled answers of one's own."""

import hashlib
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "training"))

import pytest  # noqa: E402
from eval_star import FLOOR, score_answers  # noqa: E402
from star_data import (SHORT_MAX, NotesRendering, Story, clip_note, render_notes, shortened,  # noqa: E402
                       story_from_record)

PARTS_IN_ORDER = ["situation"] * 3 + ["task"] * 2 + ["action"] * 7 + ["result"] * 4 + ["situation"]
STORY = Story("s1", "repo",
              tuple((f"sentence {k}.", "learning" if k == 15 else p) for k, p in enumerate(PARTS_IN_ORDER)),
              tuple(PARTS_IN_ORDER))


def _runs(authored):
    out = []
    for a in authored:
        if not out or out[-1][0] != a:
            out.append([a, 0])
        out[-1][1] += 1
    return [tuple(r) for r in out]


def test_every_run_of_a_part_keeps_one_to_max_consecutive_sentences_in_order():
    for draw in range(20):
        short = shortened(STORY, draw)
        runs = _runs(short.authored)
        assert [p for p, _ in runs] == [p for p, _ in _runs(STORY.authored)]  # no part lost, order kept
        assert all(1 <= n <= SHORT_MAX[p] for p, n in runs)
        index = [STORY.segments.index(seg) for seg in short.segments]  # (text, label) pairs of the original
        assert index == sorted(index)
        start = 0
        for _, n in runs:  # each run is a consecutive stretch of the original
            assert index[start:start + n] == list(range(index[start], index[start] + n))
            start += n


def test_draws_are_reproducible_and_differ():
    assert shortened(STORY, 0) == shortened(STORY, 0)
    assert len({shortened(STORY, d).segments for d in range(6)}) > 1
    assert shortened(STORY, 0).id != shortened(STORY, 2).id


def _record(rid, parts):
    return {"id": rid, "source": {"repo": "site"}, "parts": [{"label": p, "text": f"{p} sentence one."} for p in parts]}


ALWAYS = NotesRendering("always", 1.0, 1.0, 0)
NEVER = NotesRendering("never", 0.0, 0.0, 0)


@pytest.mark.parametrize("sentence, note", [
    ("I needed to cut the release time without adding staff.", "Cut the release time without adding staff."),
    ("My main task was to rebuild trust with the client.", "Rebuild trust with the client."),
    ("As the team lead, I was tasked with reducing churn by a fifth.", "Reducing churn by a fifth."),
    ("Our goal was to ship before the audit.", "Ship before the audit."),
    ("I mapped lineage for 8 critical tables.", "Mapped lineage for 8 critical tables."),
    ("So we rolled the change out in three waves.", "Rolled the change out in three waves."),
])
def test_a_note_drops_the_goal_lead_in_or_the_subject(sentence, note):
    assert clip_note(sentence, ALWAYS, random.Random(0)) == note
    assert clip_note(sentence, NEVER, random.Random(0)) == sentence


@pytest.mark.parametrize("sentence", [
    "I was the only engineer on call that week.",  # a state, not an action: the subject stays
    "We had two weeks left.",
    "The release shipped two weeks early.",
    "I had two weeks and no budget.",
])
def test_sentences_a_note_would_not_clip_are_kept(sentence):
    assert clip_note(sentence, ALWAYS, random.Random(0)) == sentence


def test_the_notes_rendering_keeps_labels_and_clips_about_its_rate():
    story = Story("n1", "repo", tuple((f"I fixed bug number {k}.", "action") for k in range(400)),
                  ("action",) * 400)
    half = render_notes(story, NotesRendering("half", 0.5, 0.5, 0), random.Random(7))
    assert [lab for _, lab in half] == ["action"] * 400
    clipped = sum(text.startswith("Fixed") for text, _ in half)
    assert 150 < clipped < 250
    assert render_notes(story, NotesRendering("half", 0.5, 0.5, 0), random.Random(7)) == half


def test_answer_figures_count_each_copy_and_score_the_constant_answer_as_the_floor():
    stories = [story_from_record(_record("a", ["situation", "task", "action", "result"])),
               story_from_record(_record("b", ["situation", "other", "action", "result", "learning"]))]
    constant = score_answers(stories, lambda copy: dict(FLOOR))
    # a: whole and four copies each without one part; b has no Task, so whole and three copies
    assert constant["copies"] == 9 and constant["answers"] == 2
    # a: 5/5 whole, 4/5 in each copy; b (Task absent, a lesson): 3/5 whole, 2/5 in each copy
    assert constant["part_accuracy"] == constant["floor_accuracy"] == pytest.approx((5 + 4 * 4 + 3 + 3 * 2) / 45,
                                                                                     abs=1e-3)
    assert constant["part_accuracy_whole"] == pytest.approx(8 / 10)
    assert constant["all_five"] == pytest.approx(1 / 9, abs=1e-3)
    assert [constant[f"missing_{p}"] for p in ("situation", "task", "action", "result")] == [0.0] * 4

    def truth(copy):
        return {p: any(label == p for _, label in copy.segments) for p in FLOOR}
    perfect = score_answers(stories, truth)
    assert perfect["part_accuracy"] == perfect["all_five"] == 1.0
    assert [perfect[f"missing_{p}"] for p in ("situation", "task", "action", "result")] == [1.0] * 4


def test_eval_star_scores_an_answers_file_with_every_tagger(tmp_path, capsys):
    from eval_star import main

    answers = tmp_path / "answers.jsonl"
    answers.write_text("\n".join(json.dumps(r) for r in (
        {"id": "p1", "source": {"repo": "site-a"}, "parts": [
            {"label": "situation", "text": "Our support queue had grown to 400 open tickets."},
            {"label": "task", "text": "My job was to bring it under 50 within a month."},
            {"label": "action", "text": "I sorted the tickets by cause and wrote fixes for the three most common ones."},
            {"label": "result", "text": "The queue fell to 35 in three weeks."}]},
        {"id": "p2", "source": {"repo": "site-b"}, "parts": [
            {"label": "situation", "text": "Our nightly build broke twice a week."},
            {"label": "action", "text": "I added a check that runs every change against a clean machine."},
            {"label": "result", "text": "Broken builds stopped for the rest of the quarter."}]})) + "\n")
    assert main(["--answers", str(answers)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("answers.jsonl")]
    assert len(lines) == 6  # written and transcript-style, for each of the three taggers
    for line in lines:
        assert "(2 answers, 9 copies)" in line  # p1 whole + 4 removed, p2 whole + 3 removed
        accuracy = float(line.split("part accuracy ")[1].split()[0])
        floor = float(line.split("(floor ")[1].split(")")[0])
        # the floor: p1 5/5 whole, 4/5 per copy; p2 (no Task) 4/5 whole, 3/5 per copy
        assert 0.0 <= accuracy <= 1.0 and floor == pytest.approx((5 + 4 * 4 + 4 + 3 * 3) / 45, abs=1e-3)


def test_the_presence_fit_balances_each_part_by_its_own_power():
    """``class_power`` per part: each part's model is the one the single power would give it
    (1 = present and absent copies weigh the same in all; less leans to the more common side)."""
    import numpy as np
    from train_star import K, fit_presence

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 6 * K + 1))
    Y = (X[:, :K] + rng.normal(size=(400, K)) > -0.8)  # mostly present, as the parts are
    scored = list(zip(X, Y))
    mixed_w, mixed_b = fit_presence(scored, l2=1e-2, class_power=(0.75, 1.0, 1.0, 0.75, 0.75))
    for power, parts in ((0.75, (0, 3, 4)), (1.0, (1, 2))):
        w, b = fit_presence(scored, l2=1e-2, class_power=power)
        for p in parts:
            assert np.array_equal(mixed_w[:, p], w[:, p]) and mixed_b[p] == b[p]
    balanced_b = fit_presence(scored, l2=1e-2, class_power=1.0)[1]
    assert (mixed_b[[0, 3, 4]] > balanced_b[[0, 3, 4]]).all()  # less balancing: "present" more readily


def test_the_shipped_weights_were_trained_with_the_training_codes_settings():
    """The committed weights carry the settings, renderings and training-only story files
    (``training/stories``) they were trained with; they must be the ones ``make train-star``
    would use now, or the weights are stale."""
    from star_data import NOTES_TRAIN, NOTES_VALID, TRAIN_RENDERING, VALID_RENDERING
    from train_star import EXTRA, SETTINGS

    from starcoach.analysis.star_tagger import load_model

    meta = load_model().meta
    assert meta["settings"] == json.loads(json.dumps(SETTINGS))
    assert EXTRA and meta["extra"] == {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in EXTRA}
    assert meta["renderings"] == json.loads(json.dumps(
        {r.name: r.__dict__ for r in (TRAIN_RENDERING, VALID_RENDERING, NOTES_TRAIN, NOTES_VALID)}))


_SENTENCES = {
    "situation": ["Our {x} team had fallen a month behind.", "The {x} system crashed every night."],
    "task": ["My job was to get the {x} work back on schedule.", "I had to stop the {x} crashes before the audit."],
    "action": ["I split the {x} backlog and paired each new hire with a senior.",
               "I traced the {x} crash to a full disk and added an alert."],
    "result": ["The {x} release shipped a week early.", "The {x} crashes stopped and the audit passed."],
    "learning": ["Looking back, I would have asked for help on the {x} plan sooner.",
                 "I learned to check the {x} logs first."],
}


def _stories(path, repos, per_repo):
    lines = []
    for r, repo in enumerate(repos):
        for k in range(per_repo):
            parts = ["situation", "task", "action", "result"] + (["learning"] if k % 2 else [])
            lines.append(json.dumps({"id": f"{repo}-{k}", "source": {"repo": repo}, "parts": [
                {"label": p, "text": _SENTENCES[p][(r + k) % 2].format(x=f"{repo} {k}")} for p in parts]}))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_training_only_stories_are_learned_from_but_never_scored(tmp_path, capsys, monkeypatch):
    """``train_star.py --extra``: the project's own stories join every fold's training set and
    the shipped model's, but never form a validation fold: the figures are about the corpus's
    sources alone, and the weights carry which files were used."""
    import numpy as np
    import train_star
    from train_star import main

    from starcoach.analysis.star_tagger import load_model

    fits = []  # the sources each sentence model was fitted on
    fit_model = train_star.fit_model

    def recorded(stories, *args, **kwargs):
        fits.append({s.source for s in stories})
        return fit_model(stories, *args, **kwargs)

    monkeypatch.setattr(train_star, "fit_model", recorded)
    sites = {"site-a", "site-b", "site-c"}
    corpus = _stories(tmp_path / "corpus.jsonl", sorted(sites), 2)
    extra = _stories(tmp_path / "ours.jsonl", ["ours"], 3)
    dump = tmp_path / "dump.json"
    args = ["--corpus", str(corpus), "--out", str(tmp_path / "with.npz"), "--dump", str(dump)]
    assert main(args + ["--extra", str(extra)]) == 0
    for held in sites:  # each validation fold's model learned from the other sites and ours
        assert sites - {held} | {"ours"} in fits and sites - {held} not in fits
    assert fits[-1] == sites | {"ours"}  # the shipped model
    out = capsys.readouterr().out
    assert "6 stories from 3 sources, 3 for training only from 1" in out
    assert "ours (3 stories, training only)" in out and "(3 folds by source.repo)" in out
    records = [r for kind in json.loads(dump.read_text()).values() for r in kind]
    assert records and {r["source"] for r in records} == {"site-a", "site-b", "site-c"}
    meta = load_model(tmp_path / "with.npz").meta
    assert meta["stories"] == 6 and meta["extra_stories"] == 3 and meta["sources"] == ["site-a", "site-b", "site-c"]
    assert meta["extra"] == {"ours.jsonl": hashlib.sha256(extra.read_bytes()).hexdigest()}
    assert main(["--corpus", str(corpus), "--out", str(tmp_path / "without.npz"), "--extra", "--quick"]) == 0
    without = load_model(tmp_path / "without.npz")
    assert "extra" not in without.meta
    assert not np.array_equal(without.weights, load_model(tmp_path / "with.npz").weights)
