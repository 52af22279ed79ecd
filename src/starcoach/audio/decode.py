"""Audio in: decode any common file to 16 kHz mono float32.

Decoding goes through PyAV (FFmpeg), which faster-whisper already depends on, so wav, flac, mp3,
m4a/aac and ogg/opus at any rate and channel count all work without a second decoder. We keep our
own loop rather than faster-whisper's ``decode_audio`` so that corrupt and truncated files raise a
clear :class:`AudioError` instead of returning silence or a partial signal, and so that memory stays bounded:

- the header is checked before anything is allocated (a WAV saying 1 Hz would otherwise resample 64 KB
  into gigabytes);
- samples go into one preallocated float32 buffer, block by block, rather than a list of chunks
  concatenated at the end (which doubles the peak);
- channels are mixed here, not by FFmpeg, so that a stereo file whose channels cancel (one wired in
  inverted phase), or whose other channels are silent, is read from its louder channel alone.
"""

from __future__ import annotations

import os
import stat
import struct
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..domain.errors import CORRUPT_AUDIO, AudioError
from ..domain.filekind import no_such_file

SAMPLE_RATE = 16_000
# Beyond these a header is damaged: 6 kHz (old dictation devices) and 384 kHz (studio) recordings were refused
# as such, though both are recordings (an audit's); under 8 kHz is speech's low half, analysed all the same.
MIN_RATE = 4_000
MAX_RATE = 768_000
MAX_CHANNELS = 32
MAX_SECONDS = 3 * 3600.0  # longer than any answer; 3 h of 16 kHz float32 is 690 MB
_CANCELLED = 0.1  # mix energy below this share of the louder channel's: the channels cancel
# The others together under this share of the loudest channel's energy (20 dB): one microphone on a two-input
# interface. Mixed, the silent input halved every sample: a clipping channel's peak read -6 dBFS (an audit).
_ONE_LIVE = 0.01

# WAVE format tags FFmpeg decodes (PCM, ADPCM, float, A-law, mu-law, GSM, MP3, extensible, ...).
_WAV_TAGS = {0x0001, 0x0002, 0x0003, 0x0006, 0x0007, 0x0011, 0x0031, 0x0050, 0x0055, 0xFFFE}


