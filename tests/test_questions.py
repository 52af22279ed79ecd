"""The question bank: built-in coverage, filters, and the user's own file."""

import json
from collections import Counter

import pytest
from typer.testing import CliRunner

from starcoach.cli import app
from starcoach.domain.errors import ConfigError, NotFound
from starcoach.takes.questions import load_bank

runner = CliRunner()
THEMES = {"conflict", "tight-deadline", "leading-a-project", "influencing-with-data", "failure",
          "disagree-and-commit", "difficult-customer", "mentoring"}


def test_every_principle_has_three_questions_and_every_question_follow_ups():
    bank = load_bank()
    assert len(bank.principles) == 16
    per = Counter(p for q in bank.questions for p in q.principles)
    assert all(per[p] >= 3 for p in bank.principles), per
    assert THEMES <= {t for q in bank.questions for t in q.themes}
    assert all(2 <= len(q.follow_ups) <= 3 for q in bank.questions)
    assert len({q.id for q in bank.questions}) == len(bank.questions)


@pytest.mark.parametrize("name", ["dive-deep", "Dive Deep", "dive", "Have Backbone; Disagree and Commit"])
def test_principle_names_are_forgiving(name):
    bank = load_bank()
    assert bank.filter(principle=name) and all(
        bank.principle_key(name) in q.principles for q in bank.filter(principle=name))


def test_a_prefix_two_principles_share_names_both():
    from starcoach.domain.errors import NotFound

    with pytest.raises(NotFound, match="could be any of (dive-deep, deliver-results|deliver-results, dive-deep);"):
        load_bank().principle_key("d")
    with pytest.raises(NotFound, match="no Leadership Principle matches 'zzz'"):
        load_bank().principle_key("zzz")


def test_user_questions_are_added_and_override(home):
    mine = home / "my-questions.toml"
    mine.write_text('[[question]]\nid = "mine-1"\ntext = "Tell me about your side project."\n'
                    'principles = ["think-big"]\nfollow_ups = ["Who uses it?", "What next?"]\n\n'
                    '[[question]]\nid = "deep-1"\ntext = "My own wording."\n')
    cfg = home / "config.toml"
    cfg.write_text(cfg.read_text().replace('questions = ""', 'questions = "my-questions.toml"'))
    result = runner.invoke(app, ["questions", "--json"])
    assert result.exit_code == 0, result.output
    by_id = {q["id"]: q for q in json.loads(result.stdout)}
    assert by_id["mine-1"]["principles"] == ["think-big"] and by_id["mine-1"]["builtin"] is False
    assert by_id["deep-1"]["text"] == "My own wording."
    only = json.loads(runner.invoke(app, ["questions", "--lp", "think big", "--json"]).stdout)
    assert "mine-1" in {q["id"] for q in only}
    # filters that together match nothing say so (a table of headers alone read as a list that failed)
    none = runner.invoke(app, ["questions", "--lp", "think big", "--theme", "conflict"])
    assert none.exit_code == 0 and none.stdout.startswith("No questions match (of ") and "┃" not in none.stdout
    assert json.loads(runner.invoke(app, ["questions", "--lp", "think big", "--theme", "conflict", "--json"]).stdout) == []


def test_a_broken_user_file_is_one_clear_error(tmp_path):
    broken = tmp_path / "q.toml"
    broken.write_text("[[question]]\nid = 3\n")
    with pytest.raises(ConfigError, match="string id and text"):
        load_bank(broken)
    with pytest.raises(ConfigError, match="does not exist"):
        load_bank(tmp_path / "missing.toml")


@pytest.mark.parametrize("text, message", [
    ('[[questions]]\nid = "mine-1"\ntext = "Tell me about your side project."\n', "'questions' is not part of"),
    ('title = "my bank"\n[[question]]\nid = "x"\ntext = "x"\n', "'title' is not part of a question file"),
])
def test_a_misspelt_table_in_the_question_file_is_refused(tmp_path, text, message):
    """`[[questions]]` for `[[question]]` (or any other top-level key) was ignored: exit 0 and none
    of the user's questions, although a misspelt field inside a question was refused."""
    mine = tmp_path / "q.toml"
    mine.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_bank(mine)


