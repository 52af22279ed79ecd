"""The one place that finds starcoach's home and reads ``config.toml``.

Every path the app uses (models, recordings, the database, the user's questions)
is resolved here, relative to the folder holding ``config.toml``. Setting
``STARCOACH_HOME`` points the whole app at another folder, which is how tests
isolate their state.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import math
import os
import re
import shlex
import stat
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from ..analysis.metrics import MetricsOptions
from ..analysis.pipeline import AnalysisOptions, Analyzer
from ..analysis.star import StarOptions
from ..asr.engine import TranscribeOptions
from ..asr.live import LiveOptions
from ..asr.bundled import BUNDLED
from ..asr.models import ModelInfo, list_models, looks_like_path, resolve_model
from ..domain.errors import ConfigError, ModelError
from ..domain.userpath import user_path
from .paths import PATH_SETTINGS, Paths, read_paths, refuse_nul

HOME_ENV = "STARCOACH_HOME"
CONFIG_NAME = "config.toml"
SECTIONS = ("paths", "model", "metrics", "star", "record", "live")
_LISTED_SECTIONS = "the sections are " + ", ".join(f"[{s}]" for s in SECTIONS[:-1]) + f" and [{SECTIONS[-1]}]"
_EXAMPLE = {"paths": 'recordings = "recordings"', "model": 'name = "base"', "metrics": "long_pause_s = 2.0",
            "star": 'tagger = "hybrid"', "record": "countdown_s = 3", "live": "enabled = true"}
MAX_CONFIG_BYTES = 1_000_000

# Settings that must not be below another one of the same section.
_ORDERED = [("metrics", "pause_min_s", "long_pause_s"), ("metrics", "hesitation_min_s", "hesitation_max_s"),
            ("live", "min_chunk_s", "max_chunk_s")]


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

    def analyzer(self, model: str | None = None, *, on_wait: Callable[[str], None] | None = None) -> Analyzer:
        """The pipeline with ``model`` (a name or folder; the configured one if None); ``on_wait`` is
        given a line to say if it must wait for another starcoach building in the models folder.

        Raises:
            ModelError: the model cannot be found.
            ConfigError: ``[paths] models`` is outside the home and does not exist (and the
                model is not a folder given by its path).
        """
        chosen = self._model(model)
        folder = self.paths.models if isinstance(chosen, Path) else self.paths.models_folder()
        try:
            return Analyzer(resolve_model(chosen, folder, on_wait=on_wait), self.analysis)
        except ModelError as exc:
            if model:
                raise
            raise ModelError(self._named_here(str(exc))) from None

    def model_list(self) -> list[ModelInfo]:
        """What ``starcoach models`` shows: :func:`list_models`, the configured model marked.

        Raises:
            ConfigError: ``[paths] models`` is outside the home and does not exist (and the
                configured model is not a folder given by its path: that one is listed, as
                :meth:`analyzer` uses it).
        """
        folder = self.paths.models if isinstance(self._model(None), Path) else self.paths.models_folder()
        infos = list_models(folder, self.model)
        return [dataclasses.replace(m, problem=self._named_here(m.problem)) if m.problem else m for m in infos]

    def _model(self, typed: str | None) -> str | Path:
        """The model to use, a Path if it is a folder: ``typed`` (``--model``, by :func:`model_folder`'s
        rule from the current folder), else ``[model] name`` (by the same rule from config.toml's
        folder, made absolute when the file was read)."""
        if typed:
            return model_folder(typed, Path(), self.paths.models, "--model") or typed
        return Path(self.model) if looks_like_path(self.model) else self.model

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
        return user_path(env, HOME_ENV)
    checkout = _checkout()
    if checkout is not None:
        return checkout
    from platformdirs import user_data_path

    return user_data_path("starcoach", appauthor=False)


def _checkout() -> Path | None:
    """The source checkout this package runs from, if it does (an editable install)."""
    top = Path(__file__).resolve().parents[3]
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
        # a file on the way there: no folder can be made below it (an audit: the "mkdir -p" offered failed)
        blocked = next((p for p in named.parents if p.exists() and not p.is_dir()), None)
        if blocked is not None:
            raise ConfigError(f"{HOME_ENV}={named} lies under {blocked}, which is a file, not a folder: point the "
                              "variable at the folder that holds your config.toml, models/ and recordings/")
        # quoted to be pasted as it is; a name no shell line can show (a control character) is not offered
        mkdir = f" ({shlex.join(['mkdir', '-p', str(named)])})" if str(named).isprintable() else ""
        raise ConfigError(f"{HOME_ENV}={named} does not exist: fix the variable, or make the folder{mkdir} to start "
                          "a new home there")
    home = (home or project_home()).resolve()
    config_file = home / CONFIG_NAME
    data = _read_toml(config_file)

    tables = {name: _table(data, name, config_file) for name in SECTIONS}
    for name, value in data.items():
        if name not in SECTIONS:
            raise ConfigError(f"{config_file}: {_stray(name, value)}")
    for section, table in tables.items():
        for key in table:
            if key not in _settings(section):  # a typo ("question", "thread") would silently keep the default
                raise ConfigError(f"{config_file}: {_unknown_setting(section, key)}")
    model_t = dict(tables["model"])
    model_name = model_t.pop("name", "base")
    if not isinstance(model_name, str) or not model_name:
        raise ConfigError(f"{config_file}: [model] name must be a non-empty string")
    refuse_nul(model_name, "[model] name", config_file)

    paths = read_paths(home, config_file, tables["paths"])
    folder = model_folder(model_name, home, paths.models, f"{config_file}: [model] name")
    config = Config(
        paths=paths,
        model=str(folder) if folder else model_name,
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


_OPTIONS = {"model": TranscribeOptions, "metrics": MetricsOptions, "star": StarOptions, "record": RecordOptions,
            "live": LiveOptions}


def _settings(section: str) -> list[str]:
    """The names a section of config.toml may hold."""
    if section == "paths":
        return list(PATH_SETTINGS)
    return ["name"] * (section == "model") + [f.name for f in dataclasses.fields(_OPTIONS[section])]


def _and(names: list[str]) -> str:
    """"a, b and c"."""
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def _owner(name: str) -> str | None:
    """The section that has a setting called NAME, if one does."""
    return next((section for section in SECTIONS if name in _settings(section)), None)


def _unknown_setting(section: str, key: str) -> str:
    """Where a setting misplaced or misspelt as KEY belongs: the section that has it, the nearest
    name of SECTION, or else the names it has."""
    names = _settings(section)
    owner = _owner(key)
    near = difflib.get_close_matches(key.lower(), names, n=1)
    where = f"it is a setting of [{owner}]" if owner else f"did you mean {near[0]!r}?" if near else \
        f"its settings are {_and(names)}"
    return f"[{section}] has no setting named {key!r}; {where}"


def _stray(name: str, value: Any) -> str:
    """What a top-level name of config.toml that is no section of it is, and where it goes."""
    if isinstance(value, dict) or isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        near = difflib.get_close_matches(name.lower(), SECTIONS, n=1)
        return f"unknown section [{name}]; " + (f"did you mean [{near[0]}]? ({_LISTED_SECTIONS})" if near
                                                 else _LISTED_SECTIONS)
    owner = _owner(name)
    return f"{name} = {_toml(value)} is outside any section; " + (
        f"it is a setting of [{owner}]: put it under [{owner}]" if owner else _LISTED_SECTIONS)


def model_folder(name: str, base: Path, models: Path, what: str) -> Path | None:
    """The one rule for whether a model name (``[model] name``, or ``--model``: WHAT) is a folder's
    path, and which: ``base / name`` made absolute (``base`` is config.toml's folder, as for every
    path in it, or the current one for a name typed on the command line), or None for a model's
    name. A name written as a path (``./mine``, ``/models/mine``, ``~/mine``) is a folder's; so is any
    other naming something in ``base`` (``mine/base``, ``mine``), unless it names a folder under [paths]
    models or a bundled model: those, and names of nothing there (``org/model``), stay models' names."""
    path = user_path(name, what, base=base) if looks_like_path(name) else base / name
    if looks_like_path(name) or path.exists() and name not in BUNDLED and not (models / name).exists():
        return user_path(path, what)
    return None


