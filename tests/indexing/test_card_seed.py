"""The pattern cards' vectors are embedded once (make setup) and a first index takes them from that seed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

import mentor_local.index.card_seed as card_seed_mod
from mentor_local.domain import IndexReport
from mentor_local.index import EMBEDDER_DIM, build_index, open_index, prepare_card_vectors
from mentor_local.protocols import Embedder
from mentor_local.settings import Settings
from mentor_local.store.embed_cache import EmbeddingCache, seed_has
from mentor_local.wiring import embedder_id_for
from scripts.harness.sandbox import small_knowledge
from tests.conftest import make_repo
from tests.security.fakes import HashingEmbedder


class CountingEmbedder:
    """Embeds with ``inner`` and keeps every text it was asked for."""

    def __init__(self, inner: Embedder, model_id: str | None = None) -> None:
        self.inner = inner
        self.model_id = model_id or inner.model_id
        self.dimension = EMBEDDER_DIM
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.texts.extend(texts)
        return self.inner.embed(texts)


def test_seed_is_made_once_and_holds_every_card_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENTOR_KNOWLEDGE_DIR", str(small_knowledge(tmp_path / "cards")))
    seed = tmp_path / "seed.sqlite"
    emb = CountingEmbedder(HashingEmbedder(), embedder_id_for(Settings()))
    path, n, built = prepare_card_vectors(seed, embedder=emb)
    assert (path, built) == (seed, True) and n == len(emb.texts) > 3
    assert prepare_card_vectors(seed, embedder=emb)[2] is False  # current: nothing embedded again
    assert len(emb.texts) == n
    # a card edited: the seed no longer holds every text, so setup embeds again
    card = next((tmp_path / "cards").glob("*.md"))
    card.write_text(card.read_text() + "\n\nOne more closing sentence about the pattern.\n")
    assert not seed_has(seed, embedder_id_for(Settings()), ["One more closing sentence about the pattern."])
    assert prepare_card_vectors(seed, embedder=emb)[2] is True


def test_first_index_takes_card_vectors_from_the_seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real embedder: with the seed, the model embeds only code; results equal an index made without it."""
    from mentor_local.wiring import make_embedder

    monkeypatch.setenv("MENTOR_KNOWLEDGE_DIR", str(small_knowledge(tmp_path / "cards")))
    repo = make_repo(tmp_path / "repo")
    real = make_embedder(Settings())
    seed = tmp_path / "seed.sqlite"
    _, n_cards, _ = prepare_card_vectors(seed, embedder=real)

    counting = CountingEmbedder(real)
    monkeypatch.setattr("mentor_local.wiring.make_embedder", lambda settings, model_id=None: counting)
    queries = ("hash the password before storing it", "log without leaking secrets", "read settings from env")

    def index_and_search(name: str, seed_path: Path) -> tuple[IndexReport, list[list[tuple[str, int]]]]:
        monkeypatch.setattr(card_seed_mod, "card_seed_path", lambda: seed_path)
        st = Settings(home=tmp_path / f"home-{name}")  # an empty user cache each time
        report = build_index(repo, tmp_path / f"idx-{name}", settings=st)
        with open_index(repo, tmp_path / f"idx-{name}", st, embedder=real) as ix:
            return report, [[(h.path, h.start_line) for h in ix.search(q, k=6)] for q in queries]

    seeded, with_seed = index_and_search("seeded", seed)
    embedded_with_seed = list(counting.texts)
    counting.texts.clear()
    plain, without_seed = index_and_search("plain", tmp_path / "absent.sqlite")

    assert seeded.embeddings_from_cache == seeded.knowledge_chunks == n_cards  # every card vector from the seed
    assert len(embedded_with_seed) == seeded.chunks_total  # the model ran on the code only
    assert plain.embeddings_from_cache == 0 and len(counting.texts) == plain.chunks_total + n_cards
    assert with_seed == without_seed
    assert any(p.startswith("knowledge/") for hits in with_seed for p, _ in hits)


def test_a_damaged_seed_only_costs_the_shortcut(tmp_path: Path) -> None:
    seed = tmp_path / "seed.sqlite"
    seed.write_bytes(b"not a database at all" * 100)
    cache = EmbeddingCache(tmp_path / "cache.sqlite", "x", seed)
    assert cache.get_many(["a", "b"]) == [None, None]
    cache.close()
