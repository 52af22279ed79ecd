"""The one place that finds starcoach's home and reads ``config.toml``.

Every path the app uses (models, recordings, the database, the user's questions)
is resolved here, relative to the folder holding ``config.toml``. Setting
``STARCOACH_HOME`` points the whole app at another folder, which is how tests
isolate their state.
"""

from __future__ import annotations

import dataclasses
import math
import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from .analysis.metrics import MetricsOptions
from .analysis.pipeline import AnalysisOptions, Analyzer
from .analysis.star import StarOptions
from .asr.engine import TranscribeOptions
from .asr.live import LiveOptions
from .asr.bundled import BUNDLED
from .asr.models import ModelInfo, list_models, looks_like_path, resolve_model
from .domain.errors import ConfigError, ModelError

HOME_ENV = "STARCOACH_HOME"
CONFIG_NAME = "config.toml"
SECTIONS = ("paths", "model", "metrics", "star", "record", "live")
_EXAMPLE = {"paths": 'recordings = "recordings"', "model": 'name = "base"', "metrics": "long_pause_s = 2.0",
            "star": 'tagger = "hybrid"', "record": "countdown_s = 3", "live": "enabled = true"}
MAX_CONFIG_BYTES = 1_000_000

# Settings that must not be below another one of the same section.
_ORDERED = [("metrics", "pause_min_s", "long_pause_s"), ("metrics", "hesitation_min_s", "hesitation_max_s"),
            ("live", "min_chunk_s", "max_chunk_s")]


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


@dataclass(frozen=True)
class RecordOptions:
    """Recording settings.

    Attributes:
        sample_rate: rate asked of the microphone; takes are stored at this rate.
        max_seconds: a safety stop for a take nobody ended (0: none).
        countdown_s: seconds counted down before recording starts (terminal only).
    """

    sample_rate: int = field(default=16_000, metadata={"range": (8_000, 192_000)})
    max_seconds: float = field(default=600.0, metadata={"range": (0.0, 4 * 3600.0)})
    countdown_s: int = field(default=3, metadata={"range": (0, 60)})


@dataclass(frozen=True)
class Config:
    """Everything read from ``config.toml``, with defaults for what it leaves out."""

    paths: Paths
    model: str = "base"
    transcribe: TranscribeOptions = field(default_factory=TranscribeOptions)
    metrics: MetricsOptions = field(default_factory=MetricsOptions)
    star: StarOptions = field(default_factory=StarOptions)
    record: RecordOptions = field(default_factory=RecordOptions)
    live: LiveOptions = field(default_factory=LiveOptions)

    @property
    def analysis(self) -> AnalysisOptions:
        """The settings of the analysis stages."""
        return AnalysisOptions(transcribe=self.transcribe, metrics=self.metrics, star=self.star, live=self.live)

    def analyzer(self, model: str | None = None) -> Analyzer:
        """The pipeline with ``model`` (a name or folder; the configured one if None).

        Raises:
            ModelError: the model cannot be found.
            ConfigError: ``[paths] models`` is outside the home and does not exist (and the
                model is not a folder given by its path).
        """
        name = model or self.model
        base = None if model else self.paths.home  # a relative --model is from the current folder
        folder = self.paths.models if looks_like_path(name, base) else self.paths.models_folder()
        try:
            return Analyzer(resolve_model(name, folder, base=base), self.analysis)
        except ModelError as exc:
            if model:
                raise
            raise ModelError(self._named_here(str(exc))) from None

    def model_list(self) -> list[ModelInfo]:
        """What ``starcoach models`` shows: :func:`list_models`, the configured model marked.

        Raises:
            ConfigError: ``[paths] models`` is outside the home and does not exist.
        """
        infos = list_models(self.paths.models_folder(), self.model, base=self.paths.home)
        return [dataclasses.replace(m, problem=self._named_here(m.problem)) if m.problem else m for m in infos]

    def _named_here(self, message: str) -> str:
        """A model error about ``[model] name``, said to come from config.toml: the user may never
        have typed the name."""
        return f"{self.paths.config_file}: [model] name: {message}"


