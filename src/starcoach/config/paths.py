"""``[paths]``: where starcoach keeps models, takes and their database, and the user's questions.

Every path is relative to the folder holding ``config.toml`` (the home).
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..asr.model_files import WEIGHTS
from ..domain.errors import ConfigError
from ..domain.filekind import WRITTEN_OVER, not_a_database
from ..domain.userpath import user_path

PATH_SETTINGS = ("models", "recordings", "database", "questions")
_DEFAULTS = {"database": "recordings/starcoach.db", "models": "models", "recordings": "recordings"}
_OWN_FILE = f"give the takes database a file of its own (default: {_DEFAULTS['database']!r})"
# The package's config.toml (the checkout's, as its data; a wheel's home has none): every setting at its default.
PACKAGED_CONFIG = Path(__file__).resolve().parents[1] / "data" / "config.toml"


@dataclass(frozen=True)
class Paths:
    """Where starcoach keeps things; all absolute."""

    home: Path
    config_file: Path
    models: Path
    recordings: Path
    database: Path
    questions: Path | None

    def storage_folder(self, setting: str) -> Path:
        """The folder ``[paths] database`` or ``recordings`` puts takes in, made if it is missing.

        A missing folder inside the home is made (the first take); one outside it is refused,
        since it is a typo or a disk that is not attached, and making it would put new takes
        where the user will not look for them (and hide them when the disk comes back).

        Raises:
            ConfigError: the folder is outside the home and does not exist.
        """
        folder = self.database.parent if setting == "database" else self.recordings
        self._refuse_missing_outside(setting, folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # (a new home on a read-only disk was told to edit a config.toml it has not)
            where = f"set {setting} under [paths] in {self.config_file}" + \
                ("" if self.config_file.exists() else " (a new file)")
            if exc.errno == errno.EROFS:
                raise ConfigError(f"cannot make the folder for [paths] {setting}, {folder}: the disk is read-only; "
                                  f"remount it writable, or {where} to a folder on a disk you can write") from None
            raise ConfigError(f"cannot make the folder for [paths] {setting}, {folder}: {exc.strerror}; {where}") \
                from None
        return folder

    def moved_audio(self, audio: Path | str) -> str | None:
        """Where a take's audio that is missing from ``recordings`` is, said with what to do, when
        ``[paths] recordings`` was changed after the take was made: under the database's folder (by
        default the recordings folder, and the database did not move) or the home's default one.
        None when it is in neither."""
        try:
            inside = Path(audio).relative_to(self.recordings)
        except ValueError:
            return None
        for folder in dict.fromkeys((self.database.parent, self.home / _DEFAULTS["recordings"])):
            before = folder / inside
            if before != Path(audio) and before.is_file():
                return (f"it is in {before}, where [paths] recordings pointed when it was made: set that back in "
                        f"{self.config_file}, or move the date folders of {folder} into {self.recordings}")
        return None

    def models_folder(self) -> Path:
        """``[paths] models``, checked as :meth:`storage_folder` checks its folders (a model is
        145 MB or more, assembled or downloaded there), but not made: that is the model's business.

        Raises:
            ConfigError: the folder is outside the home and does not exist.
        """
        self._refuse_missing_outside("models", self.models)
        return self.models

    def _refuse_missing_outside(self, setting: str, folder: Path) -> None:
        if not folder.is_dir() and not folder.is_relative_to(self.home):
            raise ConfigError(f"[paths] {setting} is in {folder}, which does not exist: create it (or attach "
                              f"its disk), or change {setting} in {self.config_file}")


def read_paths(home: Path, config_file: Path, table: dict[str, Any]) -> Paths:
    """``[paths]`` of config.toml, resolved from the home folder and checked alone, against one
    another and against what is on disk: a setting that makes one path another's (the database
    where the recordings folder goes; config.toml, a take's audio or a device as the database) is
    refused before any command makes, opens or moves a file by it.

    Raises:
        ConfigError: a setting is not a string, empty, the path of another, or cannot be what
            it names (an unknown one is the caller's to refuse: :data:`PATH_SETTINGS`).
    """
    given = {key: table.get(key, default) for key, default in _DEFAULTS.items()}
    questions = table.get("questions", "")
    if not isinstance(questions, str):  # `false` or `0` is not "no file"; "" is
        raise ConfigError(f"{config_file}: [paths] questions must be a string (\"\" for none)")
    questions = questions if questions.strip() else ""  # "  " named a file of two spaces
    for key, value in given.items():
        if not isinstance(value, str):
            raise ConfigError(f"{config_file}: [paths] {key} must be a string")
        if not value.strip():
            raise ConfigError(f"{config_file}: [paths] {key} is empty; give a {_kind(key)} "
                              f"(default: {_DEFAULTS[key]!r})")
        refuse_nul(value, f"[paths] {key}", config_file)
    refuse_nul(questions, "[paths] questions", config_file)
    at = {key: user_path(value, f"{config_file}: [paths] {key}", base=home) for key, value in given.items()}
    paths = Paths(home=home, config_file=config_file, models=at["models"], recordings=at["recordings"],
                  database=at["database"],
                  questions=user_path(questions, f"{config_file}: [paths] questions", base=home) if questions else None)
    clash = _clash(paths, given)
    if clash:
        raise ConfigError(f"{config_file}: {clash}")
    for key, value in given.items():
        blocked = _in_the_way(at[key], folder=key != "database")
        if blocked is not None:
            what = "a folder" if blocked.is_dir() else "a file"
            raise ConfigError(f"{config_file}: [paths] {key} = {value!r} cannot be a {_kind(key)}: {blocked} is "
                              f"{what}; give another {_kind(key)} (default: {_DEFAULTS[key]!r})")
    kind = not_a_database(paths.database)
    if kind is not None:
        raise ConfigError(f"{config_file}: [paths] database = {given['database']!r} names {paths.database}, which "
                          f"is {kind}, not a takes database; {_OWN_FILE} ({WRITTEN_OVER})")
    return paths


def refuse_nul(value: str, setting: str, config_file: Path) -> None:
    """A setting that names a file, a folder or a model may not hold a NUL (TOML's ``\\u0000``): no
    such name can, and Python's file functions raise ValueError on it, which read as a bug.

    Raises:
        ConfigError: it does.
    """
    if "\0" in value:
        raise ConfigError(f"{config_file}: {setting} holds a NUL character (\\u0000), which no file or model name "
                          "can: remove it")


def _kind(key: str) -> str:
    return "file" if key == "database" else "folder"


def _clash(paths: Paths, given: dict[str, str]) -> str | None:
    """What makes one ``[paths]`` setting another's, or None: two the same path; a folder inside the
    database; the database in a folder of takes or of models (among a take's audio and metadata,
    a model's files: `doctor` would move one aside as a damaged database and write a new one in its
    place); or the database config.toml itself or the question file (links, hard ones too, followed)."""
    def named(*keys: str) -> str:
        return " and ".join(f"{k} = {given[k]!r}" for k in keys)

    def apart(*keys: str) -> str:
        return "give each its own (defaults: " + ", ".join(f"{k} = {_DEFAULTS[k]!r}" for k in keys) + ")"

    db = paths.database
    for key in ("models", "recordings"):
        folder = getattr(paths, key)
        if folder == db:
            return f"[paths] {named('database', key)} are the same path ({db}); {apart('database', key)}"
        if folder.is_relative_to(db):
            return f"[paths] {named(key)} is inside [paths] {named('database')}, a file; {apart('database', key)}"
        if db.parent != folder and db.is_relative_to(folder) and _holds_takes_or_a_model(key, folder, db.parent):
            kept = "takes' audio and metadata are kept" if key == "recordings" else "models are kept"
            return f"[paths] {named('database')} is inside a folder of [paths] {key}, where {kept}; {_OWN_FILE}"
    if (db.parent / WEIGHTS).exists():  # a model's folder anywhere (`models/base` a link out of `models`: an audit)
        return f"[paths] {named('database')} is in a folder that holds a model ({db.parent}); {_OWN_FILE}"
    if paths.models == paths.recordings:
        return f"[paths] {named('models', 'recordings')} are the same path ({paths.models}); " \
               f"{apart('models', 'recordings')}"
    for other, what in ((paths.config_file, "this configuration file"), (paths.questions, "the question file")):
        if other is not None and (other == db or other.exists() and db.exists() and os.path.samefile(other, db)):
            if other == paths.questions and given["database"] == _DEFAULTS["database"]:  # the one changed: questions
                return f"[paths] questions names the takes database ({other}); name your question file there"
            return f"[paths] {named('database')} is {what}; {_OWN_FILE}"
    return None


def _holds_takes_or_a_model(key: str, folder: Path, where: Path) -> bool:
    """Whether WHERE, a folder under the recordings or models FOLDER, is one of a day's takes (named
    by its date, as takes/session.py makes them) or holds a model: a database anywhere else there
    (``recordings/index/starcoach.db``; the home's ``recordings/`` under ``models = "."``) is as
    good as beside them."""
    if key == "recordings":
        return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", where.relative_to(folder).parts[0]))
    return (where / WEIGHTS).exists()


def _in_the_way(path: Path, *, folder: bool) -> Path | None:
    """What already exists and stops ``path`` from being a folder (or a file) starcoach can
    create or use: the path itself of the wrong kind, or a file where a parent folder must be."""
    if path.exists() and path.is_dir() != folder:
        return path
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None
