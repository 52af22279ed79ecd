"""No speech, no words: a room's noise alone is not an answer (and never reaches the model)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from starcoach.cli import app
from tests.conftest import coloured_noise, espeak

RATE = 16000
runner = CliRunner()


def noise(kind: str, seconds: float = 30.0, level_db: float = -25.0, seed: int = 3) -> np.ndarray:
    """Coloured noise whose level wanders as a fan's does, or keyboard-like clicks."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    if kind == "typing":
        x = 0.002 * rng.standard_normal(n)
        for at in np.cumsum(rng.uniform(0.08, 0.35, int(seconds * 6))):
            i = int(at * RATE)
            if i + 400 >= n:
                break
            click = rng.standard_normal(400) * np.exp(-np.arange(400) / 60)
            x[i:i + 400] += 0.3 * click
        return x.astype(np.float32)
    return coloured_noise(kind, seconds, level_db, seed, wander_hz=0.3)


@pytest.mark.parametrize("kind", ["pink", "brown", "white", "fan", "typing"])
def test_noise_alone_has_no_words_and_no_fillers(tmp_path, kind):
    path = tmp_path / f"{kind}.wav"
    sf.write(path, noise(kind), RATE)
    result = runner.invoke(app, ["analyze", str(path), "--json"])
    assert result.exit_code == 3, result.output
    doc = json.loads(result.stdout)
    assert doc["no_speech"] is True
    assert doc["words"] == [] and doc["fillers"] == [] and doc["metrics"]["filler_count"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["pink", "white"])
def test_loud_noise_alone_is_no_answer_either(tmp_path, kind):
    """An audit: 20 s of pink noise at -20 dBFS came back "ah." (white: "uh, uh."), exit 0, "Fillers 1
    (172.4/min)". The voice detector hears a voice in loud noise now and then; what Whisper writes
    there is filled pauses alone, and a take of nothing but those is no answer."""
    import shutil
    import subprocess

    if not shutil.which("sox"):
        pytest.skip("sox is not installed")
    path = tmp_path / f"{kind}.wav"  # -R: the same noise every run, the audit's own file for pink
    subprocess.run(["sox", "-R", "-n", "-r", "16000", "-c", "1", str(path), "synth", "20", f"{kind}noise",
                    "vol", "0.5"], check=True)
    result = runner.invoke(app, ["analyze", str(path), "--json"])
    assert result.exit_code == 3, result.output
    doc = json.loads(result.stdout)
    assert doc["no_speech"] is True and doc["words"] == [] and doc["metrics"]["filler_count"] == 0


@pytest.mark.slow
def test_the_filler_prompt_read_back_after_a_short_answer_is_not_in_its_transcript(tmp_path):
    """Whisper read its filler prompt back after a two-second answer: "We shipped it on time. Um, uh,
    um, er, ah.", words laid over no speech (or of no length), counted as no filler but shown, exported
    and put in word diffs. A filled pause the analysis does not count is not in the transcript."""
    from starcoach.domain.vocab import is_filled_pause

    path = tmp_path / "short.wav"
    sf.write(path, espeak("We shipped it on time.", tmp_path, voice="en", effects=()), 22050)
    result = runner.invoke(app, ["analyze", str(path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["transcript"].lower().startswith("we shipped it on time")
    loose = [w["text"] for w in doc["words"] if is_filled_pause(w["text"].strip(",.").lower()) and not w["filler"]]
    assert loose == [], doc["transcript"]
    assert doc["metrics"]["filler_count"] <= 1  # at most the one "uh" it lays on the last word's tail
    assert doc["words"][-1]["end"] <= doc["duration_s"]


@pytest.mark.slow
def test_a_one_second_false_start_keeps_its_words(tmp_path):
    """A 1 s take ("Last year I led", cut off) was "no speech found" (exit 3): encoded at its own
    length, Whisper looped the phrase four times, the copies of no length, and the whole segment
    went as squeezed past any pace. A take that short is a false start the user should see."""
    x = espeak("Last year I led the migration of our billing system.", tmp_path, speed=160,
               effects=("rate", "16000", "silence", "1", "0.01", "0.1%", "trim", "0", "1.0"))
    path = tmp_path / "cut.wav"
    sf.write(path, x, 16000)
    result = runner.invoke(app, ["analyze", str(path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    said = [w["text"].strip(",.").lower() for w in doc["words"]]
    assert 2 <= len(said) <= 5 and said[:2] == ["last", "year"], said  # the words said, once
