"""Recording from the microphone: the only module that uses sounddevice (portaudio.py starts it).

The pattern of python-sounddevice's ``rec_unlimited.py``: the file is opened before
the stream starts, the audio callback only copies each block into a queue and
counts overflows, and a writer thread streams the blocks to a WAV file as they
arrive. The writer goes straight to the OS (libsndfile does not buffer), so a
crash or ``kill -9`` loses at most the blocks still queued, a fraction of a second;
:func:`repair_wav` then fixes the header the dead process never wrote.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..domain.errors import AudioError, DeviceError, RecordingError, disk_advice
from .decode import SAMPLE_RATE
from .portaudio import sounddevice as _sounddevice, skip_portaudio_exit
from .stats import BandMeter, Bands
from .wavfile import WavData, repair_wav  # noqa: F401 - repair_wav is part of recording's interface

BLOCK_S = 0.1
NO_AUDIO_S = 5.0  # a device that delivers nothing for this long is reported, not waited on
_CLOSE_WAIT_S = 2.0  # a stream that does not stop within this is abandoned (a hung driver)


@dataclass(frozen=True)
class Device:
    index: int
    name: str
    inputs: int
    outputs: int
    default_rate: float
    is_default_input: bool
    is_default_output: bool


@dataclass(frozen=True)
class Recording:
    """What a finished recording left on disk.

    Attributes:
        path: the WAV file.
        frames: samples per channel written.
        sample_rate: its rate.
        overflows: blocks the stream reported as overflowed (audio lost by the driver).
        stopped_by: "user" (Enter), "interrupt" (Ctrl+C), "limit", "eof" (input ended)
            or "error".
        error: what went wrong when ``stopped_by`` is "error" (disk full, stream fault).
    """

    path: Path
    frames: int
    sample_rate: int
    overflows: int
    stopped_by: str
    error: str | None = None

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


def list_devices() -> list[Device]:
    """Every audio device PortAudio sees.

    Raises:
        DeviceError: PortAudio itself is missing or cannot start.
    """
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        default_in, default_out = sd.default.device
    except sd.PortAudioError as exc:
        raise DeviceError(f"cannot list audio devices: {exc}") from None
    return [
        Device(index=i, name=d["name"], inputs=d["max_input_channels"], outputs=d["max_output_channels"],
               default_rate=d["default_samplerate"], is_default_input=i == default_in,
               is_default_output=i == default_out)
        for i, d in enumerate(devices)
    ]


def find_device(spec: str | int | None, *, kind: str = "input") -> int | None:
    """Resolve ``--device`` (an index or part of a name) to a device index.

    Returns:
        The index, or None for the system default (which must exist).

    Raises:
        DeviceError: no such device, or no device of that kind at all.
    """
    devices = list_devices()
    channels = (lambda d: d.inputs) if kind == "input" else (lambda d: d.outputs)
    usable = [d for d in devices if channels(d) > 0]
    listing = "; ".join(f"{d.index}: {d.name}" for d in usable) or "none"
    if not usable:
        everything = "; ".join(f"{d.index}: {d.name}" for d in devices) or "none at all"
        raise DeviceError(f"no audio {kind} device found (devices: {everything}). "
                          + ("Connect a microphone, or analyse a file with `starcoach import FILE`."
                             if kind == "input" else "Connect speakers or headphones."))
    if spec is None or spec == "":
        if not any(d.is_default_input if kind == "input" else d.is_default_output for d in usable):
            return usable[0].index
        return None
    text = str(spec)
    if text.isdigit():
        idx = int(text)
        if any(d.index == idx for d in usable):
            return idx
        raise DeviceError(f"no {kind} device with index {idx}; {kind} devices: {listing}")
    matches = [d for d in usable if text.lower() in d.name.lower()]
    if len(matches) == 1:
        return matches[0].index
    if not matches:
        raise DeviceError(f"no {kind} device named like {text!r}; {kind} devices: {listing}")
    raise DeviceError(f"{text!r} matches several {kind} devices ({', '.join(d.name for d in matches)}); "
                      "give its index")


class Recorder:
    """Record from an input device into a WAV file until told to stop.

    Args:
        path: the WAV file to write (created; must not exist).
        device: device index, or None for the default input.
        sample_rate: samples per second to ask for.
        max_seconds: stop by itself after this long (0: no limit).
        listener: called with each block once it is on disk (from the writer thread, so
            the audio callback stays a copy and a queue put); used to transcribe while
            recording. One that raises is dropped and ``listener_lost`` set; the recording
            goes on.

    Use as a context manager, or call :meth:`start` then :meth:`wait` / :meth:`stop`.
    """

    def __init__(self, path: Path, *, device: int | None = None, sample_rate: int = 16_000,
                 max_seconds: float = 0.0, listener=None):
        self.path = Path(path)
        self.device = device
        self.sample_rate = sample_rate
        self.max_frames = int(max_seconds * sample_rate) if max_seconds else 0
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue()
        self._frames = 0
        self._overflows = 0
        self._level = 0.0
        self._stopped = threading.Event()
        self._stopped_by = "user"
        self._error: str | None = None
        self._writer: threading.Thread | None = None
        self._stream: Any = None  # sounddevice.InputStream, once started
        self._file: Any = None  # soundfile.SoundFile, once started
        self._started_at = 0.0
        self._last_block_at = 0.0
        self._listener = listener
        self.listener_lost = False  # the listener raised and was dropped: it missed blocks
        self._bands = BandMeter() if sample_rate == SAMPLE_RATE else None  # its bins are 16 kHz audio's

    # --- live figures for the display ---------------------------------------------

    @property
    def elapsed_s(self) -> float:
        return self._frames / self.sample_rate

    @property
    def level(self) -> float:
        """Peak level of the latest block, 0..1."""
        return self._level

    @property
    def bands(self) -> Bands:
        """Power below and above 4 kHz of what was recorded so far (empty at another rate than 16 kHz):
        a narrowband input (:mod:`~starcoach.audio.stats`)."""
        return self._bands.bands if self._bands is not None else Bands()

    @property
    def loud_s(self) -> float:
        """Seconds of what was recorded so far within 30 dB of its loudest (a voice, most likely;
        :attr:`~starcoach.audio.stats.BandMeter.loud_s`); 0 at another rate than 16 kHz."""
        return self._bands.loud_s if self._bands is not None else 0.0

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    @property
    def quiet_s(self) -> float:
        """Seconds since the device last delivered a block (or since the start)."""
        return time.monotonic() - self._last_block_at if self._last_block_at else 0.0

    # --- life cycle ---------------------------------------------------------------

    def start(self) -> None:
        """Open the file, then the stream (so no block arrives with nowhere to go).

        Raises:
            DeviceError: the device cannot be opened.
            RecordingError: the file cannot be created.
        """
        import soundfile as sf

        sd = _sounddevice()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = sf.SoundFile(self.path, mode="x", samplerate=self.sample_rate, channels=1,
                                      format="WAV", subtype="PCM_16")
        except (OSError, sf.LibsndfileError) as exc:
            raise RecordingError(f"cannot create {self.path}: {exc}") from None
        self._writer = threading.Thread(target=self._write_loop, name="starcoach-writer", daemon=True)
        self._writer.start()
        try:
            self._stream = sd.InputStream(samplerate=self.sample_rate, channels=1, dtype="int16",
                                          device=self.device, blocksize=int(self.sample_rate * BLOCK_S),
                                          callback=self._callback)
            self._stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            self._queue.put(None)
            self._writer.join()
            self._file.close()
            self.path.unlink(missing_ok=True)
            raise DeviceError(f"cannot open the input device ({exc}); see `starcoach devices`") from None
        self._started_at = self._last_block_at = time.monotonic()

    def _callback(self, indata, frames, time_info, status) -> None:
        # Runs on PortAudio's thread: copy and hand over, nothing else.
        self._last_block_at = time.monotonic()
        if status.input_overflow:
            self._overflows += 1
        if not self._stopped.is_set():
            self._queue.put(indata.copy())

    def _write_loop(self) -> None:
        while True:
            block = self._queue.get()
            if block is None:
                return
            if self._error:
                continue
            if self.max_frames and self._frames + len(block) > self.max_frames:
                block = block[: self.max_frames - self._frames]
            try:
                self._file.write(block)
            except Exception as exc:  # noqa: BLE001 - disk full, I/O error: stop, keep what is written
                self._error = _describe(exc, self.path)
                self._stopped_by = "error"
                self._stopped.set()
                continue
            self._frames += len(block)
            self._level = float(np.abs(block).max()) / 32768.0 if len(block) else 0.0
            if self._bands is not None:
                try:  # only the meter's hint: never at the cost of the audio
                    self._bands.feed(block.reshape(-1) / np.float32(32768.0))
                except Exception:  # noqa: BLE001
                    self._bands = None
            if self._listener is not None and len(block):
                try:  # the live transcript is a head start: never at the cost of the audio
                    self._listener(block)
                except Exception:  # noqa: BLE001 - the take is analysed from its file instead
                    self._listener = None
                    self.listener_lost = True
            if self.max_frames and self._frames >= self.max_frames:
                self._stopped_by = "limit"
                self._stopped.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the recording stops by itself (limit or error). True if it did."""
        return self._stopped.wait(timeout)

    def stop(self, reason: str | None = None) -> Recording:
        """Stop the stream, write what is queued, close the file."""
        if reason and not self._stopped.is_set():
            self._stopped_by = reason
        self._stopped.set()
        if self._stream is not None:
            # A hung driver must not hang the command (Ctrl+C always stops): close it on a
            # thread and give up on it after a while; the audio is already in our queue.
            closer = threading.Thread(target=_close_stream, args=(self._stream,), name="starcoach-close",
                                      daemon=True)
            closer.start()
            closer.join(_CLOSE_WAIT_S)
            if closer.is_alive():
                skip_portaudio_exit()
            self._stream = None
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
            self._writer = None
        if self._file is not None:
            try:
                self._file.close()
            except Exception as exc:  # noqa: BLE001 - header not updated (disk full): repaired below
                self._error = self._error or _describe(exc, self.path)
            self._file = None
            try:
                repair_wav(self.path)
            except (OSError, RecordingError) as exc:
                self._error = self._error or _describe(exc, self.path)
        return Recording(path=self.path, frames=self._frames, sample_rate=self.sample_rate,
                         overflows=self._overflows, stopped_by=self._stopped_by, error=self._error)

    def __enter__(self) -> "Recorder":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._file is not None:
            self.stop("interrupt" if exc[0] is KeyboardInterrupt else None)


