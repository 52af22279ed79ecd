"""`doctor` and `recover` rebuilding the takes index: a failure half-way, another rebuild at
the same time, a take deleted under them, several takes re-analysed in one process.

The takes are silence (no model is loaded) unless a test says otherwise; each fault is made
deterministic by replacing one step or by making the state it would leave beforehand.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.test_bad_inputs import SILENCE, one_line, run, snapshot, stored  # noqa: F401 (stored: a fixture)


def _database() -> Path:
    from starcoach.config import load_config

    return load_config().paths.database


def _checkpointed(db: Path) -> None:
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# --- finding 2: a rebuild that cannot be written leaves the damaged database where it was ----

def test_a_rebuild_the_disk_cannot_hold_leaves_the_damaged_database_in_place_and_its_ids(
        tmp_path, stored, monkeypatch):
    """doctor moved the damaged database aside, then failed writing the new one (a full disk); the next
    doctor found the new, near-empty file "ok" and never read the moved-aside one: stored analyses
    were redone and a deleted take's id was given again."""
    import starcoach.takes.doctor as doctor

    assert json.loads(run("import", SILENCE(tmp_path), "--json").stdout)["take"]["id"] == 3
    assert run("delete", "3", "--yes").exit_code == 0
    before = snapshot()
    db = _database()
    with sqlite3.connect(db) as con:
        con.execute("ALTER TABLE takes DROP COLUMN overflows")  # damage doctor rebuilds from
    _checkpointed(db)
    damaged = db.read_bytes()

    real = doctor._restore

    def disk_fills(store, rows):
        real(store, rows)
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(doctor, "_restore", disk_fills)
    line = one_line(run("doctor"), 1)
    assert "left as it was" in line and "disk is full" in line and "starcoach doctor` again" in line, line
    assert db.read_bytes() == damaged  # the damaged database is where it was, as it was
    left = [p.name for p in db.parent.iterdir() if p.is_file()]
    assert not [n for n in left if "damaged" in n or "rebuilding" in n], left  # nothing set aside or half-written
    assert "damaged" in one_line(run("takes"), 1)

    monkeypatch.setattr(doctor, "_restore", real)  # space freed
    fixed = run("doctor")
    assert fixed.exit_code == 0, fixed.output
    assert "moved the damaged database aside" in fixed.stdout and "kept 2 readable takes" in fixed.stdout
    assert snapshot() == before  # stored analyses kept, not redone
    assert json.loads(run("import", SILENCE(tmp_path), "--json").stdout)["take"]["id"] == 4


def test_doctor_keeps_the_ids_a_database_it_set_aside_earlier_gave(tmp_path, stored):
    """A home an older release left half-rebuilt: the damaged database set aside, a new one in its
    place with a lower id counter. Its ids are never given again."""
    assert json.loads(run("import", SILENCE(tmp_path), "--json").stdout)["take"]["id"] == 3
    assert run("delete", "3", "--yes").exit_code == 0
    db = _database()
    _checkpointed(db)
    db.with_name(db.name + ".damaged-20261206-162123").write_bytes(db.read_bytes())
    with sqlite3.connect(db) as con:
        con.execute("UPDATE sqlite_sequence SET seq = 2 WHERE name = 'takes'")  # what the new file had
    assert run("doctor").exit_code == 0
    assert json.loads(run("import", SILENCE(tmp_path), "--json").stdout)["take"]["id"] == 4


