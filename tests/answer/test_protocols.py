"""Every adapter and every test double satisfies its protocol.

The functions below are the check: mypy (``--strict`` over the tests) refuses a return whose type does not
fit the annotated protocol, so a backend that drops a member fails type-checking. The tests run the
cheap doubles through the same functions.
"""

from __future__ import annotations

from pathlib import Path

from mentor_local.answer.backends.llama import LlamaBackend
from mentor_local.answer.backends.openai_http import OpenAIHTTPBackend
from mentor_local.answer.backends.worker import WorkerBackend
from mentor_local.answer.backends.worker_child import FakeModel, ServedModel
from mentor_local.answer.compose import CardFacts, CardLike
from mentor_local.embedding import OnnxInt8Embedder, SentenceTransformerEmbedder
from mentor_local.index import Index
from mentor_local.knowledge import Card
from mentor_local.protocols import (
    ChatModel,
    Embedder,
    HybridIndex,
    KeywordIndex,
    PrefixPrimer,
    Searchable,
    VectorStore,
)
from mentor_local.store.chroma import ChromaStore
from mentor_local.store.keyword import Catalog
from tests.answer import fakes
from tests.security.fakes import HashingEmbedder


def chat_models(worker: WorkerBackend, llama: LlamaBackend, http: OpenAIHTTPBackend, fake: FakeModel,
                scripted: fakes.ScriptedModel) -> list[ChatModel]:
    return [worker, llama, http, fake, scripted]


def served_models(llama: LlamaBackend, fake: FakeModel) -> list[ServedModel]:
    return [llama, fake]


def prefix_primers(worker: WorkerBackend, llama: LlamaBackend, fake: FakeModel) -> list[PrefixPrimer]:
    return [worker, llama, fake]


def embedders(onnx: OnnxInt8Embedder, st: SentenceTransformerEmbedder, hashing: HashingEmbedder) -> list[Embedder]:
    return [onnx, st, hashing]


def vector_stores(chroma: ChromaStore) -> list[VectorStore]:
    return [chroma]


def keyword_indexes(catalog: Catalog) -> list[KeywordIndex]:
    return [catalog]


def hybrid_indexes(index: Index) -> list[HybridIndex]:
    return [index]


def searchables(index: Index, fake: fakes.FakeIndex) -> list[Searchable]:
    return [index, fake]


def cards(card: Card, fake: fakes.FakeCard) -> list[CardLike]:
    return [card, fake]


def test_the_doubles_fit_their_protocols(tmp_path: Path) -> None:
    model: ChatModel = fakes.ScriptedModel()
    assert model.wait_ready() is model and model.chat_template and model.n_ctx == 4096
    model.close()
    index: Searchable = fakes.FakeIndex(tmp_path)
    assert index.repo == tmp_path and index.search("orders", k=1)
    embedder: Embedder = HashingEmbedder()
    assert len(embedder.embed(["a b"])[0]) == embedder.dimension and embedder.model_id
    card: CardLike = fakes.cards()[0]
    assert CardFacts.from_card(card).id == card.id
