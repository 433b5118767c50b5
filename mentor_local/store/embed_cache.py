"""A content-addressed cache of embeddings, shared by every index on this machine.

Keyed by the embedder id and the exact text, so a hit is always the vector the
embedder would return.  It makes ``--rebuild``, a chunker upgrade and the
pattern library of a second repo cost a lookup instead of a model run.

A read-only *seed* beside it (``models/embeddings-seed.sqlite``, written by
``make setup``) holds the pattern cards' vectors, so even the first index on a
machine does not embed our own library again.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from array import array
from collections.abc import Sequence
from pathlib import Path

from mentor_local.protocols import Embedder


def cache_key(embedder_id: str, text: str) -> str:
    h = hashlib.sha256(embedder_id.encode())
    h.update(b"\0")
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:40]


def _lookup(db: sqlite3.Connection, keys: Sequence[str]) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for i in range(0, len(keys), 500):
        part = list(keys[i:i + 500])
        marks = ",".join("?" * len(part))
        for key, blob in db.execute(f"SELECT key, v FROM vec WHERE key IN ({marks})", part):  # noqa: S608
            found[key] = array("f", blob).tolist()
    return found


def write_seed(path: Path, embedder_id: str, texts: Sequence[str], vectors: Sequence[Sequence[float]]) -> None:
    """Write a seed file whole (a temporary file renamed into place): never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    try:
        db.execute("CREATE TABLE vec(key TEXT PRIMARY KEY, v BLOB NOT NULL)")
        db.executemany("INSERT OR REPLACE INTO vec(key, v) VALUES(?, ?)",
                       [(cache_key(embedder_id, t), array("f", v).tobytes())
                        for t, v in zip(texts, vectors, strict=True)])
        db.commit()
    finally:
        db.close()
    os.replace(tmp, path)


def seed_has(path: Path, embedder_id: str, texts: Sequence[str]) -> bool:
    """Whether the seed at ``path`` holds a vector for every one of ``texts``."""
    if not path.is_file():
        return False
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return len(_lookup(db, [cache_key(embedder_id, t) for t in texts])) == len(set(texts))
        finally:
            db.close()
    except sqlite3.Error:
        return False


class EmbeddingCache:
    def __init__(self, path: Path, embedder_id: str, seed: Path | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.embedder_id = embedder_id
        self.db = sqlite3.connect(path, timeout=10, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS vec(key TEXT PRIMARY KEY, v BLOB NOT NULL)")
        self.db.commit()
        self.hits = 0
        self.misses = 0
        self.seed: sqlite3.Connection | None = None
        if seed is not None and seed.is_file():
            try:
                self.seed = sqlite3.connect(f"file:{seed}?mode=ro", uri=True, check_same_thread=False)
                self.seed.execute("SELECT 1 FROM vec LIMIT 1")
            except sqlite3.Error:  # a damaged seed only costs the shortcut: the texts get embedded
                self.seed = None

    def _key(self, text: str) -> str:
        return cache_key(self.embedder_id, text)

    def get_many(self, texts: Sequence[str]) -> list[list[float] | None]:
        keys = [self._key(t) for t in texts]
        found = _lookup(self.db, keys)
        if self.seed is not None:
            rest = [k for k in dict.fromkeys(keys) if k not in found]
            if rest:
                try:
                    found.update(_lookup(self.seed, rest))
                except sqlite3.Error:
                    pass  # a damaged seed only costs the shortcut
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
        if self.seed is not None:
            self.seed.close()


class CachedEmbedder:
    """Wraps an embedder: cached texts are looked up, the rest embedded and stored."""

    def __init__(self, inner: Embedder, cache: EmbeddingCache) -> None:
        self.inner = inner
        self.cache = cache

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def hits(self) -> int:
        """Texts whose vector came from the cache (or its seed) so far."""
        return self.cache.hits

    def close(self) -> None:
        self.cache.close()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        cached = self.cache.get_many(texts)
        missing = [i for i, v in enumerate(cached) if v is None]
        if missing:
            fresh = self.inner.embed([texts[i] for i in missing])
            self.cache.put_many([texts[i] for i in missing], fresh)
            for i, v in zip(missing, fresh, strict=True):
                cached[i] = list(v)
        return [v for v in cached if v is not None]
