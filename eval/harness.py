"""Shared by eval_noise.py and eval_voices.py: run an analyzer over a corpus, cache its JSON, score it.

Scoring is ``../shared/tools/eval_corpus.py``'s own ``score_file`` (imported, not copied), so the
figures here and those of ``eval_corpus.py`` are the same figures.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT.parent / "shared" / "tools"
BASELINE_CMD = f"{ROOT / '.venv/bin/python'} {ROOT / 'eval/baseline.py'} {{audio}} --threads 1"


# Spellings of a filled pause that eval_corpus.py does not know, and would count as neither found
# nor false. A nasal one ("hmm", "mm", a hum in two beats such as "mm-hmm": letters h and m only,
# once the hyphen is gone) is of type um: make_voices.py's truth scores a spoken "hmm" as um, so a
# system that writes what it heard, "hmm", is credited with an um. "err" is "er" (type uh), as
# Whisper sometimes spells it in noise. The dev corpus's truth has none of these, so only the
# systems' own spellings can change its figures.
EXTRA_SPELLINGS = {"err": "uh"}
NASAL = re.compile(r"h*m[hm]*")


def _eval_corpus():
    sys.path.insert(0, str(TOOLS))
    import eval_corpus  # noqa: PLC0415

    for spelling, kind in EXTRA_SPELLINGS.items():
        eval_corpus.TYPES.setdefault(spelling, kind)
    if not getattr(eval_corpus.ftype, "nasal", False):
        plain = eval_corpus.ftype

        def ftype(text: str) -> str | None:
            kind = plain(text)
            return kind or ("um" if NASAL.fullmatch(re.sub(r"[^a-z ]", "", text.lower()).strip()) else None)

        ftype.nasal = True  # type: ignore[attr-defined]
        eval_corpus.ftype = ftype
    return eval_corpus


@dataclass(frozen=True)
class Row:
    """Pooled figures for one (system, condition) over a set of files."""

    files: int
    failed: int
    fp_p: float
    fp_r: float
    fp_f1: float
    all_f1: float
    lp_p: float | None
    lp_r: float | None
    wer: float
    wall_over_audio: float


def code_version() -> str:
    """A digest of the code and settings an analysis depends on (``src/``, ``config.toml``,
    ``eval/``, ``constraints.txt``): a cached output made by other code is not reused."""
    h = hashlib.sha1()
    files = [ROOT / "config.toml", ROOT / "constraints.txt", *sorted((ROOT / "src").rglob("*.py")),
             *sorted((ROOT / "src").rglob("*.npz")), *sorted((ROOT / "eval").glob("*.py"))]
    for f in files:
        if f.exists():
            h.update(f.relative_to(ROOT).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


_CODE = code_version()


def run_one(cmd: str, audio: Path, cache_dir: Path, timeout: float = 900) -> tuple[dict | None, float]:
    """Run CMD on AUDIO (cached by command, file and :func:`code_version`); return (output JSON or None,
    wall seconds)."""
    key = hashlib.sha1(f"{cmd}\0{audio.resolve()}\0{audio.stat().st_mtime_ns}\0{_CODE}".encode()).hexdigest()[:16]
    cache = cache_dir / f"{audio.stem}-{key}.json"
    if cache.exists():
        c = json.loads(cache.read_text())
        return c["out"], c["wall_s"]
    argv = [c.replace("{audio}", str(audio)) for c in shlex.split(cmd)]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        out = json.loads(p.stdout)
    except Exception as e:  # noqa: BLE001 - any failure is a failed file
        print(f"FAILED {audio}: {type(e).__name__}: {str(e)[:200]}", file=sys.stderr)
        return None, 0.0
    wall = time.perf_counter() - t0
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"out": out, "wall_s": wall}))
    return out, wall


def score(pairs: list[tuple[dict, dict | None, float]]) -> Row:
    """Pool eval_corpus's per-file figures over (truth, output, wall) triples."""
    ec = _eval_corpus()
    rows, failed, audio_s, wall_s = [], 0, 0.0, 0.0
    for truth, out, wall in pairs:
        if out is None:
            failed += 1
            continue
        rows.append(ec.score_file(truth, out))
        audio_s += truth["duration_s"]
        wall_s += wall

    def prf(k: str) -> tuple[float, float, float]:
        tp = sum(r[f"filler_{k}_tp"] for r in rows)
        pr = sum(r[f"filler_{k}_pred"] for r in rows)
        tr = sum(r[f"filler_{k}_true"] for r in rows)
        p, r = (tp / pr if pr else 0.0), (tp / tr if tr else 0.0)
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    fp, al = prf("fp"), prf("all")
    pt, ptrue = sum(r["pause_tp"] for r in rows), sum(r["pause_true"] for r in rows)
    pp, pg = sum(r["pause_pred"] for r in rows), sum(r["pause_pred_good"] for r in rows)
    return Row(
        files=len(rows), failed=failed, fp_p=fp[0], fp_r=fp[1], fp_f1=fp[2], all_f1=al[2],
        lp_p=pg / pp if pp else None, lp_r=pt / ptrue if ptrue else None,
        wer=sum(r["wer"] for r in rows) / max(1, len(rows)), wall_over_audio=wall_s / max(audio_s, 1e-9),
    )


def run_corpus(cmd: str, corpus: Path, cache_dir: Path, limit: int | None = None,
               only: set[str] | None = None) -> list[tuple[dict, dict | None, float]]:
    """Run CMD over every NAME.flac with a NAME.json in CORPUS (first LIMIT, or the names in ONLY)."""
    truths = sorted(corpus.glob("*.json"))
    if only:
        truths = [t for t in truths if t.stem in only]
    out = []
    for tj in truths[:limit]:
        truth = json.loads(tj.read_text())
        res, wall = run_one(cmd, tj.with_suffix(".flac"), cache_dir)
        out.append((truth, res, wall))
    return out


def _f(v: float | None) -> str:
    return "  -  " if v is None else f"{v:.2f}"


def table(rows: list[tuple[str, str, Row]]) -> str:
    """A markdown table of (condition, system, Row)."""
    head = ("| condition | system | files | filled-pause P | R | F1 | all-filler F1 | long-pause P | R "
            "| WER | wall/audio |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    lines = [head]
    for cond, system, r in rows:
        lines.append(f"| {cond} | {system} | {r.files}{'+' + str(r.failed) + ' failed' if r.failed else ''} "
                     f"| {_f(r.fp_p)} | {_f(r.fp_r)} | **{_f(r.fp_f1)}** | {_f(r.all_f1)} | {_f(r.lp_p)} "
                     f"| {_f(r.lp_r)} | {r.wer:.3f} | {r.wall_over_audio:.2f} |")
    return "\n".join(lines)
