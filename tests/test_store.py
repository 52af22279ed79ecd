"""The takes database: real SQLite, migrations, cascades, and two processes at once."""

import json
import multiprocessing
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from starcoach.cli import app
from starcoach.domain.errors import NotFound, StoreError
from starcoach.takes.store import MIGRATIONS, Store
from tests.conftest import SAMPLES

runner = CliRunner()

DOC = {
    "transcript": "I fixed it.", "speaking_span_s": 2.0, "wpm": 90.0, "model": {"name": "base"},
    "words": [{"text": "I", "start": 0.1, "end": 0.2, "probability": 0.9, "filler": False},
              {"text": "um", "start": 0.3, "end": 0.5, "probability": 0.8, "filler": True}],
    "fillers": [{"text": "um", "start": 0.3, "end": 0.5, "kind": "filled_pause", "source": "transcript"}],
    "no_speech": False, "duration_s": 2.5, "speech_s": 1.5, "pauses": [],
    "metrics": {"filler_count": 1, "fillers_per_min": 30.0, "long_pause_count": 0, "i_count": 1, "we_count": 0,
                "filler_counts": {"um": 1}, "pause_count": 0, "target_wpm": [120, 160], "articulation_wpm": 90.0,
                "pace": [], "quantities": [], "action_i_count": 1, "action_we_count": 0, "fillers_lower_bound": False,
                "unconfirmed_hesitations": [], "repetitions": [], "hedges": {}},
    "star": {**{p: {"present": p == "action", "share_words": 1.0 if p == "action" else 0.0, "share_time": None}
                for p in ("situation", "task", "action", "result", "learning")}, "rating": 3, "sentences": [],
             "feedback": [], "strengths": []},
}


def test_schema_wal_foreign_keys_and_migrations(tmp_path):
    store = Store(tmp_path / "db" / "takes.db")
    assert store.applied_migrations() == [name for name, _ in MIGRATIONS]
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    store.close()
    again = Store(tmp_path / "db" / "takes.db")  # reopening applies nothing twice
    assert again.applied_migrations() == [name for name, _ in MIGRATIONS]


@pytest.mark.parametrize("stored, read", [
    ('["think-big", "side-projects"]', ("think-big", "side-projects")),
    (None, ("dive-deep",)),  # stored before the list was kept: its one principle
    ('{"a": 1}', ("dive-deep",)), ("[1, 2]", ("dive-deep",)), ("not json", ("dive-deep",)), ("[]", ("dive-deep",)),
    ('["a", "a", "b"]', ("a", "b")),
])
def test_a_take_s_principles_read_as_stored_or_as_its_one_principle(tmp_path, stored, read):
    """A take's principles column holds a JSON list; a take stored before it, or one edited or damaged
    there, reads as the one principle it kept (never a listing that fails)."""
    with Store(tmp_path / "t.db") as store:
        tid = store.begin_take(audio_path=tmp_path / "a.wav", question_id="deep-1", question_text="Q?",
                               principle="dive-deep", principles=("dive-deep", "ownership"))
        assert store.get(tid).principles == ("dive-deep", "ownership")
        store.db.execute("DELETE FROM take_principles WHERE take_id = ?", (tid,))
        if stored is not None:
            store.db.execute("INSERT INTO take_principles (take_id, principles) VALUES (?, ?)", (tid, stored))
        assert (store.get(tid).principle, store.get(tid).principles) == ("dive-deep", read)
        assert store.list()[0].summary()["principles"] == list(read)
        none = store.begin_take(audio_path=tmp_path / "b.wav", question_id=None, question_text=None)
        assert (store.get(none).principle, store.get(none).principles) == (None, ())