def _close_stream(stream: Any) -> None:
    try:
        stream.stop()
        stream.close()
    except Exception:  # noqa: BLE001 - the stream may already be gone; the audio is what matters
        pass


def play(path: Path, *, start_s: float = 0.0, device: int | None = None) -> float:
    """Play an audio file from ``start_s`` through an output device; returns seconds played.

    Raises:
        DeviceError: no output device.
        AudioError: ``start_s`` is at or past the end of the recording.
    """
    from .decode import SAMPLE_RATE, load_audio

    audio = load_audio(path)
    first = int(max(0.0, start_s) * SAMPLE_RATE)
    data = audio.samples[first:]
    if not len(data):
        raise AudioError(f"--from {start_s:g} s is past the end of the recording ({audio.duration_s:.1f} s long)")
    sd = _sounddevice()
    try:
        sd.play(data, SAMPLE_RATE, device=device, blocking=True)
    except sd.PortAudioError as exc:
        raise DeviceError(f"cannot play through the output device ({exc})") from None
    return len(data) / SAMPLE_RATE


def _describe(exc: BaseException, path: Path) -> str:
    """One line for a write failure. libsndfile says only "System error.", so look at the disk."""
    import errno
    import shutil

    text = str(exc)
    code = errno.ENOSPC if "No space" in text else getattr(exc, "errno", None)
    try:
        if shutil.disk_usage(path.parent).free < 64 * 1024:
            code = errno.ENOSPC
    except OSError:
        pass
    advice = disk_advice(code, f" ({path.parent})")  # full, over quota, read-only: as every command says it
    if advice:
        return advice
    first = text.splitlines()[0].strip() if text.strip() else type(exc).__name__
    if first.rstrip(".").lower() in ("system error", "unspecified internal error"):
        return f"writing {path} failed (the audio library says only {first!r}); check the disk and its permissions"
    return f"writing {path} failed ({first})"
