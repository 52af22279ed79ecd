"""config.toml: defaults, types, paths, and where the home folder is."""

from __future__ import annotations

import errno
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
    ("[nonsense]\nx = 1\n", "unknown section [nonsense]"),
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


@pytest.mark.parametrize("section, setting, value", [
    ("model", "name", "./a\\u0000b"), ("model", "name", "ba\\u0000se"), ("paths", "models", "m\\u0000"),
    ("paths", "recordings", "r\\u0000"), ("paths", "database", "d\\u0000.db"), ("paths", "questions", "q\\u0000.toml"),
])
def test_a_nul_in_a_name_or_path_is_one_line_naming_the_setting(home, section, setting, value):
    """`[model] name = "./a\\u0000b"` was "unexpected error (ValueError: embedded null byte); this is a
    bug" for every command, `models` and `paths` included; so was a NUL in any [paths] value."""
    from typer.testing import CliRunner

    from starcoach.cli import app

    cfg = home / "config.toml"
    text = re.sub(rf"^{setting} = .*$", "", cfg.read_text(), count=1, flags=re.M)
    cfg.write_text(text.replace(f"[{section}]", f'[{section}]\n{setting} = "{value}"', 1))
    for command in ("models", "paths"):
        result = CliRunner().invoke(app, [command])
        assert result.exit_code == 1 and result.stdout == "", result.output
        assert result.stderr == f"starcoach: {cfg}: [{section}] {setting} holds a NUL character (\\u0000), which no " \
                                "file or model name can: remove it\n", result.stderr


@pytest.mark.parametrize("section, setting", [
    ("model", "name"), ("paths", "models"), ("paths", "recordings"), ("paths", "database"), ("paths", "questions"),
])
@pytest.mark.parametrize("kind", ["no such user", "loop of links"])
def test_a_path_that_cannot_be_followed_is_one_line_naming_the_setting(home, tmp_path, section, setting, kind):
    """`~nosuchuser/m` (Path.expanduser) and a loop of symbolic links (Path.resolve, Python 3.11)
    raise RuntimeError, not OSError: in any [paths] value or [model] name they were "unexpected
    error (RuntimeError: Could not determine home directory.); this is a bug" for every command."""
    from typer.testing import CliRunner

    from starcoach.cli import app

    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    value = "~nosuchuser-starcoach/x" if kind == "no such user" else str(tmp_path / "a" / "x")
    cfg = home / "config.toml"
    text = re.sub(rf"^{setting} = .*$", "", cfg.read_text(), count=1, flags=re.M)
    cfg.write_text(text.replace(f"[{section}]", f'[{section}]\n{setting} = "{value}"', 1))
    why = ("~nosuchuser-starcoach is no home folder on this machine; write the folder's full path"
           if kind == "no such user" else "cannot follow it (a loop of symbolic links); give another path")
    for command in ("models", "paths", "takes"):
        result = CliRunner().invoke(app, [command])
        assert result.exit_code == 1 and result.stdout == "", result.output
        assert result.stderr == f"starcoach: {cfg}: [{section}] {setting}: {value}: {why}\n", result.stderr


@pytest.mark.parametrize("value, why", [
    ("~nosuchuser-starcoach/h", "~nosuchuser-starcoach is no home folder on this machine; write the folder's full path"),
    ("LOOP", "cannot follow it (a loop of symbolic links); give another path"),
])
def test_a_home_or_model_that_cannot_be_followed_is_one_line(tmp_path, monkeypatch, value, why):
    """The same for STARCOACH_HOME and a --model typed on the command line."""
    from typer.testing import CliRunner

    from starcoach.cli import app

    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    value = str(tmp_path / "a") if value == "LOOP" else value
    monkeypatch.setenv("STARCOACH_HOME", value)
    result = CliRunner().invoke(app, ["takes"])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"starcoach: STARCOACH_HOME: {value}: {why}\n")
    monkeypatch.setenv("STARCOACH_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir(exist_ok=True)
    result = CliRunner().invoke(app, ["analyze", str(ROOT / "samples" / "demo-answer.flac"), "--model", value])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"starcoach: --model: {value}: {why}\n")


