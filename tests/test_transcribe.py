"""The model adapter on the real model: what the encoder is given."""

import numpy as np
import pytest

from tests.conftest import tone


def encoder_input_frames(model, samples: np.ndarray, fit: bool) -> int:
    """Mel frames the encoder works on for a clip padded to 30 s, as faster-whisper pads it."""
    from faster_whisper.audio import pad_or_trim

    features = pad_or_trim(model.feature_extractor(samples)[..., :-1])
    model.fit = fit
    try:
        return model.encode(features[np.newaxis]).shape[1] * 2  # the encoder halves the frames
    finally:
        model.fit = True


@pytest.mark.slow
def test_the_encoder_works_on_the_audio_not_the_padding(config):
    from starcoach.analysis.pipeline import _engine
    from starcoach.asr.models import resolve_model

    model = _engine(resolve_model(config.model, config.paths.models), config)._model
    assert encoder_input_frames(model, tone(6.1), fit=False) == 3000
    # With fit on: the audio plus 3 s of the padding, at least 5 s, at most the 30 s window
    # (100 frames a second).
    for seconds, frames in [(1.0, 500), (6.1, 910), (14.9, 1790), (27.5, 3000), (29.0, 3000)]:
        assert encoder_input_frames(model, tone(seconds), fit=True) == pytest.approx(frames, abs=2), seconds


@pytest.mark.slow
def test_recording_leaves_a_core_for_the_audio_and_analyze_uses_them_all(config):
    import os

    from starcoach.asr import engine as transcribe
    from starcoach.analysis.pipeline import _engine, live_transcriber
    from starcoach.asr.models import resolve_model

    def threads_of(engine) -> int:  # the cpu_threads its model was loaded with
        return next(key[2] for key, model in transcribe._CACHE.items() if model is engine._model)

    resolved = resolve_model(config.model, config.paths.models)
    live = live_transcriber(config, resolved)
    try:
        cells = [c.cell_contents for c in live._transcribe_chunk.__closure__]
        engine = next(c for c in cells if isinstance(c, transcribe.Engine))  # the worker's
        cores = os.cpu_count() or 1
        assert threads_of(engine) == max(1, cores - 1)
        assert threads_of(_engine(resolved, config)) == cores
    finally:
        live.finish()
