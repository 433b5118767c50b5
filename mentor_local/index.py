"""Build, update and open an index: the public ``build_index`` / ``open_index`` / ``Index``.

Layout of an index folder::

    <index_dir>/.lock             held while writing (a second writer gets exit 3 in 2 s)
    <index_dir>/CURRENT           name of the live generation, replaced atomically
    <index_dir>/gen-N/catalog.sqlite   manifest + chunk rows + FTS5 keyword index
    <index_dir>/gen-N/chroma/          vectors (embedded Chroma), unless --chroma-url

Crash safety: vectors are written before the catalog transaction that makes a
batch of files current, and every vector id written or about to be deleted is
first recorded in the catalog's ``pending`` table; the next run reconciles
them, so a run killed at any point ends, once resumed, exactly as a clean run.
``--rebuild`` builds a fresh generation beside the live one and swaps
``CURRENT`` only when it is complete.

Full disk: Chroma's HNSW files are not written atomically, and a write that
meets ENOSPC can leave them unreadable. So no batch is written unless the disk
has room for it (a generous estimate, the HNSW files' next growth, and
``SPARE_BYTES``); short of that the run stops with ``DiskFullError`` before
writing, and the index stays as the last committed batch left it — consistent,
searchable, and finished by the next run. A run that still meets ENOSPC (another
process filled the disk) drops its half-built generation or its unfinished
batch's vectors and raises ``DiskFullError`` too.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mentor_local.domain import Chunk, Hit, IndexReport, SkippedFile
from mentor_local.errors import (
    BadPathError,
    DiskFullError,
    IndexBusyError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    is_disk_full,
)
from mentor_local.settings import Settings, load_settings
from mentor_local.store.keyword import SCHEMA_VERSION, Catalog

Progress = Callable[[str, int, int], None]
log = logging.getLogger(__name__)
EMBEDDER_DIM = 384
SOURCES = ("code", "knowledge")
BATCH_CHUNKS = 512  # per embed call: bigger batches sort by length better (less padding)
# Full-disk guard: a batch is written only when the disk has room for it with this much to spare.
SPARE_BYTES = 8 << 20
VECTOR_BYTES = 8 << 10  # per vector: Chroma's log row, its WAL copy and the HNSW node, generously
TEXT_FACTOR = 5  # catalog bytes per byte of chunk text: row, FTS5 index, journal


def chunker_version() -> str:
    from mentor_local.indexing.chunk_python import CHUNKER_VERSION

    return f"{CHUNKER_VERSION}+text-1+card-2+redact-1"


def _check_repo(repo: str | Path) -> Path:
    path = Path(repo).expanduser()
    if not path.exists():
        raise BadPathError(f"{path} does not exist", hint="pass the folder of a Python project")
    if not path.is_dir():
        raise BadPathError(f"{path} is not a directory", hint="pass the folder of a Python project")
    return path.resolve()


def resolve_index_dir(repo: Path, index_dir: str | Path | None, settings: Settings) -> Path:
    from mentor_local.paths import default_index_dir

    if index_dir is not None:
        return Path(index_dir).expanduser().resolve()
    if settings.index_dir is not None:
        return settings.index_dir.resolve()
    return default_index_dir(repo, settings.home)


def _current_gen(index_dir: Path) -> Path | None:
    try:
        name = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise IndexCorruptError(f"cannot read {index_dir / 'CURRENT'}: {exc}", hint="run 'mentor index PATH --rebuild'") from exc
    gen = index_dir / name
    if not name.startswith("gen-") or "/" in name or not (gen / "catalog.sqlite").is_file():
        raise IndexCorruptError(f"the index in {index_dir} points at a missing generation {name!r}",
                                hint="run 'mentor index PATH --rebuild'")
    return gen


def _swap_current(index_dir: Path, gen: Path) -> None:
    tmp = index_dir / "CURRENT.tmp"
    tmp.write_text(gen.name + "\n", encoding="utf-8")
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / "CURRENT")


def _collection_name(repo: Path, gen: Path, source: str) -> str:
    from mentor_local.paths import repo_key

    key = hashlib.sha256(f"{repo_key(repo)}/{gen.name}".encode()).hexdigest()[:16]
    return f"mentor-{key}-{source}"


def _lock(index_dir: Path) -> Any:
    from filelock import FileLock, Timeout

    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / ".lock"), timeout=2)
    try:
        lock.acquire()
    except Timeout as exc:
        raise IndexBusyError(f"the index in {index_dir} is busy: another mentor process is writing it",
                             hint="wait for it to finish (or stop it) and run the command again") from exc
    return lock


def _drop_stale_generations(index_dir: Path, keep: Path | None) -> None:
    """Under the lock, a generation that CURRENT does not name is the leftover of a failed or killed rebuild."""
    for old in index_dir.glob("gen-*"):
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)


@dataclass
class _Work:
    source: str
    files: list[tuple[str, str, int, int]] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    to_embed: list[Chunk] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)


class _Engines:
    """Lazy access to the embedder and the vector stores of one generation.

    Lazily, so that a no-op re-index never loads torch or opens the vector store.
    """

    repo: Path
    settings: Settings
    gen: Path
    embedder_id: str
    _embedder: Any
    _client: Any
    _stores: dict[str, Any]

    def embedder(self) -> Any:
        if self._embedder is None:
            from mentor_local.wiring import make_embedder

            self._embedder = make_embedder(self.settings, self.embedder_id)
        return self._embedder

    def close_vectors(self) -> None:
        """Release the vector store client: a client that failed mid-write (a full disk) must not be reused."""
        client, self._client, self._stores = self._client, None, {}
        if client is not None and hasattr(client, "close"):
            try:
                client.close()
            except Exception as exc:  # best effort: the next open builds a fresh client either way
                log.debug("closing the vector client failed: %s", exc)

    def store(self, source: str) -> Any:
        if source not in self._stores:
            from mentor_local.wiring import make_vector_client, make_vector_store

            if self._client is None:
                self._client = make_vector_client(self.settings, self.gen / "chroma")
            self._stores[source] = make_vector_store(self._client, _collection_name(self.repo, self.gen, source))
        return self._stores[source]


def _wanted_meta(embedder_id: str) -> dict[str, str]:
    return {"embedder": embedder_id, "dimension": str(EMBEDDER_DIM), "chunker": chunker_version(),
            "schema": SCHEMA_VERSION}


def _check_meta(catalog: Catalog, index_dir: Path, settings: Settings) -> tuple[dict[str, str | None], str]:
    """Refuse an index made by another embedder, dimension, chunker or schema.

    Returns what the index records and the embedder id to use with it: the one that built it when
    the ``embedder`` setting is ``auto`` (an index is always searched with its own embedder), else
    the one the setting names, which must then match.
    """
    from mentor_local.embedding import EMBEDDER_IDS
    from mentor_local.wiring import embedder_id_for

    try:
        have = {k: catalog.get_meta(k) for k in _wanted_meta("")}
    except Exception as exc:
        raise IndexCorruptError(f"the index in {index_dir} cannot be read: {exc}",
                                hint="run 'mentor index PATH --rebuild'") from exc
    built_with = have["embedder"]
    if settings.embedder == "auto" and built_with in EMBEDDER_IDS:
        embedder_id = built_with
    else:
        embedder_id = embedder_id_for(settings)
    if all(v is None for v in have.values()):
        return have, embedder_id
    want = _wanted_meta(embedder_id)
    diff = [f"{k} {have[k]!r} (now {want[k]!r})" for k in want if have[k] != want[k]]
    if diff:
        raise IndexMismatchError(f"the index in {index_dir} was made with a different " + ", ".join(diff),
                                 hint="run 'mentor index PATH --rebuild' to rebuild it")
    return have, embedder_id


class _LazyEmbedder:
    """Loads the model only when the cache misses, so a cached rebuild never loads torch."""

    def __init__(self, builder: _Builder) -> None:
        self.builder = builder

    def embed(self, texts: list[str]) -> list[list[float]]:
        result: list[list[float]] = self.builder.embedder().embed(texts)
        return result


class _Builder(_Engines):
    def __init__(self, repo: Path, index_dir: Path, settings: Settings, progress: Progress | None,
                 embedder: Any = None) -> None:
        self.repo = repo
        self.index_dir = index_dir
        self.settings = settings
        self.progress = progress or (lambda stage, done, total: None)
        self._embedder = embedder
        self._injected = embedder is not None
        self._client = None
        self._stores = {}
        self.embedded = 0
        self.embedder_id = ""  # set by check_meta, from the index or the settings
        self.deleted = 0
        self.gen: Path = index_dir
        self._cached: Any = None

    def check_meta(self, catalog: Catalog) -> None:
        have, self.embedder_id = _check_meta(catalog, self.index_dir, self.settings)
        if all(v is None for v in have.values()):
            catalog.set_meta({**_wanted_meta(self.embedder_id), "repo": str(self.repo),
                              "created": datetime.now(UTC).isoformat()})

    def recover(self, catalog: Catalog) -> None:
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

    def cached_embedder(self) -> Any:
        if self._cached is None:
            from mentor_local.paths import app_home
            from mentor_local.store.embed_cache import CachedEmbedder, EmbeddingCache

            # the seed holds the bundled embedder's vectors: never for an injected (test or custom) embedder,
            # whose vectors are cached under its own id
            seed = None if self._injected else card_seed_path()
            key = str(getattr(self._embedder, "model_id", self.embedder_id)) if self._injected else self.embedder_id
            cache = EmbeddingCache(app_home(self.settings.home) / "cache" / "embeddings.sqlite", key, seed)
            self._cached = CachedEmbedder(_LazyEmbedder(self), cache)
        return self._cached

    def check_space(self, work: _Work) -> None:
        """Stop before a batch that the disk cannot hold (see the module docstring)."""
        need = SPARE_BYTES + TEXT_FACTOR * sum(len(c.text) + len(c.embed_text) for c in work.chunks)
        if not self.settings.chroma_url:
            chroma = self.gen / "chroma"
            held = sum(p.stat().st_size for p in chroma.rglob("*") if p.is_file()) if chroma.is_dir() else 0
            need += VECTOR_BYTES * len(work.to_embed) + held // 4  # hnswlib grows its files by a fifth at a time
        free = shutil.disk_usage(self.gen).free
        if free < need:
            raise DiskFullError(
                f"the disk holding {self.index_dir} is nearly full ({free >> 20} MB free, the next batch needs about "
                f"{need >> 20} MB); indexing stopped before writing it",
                hint="free some space and run 'mentor index' again — the index keeps every batch finished so far "
                     "and still answers searches")

    def flush(self, catalog: Catalog, work: _Work) -> None:
        if not work.files:
            return
        self.check_space(work)
        if work.to_embed:
            vectors = self.cached_embedder().embed([c.embed_text for c in work.to_embed])
            ids = [c.chunk_id for c in work.to_embed]
            catalog.add_pending(ids, work.source, "add")
            metas = [{"path": c.path, "kind": c.kind, "source": c.source} for c in work.to_embed]
            self.store(work.source).upsert(ids, vectors, metas)
            self.embedded += len(ids)
        catalog.commit_files(work.source, work.files, work.chunks, work.stale,
                             [c.chunk_id for c in work.to_embed])
        if work.stale:
            self.store(work.source).delete(work.stale)
            catalog.clear_pending(work.stale)
            self.deleted += len(work.stale)
        work.files, work.chunks, work.to_embed, work.stale = [], [], [], []

    def sync(self, catalog: Catalog, source: str, files: list[tuple[str, Path, int, int]],
             chunker: Callable[[str, str], list[Chunk]], skipped: list[SkippedFile]) -> int:
        """Bring one source up to date; return the number of files (re)indexed."""
        from mentor_local.indexing.discover import read_text
        from mentor_local.security import clean

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
        work = _Work(source)
        total = len(changed)
        for n, (rel, _path, size, mtime, digest, text) in enumerate(changed):
            try:
                chunks = chunker(rel, text)
            except Exception as exc:  # one broken file must not stop the run
                skipped.append(SkippedFile(rel, f"could not be chunked: {type(exc).__name__}: {exc}"))
                continue
            new_ids = {c.chunk_id for c in chunks}
            before = old_ids.get(rel, set())
            work.files.append((rel, digest, size, mtime))
            work.chunks.extend(chunks)
            work.to_embed.extend(c for c in chunks if c.chunk_id not in before)
            work.stale.extend(sorted(before - new_ids))
            if len(work.to_embed) >= BATCH_CHUNKS or len(work.files) >= 500:
                self.flush(catalog, work)
            self.progress(f"index {source}", n + 1, total)
        self.flush(catalog, work)
        return total


def _knowledge_files() -> tuple[list[tuple[str, Path, int, int]], Callable[[str, str], list[Chunk]]]:
    from mentor_local.indexing.cards import chunk_card
    from mentor_local.knowledge import parse_card
    from mentor_local.paths import knowledge_dir

    root = knowledge_dir()
    files: list[tuple[str, Path, int, int]] = []
    if root.is_dir():
        for p in sorted(root.glob("*.md")):
            if p.name.lower() == "readme.md" or not p.is_file():
                continue
            st = p.stat()
            files.append((f"knowledge/{p.name}", p, st.st_size, st.st_mtime_ns))

    def chunker(rel: str, text: str) -> list[Chunk]:
        card = parse_card(root / rel.split("/", 1)[1], rel)
        return chunk_card(card, text)

    return files, chunker


def card_seed_path() -> Path:
    from mentor_local.paths import models_dir

    return models_dir() / "embeddings-seed.sqlite"


def prepare_card_vectors(path: Path | None = None, embedder: Any = None) -> tuple[Path, int, bool]:
    """Embed the pattern cards once (``make setup``) into the seed; ``(path, texts, built)``.

    The texts are made exactly as indexing makes them (read, cleaned, chunked), so an index's
    lookups hit. Nothing is embedded when the seed already holds them all.
    """
    from mentor_local.indexing.discover import read_text
    from mentor_local.security import clean
    from mentor_local.store.embed_cache import seed_has, write_seed
    from mentor_local.wiring import embedder_id_for, make_embedder

    path = path or card_seed_path()
    files, chunker = _knowledge_files()
    texts: set[str] = set()
    for rel, p, _, _ in files:
        text, _reason = read_text(p)
        if text is not None:
            texts.update(c.embed_text for c in chunker(rel, clean(text)[0]))
    ordered = sorted(texts)
    settings = load_settings()
    embedder_id = str(getattr(embedder, "model_id", "") or embedder_id_for(settings))
    if seed_has(path, embedder_id, ordered):
        return path, len(ordered), False
    if embedder is None:
        embedder = make_embedder(settings, embedder_id)
    write_seed(path, embedder_id, ordered, embedder.embed(ordered))
    return path, len(ordered), True


def _code_chunker(rel: str, text: str) -> list[Chunk]:
    from mentor_local.indexing.chunk_python import chunk_python
    from mentor_local.indexing.chunk_text import chunk_text

    if rel.endswith((".py", ".pyi")):
        return chunk_python(rel, text)
    return chunk_text(rel, text)


def build_index(repo: str | Path, index_dir: str | Path | None = None, progress: Progress | None = None, *,
                settings: Settings | None = None, rebuild: bool = False, embedder: Any = None) -> IndexReport:
    """Index ``repo`` (and the pattern library); only what changed is re-embedded."""
    t0 = time.perf_counter()
    root = _check_repo(repo)
    settings = settings or load_settings(root)
    idir = resolve_index_dir(root, index_dir, settings)
    lock = _lock(idir)
    try:
        return _build_locked(root, idir, settings, progress, rebuild, embedder, t0)
    finally:
        lock.release()


def _build_locked(root: Path, idir: Path, settings: Settings, progress: Progress | None, rebuild: bool,
                  embedder: Any, t0: float) -> IndexReport:
    from mentor_local.indexing.discover import discover

    current = _current_gen_quiet(idir) if rebuild else _current_gen(idir)
    live = None if rebuild else current
    _drop_stale_generations(idir, current)
    gen: Path | None = None
    b = _Builder(root, idir, settings, progress, embedder)
    try:
        if live is None:
            # A fresh, never-reused name: Chroma caches clients per path within a process, so
            # reusing the name of a deleted generation would hand back a stale client.
            gen = idir / f"gen-{time.time_ns():x}-{os.getpid()}"
            gen.mkdir(parents=True)
        else:
            gen = live
        b.gen = gen
        catalog = Catalog(gen / "catalog.sqlite")
        try:
            b.check_meta(catalog)
            b.recover(catalog)
            b.progress("discover", 0, 1)
            found, skipped = discover(root, settings.max_file_bytes)
            files = [(f.path, f.abspath, f.size, f.mtime_ns) for f in found]
            changed = b.sync(catalog, "code", files, _code_chunker, skipped)
            kfiles, kchunker = _knowledge_files()
            b.sync(catalog, "knowledge", kfiles, kchunker, skipped)
            cache_hits = 0
            if b._cached is not None:
                cache_hits = b._cached.cache.hits
                b._cached.cache.close()
            catalog.set_meta({"last_indexed": datetime.now(UTC).isoformat(), "repo": str(root)})
            counts = catalog.counts()
        finally:
            catalog.close()
            b.close_vectors()
        if live is None:
            _swap_current(idir, gen)
            _drop_stale_generations(idir, gen)
        b.progress("done", 1, 1)
        return IndexReport(
            repo=str(root), files_seen=len(found) + sum(1 for s in skipped if not s.path.endswith("/")),
            files_indexed=changed, files_skipped=len(skipped), chunks_total=counts["code_chunks"],
            chunks_embedded=b.embedded, chunks_deleted=b.deleted, seconds=round(time.perf_counter() - t0, 3),
            skipped=skipped, knowledge_chunks=counts["knowledge_chunks"], index_dir=str(idir),
            embeddings_from_cache=cache_hits,
        )
    except BaseException as exc:
        full = isinstance(exc, Exception) and _out_of_space(exc, idir)  # before the clean-up frees space
        b.close_vectors()
        if gen is not None and gen != live:
            shutil.rmtree(gen, ignore_errors=True)  # a half-built generation is never kept
        if not full:
            raise
        if live is not None:
            _recover_quietly(b, live)
        if isinstance(exc, DiskFullError):
            raise
        raise DiskFullError(f"the disk holding {idir} filled up while indexing; indexing stopped",
                            hint="free some space and run 'mentor index' again (if a search then fails, "
                                 "'mentor index --rebuild')") from exc


def _quick_check_file(path: Path) -> str:
    import sqlite3

    from mentor_local.store.keyword import quick_check

    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        return quick_check(db)
    finally:
        db.close()


def _out_of_space(exc: Exception, index_dir: Path) -> bool:
    """ENOSPC by name, or a failed write with the disk (nearly) full: Chroma words some of them vaguely."""
    if is_disk_full(exc):
        return True
    try:
        return shutil.disk_usage(index_dir).free < (1 << 20)
    except OSError:
        return False


def _current_gen_quiet(index_dir: Path) -> Path | None:
    try:
        return _current_gen(index_dir)
    except IndexCorruptError:
        return None


def _recover_quietly(b: _Builder, gen: Path) -> None:
    """Drop the unfinished batch's vectors, so the live index is exactly the last complete one."""
    try:
        catalog = Catalog(gen / "catalog.sqlite")
        try:
            b.recover(catalog)
        finally:
            catalog.close()
            b.close_vectors()
    except Exception as exc:  # the next run reconciles what is left (see the pending table)
        log.debug("recovery after a full disk failed: %s", exc)


