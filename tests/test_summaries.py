"""Review summaries (migration 004): kept with each analysis, dropped with it, made again for takes
an older release stored; and `progress`, `coverage` and `compare` print what they printed before.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from starcoach.cli import app
from starcoach.takes import summaries
from starcoach.takes import migrations
from starcoach.takes.compare import content_words, summarise
from starcoach.takes.store import Store
from tests.test_store import DOC

runner = CliRunner()
# Takes stored by the store of commit 7f3daa6, the last before migration 004, and what its review
# commands printed for them (build.py there made both).
OLD = Path(__file__).parent / "data" / "takes-7f3daa6"
EXPECTED = sorted((OLD / "expected").glob("*.json"))
ANALYSED = [1, 2, 3, 4, 5, 7, 8, 9, 11]  # take 6's analysis is damaged, take 10 has none


def story(*words: str) -> dict:
    """DOC telling a story of WORDS (each a word that names something)."""
    doc = json.loads(json.dumps(DOC))
    doc["words"] = [{"text": w, "start": 0.1 * k, "end": 0.1 * k + 0.05, "probability": 0.9, "filler": False}
                    for k, w in enumerate(words)]
    return doc


RETRY = story(*"retried payments warehouse scanner outage Friday customers refunds forty".split())
MIGRATE = story(*"migrated billing database Postgres cutover weekend downtime minutes eleven".split())


@pytest.fixture
def old_home(home: Path) -> Path:
    shutil.copytree(OLD / "recordings", home / "recordings")
    return home


def _rows(db_path: Path) -> list[tuple]:
    with sqlite3.connect(db_path) as db:
        return db.execute("SELECT * FROM takes ORDER BY id").fetchall()


def _audio(home: Path) -> dict[str, str]:
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((home / "recordings").glob("*/*.flac"))}


def test_the_fixture_is_of_the_schema_before_summaries():
    with sqlite3.connect(f"{(OLD / 'recordings' / 'starcoach.db').as_uri()}?mode=ro&immutable=1", uri=True) as db:
        applied = [r[0] for r in db.execute("SELECT name FROM migrations ORDER BY name")]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert applied == ["001_takes", "002_drop_unread_tables", "003_never_reuse_take_ids"]
    assert "review_summaries" not in tables and len(EXPECTED) == 10


def test_takes_of_7f3daa6_migrate_and_the_reviews_print_what_they_printed(old_home, monkeypatch):
    """The first run of each command makes the summaries from the documents, the second reads
    them: both print what 7f3daa6 printed, byte for byte, and no take or audio changes."""
    monkeypatch.setenv("COLUMNS", "80")  # as build.py ran them
    db_path = old_home / "recordings" / "starcoach.db"
    before, audio = _rows(db_path), _audio(old_home)
    for run in ("makes the summaries", "reads them"):
        for path in EXPECTED:
            expected = json.loads(path.read_text())
            result = runner.invoke(app, expected["args"])
            said = (result.exit_code, result.stdout, result.stderr)
            assert said == (expected["exit_code"], expected["stdout"], expected["stderr"]), (run, path.name)
        with sqlite3.connect(db_path) as db:
            kept = db.execute("SELECT take_id, version FROM review_summaries ORDER BY take_id").fetchall()
            applied = [r[0] for r in db.execute("SELECT name FROM migrations ORDER BY name")]
        assert kept == [(i, summaries.VERSION) for i in ANALYSED], run
    assert applied[-3:] == ["004_review_summaries", "005_take_principles", "006_take_principles_table"]
    assert _rows(db_path) == before and _audio(old_home) == audio


def test_takes_of_7f3daa6_on_a_read_only_disk_are_reviewed_as_they_were(old_home, tmp_path, monkeypatch):
    """A copy of such a home on a read-only disk (a backup) cannot be upgraded there, and need not
    be: the reviews make the summaries they read from the documents, and keep none."""
    from tests.conftest import mounted_read_only

    with mounted_read_only(old_home, tmp_path / "ro") as ro:
        monkeypatch.setenv("STARCOACH_HOME", str(ro))
        monkeypatch.setenv("COLUMNS", "80")
        for path in EXPECTED:
            expected = json.loads(path.read_text())
            result = runner.invoke(app, expected["args"])
            said = (result.exit_code, result.stdout, result.stderr)
            assert said == (expected["exit_code"], expected["stdout"], expected["stderr"]), path.name
    assert (OLD / "recordings" / "starcoach.db").read_bytes() == (old_home / "recordings" / "starcoach.db").read_bytes()


def test_a_summary_is_kept_with_its_analysis_and_goes_with_it(tmp_path):
    with Store(tmp_path / "t.db") as store:
        take = store.add_take(audio_path=tmp_path / "a.wav", question_id="deep-1", question_text="Q?",
                              principles=("dive-deep",), source="import", started_at="2026-12-01T10:00:00+00:00",
                              duration_s=2.5, document=RETRY)

        def kept() -> list[tuple]:
            return store.db.execute("SELECT take_id, version, summary, words FROM review_summaries").fetchall()

        (row,) = kept()
        assert row[:2] == (take, summaries.VERSION) and json.loads(row[3]) == content_words(RETRY)
        assert summaries.read(store, [take]).of[take] == summarise(RETRY)
        store.finish_take(take, duration_s=2.5, document=MIGRATE)  # analysed again
        assert summaries.read(store, [take], words=True).words[take] == tuple(content_words(MIGRATE))
        assert len(kept()) == 1
        # an older release, or a hand edit, changes the analysis: the summary goes with it
        store.db.execute("UPDATE takes SET analysis_json = ? WHERE id = ?", (json.dumps(RETRY), take))
        assert kept() == []
        assert summaries.read(store, [take]).of[take] == summarise(RETRY) and len(kept()) == 1
        store.db.execute("""UPDATE takes SET analysis_json = '{"broken' WHERE id = ?""", (take,))
        found = summaries.read(store, [take])
        assert (found.of, found.damaged, kept()) == ({}, [take], [])
        store.finish_take(take, duration_s=2.5, document=RETRY)
        assert len(kept()) == 1
        store.delete(take)
        assert kept() == []


@pytest.mark.parametrize("column, value", [
    ("version", summaries.VERSION - 1), ("version", summaries.VERSION + 1), ("summary", "not json"),
    ("summary", '{"no_speech": false}'), ("summary", "[]"),
    ("summary", json.dumps({"no_speech": 0, "story_words": [], "figures": {}, "star": {}})),
    ("words", "[1, 2]"), ("words", '{"a": 1}'),
])
def test_a_summary_of_another_version_or_not_one_is_made_again(tmp_path, column, value):
    with Store(tmp_path / "t.db") as store:
        take = store.add_take(audio_path=tmp_path / "a.wav", question_id=None, question_text=None, principles=(),
                              source="import", started_at="2026-12-01T10:00:00+00:00", duration_s=2.5,
                              document=MIGRATE)
        whole = store.db.execute("SELECT version, summary, words FROM review_summaries").fetchone()
        store.db.execute(f"UPDATE review_summaries SET {column} = ?", (value,))
        found = summaries.read(store, [take], words=True)
        assert (found.of[take], found.words[take]) == (summarise(MIGRATE), tuple(content_words(MIGRATE)))
        assert store.db.execute("SELECT version, summary, words FROM review_summaries").fetchone() == whole


def test_summaries_made_where_the_database_cannot_be_written_are_not_kept_but_read(tmp_path):
    path = tmp_path / "t.db"
    with Store(path) as store:
        for n, doc in enumerate((RETRY, MIGRATE)):
            store.add_take(audio_path=tmp_path / f"{n}.wav", question_id=None, question_text=None,
                           principles=(), source="import", started_at="2026-12-01T10:00:00+00:00",
                           duration_s=2.5, document=doc)
        store.db.execute("DELETE FROM review_summaries")  # as an older release left them
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with Store(path) as store:
        store.db.close()
        store.db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)
        found = summaries.read(store, [1, 2])
        assert found.of == {1: summarise(RETRY), 2: summarise(MIGRATE)}
    with Store(path) as store:
        assert store.db.execute("SELECT count(*) FROM review_summaries").fetchone()[0] == 0
        summaries.read(store, [1, 2])
        assert store.db.execute("SELECT count(*) FROM review_summaries").fetchone()[0] == 2


def test_a_migration_cut_off_leaves_the_database_as_it_was(old_home, monkeypatch):
    db_path = old_home / "recordings" / "starcoach.db"
    before = _rows(db_path)

    def cut_off(db: sqlite3.Connection) -> None:
        migrations._m004_review_summaries(db)
        raise KeyboardInterrupt  # Ctrl+C once the table is made

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS[:3], ("004_review_summaries", cut_off)])
    monkeypatch.setattr("starcoach.takes.store.MIGRATIONS", migrations.MIGRATIONS)
    with pytest.raises(KeyboardInterrupt):
        Store(db_path)
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE name LIKE 'review_summar%'").fetchall() == []
        assert db.execute("SELECT count(*) FROM migrations").fetchone()[0] == 3
    assert _rows(db_path) == before
    monkeypatch.undo()
    monkeypatch.setenv("STARCOACH_HOME", str(old_home))
    result = runner.invoke(app, ["coverage", "--json"])
    assert result.exit_code == 0 and sum(p["takes"] for p in json.loads(result.stdout)) == 7, result.output


@pytest.mark.parametrize("dropped", ["TABLE review_summaries", "TRIGGER review_summary_follows_analysis"])
def test_doctor_rebuilds_a_database_whose_summaries_were_dropped_by_hand(old_home, dropped):
    from starcoach.config import load_config
    from starcoach.takes.doctor import examine

    config = load_config()
    assert runner.invoke(app, ["coverage"]).exit_code == 0  # migrated, summaries made
    with sqlite3.connect(config.paths.database) as db:
        db.execute(f"DROP {dropped}")
    report = examine(config, analyzer=config.analyzer())  # take 6 (its analysis not JSON) is analysed again
    assert report.moved_aside is not None and "review_summar" in report.lines()[0], report.lines()
    with Store(config.paths.database) as store:
        assert [t.id for t in store.list()] == list(range(1, 12))
        found = summaries.read(store, range(1, 12))
    # the rebuild keeps no analysis that is not JSON: take 6's, analysed again (it stayed without one before)
    assert "analysed take 6 again (its stored analysis was missing)" in report.lines(), report.lines()
    assert sorted(found.of) == sorted(ANALYSED + [6])


def test_practice_compares_with_the_last_take_that_tells_a_story(old_home):
    """After a take: the last earlier take of its question that tells a story (customer-1: take 2 is
    a false start, take 4 the last story), its figures beside the new take's."""
    from starcoach.cli.record import _against_the_last_take
    from starcoach.config import load_config
    from starcoach.takes.questions import load_bank
    from starcoach.takes.session import TakeResult

    config = load_config()
    question = load_bank(config.paths.questions).get("customer-1")
    with Store(config.paths.database, config.paths.recordings) as store:
        last = store.document(4)
    for document, says in ((last, "Against your last take of this question (take 4)"),
                           (story("um", "so"), "Too short to compare (under 8 words that name things)")):
        console = Console(record=True, width=120, color_system=None)
        _against_the_last_take(config, question, TakeResult(12, Path("x.wav"), None, document, None), console)
        text = console.export_text()
        assert says in text, text
    assert "take 4  " not in text and "starcoach compare 4 12" not in text
    # an answer to a follow-up is short by design: not "too short to compare" (a review)
    console = Console(record=True, width=120, color_system=None)
    _against_the_last_take(config, question.follow_up(0), TakeResult(12, Path("x.wav"), None, story("um", "so"), None),
                           console)
    assert "Too short to compare" not in console.export_text()


