"""A content-addressed cache of embeddings, shared by every index on this machine.

Keyed by the embedder id and the exact text, so a hit is always the vector the
embedder would return.  It makes ``--rebuild``, a chunker upgrade and the
pattern library of a second repo cost a lookup instead of a model run.
"""

from __future__ import annotations

import hashlib
import sqlite3
from array import array
from collections.abc import Sequence
from pathlib import Path


class EmbeddingCache:
    def __init__(self, path: Path, embedder_id: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.embedder_id = embedder_id
        self.db = sqlite3.connect(path, timeout=10, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS vec(key TEXT PRIMARY KEY, v BLOB NOT NULL)")
        self.db.commit()
        self.hits = 0
        self.misses = 0

    def _key(self, text: str) -> str:
        h = hashlib.sha256(self.embedder_id.encode())
        h.update(b"\0")
        h.update(text.encode("utf-8", "surrogatepass"))
        return h.hexdigest()[:40]

    def get_many(self, texts: Sequence[str]) -> list[list[float] | None]:
        keys = [self._key(t) for t in texts]
        found: dict[str, list[float]] = {}
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            marks = ",".join("?" * len(part))
            for key, blob in self.db.execute(f"SELECT key, v FROM vec WHERE key IN ({marks})", part):  # noqa: S608
                found[key] = array("f", blob).tolist()
        out = [found.get(k) for k in keys]
        n = sum(1 for v in out if v is not None)
        self.hits += n
        self.misses += len(out) - n
        return out

    def put_many(self, texts: Sequence[str], vectors: Sequence[Sequence[float]]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO vec(key, v) VALUES(?, ?)",
                                [(self._key(t), array("f", v).tobytes()) for t, v in zip(texts, vectors, strict=True)])

    def close(self) -> None:
        self.db.close()


class CachedEmbedder:
    """Wraps an embedder: cached texts are looked up, the rest embedded and stored."""

    def __init__(self, inner: object, cache: EmbeddingCache) -> None:
        self.inner = inner
        self.cache = cache

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        cached = self.cache.get_many(texts)
        missing = [i for i, v in enumerate(cached) if v is None]
        if missing:
            fresh = self.inner.embed([texts[i] for i in missing])  # type: ignore[attr-defined]
            self.cache.put_many([texts[i] for i in missing], fresh)
            for i, v in zip(missing, fresh, strict=True):
                cached[i] = list(v)
        return [v for v in cached if v is not None]