def test_a_question_file_with_a_bom_and_a_multi_line_question_reads_as_one_line(tmp_path):
    """A BOM was "not valid TOML"; a TOML multi-line text kept its line break, and the Markdown
    export's heading then put the second line into the answer `check` reads."""
    mine = tmp_path / "q.toml"
    mine.write_bytes(('\ufeff[[question]]\nid = "multi-1"\ntext = """Tell me about a time you delivered under '
                      'pressure.\n  Focus on what you did."""\nfollow_ups = ["""What would\nyou change?"""]\n')
                     .encode())
    question = next(q for q in load_bank(mine).questions if q.id == "multi-1")
    assert question.text == "Tell me about a time you delivered under pressure. Focus on what you did."
    assert question.follow_ups == ("What would you change?",)


def test_a_question_file_that_is_not_utf8_names_the_line_as_config_toml_does(tmp_path):
    """A Latin-1 question file was "not valid TOML ('utf-8' codec can't decode byte 0xe9 in position 33:
    invalid continuation byte)", where config.toml names the line and says what to do (an audit's)."""
    mine = tmp_path / "q.toml"
    for bom in (b"", b"\xef\xbb\xbf"):  # with a byte-order mark the line was one early (a review's)
        mine.write_bytes(bom + b'[[question]]\nid = "x"\ntext = "caf\xe9"\n')
        with pytest.raises(ConfigError) as err:
            load_bank(mine)
        assert str(err.value) == f"{mine}: line 3 is not UTF-8 text; save the file as UTF-8"


def test_next_brings_a_question_not_yet_asked_and_never_the_same_one_twice_running():
    """`practice` picked the next question at random from all of the principle's: with three,
    the same one came back a third of the time."""
    import random

    from starcoach.takes.questions import load_bank

    bank = load_bank(None)
    pool = [q.id for q in bank.filter(principle="frugality")]
    assert len(pool) >= 2
    rng, asked = random.Random(7), []
    q = bank.pick(principle="frugality", rng=rng)
    for _ in range(40):
        asked.append(q.id)
        q = bank.pick(principle="frugality", rng=rng, asked=asked)
        assert q.id != asked[-1]
    firsts = asked[:len(pool)]
    assert sorted(firsts) == sorted(pool)  # every question once before any comes back


@pytest.mark.parametrize("entry, says", [
    ('id = " mine 1 "\ntext = "Q?"\n', "holds a space or a control character"),
    ('id = "mine\\n1"\ntext = "Q?"\n', "holds a space or a control character"),
    ('id = "mine-1"\ntext = "Q?"\nthemes = [""]\n', "themes must be a list of non-empty strings"),
    ('id = "mine-1"\ntext = "Q?"\nprinciples = ["deliver-results", "deliver-results"]\n',
     "lists 'deliver-results' twice in principles: list each once"),
    ('id = "mine-1"\ntext = "Q?"\nthemes = ["Debt", "debt"]\n', "lists 'debt' twice in themes"),
])
def test_a_question_id_one_cannot_type_or_an_empty_theme_is_refused(tmp_path, entry, says):
    """An audit: " mine 1 " and "mine\\n1" were taken as ids (the second split the `questions` table's
    row in two), and an empty theme was kept; a principle listed twice counted each take twice in
    `coverage`."""
    mine = tmp_path / "q.toml"
    mine.write_text("[[question]]\n" + entry)
    with pytest.raises(ConfigError, match=says):
        load_bank(mine)


@pytest.mark.parametrize("table, says", [
    ('"dd2" = "Dive Deep"', "names 'dive-deep' and 'dd2' both 'Dive Deep': give each principle a name of its own"),
    ('"a" = "Team Spirit"\n"b" = "team  spirit"', "names 'a' and 'b' both 'team  spirit'"),
    ('"" = "Empty"', "[principles] has an empty key: give 'Empty' a key"),
])
def test_two_principles_of_one_name_or_one_with_no_key_are_refused(tmp_path, table, says):
    """An audit: a second "Dive Deep" showed as two rows alike in `coverage`, and `--lp "Dive Deep"`
    took the built-in one without a word; an empty key made a row of its own."""
    mine = tmp_path / "q.toml"
    mine.write_text(f"[principles]\n{table}\n")
    with pytest.raises(ConfigError) as refused:
        load_bank(mine)
    assert says in str(refused.value)
    mine.write_text('[principles]\n"dive-deep" = "Diving Deep"\n')  # a built-in one renamed: its own key
    assert load_bank(mine).principles["dive-deep"] == "Diving Deep"


