"""Build or update one index generation, crash-safe and incremental.

Crash safety: vectors are written before the catalog transaction that makes a
batch of files current, and every vector id written or about to be deleted is
first recorded in the catalog's ``pending`` table; the next run reconciles
them, so a run killed at any point ends, once resumed, exactly as a clean run.
``--rebuild`` builds a fresh generation beside the live one and swaps
``CURRENT`` only when it is complete.

Full disk: see :mod:`mentor_local.index.disk`. A run that still meets ENOSPC
(another process filled the disk) drops its half-built generation or its
unfinished batch's vectors and raises ``DiskFullError`` too.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mentor_local.domain import Chunk, IndexReport, SkippedFile
from mentor_local.errors import DiskFullError
from mentor_local.index.disk import DiskGuard, out_of_space
from mentor_local.index.engines import Engines, LazyEmbedder
from mentor_local.index.generations import (
    CATALOG_FILE,
    current_generation,
    current_generation_or_none,
    drop_stale_generations,
    make_current,
    new_generation,
)
from mentor_local.index.meta import check_meta, wanted_meta
from mentor_local.index.ports import CachingEmbedder, IndexAdapters, IndexCatalog
from mentor_local.index.sources import SOURCES, Chunker, SourceFile, code_chunker, knowledge_files
from mentor_local.indexing.discover import discover, read_text
from mentor_local.security import clean
from mentor_local.settings import Settings

Progress = Callable[[str, int, int], None]
log = logging.getLogger(__name__)
BATCH_CHUNKS = 512  # per embed call: bigger batches sort by length better (less padding)
BATCH_FILES = 500


def _no_progress(stage: str, done: int, total: int) -> None:
    pass


@dataclass
class _Batch:
    """Files made current together: their chunks, the ones to embed, and the vector ids to delete after."""

    source: str
    files: list[tuple[str, str, int, int]] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    to_embed: list[Chunk] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)


class Builder(Engines):
    """Brings one generation of an index up to date with the repo and the pattern cards."""

    def __init__(self, repo: Path, index_dir: Path, gen: Path, adapters: IndexAdapters, *,
                 max_file_bytes: int, progress: Progress | None = None, guard: DiskGuard | None = None) -> None:
        super().__init__(repo, gen, adapters)
        self.index_dir = index_dir
        self.max_file_bytes = max_file_bytes
        self.progress = progress or _no_progress
        self.guard = guard or DiskGuard()
        self.embedded = 0
        self.deleted = 0
        self._cached: CachingEmbedder | None = None

    def open_catalog(self, gen: Path | None = None) -> IndexCatalog:
        return self.adapters.open_catalog((gen or self.gen) / CATALOG_FILE, False)

    def check_meta(self, catalog: IndexCatalog) -> None:
        have, self.embedder_id = check_meta(catalog, self.index_dir, self.adapters.pick_embedder)
        if all(v is None for v in have.values()):
            catalog.set_meta({**wanted_meta(self.embedder_id), "repo": str(self.repo),
                              "created": datetime.now(UTC).isoformat()})

    def recover(self, catalog: IndexCatalog) -> None:
        """Finish what a killed run left: drop vectors the catalog does not know."""
        pending = catalog.pending()
        if not pending:
            return
        for source in SOURCES:
            known = catalog.all_chunk_ids(source)
            orphans = [i for i, s, _ in pending if s == source and i not in known]
            if orphans:
                self.store(source).delete(orphans)
        catalog.clear_pending()

    def cached_embedder(self) -> CachingEmbedder:
        if self._cached is None:
            self._cached = self.adapters.cache_embeddings(LazyEmbedder(self))
        return self._cached

    def close_cache(self) -> int:
        """Close the embedding cache; return how many vectors it served."""
        if self._cached is None:
            return 0
        hits = self._cached.hits
        self._cached.close()
        return hits

    def flush(self, catalog: IndexCatalog, batch: _Batch) -> None:
        if not batch.files:
            return
        self.guard.check(self.gen, self.index_dir, batch.chunks, len(batch.to_embed), self.adapters.local_vectors)
        if batch.to_embed:
            vectors = self.cached_embedder().embed([c.embed_text for c in batch.to_embed])
            ids = [c.chunk_id for c in batch.to_embed]
            catalog.add_pending(ids, batch.source, "add")
            metas = [{"path": c.path, "kind": c.kind, "source": c.source} for c in batch.to_embed]
            self.store(batch.source).upsert(ids, vectors, metas)
            self.embedded += len(ids)
        catalog.commit_files(batch.source, batch.files, batch.chunks, batch.stale,
                             [c.chunk_id for c in batch.to_embed])
        if batch.stale:
            self.store(batch.source).delete(batch.stale)
            catalog.clear_pending(batch.stale)
            self.deleted += len(batch.stale)
        batch.files, batch.chunks, batch.to_embed, batch.stale = [], [], [], []

    def sync(self, catalog: IndexCatalog, source: str, files: list[SourceFile], chunker: Chunker,
             skipped: list[SkippedFile]) -> int:
        """Bring one source up to date; return the number of files (re)indexed."""
        known = catalog.files(source)
        changed: list[tuple[str, Path, int, int, str, str]] = []
        current: set[str] = set()
        for i, (rel, path, size, mtime) in enumerate(files):
            if i % 200 == 0:
                self.progress(f"scan {source}", i, len(files))
            old = known.get(rel)
            if old and old[1] == size and old[2] == mtime:
                current.add(rel)
                continue
            text, reason = read_text(path)
            if text is None:
                skipped.append(SkippedFile(rel, reason or "unreadable"))
                continue
            text = clean(text)[0]  # secrets and hidden characters never reach the embedder or any store
            current.add(rel)
            digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
            if old and old[0] == digest:
                catalog.touch_file(rel, size, mtime)  # touched, not changed: costs a hash, nothing more
                continue
            changed.append((rel, path, size, mtime, digest, text))
        gone = sorted(set(known) - current)
        if gone:
            ids = catalog.remove_files(gone, source)
            if ids:
                self.store(source).delete(ids)
                catalog.clear_pending(ids)
                self.deleted += len(ids)
        old_ids = catalog.chunk_ids([c[0] for c in changed])
        batch = _Batch(source)
        total = len(changed)
        for n, (rel, _path, size, mtime, digest, text) in enumerate(changed):
            try:
                chunks = chunker(rel, text)
            except Exception as exc:  # one broken file must not stop the run
                skipped.append(SkippedFile(rel, f"could not be chunked: {type(exc).__name__}: {exc}"))
                continue
            new_ids = {c.chunk_id for c in chunks}
            before = old_ids.get(rel, set())
            batch.files.append((rel, digest, size, mtime))
            batch.chunks.extend(chunks)
            batch.to_embed.extend(c for c in chunks if c.chunk_id not in before)
            batch.stale.extend(sorted(before - new_ids))
            if len(batch.to_embed) >= BATCH_CHUNKS or len(batch.files) >= BATCH_FILES:
                self.flush(catalog, batch)
            self.progress(f"index {source}", n + 1, total)
        self.flush(catalog, batch)
        return total

    def run(self, t0: float) -> IndexReport:
        """Sync both sources into this generation and report; the caller makes it current."""
        catalog = self.open_catalog()
        try:
            self.check_meta(catalog)
            self.recover(catalog)
            self.progress("discover", 0, 1)
            found, skipped = discover(self.repo, self.max_file_bytes)
            files = [(f.path, f.abspath, f.size, f.mtime_ns) for f in found]
            changed = self.sync(catalog, "code", files, code_chunker, skipped)
            kfiles, kchunker = knowledge_files()
            self.sync(catalog, "knowledge", kfiles, kchunker, skipped)
            cache_hits = self.close_cache()
            catalog.set_meta({"last_indexed": datetime.now(UTC).isoformat(), "repo": str(self.repo)})
            counts = catalog.counts()
        finally:
            catalog.close()
            self.close_vectors()
        return IndexReport(
            repo=str(self.repo), files_seen=len(found) + sum(1 for s in skipped if not s.path.endswith("/")),
            files_indexed=changed, files_skipped=len(skipped), chunks_total=counts["code_chunks"],
            chunks_embedded=self.embedded, chunks_deleted=self.deleted, seconds=round(time.perf_counter() - t0, 3),
            skipped=skipped, knowledge_chunks=counts["knowledge_chunks"], index_dir=str(self.index_dir),
            embeddings_from_cache=cache_hits,
        )

    def recover_quietly(self, gen: Path) -> None:
        """Drop the unfinished batch's vectors, so the live index is exactly the last complete one."""
        self.gen = gen
        try:
            catalog = self.open_catalog()
            try:
                self.recover(catalog)
            finally:
                catalog.close()
                self.close_vectors()
        except Exception as exc:  # the next run reconciles what is left (see the pending table)
            log.debug("recovery after a full disk failed: %s", exc)


