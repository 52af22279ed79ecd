"""A take's JSON document: the ``analyze --json`` document plus a ``take`` object.

``show --json``, ``record --json`` and ``import --json`` print it. The top level is the
analysis exactly as ``analyze --json`` writes it (the take's own summary never
overwrites a field of it); the take's fields live under ``take``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..analysis.document import SCHEMA
from .take import Take

if TYPE_CHECKING:  # pragma: no cover
    from .questions import Question


def take_document(take: Take, analysis: dict[str, Any] | None) -> dict[str, Any]:
    """``show --json``: the stored analysis with the take's own fields under ``take``.

    ``file``, the analysed file, is the take's audio where it is now: the stored analysis names
    it where it was analysed, and a home folder can be moved or copied whole. A take with no
    analysis (a failed recording) has ``analysed: false`` and no analysis fields.
    """
    doc: dict[str, Any] = dict(analysis) if analysis else {"schema": SCHEMA, "file": None, "no_speech": True,
                                                             "duration_s": take.duration_s or 0.0}
    doc["file"] = take.audio_path
    doc["analysed"] = analysis is not None
    doc["take"] = take.summary()
    return doc


def new_take_document(analysis: dict[str, Any], take_id: int, audio_path: Path,
                      question: Question | None = None) -> dict[str, Any]:
    """The document printed right after a take is recorded or imported: the question it answers
    is named (a random pick, or one chosen by principle, is seen nowhere else)."""
    doc = dict(analysis)
    doc["take"] = {**doc.get("take", {}), "id": take_id, "audio_path": str(audio_path)}
    if question is not None:
        doc["take"].update(question_id=question.id, question_text=question.text)
    return doc
