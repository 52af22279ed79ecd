"""Finishing what an interruption left: ``starcoach recover`` (also run before ``record``).

A take is written in steps, each leaving something recovery can recognise:

1. its metadata file (``take-X.meta.json``, with the writing process's pid);
2. for a recording, its row in the database, status ``recording``;
3. its audio, to ``take-X.wav.part``, renamed to ``take-X.wav`` when whole;
4. its analysis, stored in one transaction (for an import, with the row itself).

A delete sets the audio aside (``take-X.wav.deleted``) in the transaction that removes the row
and removes it after the commit. Killed in between, it leaves the aside: recovery removes it
(with the take's other files) when the row is gone, and puts it back when the row is still
there (the delete never committed, so the take must keep its audio).

Recovery, for every take whose process is gone: audio with samples in it becomes a
take (a WAV's header is repaired first, its length read from the header's own rate);
anything with no audio is removed, row, metadata and all. So after it every take is
either complete and playable or gone with its files.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

from ..analysis.pipeline import Analyzer
from ..audio.decode import probe_audio
from ..audio.recorder import Recording, repair_wav
from ..config import Config
from ..analysis.document import analysis_document
from ..domain.errors import AudioError, NotFound, RecordingError
from ..domain.tempname import alive, writer_pid
from . import sidecar
from .rebuilding import rebuilding
from .session import TakeResult, analyse_and_store
from .store import Store, now
from .store_errors import AlreadyListed
from .take import Take


@dataclass(frozen=True)
class Removed:
    """Something an interruption left that held no audio, removed (``skipped``: deleted meanwhile)."""

    path: Path
    take_id: int | None
    why: str
    skipped: bool = False

    def line(self) -> str:
        what = f"take {self.take_id}" if self.take_id else str(self.path)
        return f"{what}: {self.why}" if self.skipped else f"removed {what}: {self.why}"


@dataclass(frozen=True)
class Restored:
    """A take whose delete was interrupted before it committed: its audio put back."""

    path: Path
    take_id: int | None


def recover(config: Config, store: Store, *, analyzer: Analyzer, removed: list[Removed] | None = None,
            restored: list[Restored] | None = None) -> list[TakeResult]:
    """Finish or remove every take an interrupted process left.

    Args:
        removed: if given, what was removed is appended to it.
        restored: if given, the takes whose audio an interrupted delete had set aside and
            that got it back.

    Returns:
        The takes finished (status ``recovered``, or ``complete`` for an import whose
        analysis was cut off).

    Raises:
        RebuildRunning: another process is running ``recover`` or ``doctor``; nothing was done.
    """
    gone = removed if removed is not None else []
    with rebuilding(store.path, "recover"):  # one at a time (doctor holds it already when it runs this)
        _settle_deletes(config, store, gone, restored if restored is not None else [])
        results = []
        for take in abandoned(store):  # a take another running process is recording is its own
            result = _finish_row(store, take, analyzer, gone)
            if result is not None:
                results.append(result)
        results += _finish_orphans(config, store, analyzer, gone)
        _sync_metadata(store)
    return results


def abandoned(store: Store) -> list[Take]:
    """Takes still marked as recording whose process is gone: what `recover` would finish."""
    return [t for t in store.unfinished() if not (t.pid and _owned(t.pid))]


def unlisted_audio(store: Store) -> list[Path]:
    """Audio under recordings/ that no take lists and no running process is still writing or
    importing (an import's row comes once its analysis is done): lost rows, for `doctor`."""
    return [audio for audio in store.unindexed_audio()
            if not _owned((sidecar.read(sidecar.sidecar_path(audio)) or {}).get("pid"))]


def holdable_name(audio: Path) -> bool:
    """Whether the file's name is UTF-8 text, as the takes database must hold it (a name in another
    encoding reaches Python with stand-ins for its bytes)."""
    return os.fsencode(audio).decode("utf-8", "replace") == str(audio)


def not_a_take(audio: Path) -> AudioError | None:
    """Why a file under recordings/ that no take lists is no take's audio: no take's metadata
    names it and it does not open as audio (a note saved as .wav, an empty file); None when it
    may be a take's. Such a file is named, never adopted as a failed take. Only its start is
    decoded: a recording damaged further on is a take (doctor then names its damage), and
    `takes` asks this of every unlisted file at every listing."""
    if sidecar.read(sidecar.sidecar_path(audio)) is not None:
        return None
    try:
        probe_audio(audio)
    except AudioError as exc:
        return exc
    return None


def _owned(pid: object) -> bool:
    """Whether another running starcoach process owns the take (a pid a damaged metadata file
    holds as text, or none, owns nothing)."""
    return type(pid) is int and pid > 0 and pid != os.getpid() and alive(pid)


def _finish_row(store: Store, take: Take, analyzer: Analyzer, gone: list[Removed]) -> TakeResult | None:
    path = Path(take.audio_path)
    part = sidecar.partial_path(path)
    if not path.exists() and part.exists():
        path = part
    recording = None
    try:
        if not path.exists():
            raise RecordingError("no audio was captured")
        if _is_wav(path):
            wav = repair_wav(path)
            if wav.frames == 0:
                raise RecordingError("no audio was captured")
            recording = Recording(path=Path(take.audio_path), frames=wav.frames, sample_rate=wav.sample_rate,
                                  overflows=take.overflows, stopped_by="crash")
        elif path == part:
            raise RecordingError("the copy was cut off")
    except (RecordingError, OSError) as exc:
        why = str(exc) if isinstance(exc, RecordingError) else (exc.strerror or str(exc))
        _remove(store, take.id, Path(take.audio_path))
        gone.append(Removed(Path(take.audio_path), take.id, why))
        return None
    if path == part:
        part.replace(take.audio_path)
    store.own(take.id)  # this process's while it is analysed: not "left unfinished" to the others
    analyzer.afresh()  # decoded as a new process would: not drawing where the last take's decode stopped
    try:
        result = analyse_and_store(analyzer, store, take.id, Path(take.audio_path), recording, status="recovered")
    except NotFound:  # deleted while it was analysed: the user's choice, and nothing left to finish
        gone.append(Removed(Path(take.audio_path), take.id, "deleted while it was being finished; skipped", True))
        return None
    if result.document is None and recording is None and take.source == "import":
        # A copy an older release left half-written: the original is where it was.
        _remove(store, take.id, Path(take.audio_path))
        gone.append(Removed(Path(take.audio_path), take.id, f"an unfinished copy ({result.error})"))
        return None
    return result


def _finish_orphans(config: Config, store: Store, analyzer: Analyzer, gone: list[Removed]) -> list[TakeResult]:
    """Files under recordings/ that no take indexes: metadata, partial and whole audio."""
    root = config.paths.recordings
    if not root.is_dir():
        return []
    indexed = store.indexed_paths()
    results = []
    for meta_file in sorted(root.glob(f"*/*{sidecar.SUFFIX}")):
        meta = sidecar.read(meta_file)
        if meta is None:
            _restore_damaged(store, meta_file, indexed)
            continue
        audio = meta_file.parent / meta["audio"]
        if audio in indexed or sidecar.partial_path(audio) in indexed:
            continue  # (an import by an earlier release kept its suffix: its audio may be take-X.part)
        if _owned(meta.get("pid")):
            continue  # another process is writing this take right now
        part = sidecar.partial_path(audio)
        if audio.exists() and not audio.is_file() or part.is_symlink():
            continue  # a folder or a link where a take's audio goes: not ours to open, move or remove
        if not audio.exists() and meta.get("source") != "import":
            kind = _part_kind(part)
            if kind == "unknown":
                continue  # it cannot be read or repaired (another user's, say): left as it is
            if kind == "recording":
                part.replace(audio)  # a recording's only copy, whose row the database lost: finished as a take
        if audio.is_file():
            result = _index(store, analyzer, audio, meta, gone)
            if result is not None:
                results.append(result)
            continue
        # Metadata, no whole audio: the take never got that far (an import's partial copy: its original stays).
        part.unlink(missing_ok=True)
        meta_file.unlink(missing_ok=True)
        gone.append(Removed(audio, None, "interrupted before its audio was complete"))
    for part in sorted(root.glob(f"*/*{sidecar.PART}")):
        final = part.with_name(part.name.removesuffix(sidecar.PART))
        meta = sidecar.read(sidecar.sidecar_path(final))
        if final in indexed or part in indexed or (meta and _owned(meta.get("pid"))) or not part.is_file() \
                or part.is_symlink():
            continue  # (a folder or a link by that name is not ours to open or remove; take-X.part: see above)
        if meta is None:
            if not final.exists() and _part_kind(part) == "recording":
                part.replace(final)  # nothing says what it was: its audio is kept, as a take
                result = _index(store, analyzer, final, {"source": "record"}, gone)
                if result is not None:
                    results.append(result)
            # Else no metadata says it is starcoach's (an import writes its metadata before its copy):
            # a file one cannot read as a recording, perhaps someone's own, is left as it is (the
            # README says so; "notes.wav.part" of random bytes was removed as "a partial copy").
            continue
        part.unlink(missing_ok=True)
        gone.append(Removed(part, None, "a partial copy"))
    for tmp in root.glob(f"*/.*{sidecar.SUFFIX}.tmp"):
        _remove_dead_tmp(tmp)
    return results


def _settle_deletes(config: Config, store: Store, gone: list[Removed], back: list[Restored]) -> None:
    """Finish or undo the deletes an interruption cut off (the module's docstring says how).
    Decided under the database's write lock, so a delete still running in another process is
    seen committed or not, never half-way."""
    root = config.paths.recordings
    asides = sorted(root.glob(f"*/*{sidecar.DELETED}")) if root.is_dir() else []
    if not asides:
        return

    def settle(indexed: set[Path]) -> None:
        for aside in asides:
            audio = aside.with_name(aside.name.removesuffix(sidecar.DELETED))
            if audio in indexed:
                if not audio.exists() and aside.exists():
                    aside.replace(audio)
                    ids = [t.id for t in store.list() if Path(t.audio_path) == audio]
                    back.append(Restored(audio, ids[0] if ids else None))
                continue  # both there: not ours to choose; leave them for the user
            for path in (aside, sidecar.partial_path(audio), sidecar.sidecar_path(audio)):
                path.unlink(missing_ok=True)
            gone.append(Removed(aside, None, "the audio of a deleted take (its delete was interrupted)"))

    store.holding_index(settle)


def _sync_metadata(store: Store) -> None:
    """Rewrite the metadata a finished take's process could not (a full disk: it is best effort)
    from the take's row, so that it no longer says "recording" under the pid of a process that is
    gone, and keeps the take's id (takes stored before it did), what ``doctor`` would rebuild
    from. A file another running process owns is its own."""
    for take in store.list():
        if take.status == "recording":
            continue
        audio = Path(take.audio_path)
        meta = sidecar.read(sidecar.sidecar_path(audio))
        if meta is None or _owned(meta.get("pid")):
            continue  # none (an older take), damaged (_restore_damaged's), or being written
        if meta.get("status") != take.status or meta.get("pid") is not None or meta.get("id") != take.id:
            sidecar.update(audio, status=take.status, duration_s=take.duration_s, pid=None, id=take.id)


def _restore_damaged(store: Store, meta_file: Path, indexed: set[Path]) -> None:
    """A metadata file that cannot be read. It is written whole or not at all (a temporary
    file, then a rename), so no interruption leaves one like it: something else damaged it,
    and it is never taken for an unfinished take and removed. When the database indexes
    its take's audio, it is written again from the take's row (what ``doctor`` would
    rebuild the index from); otherwise it is left as it is."""
    for take in store.list():
        audio = Path(take.audio_path)
        if audio in indexed and sidecar.sidecar_path(audio) == meta_file:
            fields = {k: getattr(take, k) for k in sidecar.FIELDS if k != "pid"}
            try:
                sidecar.write(audio, fields | {"pid": None})
            except OSError:
                pass  # best effort, as every metadata update: the database holds the take
            return


TMP_GRACE_S = 5.0  # how long (s) a metadata write whose owner cannot be read is taken for a live one


def _remove_dead_tmp(tmp: Path) -> None:
    """Remove a metadata write's temporary file whose writer died (killed between writing and
    renaming it). Its owner is the pid in its name; in the fixed name of releases before
    2026-12-06, the take's pid in its metadata or in the file. A live owner's file stays (one read
    from the file, a minute at most); one with no owner to read goes once :data:`TMP_GRACE_S` old."""
    try:
        age = time.time() - tmp.stat().st_mtime
    except OSError:
        return
    named = writer_pid(tmp)
    pid: object = named
    if pid is None:
        meta = sidecar.read(tmp.with_name(tmp.name.removeprefix(".").removesuffix(".tmp"))) or sidecar.read(tmp)
        pid = meta.get("pid") if meta else None
    writing = _owned(pid) if pid else age < TMP_GRACE_S
    if writing and (named or age < 60):  # a pid in the file may be an old one's, reused: trusted a minute
        return
    tmp.unlink(missing_ok=True)


def _index(store: Store, analyzer: Analyzer, audio: Path, meta: dict, gone: list[Removed]) -> TakeResult | None:
    """Index a whole audio file that its process did not get to index."""
    recording = None
    if _is_wav(audio):
        try:
            wav = repair_wav(audio)
        except RecordingError as exc:
            wav = None
            why = str(exc)
        if wav is None or wav.frames == 0:
            audio.unlink(missing_ok=True)
            sidecar.remove(audio)
            gone.append(Removed(audio, None, why if wav is None else "no audio was captured"))
            return None
        recording = Recording(path=audio, frames=wav.frames, sample_rate=wav.sample_rate, overflows=0,
                              stopped_by="crash")
    status = "recovered" if meta.get("source") == "record" else "complete"
    if meta.get("status") in ("complete", "recovered"):  # finished before the database lost its row
        status = meta["status"]
    result = index_analysed(store, analyzer, audio, meta, recording, status=status, gone=gone)
    # Its metadata says it was finished: no interruption, the database lost its row.
    return None if result is None else replace(result, relisted=meta.get("status") not in (None, "recording"))


def index_analysed(store: Store, analyzer: Analyzer, audio: Path, meta: dict, recording: Recording | None, *,
                   status: str, gone: list[Removed]) -> TakeResult | None:
    """Analyse audio no take lists, then list it with its analysis in one transaction: no row while it is
    analysed (one marked "recording" with no owner read as a crashed take to every other command). Audio
    deleted by then is noted in GONE; audio listed meanwhile is left to its row."""
    try:
        analyzer.afresh()  # decoded as `import` would, in a new process (Analyzer.afresh)
        analysis = analyzer.analyze_file(audio)
        document, error = analysis_document(analysis), None
    except AudioError as exc:  # too short or empty: kept as a failed take, as analyse_and_store does
        analysis, document, error = None, None, str(exc)
    if not audio.is_file():
        gone.append(Removed(audio, None, "its audio was deleted while it was being indexed; skipped", skipped=True))
        return None
    duration = recording.duration_s if recording else (document or {}).get("duration_s", 0.0)
    status = status if document is not None else "failed"
    try:
        take_id = store.add_take(audio_path=audio, question_id=meta.get("question_id"),
                                 question_text=meta.get("question_text"), principle=meta.get("principle"),
                                 principles=sidecar.principles(meta),
                                 source="record" if meta.get("source") == "record" else "import",
                                 started_at=str(meta.get("started_at") or now()), duration_s=duration,
                                 document=document, status=status, take_id=sidecar.kept_id(meta),
                                 stopped_by=recording.stopped_by if recording else None)
    except AlreadyListed:  # another process listed it meanwhile: it is listed, once
        return None
    sidecar.update(audio, status=status, duration_s=duration, pid=None, id=take_id)
    if document is not None:
        document["take"] = {"id": take_id, "audio_path": str(audio)}
    return TakeResult(take_id, audio, recording, document, analysis, error=error)


def _part_kind(part: Path) -> str:
    """What a partial file is: "recording", a WAV with samples in it (its header made whole as
    :func:`_finish_row` does), the only copy of what was said, never removed; "unknown", unreadable or
    unrepairable, a link or a folder, left as it is; "other" (an import's partial copy, empty, or none)."""
    if part.is_symlink() or part.exists() and not part.is_file():
        return "unknown"
    try:
        with open(part, "rb") as f:
            head = f.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return "other"
        return "recording" if repair_wav(part).frames > 0 else "other"
    except (FileNotFoundError, RecordingError):
        return "other"
    except OSError:
        return "unknown"


def _remove(store: Store, take_id: int, audio: Path) -> None:
    def files(_take: Take) -> None:
        sidecar.partial_path(audio).unlink(missing_ok=True)
        audio.unlink(missing_ok=True)
        sidecar.remove(audio)

    store.delete(take_id, remove_files=files)


def _is_wav(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return head[:4] == b"RIFF" and head[8:12] == b"WAVE"