def project_home() -> Path:
    """The folder starcoach works in.

    ``$STARCOACH_HOME`` if set; otherwise the source checkout this package runs from
    (it holds ``config.toml`` and ``pyproject.toml``: models/ and recordings/ sit at
    its top level); otherwise, installed from a wheel, the user's data folder
    (``~/.local/share/starcoach`` on Linux, by platformdirs).
    """
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser().resolve()
    checkout = _checkout()
    if checkout is not None:
        return checkout
    from platformdirs import user_data_path

    return user_data_path("starcoach", appauthor=False)


def _checkout() -> Path | None:
    """The source checkout this package runs from, if it does (an editable install)."""
    top = Path(__file__).resolve().parents[2]
    return top if (top / CONFIG_NAME).is_file() and (top / "pyproject.toml").is_file() else None


def load_config(home: Path | None = None) -> Config:
    """Read ``config.toml`` from the home folder and resolve every path.

    Args:
        home: the folder holding ``config.toml``; :func:`project_home` if None.
            A missing ``config.toml`` means all defaults.

    Returns:
        The :class:`Config`.

    Raises:
        ConfigError: the file is not valid TOML, or a value has the wrong type.
    """
    if home is None and os.environ.get(HOME_ENV) and not project_home().is_dir():
        # A mistyped folder would become a new, empty home: takes "gone", new ones kept apart.
        named = project_home()
        if named.exists():  # "mkdir -p" would fail on the file in the way
            raise ConfigError(f"{HOME_ENV}={named} is a file, not a folder: point the variable at the folder "
                              "that holds your config.toml, models/ and recordings/")
        raise ConfigError(f"{HOME_ENV}={named} does not exist: fix the variable, or make the folder "
                          f"(mkdir -p {named}) to start a new home there")
    home = (home or project_home()).resolve()
    config_file = home / CONFIG_NAME
    data = _read_toml(config_file)

    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise ConfigError(f"{config_file}: unknown section(s) {', '.join(sorted(unknown))}")
    tables = {name: _table(data, name, config_file) for name in SECTIONS}
    paths_t = tables["paths"]
    unknown = set(paths_t) - {"models", "recordings", "database", "questions"}
    if unknown:  # a typo ("question", "recording") would silently keep the default
        raise ConfigError(f"{config_file}: [paths] has no setting named {sorted(unknown)[0]!r}")
    model_t = dict(tables["model"])
    model_name = model_t.pop("name", "base")
    if not isinstance(model_name, str) or not model_name:
        raise ConfigError(f"{config_file}: [model] name must be a non-empty string")

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
    paths = Paths(
        home=home,
        config_file=config_file,
        models=where("models", "models", folder=True),
        recordings=where("recordings", "recordings", folder=True),
        database=where("database", "recordings/starcoach.db", folder=False),
        questions=where("questions", "", folder=None) if questions else None,
    )
    config = Config(
        paths=paths,
        model=_model_name(model_name, home, paths.models),
        transcribe=_fill(TranscribeOptions, model_t, "model", config_file),
        metrics=_fill(MetricsOptions, tables["metrics"], "metrics", config_file),
        star=_fill(StarOptions, tables["star"], "star", config_file),
        record=_fill(RecordOptions, tables["record"], "record", config_file),
        live=_fill(LiveOptions, tables["live"], "live", config_file),
    )
    for section, low, high in _ORDERED:
        values = getattr(config, section)
        if getattr(values, low) > getattr(values, high):
            raise ConfigError(f"{config_file}: [{section}] {low} = {getattr(values, low)} is above {high} = "
                              f"{getattr(values, high)}; it must not be")
    return config


def _model_name(name: str, home: Path, models: Path) -> str:
    """``[model] name`` as the finder takes it. A folder named by a relative path (``./mine``,
    ``mine/base``, or ``mine`` beside config.toml) is relative to config.toml's folder, as every path
    in it is, and becomes absolute: it was looked up from wherever the command ran. A model's name
    stays one (``base``, ``small.en``, ``org/model`` with no such folder here), and so does a folder's
    under [paths] models; a bundled model's name is never a folder's."""
    path = Path(name).expanduser()
    here = home / path
    if path.is_absolute() or name.startswith(".") or here.exists() and name not in BUNDLED \
            and not (models / name).exists():
        return str(here.resolve())
    return name


