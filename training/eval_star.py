"""Score the STAR checker on answers that were never used for training.

    python training/eval_star.py [--model path.npz] [--answers answers.jsonl]

* ``../shared/star``: nine written stories in four versions (``expected.json`` gives the
  parts each file has; learning is always absent there);
* ``tests/data/star_extra``: fifteen short answers written for this project in varied styles
  (prose, bullets, labels, headings, transcript-like run-ons, hypothetical answers).

Prints part accuracy beside the constant-answer floor ("S, T, A, R present, no lesson"),
the share of files with all five calls right, and not-a-story accuracy on the extra set,
for each tagger: the learned one, the hybrid (the default) and the rules.

``--answers FILE`` scores labelled answers of your own instead (docs/star.md: the real answers
from public pages): one JSON object per line in the corpus's format (``id``, ``source.repo``,
``parts`` of ``label`` and ``text``, the truth being the labels; a part with a combined label
such as "situation_task" is left out like "other", so leave such answers out), each whole and with its
Situation, Task, Action or Result removed in turn, as written text (the sentences joined by
spaces, no labels) and in the validation's transcript-style rendering (lower case, no
punctuation, fillers, run-ons; words one after another with no pauses).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_STAR = ROOT / ".." / "shared" / "star"
EXTRA = ROOT / "tests" / "data" / "star_extra"
FLOOR = {"situation": True, "task": True, "action": True, "result": True, "learning": False}


def score(cases: list[tuple[str, dict, dict]]) -> dict:
    from starcoach.analysis.star_tagger import PARTS

    judged = [(got[p], want[p]) for _, got, want in cases for p in PARTS]
    return {"files": len(cases),
            "part_accuracy": sum(g == w for g, w in judged) / max(1, len(judged)),
            "floor": sum(FLOOR[p] == want[p] for _, _, want in cases for p in PARTS) / max(1, len(judged)),
            "all_five": sum(all(got[p] == want[p] for p in PARTS) for _, got, want in cases) / max(1, len(cases)),
            "wrong": {name: sorted(p for p in PARTS if got[p] != want[p])
                      for name, got, want in cases if any(got[p] != want[p] for p in PARTS)}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, help="a weights file to use instead of the packaged one")
    ap.add_argument("--answers", type=Path, help="labelled answers (JSON lines) to score instead of the two sets")
    args = ap.parse_args(argv)
    if args.model:
        from starcoach.analysis import star_learned
        from starcoach.analysis.star_tagger import load_model

        model = load_model(args.model)
        star_learned.load_model = lambda: model  # this script only
    for tagger in ("learned", "hybrid", "rules"):
        print(f"--- tagger = {tagger}")
        if args.answers:
            _evaluate_answers(tagger, args.answers)
        else:
            _evaluate(tagger)
    return 0


def score_answers(stories, calls) -> dict:
    """The leave-one-source-out figures (``star_figures.figures``) of ``calls(story) -> {part:
    present}`` over each answer whole and without each removable part it has
    (``star_data.copies``), the truth being the copy's own labels."""
    from star_data import copies
    from star_figures import figures

    from starcoach.analysis.star_tagger import PARTS

    records = []
    for story in stories:
        for removed, copy in copies(story):
            records.append({"removed": removed, "call": calls(copy),
                            "truth": {p: any(label == p for _, label in copy.segments) for p in PARTS},
                            "author_learning": "learning" in copy.authored, "sentences": (0, 0)})
    return figures(records) | {"answers": len(stories)}


def _evaluate_answers(tagger: str, path: Path) -> None:
    import random
    import zlib

    from star_data import VALID_RENDERING, render_transcript, story_from_record
    from starcoach.analysis import star
    from starcoach.analysis.star_tagger import PARTS
    from starcoach.domain.transcript import Word

    options = star.StarOptions(tagger=tagger)
    stories = [story_from_record(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()
               if line.strip()]

    def written(story):
        r = star.check_text(" ".join(text for text, _ in story.segments), options=options)
        return {p: r.parts[p].present for p in PARTS}

    def transcript(story):
        pieces = render_transcript(story, VALID_RENDERING, random.Random(zlib.crc32(story.id.encode())))
        words = [w for text, _ in pieces for w in text.split()]
        timed = [Word(w, 0.32 * k, 0.32 * k + 0.3, 0.9) for k, w in enumerate(words)]
        r = star.check_spoken(timed, duration_s=0.32 * len(words), options=options)
        return {p: r.parts[p].present for p in PARTS}

    for name, calls in (("written", written), ("transcript-style", transcript)):
        s = score_answers(stories, calls)
        print(f"{path.name}, {name} ({s['answers']} answers, {s['copies']} copies): part accuracy "
              f"{s['part_accuracy']:.3f} (floor {s['floor_accuracy']:.3f}); whole {s['part_accuracy_whole']:.3f} "
              f"(floor {s['floor_accuracy_whole']:.3f}), part removed {s['part_accuracy_removed']:.3f}; "
              f"all five right {s['all_five']:.3f}; removed part reported missing "
              + ", ".join(f"{p} {s['missing_' + p]:.3f}" for p in ("situation", "task", "action", "result")))


def _evaluate(tagger: str) -> None:
    from starcoach.analysis import star
    from starcoach.analysis.star_tagger import PARTS

    options = star.StarOptions(tagger=tagger)

    def calls(text: str):
        r = star.check_text(text, options=options)
        return {p: r.parts[p].present for p in PARTS}, r.not_a_story

    if SHARED_STAR.is_dir():
        expected = json.loads((SHARED_STAR / "expected.json").read_text())
        cases = [(name, calls((SHARED_STAR / name).read_text())[0], want) for name, want in sorted(expected.items())]
        s = score(cases)
        print(f"../shared/star ({s['files']} files): part accuracy {s['part_accuracy']:.3f} "
              f"(floor {s['floor']:.3f}), all five right {s['all_five']:.3f}")
        for name, parts in s["wrong"].items():
            print(f"  wrong: {name}: {', '.join(parts)}")
    else:
        print("../shared/star not found: skipped")

    expected = json.loads((EXTRA / "expected.json").read_text())["files"]
    cases, story_flags = [], []
    for name, want in sorted(expected.items()):
        got, not_story = calls((EXTRA / name).read_text())
        story_flags.append((name, not_story, want["not_a_story"]))
        if want["parts"] is not None:
            cases.append((name, got, want["parts"]))
    s = score(cases)
    flag_right = sum(g == w for _, g, w in story_flags)
    print(f"tests/data/star_extra ({s['files']} stories): part accuracy {s['part_accuracy']:.3f} "
          f"(floor {s['floor']:.3f}), all five right {s['all_five']:.3f}; not-a-story flag right on "
          f"{flag_right}/{len(story_flags)} files")
    for name, parts in s["wrong"].items():
        print(f"  wrong: {name}: {', '.join(parts)}")
    for name, got, want in story_flags:
        if got != want:
            print(f"  not-a-story wrong: {name}: flagged {got}")


if __name__ == "__main__":
    sys.exit(main())