def test_doctor_finds_a_database_an_older_release_wrote_sound_and_upgrades_it_in_place(old_home):
    """A review of migration 005 (session 53): doctor checked the file before upgrading it and, finding
    no principles where this release keeps them, called every older database damaged, moved it aside
    and rebuilt it. An older database lacks only what its migrations had not made yet."""
    from starcoach.config import load_config

    db_path = load_config().paths.database
    before = _rows(db_path)
    checked = runner.invoke(app, ["doctor"])
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.startswith("database: ok"), checked.stdout
    assert not [p.name for p in db_path.parent.iterdir() if "damaged" in p.name or "rebuilding" in p.name]
    # the upgrade adds a table: an analysed take's row is as it was (the others doctor analyses again), ids and counter kept
    assert [r for r in _rows(db_path) if r[0] in ANALYSED] == [r for r in before if r[0] in ANALYSED]
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'takes'").fetchone()[0] == max(
            r[0] for r in before)


def test_a_database_an_earlier_005_upgraded_keeps_its_principles_and_doctor_finds_it_sound(old_home):
    """A review (session 53): the side table's migration first kept the name of the one 2508dc5 committed,
    which had put a principles column in takes; a database that one upgraded was taken for done: its
    second principles were lost, every new take failed "no such table", and doctor called it damaged and
    rebuilt it without them. 006 moves the column's lists into the table."""
    from starcoach.config import load_config

    db_path = load_config().paths.database
    with sqlite3.connect(db_path) as db:  # as 2508dc5 left it (migrations 004 and its 005 applied)
        db.execute("ALTER TABLE takes ADD COLUMN principles TEXT")
        db.execute("""UPDATE takes SET principles = '["dive-deep", "ownership"]' WHERE id = 1""")
        for name in ("004_review_summaries", "005_take_principles"):
            db.execute("INSERT INTO migrations (name, applied_at) VALUES (?, '2026-12-07T22:40:00+00:00')", (name,))
        for name, event in (("review_summary_follows_analysis", "UPDATE OF id, analysis_json"),
                            ("review_summary_follows_take", "DELETE")):
            db.execute(f"CREATE TRIGGER {name} AFTER {event} ON takes BEGIN SELECT 1; END")
        db.execute("CREATE TABLE review_summaries (take_id INTEGER PRIMARY KEY, version INTEGER NOT NULL, "
                   "summary TEXT NOT NULL, words TEXT NOT NULL)")
    listed = json.loads(runner.invoke(app, ["takes", "--json"]).stdout)
    assert listed[0]["principles"] == ["dive-deep", "ownership"], listed[0]
    checked = runner.invoke(app, ["doctor"])
    assert checked.stdout.startswith("database: ok"), checked.output
    assert not [p.name for p in db_path.parent.iterdir() if "damaged" in p.name]