@pytest.mark.parametrize("stop_at", ["_set_damaged_aside", "_aside_name"])
def test_a_doctor_stopped_during_the_swap_is_finished_by_the_next_and_loses_nothing(
        tmp_path, stored, monkeypatch, stop_at):
    """The reviews of 1bc6d6b and dc44fba: a doctor killed between setting the damaged database
    aside and renaming the rebuilt one into its place left no database at all (then the next command
    made an empty one, which the next doctor called ok: every take analysed again under new ids),
    or the damaged file without its log (-wal), whose rows were lost to every command. The rebuilt
    database now waits whole beside it: every command refuses until a doctor finishes the swap."""
    import starcoach.takes.doctor as doctor

    assert json.loads(run("import", SILENCE(tmp_path), "--json").stdout)["take"]["id"] == 3  # in the log only
    before = snapshot()
    db = _database()
    with sqlite3.connect(db) as con:
        con.execute("ALTER TABLE takes DROP COLUMN overflows")  # damage doctor rebuilds from
    assert Path(f"{db}-wal").stat().st_size > 0
    real = getattr(doctor, stop_at)

    def killed(*args):
        real(*args)
        raise KeyboardInterrupt  # the process ends here (as kill would: nothing after runs)

    monkeypatch.setattr(doctor, stop_at, killed)
    run("doctor")
    monkeypatch.setattr(doctor, stop_at, real)
    for command in ("takes", "import"):
        line = one_line(run(command, *(["--json"] if command == "takes" else [str(SILENCE(tmp_path))])), 1)
        assert "was stopped while it put the rebuilt takes database in place" in line and "run `starcoach doctor`" \
            in line, line
    done = run("doctor")
    assert done.exit_code == 0 and "finished the rebuild a stopped doctor left" in done.stdout, done.output
    assert snapshot() == before  # the same takes under the same ids, their analyses kept
    assert len(doctor._set_aside(db)) == 1  # the damaged one set aside once
    assert json.loads(run("import", SILENCE(tmp_path), "--json").stdout)["take"]["id"] == 4


# --- finding 3: a take being re-indexed is the rebuilding process's own ------------------------

def _lose_database() -> None:
    db = _database()
    for f in db.parent.glob(db.name + "*"):
        if not f.name.endswith(".lock"):
            f.unlink()


def _starcoach(*args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "starcoach", *args], capture_output=True, text=True, timeout=300)


def _while_analysing(monkeypatch, action) -> list:
    """Run ACTION() once, in the middle of the first analysis this process makes; its answers are
    returned in the list."""
    from starcoach.analysis.pipeline import Analyzer

    real = Analyzer.analyze_file
    seen: list = []

    def analyze_file(self, path, **kw):
        if not seen:
            seen.append(action(Path(path)))
        return real(self, path, **kw)

    monkeypatch.setattr(Analyzer, "analyze_file", analyze_file)
    return seen


def test_a_take_doctor_is_indexing_again_is_its_own_to_every_other_command(stored, monkeypatch):
    """doctor listed a re-indexed take as "recording" with no owner while it analysed it: `takes`
    called it left by an interruption and sent the user to `recover`, and a second doctor (or
    recover) then finished it as "recovered" and made the first stop on SQLite's "UNIQUE
    constraint failed: takes.audio_path"."""
    _lose_database()
    seen = _while_analysing(monkeypatch, lambda audio: (_starcoach("takes"), _starcoach("doctor"),
                                                        _starcoach("recover")))
    first = run("doctor")
    assert first.exit_code == 0, first.output
    assert first.stdout.count("re-indexed take") == 2, first.stdout
    listing, second, recovering = seen[0]
    assert listing.returncode == 0, listing.stderr
    assert "unfinished" not in listing.stderr and "recover" not in listing.stderr, listing.stderr
    assert "2 recordings under" in listing.stderr and "being listed again by `starcoach doctor` (pid " \
        in listing.stderr, listing.stderr
    for other, command in ((second, "doctor"), (recovering, "recover")):
        lines = [ln for ln in other.stderr.splitlines() if ln.strip()]
        assert other.returncode == 1 and len(lines) == 1, other.stderr
        assert "`starcoach doctor` (pid" in lines[0] and "already rebuilding" in lines[0], lines[0]
        assert f"then run `starcoach {command}` again" in lines[0] and "UNIQUE" not in lines[0], lines[0]
    after = snapshot()  # each once, under its own id, complete as its metadata says (not "recovered")
    assert [(t["id"], t["status"], t["audio_sha"]) for t in after] == \
        [(t["id"], "complete", t["audio_sha"]) for t in stored]