@pytest.mark.parametrize("command", [["paths"], ["takes"], ["import", "nothing.wav"]])
def test_an_empty_starcoach_home_is_refused_not_read_as_unset(tmp_path, monkeypatch, command):
    """An audit: `STARCOACH_HOME= starcoach export 1 -o -` used the checkout's home and made a takes database
    there; a script's `STARCOACH_HOME=$UNSET` would read and write another home's takes."""
    from typer.testing import CliRunner

    from starcoach.cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STARCOACH_HOME", "")
    result = CliRunner().invoke(app, command)
    assert (result.exit_code, result.stdout) == (1, ""), result.output
    assert result.stderr.startswith("starcoach: STARCOACH_HOME is set but empty") and "unset STARCOACH_HOME" in \
        result.stderr and result.stderr.count("\n") == 1


def test_a_config_saved_with_a_byte_order_mark_is_read(tmp_path):
    """Windows editors start a UTF-8 file with a BOM: it was "not valid TOML (Invalid statement
    (at line 1, column 1))", nothing visible to fix."""
    (tmp_path / "config.toml").write_bytes("\ufeff[metrics]\nlong_pause_s = 3.0\n".encode())
    assert load_config(tmp_path).metrics.long_pause_s == 3.0


@pytest.mark.parametrize("kind", ["missing", "file", "under a file"])
def test_a_starcoach_home_that_is_no_folder_is_refused_not_made(tmp_path, monkeypatch, kind):
    """A mistyped STARCOACH_HOME became a new, empty home (`takes`: "No takes yet"); one naming a
    file said only "config.toml: cannot read it (Not a directory)"; one under a file was offered a
    "mkdir -p" that fails (an audit)."""
    from typer.testing import CliRunner

    from starcoach.cli import app

    where = tmp_path / "typo-home"
    if kind != "missing":
        where.write_text("hi")
    if kind == "under a file":
        where = where / "home"
    monkeypatch.setenv("STARCOACH_HOME", str(where))
    result = CliRunner().invoke(app, ["takes"])
    assert result.exit_code == 1, result.output
    said = {"file": "is a file, not a folder", "missing": "does not exist",
            "under a file": f"lies under {where.parent}, which is a file, not a folder"}[kind]
    assert result.output.startswith(f"starcoach: STARCOACH_HOME={where} {said}"), result.output
    assert (where.is_file() if kind == "file" else not where.exists())
    # the advice must work: "mkdir -p" of a name a file holds fails (an audit found it offered)
    assert ("mkdir -p" in result.output) == (kind == "missing"), result.output


@pytest.mark.parametrize("name", ["new home", "it's $HOME; `x`", "a*"])
def test_the_mkdir_offered_for_a_missing_home_makes_that_folder(tmp_path, monkeypatch, name):
    """The command was printed unquoted: pasted, `mkdir -p …/new home` made `…/new` and `./home`."""
    import subprocess

    from typer.testing import CliRunner

    from starcoach.cli import app

    homes = tmp_path / "homes"
    homes.mkdir()
    (homes / "ab").mkdir()  # what "a*" matches, unquoted
    where = homes / name
    monkeypatch.setenv("STARCOACH_HOME", str(where))
    result = CliRunner().invoke(app, ["paths"])
    assert result.exit_code == 1, result.output
    command = re.search(r"\((mkdir -p .*)\) to start a new home there", result.output)
    assert command, result.output
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    subprocess.run(["sh", "-c", command.group(1)], cwd=elsewhere, check=True)
    assert where.is_dir() and not any(elsewhere.iterdir())
    assert sorted(p.name for p in homes.iterdir()) == sorted(["ab", name])


