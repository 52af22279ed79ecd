"""The synthetic voices `make eval-voices` scores: each synthesiser renders an answer whose truth
file says where every piece of speech and every filled pause is."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import needs_shared

ROOT = Path(__file__).parents[1]
RATE = 16000


def _rms_db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-12)


@pytest.mark.parametrize("voices, tools", [
    ("held-out", ("flite",)),
    ("festival", ("festival",)),
    ("pico", ()),
    ("scot-m1", ("espeak-ng",)),
])
def test_each_synthesiser_renders_pieces_and_filled_pauses_where_the_truth_puts_them(tmp_path, voices, tools):
    if not all(shutil.which(t) for t in tools + ("sox",)):
        pytest.skip(f"{', '.join(tools)} and sox render these voices (scripts/setup.sh --test)")
    if voices == "pico":
        pytest.importorskip("ttspico", reason="the ttspico package renders the Pico voices (scripts/setup.sh --test)")
    if voices != "scot-m1":  # these sets' first answers include a quiet room, made by ../shared's make_noisy
        needs_shared(ROOT.parent / "shared" / "tools" / "make_noisy.py")
    run = subprocess.run([sys.executable, str(ROOT / "eval" / "make_voices.py"), str(tmp_path), "--voices", voices,
                          "--answers-per-voice", "1"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    truths = sorted(tmp_path.glob("*.json"))
    assert len(truths) == {"scot-m1": 1, "pico": 2}.get(voices, 3)  # one answer per voice of the set
    for path in truths:
        truth = json.loads(path.read_text())
        x, rate = sf.read(path.with_suffix(".flac"), dtype="float32")
        assert rate == RATE and abs(len(x) / RATE - truth["duration_s"]) < 0.01
        assert truth["filled_pauses"], path.name
        for piece in truth["chunks"]:  # every piece is sound, and the truth's times are the sound's
            a, b = int(piece["start_s"] * RATE), int(piece["end_s"] * RATE)
            assert _rms_db(x[a:b]) > -40, (path.name, piece)
        for f in truth["filled_pauses"]:
            assert f["end_s"] - f["start_s"] >= 0.25, (path.name, f)  # drawn out, not a blip
        for p in truth["long_pauses"]:  # and the long pauses are silence, up to the room's noise
            a = int(p["start_s"] * RATE)
            assert _rms_db(x[a:a + int(p["duration_s"] * RATE)]) < -45, (path.name, p)
