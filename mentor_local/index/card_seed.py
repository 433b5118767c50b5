"""The card seed: the pattern cards' vectors, embedded once (``make setup``) so a first index need not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mentor_local.index.sources import knowledge_files
from mentor_local.indexing.discover import read_text
from mentor_local.paths import models_dir
from mentor_local.protocols import Embedder
from mentor_local.security import clean
from mentor_local.store.embed_cache import seed_has, write_seed


def card_seed_path() -> Path:
    return models_dir() / "embeddings-seed.sqlite"


def card_texts() -> list[str]:
    """Every text indexing embeds for the pattern cards, made exactly as indexing makes them (read, cleaned, chunked)."""
    files, chunker = knowledge_files()
    texts: set[str] = set()
    for rel, p, _, _ in files:
        text, _reason = read_text(p)
        if text is not None:
            texts.update(c.embed_text for c in chunker(rel, clean(text)[0]))
    return sorted(texts)


def write_card_seed(path: Path, embedder_id: str, load_embedder: Callable[[], Embedder]) -> tuple[Path, int, bool]:
    """Embed the cards' texts into the seed at ``path``; ``(path, texts, built)``.

    Nothing is embedded (and ``load_embedder`` is not called) when the seed already holds them all.
    """
    texts = card_texts()
    if seed_has(path, embedder_id, texts):
        return path, len(texts), False
    write_seed(path, embedder_id, texts, load_embedder().embed(texts))
    return path, len(texts), True
