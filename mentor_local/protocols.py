"""The seams between the services and the adapters that do the heavy work.

Services (``retrieval``, ``answer.mentor``) depend on these protocols; adapters (``embedding``,
``store``, ``answer.backends``) satisfy them; only ``wiring`` chooses which adapter a service gets.
``tests/answer/test_protocols.py`` checks statically (mypy) that every adapter and every test double fits.

===================  ==================================================================================
protocol             implemented by
===================  ==================================================================================
``Embedder``         ``embedding.OnnxInt8Embedder``, ``embedding.SentenceTransformerEmbedder``;
                     tests: ``tests.security.fakes.HashingEmbedder``
``VectorStore``      ``store.chroma.ChromaStore``
``KeywordIndex``     ``store.keyword.Catalog`` (SQLite FTS5)
``IndexCatalog``     ``store.keyword.Catalog``: a generation's manifest, rows, keyword index, pending ids
``VectorSpace``      ``store.chroma.ChromaVectors``: one generation's collections behind one client
``CachingEmbedder``  ``store.embed_cache.CachedEmbedder``
``HybridIndex``      ``index.Index``: what ``retrieval.hybrid_search`` reads
``Searchable``       ``index.Index``: what ``answer.mentor.Mentor`` reads; tests: ``tests.answer.fakes.FakeIndex``
``ChatModel``        ``answer.backends.worker.WorkerBackend`` (the default: the model in its own process),
                     ``answer.backends.llama.LlamaBackend`` (in this process),
                     ``answer.backends.openai_http.OpenAIHTTPBackend`` (a model server),
                     ``answer.backends.worker_child.FakeModel``; tests: ``tests.answer.fakes.ScriptedModel``
``PrefixPrimer``     ``WorkerBackend``, ``LlamaBackend``, ``FakeModel``: a local model that can keep the
                     persona's evaluated state on disk between processes
===================  ==================================================================================
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

from mentor_local.domain import Chunk, Hit

if TYPE_CHECKING:
    from mentor_local.settings import Settings

Message = dict[str, str]
"""One chat message: ``{"role": "system" | "user" | "assistant", "content": text}``."""

TokenStream = Generator[str, None, None]
"""The pieces of one generation; ``close()`` stops it (a backend cancels the generation then)."""


def no_tokens() -> TokenStream:
    """An empty generation (no room left to answer)."""
    yield from ()


class Embedder(Protocol):
    """Turns texts into unit-length vectors."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class VectorStore(Protocol):
    """A collection of vectors keyed by chunk id (Chroma, embedded or remote)."""

    def upsert(
        self, ids: Sequence[str], vectors: Sequence[Sequence[float]], metadatas: Sequence[dict[str, Any]]
    ) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def query(self, vector: Sequence[float], k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]: ...

    def ids(self) -> set[str]: ...

    def count(self) -> int: ...


class KeywordIndex(Protocol):
    """Keyword search over the chunks and the chunks' own rows (SQLite FTS5)."""

    def keyword_search(self, query: str, k: int, source: str | None) -> list[tuple[str, float]]: ...

    def chunk_rows(self, ids: Sequence[str]) -> Mapping[str, Mapping[str, Any]]:
        """Each chunk's row (``id, path, start_line, end_line, symbol, kind, source, qualname, text, meta``)."""
        ...


class IndexCatalog(KeywordIndex, Protocol):
    """One generation's manifest, chunk rows, keyword index and pending vector ids (``store.keyword.Catalog``)."""

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, values: dict[str, str]) -> None: ...

    def files(self, source: str) -> dict[str, tuple[str, int, int]]: ...

    def touch_file(self, path: str, size: int, mtime_ns: int) -> None: ...

    def chunk_ids(self, paths: Iterable[str]) -> dict[str, set[str]]: ...

    def all_chunk_ids(self, source: str) -> set[str]: ...

    def add_pending(self, ids: Sequence[str], source: str, op: str) -> None: ...

    def pending(self) -> list[tuple[str, str, str]]: ...

    def clear_pending(self, ids: Sequence[str] | None = None) -> None: ...

    def commit_files(self, source: str, files: Sequence[tuple[str, str, int, int]], chunks: Sequence[Chunk],
                     stale_ids: Sequence[str], added_ids: Sequence[str]) -> None: ...

    def remove_files(self, paths: Sequence[str], source: str) -> list[str]: ...

    def keyword_search(self, query: str, k: int, source: str | None) -> list[tuple[str, float]]: ...

    def chunk_rows(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    def counts(self) -> dict[str, int]: ...

    def quick_check(self) -> str: ...

    def close(self) -> None: ...


class VectorSpace(Protocol):
    """The vector collections of one generation, behind one client (``store.chroma.ChromaVectors``)."""

    def collection(self, name: str) -> VectorStore: ...

    def close(self) -> None: ...


class CachingEmbedder(Protocol):
    """An embedder behind the shared embedding cache (``store.embed_cache.CachedEmbedder``)."""

    @property
    def hits(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...

    def close(self) -> None: ...


class HybridIndex(Protocol):
    """What hybrid search reads of an index: its embedder, its vector stores, its keyword index, its settings."""

    @property
    def catalog(self) -> KeywordIndex: ...

    @property
    def settings(self) -> Settings: ...

    def embedder(self) -> Embedder: ...

    def store(self, source: str) -> VectorStore: ...


class Searchable(Protocol):
    """What the mentor reads of an index: the repo it covers and a search over it."""

    @property
    def repo(self) -> Path: ...

    def search(self, query: str, k: int = 10, source: str = "all") -> list[Hit]: ...


class ChatModel(Protocol):
    """An instruction-tuned model that streams a chat turn through its own chat template.

    Every member is required; a backend for which one means nothing implements it trivially
    (a model loaded in this process is ready at once, and so ``wait_ready`` returns at once).
    """

    @property
    def n_ctx(self) -> int:
        """The context window in tokens: prompt and answer together."""
        ...

    @property
    def chat_template(self) -> bool:
        """Whether the model has a chat template (the mentor refuses a model without one)."""
        ...

    def info(self) -> dict[str, object]:
        """``path, chat_template, n_ctx, gpu_layers`` and whatever else the backend can tell (``Answer.model``)."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the model's own tokenizer, or a cautious estimate where there is none."""
        ...

    def chat(self, messages: Sequence[Message], *, max_tokens: int, stop: Sequence[str] = ()) -> TokenStream:
        """Stream the answer to ``messages``; closing the stream stops the generation."""
        ...

    def wait_ready(self) -> Self:
        """Block until the model is loaded (raises its ``ModelError`` if it cannot be)."""
        ...

    def close(self) -> None:
        """Release what the model holds (a process, a connection); a later call may start it again."""
        ...


@runtime_checkable
class PrefixPrimer(Protocol):
    """A model that can read a prompt's opening ahead of time and keep that state on disk."""

    def prime(self, messages: Sequence[Message], cache_dir: str | None = None) -> bool:
        """Read ``messages`` into the model's cache; ``True`` when a state saved in ``cache_dir`` was used."""
        ...
