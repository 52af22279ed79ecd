"""Takes from start to finish: record or import, analyse, store.

This module strings the recorder, the analysis and the store together; the CLI
calls it and renders what it returns. Finishing what an interruption left is in
:mod:`.recovery`.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from ..analysis.document import analysis_document
from ..analysis.pipeline import Analysis, Analyzer
from ..audio.decode import MAX_SECONDS
from ..audio.recorder import NO_AUDIO_S, Recorder, Recording, find_device
from ..config import Config
from ..domain.errors import AudioError, DeviceError, Interrupted, NothingRecorded, RecordingError, StarcoachError
from ..domain.errors import STOPPING_SIGNALS, StoreError, signal_exit, stopped_by
from ..domain.trace import mark
from . import sidecar
from .newtake import audio_suffix, copy_atomically, copy_error, new_take
from .questions import Question
from .store import Store, now


@dataclass(frozen=True)
class TakeResult:
    take_id: int
    audio_path: Path
    recording: Recording | None
    document: dict | None
    analysis: object | None  # the Analysis, for the readable report
    error: str | None = None
    relisted: bool = False  # a finished take whose row the database had lost (recovery put it back)
    terminated: bool = False  # SIGTERM or SIGHUP ended the recording: the program ends once it is stored


def open_store(config: Config) -> Store:
    config.paths.storage_folder("database")
    return Store(config.paths.database, config.paths.recordings)


def _meta(question: Question | None, source: str, started_at: str) -> dict:
    return {"question_id": question.id if question else None, "question_text": question.text if question else None,
            "principle": question.principles[0] if question and question.principles else None,
            "principles": list(question.principles or question.story_principles) if question else [],
            "started_at": started_at, "source": source, "status": "recording", "pid": os.getpid()}


def take_limit(seconds: float | None, max_seconds: float) -> float:
    """How long a take may run: SECONDS asked for, else the ``[record] max_seconds`` safety stop (0: none),
    and never past the 3 hours ``analyze``, ``play`` and ``doctor`` decode (a take of 4 hours was stored
    that none of them would read)."""
    return min(seconds or max_seconds or MAX_SECONDS, MAX_SECONDS)


def record_take(
    config: Config,
    store: Store,
    question: Question | None,
    *,
    device: str | None = None,
    seconds: float | None = None,
    interactive: bool = True,
    on_tick: Callable[[Recorder], None] | None = None,
    on_start: Callable[[int, Path], None] | None = None,
    before_start: Callable[[], None] | None = None,
    analyzer: Analyzer,
) -> TakeResult:
    """Record one answer, then analyse and store it.

    The take is registered (its metadata file, then its row) before the first sample,
    and the audio is streamed to ``take-....wav.part`` as it arrives, renamed when the
    recording ends; a crash leaves a take that :func:`~.recovery.recover` finishes.

    Stops on: Enter (interactive), Ctrl+C, SIGTERM, SIGHUP, ``seconds``, the configured
    ``max_seconds``, the end of standard input (not interactive, no ``seconds``), a
    device that delivers nothing for :data:`NO_AUDIO_S`, or a write error such as a
    full disk (what was written is kept and analysed).

    ``before_start`` (a countdown) runs once the slow parts are done, ``on_start`` once the
    microphone is open: a cue printed before them lost the answer's first second.

    Raises:
        DeviceError: no input device, the one named does not exist, or it gave no audio.
        RecordingError: nothing was recorded (the take is removed; NothingRecorded: it stopped first).
    """
    if store.read_only:  # before the model, the countdown and the answer, not after (a review's)
        raise StoreError(store.read_only)
    device_index = find_device(device, kind="input")
    limit = take_limit(seconds, config.record.max_seconds)
    live = None
    if config.live.enabled and config.record.sample_rate == 16_000:  # the model's own rate
        live = analyzer.live_transcriber()
    try:
        return _record(config, store, question, analyzer, live, device_index=device_index, limit=limit,
                       seconds=seconds, interactive=interactive, on_tick=on_tick, on_start=on_start,
                       before_start=before_start)
    except BaseException:
        # a take ended without its live transcript (Ctrl+C in the countdown, no audio, a failure): its worker
        # stops too; left running, it met the interpreter's exit (an audit saw a SIGSEGV there once, not
        # reproduced). After the transcript was taken the worker has ended: nothing to wait for.
        if live is not None:
            live.abandon()
        raise


def _record(config: Config, store: Store, question: Question | None, analyzer: Analyzer, live, *,
            device_index: int | None, limit: float, seconds: float | None, interactive: bool,
            on_tick: Callable[[Recorder], None] | None, on_start: Callable[[int, Path], None] | None,
            before_start: Callable[[], None] | None) -> TakeResult:
    """:func:`record_take` from the countdown on, LIVE (the live transcriber, or None) made."""
    if before_start:
        before_start()
    meta = _meta(question, "record", now())
    path = new_take(config, meta)
    part = sidecar.partial_path(path)
    signals = _Signals()  # from before the take's row: a Ctrl+C as the microphone opens stops the take too
    signals.install()
    try:
        take_id = store.begin_take(audio_path=path, question_id=meta["question_id"],
                                   question_text=meta["question_text"], principle=meta["principle"],
                                   principles=meta["principles"], started_at=meta["started_at"])
    except BaseException:
        signals.release()
        sidecar.remove(path)
        raise
    try:
        recorder = Recorder(part, device=device_index, sample_rate=config.record.sample_rate, max_seconds=limit,
                            listener=live.feed if live else None)
        recorder.start()
    except BaseException:
        signals.release()
        _forget(store, take_id, path)
        raise
    try:
        if on_start:
            on_start(take_id, path)
        reason = _run_until_stopped(recorder, signals, interactive=interactive, timed=bool(seconds), on_tick=on_tick)
    except BaseException:  # the cue or the meter failed (a terminal gone): the microphone closes now
        signals.release()
        if not recorder.stop("error").frames:
            _forget(store, take_id, path)
        raise  # audio is kept as a run cut off leaves it, for `recover` to finish
    terminated = reason == _TERMINATED
    try:  # stored as stopped by an interruption, as Ctrl+C is
        result = _finish_take(store, analyzer, recorder, "interrupt" if terminated else reason, take_id, path,
                              part, live)
        result = replace(result, terminated=terminated)
    except NothingRecorded:  # before the first block: a SIGTERM, or a signal held, still ends the program
        ended = signals.first if terminated else signals.got  # (practice went on to ask what next)
        if ended is None and reason == "user" and not interactive:  # `printf 'f\nq\n' | practice`: "try again"
            raise NothingRecorded("nothing was recorded: a line on standard input (not a terminal) stopped the take "
                                  "before the first sound arrived; give --seconds N to record from a script") from None
        if ended is None:
            raise
        raise Interrupted(f"{stopped_by(ended)} before any audio came: nothing was recorded",
                          signal_exit(ended)) from None
    finally:
        got = signals.release()
    if got is not None:  # a Ctrl+C or SIGTERM while the take was being finished: it is stored, now stop
        raise Interrupted(f"{stopped_by(got)} once the recording had stopped; take {take_id} is stored "
                          f"(`starcoach show {take_id}`)", signal_exit(got))
    return result


def _finish_take(store: Store, analyzer: Analyzer, recorder: Recorder, reason: str | None, take_id: int,
                 path: Path, part: Path, live) -> TakeResult:
    """Stop the recorder, then analyse and store the take (signals are held meanwhile)."""
    mark("stop")
    recording = recorder.stop(reason)
    mark("recorder stopped")
    if not recording.frames:
        _forget(store, take_id, path)
        raise _nothing_recorded(recording, reason)
    os.replace(part, path)
    recording = replace(recording, path=path)
    if reason == "no-audio":
        recording = replace(recording, stopped_by="error", error=f"the input device stopped delivering audio "
                            f"(nothing for {NO_AUDIO_S:.0f} s); check it is still connected")
    analysis = None
    if live is not None and recorder.listener_lost:  # it missed blocks: its transcript would lack them
        live.abandon()
    elif live is not None:
        try:
            analysis = analyzer.finish_live(live, source=str(path))
        except Exception:  # noqa: BLE001 - the audio is on disk: analyse the file instead, below
            analysis = None
    try:
        return analyse_and_store(analyzer, store, take_id, path, recording, analysis=analysis)
    except StoreError as exc:  # a full disk or a lock: the audio is safe, the index can wait
        raise StoreError(f"{exc} (the recording is kept in {path}; `starcoach recover` finishes the take "
                         "once that is fixed)") from None


def _nothing_recorded(recording: Recording, reason: str | None) -> StarcoachError:
    if recording.stopped_by == "error" and recording.error:
        return RecordingError(f"nothing was recorded: {recording.error}")
    if reason == "no-audio":
        return DeviceError(f"the input device gave no audio for {NO_AUDIO_S:.0f} s; check that it is connected "
                           "and not muted, or pick another with --device (see `starcoach devices`)")
    return NothingRecorded("nothing was recorded" + (": standard input ended at once; give --seconds N to record from "
                                                     "a script" if reason == "eof" else
                                                     " (stopped before the first sound arrived); try again"))


def _forget(store: Store, take_id: int, path: Path) -> None:
    """Remove a take that never got audio: its row, its partial audio, its metadata."""
    try:
        store.delete(take_id)
    finally:
        sidecar.partial_path(path).unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        sidecar.remove(path)


def import_take(config: Config, store: Store, file: Path, question: Question | None, *,
                analyzer: Analyzer) -> TakeResult:
    """Copy a recording made elsewhere into recordings/ and analyse it as a take.

    The copy goes to a temporary name, is flushed to disk and renamed; the take is
    indexed after its analysis, in one transaction. Interrupted at any point, it
    leaves either nothing or a whole file with its metadata that ``recover`` indexes.

    Raises:
        AudioError: the file cannot be decoded (nothing is stored then).
        RecordingError: the copy cannot be written (a full or read-only disk; nothing is left of it).
    """
    from ..audio.decode import load_audio

    file = Path(file)
    if store.read_only:  # before copying and analysing it
        raise StoreError(store.read_only)
    load_audio(file)  # refuse what we cannot decode before storing anything
    meta = _meta(question, "import", now())
    meta["status"] = "importing"
    try:
        dest = new_take(config, meta, suffix=audio_suffix(file))
    except OSError as exc:  # the folder it could not write in: the day's, not recordings/ (an audit's)
        raise copy_error(exc, file, Path(exc.filename).parent if exc.filename else config.paths.recordings) from None
    try:
        copy_atomically(file, dest)
    except BaseException as exc:
        sidecar.remove(dest)  # the name is this import's: no other take's file has it
        if isinstance(exc, OSError):
            raise copy_error(exc, file, dest.parent, dest) from None
        raise
    try:
        analysis = analyzer.analyze_file(dest)
        mark("analysed")
        document = analysis_document(analysis)
        take_id = store.add_take(audio_path=dest, question_id=meta["question_id"],
                                 question_text=meta["question_text"], principle=meta["principle"],
                                 principles=meta["principles"], source="import", started_at=meta["started_at"],
                                 duration_s=document["duration_s"], document=document)
    except BaseException:
        # Not indexed: leave nothing behind (the original is where it was). An interrupt can
        # land after the row's COMMIT, though: that take is whole and keeps its audio.
        if not _indexed(store, dest):
            dest.unlink(missing_ok=True)
            sidecar.remove(dest)
        raise
    sidecar.update(dest, status="complete", duration_s=document["duration_s"], pid=None, id=take_id)
    document["take"] = {"id": take_id, "audio_path": str(dest)}
    return TakeResult(take_id, dest, None, document, analysis)


def _indexed(store: Store, audio: Path) -> bool:
    """Whether a take lists AUDIO; when the database cannot say, True (the file stays for
    ``recover`` to index or remove, rather than a listed take losing its audio)."""
    try:
        return store.lists_audio(audio)
    except (StarcoachError, OSError, RuntimeError):
        return True


def analyse_and_store(analyzer: Analyzer, store: Store, take_id: int, path: Path, recording: Recording | None,
                      *, status: str = "complete", analysis: Analysis | None = None) -> TakeResult:
    """Analyse a take's audio (unless ``analysis`` is given) and store the result."""
    try:
        if analysis is None:
            analysis = analyzer.analyze_file(path)
    except AudioError as exc:
        # Too short or empty: keep the take (and whatever audio there is) as failed.
        store.finish_take(take_id, duration_s=recording.duration_s if recording else 0.0, document=None,
                          status="failed", overflows=recording.overflows if recording else 0,
                          stopped_by=recording.stopped_by if recording else None)
        sidecar.update(path, status="failed", pid=None, id=take_id)
        return TakeResult(take_id, path, recording, None, None, error=str(exc))
    mark("analysed")
    document = analysis_document(analysis)
    document["take"] = {"id": take_id, "audio_path": str(path)}
    duration = recording.duration_s if recording else document["duration_s"]
    store.finish_take(
        take_id,
        duration_s=duration,
        document=document,
        status=status,
        overflows=recording.overflows if recording else 0,
        stopped_by=recording.stopped_by if recording else None,
    )
    sidecar.update(path, status=status, duration_s=duration, pid=None, id=take_id)
    mark("stored")
    return TakeResult(take_id, path, recording, document, analysis,
                      error=recording.error if recording else None)


