"""The JSON documents against the published schema (docs/schema), and the store's upgrade.

Fields and types are checked, never the model's words.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from starcoach.cli import app

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "schema" / "starcoach.schema.json").read_text())
LEGACY = Path(__file__).parent / "data" / "legacy-0.1.0"  # made by release 0.1.0 (commit 8d4e678)
runner = CliRunner()


def validate(doc: dict, kind: str) -> None:
    jsonschema.Draft202012Validator({"$ref": f"#/$defs/{kind}", "$defs": SCHEMA["$defs"]}).validate(doc)


def run_json(*args: str):
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code in (0, 3), result.output
    return json.loads(result.stdout)


@pytest.fixture
def legacy_home(home: Path) -> Path:
    """The home folder of a user of 0.1.0: its database and takes, copied as they were."""
    shutil.copytree(LEGACY / "recordings", home / "recordings")
    return home


def test_the_schema_is_a_valid_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_a_document_missing_a_field_or_with_a_wrong_type_fails(legacy_home):
    doc = run_json("show", "1")
    validate(doc, "take")
    for broken in ({k: v for k, v in doc.items() if k != "words"},
                   {**doc, "wpm": "fast"},
                   {**doc, "fillers": [{"text": "um", "start": 1.0, "end": 1.2, "kind": "pause", "source": "audio"}]},
                   *({**doc, "take": {**doc["take"], field: bad}}  # the take's summary figures are typed too
                     for field, bad in (("wpm", "fast"), ("filler_count", 2.5), ("star_rating", 11),
                                        ("star_parts_present", 5), ("speaking_span_s", -1.0)))):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken, "take")


def test_takes_made_by_the_last_release_open_list_show_and_export(legacy_home, tmp_path):
    listed = run_json("takes")
    assert [t["id"] for t in listed] == [1, 2, 3]
    for take in listed:
        assert Path(take["audio_path"]).is_file()  # found again in the moved home
        assert Path(take["audio_path"]).parent.parent == legacy_home / "recordings"
        doc = run_json("show", str(take["id"]))
        validate(doc, "take")
        assert doc["take"]["id"] == take["id"]
    assert run_json("show", "2")["take"]["question_id"] == "customer-1"
    assert run_json("show", "1")["transcript"].strip()
    out = tmp_path / "two.md"
    result = runner.invoke(app, ["export", "2", "--format", "md", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("# ")


def test_the_upgrade_drops_the_unread_tables_by_migration(legacy_home):
    run_json("takes")
    db = sqlite3.connect(legacy_home / "recordings" / "starcoach.db")
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert not tables & {"words", "fillers", "star_parts"}
    applied = [r[0] for r in db.execute("SELECT name FROM migrations ORDER BY name")]
    assert applied == ["001_takes", "002_drop_unread_tables", "003_never_reuse_take_ids", "004_review_summaries",
                       "005_take_principles", "006_take_principles_table"]
    assert db.execute("SELECT count(*) FROM takes").fetchone()[0] == 3
    # the rebuilt table keeps every take and id, and the next id follows the highest one
    assert [r[0] for r in db.execute("SELECT id FROM takes ORDER BY id")] == [1, 2, 3]
    assert db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'takes'").fetchone()[0] == 3
    indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'takes'")}
    assert {"takes_by_question", "takes_by_principle"} <= indexes
    triggers = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert triggers == {"review_summary_follows_analysis", "review_summary_follows_take", "take_principles_follow_take"}
    assert "take_principles" in {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_check_json_follows_the_schema(tmp_path):
    answer = tmp_path / "answer.txt"
    answer.write_text("Last year our release pipeline failed every Friday. I had to fix it within a month. "
                      "I rewrote the deploy scripts and added canary checks. Failed releases fell by 80%. "
                      "I learned to measure before I change anything.")
    validate(run_json("check", str(answer)), "check")


@pytest.mark.slow
def test_analyze_import_and_show_follow_the_schema_and_share_one_shape(copy_sample):
    audio = copy_sample("short-answer.flac")
    analysed = run_json("analyze", str(audio))
    validate(analysed, "analysis")
    imported = run_json("import", str(audio))
    validate(imported, "analysis")
    shown = run_json("show", str(imported["take"]["id"]))
    validate(shown, "take")

    def shape(value):
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        if isinstance(value, list):
            return [shape(value[0])] if value else []
        return type(value).__name__ if value is not None else "null"

    take_fields = set(SCHEMA["$defs"]["take_fields"]["required"])
    assert take_fields <= set(shown["take"])
    assert shown["analysed"] is True
    rest = {k: v for k, v in shown.items() if k not in ("take", "analysed")}
    assert shape({k: v for k, v in rest.items() if k not in ("file", "timings")}) == \
        shape({k: v for k, v in analysed.items() if k not in ("file", "timings")})
    assert shown["model"] == analysed["model"]  # the take's own summary never replaces a field


@pytest.mark.parametrize("tagger", ["hybrid", "learned", "rules"])
def test_check_json_with_each_tagger_follows_the_schema(home, tmp_path, tagger):
    config = home / "config.toml"
    text = config.read_text()
    assert 'tagger = "hybrid"' in text  # the default the project's config.toml sets
    config.write_text(text.replace('tagger = "hybrid"', f'tagger = "{tagger}"', 1))
    answer = tmp_path / "answer.txt"
    answer.write_text("Last year our release pipeline failed every Friday. I had to fix it within a month. "
                      "I rewrote the deploy scripts, which cut failed releases by 80%. "
                      "Looking back, I would measure before I change anything.")
    doc = run_json("check", str(answer))
    validate(doc, "check")
    confidences = [doc["star"][p]["confidence"] for p in ("situation", "task", "action", "result")]
    if tagger == "rules":
        assert confidences == [None] * 4 and not any(s["probabilities"] for s in doc["star"]["sentences"])
    else:
        assert all(0.0 <= c <= 1.0 for c in confidences)
        assert all(s["probabilities"] for s in doc["star"]["sentences"])
