"""Plain records shared by every layer (stdlib only).

All records are frozen dataclasses; their field names are the JSON keys of
``--json`` output and must stay stable.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

Source = Literal["code", "knowledge"]
SECTION_NAMES: tuple[str, ...] = (
    "Backend Architecture Analysis",
    "Learning Points",
    "Code Quality Issues",
    "Implementation Guide",
    "Python Patterns Taught",
    "Code Evolution Path",
)

SEVERITY_ORDER: tuple[str, ...] = ("high", "medium", "low")  # most urgent first: the order of every finding list
_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITY_ORDER)}


def severity_rank(severity: str) -> int:
    """The sort key of a severity: 0 for high, 1 medium, 2 low; an unknown one sorts after them all."""
    return _SEVERITY_RANK.get(severity, len(SEVERITY_ORDER))


@dataclass(frozen=True)
class Chunk:
    """One retrievable piece of a file.

    ``text`` is the exact source shown to people and models; ``embed_text`` is
    what the embedder and keyword index see (path, qualified name and
    signature first).  ``start_line``/``end_line`` are 1-based and inclusive.
    """

    path: str
    start_line: int
    end_line: int
    kind: str  # function | method | class | module | section | card
    symbol: str  # qualified name inside the file, e.g. "Class.method"; "" for module code
    qualname: str  # dotted name with the module, e.g. "pkg.mod.Class.method"
    text: str
    embed_text: str
    source: Source = "code"
    part: int = 0
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        import hashlib

        h = hashlib.sha256()
        for piece in (self.path, self.symbol, str(self.part), self.embed_text):
            h.update(piece.encode("utf-8", "surrogatepass"))
            h.update(b"\0")
        return h.hexdigest()

    @property
    def chunk_id(self) -> str:
        """Stable id: the same text at the same path always gets the same id."""
        return self.content_hash[:32]


@dataclass(frozen=True)
class Hit:
    """A search result, best first in a list."""

    path: str
    start_line: int
    end_line: int
    symbol: str
    kind: str
    source: Source
    score: float
    qualname: str = ""
    text: str = ""
    chunk_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("text")
        return d


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass(frozen=True)
class IndexReport:
    repo: str
    files_seen: int
    files_indexed: int
    files_skipped: int
    chunks_total: int
    chunks_embedded: int
    chunks_deleted: int
    seconds: float
    skipped: list[SkippedFile] = field(default_factory=list)
    knowledge_chunks: int = 0
    index_dir: str = ""
    embeddings_from_cache: int = 0
    """Of ``chunks_embedded``, how many vectors came from the shared embedding cache."""

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Finding:
    """One review finding. ``topic`` is a slug from ``mentor_local.topics.TOPICS``."""

    path: str
    line: int
    end_line: int
    topic: str
    rule: str
    severity: str  # high | medium | low
    message: str
    card: str | None = None
    confidence: str = "high"  # high | medium | low: how sure the rule is that this is a real problem
    why: str = ""  # what made the rule fire, in a few words

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RepoProfile:
    python_version: str | None
    dependency_manager: str | None
    frameworks: list[str]
    async_share: float
    test_framework: str | None
    type_checker: str | None
    entry_points: list[str]

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Citation:
    path: str
    start_line: int
    end_line: int
    valid: bool

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    sections: dict[str, str]
    sources: list[Hit]
    findings: list[Finding]
    citations: list[Citation]
    model: dict[str, Any]
    timings: dict[str, Any]
    checks: dict[str, Any] = field(default_factory=dict)
    """What the check of the model's text did: sentences ``kept``, ``dropped`` (and ``dropped_by_reason``),
    sections ``filled`` from facts, and ``model_text`` (what of the answer the model wrote)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "sections": dict(self.sections),
            "sources": [h.to_json() for h in self.sources],
            "findings": [f.to_json() for f in self.findings],
            "citations": [c.to_json() for c in self.citations],
            "model": dict(self.model),
            "timings": dict(self.timings),
            "checks": dict(self.checks),
        }
