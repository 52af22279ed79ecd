"""Audio in: decode any common file to 16 kHz mono float32.

Decoding goes through PyAV (FFmpeg), which faster-whisper already depends on, so
wav, flac, mp3, m4a/aac and ogg/opus at any rate and channel count all work without
a second decoder. We keep our own loop rather than faster-whisper's ``decode_audio``
so that corrupt and truncated files raise a clear :class:`AudioError` instead of
returning silence or a partial signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..domain.errors import AudioError

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class Audio:
    """Decoded audio, ready for the model.

    Attributes:
        samples: mono float32 samples in [-1, 1] at :data:`SAMPLE_RATE`.
        source_rate: sample rate of the file before resampling.
        source_channels: channel count of the file before down-mixing.
    """

    samples: np.ndarray
    source_rate: int
    source_channels: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def load_audio(path: str | Path) -> Audio:
    """Decode an audio file to 16 kHz mono float32.

    Args:
        path: any file FFmpeg can read (wav, flac, mp3, m4a, ogg, ...).

    Returns:
        The decoded :class:`Audio`.

    Raises:
        AudioError: the path is missing, a folder, empty, not audio, or corrupt.
    """
    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty")

    import av  # heavy: imported only when audio is decoded

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise AudioError(f"{path}: not a readable audio file ({_reason(exc)})") from None
    with container:
        if not container.streams.audio:
            raise AudioError(f"{path}: holds no audio stream")
        stream = container.streams.audio[0]
        source_rate = stream.codec_context.sample_rate or SAMPLE_RATE
        source_channels = stream.codec_context.channels or 1
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as exc:
            raise AudioError(f"{path}: the audio is truncated or corrupt ({_reason(exc)})") from None
    if not chunks:
        raise AudioError(f"{path}: holds no audio samples")
    # Down-mixing and resampling can overshoot full scale slightly; the model expects [-1, 1].
    samples = np.clip(np.concatenate(chunks), -1.0, 1.0).astype(np.float32, copy=False)
    return Audio(samples=samples, source_rate=int(source_rate), source_channels=int(source_channels))


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[0].strip() or type(exc).__name__
