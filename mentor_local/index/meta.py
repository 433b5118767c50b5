"""What an index records about how it was made, and the refusal of an index made another way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mentor_local.errors import IndexCorruptError, IndexMismatchError
from mentor_local.index.ports import IndexCatalog
from mentor_local.indexing.chunk_python import CHUNKER_VERSION
from mentor_local.store.keyword import SCHEMA_VERSION

EMBEDDER_DIM = 384


def chunker_version() -> str:
    return f"{CHUNKER_VERSION}+text-1+card-2+redact-1"


def wanted_meta(embedder_id: str) -> dict[str, str]:
    return {"embedder": embedder_id, "dimension": str(EMBEDDER_DIM), "chunker": chunker_version(),
            "schema": SCHEMA_VERSION}


def check_meta(catalog: IndexCatalog, index_dir: Path,
               pick_embedder: Callable[[str | None], str]) -> tuple[dict[str, str | None], str]:
    """Refuse an index made by another embedder, dimension, chunker or schema.

    Returns what the index records (all ``None`` for a new one) and the embedder id to use with it,
    which ``pick_embedder`` chooses from the id the index records; it must then match.
    """
    try:
        have = {k: catalog.get_meta(k) for k in wanted_meta("")}
    except Exception as exc:
        raise IndexCorruptError(f"the index in {index_dir} cannot be read: {exc}",
                                hint="run 'mentor index PATH --rebuild'") from exc
    embedder_id = pick_embedder(have["embedder"])
    if all(v is None for v in have.values()):
        return have, embedder_id
    want = wanted_meta(embedder_id)
    diff = [f"{k} {have[k]!r} (now {want[k]!r})" for k in want if have[k] != want[k]]
    if diff:
        raise IndexMismatchError(f"the index in {index_dir} was made with a different " + ", ".join(diff),
                                 hint="run 'mentor index PATH --rebuild' to rebuild it")
    return have, embedder_id
