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
    assert set(left) <= {"starcoach.db", "starcoach.db-wal", "starcoach.db-shm"}, left  # nothing set aside or half-written
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
