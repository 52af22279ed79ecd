"""The question bank: built-in questions per Leadership Principle and theme, plus the user's.

The user's file (``[paths] questions`` in config.toml) uses the same format as the
built-in ``data/questions.toml``: ``[[question]]`` tables with ``id``, ``text``,
``principles``, ``themes`` and ``follow_ups``. A user question with a built-in id
replaces it.
"""

from __future__ import annotations

import random
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from ..domain.document import FOLLOW_UP_MARK, follow_up_of
from ..domain.errors import ConfigError, NotFound
from ..domain.filekind import not_utf8
from ..domain.transcript import plural


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    principles: tuple[str, ...]
    themes: tuple[str, ...]
    follow_ups: tuple[str, ...]
    builtin: bool = True
    story_principles: tuple[str, ...] = ()  # a follow-up's: its story's, which its takes keep (`takes --lp`)

    def document(self) -> dict:
        return {"id": self.id, "text": self.text, "principles": list(self.principles),
                "themes": list(self.themes), "follow_ups": list(self.follow_ups), "builtin": self.builtin}

    def follow_up(self, k: int) -> "Question":
        """Its follow-up K (from 0) as a question of its own: id "<id>/follow-up-<K+1>", no principles (an
        answer to it is no story, so `coverage` counts none), no follow-ups."""
        return Question(id=f"{self.id}{FOLLOW_UP_MARK}{k + 1}", text=self.follow_ups[k], principles=(), themes=(),
                        follow_ups=(), builtin=self.builtin, story_principles=self.principles)


@dataclass(frozen=True)
class QuestionBank:
    questions: tuple[Question, ...]
    principles: dict[str, str]  # key -> display name

    def get(self, question_id: str) -> Question:
        """The question of QUESTION_ID; a follow-up's id ("deep-1/follow-up-2") gives that follow-up, asked on its
        own (`record` and `import --question` take it, and `compare --question` knows it before any answer)."""
        for q in self.questions:
            if q.id == question_id:
                return q
        story = follow_up_of(question_id)
        if story is not None:
            try:
                of = self.get(story)
            except NotFound:
                raise NotFound(f"no question with id {question_id!r}: it names a follow-up of {story!r}, which is "
                               f"no question {self._look(story, question_id[len(story):])}") from None
            n = int(question_id.rsplit("-", 1)[1])
            if n <= len(of.follow_ups):
                return of.follow_up(n - 1)
            raise NotFound(f"question {story!r} has {plural(len(of.follow_ups), 'follow-up question')}, not {n} "
                           "(see `starcoach questions --json`)")
        raise NotFound(f"no question with id {question_id!r} {self._look(question_id)}")

    def _look(self, question_id: str, then: str = "") -> str:
        """Where to look for the question meant by QUESTION_ID (THEN after it: a follow-up's mark), which no
        question has: one of another case, or the list."""
        alike = [q.id for q in self.questions if q.id.casefold() == question_id.casefold()]
        return f"(ids are read as written: {alike[0] + then!r}?)" if alike else "(see `starcoach questions`)"

    def filter(self, *, principle: str | None = None, theme: str | None = None) -> list[Question]:
        out = list(self.questions)
        if principle:
            key = self.principle_key(principle)
            out = [q for q in out if key in q.principles]
        if theme:  # in any case, as --lp takes a principle: "Conflict" was refused
            themes = sorted({t for q in self.questions for t in q.themes})
            if theme.casefold() not in {t.casefold() for t in themes}:
                raise NotFound(f"no question has the theme {theme!r}; themes: {', '.join(themes)}")
            out = [q for q in out if theme.casefold() in {t.casefold() for t in q.themes}]
        return out

    def principles_of(self, question_id: str | None, stored: tuple[str, ...] = ()) -> tuple[str, ...]:
        """Every principle a take of QUESTION_ID answers (a question may serve several); for a
        question no longer in the bank, those stored with the take (STORED)."""
        if question_id:
            try:
                return self.get(question_id).principles
            except NotFound:
                pass
        return stored

    def with_principles(self, keys: Iterable[str | None]) -> "QuestionBank":
        """This bank, also knowing the principle KEYS (those takes were stored with) that it lacks,
        each named by its key: a question taken out of the user's file, with its [principles]
        entry, leaves its takes' principle behind, which reviews show and ``--lp`` must take."""
        extra = {k: k for k in keys if k and k not in self.principles}
        return replace(self, principles={**self.principles, **extra}) if extra else self

    def principle_key(self, name: str) -> str:
        """Accept a key ("dive-deep"), a display name ("Dive Deep", "Café Culture ☕") or a unique prefix."""
        said = name.strip().casefold()
        for key, display in self.principles.items():
            if said in (key.casefold(), display.strip().casefold()):
                return key
        wanted = name.strip().lower().replace(" ", "-").replace(";", "").replace(",", "").replace("'", "")
        keys = [k for k in self.principles if k.casefold().startswith(wanted)]  # a kept key may be "Tech_Debt"
        exact = [k for k in keys if k.casefold() == wanted]
        if len(keys) == 1 or exact:
            return (exact or keys)[0]
        if keys:
            raise NotFound(f"{name!r} could be any of {', '.join(keys)}; give more of the name")
        known = ", ".join(self.principles)
        raise NotFound(f"no Leadership Principle matches {name!r}; principles: {known}")

    def pick(self, *, principle: str | None = None, rng: random.Random | None = None,
             asked: Sequence[str] = ()) -> Question:
        """A random question (of PRINCIPLE), not one of ASKED (ids, oldest first) while others are
        left; once all are asked, not the last one (the next question was the same one a third of
        the time for a principle with three questions)."""
        pool = self.filter(principle=principle)
        if not pool:
            raise NotFound(f"no questions for {principle!r} (see `starcoach questions`)")
        fresh = [q for q in pool if q.id not in asked] or [q for q in pool if not asked or q.id != asked[-1]] or pool
        return (rng or random).choice(fresh)


