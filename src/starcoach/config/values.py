"""Settings read from ``config.toml`` checked against the options they fill: types in TOML's words,
ranges and choices (:func:`fill_options`); :mod:`starcoach.config` reads the file."""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import math
import re
from pathlib import Path
from typing import Any, get_type_hints

from ..domain.errors import ConfigError


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
        raise ConfigError(f"{source}: {name} = {toml_text(value)} is not a known value"
                          + (f"; did you mean {near[0]!r}?" if near else "") + listed)
    if "max_chars" in f.metadata and len(value) > f.metadata["max_chars"]:
        raise ConfigError(f"{source}: {name} is {len(value):,} characters long, over the {f.metadata['max_chars']} "
                          "allowed: keep it a short list of filler words, as the default is")


def fill_options(cls: type, values: dict[str, Any], section: str, source: Path):
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
            raise ConfigError(f"{source}: {name} has the wrong type: {toml_text(bad)} in {toml_text(value)} is "
                              f"{_toml_type(bad)}; it must be {kind}, such as [120, 160]")
    raise ConfigError(f"{source}: {name} has the wrong type: {toml_text(value)} is {_toml_type(value)}"
                      + (f"; it must be {kind}" if kind else ""))


def toml_text(value: Any) -> str:
    """A value as TOML writes it (Python's repr reads as code: ``datetime.date(1979, 5, 27)``, ``True``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else "inf" if value > 0 else "-inf"
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_text, value)) + "]"
    if isinstance(value, dict):
        pairs = [f"{k if re.fullmatch(r'[A-Za-z0-9_-]+', k) else repr(k)} = {toml_text(v)}" for k, v in value.items()]
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