def test_a_database_whose_005_made_the_principles_table_opens_and_keeps_it(tmp_path):
    """A review (session 53): from ce4d564 to f33c9af, 005 made the take_principles table that 006 makes
    now; 006's plain CREATE TABLE failed on such a database, and no command could open it, doctor included."""
    with Store(tmp_path / "t.db") as store:
        take = store.begin_take(audio_path=tmp_path / "a.wav", question_id="mine-1", question_text="Q?",
                                principle="dive-deep", principles=("dive-deep", "ownership"))
        store.db.execute("DELETE FROM migrations WHERE name = '006_take_principles_table'")  # as those left it
    with Store(tmp_path / "t.db") as store:
        assert store.get(take).principles == ("dive-deep", "ownership")
        assert store.applied_migrations()[-1] == "006_take_principles_table"


def _no_story(*words: str) -> dict:
    """DOC of a take that names things but tells no story: every STAR part absent (what one would do)."""
    doc = story(*words)
    doc["star"] = {**doc["star"], **{p: {**doc["star"][p], "present": False} for p in
                                     ("situation", "task", "action", "result", "learning")}, "not_a_story": True}
    return doc


HYPOTHETICAL = _no_story(*"escalate manager stakeholders deadline customer roadmap priorities meeting".split())


def test_a_take_that_tells_no_story_is_counted_in_no_story(home):
    """A review: a spoken "what I would do" answer (no STAR part) ticked a principle
    as covered with three stories, and compare and progress measured retakes against them."""
    config_db = home / "recordings" / "starcoach.db"
    with Store(config_db) as store:
        ids = [store.add_take(audio_path=home / f"{n}.wav", question_id="ownership-1", question_text="Q?",
                              source="import", started_at=f"2026-12-0{n + 1}T10:00:00+00:00", duration_s=60.0,
                              document=doc)
               for n, doc in enumerate((RETRY, HYPOTHETICAL, MIGRATE))]
    assert summarise(RETRY).tells_a_story and not summarise(HYPOTHETICAL).tells_a_story
    result = runner.invoke(app, ["coverage", "--json"])
    assert result.exit_code == 0, result.output
    ownership = next(row for row in json.loads(result.stdout) if row["principle"] == "ownership")
    assert (ownership["stories"], ownership["short_takes"]) == (2, [ids[1]])
    result = runner.invoke(app, ["compare", "--question", "ownership-1", "--json"])
    assert result.exit_code == 0, result.output
    assert f"or that tell none (no STAR part: what one would do), as `coverage` leaves them: {ids[1]} " \
           in result.stderr


def test_practice_says_a_take_with_no_story_is_not_compared(old_home):
    from starcoach.cli.record import _against_the_last_take
    from starcoach.config import load_config
    from starcoach.takes.questions import load_bank
    from starcoach.takes.session import TakeResult

    config = load_config()
    console = Console(record=True, width=120, color_system=None)
    _against_the_last_take(config, load_bank(config.paths.questions).get("customer-1"),
                           TakeResult(12, Path("x.wav"), None, HYPOTHETICAL, None), console)
    assert "No story to compare (no STAR part: the coach's notes above say why)" in console.export_text()
