"""Speech recognition: faster-whisper's model, its voice detector and the filler probe.

Every import of faster-whisper, CTranslate2 and onnxruntime is under this package, so the
native libraries' settings are made here, before any of them can be loaded (the command also
makes them first thing, see :func:`.whisper_model.native_settings`).
"""

from .whisper_model import native_settings

native_settings()
