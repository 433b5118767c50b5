"""A deterministic hashing embedder: fast unit-level index runs with real Chroma and SQLite.

Use it only with an isolated app home (``Settings(home=...)``): the shared
embedding cache is keyed by the real embedder's id, and fake vectors must never land in it.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence

DIM = 384


class HashingEmbedder:
    """A ``protocols.Embedder``: words hashed into signed buckets, then normalised."""

    @property
    def model_id(self) -> str:
        return "hashing-test"

    @property
    def dimension(self) -> int:
        return DIM

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for text in texts:
            v = [0.0] * DIM
            for word in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                v[h % DIM] += 1.0 if h & 1 << 31 else -1.0
            norm = math.sqrt(sum(x * x for x in v)) or 1.0
            out.append([x / norm for x in v])
        return out