def _read_toml(config_file: Path) -> dict[str, Any]:
    """The file's tables; {} if there is no file. Only a regular file is read."""
    try:
        st = config_file.stat()
    except FileNotFoundError:
        if config_file.is_symlink():
            raise ConfigError(f"{config_file} is a link to {os.readlink(config_file)}, which does not exist; "
                              "fix or remove the link") from None
        return {}
    except OSError as exc:
        raise ConfigError(f"{config_file}: cannot read it ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise ConfigError(f"{config_file} is {kind}; it must be a TOML file (or absent, for the defaults)")
    if st.st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{config_file}: {st.st_size} bytes is too large for a configuration file")
    try:
        return tomllib.loads(config_file.read_text(encoding="utf-8-sig"))  # a BOM, as Windows editors write
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_file}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{config_file}: cannot read it ({exc.strerror})") from None


def _table(data: dict[str, Any], name: str, source: Path) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):  # "model = 'base'" at the top, or [[model]]
        raise ConfigError(f"{source}: {name} must be a section: write [{name}] on a line of its own, then its "
                          f"settings below it (such as {_EXAMPLE.get(name, 'name = value')})")
    return value


def _in_the_way(path: Path, *, folder: bool) -> Path | None:
    """What already exists and stops ``path`` from being a folder (or a file) starcoach can
    create or use: the path itself of the wrong kind, or a file where a parent folder must be."""
    if path.exists() and path.is_dir() != folder:
        return path
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def _allowed(f: dataclasses.Field) -> str:
    if "range" in f.metadata:
        lo, hi = f.metadata["range"]
        return f"allowed: {lo} to {hi}"
    if "choices" in f.metadata:
        choices = f.metadata["choices"]
        if len(choices) > 12:
            return f"allowed: one of {len(choices)} values, such as {f.default!r}"
        return "allowed: " + ", ".join(choices)
    return ""


def _check_range(f: dataclasses.Field, value: Any, name: str, source: Path) -> None:
    """A field's ``metadata``: ``range`` (lo, hi) for numbers (each, for a pair), ``choices``,
    ``max_chars`` for text."""
    if "range" in f.metadata:
        lo, hi = f.metadata["range"]
        items = value if isinstance(value, tuple) else (value,)
        if isinstance(value, tuple) and (len(value) != 2 or value[0] > value[1]):
            raise ConfigError(f"{source}: {name} = {list(value)} must be two numbers, low then high ({_allowed(f)})")
        for v in items:
            if not (isinstance(v, (int, float)) and math.isfinite(v) and lo <= v <= hi):
                raise ConfigError(f"{source}: {name} = {v} is out of range ({_allowed(f)})")
    if "choices" in f.metadata and value not in f.metadata["choices"]:
        raise ConfigError(f"{source}: {name} = {value!r} is not a known value ({_allowed(f)})")
    if "max_chars" in f.metadata and len(value) > f.metadata["max_chars"]:
        raise ConfigError(f"{source}: {name} is {len(value):,} characters long, over the {f.metadata['max_chars']} "
                          "allowed: keep it a short list of filler words, as the default is")


def _fill(cls: type, values: dict[str, Any], section: str, source: Path):
    """Build an options dataclass from a TOML table, checking names and types."""
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in fields:
            raise ConfigError(f"{source}: [{section}] has no setting named {key!r}")
        kwargs[key] = _coerce(value, hints[key], f"[{section}] {key}", source)
        _check_range(fields[key], kwargs[key], f"[{section}] {key}", source)
    return cls(**kwargs)


def _coerce(value: Any, hint: Any, name: str, source: Path) -> Any:
    origin = getattr(hint, "__origin__", None)
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is str:
        if isinstance(value, str):
            return value
    elif origin is tuple:
        if isinstance(value, list) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
        ):
            return tuple(float(v) for v in value)
    else:  # str | None and the like
        if value is None or isinstance(value, str):
            return value or None
    kind = {bool: "true or false", float: "a number", int: "a whole number", str: "a string"}.get(hint, "")
    if origin is tuple:
        kind = "a list of two numbers"
    raise ConfigError(f"{source}: {name} has the wrong type ({value!r}){'; it must be ' + kind if kind else ''}")
