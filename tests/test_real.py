"""Real speakers, not synthesized speech: what the dev corpus cannot show.

Both recordings caught false fillers once: clips between words decoded in a window cut
to their length came back as "um" or "er" (a breath at the start of crisper_sample, the
fading end of "country" in jfk).
"""

import difflib
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from starcoach.cli import app
from tests.conftest import SHARED, needs_shared

DATA = Path(__file__).parent / "data"
FILLED = {"um", "uh", "er", "erm", "ah", "hmm", "mm"}
runner = CliRunner()


def analyze(path: Path) -> dict:
    result = runner.invoke(app, ["analyze", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


@pytest.mark.slow
def test_jfk_stereo_44k_real_speaker_no_fillers():
    doc = analyze(DATA / "jfk.flac")
    truth = words("And so my fellow Americans, ask not what your country can do for you, "
                  "ask what you can do for your country.")
    # the words within one error of 22 (another CPU or model release may hear one differently); the claim
    # under test is the next line's: a real speaker's clean sentence gets no filled pause
    heard = words(doc["transcript"])
    errors = sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in
                 difflib.SequenceMatcher(a=truth, b=heard, autojunk=False).get_opcodes() if op != "equal")
    assert errors <= 1, heard
    assert doc["duration_s"] == pytest.approx(11.0, abs=0.1)
    assert [f for f in doc["fillers"] if f["text"] in FILLED] == []


@pytest.mark.slow
def test_crisper_sample_both_filled_pauses_and_no_others():
    path = needs_shared(SHARED / "real") / "crisper_sample.wav"
    doc = analyze(path)
    filled = sorted(f["start"] for f in doc["fillers"] if f["text"] in FILLED)
    assert len(filled) == 2, doc["fillers"]
    assert filled[0] == pytest.approx(2.5, abs=0.5) and filled[1] == pytest.approx(10.6, abs=0.5)