def test_a_theme_is_found_in_any_case_as_a_principle_is():
    """`--theme Conflict` was refused while `--lp Dive` was taken."""
    bank = load_bank()
    assert bank.filter(theme="Conflict") == bank.filter(theme="conflict") != []


def _told(home, question_id: str, principle: str | tuple[str, ...], n: int) -> None:
    """N analysed takes of QUESTION_ID stored with PRINCIPLE (or several), as `practice` stores them (no model)."""
    import copy

    import numpy as np
    import soundfile as sf

    from starcoach.config import load_config
    from starcoach.takes.session import open_store
    from tests.test_store import DOC

    said = ("Last year our checkout service failed during the holiday sale and customers complained. "
            "I rewrote the connection pool and errors fell ninety percent.").split()
    doc = copy.deepcopy(DOC)
    doc["words"] = [{"text": w, "start": i * 0.3, "end": i * 0.3 + 0.2, "probability": 0.9, "filler": False}
                    for i, w in enumerate(said)]
    doc["transcript"] = " ".join(said)
    cfg = load_config()
    with open_store(cfg) as store:
        for i in range(n):
            audio = cfg.paths.recordings / "2026-01-01" / f"{question_id}-{i}.flac"
            audio.parent.mkdir(parents=True, exist_ok=True)
            sf.write(audio, np.zeros(1600, np.float32), 16000)
            store.add_take(audio_path=audio, question_id=question_id, question_text="Q?",
                           principles=(principle,) if isinstance(principle, str) else principle,
                           source="import", started_at=f"2026-01-01T10:{i:02d}:00+00:00", duration_s=2.5, document=doc)


def test_a_principle_no_longer_in_the_bank_is_shown_as_lp_takes_it(home):
    """An audit: a user's question with takes, then taken out of the question file with its
    [principles] entry. Its takes keep the principle's key, which `coverage` showed, and
    `progress --lp` and `takes --lp` refused it ("no Leadership Principle matches"). Any key a
    take holds that the bank lacks (an older bank's, say) is the same case."""
    mine = home / "my-questions.toml"
    mine.write_text('[principles]\ncafe-culture = "Café Culture"\n\n[[question]]\nid = "mine-1"\n'
                    'text = "Tell me about the coffee rota."\nprinciples = ["cafe-culture"]\n')
    cfg = home / "config.toml"
    cfg.write_text(cfg.read_text().replace('questions = ""', 'questions = "my-questions.toml"'))
    _told(home, "mine-1", "cafe-culture", 2)
    _told(home, "old-7", "Tech_Debt", 1)  # an id and a key no bank has
    mine.write_text("")  # the question and its principle removed

    listed = runner.invoke(app, ["coverage", "--json"])
    assert listed.exit_code == 0, listed.output
    gone = {c["principle"]: c for c in json.loads(listed.stdout) if c["takes"]}
    assert set(gone) == {"cafe-culture", "Tech_Debt"}, gone
    table = runner.invoke(app, ["coverage"])
    assert "cafe-culture" in table.stdout and "Tech_Debt" in table.stdout
    for key, n in (("cafe-culture", 2), ("Tech_Debt", 1)):
        for name in (key, gone[key]["name"]):  # what coverage shows is taken back
            progress = runner.invoke(app, ["progress", "--lp", name])
            assert progress.exit_code == 0, progress.output
            assert f"Progress over {n} take" in progress.stdout, progress.stdout
            assert "no principle of your question bank" in progress.stderr, progress.stderr
            takes = runner.invoke(app, ["takes", "--lp", name, "--json"])
            assert takes.exit_code == 0 and len(json.loads(takes.stdout)) == n, takes.output
    assert "cafe-culture, Tech_Debt" in listed.stderr and "--lp" in listed.stderr, listed.stderr
    refused = runner.invoke(app, ["progress", "--lp", "zzz"])  # a typo is still one
    assert refused.exit_code != 0 and "no Leadership Principle matches 'zzz'" in refused.stderr
    # a take of a question the bank has, stored under a principle that question no longer has (renamed):
    # coverage counts it under the question's principles, so --lp takes only those (a review)
    _told(home, "ownership-1", "old-ownership", 1)
    assert "old-ownership" not in runner.invoke(app, ["coverage"]).stdout
    stale = runner.invoke(app, ["progress", "--lp", "old-ownership"])
    assert stale.exit_code != 0 and "no Leadership Principle matches 'old-ownership'" in stale.stderr, stale.output


