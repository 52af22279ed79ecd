"""``starcoach doctor``: check the takes database and rebuild it from recordings/.

The audio and each take's metadata file (see :mod:`.sidecar`) are the ground truth;
the database is an index of them plus each take's analysis. So a damaged database
is moved aside (never deleted), the rows still readable in it are kept, and every
audio file under recordings/ that no row indexes is indexed again from its
metadata and analysed. A row whose stored analysis is damaged is analysed again.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from ..analysis.pipeline import Analyzer
from ..config import Config
from ..audio.decode import probe_audio
from ..audio.wavfile import repair_wav
from ..domain.document import summary_columns
from ..domain.errors import AudioError, NotFound, RecordingError, StarcoachError, StoreError
from . import sidecar
from . import store as store_module
from .doctor_report import DoctorReport
from .migrations import MADE_BY
from .rebuilding import rebuilding, without_users
from .recovery import Removed, Restored, holdable_name, index_analysed, not_a_take, recover, unlisted_audio
from .session import analyse_and_store
from .store import Store, now, store_error
from .store_errors import another_programs_database, doctor_can_write, not_ours, rebuilt_path
from .take import TAKE_COLUMNS, keep_principles, stored_principles


def examine(config: Config, *, analyzer: Analyzer) -> DoctorReport:
    """Check integrity; rebuild if needed; re-index and re-analyse what needs it.

    Raises:
        StoreError: the new database cannot be written either (a full or read-only disk).
    """
    db = config.paths.database
    config.paths.storage_folder("database")
    doctor_can_write(db)  # it said "database: ok", or called a sound database damaged, and every write failed
    damaged = _check(db)[0] != ["ok"]  # a file that is no takes database is refused before anything is written
    with rebuilding(db, "doctor"):  # one doctor or recover at a time
        _remove_database(db.with_name(f"{db.name}.rebuilding"))  # a rebuild a stopped doctor left half-written
        # From the rows read to the swap, no other command has the file open: one that had wrote into the
        # file set aside (an import's take not listed, a deleted take listed again).
        with without_users(db) if damaged or rebuilt_path(db).exists() else contextlib.nullcontext():
            finished = _swap_in(db) if rebuilt_path(db).exists() else None  # one it left whole: put in place
            integrity, salvaged = _check(db)
            report = DoctorReport(integrity=integrity, moved_aside=finished, kept_rows=None if finished else 0)
            if integrity != ["ok"]:
                report.moved_aside, report.kept_rows = _rebuild(db, config.paths.recordings, salvaged)
        try:
            _examine(config, report, analyzer)
        except StoreError as exc:
            if report.moved_aside is None:
                raise
            raise StoreError(f"{report.lines()[1]}, its ids kept; then: {exc}; run `starcoach doctor` again to index "
                             "the rest") from None  # lines()[1]: the line that says where the damaged one went
    return report


def _examine(config: Config, report: DoctorReport, analyzer: Analyzer) -> None:
    with Store(config.paths.database, config.paths.recordings) as store:
        # an id is never given to a second take: nor one a database set aside earlier gave
        store.keep_ids_above(max((_last_id(a) for a in _set_aside(config.paths.database)), default=0))
        removed: list[Removed] = []
        restored: list[Restored] = []
        finished = recover(config, store, analyzer=analyzer, removed=removed, restored=restored)
        report.recovered = [f"kept take {b.take_id}: its delete was interrupted; its audio is back in {b.path}"
                            for b in restored]
        report.recovered += [f"finished take {r.take_id}, left unfinished by an interruption"
                             for r in finished if not r.relisted]
        report.reindexed = [r.take_id for r in finished if r.relisted]
        report.recovered += [g.line() if g.skipped else f"removed {g.path}" + (f" (take {g.take_id})" if g.take_id
                                                                                else "") + f": {g.why}"
                             for g in removed]
        report.reindexed += _reindex(store, analyzer, report.problems, report.recovered)
        for take in store.list():
            if not Path(take.audio_path).is_file():
                report.missing_audio.append(take.id)
                if moved := config.paths.moved_audio(take.audio_path):  # `[paths] recordings` changed since
                    report.moved[take.id] = moved
                continue
            try:
                probe_audio(take.audio_path, whole=True)
            except AudioError as exc:
                report.damaged_audio.append(f"take {take.id}: its audio cannot be read ({exc})")
                continue
            try:
                document = store.document(take.id)
                # a take finished without one: an analysis cut short (a doctor stopped before this one)
                why = "missing" if document is None and take.status not in ("failed", "recording") else None
            except StoreError:
                document, why = None, "damaged"
            if why is None:
                if document is None and take.status == "failed":
                    report.unanalysed.append(take.id)
                continue
            # The stored analysis is replaced only by the new one, in its transaction: a doctor stopped
            # here had set it to nothing first, and the take stayed "complete" without one for good.
            try:
                done = analyse_and_store(analyzer, store, take.id, Path(take.audio_path), None,
                                         status=take.status if take.status != "recording" else "recovered")
                if done.document is None:  # its audio no longer analyses: failed, as `import` would leave it
                    store.db.execute("UPDATE takes SET analysis_json = NULL WHERE id = ?", (take.id,))
                    report.unanalysed.append(take.id)
                else:
                    report.reanalysed.append(f"analysed take {take.id} again (its stored analysis was {why})")
            except NotFound:  # deleted while it was analysed: nothing left to do
                report.recovered.append(f"take {take.id}: deleted while it was being analysed again; skipped")
            except StarcoachError as exc:
                report.problems.append(f"take {take.id}: {exc}")
        final = store.integrity()
        if final != ["ok"]:  # pragma: no cover - a fresh database that is damaged: the disk itself
            report.problems.append(f"the rebuilt database is damaged too ({'; '.join(final[:3])}); check the disk")


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
    if isinstance(exc, sqlite3.OperationalError) and any(w in low for w in ("locked", "busy", "open", "readonly")):
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
    missing = [c for c in (*TAKE_COLUMNS, "analysis_json") if c not in columns and c != "principles"]  # (a table's)
    if missing:
        return [f"the takes table lacks {', '.join(missing)}"]
    done = {r[0] for r in con.execute("SELECT name FROM migrations")} if "migrations" in tables else set()
    made = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")}
    for migration in sorted(done & set(MADE_BY)):
        if gone := [name for name in MADE_BY[migration] if name not in made]:
            return [f"the database lacks {', '.join(gone)}, which migration {migration} made"]
    return []


def _readable_rows(con: sqlite3.Connection) -> list[dict[str, Any]] | None:
    con.row_factory = sqlite3.Row
    try:
        ids = [r[0] for r in con.execute("SELECT id FROM takes")]
    except sqlite3.Error:
        return None
    try:  # each take's principles (migration 006), where their table can still be read
        kept = {r[0]: r[1] for r in con.execute("SELECT take_id, principles FROM take_principles")}
    except sqlite3.Error:
        kept = {}
    rows = []
    for take_id in ids:
        try:
            row = con.execute("SELECT * FROM takes WHERE id = ?", (take_id,)).fetchone()
        except sqlite3.Error:
            continue
        if row is not None:
            rows.append(dict(row) | {"principles": kept.get(take_id, dict(row).get("principles"))})  # (005's column)
    return rows


def _rebuild(db: Path, recordings: Path, salvaged: list[dict[str, Any]] | None) -> tuple[Path | None, int]:
    """Write a new database beside the damaged one, with its readable rows and its id counter,
    and swap it in only once it is whole (a near-empty one put in its place by a full disk was
    taken for "ok": analyses redone, a deleted take's id given again). Returns where the damaged
    one now is and how many takes the new one kept; raises StoreError if the new one could not be
    written (the damaged one is where it was)."""
    fresh = db.with_name(f"{db.name}.rebuilding")
    _remove_database(fresh)  # what a doctor stopped here left
    try:
        with Store(fresh, recordings, alone=True) as store:
            kept = _restore(store, salvaged) if salvaged is not None else 0
            store.keep_ids_above(_last_id(db))
            # one whole file to rename (its log written into it): nothing of it stays behind in -wal
            mode = store.db.execute("PRAGMA journal_mode = DELETE").fetchone()
            if not mode or str(mode[0]).lower() != "delete":
                raise sqlite3.OperationalError(f"its log could not be written into it (journal mode {mode})")
        _remove_database(fresh, keep_main=True)
        os.replace(fresh, rebuilt_path(db))  # whole: from here, every command waits for the swap to end
    except (StoreError, sqlite3.Error, OSError) as exc:
        _remove_database(fresh)
        why = exc if isinstance(exc, StoreError) else store_error(fresh, exc) if isinstance(exc, sqlite3.Error) \
            else (exc.strerror or exc)
        raise StoreError(f"the takes database {db} is damaged and was left as it was (nothing moved or lost): "
                         f"writing its rebuilt copy failed: {why}; then run `starcoach doctor` again") from None
    except BaseException:  # Ctrl+C, SIGTERM: the half-written copy goes too (an audit found it left)
        _remove_database(fresh)
        raise
    return _swap_in(db), kept


def _swap_in(db: Path) -> Path | None:
    """Put the rebuilt database (:func:`rebuilt_path`) in DB's place, the damaged one set aside
    with its log; where a doctor stopped part-way, finish what it began (the damaged file already
    under its second name is not given a third). Returns where the damaged database now is (None:
    there was none, deleted by hand)."""
    rebuilt = rebuilt_path(db)
    aside = next((a for a in _set_aside(db) if db.exists() and os.path.samefile(a, db)), None)
    made = None
    try:
        if aside is None and db.exists():
            made = aside = _aside_name(db)
            _set_damaged_aside(db, aside)  # under both names now, and DB is never missing
        os.replace(rebuilt, db)
    except OSError as exc:
        if made is not None and made.exists() and not os.path.samefile(made, db):
            made.unlink()  # a copy cut off (no hard links here, and no room)
        raise StoreError(f"the takes database {db} is damaged; its rebuilt copy {rebuilt} could not take its "
                         f"place ({exc.strerror or exc}); nothing was lost: run `starcoach doctor` again") from None
    return aside


def _remove_database(path: Path, *, keep_main: bool = False) -> None:
    for suffix in ("-wal", "-shm", "-journal") if keep_main else ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _set_aside(db: Path) -> list[Path]:
    """The damaged databases doctor set aside beside DB (their -wal and -shm not counted)."""
    return [p for p in db.parent.glob(f"{db.name}.damaged-*") if not p.name.endswith(("-wal", "-shm"))]


def _aside_name(db: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = db.with_name(f"{db.name}.damaged-{stamp}")
    n = 1
    while any(Path(f"{aside}{s}").exists() for s in ("", "-wal", "-shm")):  # two in a second: never one over another
        n += 1
        aside = db.with_name(f"{db.name}.damaged-{stamp}-{n}")
    return aside


def _set_damaged_aside(db: Path, aside: Path) -> None:
    try:  # a second name for the damaged file, which keeps its own until the rebuilt one replaces it
        os.link(db, aside)
    except OSError:  # no hard links on this disk
        shutil.copy2(db, aside)
    for suffix in ("-wal", "-shm"):  # its log goes with it: left beside DB, it would be read into the new one
        src = Path(f"{db}{suffix}")
        if src.exists():
            shutil.move(str(src), f"{aside}{suffix}")


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
            if row.get("principles") is not None and values.get("id") is not None:
                keep_principles(store.db, values["id"], stored_principles(row["principles"], values.get("principle")))
            kept += 1
        except sqlite3.IntegrityError:  # a row the damage made break a rule: its take is indexed again
            continue  # (a full disk is no such row: it fails the rebuild, which leaves the damaged file as it is)
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


def _reindex(store: Store, analyzer: Analyzer, problems: list[str], notes: list[str]) -> list[int]:
    """Index every audio file under recordings/ that no take points to (one whose name the
    database cannot hold is named in PROBLEMS instead; one deleted while it was analysed, in NOTES)."""
    added: list[int] = []
    skipped: list[Removed] = []
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
        try:
            started = meta.get("started_at") or datetime.fromtimestamp(audio.stat().st_mtime).astimezone().isoformat(
                timespec="seconds")
        except OSError:  # deleted since it was listed
            continue
        result = index_analysed(store, analyzer, audio, meta | {"started_at": started}, None, status="recovered",
                                gone=skipped)
        if result is not None:
            added.append(result.take_id)
    notes += [g.line() for g in skipped]
    return added
