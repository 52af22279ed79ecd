"""Temporary files beside the file they become, each one writer's own.

A file that must appear whole (a take's metadata, an export) is written under a hidden
name in its own folder and renamed over its target once flushed. The name holds the
writer's pid and a random part, ``.take-093012.4711-9f2c1ab0.meta.json.tmp`` for
``take-093012.meta.json``: two processes writing the same target (two imports started in
the same second, two exports of one take) never open, rename or remove each other's, and
one that a killed process left blocks no later write.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def temporary_path(target: Path) -> Path:
    """A hidden name beside ``target`` that no other writer uses: what to write it under."""
    stem, dot, rest = target.name.partition(".")
    return target.with_name(f".{stem}.{os.getpid()}-{secrets.token_hex(4)}{dot}{rest}.tmp")
