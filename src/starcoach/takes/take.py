"""A take as the store lists it (what ``takes --json`` prints), read safely from its row."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Take:
    """One take as listed: what ``takes --json`` prints."""

    id: int
    question_id: str | None
    question_text: str | None
    principle: str | None
    principles: tuple[str, ...]  # every principle its question served when asked (``principle``: the first)
    started_at: str
    duration_s: float | None
    audio_path: str
    source: str
    status: str
    overflows: int
    stopped_by: str | None
    model: str | None
    wpm: float | None
    fillers_per_min: float | None
    filler_count: int | None
    long_pause_count: int | None
    speaking_span_s: float | None
    star_rating: int | None
    star_parts_present: int | None
    pid: int | None = None

    @property
    def spoke(self) -> bool:
        """Analysed, and speech was found (a take of silence or noise alone is kept, but it is
        not a point on anyone's progress)."""
        return self.wpm is not None and (self.speaking_span_s or 0.0) > 0.0

    def summary(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "pid"}
        d["principles"] = list(self.principles)
        return d


TAKE_COLUMNS = [f for f in Take.__dataclass_fields__]
# The numbers a take's row holds, and their type. SQLite keeps whatever a column is given, so
# an edited or damaged database can hold text there; it reads as unknown (0 for a count
# that cannot be unknown), never as a value every listing then fails on.
_NUMBERS = {name: (float if f.type.startswith("float") else int, f.type.endswith("None"))
            for name, f in Take.__dataclass_fields__.items()
            if name != "id" and str(f.type).split(" |")[0] in ("float", "int")}


def with_numbers(fields: dict[str, Any]) -> dict[str, Any]:
    """A row's fields with every number column read as its type, or as unknown, and its
    principles as a tuple (see :func:`stored_principles`)."""
    fields["principles"] = stored_principles(fields["principles"], fields["principle"])
    for name, (kind, optional) in _NUMBERS.items():
        value = fields[name]
        if value is not None or not optional:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
                and (kind is float or value == int(value))
            fields[name] = kind(value) if ok else (None if optional else kind(0))
    return fields


def stored_principles(stored: Any, principle: Any) -> tuple[str, ...]:
    """The principles a take's row holds (a JSON list of keys): a take stored before they were kept,
    or one whose list is damaged, has the one PRINCIPLE it kept."""
    try:
        keys = json.loads(stored) if isinstance(stored, str) else None
    except ValueError:
        keys = None
    if isinstance(keys, list) and keys and all(isinstance(k, str) and k for k in keys):
        return tuple(dict.fromkeys(keys))
    return (principle,) if isinstance(principle, str) and principle else ()



def select_takes(db: sqlite3.Connection) -> str:
    """The query that reads takes' rows from DB (a WHERE and ORDER BY may follow; ``takes.id`` names the id),
    with their principles from their table (migration 006). An older release's database on a read-only disk
    (see :data:`~.migrations.READ_WITHOUT`) lacks it: its principles are null there, as for a take stored
    before, or 005's column where 2508dc5 made one."""
    columns = ", ".join(f"takes.{c}" for c in TAKE_COLUMNS if c != "principles")
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'take_principles'").fetchone():
        return f"SELECT {columns}, p.principles FROM takes LEFT JOIN take_principles p ON p.take_id = takes.id"
    old = any(r[1] == "principles" for r in db.execute("PRAGMA table_info(takes)"))
    return f"SELECT {columns}, {'takes.principles' if old else 'NULL'} AS principles FROM takes"


def keep_principles(db: sqlite3.Connection, take_id: int, principles: Sequence[str]) -> None:
    """Keep every principle of a take's question (in the caller's transaction)."""
    if principles:
        db.execute("INSERT OR REPLACE INTO take_principles (take_id, principles) VALUES (?, ?)",
                   (take_id, json.dumps(list(dict.fromkeys(principles)), ensure_ascii=False)))