@pytest.mark.parametrize("field, value", [
    ("text", "Tell me about \x1b[2Ja time you failed."), ("text", "Tell me \x1b]0;owned\x07 about it."),
    ("text", "A time you \u202edeliaf\u202c."), ("themes", ["fail\x9bure"]), ("follow_ups", ["What \x1b[31mthen?"]),
    ("principle name", "Ownership \x1b[5m"),
])
def test_a_question_file_that_would_drive_the_terminal_is_refused(tmp_path, field, value):
    """A question file may come from someone else: an escape sequence in a question's text, themes,
    follow-ups or a principle's name reached the terminal as it was (a screen cleared, a window
    title set, text coloured or reversed); only the id was checked (audit 2 of session 41)."""
    question = {"id": "mine-1", "text": "Tell me about a time you failed.", "principles": ["mine"]}
    if field != "principle name":
        question[field] = value
    name = value if field == "principle name" else "Mine"
    (tmp_path / "bank.toml").write_text(f"[principles]\nmine = {json.dumps(name)}\n\n[[question]]\n"
                                        + "".join(f"{k} = {json.dumps(v)}\n" for k, v in question.items()))
    with pytest.raises(ConfigError, match=r"holds a control character \(U\+[0-9A-F]{4}\), which would drive the "
                                          "terminal rather than be shown: remove it"):
        load_bank(tmp_path / "bank.toml")


def test_right_to_left_text_and_its_marks_are_kept(tmp_path):
    (tmp_path / "bank.toml").write_text('[[question]]\nid = "rtl-1"\ntext = "\u05e1\u05e4\u05e8 \u200fעל '
                                        '\u2067Amazon\u2069 \u05e4\u05e2\u05dd"\nprinciples = ["ownership"]\n')
    assert load_bank(tmp_path / "bank.toml").get("rtl-1").text.startswith("\u05e1\u05e4\u05e8")


@pytest.mark.parametrize("which", ["questions", "config"])
def test_a_toml_file_nested_too_deeply_is_one_line(home, which):
    """tomllib reads nested arrays by recursion: 40 kB of "[" was "unexpected error (RecursionError …);
    this is a bug", for config.toml and a question file alike (audit 2 of session 41)."""
    deep = "x = " + "[" * 20000 + "]" * 20000 + "\n"
    cfg = home / "config.toml"
    if which == "questions":
        (home / "bank.toml").write_text(deep)
        cfg.write_text(cfg.read_text().replace('questions = ""', 'questions = "bank.toml"'))
    else:
        cfg.write_text(deep)
    result = runner.invoke(app, ["questions"])
    assert result.exit_code == 1 and result.stdout == "", result.output
    assert "nested too deeply" in result.stderr and result.stderr.startswith("starcoach: ") \
        and result.stderr.count("\n") == 1, result.stderr


def test_emoji_codes_in_a_question_are_shown_as_written(home):
    cfg = home / "config.toml"
    (home / "bank.toml").write_text('[[question]]\nid = "mine-1"\ntext = "A :thumbs_up: moment"\n'
                                    'principles = ["ownership"]\n')
    cfg.write_text(cfg.read_text().replace('questions = ""', 'questions = "bank.toml"'))
    result = runner.invoke(app, ["questions", "--lp", "ownership"], env={"COLUMNS": "200"})
    assert ":thumbs_up:" in result.stdout and "\N{THUMBS UP SIGN}" not in result.stdout, result.stdout