class _Signals:
    """SIGINT, SIGTERM and SIGHUP from the start of a recording until its take is stored. The first one stops the
    recording (Ctrl+C as Enter would, SIGTERM or SIGHUP to end the program once the take is stored); a later one
    is held, not acted on, until the take is stored: acted on at once, a second Ctrl+C left the take unfinished
    and could kill the process in native code while the live transcriber and the audio stream wound down.

    One handler throughout that only notes the signal. The first Ctrl+C used to raise KeyboardInterrupt and the
    handlers were swapped after it: a second one 30 ms later, on a loaded machine, landed before the swap and
    ended the program as "interrupted" with the take half finished. Nor does the handler set an Event: it runs
    in the main thread between two bytecodes, maybe inside that Event's own wait, holding the lock it would take."""

    def __init__(self) -> None:
        self.old = {sig: signal.getsignal(sig) for sig in STOPPING_SIGNALS}
        self.first: int | None = None  # the signal that stopped the recording
        self.got: int | None = None  # the first one after the recording stopped, by a signal or otherwise
        self.stopped = False

    def install(self) -> None:
        for sig, handler in self.old.items():
            if handler is not signal.SIG_IGN:  # started ignoring it (a background job): it stays ignored
                signal.signal(sig, self.note)

    def note(self, signum: int, frame: object) -> None:
        if self.first is None and not self.stopped:
            self.first = signum
        elif self.got is None:
            self.got = signum

    def release(self) -> int | None:
        """Put the handlers back; the first signal held, if any."""
        for sig, handler in self.old.items():
            signal.signal(sig, handler)
        return self.got


