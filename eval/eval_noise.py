"""An analyzer and the issue-14 baseline side by side on a corpus and its noisy copies.

usage: eval_noise.py CORPUS --cmd 'COMMAND {audio}' [--conditions pink:20,fan:15:0.4,...]
                     [--extra NAME=DIR ...] [--limit N] [--work DIR] [--no-baseline]

Noisy copies are made with ``../shared/tools/make_noisy.py`` (KIND:SNR[:RT60]) into
WORK/NAME-KIND-SNR[-rt..]/ once and reused; ``--extra`` adds conditions made elsewhere (for
example ``make_voices.py --babble``), scored over the same file names. Outputs are cached in
WORK/cache, so a second run with the same command, files and code only re-scores. Prints one markdown
table: filled-pause P/R/F1, all-filler F1, long-pause P/R, WER, wall time over audio time.
The default conditions are those of issue 14's ``make eval-noise``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from harness import BASELINE_CMD, TOOLS, run_corpus, score, table

DEFAULT_CONDITIONS = ",".join(
    [f"{k}:{s}" for k in ("pink", "brown", "white", "fan") for s in (20, 15, 10)] + ["fan:15:0.4"])


def make_condition(corpus: Path, work: Path, spec: str, names: list[str]) -> Path:
    """Noisy copies of the NAMES of CORPUS for SPEC (kind:snr[:rt60]), made once."""
    kind, snr, *rest = spec.split(":")
    rt60 = float(rest[0]) if rest else 0.0
    out = work / f"{corpus.name}-{kind}{snr}{f'-rt{rt60:g}' if rt60 else ''}"
    if all((out / f"{n}.flac").exists() for n in names):
        return out
    src = work / f"{corpus.name}-src-{len(names)}"
    src.mkdir(parents=True, exist_ok=True)
    for n in names:  # make_noisy takes a folder: link the chosen files into one
        for ext in (".flac", ".json"):
            link = src / f"{n}{ext}"
            if not link.exists():
                link.symlink_to((corpus / f"{n}{ext}").resolve())
    subprocess.run([sys.executable, str(TOOLS / "make_noisy.py"), str(src), str(out), "--noise", kind, "--snr", snr,
                    "--rt60", str(rt60)], check=True, capture_output=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("corpus", type=Path)
    p.add_argument("--cmd", required=True, help="analyzer command; {audio} is replaced by the file")
    p.add_argument("--conditions", default=DEFAULT_CONDITIONS, help="comma-separated kind:snr[:rt60]; '' for none")
    p.add_argument("--extra", action="append", default=[], help="NAME=DIR: a condition made elsewhere")
    p.add_argument("--limit", type=int)
    p.add_argument("--work", type=Path, default=Path("/tmp/starcoach-eval"))
    p.add_argument("--no-baseline", action="store_true")
    a = p.parse_args()
    names = sorted(t.stem for t in a.corpus.glob("*.json"))[: a.limit]
    conds = [("clean", a.corpus)]
    conds += [(c.replace(":", " ") + " dB" if c.count(":") == 1 else c.replace(":", " ", 1).replace(":", " dB rt60 "),
               make_condition(a.corpus, a.work, c, names)) for c in a.conditions.split(",") if c]
    conds += [(e.split("=", 1)[0], Path(e.split("=", 1)[1])) for e in a.extra]
    systems = [("analyzer", a.cmd)] + ([] if a.no_baseline else [("baseline", BASELINE_CMD)])
    rows = []
    for cname, cdir in conds:
        for sname, cmd in systems:
            res = run_corpus(cmd, cdir, a.work / "cache", only=set(names))
            rows.append((cname, sname, score(res)))
            print(f"{cname} {sname}: done", file=sys.stderr, flush=True)
    print(f"analyzer: `{a.cmd}`; baseline: `{BASELINE_CMD}`; {len(names)} files of {a.corpus}\n")
    print(table(rows))


if __name__ == "__main__":
    main()