def test_a_question_id_that_names_a_follow_up_answer_is_refused(tmp_path):
    """Answers to follow-ups are stored as "<id>/follow-up-<n>": a question of that id would take them for its own."""
    mine = tmp_path / "q.toml"
    mine.write_text('[[question]]\nid = "deep-1/follow-up-1"\ntext = "Tell me about a bug."\n')
    with pytest.raises(ConfigError, match="is how starcoach names a follow-up answer"):
        load_bank(mine)
    mine.write_text('[[question]]\nid = "a/follow-up-ideas"\ntext = "Tell me about an idea."\n')
    assert load_bank(mine).get("a/follow-up-ideas").text == "Tell me about an idea."


def test_a_follow_up_is_a_question_by_its_id():
    """`record`/`import --question deep-1/follow-up-2` answer that follow-up; one beyond the list is named as such."""
    bank = load_bank()
    asked = bank.get("deep-1/follow-up-2")
    assert asked.text == bank.get("deep-1").follow_ups[1] and asked.principles == ()
    with pytest.raises(NotFound, match="'deep-1' has 2 follow-up questions, not 3"):
        bank.get("deep-1/follow-up-3")
    with pytest.raises(NotFound, match="no question with id 'nope/follow-up-1': it names a follow-up of 'nope'"):
        bank.get("nope/follow-up-1")