def gone_principles_note(bank: QuestionBank, keys: Iterable[str]) -> str | None:
    """The note that those of KEYS, principles takes were stored with, that BANK no longer has are
    not in it (see :meth:`QuestionBank.with_principles`); None when it has them all."""
    gone = [k for k in keys if k not in bank.principles]
    if not gone:
        return None
    return (f"note: no principle of your question bank now: {', '.join(gone)} (taken out of your questions file, "
            "or named by an older bank); its takes are shown under that key, which --lp takes")


def load_bank(user_file: Path | None = None) -> QuestionBank:
    """The built-in questions plus the user's own.

    Raises:
        ConfigError: the user's question file is missing or malformed.
    """
    data = tomllib.loads(resources.files("starcoach").joinpath("data/questions.toml").read_text("utf-8"))
    principles = dict(data["principles"])
    questions = {q["id"]: _question(q, True, "built-in bank") for q in data["question"]}
    if user_file is not None:
        user = _read_user_file(user_file)
        unknown_keys = sorted(set(user) - {"principles", "question"})
        if unknown_keys:  # "[[questions]]" would silently add nothing
            raise ConfigError(f"{user_file}: {unknown_keys[0]!r} is not part of a question file (it holds "
                              "[principles] and [[question]] tables); misspelt?")
        extra = user.get("principles", {})
        if not isinstance(extra, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                                  for k, v in extra.items()):
            raise ConfigError(f"{user_file}: [principles] must be a table of key = \"Display Name\" strings")
        for key, name in extra.items():
            _shown(f"{key} = {name}", f"{user_file}: [principles]")
            if not key.strip():
                raise ConfigError(f"{user_file}: [principles] has an empty key: give {name!r} a key to list it by")
        keyed = {k.casefold(): k for k in principles}
        for key in extra:  # `--lp Dive-Deep` took the built-in dive-deep, and the user's questions were not listed
            if keyed.setdefault(key.casefold(), key) != key:
                raise ConfigError(f"{user_file}: [principles] key {key!r} differs only in case from "
                                  f"{keyed[key.casefold()]!r}: use that key to rename it, or a key of its own")
        principles.update(extra)
        named: dict[str, str] = {}
        for key, name in principles.items():  # coverage showed two rows alike, and --lp took one
            other = named.setdefault(" ".join(name.split()).casefold(), key)
            if other != key:
                raise ConfigError(f"{user_file}: [principles] names {other!r} and {key!r} both {name!r}: give each "
                                  "principle a name of its own")
        listed = user.get("question", [])
        if not isinstance(listed, list):
            raise ConfigError(f"{user_file}: questions must be [[question]] tables (an array of tables)")
        mine: set[str] = set()
        builtin = {qid.casefold(): qid for qid in questions}
        for n, q in enumerate(listed, 1):
            if not isinstance(q, dict):
                raise ConfigError(f"{user_file}: question {n} is not a [[question]] table")
            question = _question(q, False, str(user_file))
            built = builtin.get(question.id.casefold(), question.id)
            if built != question.id:  # beside the built-in "deep-1", "Deep-1" was a second question
                raise ConfigError(f"{user_file}: question id {question.id!r} differs only in case from the built-in "
                                  f"{built!r}: write {built!r} to replace that question, or give it an id of its own")
            if question.id.casefold() in mine:  # `--question` takes one by its case: "mine-1" and "Mine-1" read as one
                raise ConfigError(f"{user_file}: question id {question.id!r} is used twice (ids differing only in case "
                                  "count as one); give each question an id of its own")
            mine.add(question.id.casefold())
            # a principle by its key or by its name, as `questions` shows it ("Think Big"; the keys were shown nowhere)
            keys = [p if p in principles else named.get(" ".join(p.split()).casefold(), p) for p in question.principles]
            unknown = [p for p in keys if p not in principles]
            if unknown:
                raise ConfigError(f"{user_file}: question {question.id!r}: no Leadership Principle {unknown[0]!r} "
                                  "(use a name or key that `starcoach questions --json` lists, such as \"Think Big\" "
                                  "or think-big, or add it under [principles])")
            question = replace(question, principles=tuple(dict.fromkeys(keys)))
            questions[question.id] = question  # a user's question may replace a built-in one of that id
    return QuestionBank(questions=tuple(questions.values()), principles=principles)