@dataclass(frozen=True)
class Audio:
    """Decoded audio, ready for the model.

    Attributes:
        samples: mono float32 samples in [-1, 1] at :data:`SAMPLE_RATE`.
        source_rate: sample rate of the file before resampling.
        source_channels: channel count of the file before down-mixing.
        channel_used: the channel kept when the channels cancelled when mixed
            (inverted phase) or the others are all but silent; None when they were mixed.
        damaged_samples: samples (at :data:`SAMPLE_RATE`) that were not numbers (NaN or
            infinite) and are silence in ``samples``.
    """

    samples: np.ndarray
    source_rate: int
    source_channels: int
    channel_used: int | None = None
    damaged_samples: int = 0

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def check_audio_file(path: str | Path) -> Path:
    """Refuse what cannot be an audio file before opening it for decoding.

    A FIFO, a device node or a folder is refused from its ``stat`` (never read), and a
    RIFF/WAVE header is checked field by field.

    Returns:
        The path.

    Raises:
        AudioError: missing, not a regular file, empty, a WAV header out of range, or a
            WAV file holding less audio than its header says (cut off).
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise AudioError(no_such_file(path, "give the path of the audio file")) from None
    except OSError as exc:
        raise AudioError(f"{path}: cannot read it ({exc.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise AudioError(f"{path}: is a folder, not an audio file")
    if not stat.S_ISREG(st.st_mode):
        raise AudioError(f"{path}: not a regular file (a device, pipe or socket); give an audio file")
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise AudioError(f"{path}: cannot read it ({exc.strerror})") from None
    if not head:  # read, not st_size: /proc and /sys files say 0 bytes and hold text
        raise AudioError(f"{path}: the file is empty")
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        _check_wav_header(path, head, st.st_size)
    elif not head.startswith(_TEXT_HEADED_AUDIO) and _is_text(head):
        # Never handed to FFmpeg: it reads some text as a list of other files or addresses to
        # fetch (an `ffconcat` list, an HLS playlist), which no answer is.
        raise AudioError(f"{path}: holds text, not audio; a written answer goes to `starcoach check`")
    return path


_TEXT_HEADED_AUDIO = (b"NIST_1A",)  # NIST SPHERE: its header is text, its samples follow


def _is_text(head: bytes) -> bool:
    """Whether a file's first bytes are text (UTF-8, or UTF-16 with its mark): they decode, and
    hold no control character but tab, line and page breaks. Audio fails both within its first
    few hundred bytes (a NUL, a byte UTF-8 cannot start with, a lone UTF-16 surrogate)."""
    encoding = "utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8"
    if encoding == "utf-8" and b"\x00" in head:
        return False
    try:
        text = head.decode(encoding)
    except UnicodeDecodeError as exc:  # a character cut by the 4 KB read is still text
        if exc.reason != "unexpected end of data" or exc.start < len(head) - 3:
            return False
        text = head[:exc.start].decode(encoding)
    return all(c >= " " or c in "\t\n\r\f" for c in text.lstrip("\ufeff"))


def probe_audio(path: str | Path, *, whole: bool = False) -> None:
    """Check that a file opens as audio and its first samples decode; with ``whole``, that
    every sample does (what ``doctor`` asks of every take's audio: a file cut short opens and
    starts well), without keeping them.

    Raises:
        AudioError: as :func:`check_audio_file`, or the file holds no decodable audio, or
            (``whole``) it is truncated or corrupt further on.
    """
    import av  # noqa: PLC0415 - heavy import

    path = check_audio_file(path)
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(f"{path}: holds no audio stream")
            frames = container.decode(container.streams.audio[0])
            if next(frames, None) is None:
                raise AudioError(f"{path}: holds no audio samples")
            try:
                if whole:
                    deque(frames, maxlen=0)  # every frame decoded, none kept
            except av.error.FFmpegError as exc:
                raise AudioError(f"{path}: " + CORRUPT_AUDIO.format(_reason(exc))) from None
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise AudioError(f"{path}: not a readable audio file ({_reason(exc)})") from None


def _check_wav_header(path: Path, head: bytes, file_size: int) -> None:
    byte_rate: int | None = None  # from the fmt chunk, once it is read
    pos = 12
    while pos + 8 <= len(head):
        cid, clen = struct.unpack("<4sI", head[pos:pos + 8])
        if cid == b"fmt ":
            body = head[pos + 8:pos + 8 + 16]
            if clen < 16 or len(body) < 16:
                raise AudioError(f"{path}: the WAV header is cut short (fmt chunk of {clen} bytes)")
            tag, channels, rate, byte_rate, block_align, bits = struct.unpack("<HHIIHH", body)
            if tag not in _WAV_TAGS:
                raise AudioError(f"{path}: WAV format tag {tag} is not an audio encoding starcoach can decode; "
                                 "convert it to PCM WAV or FLAC")
            if tag in (0x0001, 0x0003) and bits not in (8, 16, 24, 32, 64):
                raise AudioError(f"{path}: the WAV header says {bits} bits per sample (8, 16, 24, 32 or 64 "
                                 "expected); the file is damaged")
            _check_stream(path, rate, channels)
            if tag in (0x0001, 0x0003) and block_align != channels * bits // 8:
                raise AudioError(f"{path}: the WAV header is inconsistent ({channels} channels of {bits} bits "
                                 f"but {block_align} bytes per frame); the file is damaged")
        elif cid == b"data":
            if byte_rate is None:
                break
            _check_wav_length(path, head, clen, file_size - (pos + 8), byte_rate)
            return
        pos += 8 + clen + (clen & 1)
    if byte_rate is None:
        raise AudioError(f"{path}: the WAV file has no format (fmt) chunk before its audio; the file is damaged")


# A WAV whose audio stops this much (seconds, and this share of it) before its header says has been cut
# off: copied or written in part. A little less is common (writers that pad); decoders read what is there.
WAV_CUT_S = 0.1
WAV_CUT_SHARE = 0.01
_PLACEHOLDER = 0x7FFF0000  # a data size this large is what a writer to a pipe puts in the header


def _check_wav_length(path: Path, head: bytes, declared: int, present: int, byte_rate: int) -> None:
    """Refuse a WAV file holding less audio than its header promises. RF64 files, and the
    placeholder sizes that streaming writers leave (0, or near the 32-bit limit: 0xFFFFFFFF,
    0x7FFFFFFF, sox's 0x7FFFF000), promise nothing."""
    if head[:4] != b"RIFF" or declared == 0 or declared >= _PLACEHOLDER or byte_rate <= 0:
        return
    missing = declared - max(present, 0)
    if missing > max(WAV_CUT_S * byte_rate, WAV_CUT_SHARE * declared):
        raise AudioError(f"{path}: the file is cut off: its header promises {declared / byte_rate:.1f} s of audio "
                         f"but it holds {max(present, 0) / byte_rate:.1f} s; copy it again from where it came "
                         "(or re-save what is there, e.g. `sox in.wav out.wav`, to analyse that part)")


def _check_stream(path: Path, rate: Any, channels: Any) -> None:
    if not rate or not MIN_RATE <= int(rate) <= MAX_RATE:
        raise AudioError(f"{path}: a sample rate of {rate} Hz is outside {MIN_RATE}-{MAX_RATE} Hz: the header is "
                         "damaged, or the recording is to be resampled first (`sox in.wav -r 16000 out.wav`)")
    if not channels or not 1 <= int(channels) <= MAX_CHANNELS:
        raise AudioError(f"{path}: {channels} channels is outside 1-{MAX_CHANNELS}; the header is damaged")


def load_audio(path: str | Path, *, max_seconds: float = MAX_SECONDS) -> Audio:
    """Decode an audio file to 16 kHz mono float32.

    Args:
        path: any file FFmpeg can read (wav, flac, mp3, m4a, ogg, ...).
        max_seconds: refuse files longer than this (before allocating for them when
            the header tells the length, else when decoding gets there).

    Returns:
        The decoded :class:`Audio`.

    Raises:
        AudioError: the path is missing, not a regular file, empty, not audio, has a
            header out of range, is too long, or is corrupt. Any decoder failure is
            reported as one.
    """
    path = check_audio_file(path)
    try:
        import av  # heavy: imported only when audio is decoded
    except ImportError as exc:  # pragma: no cover - a broken install
        raise AudioError(f"cannot decode audio: PyAV is not installed ({exc}); run scripts/setup.sh") from None
    try:
        samples, rate, channels, loudest, damaged = _decode(path, av, max_seconds=max_seconds, channel=None)
        if loudest is not None:
            del samples  # the mix cancels or halves it: decode again keeping the louder channel
            samples, _, _, _, damaged = _decode(path, av, max_seconds=max_seconds, channel=loudest)
    except AudioError:
        raise
    except MemoryError:
        raise AudioError(f"{path}: not enough memory to decode it; free some or split the file") from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a file we cannot read
        raise AudioError(f"{path}: not a readable audio file ({type(exc).__name__}: {_reason(exc)})") from None
    return Audio(samples=samples, source_rate=rate, source_channels=channels, channel_used=loudest,
                 damaged_samples=damaged)


def _decode(path: Path, av: Any, *, max_seconds: float, channel: int | None
            ) -> tuple[np.ndarray, int, int, int | None, int]:
    """One pass over the file: the mix of its channels (or only ``channel``).

    Returns:
        ``(samples, source_rate, source_channels, loudest)``; ``loudest`` is the louder channel's
        index when the channels cancelled in the mix or the others are all but silent, else None.
    """
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise AudioError(f"{path}: not a readable audio file ({_reason(exc)})") from None
    with container:
        if not container.streams.audio:
            raise AudioError(f"{path}: holds no audio stream")
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        if ctx is None or ctx.codec is None:
            raise AudioError(f"{path}: its audio encoding is not one FFmpeg can decode")
        source_rate = ctx.sample_rate
        source_channels = ctx.channels
        _check_stream(path, source_rate, source_channels)
        if ctx.format is None:
            raise AudioError(f"{path}: the audio stream has no sample format; the file is damaged")
        limit = int(max_seconds * SAMPLE_RATE)
        estimate = _estimated_samples(container, stream)
        if estimate is not None and estimate > limit * 1.05:
            raise AudioError(f"{path}: {estimate / SAMPLE_RATE / 60:.0f} minutes is longer than the "
                             f"{max_seconds / 60:.0f} minutes starcoach analyses; cut it shorter")
        buf = np.empty(min(limit, estimate or 60 * SAMPLE_RATE) + SAMPLE_RATE, dtype=np.float32)
        n = 0
        energy = np.zeros(source_channels, dtype=np.float64)
        mix_energy = 0.0
        # Packed float at 16 kHz with the file's own channels: the mix is ours to make. (Planar
        # float crashed the process in PyAV 18.1 for 8 channels or more.)
        resampler = av.AudioResampler(format="flt", layout=stream.layout, rate=SAMPLE_RATE)
        try:
            frames = _frames(container, stream, resampler)
            for block in frames:
                block = block.reshape(-1, source_channels).T  # interleaved -> (channels, n)
                if channel is not None:
                    mono = block[min(channel, len(block) - 1)]
                elif len(block) == 1:
                    mono = block[0]
                else:
                    mono = block.mean(axis=0, dtype=np.float32)
                    energy += np.einsum("ij,ij->i", block, block, dtype=np.float64)
                    mix_energy += float(np.dot(mono, mono))
                if n + len(mono) > len(buf):
                    if n + len(mono) > limit:
                        raise AudioError(f"{path}: longer than the {max_seconds / 60:.0f} minutes starcoach "
                                         "analyses; cut it shorter")
                    buf = _grow(buf, min(limit, max(n + len(mono), int(len(buf) * 1.5))) + SAMPLE_RATE)
                buf[n:n + len(mono)] = mono
                n += len(mono)
        except av.error.FFmpegError as exc:
            raise AudioError(f"{path}: " + CORRUPT_AUDIO.format(_reason(exc))) from None
    if n == 0:  # a few samples at another rate resample to none (an audit: 10 of them were "no audio samples")
        said = stream.duration * stream.time_base if stream.duration and stream.time_base else 0
        length = "under a millisecond" if said < 0.001 else f"{float(said) * 1000:.0f} ms"
        raise AudioError(f"{path}: holds only {length} of audio, too short to hold anything said"
                         if said else f"{path}: holds no audio samples")
    if estimate is not None and n < estimate - max(CUT_S * SAMPLE_RATE, CUT_SHARE * estimate) \
            and stream.duration is not None and _length_is_exact(path, container.format.name):
        raise AudioError(f"{path}: the file is cut off: its header promises {estimate / SAMPLE_RATE:.1f} s of audio "
                         f"but it holds {n / SAMPLE_RATE:.1f} s; copy it again from where it came (or convert "
                         "what is there to WAV or FLAC to analyse that part)")
    samples = buf[:n] if n > 0.9 * len(buf) else buf[:n].copy()
    del buf
    # A float file can hold samples that are not numbers (NaN, infinite): damaged samples are
    # silence, or every figure computed from them (level, SNR) is not a number either.
    good = len(samples)
    if not np.isfinite(np.dot(samples, samples)):  # one pass, no temporary (overflow only costs the loop)
        good = 0
        for i in range(0, len(samples), 1 << 20):  # in blocks: whole-file masks would raise the peak
            good += int(np.isfinite(samples[i:i + (1 << 20)]).sum())
            np.nan_to_num(samples[i:i + (1 << 20)], copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        if not good:  # not a muted microphone's silence: nothing in it is a sample
            raise AudioError(f"{path}: every sample is not a number (NaN or infinite): the file is damaged; "
                             "export it again from where it came")
    # Down-mixing and resampling can overshoot full scale slightly; the model expects [-1, 1].
    np.clip(samples, -1.0, 1.0, out=samples)
    loudest = None
    if channel is None and source_channels > 1 and energy.max() > 0:
        # Per channel, the mix of equal channels keeps their energy; inverted ones cancel.
        top = float(energy.max())
        if mix_energy < _CANCELLED * top or float(energy.sum()) - top < _ONE_LIVE * top:
            loudest = int(np.argmax(energy))
    return samples, int(source_rate), int(source_channels), loudest, len(samples) - good


# A compressed file this much short of its header's exact length is cut off (encoders' delay and padding: ms).
CUT_S = 0.5
CUT_SHARE = 0.02


def _length_is_exact(path: Path, fmt: str) -> bool:
    """The container states the length exactly (FLAC's STREAMINFO, MP4's header, an MP3's
    Xing/Info/VBRI frame), where otherwise a length is estimated from the size (a cut-off MP3
    without one looks whole) or read from the end (Ogg)."""
    if fmt == "flac" or fmt.startswith("mov,mp4"):
        return True
    if fmt != "mp3":
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(10)
            skip = 0
            if head[:3] == b"ID3" and len(head) == 10:  # an ID3v2 tag first: its size is syncsafe
                skip = 10 + sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(head[6:10]))
            f.seek(skip)
            frame = f.read(400)
    except OSError:
        return False
    return any(tag in frame for tag in (b"Xing", b"Info", b"VBRI"))


def _frames(container: Any, stream: Any, resampler: Any):
    """Resampled blocks as interleaved float32 arrays, the resampler's tail included."""
    for frame in container.decode(stream):
        for out in resampler.resample(frame):
            yield out.to_ndarray()
    for out in resampler.resample(None):
        yield out.to_ndarray()


def _estimated_samples(container: Any, stream: Any) -> int | None:
    """The length at 16 kHz from the header, when it says."""
    seconds = None
    if stream.duration is not None and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration:
        seconds = container.duration / 1_000_000
    if seconds is None or not np.isfinite(seconds) or seconds <= 0:
        return None
    return int(seconds * SAMPLE_RATE)


def _grow(buf: np.ndarray, size: int) -> np.ndarray:
    """A larger buffer holding ``buf``'s samples (the header underestimated the length)."""
    bigger = np.empty(size, dtype=np.float32)
    bigger[:len(buf)] = buf
    return bigger


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[0].strip() or type(exc).__name__