def test_a_take_keeps_every_principle_of_its_question_after_the_question_leaves_the_bank(home, tmp_path):
    """History audit D3 (session 52): a take stored only its question's first principle, so once a
    question of two principles was taken out of the user's file, its takes left the second one's
    listing without a word. Every principle is stored, in the take's row and its metadata file, so
    a database made again from recordings/ keeps them too."""
    from tests.test_bad_inputs import SILENCE

    mine = home / "my-questions.toml"
    side = '[principles]\nside-projects = "Side Projects"\n'
    mine.write_text(side + '\n[[question]]\nid = "mine-1"\ntext = "Tell me about the coffee rota."\n'
                    'principles = ["think-big", "side-projects"]\nfollow_ups = ["Who drank most?"]\n')
    cfg = home / "config.toml"
    cfg.write_text(cfg.read_text().replace('questions = ""', 'questions = "my-questions.toml"'))
    ids = []
    for question in ("mine-1", "mine-1/follow-up-1"):  # a story, and an answer to its follow-up (a review)
        imported = runner.invoke(app, ["import", str(SILENCE(tmp_path)), "--question", question, "--json"])
        assert imported.exit_code in (0, 3), imported.output  # (no speech: exit 3, the take is kept)
        ids.append(json.loads(imported.stdout)["take"]["id"])
    take_id, answer_id = ids
    both = ["think-big", "side-projects"]
    mine.write_text(side)  # the question taken out; its second principle kept

    def listed(*args: str) -> list[dict]:
        result = runner.invoke(app, ["takes", *args, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    # a follow-up answer keeps its story's principles, and no principle of its own (json.md)
    assert [(t["id"], t["principle"], t["principles"]) for t in listed()] == [
        (take_id, "think-big", both), (answer_id, None, both)]
    for lp in ("think-big", "Side Projects"):
        assert [t["id"] for t in listed("--lp", lp)] == [take_id, answer_id], lp
    assert listed("--lp", "ownership") == []

    db = home / "recordings" / "starcoach.db"
    for f in db.parent.glob("starcoach.db*"):  # the index lost: made again from recordings/
        f.unlink()
    recovered = runner.invoke(app, ["recover"])
    assert recovered.exit_code == 0, recovered.output
    assert [(t["id"], t["principles"]) for t in listed()] == [(take_id, both), (answer_id, both)]
    assert [t["id"] for t in listed("--lp", "side-projects")] == [take_id, answer_id]
    import sqlite3

    with sqlite3.connect(db) as con:  # damage doctor rebuilds from: the rows it can read keep their principles
        con.execute("ALTER TABLE takes DROP COLUMN overflows")
    rebuilt = runner.invoke(app, ["doctor"])
    assert rebuilt.exit_code == 0 and "moved the damaged database aside" in rebuilt.stdout, rebuilt.output
    assert [(t["id"], t["principles"]) for t in listed()] == [(take_id, both), (answer_id, both)]
    with sqlite3.connect(db) as con:  # their table dropped by hand: damage too, not a silent loss
        con.execute("DROP TABLE take_principles")
    assert "lacks take_principles" in runner.invoke(app, ["doctor"]).stdout
    # and `coverage` counts a story told to such a question under each of them
    _told(home, "mine-2", ("side-projects", "think-big"), 1)
    _told(home, "mine-1/follow-up-1", both, 1)  # an answer to a follow-up: no story, wherever its principles
    covered = runner.invoke(app, ["coverage", "--json"])
    assert covered.exit_code == 0, covered.output
    counted = {c["principle"]: (c["stories"], c["takes"]) for c in json.loads(covered.stdout) if c["takes"]}
    assert counted == {"side-projects": (1, 1), "think-big": (1, 1)}, counted


def test_a_question_file_may_name_a_principle_as_questions_shows_it(tmp_path):
    """An audit (session 53): a question file had to use principle keys, but `starcoach questions`, where
    the docs and the refusal sent the user, shows only names ("Have Backbone; Disagree and Commit" is
    have-backbone-disagree-and-commit)."""
    (tmp_path / "bank.toml").write_text(
        '[[question]]\nid = "mine-1"\ntext = "Tell me about a risky bet."\n'
        'principles = ["Think Big", "have backbone;  disagree and commit", "think-big", "ownership"]\n')
    assert load_bank(tmp_path / "bank.toml").get("mine-1").principles == (
        "think-big", "have-backbone-disagree-and-commit", "ownership")
    (tmp_path / "bank.toml").write_text('[[question]]\nid = "mine-1"\ntext = "Q?"\nprinciples = ["Thinking Big"]\n')
    with pytest.raises(ConfigError, match=r"no Leadership Principle 'Thinking Big' \(use a name or key that "
                                          r"`starcoach questions --json` lists"):
        load_bank(tmp_path / "bank.toml")


def test_question_ids_are_one_whatever_their_case_and_a_blank_file_setting_is_none(home, tmp_path):
    """A first-run audit (session 53): a question file could hold "mine-1" and "Mine-1", both listed, and
    `--question MINE-1` said only "no question with id"; `questions = "  "` named a file of two spaces."""
    from starcoach.config import load_config

    (tmp_path / "bank.toml").write_text('[[question]]\nid = "mine-1"\ntext = "One?"\n\n'
                                        '[[question]]\nid = "Mine-1"\ntext = "Two?"\n')
    with pytest.raises(ConfigError, match=r"question id 'Mine-1' is used twice \(ids differing only in case count "
                                          r"as one\)"):
        load_bank(tmp_path / "bank.toml")
    with pytest.raises(NotFound, match=r"no question with id 'DEEP-1' \(ids are read as written: 'deep-1'\?\)"):
        load_bank().get("DEEP-1")
    with pytest.raises(NotFound, match=r"follow-up of 'DEEP-1', which is no question \(ids are read as written: "
                                       r"'deep-1/follow-up-1'\?\)"):
        load_bank().get("DEEP-1/follow-up-1")
    (tmp_path / "bank.toml").write_text('[principles]\nDive-Deep = "Diving"\n')  # a key beside the built-in's
    with pytest.raises(ConfigError, match=r"\[principles\] key 'Dive-Deep' differs only in case from 'dive-deep'"):
        load_bank(tmp_path / "bank.toml")
    (tmp_path / "bank.toml").write_text('[[question]]\nid = "Deep-1"\ntext = "Mine?"\n')  # beside the built-in
    with pytest.raises(ConfigError, match=r"question id 'Deep-1' differs only in case from the built-in 'deep-1': "
                                          r"write 'deep-1' to replace that question, or give it an id of its own"):
        load_bank(tmp_path / "bank.toml")
    cfg = home / "config.toml"
    cfg.write_text(cfg.read_text().replace('questions = ""', 'questions = "  "'))
    assert load_config().paths.questions is None
