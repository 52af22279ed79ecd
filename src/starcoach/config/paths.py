"""``[paths]``: where starcoach keeps models, takes and their database, and the user's questions.

Every path is relative to the folder holding ``config.toml`` (the home).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..domain.errors import ConfigError


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
        except OSError as exc:
            raise ConfigError(f"cannot make the folder for [paths] {setting}, {folder}: {exc.strerror}; "
                              f"change {setting} in {self.config_file}") from None
        return folder

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


def read_paths(home: Path, config_file: Path, paths_t: dict[str, Any]) -> Paths:
    """``[paths]`` of config.toml, each resolved from the home folder and checked.

    Raises:
        ConfigError: a setting is unknown, not a string, empty, or cannot be what it names.
    """
    unknown = set(paths_t) - {"models", "recordings", "database", "questions"}
    if unknown:  # a typo ("question", "recording") would silently keep the default
        raise ConfigError(f"{config_file}: [paths] has no setting named {sorted(unknown)[0]!r}")

    def where(key: str, default: str, *, folder: bool | None) -> Path:
        """``folder``: True or False to check the path can be a folder or a file of ours; None
        for a file that is only read (its reader says what is wrong with it)."""
        value = paths_t.get(key, default)
        if not isinstance(value, str):
            raise ConfigError(f"{config_file}: [paths] {key} must be a string")
        if folder is None:
            return (home / Path(value).expanduser()).resolve()
        kind = "folder" if folder else "file"
        if not value.strip():
            raise ConfigError(f"{config_file}: [paths] {key} is empty; give a {kind} (default: {default!r})")
        path = (home / Path(value).expanduser()).resolve()
        blocked = _in_the_way(path, folder=folder)
        if blocked is not None:
            what = "a folder" if blocked.is_dir() else "a file"
            raise ConfigError(f"{config_file}: [paths] {key} = {value!r} cannot be a {kind}: {blocked} is {what}; "
                              f"give another {kind} (default: {default!r})")
        return path

    questions = paths_t.get("questions", "")
    if not isinstance(questions, str):  # `false` or `0` is not "no file"; "" is
        raise ConfigError(f"{config_file}: [paths] questions must be a string (\"\" for none)")
    return Paths(
        home=home,
        config_file=config_file,
        models=where("models", "models", folder=True),
        recordings=where("recordings", "recordings", folder=True),
        database=where("database", "recordings/starcoach.db", folder=False),
        questions=where("questions", "", folder=None) if questions else None,
    )


def _in_the_way(path: Path, *, folder: bool) -> Path | None:
    """What already exists and stops ``path`` from being a folder (or a file) starcoach can
    create or use: the path itself of the wrong kind, or a file where a parent folder must be."""
    if path.exists() and path.is_dir() != folder:
        return path
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None