def test_no_mkdir_is_offered_for_a_home_whose_name_cannot_be_pasted(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from starcoach.cli import app

    monkeypatch.setenv("STARCOACH_HOME", str(tmp_path / "new\nhome"))
    result = CliRunner().invoke(app, ["paths"])
    assert result.exit_code == 1 and "does not exist" in result.output and "mkdir -p" not in result.output, \
        result.output


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


# --- [paths] database must name the takes database, nothing else ------------------------

FLAC = (ROOT / "samples" / "short-answer.flac").read_bytes()
WAV = b"RIFF\x24\x7d\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00" + bytes(32000)
SQLITE_HEAD = b"SQLite format 3\x00"


def _a_take(home: Path, suffix: str, content: bytes) -> str:
    day = home / "recordings" / "2026-12-06"
    day.mkdir(parents=True, exist_ok=True)
    (day / f"take-135721{suffix}").write_bytes(content)
    return f"recordings/2026-12-06/take-135721{suffix}"


def _fifo(home: Path) -> str:
    import os

    os.mkfifo(home / "pipe")
    return "pipe"


def _linked(home: Path, how: str) -> str:
    import os

    (os.link if how == "hard" else os.symlink)(home / "config.toml", home / "db.sqlite")
    return "db.sqlite"


def _put(home: Path, name: str, content: bytes) -> str:
    (home / name).parent.mkdir(parents=True, exist_ok=True)
    (home / name).write_bytes(content)
    return name


_NOT_A_DATABASE = {  # how the setting is made to name something else, and what the refusal says
    "config.toml": (lambda h: "config.toml", "is this configuration file"),
    "a hard link to config.toml": (lambda h: _linked(h, "hard"), "is this configuration file"),
    "a symbolic link to config.toml": (lambda h: _linked(h, "soft"), "is this configuration file"),
    "the question file": (lambda h: _put(h, "mine.toml", b'[[question]]\nid = "m"\ntext = "Why?"\n'),
                          "is the question file"),
    "a take's audio": (lambda h: _a_take(h, ".flac", FLAC), "inside a folder of [paths] recordings"),
    "a take's metadata": (lambda h: _a_take(h, ".meta.json", b'{"version": 1}'), "inside a folder of [paths] recordings"),
    "a take's partial audio": (lambda h: _a_take(h, ".wav.part", WAV), "inside a folder of [paths] recordings"),
    "a file not made yet in a take's folder": (lambda h: (_a_take(h, ".flac", FLAC), "recordings/2026-12-06/x.db")[1],
                                               "inside a folder of [paths] recordings"),
    "a device": (lambda h: "/dev/null", "a device, pipe or socket"),
    "a pipe": (_fifo, "a device, pipe or socket"),
    "TOML text": (lambda h: _put(h, "notes.toml", b'[paths]\nmodels = "models"\n'), "a text file"),
    "JSON text": (lambda h: _put(h, "take.json", b'{"take": {"id": 1}}\n'), "a text file"),
    "UTF-16 text": (lambda h: _put(h, "notes.txt", "I led the migration.\n".encode("utf-16")), "a text file"),
    "a FLAC recording": (lambda h: _put(h, "answer.flac", FLAC), "a recording"),
    "a WAV in recordings/": (lambda h: _put(h, "recordings/answer.wav", WAV), "a recording"),
    "an Ogg recording": (lambda h: _put(h, "a.ogg", b"OggS\x00\x02" + bytes(200)), "a recording"),
    "an MP3 recording": (lambda h: _put(h, "a.mp3", b"ID3\x04\x00\x00" + bytes(200)), "a recording"),
    "an MP3 with no tag": (lambda h: _put(h, "b.mp3", b"\xff\xfb\x90\x64" + bytes(400)), "a recording"),
    "a zip file": (lambda h: _put(h, "a.docx", b"PK\x03\x04\x14\x00" + bytes(200)), "a Word, OpenDocument or zip"),
}


def _with_database(home: Path, value: str) -> None:
    cfg = home / "config.toml"
    text = cfg.read_text()
    assert 'database = "recordings/starcoach.db"' in text
    cfg.write_text(text.replace('database = "recordings/starcoach.db"', f'database = "{value}"', 1)
                   .replace('questions = ""', 'questions = "mine.toml"', 1 if (home / "mine.toml").exists() else 0))


def _files(home: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(home)): (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
            for p in sorted(home.rglob("*"))}


@pytest.mark.parametrize("what", _NOT_A_DATABASE)
def test_a_database_setting_that_names_another_file_is_refused_and_the_file_left_as_it_is(home, what):
    """`database = "config.toml"` (or a take's audio): `takes` said the database was damaged and to run
    `doctor`, and `doctor` moved the file aside and wrote an SQLite database in its place (config.toml
    then unreadable, the take's audio gone). Said when the config is read, naming the setting."""
    from typer.testing import CliRunner

    from starcoach.cli import app

    make, says = _NOT_A_DATABASE[what]
    _with_database(home, make(home))
    before = _files(home)
    with pytest.raises(ConfigError) as err:
        load_config()
    line = str(err.value)
    assert "[paths] database" in line and says in line and str(home / "config.toml") in line, line
    for command in (["takes"], ["doctor"], ["import", str(ROOT / "samples" / "short-answer.flac")]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 1 and result.output == f"starcoach: {line}\n", (command, result.output)
    assert _files(home) == before  # nothing moved aside, written or made
    assert not list(Path("/dev").glob("null-*"))


@pytest.mark.parametrize("value, content", [
    ("recordings/starcoach.db", None),  # the default, in recordings/ itself
    ("starcoach.db", None),
    ("recordings/other.db", None),
    ("new.db", b""),  # an empty file is a new database
    ("damaged.db", SQLITE_HEAD + bytes(range(256)) * 8),  # a damaged database: `doctor`'s to rebuild
    ("zeroed.db", bytes(4096)),
    ("cut.db", SQLITE_HEAD[:8]),  # "SQLite f": cut short, not text
    ("noise.db", __import__("random").Random(0).randbytes(4096)),
])
def test_a_database_setting_that_may_be_a_takes_database_is_accepted(home, value, content):
    if content is not None:
        (home / value).write_bytes(content)
    _with_database(home, value)
    assert load_config().paths.database == home / value


@pytest.mark.parametrize("paths, says", [
    ('database = "recordings"', "[paths] database = 'recordings' and recordings = 'recordings' are the same path"),
    ('recordings = "recordings/starcoach.db"',
     "[paths] database = 'recordings/starcoach.db' and recordings = 'recordings/starcoach.db' are the same path"),
    ('recordings = "recordings/starcoach.db/takes"', "[paths] recordings = 'recordings/starcoach.db/takes' is "
                                                     "inside [paths] database = 'recordings/starcoach.db'"),
    ('models = "mine"\ndatabase = "mine"', "[paths] database = 'mine' and models = 'mine' are the same path"),
    ('models = "recordings"', "[paths] models = 'recordings' and recordings = 'recordings' are the same path"),
    ('recordings = "./takes/"\ndatabase = "takes/../takes"', "[paths] database = 'takes/../takes' and "
                                                             "recordings = './takes/' are the same path"),
])
def test_paths_that_are_one_another_are_refused_before_anything_is_made(home, paths, says):
    """In a new home `database = "recordings"` was taken: the first `takes` made an SQLite file called
    recordings, and from then on every command (`paths` too) failed with "[paths] recordings =
    'recordings' cannot be a folder", naming the setting that was not changed."""
    from typer.testing import CliRunner

    from starcoach.cli import app

    cfg = home / "config.toml"
    text = re.sub(r"^(models|recordings|database) = .*$", r"# \g<0>", cfg.read_text(), flags=re.M)
    cfg.write_text(text.replace("[paths]", f"[paths]\n{paths}", 1))
    for command in (["takes"], ["paths"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 1 and result.output.startswith(f"starcoach: {cfg}: {says}"), result.output
        assert "\n" not in result.output.strip()
    assert [p.name for p in home.iterdir()] == ["config.toml"]


def test_a_database_in_a_model_s_folder_is_refused(home):
    (home / "mine" / "base").mkdir(parents=True)
    (home / "mine" / "base" / "model.bin").write_bytes(b"weights")
    cfg = home / "config.toml"
    cfg.write_text(re.sub(r"^(models|database) = .*$", r"# \g<0>", cfg.read_text(), flags=re.M)
                   .replace("[paths]", '[paths]\nmodels = "mine"\ndatabase = "mine/base/starcoach.db"', 1))
    with pytest.raises(ConfigError, match=r"\[paths\] database = 'mine/base/starcoach.db' is inside a folder of "
                                          r"\[paths\] models"):
        load_config()


def test_a_database_in_a_model_s_folder_reached_through_a_link_is_refused(home, tmp_path):
    """An audit (session 53): with `models/base` a link to a model elsewhere (as a shared model is linked),
    `database = "models/base/x.db"` made the database and its lock file among that model's files: the
    link's target is not under `models`, so the rule was never asked."""
    (tmp_path / "elsewhere" / "base").mkdir(parents=True)
    (tmp_path / "elsewhere" / "base" / "model.bin").write_bytes(b"weights")
    (home / "mine").mkdir()
    (home / "mine" / "base").symlink_to(tmp_path / "elsewhere" / "base")
    cfg = home / "config.toml"
    cfg.write_text(re.sub(r"^(models|database) = .*$", r"# \g<0>", cfg.read_text(), flags=re.M)
                   .replace("[paths]", '[paths]\nmodels = "mine"\ndatabase = "mine/base/x.db"', 1))
    with pytest.raises(ConfigError, match=r"\[paths\] database = 'mine/base/x.db' is in a folder that holds a model "):
        load_config()
    assert sorted(p.name for p in (tmp_path / "elsewhere" / "base").iterdir()) == ["model.bin"]


@pytest.mark.parametrize("paths", [
    'database = "recordings/index/starcoach.db"',
    'recordings = "."',
    'models = "."',
    'recordings = "data"\ndatabase = "data/db/starcoach.db"',
    'models = "mine"\ndatabase = "mine/index/starcoach.db"',
])
def test_a_database_beside_takes_or_models_but_not_among_them_is_taken(home, paths):
    """A review: the first check refused a database anywhere under the recordings or models folder
    (these all worked before it), and with `models = "."` told the user to use the default path they
    had. Only a day's folder of takes, or a folder with a model in it, is refused."""
    cfg = home / "config.toml"
    keys = {line.split(" = ")[0] for line in paths.splitlines()}
    text = re.sub(r"^(models|recordings|database) = .*$",
                  lambda m: f"# {m.group(0)}" if m.group(1) in keys else m.group(0), cfg.read_text(), flags=re.M)
    cfg.write_text(text.replace("[paths]", f"[paths]\n{paths}", 1))
    assert load_config().paths.database.name == "starcoach.db"


def test_a_database_setting_that_names_a_folder_says_so(home):
    (home / "old").mkdir()
    _with_database(home, "old")
    with pytest.raises(ConfigError, match=r"\[paths\] database = 'old' cannot be a file: .*/old is a folder"):
        load_config()


_SECTIONS = "the sections are [paths], [model], [metrics], [star], [record] and [live]"


@pytest.mark.parametrize("text, says", [
    # a key outside any section is no section; where it belongs, if anywhere
    ("foo = 1\n", f"foo = 1 is outside any section; {_SECTIONS}"),
    ("threads = 4\n[model]\nname = 'base'\n", "threads = 4 is outside any section; it is a setting of [model]: "
                                               "put it under [model]"),
    ("[modle]\nname = 'base'\n", f"unknown section [modle]; did you mean [model]? ({_SECTIONS})"),
    ("[nonsense]\nx = 1\n", f"unknown section [nonsense]; {_SECTIONS}"),
    ("[model]\nthread = 4\n", "[model] has no setting named 'thread'; did you mean 'threads'?"),
    ("[paths]\nquestion = 'mine.toml'\n", "[paths] has no setting named 'question'; did you mean 'questions'?"),
    ("[model]\nlong_pause_s = 3.0\n", "[model] has no setting named 'long_pause_s'; it is a setting of [metrics]"),
    ("[record]\nfoo = 1\n", "[record] has no setting named 'foo'; its settings are sample_rate, max_seconds and "
                             "countdown_s"),
    # type errors in TOML's words, with the type wanted
    ("[model]\nthreads = 1979-05-27\n", "[model] threads has the wrong type: 1979-05-27 is a date; it must be a "
                                         "whole number"),
    ("[model]\nthreads = 07:32:00\n", "[model] threads has the wrong type: 07:32:00 is a time; it must be"),
    ("[model]\nthreads = 1979-05-27T07:32:00Z\n", "[model] threads has the wrong type: 1979-05-27T07:32:00+00:00 is "
                                                   "a date and time; it must be"),
    # a pair names the item that is wrong (an audit: "[120, 'x'] is a list; it must be a list of two numbers")
    ("[metrics]\ntarget_wpm = [true, false]\n", "[metrics] target_wpm has the wrong type: true in [true, false] is "
                                                 "a boolean; it must be a list of two numbers, such as [120, 160]"),
    ("[metrics]\ntarget_wpm = [120, 'x']\n", "[metrics] target_wpm has the wrong type: 'x' in [120, 'x'] is a string"),
    ("[metrics]\ntarget_wpm = [0, 0]\n", "[metrics] target_wpm = [0, 0]: 0 is out of range (allowed: 40.0 to 400.0)"),
    ("[star]\ntarget_length_s = [90, 9999]\n", "[star] target_length_s = [90, 9999]: 9999 is out of range"),
    # no longer than starcoach analyses (a take of 4 hours was stored that analyze would not read)
    ("[record]\nmax_seconds = 14400\n", "[record] max_seconds = 14400.0 is out of range (allowed: 0.0 to 10800.0)"),
    ("[model]\nthreads = {a = 1}\n", "[model] threads has the wrong type: { a = 1 } is a table; it must be a whole "
                                      "number"),
    ("[model]\nthreads = 4.0\n", "[model] threads has the wrong type: 4.0 is a number with a decimal point; it must be a "
                                  "whole number"),
    ("[record]\ncountdown_s = '3'\n", "[record] countdown_s has the wrong type: '3' is a string; it must be a whole "
                                       "number"),
    ("[live]\nenabled = 1\n", "[live] enabled has the wrong type: 1 is a whole number; it must be true or false"),
    ("[metrics]\nlong_pause_s = [[1, 'a'], {b = true}]\n", "[metrics] long_pause_s has the wrong type: "
                                                           "[[1, 'a'], { b = true }] is a list; it must be a number"),
    # a value of a long list: a close one, or the list itself
    ("[model]\nlanguage = 'EN'\n", "[model] language = 'EN' is not a known value; did you mean 'en'?"),
    ("[model]\ncompute_type = 'int3'\n", "[model] compute_type = 'int3' is not a known value; did you mean 'int8'? "
                                          "(allowed: auto, default, int8,"),
    ("[model]\nlanguage = 'english'\n", "[model] language = 'english' is not a known value (allowed: af, am, ar,"),
])
def test_a_config_error_says_what_is_wrong_in_toml_s_words_and_what_would_be_right(tmp_path, text, says):
    """`foo = 1` was "unknown section(s) foo"; `[modle]` and `thread = 4` named no valid name; a date
    was "wrong type (datetime.date(1979, 5, 27))" and `[true, false]` "([True, False])"; "english"
    was "one of 100 values, such as 'en'", with no word of where the 100 are."""
    (tmp_path / "config.toml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert str(err.value).startswith(f"{tmp_path / 'config.toml'}: {says}"), str(err.value)
    assert "datetime" not in str(err.value) and "True" not in str(err.value)


@pytest.mark.parametrize("text, low, high", [
    ("[live]\nmin_chunk_s = 20\n", 20.0, 20.0),  # above max_chunk_s's default (18): the default follows
    ("[live]\nmax_chunk_s = 10\n", 10.0, 10.0),  # below min_chunk_s's default (12)
    ("[live]\nmin_chunk_s = 14\n", 14.0, 18.0),  # in order: as given
])
def test_a_setting_given_alone_takes_the_default_of_its_pair_with_it(tmp_path, text, low, high):
    """`[live] min_chunk_s = 20` was a valid config until max_chunk_s's default went down to 18; then
    it was refused as "above max_chunk_s = 18.0", a setting the user never wrote."""
    (tmp_path / "config.toml").write_text(text)
    live = load_config(tmp_path).live
    assert (live.min_chunk_s, live.max_chunk_s) == (low, high)


def test_a_pair_given_out_of_order_is_refused(tmp_path):
    (tmp_path / "config.toml").write_text("[live]\nmin_chunk_s = 20\nmax_chunk_s = 15\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert str(err.value) == (f"{tmp_path / 'config.toml'}: [live] min_chunk_s = 20.0 is above max_chunk_s = 15.0; "
                              "it must not be")


@pytest.mark.parametrize("raw", [b'[model]\nname = "caf\xe9"\n', "[model]\nname = 'base'\n".encode("utf-16"),
                                 b'\xef\xbb\xbf[model]\nname = "caf\xe9"\n'])  # the line was one early after a BOM
def test_a_config_that_is_not_utf8_names_the_line_and_says_to_save_it_as_utf8(tmp_path, raw):
    """A Latin-1 config.toml was "not valid TOML ('utf-8' codec can't decode byte 0xe9 in position 19:
    invalid continuation byte)": a byte offset, and no word of what to do."""
    (tmp_path / "config.toml").write_bytes(raw)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    line = raw[:raw.index(b"\xe9")].count(b"\n") + 1 if b"\xe9" in raw else 1
    assert str(err.value) == f"{tmp_path / 'config.toml'}: line {line} is not UTF-8 text; save the file as UTF-8", \
        str(err.value)


def test_a_home_that_cannot_be_looked_into_is_named_not_a_config_toml_it_may_not_have(tmp_path):
    """A home folder this user may not search said "…/config.toml: cannot read it (Permission
    denied)", though there is no config.toml: the folder is what to fix."""
    import os
    import subprocess
    import sys

    from tests.conftest import unprivileged

    locked = tmp_path / "locked"
    locked.mkdir(mode=0)
    drop = unprivileged()
    try:
        done = subprocess.run([*drop, sys.executable, "-m", "starcoach", "paths"], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "STARCOACH_HOME": str(locked)})
    finally:
        locked.chmod(0o700)
    assert done.returncode == 1 and done.stderr == (
        f"starcoach: {locked}: cannot look inside this folder (Permission denied), so its config.toml cannot be "
        "read either; check the permissions of the folder and of the folders above it\n"), done.stderr


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


def _whole_model(made, folder):
    import os

    folder.mkdir(parents=True)
    for f in made.iterdir():
        os.link(f, folder / f.name)
    return folder


def test_a_name_of_a_folder_under_models_stays_a_name_though_one_is_beside_config_toml_too(home, tmp_path,
                                                                                          models_dir):
    """`name = "mm/base"` with mm/base both beside config.toml and under [paths] models: the config read
    it as a name (models/mm/base, as the docs say), and the finder, asked again from config.toml's
    folder, loaded the other one. One rule now decides, once."""
    from starcoach.asr.models import resolve_model

    made = resolve_model("tiny.en", models_dir).path
    mdir = tmp_path / "models"
    _whole_model(made, home / "mm" / "base")
    kept = _whole_model(made, mdir / "mm" / "base")
    cfg = home / "config.toml"
    cfg.write_text(re.sub(r"^models = .*$", f'models = "{mdir}"', cfg.read_text(), count=1, flags=re.M))
    _set_model_name(home, "mm/base")
    config = load_config()
    assert config.model == "mm/base"
    assert config.analyzer().model.path == kept
    assert [m.path for m in config.model_list() if m.default] == [kept]


def test_model_follows_the_rule_of_model_name_from_the_current_folder(home, tmp_path, monkeypatch, models_dir):
    """`--model mine`, a model folder in the folder the command runs in, was taken for a model's name
    ("unknown model 'mine'") where `name = "mine"` beside config.toml is that folder: one rule for both,
    from the current folder for a name typed on the command line."""
    from starcoach.asr.models import resolve_model

    made = resolve_model("tiny.en", models_dir).path
    here = tmp_path / "here"
    mine = _whole_model(made, here / "mine")
    _whole_model(made, here / "tiny.en")  # a bundled model's name is never a folder's
    monkeypatch.chdir(here)
    config = load_config()
    assert config.analyzer("mine").model.path == mine
    assert config.analyzer("./mine").model.path == mine
    assert config.analyzer("tiny.en").model.path == models_dir / "tiny.en"

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


def test_paths_are_printed_whole_however_narrow_the_output(tmp_path):
    """`starcoach paths | cat` printed ".../a_rather_long_home_folder_name_for_the…": a path that names
    no file (the output is 80 columns wide when it is not a terminal)."""
    import os
    import subprocess
    import sys

    home = tmp_path / ("a_rather_long_home_folder_name_for_the_audit_" * 2 + "x")
    home.mkdir()
    (home / "config.toml").write_text("")
    done = subprocess.run([sys.executable, "-m", "starcoach", "paths"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "STARCOACH_HOME": str(home), "COLUMNS": "60"})
    assert done.returncode == 0 and "…" not in done.stdout, done.stdout
    assert f"models      {home / 'models'}\n" in done.stdout and f"database    {home / 'recordings'}" in done.stdout


def test_a_model_s_path_is_folded_not_cut(tmp_path):
    import io

    from rich.console import Console

    from starcoach.asr.models import ModelInfo
    from starcoach.output.report import render_models

    where = tmp_path / ("a_rather_long_folder_name_" * 4) / "models" / "base"
    out = io.StringIO()
    render_models([ModelInfo(name="base", path=where, ready=True, size_bytes=145_000_000, source="bundled",
                             about="", default=True)], Console(file=out, width=60))
    cells = "".join(line.split("│")[-2].strip() for line in out.getvalue().splitlines() if line.count("│") > 2)
    assert "…" not in out.getvalue() and str(where) in cells, out.getvalue()


@pytest.mark.parametrize("err, says", [(errno.EROFS, "the disk is read-only; remount it writable, or set database "
                                                     "under [paths] in "),
                                        (errno.EACCES, "Permission denied; set database under [paths] in ")])
def test_a_new_home_whose_takes_folder_cannot_be_made_is_told_what_to_do(tmp_path, monkeypatch, err, says):
    """An audit: a new home on a read-only disk was told to "change database in …/config.toml", a file
    it does not have, on a disk that cannot be written."""
    import os
    from pathlib import Path

    def refuse(self, *args, **kwargs):
        raise OSError(err, os.strerror(err), str(self))

    paths = load_config(tmp_path).paths
    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(ConfigError) as caught:
        paths.storage_folder("database")
    text = str(caught.value)
    assert says in text and text.endswith(("(a new file) to a folder on a disk you can write", "(a new file)")), text


def test_paths_says_when_a_home_has_no_config_file(tmp_path, monkeypatch):
    """A first-run audit (session 53): installed from a wheel, `paths` named a config.toml that was never
    made, the wheel held none, and the README said that file documents every setting."""
    from typer.testing import CliRunner

    from starcoach.cli import app

    monkeypatch.setenv("STARCOACH_HOME", str(tmp_path))
    said = CliRunner().invoke(app, ["paths"])
    assert said.exit_code == 0, said.output
    from starcoach.config.paths import PACKAGED_CONFIG

    assert f"config      {tmp_path / 'config.toml'} (none there: every setting at its default; to change one, copy " \
           f"{PACKAGED_CONFIG} there)" in said.stdout, said.stdout
    # the package carries the project's config.toml (a link in the checkout, the file in a wheel)
    assert PACKAGED_CONFIG.read_text() == (Path(__file__).parents[1] / "config.toml").read_text()
    (tmp_path / "config.toml").write_text("")
    assert f"config      {tmp_path / 'config.toml'}\n" in CliRunner().invoke(app, ["paths"]).stdout


def _setting_rows() -> list[str]:
    """The table of every setting in docs/configuration.md, from the options the settings fill."""
    import dataclasses

    from starcoach.config import _OPTIONS, SECTIONS
    from starcoach.config.paths import _DEFAULTS, PATH_SETTINGS

    def shown(value) -> str:
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, tuple):
            return "[" + ", ".join(f"{v:g}" for v in value) + "]"
        return f'"{value}"' if isinstance(value, str) else f"{value:g}" if isinstance(value, float) else str(value)

    def allowed(f) -> str:
        if "range" in f.metadata:
            lo, hi = f.metadata["range"]
            return ("each " if isinstance(f.default, tuple) else "") + f"{lo:g} to {hi:g}"
        if "choices" in f.metadata:
            choices = f.metadata["choices"]
            return ", ".join(choices) if len(choices) <= 12 else f"one of Whisper's {len(choices)} language codes"
        if "max_chars" in f.metadata:
            return f"text, at most {f.metadata['max_chars']} characters"
        return "true or false" if isinstance(f.default, bool) else "text"

    rows = [f"| `[paths] {key}` | {shown(_DEFAULTS.get(key, ''))} | a path |" for key in PATH_SETTINGS]
    rows.append('| `[model] name` | "base" | a bundled model, a folder, or a faster-whisper name |')
    for section in SECTIONS[1:]:
        rows += [f"| `[{section}] {f.name}` | {shown(f.default)} | {allowed(f)} |"
                 for f in dataclasses.fields(_OPTIONS[section])]
    return rows


def test_every_setting_is_in_the_configuration_doc_with_its_default_and_range():
    """An audit: docs/configuration.md named 13 of the 48 settings and no range (those were in the code)."""
    doc = (ROOT / "docs" / "configuration.md").read_text()
    missing = [row for row in _setting_rows() if row not in doc]
    assert missing == [], "\n".join(missing)