def _read_user_file(path: Path) -> dict:
    import os
    import stat

    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ConfigError(f"question file {path} (config.toml [paths] questions) does not exist: put it back, or "
                          "set questions = \"\" there to use the built-in questions alone") from None
    except OSError as exc:
        raise ConfigError(f"question file {path}: cannot read it ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        what = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise ConfigError(f"question file {path} (config.toml [paths] questions) is {what}: name a .toml file of "
                          "questions there, or set questions = \"\" to use the built-in questions alone")
    if st.st_size > 5_000_000:
        raise ConfigError(f"question file {path}: {st.st_size} bytes is too large for a question bank")
    try:
        raw = path.read_bytes()
        return tomllib.loads(raw.decode("utf-8-sig"))  # a BOM, as Windows editors write
    except UnicodeDecodeError as exc:  # as config.toml says it: the line, not Python's codec and byte offset
        raise ConfigError(not_utf8(path, raw, exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:  # tomllib reads nested tables and arrays by recursion
        raise ConfigError(f"{path}: its tables or arrays are nested too deeply to read; a question bank "
                          "needs two levels") from None
    except OSError as exc:
        raise ConfigError(f"question file {path}: cannot read it ({exc.strerror})") from None


QUESTION_KEYS = ("id", "text", "principles", "themes", "follow_ups")


def _question(raw: dict, builtin: bool, source: str) -> Question:
    unknown = [k for k in raw if k not in QUESTION_KEYS]
    if unknown:
        raise ConfigError(f"{source}: a [[question]] has {unknown[0]!r}, which is not a question field "
                          f"({', '.join(QUESTION_KEYS)}); misspelt?")
    if not isinstance(raw.get("id"), str) or not isinstance(raw.get("text"), str) or not raw["id"].strip() \
            or not raw["text"].strip():
        raise ConfigError(f"{source}: every [[question]] needs a non-empty string id and text")

    if follow_up_of(raw["id"]) is not None:  # its takes would read as answers to a follow-up of another question
        raise ConfigError(f"{source}: question id {raw['id']!r} is how starcoach names a follow-up answer "
                          f"(\"<id>{FOLLOW_UP_MARK}N\"); choose another id")
    if any(ch.isspace() or not ch.isprintable() for ch in raw["id"]):
        # an id is typed after --question and shown in a table: " mine 1 " and "mine\n1" were taken
        raise ConfigError(f"{source}: question id {raw['id']!r} holds a space or a control character; use letters, "
                          "digits and dashes (\"mine-1\")")

    def strings(key):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ConfigError(f"{source}: question {raw['id']!r}: {key} must be a list of non-empty strings")
        seen = set()
        for v in value:  # a principle listed twice counted each take of the question twice in `coverage`
            if key != "follow_ups" and v.casefold() in seen:
                raise ConfigError(f"{source}: question {raw['id']!r} lists {v!r} twice in {key}: list each once")
            seen.add(v.casefold())
        return tuple(value)

    for text in (raw["text"], *strings("principles"), *strings("themes"), *strings("follow_ups")):
        _shown(text, f"{source}: question {raw['id']!r}")

    # One line each: a TOML multi-line string would break the export's heading (its second line
    # read as the answer's first sentence) and the report's question line.
    return Question(id=raw["id"], text=" ".join(raw["text"].split()), principles=strings("principles"),
                    themes=strings("themes"), follow_ups=tuple(" ".join(f.split()) for f in strings("follow_ups")),
                    builtin=builtin)


# Control characters (C0 but tab and line breaks, DEL, C1), and the bidirectional embeddings and
# overrides (U+202A-U+202E), which turn the rest of a terminal line around; the isolates and marks
# right-to-left writing needs (U+2066-U+2069, U+200E, U+200F) stay.
_DRIVES_THE_TERMINAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e]")


def _shown(text: str, where: str) -> None:
    """Refuse text the terminal would take for orders (an escape sequence clears the screen, sets the
    window's title or colours what follows; an override reverses it): a question file may come from
    someone else. Tabs and line breaks are whitespace, folded before it is shown."""
    bad = _DRIVES_THE_TERMINAL.search(text)
    if bad is not None:
        raise ConfigError(f"{where} holds a control character (U+{ord(bad.group()):04X}), which would drive the "
                          "terminal rather than be shown: remove it")
