"""Where an index lives on disk: its folder, the write lock, and the generation ``CURRENT`` names.

::

    <index_dir>/.lock             held while writing (a second writer gets exit 3 in 2 s)
    <index_dir>/CURRENT           name of the live generation, replaced atomically
    <index_dir>/gen-N/catalog.sqlite   manifest + chunk rows + FTS5 keyword index
    <index_dir>/gen-N/chroma/          vectors (embedded Chroma), unless --chroma-url
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

from filelock import FileLock, Timeout

from mentor_local.errors import IndexBusyError, IndexCorruptError
from mentor_local.paths import default_index_dir, repo_key
from mentor_local.settings import Settings

CATALOG_FILE = "catalog.sqlite"
VECTOR_DIR = "chroma"


def resolve_index_dir(repo: Path, index_dir: str | Path | None, settings: Settings) -> Path:
    """The index folder of ``repo``: the argument, else the ``index_dir`` setting, else one under the app home."""
    if index_dir is not None:
        return Path(index_dir).expanduser().resolve()
    if settings.index_dir is not None:
        return settings.index_dir.resolve()
    return default_index_dir(repo, settings.home)


def lock_index(index_dir: Path) -> FileLock:
    """Take the write lock of ``index_dir`` (creating the folder); ``IndexBusyError`` after 2 s."""
    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / ".lock"), timeout=2)
    try:
        lock.acquire()
    except Timeout as exc:
        raise IndexBusyError(f"the index in {index_dir} is busy: another mentor process is writing it",
                             hint="wait for it to finish (or stop it) and run the command again") from exc
    return lock


def current_generation(index_dir: Path) -> Path | None:
    """The live generation, or ``None`` when there is no index yet; ``IndexCorruptError`` when CURRENT is bad."""
    try:
        name = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise IndexCorruptError(f"cannot read {index_dir / 'CURRENT'}: {exc}", hint="run 'mentor index PATH --rebuild'") from exc
    gen = index_dir / name
    if not name.startswith("gen-") or "/" in name or not (gen / CATALOG_FILE).is_file():
        raise IndexCorruptError(f"the index in {index_dir} points at a missing generation {name!r}",
                                hint="run 'mentor index PATH --rebuild'")
    return gen


def current_generation_or_none(index_dir: Path) -> Path | None:
    """As :func:`current_generation`, with a damaged CURRENT read as no index (a rebuild replaces it anyway)."""
    try:
        return current_generation(index_dir)
    except IndexCorruptError:
        return None


def new_generation(index_dir: Path) -> Path:
    """Make the folder of a fresh generation.

    A never-reused name: Chroma caches clients per path within a process, so reusing the name of
    a deleted generation would hand back a stale client.
    """
    gen = index_dir / f"gen-{time.time_ns():x}-{os.getpid()}"
    gen.mkdir(parents=True)
    return gen


def make_current(index_dir: Path, gen: Path) -> None:
    """Point CURRENT at ``gen``: written beside, synced, then renamed over the old one."""
    tmp = index_dir / "CURRENT.tmp"
    tmp.write_text(gen.name + "\n", encoding="utf-8")
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / "CURRENT")


def drop_stale_generations(index_dir: Path, keep: Path | None) -> None:
    """Under the lock, a generation that CURRENT does not name is the leftover of a failed or killed rebuild."""
    for old in index_dir.glob("gen-*"):
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)


def collection_name(repo: Path, gen: Path, source: str) -> str:
    """The vector collection of one source in one generation (unique per repo and generation on a shared server)."""
    key = hashlib.sha256(f"{repo_key(repo)}/{gen.name}".encode()).hexdigest()[:16]
    return f"mentor-{key}-{source}"