def test_take_life_cycle(tmp_path):
    with Store(tmp_path / "t.db") as store:
        tid = store.begin_take(audio_path=tmp_path / "a.wav", question_id="deep-1", question_text="Q?",
                               principles=("dive-deep",))
        assert store.get(tid).status == "recording" and store.unfinished()[0].id == tid
        store.finish_take(tid, duration_s=2.5, document=DOC, overflows=2, stopped_by="user")
        take = store.get(tid)
        assert (take.status, take.duration_s, take.overflows, take.filler_count, take.star_parts_present) == (
            "complete", 2.5, 2, 1, 1)
        assert store.document(tid)["transcript"] == "I fixed it."
        assert Path(store.get(tid).audio_path) == tmp_path / "a.wav"
        assert [t.id for t in store.list(question_id="deep-1")] == [tid] and store.list(question_id="x") == []
        store.delete(tid)
        assert store.list() == []
        with pytest.raises(NotFound, match="no take with id"):
            store.get(tid)


def test_a_damaged_database_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"this is not sqlite" * 100)  # (was text: not a database at all)
    with pytest.raises(StoreError, match="is damaged"):
        Store(bad)


# Files that are recognisably something else than a takes database, whatever their name.
FOREIGN = {
    "TOML text": b'[paths]\ndatabase = "config.toml"\n',
    "JSON text": b'{"version": 1, "audio": "take-135721.flac"}',
    "UTF-16 text": "I led the migration.".encode("utf-16"),
    "a FLAC recording": (SAMPLES / "short-answer.flac").read_bytes(),
    "a WAV recording": b"RIFF\x24\x7d\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00" + bytes(3000),
    "an Ogg recording": b"OggS\x00\x02" + bytes(300),
    "a zip file": b"PK\x03\x04\x14\x00" + bytes(300),
}


@pytest.mark.parametrize("kind", FOREIGN)
def test_a_file_that_is_not_a_takes_database_is_never_opened_moved_or_written(home, kind):
    """Behind config.toml's own check (the file made after the config was read, or a store opened on
    a path of its own): the store said "damaged, run `starcoach doctor`", and doctor moved the file
    aside and wrote a database in its place (a take's audio, or config.toml, lost that way)."""
    from starcoach.config import load_config
    from starcoach.takes.doctor import examine

    config = load_config()
    db = config.paths.database
    db.parent.mkdir(parents=True)
    db.write_bytes(FOREIGN[kind])
    for attempt in (lambda: Store(db), lambda: examine(config, analyzer=None)):
        with pytest.raises(StoreError) as err:
            attempt()
        line = str(err.value)
        assert line.startswith(f"{db} is not a takes database (") and "damaged" not in line, line
        # the way out when the file was written over at the right place (a review): the user moves it
        assert line.endswith("it was left as it is: check [paths] database in config.toml (if that is the right "
                             "place and the file was written over, move it elsewhere: `starcoach doctor` then "
                             "rebuilds the database from recordings/)"), line
    assert db.read_bytes() == FOREIGN[kind] and [p.name for p in db.parent.iterdir()] == [db.name]


def test_an_sqlite_error_on_a_file_that_is_not_a_takes_database_does_not_send_to_doctor(tmp_path):
    from starcoach.takes.store_errors import store_error

    notes = tmp_path / "notes.toml"
    notes.write_bytes(FOREIGN["TOML text"])
    line = str(store_error(notes, sqlite3.DatabaseError("file is not a database")))
    assert "not a takes database" in line and "damaged" not in line and "run `starcoach doctor`" not in line, line
    assert "move it elsewhere: `starcoach doctor` then rebuilds" in line, line  # doctor only once it is moved


