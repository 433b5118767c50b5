"""The full-disk guard.

Chroma's HNSW files are not written atomically, and a write that meets ENOSPC can
leave them unreadable. So no batch is written unless the disk has room for it (a
generous estimate, the HNSW files' next growth, and ``SPARE_BYTES``); short of that
the run stops with ``DiskFullError`` before writing, and the index stays as the
last committed batch left it — consistent, searchable, and finished by the next run.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mentor_local.domain import Chunk
from mentor_local.errors import DiskFullError, is_disk_full
from mentor_local.index.generations import VECTOR_DIR

SPARE_BYTES = 8 << 20  # a batch is written only when the disk has room for it with this much to spare
VECTOR_BYTES = 8 << 10  # per vector: Chroma's log row, its WAL copy and the HNSW node, generously
TEXT_FACTOR = 5  # catalog bytes per byte of chunk text: row, FTS5 index, journal


@dataclass(frozen=True)
class DiskGuard:
    """How much room a batch needs: ``spare_bytes`` + ``text_factor`` × its text + ``vector_bytes`` per vector."""

    spare_bytes: int = SPARE_BYTES
    vector_bytes: int = VECTOR_BYTES
    text_factor: int = TEXT_FACTOR

    def check(self, gen: Path, index_dir: Path, chunks: Sequence[Chunk], to_embed: int, local_vectors: bool) -> None:
        """Stop before a batch that the disk holding ``gen`` cannot hold."""
        need = self.spare_bytes + self.text_factor * sum(len(c.text) + len(c.embed_text) for c in chunks)
        if local_vectors:
            vectors = gen / VECTOR_DIR
            held = sum(p.stat().st_size for p in vectors.rglob("*") if p.is_file()) if vectors.is_dir() else 0
            need += self.vector_bytes * to_embed + held // 4  # hnswlib grows its files by a fifth at a time
        free = shutil.disk_usage(gen).free
        if free < need:
            raise DiskFullError(
                f"the disk holding {index_dir} is nearly full ({free >> 20} MB free, the next batch needs about "
                f"{need >> 20} MB); indexing stopped before writing it",
                hint="free some space and run 'mentor index' again — the index keeps every batch finished so far "
                     "and still answers searches")


def out_of_space(exc: Exception, index_dir: Path) -> bool:
    """ENOSPC by name, or a failed write with the disk (nearly) full: Chroma words some of them vaguely."""
    if is_disk_full(exc):
        return True
    try:
        return shutil.disk_usage(index_dir).free < (1 << 20)
    except OSError:
        return False