@pytest.mark.parametrize("command", ["doctor", "recover"])
def test_a_rebuild_stopped_mid_analysis_leaves_no_take_marked_recording(stored, monkeypatch, command):
    """Stopped (SIGTERM, kill -9) while it analysed a re-indexed take, doctor left it listed as
    "recording": `takes` sent the user to `recover`, and the next rebuild finished an import as
    "recovered". Now nothing is listed until its analysis is stored with it."""
    _lose_database()

    def killed(audio):
        raise KeyboardInterrupt  # no clean-up runs after it in the rebuild: a kill -9 leaves the same

    from starcoach.analysis.pipeline import Analyzer

    real = Analyzer.analyze_file
    _while_analysing(monkeypatch, killed)
    assert run(command).exit_code == 130
    monkeypatch.setattr(Analyzer, "analyze_file", real)
    with sqlite3.connect(_database()) as con:
        assert con.execute("SELECT id, status FROM takes WHERE status = 'recording'").fetchall() == []
    listing = run("takes")
    assert "unfinished" not in listing.stderr and "2 recordings under" in listing.stderr, listing.stderr
    assert run(command).exit_code == 0
    assert [(t["id"], t["status"]) for t in snapshot()] == [(t["id"], "complete") for t in stored]


def test_a_second_rebuild_is_refused_while_the_lock_is_held_and_runs_once_it_is_released(stored):
    """The lock is the kernel's (flock): held by a live process it refuses; released, as when its
    holder dies however it dies, the next run goes ahead."""
    import fcntl
    import os

    from starcoach.takes.rebuilding import lock_path

    fd = os.open(lock_path(_database()), os.O_RDWR | os.O_CREAT)
    try:
        os.write(fd, b"4242 doctor\n")
        fcntl.flock(fd, fcntl.LOCK_EX)
        line = one_line(run("recover"), 1)
        assert "`starcoach doctor` (pid 4242) is already rebuilding" in line, line
    finally:
        os.close(fd)
    assert run("recover").exit_code == 0


# --- finding 4: a take deleted while a rebuild works on it -------------------------------------

def test_a_take_deleted_while_recover_finishes_it_is_skipped_and_the_rest_are_indexed(stored, monkeypatch):
    """`delete` of a take recover was finishing made recover (and doctor) stop with "no take with
    id N", leaving the other recordings unlisted."""
    from starcoach.config import load_config
    from starcoach.takes.store import Store

    config = load_config()
    first = Path(stored[0]["audio_path"])
    left = first.with_name("take-000001-9.wav")  # a recording whose process died: its row says so
    left.write_bytes(first.read_bytes())
    with sqlite3.connect(config.paths.database) as con:
        con.execute("INSERT INTO takes (started_at, audio_path, source, status, pid) VALUES "
                    "('2026-12-05T00:00:00', ?, 'record', 'recording', NULL)",
                    (str(left.relative_to(config.paths.recordings)),))
        con.execute("DELETE FROM takes WHERE id = 2")  # and a take whose row was lost

    def delete_it(audio):
        with Store(config.paths.database, config.paths.recordings) as store:  # another process's delete
            store.delete(3, remove_files=lambda take: left.unlink())

    _while_analysing(monkeypatch, delete_it)
    result = run("recover")
    assert result.exit_code == 0, result.output
    assert "take 3: deleted while it was being finished; skipped" in result.stderr, result.output
    assert "no take with id" not in result.output
    assert [(t["id"], t["audio_sha"]) for t in snapshot()] == [(t["id"], t["audio_sha"]) for t in stored]


def test_a_recording_deleted_while_doctor_indexes_it_is_skipped_and_the_rest_are_indexed(stored, monkeypatch):
    _lose_database()
    seen = _while_analysing(monkeypatch, lambda audio: (audio.unlink(), audio.with_name(audio.stem + ".meta.json")
                                                        .unlink(), audio)[-1])
    result = run("doctor")
    assert result.exit_code == 0, result.output
    assert f"{seen[0]}: its audio was deleted while it was being indexed; skipped" in result.stdout, result.stdout
    assert [t["audio_path"] for t in snapshot()] == [t["audio_path"] for t in stored if t["audio_path"] != str(seen[0])]


# --- finding 6: several takes analysed again in one process get the figures a new process gives -