@pytest.mark.parametrize("damage", ["zeroed", "cut after 8 bytes", "cut after 60 bytes", "its header page noise"])
def test_a_damaged_database_is_still_moved_aside_and_rebuilt_by_doctor(home, damage):
    from starcoach.config import load_config
    from starcoach.takes.doctor import examine

    config = load_config()
    db = config.paths.database
    Store(db).close()
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    whole = db.read_bytes()
    db.write_bytes({"zeroed": bytes(len(whole)), "cut after 8 bytes": whole[:8], "cut after 60 bytes": whole[:60],
                    "its header page noise": __import__("random").Random(0).randbytes(100) + whole[100:]}[damage])
    with pytest.raises(StoreError, match="is damaged .* run `starcoach doctor`"):
        Store(db)
    report = examine(config, analyzer=None)
    assert report.moved_aside is not None and report.moved_aside.is_file(), report.lines()
    assert Store(db).integrity() == ["ok"]


def _writer(path: str, n: int, tag: str) -> None:
    with Store(Path(path)) as store:
        for i in range(n):
            tid = store.begin_take(audio_path=Path(f"/tmp/{tag}-{i}.wav"), question_id=tag, question_text=None,
                                   principles=())
            store.finish_take(tid, duration_s=1.0, document=DOC)