def build_locked(repo: Path, index_dir: Path, settings: Settings, adapters: IndexAdapters, *, rebuild: bool,
                 progress: Progress | None = None, guard: DiskGuard | None = None,
                 started: float | None = None) -> IndexReport:
    """Index ``repo`` into ``index_dir``, whose write lock the caller holds (``started``: a perf_counter time)."""
    t0 = time.perf_counter() if started is None else started
    current = current_generation_or_none(index_dir) if rebuild else current_generation(index_dir)
    live = None if rebuild else current
    drop_stale_generations(index_dir, current)
    gen: Path | None = None
    b = Builder(repo, index_dir, live or index_dir, adapters, max_file_bytes=settings.max_file_bytes,
                progress=progress, guard=guard)
    try:
        gen = live or new_generation(index_dir)
        b.gen = gen
        report = b.run(t0)
        if live is None:
            make_current(index_dir, gen)
            drop_stale_generations(index_dir, gen)
        b.progress("done", 1, 1)
        return report
    except BaseException as exc:
        full = isinstance(exc, Exception) and out_of_space(exc, index_dir)  # before the clean-up frees space
        b.close_vectors()
        if gen is not None and gen != live:
            shutil.rmtree(gen, ignore_errors=True)  # a half-built generation is never kept
        if not full:
            raise
        if live is not None:
            b.recover_quietly(live)
        if isinstance(exc, DiskFullError):
            raise
        raise DiskFullError(f"the disk holding {index_dir} filled up while indexing; indexing stopped",
                            hint="free some space and run 'mentor index' again (if a search then fails, "
                                 "'mentor index --rebuild')") from exc
