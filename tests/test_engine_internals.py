"""What starcoach assumes about faster-whisper's private internals, checked without a model.

``asr/whisper_model.py`` is the only module that touches them: its encoder override cuts the
zero padding off the features that ``WhisperModel.generate_segments`` hands to
``WhisperModel.encode``, and its ``get_prompt`` shortens the previous text. If a faster-whisper
release renames or reroutes either, these fail loudly here instead of the encoder silently
seeing the full 30 s window again, or every window the long prompt.
"""

from __future__ import annotations

import inspect
import platform
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


def test_get_prompt_takes_the_previous_tokens_and_generate_segments_calls_it():
    from faster_whisper import WhisperModel

    assert list(inspect.signature(WhisperModel.get_prompt).parameters)[:3] == ["self", "tokenizer", "previous_tokens"]
    assert "self.get_prompt(" in inspect.getsource(WhisperModel.generate_segments)


def test_a_window_is_prompted_with_the_filler_prompt_and_the_last_tokens_of_the_text_before_it():
    from types import SimpleNamespace

    from starcoach.asr.whisper_model import _fitting_model_class

    cls = _fitting_model_class()
    model = cls.__new__(cls)  # get_prompt needs no weights
    model.max_length = 448
    tok = SimpleNamespace(sot_prev=1, sot_sequence=(2, 3, 4), no_timestamps=5, timestamp_begin=6)
    head, text = [101, 102, 103], list(range(1000, 1300))  # the filler prompt, then 300 tokens of text
    model.context = (tuple(head), 64)
    assert model.get_prompt(tok, head + text) == [1, *head, *text[-64:], 2, 3, 4]
    assert model.get_prompt(tok, head + text[:50]) == [1, *head, *text[:50], 2, 3, 4]  # short: all of it
    assert model.get_prompt(tok, text) == [1, *text[-64:], 2, 3, 4]  # after a reset the text starts otherwise
    model.context = None
    assert model.get_prompt(tok, head + text) == [1, *(head + text)[-223:], 2, 3, 4]  # faster-whisper's own


def test_the_override_is_a_subclass_that_only_replaces_encode_get_prompt_and_wraps_generate_segments_and_fallback():
    from starcoach.asr.whisper_model import _fitting_model_class

    cls = _fitting_model_class()
    own = {name for name in vars(cls) if not name.startswith("__")}
    assert own == {"encode", "encode_now", "encode_ahead", "generate_segments", "fit", "get_prompt", "context",
                   "generate_with_fallback"}
    assert issubclass(cls, faster_whisper.WhisperModel)


def _model_without_weights(generate=None):
    """The fitting model, made without weights: its encoder gives "encoded" for any window, a frame is
    10 ms, and GENERATE stands for CTranslate2's decoder."""
    from types import SimpleNamespace

    from starcoach.asr.whisper_model import _fitting_model_class

    cls = _fitting_model_class()
    model = cls.__new__(cls)
    model.max_length = 448
    model.feature_extractor = SimpleNamespace(time_per_frame=0.01)
    model.encode_now = lambda features, audio=None: "encoded"
    model.model = SimpleNamespace(generate=generate)
    return model


def _window(seconds: float):
    """A window's features as generate_segments hands them to encode: SECONDS of audio, then zero padding."""
    import numpy as np

    features = np.zeros((1, 80, 3000), np.float32)
    features[..., : int(seconds * 100)] = -0.5
    return features


def _no_options():
    from faster_whisper.transcribe import TranscriptionOptions

    return TranscriptionOptions(**{f: None for f in TranscriptionOptions.__dataclass_fields__})