@pytest.mark.slow
def test_takes_doctor_indexes_again_in_one_process_keep_what_their_import_found(tmp_path, home):
    """CTranslate2 seeds each worker thread's sampler once, at its first draw, and the threads live as
    long as the model: the second take doctor analysed drew its fallback decodes where the first's
    stopped, and came back with other words, filler rate and rating than its import (a new process)
    stored. This answer at 8 kHz falls back (its three analyses in one process gave two texts)."""
    from tests.conftest import espeak

    espeak("At my last job our deploy pipeline failed every night. I was asked to fix it. I rewrote the "
           "scheduler and added retries. Failures dropped by ninety percent, and I learned to measure first.",
           tmp_path, voice="en", effects=("rate", "8000"), name="answer")
    imported = [json.loads(run("import", tmp_path / "answer.wav", "--json").stdout) for _ in range(3)]
    assert len({d["transcript"] for d in imported}) == 1  # each import is its model's first decoding
    _lose_database()
    assert run("doctor").exit_code == 0
    again = [json.loads(run("show", str(d["take"]["id"]), "--json").stdout) for d in imported]
    assert [d["transcript"] for d in again] == [d["transcript"] for d in imported]
    assert [d["metrics"] for d in again] == [d["metrics"] for d in imported]


def test_a_look_at_the_lock_is_waited_out_and_a_holder_is_not(tmp_path):
    """`takes` and the reviews look whether a doctor is running by holding the lock shared for a
    moment: a doctor starting in that moment refused, naming a process that had already exited
    (the review of 4261a7b, finding 4)."""
    import fcntl
    import os
    import threading

    from starcoach.takes.rebuilding import _locked

    path = tmp_path / "starcoach.db.lock"
    path.touch()
    looking, doctor = os.open(path, os.O_RDONLY), os.open(path, os.O_RDWR)
    try:
        fcntl.flock(looking, fcntl.LOCK_SH | fcntl.LOCK_NB)
        assert not _locked(doctor, patience_s=0.1)  # held throughout: another is at work
        threading.Timer(0.2, fcntl.flock, (looking, fcntl.LOCK_UN)).start()
        assert _locked(doctor, patience_s=30)  # held for a look: waited out
    finally:
        os.close(looking)
        os.close(doctor)


@pytest.mark.parametrize("suffix", [".lock", ".rebuilding", ".damaged-20261206-172010", ".damaged-20261206-172010-wal"])
def test_an_export_never_writes_over_a_file_doctor_keeps_beside_the_database(stored, suffix):
    """`export --force -o recordings/starcoach.db.damaged-…` replaced a set-aside damaged database,
    the only copy of its rows, with the export (the review of 1bc6d6b, finding 6); the lock and the
    rebuilt copy were as open to it."""
    db = _database()
    companion = db.with_name(db.name + suffix)
    companion.write_bytes(db.read_bytes())
    line = one_line(run("export", "1", "--format", "json", "-o", str(companion), "--force"), 1)
    assert f"{companion} is a file the takes database keeps beside it; exports never replace it" in line, line
    assert companion.read_bytes() == db.read_bytes()


def test_an_export_may_take_a_new_name_that_begins_with_the_database_s(tmp_path, stored):
    """Refusing every name that began with the database's said "is the takes database" of a new
    file, `recordings/starcoach.db.json` (the review of 60ca4a2)."""
    target = _database().with_name("starcoach.db.json")
    done = run("export", "1", "--format", "json", "-o", str(target))
    assert done.exit_code == 0 and json.loads(target.read_text())["take"]["id"] == 1, done.output


def test_a_stopped_swap_whose_damaged_database_was_deleted_by_hand_is_finished(tmp_path, stored, monkeypatch):
    """With the damaged file gone (deleted by hand after the stop), the rebuilt one takes its place:
    a doctor that set the missing file aside first would fail at every run, and every command would
    refuse for ever."""
    import starcoach.takes.doctor as doctor

    before = snapshot()
    db = _database()
    with sqlite3.connect(db) as con:
        con.execute("ALTER TABLE takes DROP COLUMN overflows")
    real = doctor._swap_in

    def killed(db_: Path):
        raise KeyboardInterrupt  # stopped with the rebuilt copy whole, nothing swapped yet

    monkeypatch.setattr(doctor, "_swap_in", killed)
    run("doctor")
    monkeypatch.setattr(doctor, "_swap_in", real)
    for f in db.parent.glob(db.name + "*"):
        if f.name in (db.name, db.name + "-wal", db.name + "-shm"):
            f.unlink()
    assert run("doctor").exit_code == 0
    assert snapshot() == before
