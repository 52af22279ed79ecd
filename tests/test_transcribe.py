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
    model = config.analyzer().engine()._model
    assert encoder_input_frames(model, tone(6.1), fit=False) == 3000
    # With fit on: the audio plus 3 s of the padding, at least 5 s, at most the 30 s window
    # (100 frames a second).
    for seconds, frames in [(1.0, 500), (6.1, 910), (14.9, 1790), (27.5, 3000), (29.0, 3000)]:
        assert encoder_input_frames(model, tone(seconds), fit=True) == pytest.approx(frames, abs=2), seconds


@pytest.mark.slow
def test_recording_leaves_a_core_for_the_audio_and_analyze_uses_them_all(config):
    import os

    analyzer = config.analyzer()
    live = analyzer.live_transcriber()
    try:
        cores = os.cpu_count() or 1
        assert analyzer.engine().threads == cores
        # the live worker's engine was loaded first, with one thread fewer (at least one)
        assert sorted(e.threads for e in analyzer._engines.values()) == sorted({cores, max(1, cores - 1)})
    finally:
        live.finish()


@pytest.mark.slow
def test_one_analyzer_loads_the_model_once(config):
    analyzer = config.analyzer()
    assert analyzer.engine() is analyzer.engine()