def _read_toml(config_file: Path) -> dict[str, Any]:
    """The file's tables; {} if there is no file. Only a regular file is read."""
    try:
        st = config_file.stat()
    except FileNotFoundError:
        if config_file.is_symlink():
            raise ConfigError(f"{config_file} is a link to {os.readlink(config_file)}, which does not exist; "
                              "fix or remove the link") from None
        return {}
    except PermissionError as exc:  # a stat needs no right on the file: a folder on the way may not be searched
        raise ConfigError(f"{config_file.parent}: cannot look inside this folder ({exc.strerror}), so its "
                          f"{config_file.name} cannot be read either; check the permissions of the folder and of "
                          "the folders above it") from None
    except OSError as exc:
        raise ConfigError(f"{config_file}: cannot read it ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise ConfigError(f"{config_file} is {kind}; it must be a TOML file (or absent, for the defaults)")
    if st.st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{config_file}: {st.st_size} bytes is too large for a configuration file")
    try:
        raw = config_file.read_bytes()
        return tomllib.loads(raw.decode("utf-8-sig"))  # a BOM, as Windows editors write
    except UnicodeDecodeError as exc:  # (Python's words give a byte offset: the line is what an editor shows)
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{config_file}: line {line} is not UTF-8 text; save the file as UTF-8") from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:  # tomllib reads nested arrays by recursion
        why = exc if isinstance(exc, tomllib.TOMLDecodeError) else "its tables or arrays are nested too deeply"
        raise ConfigError(f"{config_file}: not valid TOML ({why})") from None
    except OSError as exc:
        raise ConfigError(f"{config_file}: cannot read it ({exc.strerror})") from None


def _table(data: dict[str, Any], name: str, source: Path) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):  # "model = 'base'" at the top, or [[model]]
        raise ConfigError(f"{source}: {name} must be a section: write [{name}] on a line of its own, then its "
                          f"settings below it (such as {_EXAMPLE.get(name, 'name = value')})")
    return value


