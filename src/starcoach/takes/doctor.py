"""``starcoach doctor``: check the takes database and rebuild it from recordings/.

The audio and each take's metadata file (see :mod:`.sidecar`) are the ground truth;
the database is an index of them plus each take's analysis. So a damaged database
is moved aside (never deleted), the rows still readable in it are kept, and every
audio file under recordings/ that no row indexes is indexed again from its
metadata and analysed. A row whose stored analysis is damaged is analysed again.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..analysis.pipeline import Analyzer
from ..config import Config
from ..audio.decode import probe_audio
from ..audio.wavfile import repair_wav
from ..domain.document import summary_columns
from ..domain.errors import AudioError, RecordingError, StarcoachError, StoreError
from ..domain.transcript import plural
from . import sidecar
from . import store as store_module
from .migrations import REVIEW_SUMMARIES, REVIEW_SUMMARY_OBJECTS
from .recovery import Removed, Restored, holdable_name, not_a_take, recover, unlisted_audio
from .session import analyse_and_store
from .store import Store, now, store_error
from .store_errors import another_programs_database, not_ours
from .take import Take


@dataclass
class DoctorReport:
    """What ``doctor`` found and did."""

    integrity: list[str]
    moved_aside: Path | None = None
    kept_rows: int = 0
    reindexed: list[int] = field(default_factory=list)
    reanalysed: list[int] = field(default_factory=list)
    missing_audio: list[int] = field(default_factory=list)
    damaged_audio: list[str] = field(default_factory=list)  # "take N: why"
    unanalysed: list[int] = field(default_factory=list)  # failed takes: audio kept, never analysed
    recovered: list[str] = field(default_factory=list)  # what recover() finished or removed
    problems: list[str] = field(default_factory=list)

    @property
    def unusable(self) -> int:
        """Takes still listed whose audio is missing or cannot be read: for the user to decide."""
        return len(self.missing_audio) + len(self.damaged_audio)

    def lines(self) -> list[str]:
        out = ["database: " + ("ok" if self.integrity == ["ok"] else
                               f"damaged ({'; '.join(self.integrity[:3])})")]
        if self.moved_aside is not None:
            out.append(f"moved the damaged database aside to {self.moved_aside}; kept "
                       f"{plural(self.kept_rows, 'readable take')} from it")
        out += [f"re-indexed take {i} from its audio" for i in self.reindexed]
        out += [f"analysed take {i} again (its stored analysis was damaged)" for i in self.reanalysed]
        out += self.recovered
        out += [f"take {i}: its audio file is missing" for i in self.missing_audio]
        out += self.damaged_audio
        out += self.problems
        if self.unanalysed:  # not damage: what `show` says of them, so that "every take" is not claimed
            out.append(f"{plural(len(self.unanalysed), 'take')} ({', '.join(map(str, self.unanalysed))}) "
                       f"{'have' if len(self.unanalysed) > 1 else 'has'} no analysis: the audio could not be "
                       "analysed when it was stored (too short, empty or unreadable); `starcoach show` says why")
        if len(out) == 1:
            out.append("every take has its audio and analysis")
        return out


def examine(config: Config, *, analyzer: Analyzer) -> DoctorReport:
    """Check integrity; rebuild if needed; re-index and re-analyse what needs it.

    Raises:
        StoreError: the new database cannot be written either (a full or read-only disk).
    """
    db = config.paths.database
    config.paths.storage_folder("database")
    integrity, salvaged = _check(db)
    report = DoctorReport(integrity=integrity)
    if integrity != ["ok"]:
        report.moved_aside = _move_aside(db)
    with Store(db, config.paths.recordings) as store:
        if salvaged is not None and report.moved_aside is not None:
            report.kept_rows = _restore(store, salvaged)
        if report.moved_aside is not None:
            store.keep_ids_above(_last_id(report.moved_aside))  # an id is never given to a second take
        removed: list[Removed] = []
        restored: list[Restored] = []
        finished = recover(config, store, analyzer=analyzer, removed=removed, restored=restored)
        report.recovered = [f"kept take {b.take_id}: its delete was interrupted; its audio is back in {b.path}"
                            for b in restored]
        report.recovered += [f"finished take {r.take_id}, left unfinished by an interruption"
                             for r in finished if not r.relisted]
        report.reindexed = [r.take_id for r in finished if r.relisted]
        report.recovered += [f"removed {g.path}" + (f" (take {g.take_id})" if g.take_id else "") + f": {g.why}"
                             for g in removed]
        report.reindexed += _reindex(store, analyzer, report.problems)
        for take in store.list():
            if not Path(take.audio_path).is_file():
                report.missing_audio.append(take.id)
                continue
            try:
                probe_audio(take.audio_path, whole=True)
            except AudioError as exc:
                report.damaged_audio.append(f"take {take.id}: its audio cannot be read ({exc})")
                continue
            try:
                if store.document(take.id) is None and take.status == "failed":
                    report.unanalysed.append(take.id)
            except StoreError:
                store.db.execute("UPDATE takes SET analysis_json = NULL WHERE id = ?", (take.id,))
                try:
                    analyse_and_store(analyzer, store, take.id, Path(take.audio_path), None,
                                      status=take.status if take.status != "recording" else "recovered")
                    report.reanalysed.append(take.id)
                except StarcoachError as exc:
                    report.problems.append(f"take {take.id}: {exc}")
        final = store.integrity()
        if final != ["ok"]:  # pragma: no cover - a fresh database that is damaged: the disk itself
            report.problems.append(f"the rebuilt database is damaged too ({'; '.join(final[:3])}); check the disk")
    return report


def _check(db: Path) -> tuple[list[str], list[dict[str, Any]] | None]:
    """The integrity check's answer, and the rows still readable (None if none could be).

    Raises:
        StoreError: another process holds the database locked past the store's wait: that is
            not damage, and moving the file aside would lose what that process writes. Or the
            file is recognisably no database (config.toml, a take's audio): moving it aside and
            writing a database in its place would lose it.
    """
    if not db.exists():
        return ["ok"], None
    foreign = not_ours(db)
    if foreign is not None:
        raise foreign
    try:
        with open(db, "rb") as f:
            f.read(100)
    except OSError as exc:  # a file this user may not read, a folder by that name: not damage
        raise StoreError(f"cannot read the takes database {db} ({exc.strerror or exc}); it was left as it is: "
                         "check its permissions (and its folder's), then run `starcoach doctor` again") from None
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=store_module.LOCK_WAIT_S)
    except sqlite3.Error as exc:
        _raise_if_not_damage(db, exc)
        return [str(exc)], None
    try:
        try:
            result = [r[0] for r in con.execute("PRAGMA integrity_check")]
            if result == ["ok"]:
                result = _schema_problems(db, con) or result
        except sqlite3.Error as exc:
            _raise_if_not_damage(db, exc)
            result = [str(exc)]
        if result == ["ok"]:
            return result, None
        return result, _readable_rows(con)
    finally:
        con.close()


def _raise_if_not_damage(db: Path, exc: sqlite3.Error) -> None:
    """Raise what SQLite said when it is no fault of the file: another process's lock, or a
    file SQLite cannot open (its folder's permissions, a read-only disk with no -shm beside it).
    Moving such a database aside would lose nothing broken and start an empty one."""
    low = str(exc).lower()
    if isinstance(exc, sqlite3.OperationalError) and any(w in low for w in ("locked", "busy", "unable to open")):
        raise store_error(db, exc) from None  # its line for each, as every other command says it


def _schema_problems(db: Path, con: sqlite3.Connection) -> list[str]:
    """What a database that SQLite finds sound lacks of starcoach's schema (a table dropped
    or altered by hand, say): every command would stop on it, so it counts as damaged. A
    database with no tables at all is a new one, not a damaged one.

    Raises:
        StoreError: none of its tables is starcoach's: another program's database, not damage.
    """
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return []
    foreign = another_programs_database(db, tables)
    if foreign is not None:  # not damage: moving it aside and writing ours in its place would lose it
        raise foreign
    if "takes" not in tables:
        return ["the takes table is missing"]
    columns = {r[1] for r in con.execute("PRAGMA table_info(takes)")}
    missing = [c for c in (*Take.__dataclass_fields__, "analysis_json") if c not in columns]
    if missing:
        return [f"the takes table lacks {', '.join(missing)}"]
    if "migrations" in tables and con.execute("SELECT 1 FROM migrations WHERE name = ?",
                                              (REVIEW_SUMMARIES,)).fetchone():
        made = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")}
        gone = [name for name in REVIEW_SUMMARY_OBJECTS if name not in made]
        return [f"the database lacks {', '.join(gone)}, which migration {REVIEW_SUMMARIES} made"] if gone else []
    return []


def _readable_rows(con: sqlite3.Connection) -> list[dict[str, Any]] | None:
    con.row_factory = sqlite3.Row
    try:
        ids = [r[0] for r in con.execute("SELECT id FROM takes")]
    except sqlite3.Error:
        return None
    rows = []
    for take_id in ids:
        try:
            row = con.execute("SELECT * FROM takes WHERE id = ?", (take_id,)).fetchone()
        except sqlite3.Error:
            continue
        if row is not None:
            rows.append(dict(row))
    return rows


def _move_aside(db: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = db.with_name(f"{db.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{db}{suffix}")
        if src.exists():
            shutil.move(str(src), f"{aside}{suffix}")
    return aside


def _restore(store: Store, rows: list[dict[str, Any]]) -> int:
    columns = [r[1] for r in store.db.execute("PRAGMA table_info(takes)")]
    kept = 0
    for row in rows:
        values = {k: v for k, v in row.items() if k in columns}
        doc = values.get("analysis_json")
        if doc is not None:
            try:
                parsed = json.loads(doc)
            except (ValueError, TypeError):
                parsed = None
            if not isinstance(parsed, dict):
                values["analysis_json"] = None
            else:
                try:  # columns the old table lacked, or held damaged, are read again from the analysis
                    values.update(summary_columns(parsed))
                except (KeyError, TypeError):
                    pass  # a damaged analysis: the take is analysed again below
        try:
            store.db.execute(f"INSERT INTO takes ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                             tuple(values.values()))
            kept += 1
        except sqlite3.Error:
            continue
    return kept


def _last_id(db: Path) -> int:
    """The highest take id the damaged database ever gave (its AUTOINCREMENT counter), if it
    can still be read; deleted takes' ids are above the rows that are left."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return 0
    try:
        row = con.execute("SELECT seq FROM sqlite_sequence WHERE name = 'takes'").fetchone()
        return int(row[0]) if row and isinstance(row[0], int) else 0
    except sqlite3.Error:
        return 0
    finally:
        con.close()


def _reindex(store: Store, analyzer: Analyzer, problems: list[str]) -> list[int]:
    """Index every audio file under recordings/ that no take points to (one whose name the
    database cannot hold is named in PROBLEMS instead)."""
    added = []
    for audio in unlisted_audio(store):  # an import still analysing adds its own row
        if not holdable_name(audio):
            shown = os.fsencode(audio).decode("utf-8", "backslashreplace")
            problems.append(f"{shown}: its name is not UTF-8 text, which the takes database cannot hold; rename "
                            "it and run `starcoach doctor` again (its audio is kept)")
            continue
        if audio.name.startswith("take-") and audio.suffix.lower() == ".wav":  # our recorder's name: a take
            try:  # whose writer died, its metadata lost too: its header's sizes made whole, as recover does
                repair_wav(audio)
            except (RecordingError, OSError):  # not a WAV, or one this user may not write: judged as it is
                pass
        stray = not_a_take(audio)
        if stray is not None:
            problems.append(f"{stray}; no take's metadata names it, so it was left as it is, not made a take: "
                            f"move it out of {store.recordings} or delete it")
            continue
        meta = sidecar.read(sidecar.sidecar_path(audio)) or {}
        started = meta.get("started_at") or datetime.fromtimestamp(audio.stat().st_mtime).astimezone().isoformat(
            timespec="seconds")
        source = "record" if meta.get("source") == "record" else "import"
        take_id = store.add_take(audio_path=audio, question_id=meta.get("question_id"),
                                 question_text=meta.get("question_text"), principle=meta.get("principle"),
                                 source=source, started_at=str(started or now()), duration_s=0.0, document=None,
                                 status="recording", take_id=sidecar.kept_id(meta))
        analyse_and_store(analyzer, store, take_id, audio, None, status="recovered")
        added.append(take_id)
    return added
