"""The training data helpers of ``training/star_data.py`` that need no corpus: the shortened
copies both stages of the tagger also learn from."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "training"))

from star_data import SHORT_MAX, Story, shortened  # noqa: E402

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
