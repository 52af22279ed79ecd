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
                "unconfirmed_hesitations": []},
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


def test_take_life_cycle(tmp_path):
    with Store(tmp_path / "t.db") as store:
        tid = store.begin_take(audio_path=tmp_path / "a.wav", question_id="deep-1", question_text="Q?",
                               principle="dive-deep")
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


def test_not_a_database_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_text("this is not sqlite" * 100)
    with pytest.raises(StoreError, match="is damaged"):
        Store(bad)


def _writer(path: str, n: int, tag: str) -> None:
    with Store(Path(path)) as store:
        for i in range(n):
            tid = store.begin_take(audio_path=Path(f"/tmp/{tag}-{i}.wav"), question_id=tag, question_text=None,
                                   principle=None)
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
