"""What the builder and the reader are given, never build: the catalog, the vector stores, the embedder.

``wiring.index_adapters`` chooses the implementations; their protocols are in ``mentor_local.protocols``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mentor_local.protocols import CachingEmbedder, Embedder, IndexCatalog, VectorSpace

__all__ = ["CachingEmbedder", "IndexAdapters", "IndexCatalog", "VectorSpace"]


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
