"""The one place that chooses adapters and imports the heavy libraries (lazily)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mentor_local.settings import Settings

_EMBEDDERS: dict[tuple[str, str], Any] = {}


def make_embedder(settings: Settings) -> Any:
    """The bundled sentence-transformers embedder, loaded once per process and device."""
    from mentor_local.embedding import SentenceTransformerEmbedder
    from mentor_local.models import embedder_path

    path = embedder_path()
    key = (str(path), settings.device)
    if key not in _EMBEDDERS:
        _EMBEDDERS[key] = SentenceTransformerEmbedder(path, settings.device)
    return _EMBEDDERS[key]


def make_vector_client(settings: Settings, local_path: Path) -> Any:
    from mentor_local.store.chroma import make_client

    return make_client(None if settings.chroma_url else local_path, settings.chroma_url)


def make_vector_store(client: Any, name: str) -> Any:
    from mentor_local.store.chroma import ChromaStore

    return ChromaStore(client, name)
