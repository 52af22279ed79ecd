"""Takes from start to finish: record or import, analyse, store, recover.

This module strings the recorder, the analysis and the store together; the CLI
calls it and renders what it returns.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from ..analysis.document import analysis_document
from ..analysis.pipeline import Analysis, Analyzer
from ..config import Config
from ..domain.errors import AudioError, RecordingError, StarcoachError
from .questions import Question
from ..audio.recorder import Recorder, Recording, find_device, repair_wav
from .store import Store
from ..domain.trace import mark


@dataclass(frozen=True)
class TakeResult:
    take_id: int
    audio_path: Path
    recording: Recording | None
    document: dict | None
    analysis: object | None  # the Analysis, for the readable report
    error: str | None = None


def open_store(config: Config) -> Store:
    return Store(config.paths.database, config.paths.recordings)


def take_path(config: Config, suffix: str = ".wav", when: datetime | None = None) -> Path:
    """A new, unused file name under recordings/, by date: ``2026-11-22/take-093012.wav``."""
    when = when or datetime.now()
    folder = config.paths.recordings / when.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    stem = when.strftime("take-%H%M%S")
    path = folder / f"{stem}{suffix}"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}{suffix}"
    return path


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
    analyzer: Analyzer,
) -> TakeResult:
    """Record one answer, then analyse and store it.

    The take is registered in the database before the first sample, and the audio is
    streamed to disk as it arrives; a crash leaves a take that :func:`recover` finishes.

    Stops on: Enter (interactive), Ctrl+C, SIGTERM, ``seconds``, the configured
    ``max_seconds``, the end of standard input (not interactive, no ``seconds``), or a
    write error such as a full disk (what was written is kept and analysed).

    Raises:
        DeviceError: no input device, or the one named does not exist.
    """
    device_index = find_device(device, kind="input")
    limit = seconds if seconds else config.record.max_seconds
    live = None
    if config.live.enabled and config.record.sample_rate == 16_000:  # the model's own rate
        live = analyzer.live_transcriber()
    path = take_path(config)
    take_id = store.begin_take(audio_path=path, question_id=question.id if question else None,
                               question_text=question.text if question else None,
                               principle=question.principles[0] if question and question.principles else None)
    recorder = Recorder(path, device=device_index, sample_rate=config.record.sample_rate, max_seconds=limit,
                        listener=live.feed if live else None)
    try:
        recorder.start()
    except StarcoachError:
        store.delete(take_id)
        raise
    if on_start:
        on_start(take_id, path)
    reason = _run_until_stopped(recorder, interactive=interactive, timed=bool(seconds), on_tick=on_tick)
    mark("stop")
    recording = recorder.stop(reason)
    mark("recorder stopped")
    analysis = None
    if live is not None and recording.frames:
        try:
            analysis = analyzer.finish_live(live, source=str(path))
        except Exception:  # noqa: BLE001 - the audio is on disk: analyse the file instead, below
            analysis = None
    return _analyse_and_store(analyzer, store, take_id, path, recording, analysis=analysis)


def import_take(config: Config, store: Store, file: Path, question: Question | None, *,
                analyzer: Analyzer) -> TakeResult:
    """Copy a recording made elsewhere into recordings/ and analyse it as a take.

    Raises:
        AudioError: the file cannot be decoded (nothing is stored then).
    """
    from ..audio.decode import load_audio

    load_audio(file)  # refuse what we cannot decode before storing anything
    dest = take_path(config, suffix=Path(file).suffix.lower() or ".audio")
    shutil.copyfile(file, dest)
    take_id = store.begin_take(audio_path=dest, question_id=question.id if question else None,
                               question_text=question.text if question else None,
                               principle=question.principles[0] if question and question.principles else None,
                               source="import")
    return _analyse_and_store(analyzer, store, take_id, dest, None)


def recover(config: Config, store: Store, *, analyzer: Analyzer) -> list[TakeResult]:
    """Finish takes whose recording process died: repair the file, analyse, store.

    Takes still being recorded by a live process are left alone.
    """
    results = []
    for take in store.unfinished():
        if take.pid and take.pid != os.getpid() and _alive(take.pid):
            continue
        path = Path(take.audio_path)
        if not path.exists() or path.stat().st_size <= 44:
            store.finish_take(take.id, duration_s=0.0, document=None, status="failed", stopped_by="crash")
            results.append(TakeResult(take.id, path, None, None, None, error="no audio was captured"))
            continue
        try:
            data_bytes = repair_wav(path)
        except RecordingError as exc:
            store.finish_take(take.id, duration_s=0.0, document=None, status="failed", stopped_by="crash")
            results.append(TakeResult(take.id, path, None, None, None, error=str(exc)))
            continue
        rec = Recording(path=path, frames=data_bytes // 2, sample_rate=config.record.sample_rate,
                        overflows=take.overflows, stopped_by="crash")
        results.append(_analyse_and_store(analyzer, store, take.id, path, rec, status="recovered"))
    return results


def _analyse_and_store(analyzer: Analyzer, store: Store, take_id: int, path: Path, recording: Recording | None,
                       *, status: str = "complete", analysis: Analysis | None = None) -> TakeResult:
    try:
        if analysis is None:
            analysis = analyzer.analyze_file(path)
    except AudioError as exc:
        # Too short or empty: keep the take (and whatever audio there is) as failed.
        store.finish_take(take_id, duration_s=recording.duration_s if recording else 0.0, document=None,
                          status="failed", overflows=recording.overflows if recording else 0,
                          stopped_by=recording.stopped_by if recording else None)
        return TakeResult(take_id, path, recording, None, None, error=str(exc))
    mark("analysed")
    document = analysis_document(analysis)
    document["take"] = {"id": take_id, "audio_path": str(path)}
    store.finish_take(
        take_id,
        duration_s=recording.duration_s if recording else document["duration_s"],
        document=document,
        status=status,
        overflows=recording.overflows if recording else 0,
        stopped_by=recording.stopped_by if recording else None,
    )
    mark("stored")
    return TakeResult(take_id, path, recording, document, analysis,
                      error=recording.error if recording else None)


def _run_until_stopped(recorder: Recorder, *, interactive: bool, timed: bool,
                       on_tick: Callable[[Recorder], None] | None) -> str | None:
    """Wait for a reason to stop; returns it (None when the recorder stopped itself)."""
    reason: list[str] = []
    done = threading.Event()

    def stop(why: str) -> None:
        if not reason:
            reason.append(why)
        done.set()

    if interactive or not timed:
        # Enter in a terminal; the end of piped input otherwise.
        def watch_stdin() -> None:
            try:
                line = sys.stdin.readline()
            except (OSError, ValueError):
                line = ""
            stop("user" if line else "eof")

        threading.Thread(target=watch_stdin, name="starcoach-stdin", daemon=True).start()

    old_term = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda *_: stop("interrupt"))
    try:
        while not done.is_set() and not recorder.stopped:
            if on_tick:
                on_tick(recorder)
            done.wait(0.1)
    except KeyboardInterrupt:
        stop("interrupt")
    finally:
        signal.signal(signal.SIGTERM, old_term)
    return reason[0] if reason else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie or a recycled pid still answers; check it is a starcoach process.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return b"starcoach" in cmdline