class Index(_Engines):
    """A read-only view of an index: hybrid search over code and pattern cards."""

    def __init__(self, repo: Path, index_dir: Path, gen: Path, settings: Settings, embedder: Any = None) -> None:
        self.repo = repo
        self.index_dir = index_dir
        self.settings = settings
        self.gen = gen
        self.catalog = Catalog(gen / "catalog.sqlite", readonly=True)
        self._embedder = embedder
        self._client = None
        self._stores = {}
        self._check()

    def _check(self) -> None:
        have, self.embedder_id = _check_meta(self.catalog, self.index_dir, self.settings)
        if all(v is None for v in have.values()):
            raise IndexCorruptError(f"the index in {self.index_dir} has no metadata (an interrupted first build?)",
                                    hint="run 'mentor index PATH' again")
        # Damaged pages are found here, at open, not by whichever query first reads them.
        problems = {"catalog.sqlite": self.catalog.quick_check()}
        chroma_db = self.gen / "chroma" / "chroma.sqlite3"
        if not self.settings.chroma_url and chroma_db.is_file():
            problems["chroma/chroma.sqlite3"] = _quick_check_file(chroma_db)
        bad = {k: v for k, v in problems.items() if v != "ok"}
        if bad:
            detail = "; ".join(f"{k}: {v[:200]}" for k, v in bad.items())
            raise IndexCorruptError(f"the index in {self.index_dir} is damaged ({detail})",
                                    hint="run 'mentor index PATH --rebuild'")

    def search(self, query: str, k: int = 10, source: str = "all") -> list[Hit]:
        from mentor_local.retrieval import hybrid_search

        return hybrid_search(self, query, k=k, source=source)

    def status(self) -> dict[str, Any]:
        """Files, chunks, when it was last indexed, and how many files changed since."""
        from mentor_local.indexing.discover import discover

        counts = self.catalog.counts()
        known = self.catalog.files("code")
        found, _ = discover(self.repo, self.settings.max_file_bytes)
        stale = sum(1 for f in found if known.get(f.path, ("", -1, -1))[1:] != (f.size, f.mtime_ns))
        stale += len(set(known) - {f.path for f in found})
        return {"files": counts["code_files"], "chunks": counts["code_chunks"],
                "knowledge_chunks": counts["knowledge_chunks"], "last_indexed": self.catalog.get_meta("last_indexed"),
                "stale_files": stale, "index_dir": str(self.index_dir)}

    def close(self) -> None:
        self.catalog.close()
        self.close_vectors()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_index(repo: str | Path, index_dir: str | Path | None = None, settings: Settings | None = None,
               embedder: Any = None) -> Index:
    root = _check_repo(repo)
    settings = settings or load_settings(root)
    idir = resolve_index_dir(root, index_dir, settings)
    gen = _current_gen(idir)
    if gen is None:
        raise IndexMissingError(f"{root} has no index yet", hint=f"run 'mentor index {root}' first")
    return Index(root, idir, gen, settings, embedder)
