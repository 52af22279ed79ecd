"""The figures ``train_star.py`` and ``eval_star.py`` print: part accuracy, per-part precision and
recall, how often a removed part is reported missing, all five calls right, and the
constant-answer floor (Situation, Task, Action, Result present, no lesson) beside them."""

from __future__ import annotations

import numpy as np
from star_data import REMOVABLE

from starcoach.analysis.star_tagger import PARTS


def figures(records: list[dict]) -> dict:
    """Part accuracy, per-part precision/recall, removed-part-missing rates, all-five-right, floors."""
    n = len(records)
    acc = np.mean([r["call"][p] == r["truth"][p] for r in records for p in PARTS])
    floor_call = {"situation": True, "task": True, "action": True, "result": True, "learning": False}
    floor = np.mean([floor_call[p] == r["truth"][p] for r in records for p in PARTS])
    out = {"copies": n, "part_accuracy": acc, "floor_accuracy": floor,
           "all_five": np.mean([all(r["call"][p] == r["truth"][p] for p in PARTS) for r in records]),
           "floor_all_five": np.mean([all(floor_call[p] == r["truth"][p] for p in PARTS) for r in records])}
    for p in PARTS:
        tp = sum(r["call"][p] and r["truth"][p] for r in records)
        fp = sum(r["call"][p] and not r["truth"][p] for r in records)
        fn = sum(not r["call"][p] and r["truth"][p] for r in records)
        out[f"precision_{p}"] = tp / max(1, tp + fp)
        out[f"recall_{p}"] = tp / max(1, tp + fn)
    for p in REMOVABLE:
        rem = [r for r in records if r["removed"] == p and not r["truth"][p]]
        out[f"missing_{p}"] = np.mean([not r["call"][p] for r in rem]) if rem else float("nan")
    whole = [r for r in records if r["removed"] is None]
    cut = [r for r in records if r["removed"] is not None]
    for name, part in (("whole", whole), ("removed", cut)):  # complete answers and part-removed copies apart
        out[f"part_accuracy_{name}"] = np.mean([r["call"][p] == r["truth"][p] for r in part for p in PARTS])
        out[f"floor_accuracy_{name}"] = np.mean([floor_call[p] == r["truth"][p] for r in part for p in PARTS])
        out[f"all_five_{name}"] = np.mean([all(r["call"][p] == r["truth"][p] for p in PARTS) for r in part])
    auth = [r for r in whole if r["author_learning"]]
    out["learning_recall_author"] = np.mean([r["call"]["learning"] for r in auth]) if auth else float("nan")
    out["author_learning_stories"] = len(auth)
    right = sum(r["sentences"][0] for r in whole)
    out["sentence_accuracy"] = right / max(1, sum(r["sentences"][1] for r in whole))
    return {k: (round(float(v), 3) if isinstance(v, (float, np.floating)) else v) for k, v in out.items()}


def print_table(results: dict[str, dict]) -> None:
    rows = [("copies judged (x5 parts)", "copies"), ("part accuracy", "part_accuracy"),
            ("  floor: S,T,A,R present, no L", "floor_accuracy"), ("all five calls right", "all_five"),
            ("  floor", "floor_all_five"), ("sentence accuracy (whole stories)", "sentence_accuracy")]
    for name, label in (("whole", "whole stories"), ("removed", "part-removed copies")):
        rows += [(f"{label}: part accuracy", f"part_accuracy_{name}"),
                 ("  floor", f"floor_accuracy_{name}"), (f"{label}: all five right", f"all_five_{name}")]
    rows += [(f"{p} precision / recall", (f"precision_{p}", f"recall_{p}")) for p in PARTS]
    rows += [(f"removed {p} reported missing", f"missing_{p}") for p in REMOVABLE]
    rows += [("learning recall, author labels", "learning_recall_author")]
    names = list(results)
    print(f"| figure | {' | '.join(names)} |")
    print("| --- |" + " ---: |" * len(names))
    for label, key in rows:
        cells = []
        for name in names:
            f = results[name]
            cells.append(" / ".join(f"{f[k]:.3f}" for k in key) if isinstance(key, tuple)
                         else (str(f[key]) if isinstance(f[key], int) else f"{f[key]:.3f}"))
        print(f"| {label} | {' | '.join(cells)} |")
