"""Lazy access to the embedder and the vector stores of one generation, shared by the builder and the reader."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from mentor_local.index.generations import VECTOR_DIR, collection_name
from mentor_local.index.meta import EMBEDDER_DIM
from mentor_local.index.ports import IndexAdapters, VectorSpace
from mentor_local.protocols import Embedder, VectorStore

log = logging.getLogger(__name__)


class Engines:
    """The embedder and the vector stores of one generation, each made on first use.

    Lazily, so that a no-op re-index never loads torch or opens the vector store.
    """

    def __init__(self, repo: Path, gen: Path, adapters: IndexAdapters, embedder_id: str = "") -> None:
        self.repo = repo
        self.gen = gen
        self.adapters = adapters
        self.embedder_id = embedder_id
        """The id of the embedder this index is searched with (set once the index's metadata is read)."""
        self._embedder: Embedder | None = None
        self._vectors: VectorSpace | None = None
        self._stores: dict[str, VectorStore] = {}

    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self.adapters.load_embedder(self.embedder_id)
        return self._embedder

    def store(self, source: str) -> VectorStore:
        if source not in self._stores:
            if self._vectors is None:
                self._vectors = self.adapters.open_vectors(self.gen / VECTOR_DIR)
            self._stores[source] = self._vectors.collection(collection_name(self.repo, self.gen, source))
        return self._stores[source]

    def close_vectors(self) -> None:
        """Release the vector store client: a client that failed mid-write (a full disk) must not be reused."""
        vectors, self._vectors, self._stores = self._vectors, None, {}
        if vectors is not None:
            try:
                vectors.close()
            except Exception as exc:  # best effort: the next open builds a fresh client either way
                log.debug("closing the vector client failed: %s", exc)


class LazyEmbedder:
    """The engines' embedder, loaded only when a text must be embedded (a cached rebuild never loads torch)."""

    def __init__(self, engines: Engines) -> None:
        self.engines = engines

    @property
    def model_id(self) -> str:
        return self.engines.embedder_id

    @property
    def dimension(self) -> int:
        return EMBEDDER_DIM

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self.engines.embedder().embed(texts)