def _allowed(f: dataclasses.Field) -> str:
    if "range" in f.metadata:
        lo, hi = f.metadata["range"]
        return f"allowed: {lo} to {hi}"
    if "choices" in f.metadata:
        return "allowed: " + ", ".join(f.metadata["choices"])
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
                pair = "[" + ", ".join(f"{x:g}" for x in value) + "]" if isinstance(value, tuple) else ""
                said = f"{name} = {pair}: {v:g}" if pair else f"{name} = {v}"
                raise ConfigError(f"{source}: {said} is out of range ({_allowed(f)})")
    if "choices" in f.metadata and value not in f.metadata["choices"]:
        near = difflib.get_close_matches(str(value).lower(), f.metadata["choices"], n=1)
        listed = f" ({_allowed(f)})" if not near or len(f.metadata["choices"]) <= 12 else ""  # not 100 languages
        raise ConfigError(f"{source}: {name} = {_toml(value)} is not a known value"
                          + (f"; did you mean {near[0]!r}?" if near else "") + listed)
    if "max_chars" in f.metadata and len(value) > f.metadata["max_chars"]:
        raise ConfigError(f"{source}: {name} is {len(value):,} characters long, over the {f.metadata['max_chars']} "
                          "allowed: keep it a short list of filler words, as the default is")


def _fill(cls: type, values: dict[str, Any], section: str, source: Path):
    """Build an options dataclass from a TOML table, checking names and types."""
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():  # (every key is one of the fields: load_config checked)
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
        bad = next((v for v in value if not isinstance(v, (int, float)) or isinstance(v, bool)), None) \
            if isinstance(value, list) else None
        if bad is not None:  # "[120, 'x'] is a list; it must be a list of two numbers" named no culprit
            raise ConfigError(f"{source}: {name} has the wrong type: {_toml(bad)} in {_toml(value)} is "
                              f"{_toml_type(bad)}; it must be {kind}, such as [120, 160]")
    raise ConfigError(f"{source}: {name} has the wrong type: {_toml(value)} is {_toml_type(value)}"
                      + (f"; it must be {kind}" if kind else ""))


def _toml(value: Any) -> str:
    """A value as TOML writes it (Python's repr reads as code: ``datetime.date(1979, 5, 27)``, ``True``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else "inf" if value > 0 else "-inf"
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml, value)) + "]"
    if isinstance(value, dict):
        pairs = [f"{k if re.fullmatch(r'[A-Za-z0-9_-]+', k) else repr(k)} = {_toml(v)}" for k, v in value.items()]
        return "{ " + ", ".join(pairs) + " }" if pairs else "{}"
    return repr(value)


def _toml_type(value: Any) -> str:
    """A TOML value's type, in TOML's words."""
    for kind, words in ((bool, "a boolean"), (int, "a whole number"), (float, "a number with a decimal point"),
                        (str, "a string"), (datetime.datetime, "a date and time"), (datetime.date, "a date"),
                        (datetime.time, "a time"), (list, "a list")):
        if isinstance(value, kind):
            return words
    return "a table"
