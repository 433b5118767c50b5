"""Vectors in Chroma: embedded (``PersistentClient``) or a server (``HttpClient``).

Always our own vectors (``embedding_function=None``: Chroma's default function
would download a model), telemetry off, batches within the client's limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mentor_local.errors import BackendError, ConfigError, DiskFullError, IndexCorruptError, is_disk_full


def _settings() -> Any:
    from chromadb.config import Settings

    # _env_file=None: chromadb's Settings would otherwise read a .env file in the working directory
    # (the user's repo), where CHROMA_API_IMPL could turn the embedded store into a network client.
    return Settings(_env_file=None, anonymized_telemetry=False, allow_reset=False, is_persistent=True)  # type: ignore[call-arg]


def make_client(path: Path | None, url: str | None) -> Any:
    from mentor_local import offline

    offline.apply()
    import chromadb

    if url:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ConfigError(f"bad Chroma URL {url!r}", hint="use http://HOST:PORT")
        try:
            from chromadb.config import Settings

            return chromadb.HttpClient(
                host=parsed.hostname, port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                settings=Settings(_env_file=None, anonymized_telemetry=False),  # type: ignore[call-arg]
            )
        except Exception as exc:
            raise BackendError(f"cannot reach the Chroma server at {url}: {exc}",
                               hint="start it with 'chroma run --path DIR --host HOST --port PORT' or drop --chroma-url") from exc
    assert path is not None
    try:
        return chromadb.PersistentClient(path=str(path), settings=_settings())
    except Exception as exc:
        if is_disk_full(exc):  # Chroma writes when it opens, even to read
            raise DiskFullError(f"the disk holding {path} is full, so the vector store cannot open",
                                hint="free some space and run the command again; the index itself is intact") from exc
        raise IndexCorruptError(f"the vector store in {path} cannot be opened: {exc}",
                                hint="run 'mentor index PATH --rebuild'") from exc


class ChromaVectors:
    """The collections of one Chroma client (one generation's folder, or a server); closing releases the client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def collection(self, name: str) -> ChromaStore:
        return ChromaStore(self.client, name)

    def close(self) -> None:
        self.client.close()


class ChromaStore:
    """One Chroma collection behind the ``VectorStore`` protocol."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name
        try:
            self.collection = client.get_or_create_collection(
                name=name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
            self.max_batch = int(client.get_max_batch_size())
        except Exception as exc:
            raise IndexCorruptError(f"the vector collection {name!r} cannot be opened: {exc}",
                                    hint="run 'mentor index PATH --rebuild'") from exc

    def upsert(self, ids: Sequence[str], vectors: Sequence[Sequence[float]],
               metadatas: Sequence[dict[str, Any]]) -> None:
        for i in range(0, len(ids), self.max_batch):
            self.collection.upsert(ids=list(ids[i:i + self.max_batch]),
                                   embeddings=[list(v) for v in vectors[i:i + self.max_batch]],
                                   metadatas=list(metadatas[i:i + self.max_batch]))

    def delete(self, ids: Sequence[str]) -> None:
        for i in range(0, len(ids), self.max_batch):
            self.collection.delete(ids=list(ids[i:i + self.max_batch]))

    def query(self, vector: Sequence[float], k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        n = self.count()
        if n == 0:
            return []
        res = self.collection.query(query_embeddings=[list(vector)], n_results=min(k, n), where=where,
                                    include=["distances"])
        ids = res["ids"][0]
        dists = (res.get("distances") or [[0.0] * len(ids)])[0]
        return [(i, 1.0 - float(d)) for i, d in zip(ids, dists, strict=False)]

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset = 0
        while True:
            got = self.collection.get(include=[], limit=self.max_batch, offset=offset)["ids"]
            out.update(got)
            if len(got) < self.max_batch:
                return out
            offset += len(got)

    def count(self) -> int:
        return int(self.collection.count())
