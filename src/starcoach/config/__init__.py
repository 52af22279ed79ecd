"""The one place that finds starcoach's home and reads ``config.toml``.

Every path the app uses (models, recordings, the database, the user's questions)
is resolved here, relative to the folder holding ``config.toml``. Setting
``STARCOACH_HOME`` points the whole app at another folder, which is how tests
isolate their state.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import shlex
import stat
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..analysis.metrics import MetricsOptions
from ..analysis.pipeline import AnalysisOptions, Analyzer
from ..analysis.star import StarOptions
from ..asr.engine import TranscribeOptions
from ..asr.live import LiveOptions
from ..asr.bundled import BUNDLED
from ..asr.model_files import settings_problem
from ..asr.models import ModelInfo, list_models, looks_like_path, resolve_model
from ..domain.errors import ConfigError, ModelError
from ..domain.filekind import not_utf8
from ..domain.userpath import user_path
from .paths import PATH_SETTINGS, Paths, read_paths, refuse_nul
from .values import fill_options, toml_text

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
        max_seconds: a safety stop for a take nobody ended (0: none before the 3 hours starcoach
            analyses, ``audio.decode.MAX_SECONDS``, where every take stops).
        countdown_s: seconds counted down before recording starts (terminal only).
    """

    sample_rate: int = field(default=16_000, metadata={"range": (8_000, 192_000)})
    max_seconds: float = field(default=600.0, metadata={"range": (0.0, 3 * 3600.0)})
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

    def analyzer(self, model: str | None = None, *, on_wait: Callable[[str], None] | None = None,
                 settings_first: bool = True) -> Analyzer:
        """The pipeline with ``model`` (a name or folder; the configured one if None); ``on_wait`` is
        given a line to say if it must wait for another starcoach building in the models folder.
        ``settings_first``: refuse a language or weight type the model cannot take now, not when it is
        loaded (`doctor` and `recover` check the database first, and may need no model).

        Raises:
            ModelError: the model cannot be found.
            ConfigError: ``[paths] models`` is outside the home and does not exist (and the
                model is not a folder given by its path).
        """
        chosen = self._model(model)
        folder = self.paths.models if isinstance(chosen, Path) else self.paths.models_folder()
        try:
            resolved = resolve_model(chosen, folder, on_wait=on_wait)
        except ModelError as exc:
            if model:
                raise
            raise ModelError(self._named_here(str(exc))) from None
        options = self.analysis.transcribe  # said before a take is recorded, not once it is to be analysed
        if settings_first and (problem := settings_problem(resolved.path, options.language, options.compute_type)):
            raise ConfigError(f"{self.paths.config_file}: {problem}")
        return Analyzer(resolved, self.analysis)

    def model_list(self) -> list[ModelInfo]:
        """What ``starcoach models`` shows: :func:`list_models`, the configured model marked.

        Raises:
            ConfigError: ``[paths] models`` is outside the home and does not exist (and the
                configured model is not a folder given by its path: that one is listed, as
                :meth:`analyzer` uses it).
        """
        folder = self.paths.models if isinstance(self._model(None), Path) else self.paths.models_folder()
        infos = list_models(folder, self.model)
        infos = [dataclasses.replace(m, problem=self._named_here(m.problem)) if m.problem else m for m in infos]
        options = self.analysis.transcribe  # what `analyze` would refuse of the model in use: not "ready"

        def usable(m: ModelInfo) -> ModelInfo:
            if not (m.default and m.ready and m.path and not m.problem):
                return m
            problem = settings_problem(m.path, options.language, options.compute_type)
            return dataclasses.replace(m, ready=False, problem=f"{self.paths.config_file}: {problem}") if problem else m
        return [usable(m) for m in infos]

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
    if env == "":  # `STARCOACH_HOME=$UNSET`: it read and wrote the checkout's (or the default's) takes (an audit)
        raise ConfigError(f"{HOME_ENV} is set but empty (as an unset shell variable gives): point it at your "
                          f"starcoach folder, or unset it (`unset {HOME_ENV}`) to use the default one")
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
        transcribe=fill_options(TranscribeOptions, model_t, "model", config_file),
        metrics=fill_options(MetricsOptions, tables["metrics"], "metrics", config_file),
        star=fill_options(StarOptions, tables["star"], "star", config_file),
        record=fill_options(RecordOptions, tables["record"], "record", config_file),
        live=fill_options(LiveOptions, tables["live"], "live", config_file),
    )
    for section, low, high in _ORDERED:
        values = getattr(config, section)
        if getattr(values, low) <= getattr(values, high):
            continue
        given = tables[section]
        if low in given and high not in given:  # a default follows the setting given: `min_chunk_s = 20` alone
            values = dataclasses.replace(values, **{high: getattr(values, low)})  # was refused once 18 was max's
        elif high in given and low not in given:
            values = dataclasses.replace(values, **{low: getattr(values, high)})
        else:
            raise ConfigError(f"{config_file}: [{section}] {low} = {getattr(values, low)} is above {high} = "
                              f"{getattr(values, high)}; it must not be")
        config = dataclasses.replace(config, **{section: values})
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
    return f"{name} = {toml_text(value)} is outside any section; " + (
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
        raise ConfigError(not_utf8(config_file, raw, exc)) from None
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