_TERMINATED = "terminate"  # the reason SIGTERM or SIGHUP gives (the take is stored as "interrupt", as Ctrl+C's)
_LOOK_S = 0.02  # how often the wait looks for a signal noted (the meter is drawn every 0.1 s)


def _run_until_stopped(recorder: Recorder, signals: _Signals, *, interactive: bool, timed: bool,
                       on_tick: Callable[[Recorder], None] | None) -> str | None:
    """Wait for a reason to stop, or a signal noted by SIGNALS (installed; the caller releases them);
    returns it (None when the recorder stopped itself), with the stopping signals held from then on."""
    reason: list[str] = []
    done = threading.Event()

    def stop(why: str) -> None:
        if not reason:
            reason.append(why)
        done.set()

    if interactive or not timed:
        # Enter in a terminal; the end of piped input otherwise.
        def watch_stdin() -> None:
            stream = sys.stdin  # None: started with standard input closed
            try:
                fd = stream.fileno() if stream is not None else None
            except (OSError, ValueError):  # no descriptor to wait on (a test's StringIO): just read
                fd = None
            try:
                # Wait for a line without reading one once the take has stopped some other way
                # (its limit, Ctrl+C): a read left pending ate the answer to the next prompt.
                while fd is not None and not select.select([fd], [], [], 0.1)[0]:
                    if done.is_set() or recorder.stopped:
                        return
                line = stream.readline() if stream is not None else ""
            except (OSError, ValueError):
                line = ""
            stop("user" if line else "eof")

        threading.Thread(target=watch_stdin, name="starcoach-stdin", daemon=True).start()

    while not done.is_set() and not recorder.stopped and signals.first is None:
        if on_tick:
            on_tick(recorder)
        if recorder.quiet_s > NO_AUDIO_S:  # the device went silent (not quiet: no blocks at all)
            stop("no-audio")
        for _ in range(round(0.1 / _LOOK_S)):
            if signals.first is not None or done.wait(_LOOK_S):
                break
    signals.stopped = True  # from here on every signal is held
    if signals.first is not None:  # a signal stops the take, whatever else came in the same moment
        reason[:] = ["interrupt" if signals.first == signal.SIGINT else _TERMINATED]
        done.set()  # the stdin watcher's cue to stop waiting
    return reason[0] if reason else None
