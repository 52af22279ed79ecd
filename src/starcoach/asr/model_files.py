"""Whether a folder holds a whole Whisper model, told without loading it (data and file checks
only, so that the finder and the loader both use it without importing each other)."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

from .bundled import BundledModel, package_file

# What loading a model folder reads: CTranslate2 reads model.bin, config.json (the languages, the
# alignment heads) and vocabulary.json or vocabulary.txt; faster-whisper reads tokenizer.json, and
# fetches it from huggingface.co when the folder has none (offline: retries for 26 s, then fails),
# and preprocessor_config.json when there is one (else its defaults). See folder_problem.
WEIGHTS = "model.bin"  # the model itself: a folder that holds one is a model's, whole or not
MODEL_FILES = (WEIGHTS, "config.json", "tokenizer.json")
VOCABULARIES = ("vocabulary.json", "vocabulary.txt")
UNREADABLE = "cannot be read"


def folder_problem(folder: Path) -> str | None:
    """What keeps ``folder`` from loading as a model, found without loading it (``lacks
    tokenizer.json``), or None. A model.bin cut short is found by loading it only (a bundled
    model's, by its size: see :func:`_damaged`). A folder this user may not read is said to be that
    (Python 3.11's ``Path.is_file`` raises on it)."""
    try:
        if not folder.is_dir():
            return "is a file, not a model folder" if folder.exists() else "does not exist"
        missing = [f for f in MODEL_FILES if not (folder / f).is_file()]
        if not any((folder / f).is_file() for f in VOCABULARIES):
            missing.append(f"{VOCABULARIES[0]} (or {VOCABULARIES[1]})")
    except OSError as exc:
        return f"{UNREADABLE} ({exc.strerror or type(exc).__name__})"
    if missing:
        return "lacks " + (", ".join(missing[:-1]) + " and " if len(missing) > 1 else "") + missing[-1]
    settings = {}
    for name in ("config.json", "preprocessor_config.json"):  # the second is optional
        path = folder / name
        if name == "config.json" or path.exists():
            try:
                settings[name] = json.loads(path.read_bytes())
                if isinstance(settings[name], dict):
                    continue
                why = "not an object"
            except (OSError, ValueError) as exc:  # a decoding error is a ValueError
                why = getattr(exc, "strerror", None) or str(exc).splitlines()[0][:80]
            return f"its {name} is not JSON ({why})"
    return (_heads_problem(settings["config.json"], decoder_shape(folder / WEIGHTS))
            or _features_problem(settings.get("preprocessor_config.json", {}))
            or _tokenizer_problem(folder / "tokenizer.json"))


# The largest Whisper's decoder (large-v3): 32 layers of 20 attention heads. A head named past them
# made CTranslate2 crash the process (a segmentation fault) at the first word timing.
MAX_LAYERS, MAX_HEADS = 32, 20


def _heads_problem(config: dict, shape: tuple[int, int] | None) -> str | None:
    """What is wrong with config.json's ``alignment_heads`` (the decoder's heads that time words), or
    None. A folder converted by an older CTranslate2 has none: every analysis failed at its first
    word timing, after the decoding. With the decoder's SHAPE (layers, heads; :func:`decoder_shape`)
    a head is checked against the model's own decoder, else against the largest Whisper's."""
    heads = config.get("alignment_heads")
    if heads is None:
        return ("its config.json has no alignment_heads, which time the words (a model converted by an older "
                "CTranslate2): convert it again with the current ct2-transformers-converter")
    if not (isinstance(heads, list) and heads and all(
            isinstance(h, list) and len(h) == 2 and all(v.__class__ is int for v in h)
            and 0 <= h[0] < MAX_LAYERS and 0 <= h[1] < MAX_HEADS for h in heads)):
        return "its config.json's alignment_heads are not pairs of a decoder layer and head of a Whisper model"
    layers, per_layer = shape or (MAX_LAYERS, MAX_HEADS)
    past = next((h for h in heads if h[0] >= layers or h[1] >= per_layer), None)
    if past:
        return (f"its config.json's alignment_heads name layer {past[0]} head {past[1]}, past its model.bin's decoder "
                f"({layers} layers of {per_layer} heads, counted from 0): that config.json is another model's")
    return None


_SCALARS = {1: "b", 2: "h", 3: "i"}  # CTranslate2's int8, int16 and int32


def decoder_shape(weights: Path) -> tuple[int, int] | None:
    """The decoder's layers and heads per layer, read from a CTranslate2 model.bin's list of variables
    (each a name, its dimensions, its type and its bytes, skipped), or None when the file does not read
    as one. A head in config.json past a small model's decoder (within the largest Whisper's) crashed
    CTranslate2 at the first word timing; this reads some 200 names, under a millisecond."""
    try:
        with open(weights, "rb") as f:
            def read(fmt: str) -> tuple:
                return struct.unpack("<" + fmt, f.read(struct.calcsize("<" + fmt)))

            def name() -> str:
                return f.read(read("H")[0]).decode("utf-8").rstrip("\0")

            if read("I")[0] not in (5, 6):  # the versions read so (CTranslate2 3 and 4); another: unknown
                return None
            name(), read("I")  # the spec's name and revision
            layers, heads = -1, None
            for _ in range(read("I")[0]):
                variable = name()
                rank = read("B")[0]
                read("I" * rank)
                kind, size = read("BI")
                if variable == "decoder/num_heads" and kind in _SCALARS and size == struct.calcsize(_SCALARS[kind]):
                    heads = read(_SCALARS[kind])[0]
                    continue
                layer = re.match(r"decoder/layer_(\d+)/", variable)
                layers = max(layers, int(layer.group(1))) if layer else layers
                f.seek(size, 1)
    except (OSError, struct.error, UnicodeDecodeError, MemoryError):
        return None
    return (layers + 1, heads) if layers >= 0 and heads else None


# What faster-whisper reads of preprocessor_config.json, as every Whisper model has it: 16 kHz audio,
# 30 s windows of 10 ms frames, 25 ms FFTs (feature_size, 80 or 128 mel bands, is the model's own:
# checked once it is loaded). Another value (0 divided by, or 0 s windows that never end) failed
# deep in the decoding, or hung.
WHISPER_FEATURES = {"sampling_rate": 16000, "chunk_length": 30, "hop_length": 160, "n_fft": 400}


def _features_problem(preprocessor: dict) -> str | None:
    for key, value in WHISPER_FEATURES.items():
        if key in preprocessor and preprocessor[key] != value:
            return (f"its preprocessor_config.json sets {key} = {json.dumps(preprocessor[key])[:20]}, where "
                    f"Whisper models have {value}")
    size = preprocessor.get("feature_size", 80)
    if size.__class__ is not int or size not in (80, 128):
        return (f"its preprocessor_config.json sets feature_size = {json.dumps(size)[:20]}, where Whisper models "
                "have 80 or 128 (large-v3)")
    return None


def _tokenizer_problem(path: Path) -> str | None:
    """What is wrong with a tokenizer.json, seen by its shape: one that is not JSON, or holds no
    "model", failed inside the tokenizers library as "unexpected error (Exception: expected ident
    at line 1 column 2)" (an audit). Parsing its 4 MB here took 65 ms at each of the two checks
    before every load; reading it, 2 ms. The library reads it whole when the model loads."""
    try:
        data = path.read_bytes().strip()
    except OSError as exc:
        return f"its tokenizer.json {UNREADABLE} ({exc.strerror})"
    if not (data.startswith(b"{") and data.endswith(b"}")):
        return "its tokenizer.json is not JSON (empty, cut short or not a JSON object)"
    if b'"model"' not in data:
        return 'its tokenizer.json holds no tokenizer (no "model" in it)'
    return None


# What to do with a model folder whose files are wrong: only starcoach's own copy of a bundled
# model (:func:`ours`) may be deleted, as it is made again; any other may be the only copy.
REMAKE = "delete that folder and run again to assemble it anew"
REPLACE = "put a whole copy of the model there"


def incomplete(folder: Path, problem: str, *, bundled: str | None = None, ours: bool = False) -> str:
    """One line on a folder that is not a whole model, and what to do. Only starcoach's own copy of
    a bundled model (``ours``) is to be deleted: it is assembled anew. Any other folder is maybe the
    user's only copy of a model, never to be deleted: it is told what a model folder holds, and, in
    the folder of the bundled model named ``bundled``, to move to a folder of its own name too."""
    if problem.startswith(UNREADABLE):  # nothing is known to be missing
        return f"{folder} {problem}; check the owner and mode of the folder and of its files"
    if ours:
        return f"{folder} {problem}; {REMAKE}"
    whole = f"{folder} {problem}: a model folder holds {', '.join(MODEL_FILES)} and {' or '.join(VOCABULARIES)}"
    if bundled:  # (a file there, "is a file, not a model folder", can only be moved)
        fix = {"lacks": "add what it lacks, or ", "its": "mend that file, or "}.get(problem.split()[0], "")
        return (f"{whole}; {fix}move it elsewhere (a model of your own to a folder of its own name, given in "
                f"[model] name or --model), so that {bundled} can be assembled here")
    return f"{whole}; {REPLACE}"


def ours(folder: Path, model: BundledModel | None) -> bool:
    """Whether FOLDER is starcoach's own copy of the bundled MODEL, to be deleted and assembled anew
    when it is not whole: its config.json is the package's. Any other folder by that name (a model of
    the user's own, a folder without config.json) may be the only copy of something: never so."""
    if model is None:
        return False
    config = next(package_file(p, rel) for p, rel in model.extras if rel.endswith("config.json"))
    try:
        return config is not None and (folder / "config.json").read_bytes() == config.read_bytes()
    except OSError:
        return False


# Whisper's multilingual vocabularies have 51,865 tokens or more (CTranslate2's is_multilingual); English-only, 51,864.
_MULTILINGUAL_TOKENS = 51865


def settings_problem(folder: Path, language: str, compute_type: str) -> str | None:
    """What a model's files say of ``[model] language`` and ``compute_type`` before it is loaded (as the
    engine, loading it, refuses them; `models` called such a model ready), or None: an English-only
    vocabulary, a language with no token in its tokenizer, a weight type this CPU cannot run."""
    import ctranslate2  # noqa: PLC0415 - heavy: only when a model is about to be used or listed

    runs = ctranslate2.get_supported_compute_types("cpu")
    if compute_type not in runs and compute_type not in ("auto", "default"):
        return (f"[model] compute_type = {compute_type!r} cannot run on this CPU (it runs {', '.join(sorted(runs))}): "
                "set another; int8 is the default")
    if language == "en":  # every Whisper model knows English: its 3 MB of vocabulary not read again (0.12 s)
        return None
    try:
        vocabulary = folder / VOCABULARIES[0]
        size = len(json.loads(vocabulary.read_text(encoding="utf-8"))) if vocabulary.is_file() else \
            sum(1 for _ in (folder / VOCABULARIES[1]).open(encoding="utf-8"))
        known = {t.get("content") for t in json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
                 .get("added_tokens", []) if isinstance(t, dict)}
    except (OSError, ValueError, AttributeError):  # the engine, loading it, says what is wrong
        return None
    if language != "en" and size < _MULTILINGUAL_TOKENS:
        return (f"[model] language = {language!r}, but the model in {folder} knows English only: set language = "
                "\"en\", or a model that knows other languages (base) in [model] name")
    if size >= _MULTILINGUAL_TOKENS and f"<|{language}|>" not in known:
        return (f"[model] language = {language!r}, but the model in {folder} does not know that language: set one it "
                "knows, or in [model] name a model that knows it (large-v3 knows all of Whisper's languages)")
    return None
