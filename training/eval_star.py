"""Score the STAR checker on answers that were never used for training.

    python training/eval_star.py [--model path.npz]

* ``../shared/star``: nine written stories in four versions (``expected.json`` gives the
  parts each file has; learning is always absent there);
* ``tests/data/star_extra``: fifteen short answers written for this project in varied styles
  (prose, bullets, labels, headings, transcript-like run-ons, hypothetical answers).

Prints part accuracy beside the constant-answer floor ("S, T, A, R present, no lesson"),
the share of files with all five calls right, and not-a-story accuracy on the extra set,
for the learned tagger and for the rules.
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
    args = ap.parse_args(argv)
    for tagger in ("learned", "rules"):
        print(f"--- tagger = {tagger}")
        _evaluate(tagger, args.model)
    return 0


def _evaluate(tagger: str, model_path: Path | None) -> None:
    from starcoach.analysis import star, star_learned
    from starcoach.analysis.star_tagger import PARTS, load_model

    if model_path:
        model = load_model(model_path)
        star_learned.load_model = lambda: model  # this script only
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
