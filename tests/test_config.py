"""config.toml: defaults, types, paths, and where the home folder is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from starcoach import config as config_module
from starcoach.config import load_config, project_home
from starcoach.domain.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_config_is_the_defaults(tmp_path):
    (tmp_path / "config.toml").write_text((ROOT / "config.toml").read_text())
    committed = load_config(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    defaults = load_config(empty)
    assert committed.analysis == defaults.analysis
    assert (committed.model, committed.record) == (defaults.model, defaults.record)


def test_paths_are_relative_to_the_config_folder(tmp_path):
    (tmp_path / "config.toml").write_text('[paths]\nrecordings = "takes"\nquestions = "mine.toml"\n')
    cfg = load_config(tmp_path)
    assert cfg.paths.recordings == tmp_path / "takes"
    assert cfg.paths.database == tmp_path / "recordings" / "starcoach.db"
    assert cfg.paths.questions == tmp_path / "mine.toml"


@pytest.mark.parametrize("text, message", [
    ("[metrics]\npause_min_s = \"long\"\n", "[metrics] pause_min_s has the wrong type"),
    ("[metrics]\nno_such = 1\n", "[metrics] has no setting named 'no_such'"),
    ("[nonsense]\nx = 1\n", "unknown section(s) nonsense"),
    ("[model\nname = 'base'\n", "not valid TOML"),
    ("[model]\nname = ''\n", "name must be a non-empty string"),
    ("metrics = 3\n", "metrics must be a section: write [metrics] on a line of its own"),
    ('model = "base"\n', "model must be a section: write [model] on a line of its own, then its settings"),
    ('[paths]\nquestion = "mine.toml"\n', "[paths] has no setting named 'question'"),
    ('[paths]\nrecording = "/elsewhere"\n', "[paths] has no setting named 'recording'"),
    ("[paths]\nquestions = false\n", "[paths] questions must be a string"),
])
def test_a_bad_config_is_one_clear_error(tmp_path, text, message):
    """Also (2026-12-05): a typo in a [paths] key was ignored (the questions file or recordings
    folder silently the default), `questions = false` read as "no file", and a section written as
    a key said "[model] must be a table" without the file's name or the fix."""
    (tmp_path / "config.toml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert message in str(err.value) and str(tmp_path / "config.toml") in str(err.value)


def test_a_config_saved_with_a_byte_order_mark_is_read(tmp_path):
    """Windows editors start a UTF-8 file with a BOM: it was "not valid TOML (Invalid statement
    (at line 1, column 1))", nothing visible to fix."""
    (tmp_path / "config.toml").write_bytes("\ufeff[metrics]\nlong_pause_s = 3.0\n".encode())
    assert load_config(tmp_path).metrics.long_pause_s == 3.0


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_a_starcoach_home_that_is_no_folder_is_refused_not_made(tmp_path, monkeypatch, kind):
    """A mistyped STARCOACH_HOME became a new, empty home (`takes`: "No takes yet"); one naming a
    file said only "config.toml: cannot read it (Not a directory)"."""
    from typer.testing import CliRunner

    from starcoach.cli import app

    where = tmp_path / "typo-home"
    if kind == "file":
        where.write_text("hi")
    monkeypatch.setenv("STARCOACH_HOME", str(where))
    result = CliRunner().invoke(app, ["takes"])
    assert result.exit_code == 1, result.output
    said = "is a file, not a folder" if kind == "file" else "does not exist"
    assert result.output.startswith(f"starcoach: STARCOACH_HOME={where} {said}"), result.output
    assert (where.is_file() if kind == "file" else not where.exists())
    # the advice must work: "mkdir -p" of a name a file holds fails (an audit found it offered)
    assert ("mkdir -p" in result.output) == (kind != "file"), result.output


def test_home_is_the_env_folder_then_the_checkout_then_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("STARCOACH_HOME", str(tmp_path / "mine"))
    assert project_home() == tmp_path / "mine"
    monkeypatch.delenv("STARCOACH_HOME")
    assert project_home() == ROOT  # the tests run from the checkout
    monkeypatch.setattr(config_module, "_checkout", lambda: None)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert project_home() == tmp_path / "data" / "starcoach"


def test_the_language_codes_are_whisper_s():
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    from starcoach.asr.engine import WHISPER_LANGUAGES

    assert WHISPER_LANGUAGES == tuple(_LANGUAGE_CODES)


@pytest.mark.parametrize("setting, value, command", [
    ("database", "{x}/starcoach.db", ["takes"]),
    ("database", "{x}/starcoach.db", ["doctor"]),
    ("recordings", "{x}", ["import", "{wav}"]),
    ("models", "{x}", ["analyze", "{wav}"]),
])
def test_a_storage_folder_outside_the_home_that_does_not_exist_is_not_made(home, tmp_path, setting, value, command):
    """A database or recordings path in a missing folder (a typo, a disk not attached) was made
    silently: new takes went where the user would not look, and were hidden when the disk came
    back. Inside the home a missing folder is still made (the first take). A models folder so
    placed had a 145 MB model assembled into it, on whatever disk held the mount point."""
    import numpy as np
    import soundfile as sf
    from typer.testing import CliRunner

    from starcoach.cli import app

    elsewhere = tmp_path / "usb" / "starcoach"  # outside the home: tmp_path/home
    wav = tmp_path / "answer.wav"
    sf.write(wav, np.zeros(16000, dtype=np.float32), 16000)
    cfg = home / "config.toml"
    text = re.sub(rf"^{setting} = .*$", r"# \g<0>", cfg.read_text(), count=1, flags=re.M)
    cfg.write_text(text.replace("[paths]", f'[paths]\n{setting} = "{value.format(x=elsewhere)}"', 1))
    result = CliRunner().invoke(app, [c.format(wav=wav) for c in command])
    assert result.exit_code == 1, result.output
    line = result.output.strip()
    assert line.startswith("starcoach:") and "\n" not in line and "does not exist" in line, line
    assert str(elsewhere) in line and f"[paths] {setting}" in line
    assert not (tmp_path / "usb").exists()
    assert not any((home / "recordings").rglob("take-*"))  # nothing half-stored in its place either


def test_a_model_given_by_its_folder_needs_no_models_folder(home, tmp_path):
    """With [paths] models on a disk that is not attached, `--model /path/to/folder` was refused too,
    although a model named by its folder never uses the models folder."""
    import numpy as np
    import soundfile as sf
    from typer.testing import CliRunner

    from starcoach.asr.models import resolve_model
    from starcoach.cli import app
    from starcoach.config import load_config

    mine = tmp_path / "my-model"
    mine.symlink_to(resolve_model("base", load_config().paths.models).path)  # a folder of one's own
    cfg = home / "config.toml"
    text = re.sub(r"^models = .*$", "# models", cfg.read_text(), count=1, flags=re.M)
    cfg.write_text(text.replace("[paths]", f'[paths]\nmodels = "{tmp_path / "usb" / "models"}"', 1))
    wav = tmp_path / "quiet.wav"
    sf.write(wav, np.zeros(16000, dtype=np.float32), 16000)
    refused = CliRunner().invoke(app, ["analyze", str(wav)])
    assert refused.exit_code == 1 and "does not exist" in refused.output
    result = CliRunner().invoke(app, ["analyze", str(wav), "--model", str(mine), "--json"])
    assert result.exit_code == 3, result.output  # analysed: no speech in it
    assert not (tmp_path / "usb").exists()


@pytest.mark.parametrize("written", ["../mine/tiny", "./mine-here/tiny", "mine-here/tiny", "mine-here"])
def test_a_model_folder_named_by_a_relative_path_is_found_from_config_toml_s_folder(home, tmp_path, monkeypatch,
                                                                                  written):
    """`[model] name = "../models/tiny.en"` was looked up from the folder the command ran in, not from
    config.toml's as its comment says of every path: it worked from one folder and not another."""
    target = (home / written).resolve()
    target.mkdir(parents=True)
    for name in ("model.bin", "config.json"):
        (target / name).write_text("")
    cfg = home / "config.toml"
    cfg.write_text(re.sub(r'^name = "base"', f'name = "{written}"', cfg.read_text(), count=1, flags=re.M))
    elsewhere = tmp_path / "a" / "b"  # (not beside the home: "../" would land on the same folder)
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    assert Path(load_config().model).resolve() == target
    monkeypatch.chdir(home)
    assert Path(load_config().model).resolve() == target


def _set_model_name(home, name):
    cfg = home / "config.toml"
    cfg.write_text(re.sub(r'^name = "base"', f'name = "{name}"', cfg.read_text(), count=1, flags=re.M))


def test_a_relative_model_folder_is_never_looked_up_from_the_current_folder(home, tmp_path, monkeypatch, models_dir):
    """`name = "mm/base"` with no mm/ beside config.toml loaded ./mm/base when the command ran where
    there was one, and tried a download elsewhere: one config.toml, two models."""
    import os

    from starcoach.asr.models import resolve_model
    from starcoach.domain.errors import ModelError

    made = resolve_model("tiny.en", models_dir).path
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "mm" / "base").mkdir(parents=True)
    for f in made.iterdir():
        os.link(f, elsewhere / "mm" / "base" / f.name)
    _set_model_name(home, "mm/base")
    monkeypatch.chdir(elsewhere)
    with pytest.raises(ModelError) as err:
        load_config().analyzer()
    assert "'mm/base'" in str(err.value) and str(elsewhere) not in str(err.value)


@pytest.mark.parametrize("name, beside, folder", [
    ("tiny.en", True, False), ("base", True, False),  # a bundled model's name is never a folder's
    ("small.en", False, False), ("Systran/faster-whisper-small", False, False),  # names, when no such folder
    ("small.en", True, True), ("Systran/faster-whisper-small", True, True),
])
def test_a_model_s_name_stays_a_name_unless_a_folder_by_it_is_beside_config_toml(home, name, beside, folder):
    if beside:
        (home / name).mkdir(parents=True)
    _set_model_name(home, name)
    assert load_config().model == (str(home / name) if folder else name)
