"""What ``starcoach doctor`` found and did, as the lines it prints (:mod:`.doctor` does the work)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..domain.transcript import plural


@dataclass
class DoctorReport:
    """What ``doctor`` found and did."""

    integrity: list[str]
    moved_aside: Path | None = None
    kept_rows: int | None = 0  # None: a stopped doctor's rebuild, put in place by this one
    reindexed: list[int] = field(default_factory=list)
    reanalysed: list[str] = field(default_factory=list)  # "analysed take N again (…)"
    missing_audio: list[int] = field(default_factory=list)
    moved: dict[int, str] = field(default_factory=dict)  # of those, where the audio is (``Paths.moved_audio``)
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
            kept = "finished the rebuild a stopped doctor left" if self.kept_rows is None else \
                f"kept {plural(self.kept_rows, 'readable take')} from it"
            out.append(f"moved the damaged database aside to {self.moved_aside}; {kept}")
        out += [f"re-indexed take {i} from its audio" for i in self.reindexed]
        out += self.reanalysed
        out += self.recovered
        out += [f"take {i}: its audio file is missing" + (f"; {self.moved[i]}" if i in self.moved else "")
                for i in self.missing_audio]
        out += self.damaged_audio
        out += self.problems
        if self.unanalysed:  # not damage: what `show` says of them, so that "every take" is not claimed
            out.append(f"{plural(len(self.unanalysed), 'take')} ({', '.join(map(str, self.unanalysed))}) "
                       f"{'have' if len(self.unanalysed) > 1 else 'has'} no analysis: the audio could not be "
                       "analysed when it was stored (too short, empty or unreadable); `starcoach show` says why")
        if len(out) == 1:
            out.append("every take has its audio and analysis")
        return out
