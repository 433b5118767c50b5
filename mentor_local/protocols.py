"""One-method seams between the services and the heavy adapters.

Only ``wiring`` chooses an implementation; services depend on these.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol


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


class ChatModel(Protocol):
    """Completes a prompt, yielding text pieces as they are made."""

    def complete(self, prompt: str, *, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]: ...
