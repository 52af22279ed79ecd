"""What starcoach assumes about faster-whisper's private internals, checked without a model.

``asr/engine.py`` is the only module that touches them: its encoder override cuts the
zero padding off the features that ``WhisperModel.generate_segments`` hands to
``WhisperModel.encode``. If a faster-whisper release renames or reroutes either, these
fail loudly here instead of the encoder silently seeing the full 30 s window again.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

faster_whisper = pytest.importorskip("faster_whisper")
ROOT = Path(__file__).resolve().parents[1]


def test_the_pinned_version_is_installed():
    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert faster_whisper.__version__ == pins["faster-whisper"]


def test_encode_takes_the_features_and_generate_segments_calls_it():
    from faster_whisper import WhisperModel

    assert list(inspect.signature(WhisperModel.encode).parameters) == ["self", "features"]
    assert "self.encode(" in inspect.getsource(WhisperModel.generate_segments)


def test_the_override_is_a_subclass_that_only_replaces_encode():
    from starcoach.asr.engine import _fitting_model_class

    cls = _fitting_model_class()
    own = {name for name in vars(cls) if not name.startswith("__")}
    assert own == {"encode", "fit"}
    assert issubclass(cls, faster_whisper.WhisperModel)
