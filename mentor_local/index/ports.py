"""What the builder and the reader are given, never build: the catalog, the vector stores, the embedder.

``wiring.index_adapters`` chooses the implementations. The catalog and vector-space
protocols live here until ``protocols`` has seams for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mentor_local.domain import Chunk
from mentor_local.protocols import Embedder, VectorStore


class IndexCatalog(Protocol):
    """One generation's manifest, chunk rows, keyword index and pending vector ids (``store.keyword.Catalog``)."""

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, values: dict[str, str]) -> None: ...

    def files(self, source: str) -> dict[str, tuple[str, int, int]]: ...

    def touch_file(self, path: str, size: int, mtime_ns: int) -> None: ...

    def chunk_ids(self, paths: Iterable[str]) -> dict[str, set[str]]: ...

    def all_chunk_ids(self, source: str) -> set[str]: ...

    def add_pending(self, ids: Sequence[str], source: str, op: str) -> None: ...

    def pending(self) -> list[tuple[str, str, str]]: ...

    def clear_pending(self, ids: Sequence[str] | None = None) -> None: ...

    def commit_files(self, source: str, files: Sequence[tuple[str, str, int, int]], chunks: Sequence[Chunk],
                     stale_ids: Sequence[str], added_ids: Sequence[str]) -> None: ...

    def remove_files(self, paths: Sequence[str], source: str) -> list[str]: ...

    def keyword_search(self, query: str, k: int, source: str | None) -> list[tuple[str, float]]: ...

    def chunk_rows(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    def counts(self) -> dict[str, int]: ...

    def quick_check(self) -> str: ...

    def close(self) -> None: ...


class VectorSpace(Protocol):
    """The vector collections of one generation, behind one client (``store.chroma.ChromaVectors``)."""

    def collection(self, name: str) -> VectorStore: ...

    def close(self) -> None: ...


class CachingEmbedder(Protocol):
    """An embedder behind the shared embedding cache (``store.embed_cache.CachedEmbedder``)."""

    @property
    def hits(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class IndexAdapters:
    """The implementations one build or one open uses; each is called only when it is needed."""

    open_catalog: Callable[[Path, bool], IndexCatalog]
    """Open (``readonly``: for reading only) or create the catalog file at that path."""
    pick_embedder: Callable[[str | None], str]
    """The embedder id to use with an index that records that id (``None``: a new index)."""
    load_embedder: Callable[[str], Embedder]
    """The embedder with that id; loading a model is slow, so it is called only when a text must be embedded."""
    open_vectors: Callable[[Path], VectorSpace]
    """The vector store of the generation whose vector folder is given (a server may ignore the folder)."""
    cache_embeddings: Callable[[Embedder], CachingEmbedder]
    """That embedder behind the shared embedding cache, keyed by its id."""
    local_vectors: bool = True
    """Whether vectors live in the generation's folder (so its size and health can be checked there)."""
