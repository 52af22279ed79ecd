"""WAV files a recorder left: read their format, repair the sizes a dead writer never wrote."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from ..domain.errors import RecordingError


@dataclass(frozen=True)
class WavData:
    """What :func:`repair_wav` found: the samples' size and format from the header."""

    data_bytes: int
    sample_rate: int
    channels: int
    block_align: int

    @property
    def frames(self) -> int:
        return self.data_bytes // self.block_align

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def repair_wav(path: Path) -> WavData:
    """Make a WAV file whose writer died readable: fix the RIFF and data sizes.

    A writer that died leaves a ``data`` chunk whose size is 0 (never updated) or
    larger than the file: then everything after its header is taken as samples, cut
    to whole frames. A size that fits the file is kept, so chunks after the samples
    (a ``LIST`` of tags, say) stay as they are. A consistent file is not touched.

    Returns:
        The data chunk's size and the format, rate and channels from the ``fmt`` chunk.

    Raises:
        RecordingError: the file is not a WAV file, or has no fmt or data chunk.
    """
    with open(path, "r+b") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise RecordingError(f"{path}: not a WAV file; cannot recover it")
        size = f.seek(0, 2)
        pos = 12
        fmt: tuple[int, ...] | None = None
        while pos + 8 <= size:
            f.seek(pos)
            cid, clen = struct.unpack("<4sI", f.read(8))
            if cid == b"fmt ":
                body = f.read(16)
                if len(body) == 16:
                    fmt = struct.unpack("<HHIIHH", body)
            if cid == b"data":
                if fmt is None or not fmt[1] or not fmt[2]:
                    raise RecordingError(f"{path}: the WAV header has no usable format chunk; cannot recover it")
                channels, rate, block_align = fmt[1], fmt[2], fmt[4] or 2 * fmt[1]
                available = size - (pos + 8)
                if 0 < clen <= available:
                    data_len = clen - clen % block_align
                    riff = max(size, pos + 8 + clen + (clen & 1)) - 8
                else:  # the writer died before it wrote the sizes
                    data_len = available - available % block_align
                    riff = pos + data_len
                if data_len != clen:
                    f.seek(pos + 4)
                    f.write(struct.pack("<I", data_len))
                    if clen == 0 or clen > available:
                        f.truncate(pos + 8 + data_len)
                f.seek(4)
                if struct.unpack("<I", f.read(4))[0] != riff:
                    f.seek(4)
                    f.write(struct.pack("<I", riff))
                return WavData(data_bytes=data_len, sample_rate=rate, channels=channels, block_align=block_align)
            pos += 8 + clen + (clen & 1)
    raise RecordingError(f"{path}: no audio data in the file")