def test_a_window_gives_at_most_8_plus_12_tokens_a_second_of_its_audio(monkeypatch):
    """A sampled decode (the temperature fallback) that runs into a loop goes on to CTranslate2's
    own limit, five hypotheses at a time: a 0.3 s remainder of a live chunk took 6.9 s. The
    window's audio bounds its text instead, and a decode that reaches the bound scores as failed."""
    from dataclasses import replace
    from types import SimpleNamespace

    assert list(inspect.signature(faster_whisper.WhisperModel.generate_with_fallback).parameters) == [
        "self", "encoder_output", "prompt", "tokenizer", "options"]
    source = inspect.getsource(faster_whisper.WhisperModel.generate_with_fallback)
    assert "max_length = len(prompt) + options.max_new_tokens" in source and "self.model.generate(" in source

    def generate(encoded, prompts, max_length, **kwargs):
        """Runs on until CTranslate2's limit for a Whisper decode (models/whisper.cc), or `wants`."""
        p = len(prompts[0])
        limit = min(max_length // 2, max_length - p + 1)
        return [SimpleNamespace(sequences_ids=[[7] * min(wants, limit)], scores=[-0.1], no_speech_prob=0.01)]

    model = _model_without_weights(generate)
    seen = []

    def generate_with_fallback(self, encoded, prompt, tokenizer, options):
        top = options.max_new_tokens or self.max_length - len(prompt)
        (result,) = self.model.generate(encoded, [prompt], max_length=len(prompt) + top)
        seen.append((options.max_new_tokens, len(result.sequences_ids[0]), result.scores[0]))

    monkeypatch.setattr(faster_whisper.WhisperModel, "generate_with_fallback", generate_with_fallback)
    options = _no_options()
    inf = float("-inf")
    for seconds in (0.2, 0.9, 3.0, 10.0, 25.0, 30.0):
        for prompt in (14, 40, 79, 150):
            for wants in (5, 400):
                assert model.encode(_window(seconds)) == "encoded"
                seen.clear()
                model.generate_with_fallback("encoded", [1] * prompt, None, options)
                (given, length, score), bound = seen[0], 8 + int(12 * seconds)
                own = min(448 // 2, 448 - prompt + 1)  # CTranslate2's limit without max_new_tokens
                if bound < own:  # bounded: the decode stops after the bound, and one that got there failed
                    assert given is not None and length == min(wants, bound), (seconds, prompt, wants)
                    assert score == (inf if wants >= bound else -0.1)
                else:  # the bound is looser than the model's own limit: untouched
                    assert (given, length, score) == (None, min(wants, own), -0.1), (seconds, prompt, wants)
                assert model.model.generate is generate  # the model is given back
    # a limit already set that is tighter stays as it is
    seen.clear()
    model.encode(_window(30.0))
    model.generate_with_fallback("encoded", [1] * 14, None, replace(options, max_new_tokens=10))
    assert seen == [(10, 11, -0.1)]  # min((14 + 10) // 2, 10 + 1): not scored as failed


def test_a_window_of_under_2_s_is_decoded_at_temperature_0_only(monkeypatch):
    """The stretch a window's last timestamp leaves over (the last word, the silence after it) went
    through the whole temperature fallback, up to six decodes: 0.65 s of a live chunk's decode at the stop,
    for five tokens of garbage. Under 2 s of audio a window is decoded at temperature 0 alone."""
    from dataclasses import replace

    source = inspect.getsource(faster_whisper.WhisperModel.generate_with_fallback)
    assert "for temperature in options.temperatures:" in source  # what the list decides
    model = _model_without_weights()
    seen = []
    monkeypatch.setattr(faster_whisper.WhisperModel, "generate_with_fallback",
                        lambda self, encoded, prompt, tokenizer, options: seen.append(list(options.temperatures)))
    fallback = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    options = _no_options()
    for seconds, temperatures, expected in ((0.3, fallback, [0.0]), (1.9, fallback, [0.0]), (2.0, fallback, fallback),
                                            (12.0, fallback, fallback), (1.0, [0.0], [0.0])):
        model.encode(_window(seconds))
        seen.clear()
        model.generate_with_fallback("encoded", [1] * 14, None, replace(options, temperatures=temperatures))
        assert seen == [expected], seconds


def test_beam_searches_run_on_the_copy_and_calls_that_encode_on_the_main_model():
    import numpy as np

    from starcoach.asr.whisper_model import _SearchApart

    class Model:
        n_mels = 80

        def __init__(self, name: str):
            self.name = name

        def generate(self, features, prompts, **options):
            return self.name

        def align(self, *args):
            return f"aligned by {self.name}"

    split = _SearchApart(Model("main"), Model("search"))
    assert split.generate(np.zeros((1, 1500, 512), np.float32), [[1]], beam_size=5) == "search"  # encoder output
    assert split.generate(np.zeros((4, 80, 300), np.float32), [[1]] * 4, beam_size=1) == "main"  # mel: encodes first
    assert split.align() == "aligned by main" and split.n_mels == 80


def test_given_windows_each_next_one_is_encoded_on_another_thread_and_a_window_opened_inside_one_is_not():
    import threading
    from types import SimpleNamespace

    import numpy as np
    from faster_whisper.audio import pad_or_trim

    from starcoach.asr.whisper_model import _EncodeAhead

    class Model:  # what _EncodeAhead uses of faster-whisper's model
        feature_extractor = SimpleNamespace(nb_max_frames=3000)
        frames_per_second = 100

        def encode_now(self, features):
            return threading.current_thread().name, float(features.sum())

    features = np.random.default_rng(0).random((80, 9001), dtype=np.float32)  # 90 s
    window = lambda a, b: pad_or_trim(features[:, a:b])  # noqa: E731 - as faster-whisper slices and pads
    ahead = _EncodeAhead(Model(), features, [0.0, 28.0, 30.0, 55.0, 60.0, 88.0])
    try:
        first = ahead.encode(window(0, 2800))
        inside = ahead.encode(window(2100, 2800))  # window 0 stopped early: its rest, not window 1
        second = ahead.encode(window(3000, 5500))
        third = ahead.encode(window(6000, 8800))
    finally:
        ahead.close()
    assert first == ("MainThread", float(window(0, 2800).sum()))
    assert inside == ("MainThread", float(window(2100, 2800).sum()))
    for (thread, total), (a, b) in ((second, (3000, 5500)), (third, (6000, 8800))):
        assert thread.startswith("starcoach-encoder") and total == float(window(a, b).sum())


ARENAS = """
import ctypes, sys, threading
if sys.argv[1] == "set":
    from starcoach.asr.whisper_model import native_settings
    native_settings()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def work():
    for _ in range(3000):
        libc.free(libc.malloc(50000))  # ctypes lets go of the GIL: the threads allocate at once
threads = [threading.Thread(target=work) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
libc.malloc_stats()  # one "Arena N:" block per arena, on stderr
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_threads_that_allocate_at_once_share_one_malloc_arena_once_native_settings_ran():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | {"PYTHONPATH": str(ROOT / "src")}

    def arenas(mode: str) -> int:
        run = subprocess.run([sys.executable, "-c", ARENAS, mode], env=env, capture_output=True, text=True, timeout=60)
        return sum(line.startswith("Arena ") for line in run.stderr.splitlines())

    assert arenas("set") == 1
    assert arenas("unset") > 1 or (os.cpu_count() or 1) == 1  # what the setting prevents


@pytest.mark.parametrize("value, kept", [("abc", False), ("0", False), ("", False), ("1,0", False), ("2", True),
                                         ("2,1", True), ("9" * 23, False)])  # past an unsigned long
def test_an_omp_num_threads_libgomp_refuses_is_dropped_before_it_loads(value, kept):
    """`OMP_NUM_THREADS=abc starcoach analyze …` printed libgomp's own "Invalid value" line: the
    model's threads are starcoach's setting, so a value libgomp would refuse is dropped."""
    import os
    import subprocess
    import sys

    code = "import os, starcoach.cli, ctranslate2; print(os.environ.get('OMP_NUM_THREADS'))"
    env = os.environ | {"OMP_NUM_THREADS": value, "PYTHONPATH": str(ROOT / "src")}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "libgomp" not in run.stderr, run.stderr
    assert run.stdout.strip() == (value if kept else "None")


HUB = """
import sys
from starcoach.asr.whisper_model import load_model
load_model(sys.argv[1], "int8", 1, 1)
import tokenizers
try:
    tokenizers.Tokenizer.from_pretrained("openai/whisper-tiny")  # what faster-whisper does without tokenizer.json
    print("fetched")
except Exception as exc:
    print(type(exc).__name__)
"""


def test_once_a_model_is_loaded_nothing_goes_to_the_hugging_face_hub(tmp_path, models_dir):
    """faster-whisper fetches a model folder's missing tokenizer.json from huggingface.co by itself:
    online, into the hub's cache outside the home; offline, after 26 s of retries and eleven lines
    on stderr. The hub is off where the model loads, whatever the environment said."""
    import os
    import subprocess
    import sys

    from starcoach.asr.models import resolve_model

    folder = resolve_model("tiny.en", models_dir).path
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env |= {"PYTHONPATH": str(ROOT / "src"), "HF_HOME": str(tmp_path / "hf")}
    run = subprocess.run([sys.executable, "-c", HUB, str(folder)], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["LocalEntryNotFoundError"], run.stdout
    # refused at once: a hub that is asked retries for 20 s and more, each retry a line on stderr that
    # names the host
    assert "huggingface.co" not in run.stderr and not (tmp_path / "hf").exists(), run.stderr
