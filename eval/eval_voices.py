"""An analyzer and the issue-14 baseline, voice by voice, on a multi-voice corpus (make_voices.py).

usage: eval_voices.py CORPUS --cmd 'COMMAND {audio}' [--per-voice N] [--work DIR] [--no-baseline]
                      [--extra NAME=DIR ...]

Each truth file's ``voice_id`` (or, failing that, ``voice``) names its speaker identity. Prints
one row per voice and system (filled-pause F1 pooled over that voice's answers) and the pooled
total. When the analyzer has parts tuned on voices, run it once per left-out voice with those
parts tuned on the other voices, and read that voice's row: this script scores, it does not tune.
``--extra NAME=DIR`` scores the same answers in a noisy copy as well (rows per voice and pooled).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness import BASELINE_CMD, run_corpus, score, table


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("corpus", type=Path)
    p.add_argument("--cmd", required=True)
    p.add_argument("--per-voice", type=int, help="answers per voice (first N by name)")
    p.add_argument("--voices", help="comma-separated voice ids to score (default all)")
    p.add_argument("--extra", action="append", default=[], help="NAME=DIR: the same answers in another condition")
    p.add_argument("--work", type=Path, default=Path("/tmp/starcoach-eval"))
    p.add_argument("--no-baseline", action="store_true")
    a = p.parse_args()
    by_voice: dict[str, list[str]] = {}
    for tj in sorted(a.corpus.glob("*.json")):
        t = json.loads(tj.read_text())
        by_voice.setdefault(t.get("voice_id") or t["voice"], []).append(tj.stem)
    if a.voices:
        by_voice = {v: n for v, n in by_voice.items() if v in a.voices.split(",")}
    for v in by_voice:
        by_voice[v] = by_voice[v][: a.per_voice]
    systems = [("analyzer", a.cmd)] + ([] if a.no_baseline else [("baseline", BASELINE_CMD)])
    conds = [("clean", a.corpus)] + [(e.split("=", 1)[0], Path(e.split("=", 1)[1])) for e in a.extra]
    rows = []
    for cname, cdir in conds:
        pooled = {s: [] for s, _ in systems}
        for voice, names in by_voice.items():
            for sname, cmd in systems:
                res = run_corpus(cmd, cdir, a.work / "cache", only=set(names))
                pooled[sname] += res
                rows.append((f"{cname} {voice}", sname, score(res)))
            print(f"{cname} {voice}: done", file=sys.stderr, flush=True)
        for sname, _ in systems:
            rows.append((f"{cname} **all voices**", sname, score(pooled[sname])))
    n = sum(len(v) for v in by_voice.values())
    print(f"analyzer: `{a.cmd}`; baseline: `{BASELINE_CMD}`; {n} answers, {len(by_voice)} voices of {a.corpus}\n")
    print(table(rows))


if __name__ == "__main__":
    main()