def test_two_processes_write_at_once(tmp_path):
    path = str(tmp_path / "shared.db")
    Store(Path(path)).close()
    procs = [multiprocessing.get_context("spawn").Process(target=_writer, args=(path, 40, tag)) for tag in "ab"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with Store(Path(path)) as store:
        assert len(store.list(question_id="a")) == 40 and len(store.list(question_id="b")) == 40
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.slow
def test_import_show_delete_through_the_cli():
    result = runner.invoke(app, ["import", str(SAMPLES / "short-answer.flac"), "--question", "deep-1", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    tid = doc["take"]["id"]
    shown = json.loads(runner.invoke(app, ["show", str(tid), "--json"]).stdout)
    for key in ("transcript", "star", "words", "duration_s"):
        assert key in shown
    take = shown["take"]
    for key in ("id", "question_id", "started_at", "duration_s", "audio_path"):
        assert key in take
    assert take["id"] == tid and take["question_id"] == "deep-1" and take["source"] == "import"
    # the document printed at once names the question, as `show` does
    assert (doc["take"]["question_id"], doc["take"]["question_text"]) == ("deep-1", take["question_text"])
    audio = Path(take["audio_path"])
    assert audio.is_file() and audio.parent.parent.name == "recordings"
    refused = runner.invoke(app, ["delete", str(tid)], input="n\n")
    assert refused.exit_code != 0 and audio.is_file()
    gone = runner.invoke(app, ["delete", str(tid), "--yes"])
    assert gone.exit_code == 0 and not audio.exists()
    missing = runner.invoke(app, ["show", str(tid)])
    assert missing.exit_code == 1 and f"no take with id {tid}" in missing.stderr


@pytest.mark.parametrize("args, message", [
    (["show", "999"], "no take with id 999"),
    (["play", "999"], "no take with id 999"),
    (["delete", "999", "--yes"], "no take with id 999"),
    (["record", "--question", "no-such-q", "--seconds", "1"], "no question with id 'no-such-q'"),
    (["import", str(SAMPLES / "short-answer.flac"), "--question", "nope"], "no question with id 'nope'"),
    (["questions", "--lp", "nonsense"], "no Leadership Principle matches 'nonsense'"),
])
def test_unknown_ids_get_one_line(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_import_of_a_bad_file_stores_nothing(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_text("no audio")
    result = runner.invoke(app, ["import", str(bad)])
    assert result.exit_code == 1 and "holds text, not audio" in result.stderr
    assert json.loads(runner.invoke(app, ["takes", "--json"]).stdout) == []


def test_an_sqlite_database_of_another_program_is_not_made_a_takes_database(home):
    """`[paths] database` naming another program's SQLite file (a browser's history, say): the store
    turned it to WAL and added its own tables to it, and doctor ("the takes table is missing") moved
    it aside and wrote a takes database in its place."""
    from starcoach.config import load_config
    from starcoach.takes.doctor import examine

    config = load_config()
    db = config.paths.database
    db.parent.mkdir(parents=True)
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT)")
        con.execute("INSERT INTO moz_places (url) VALUES ('https://example.org')")
    con.close()
    before = db.read_bytes()
    for attempt in (lambda: Store(db), lambda: examine(config, analyzer=None)):
        with pytest.raises(StoreError) as err:
            attempt()
        line = str(err.value)
        assert line.startswith(f"{db} is not a takes database (it is an SQLite database of another program's, "
                               "with tables moz_places)"), line
        assert "check [paths] database in config.toml" in line, line
    assert db.read_bytes() == before and [p.name for p in db.parent.iterdir()] == [db.name]


@pytest.mark.slow
def test_a_database_written_over_at_its_place_is_moved_aside_by_the_user_and_rebuilt_by_doctor(home):
    """A review: the default database written over with text was refused everywhere, `doctor` too, and
    the line said only to give the database a file of its own (default: the path it had). It now
    says the way out, and the way works: the file moved elsewhere, `doctor` indexes the takes again."""
    from starcoach.config import load_config

    assert runner.invoke(app, ["import", str(SAMPLES / "short-answer.flac"), "--question", "deep-1"]).exit_code == 0
    db = load_config().paths.database
    db.write_text("these are my notes\n")
    for command in (["takes"], ["doctor"]):
        refused = runner.invoke(app, command)
        assert refused.exit_code == 1 and "the file was written over, move it elsewhere: `starcoach doctor` then " \
                                          "rebuilds the database from recordings/" in refused.output, refused.output
    assert db.read_text() == "these are my notes\n"
    db.rename(db.with_name("notes.txt"))
    assert runner.invoke(app, ["doctor"]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["takes", "--json"]).stdout)
    assert [t["question_id"] for t in listed] == ["deep-1"]


def test_a_store_that_connected_to_the_file_doctor_then_swapped_opens_the_new_one(tmp_path, monkeypatch):
    """Connected just before doctor took the users lock, a store waits for it and gets it after the swap: it
    must work on the file now under the database's name, not on the one set aside (a review's test)."""
    import os

    import starcoach.takes.store as store_module

    db = tmp_path / "starcoach.db"
    new = tmp_path / "new.db"
    with Store(db):
        pass
    with Store(new) as other:
        other.keep_ids_above(41)  # tells the two files apart
    real = store_module.hold_as_user

    def swapped_meanwhile(path, patience):
        os.link(db, tmp_path / "set-aside.db")
        os.replace(new, db)  # doctor's swap, while this store waited for the lock
        monkeypatch.setattr(store_module, "hold_as_user", real)
        return real(path, patience)

    monkeypatch.setattr(store_module, "hold_as_user", swapped_meanwhile)
    with Store(db) as store:
        row = store.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'takes'").fetchone()
        assert row is not None and row[0] == 41


def test_takes_are_listed_by_the_instant_they_were_made_not_by_id(tmp_path):
    """An imported or recovered take can be indexed after later ones, and a take made after a move to
    another UTC offset reads as text before earlier ones: the listing (and with it `takes`, `progress` and
    `compare`'s "the last take") goes by the instant."""
    made = ["2026-12-01T10:00:00+00:00",  # the second made, indexed first
            "2026-12-01T09:00:00+00:00",  # imported later, made first
            "2026-12-01T11:30:00+01:00",  # 10:30 UTC: made third, though its text sorts last
            "2026-12-01T10:45:00+00:00"]
    with Store(tmp_path / "t.db") as store:
        ids = [store.add_take(audio_path=tmp_path / f"{n}.wav", question_id="deep-1", question_text="Q?",
                              source="import", started_at=at, duration_s=2.5, document=None)
               for n, at in enumerate(made)]
        assert [t.id for t in store.list()] == [ids[1], ids[0], ids[2], ids[3]]
        assert [t.id for t in store.list(question_id="deep-1")] == [ids[1], ids[0], ids[2], ids[3]]
