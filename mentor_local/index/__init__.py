"""Build, update and open an index: the public ``build_index`` / ``open_index`` / ``Index``.

These functions take the repo, the settings and the lock, get the adapters from
``wiring`` and hand them to the services, one job per module:

- :mod:`~mentor_local.index.generations`: the index folder, its lock, the generation ``CURRENT`` names
- :mod:`~mentor_local.index.meta`: what an index records about how it was made; a mismatch is refused
- :mod:`~mentor_local.index.builder`: the crash-safe, incremental build (with the disk guard of
  :mod:`~mentor_local.index.disk`)
- :mod:`~mentor_local.index.reader`: ``Index``, the read-only view that searches
- :mod:`~mentor_local.index.card_seed`: the pattern cards' vectors, embedded once at setup
- :mod:`~mentor_local.index.ports`: the interfaces of what they are given
"""

from __future__ import annotations

import time
from pathlib import Path

from mentor_local.domain import IndexReport
from mentor_local.errors import IndexMissingError
from mentor_local.index.builder import Progress, build_locked
from mentor_local.index.card_seed import card_seed_path, write_card_seed
from mentor_local.index.disk import SPARE_BYTES, TEXT_FACTOR, VECTOR_BYTES, DiskGuard
from mentor_local.index.generations import current_generation, lock_index, resolve_index_dir
from mentor_local.index.meta import EMBEDDER_DIM, chunker_version
from mentor_local.index.reader import Index
from mentor_local.paths import check_repo
from mentor_local.protocols import Embedder
from mentor_local.settings import Settings, load_settings

__all__ = [
    "EMBEDDER_DIM", "SPARE_BYTES", "TEXT_FACTOR", "VECTOR_BYTES", "Index", "Progress", "build_index",
    "card_seed_path", "chunker_version", "open_index", "prepare_card_vectors", "resolve_index_dir",
]


def build_index(repo: str | Path, index_dir: str | Path | None = None, progress: Progress | None = None, *,
                settings: Settings | None = None, rebuild: bool = False, embedder: Embedder | None = None) -> IndexReport:
    """Index ``repo`` (and the pattern library); only what changed is re-embedded.

    ``embedder`` replaces the bundled one (its vectors are cached under its own id).
    """
    from mentor_local.wiring import index_adapters

    started = time.perf_counter()
    root = check_repo(repo)
    settings = settings or load_settings(root)
    idir = resolve_index_dir(root, index_dir, settings)
    # the guard's sizes are read here, at each call, so that they can be changed on this module
    guard = DiskGuard(SPARE_BYTES, VECTOR_BYTES, TEXT_FACTOR)
    lock = lock_index(idir)
    try:
        return build_locked(root, idir, settings, index_adapters(settings, embedder), rebuild=rebuild,
                            progress=progress, guard=guard, started=started)
    finally:
        lock.release()


def open_index(repo: str | Path, index_dir: str | Path | None = None, settings: Settings | None = None,
               embedder: Embedder | None = None) -> Index:
    """Open the index of ``repo`` for searching; ``embedder`` replaces the bundled one (e.g. one already loaded)."""
    from mentor_local.wiring import index_adapters

    root = check_repo(repo)
    settings = settings or load_settings(root)
    idir = resolve_index_dir(root, index_dir, settings)
    gen = current_generation(idir)
    if gen is None:
        raise IndexMissingError(f"{root} has no index yet", hint=f"run 'mentor index {root}' first")
    return Index(root, idir, gen, settings, index_adapters(settings, embedder))


def prepare_card_vectors(path: Path | None = None, embedder: Embedder | None = None) -> tuple[Path, int, bool]:
    """Embed the pattern cards once (``make setup``) into the seed; ``(path, texts, built)``.

    The texts are made exactly as indexing makes them, so an index's lookups hit. Nothing is
    embedded (and no model loaded) when the seed already holds them all.
    """
    from mentor_local.wiring import embedder_id_for, make_embedder

    settings = load_settings()
    embedder_id = embedder.model_id if embedder is not None else embedder_id_for(settings)

    def load() -> Embedder:
        return embedder if embedder is not None else make_embedder(settings, embedder_id)

    return write_card_seed(path or card_seed_path(), embedder_id, load)
