"""Deterministic stand-ins for the index, the Mentor, the indexer and the review (no heavy library)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from mentor_local.domain import SECTION_NAMES, Answer, Citation, Finding, Hit, IndexReport
from mentor_local.errors import IndexBusyError, IndexMissingError, ModelError
from mentor_local.knowledge import Card
from mentor_local.settings import Settings
from mentor_local.tui.backend import (
    AppIndex,
    CardLoader,
    Indexer,
    IndexOpener,
    MentorFactory,
    MentorLike,
    Progress,
    Reviewer,
)
from scripts.harness.repos import make_tui_repo

make_repo = make_tui_repo  # the TUI tests' sample repo, shared with scripts/bench/tui_bench.py

HITS = [
    Hit("app/views.py", 4, 7, "invoices_page", "function", "code", 0.912, "app.views.invoices_page"),
    Hit("app/db.py", 9, 11, "InvoiceRepository.total_for_customer", "method", "code", 0.733,
        "app.db.InvoiceRepository.total_for_customer"),
    Hit("knowledge/n-plus-one.md", 1, 12, "N+1 queries", "card", "knowledge", 0.402, "",
        metadata={"card_id": "n-plus-one", "title": "Avoid N+1 queries", "topics": "n-plus-one-query", "level": "basic"}),
]

FINDINGS = [
    Finding("app/views.py", 7, 7, "n-plus-one-query", "loop-query", "high", "a query runs once per customer",
            "n-plus-one"),
    Finding("app/db.py", 7, 7, "resource-leak", "conn-per-object", "medium", "a connection per repository", None),
    Finding("app/views.py", 6, 6, "hardcoded-secret", "hardcoded-path", "low", "database path is hard-coded", None),
]

CARDS = [
    Card("n-plus-one", "Avoid N+1 queries", ("n-plus-one-query",), ("database",), "basic", "knowledge/n-plus-one.md",
         {"Consider": "Fetch totals in one query.", "Why": "Each query is a round trip.", "Trade-offs": "-",
          "Code": "```python\ntotals = {}\n```", "Evolution": "Use a GROUP BY."}),
]


CARD_FILE = """---
id: n-plus-one
title: Avoid N+1 queries
topics: [n-plus-one-query]
areas: [database]
level: basic
---

## Consider

Fetch totals in one query.

## Why

Each query is a round trip.
"""


def answer_text(question: str) -> str:
    bodies = {
        "Backend Architecture Analysis": "A small billing app: views call `InvoiceRepository` (app/db.py:9-11).",
        "Learning Points": "- One query per customer is an N+1 pattern, see app/views.py:7.",
        "Code Quality Issues": "- `app/views.py:6` hard-codes the database path.",
        "Implementation Guide": "1. Add a `totals_for_customers` method.\n2. Call it once from the view.",
        "Python Patterns Taught": "```python\ndef totals(ids: list[int]) -> dict[int, float]:\n    return {}\n```",
        "Code Evolution Path": "Start with one GROUP BY query, then add caching. See [docs](https://example.com).",
    }
    return "\n\n".join(f"### {name}\n\n{bodies[name]}" for name in SECTION_NAMES)


def make_answer(question: str, text: str | None = None) -> Answer:
    text = text if text is not None else answer_text(question)
    sections = {name: name for name in SECTION_NAMES}
    return Answer(
        question=question, answer=text, sections=sections, sources=list(HITS), findings=list(FINDINGS[:1]),
        citations=[Citation("app/db.py", 9, 11, True), Citation("app/views.py", 7, 7, True)],
        model={"path": "/models/fake-model.gguf", "chat_template": False, "n_ctx": 4096, "gpu_layers": 0},
        timings={"retrieval_ms": 3.0, "prompt_tokens": 100, "ttft_s": 0.01, "completion_tokens": 40,
                 "decode_tokens_per_s": 64.5, "total_s": 0.5},
    )


class ScriptedMentor:
    """Yields the answer text in small pieces, then the Answer; ``delay`` per piece; ``fail`` raises midway."""

    def __init__(self, index: AppIndex | None = None, *, delay: float = 0.0, fail: Exception | None = None,
                 text: str | None = None, chunk: int = 40) -> None:
        self.index = index
        self.delay = delay
        self.fail = fail
        self.text = text
        self.chunk = chunk
        self.calls: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        self.hold: threading.Event | None = None  # when given, the stream pauses after its first piece until set
        self.cancelled = threading.Event()

    @property
    def chat_model(self) -> None:  # the scripted answers need no model
        return None

    def model_info(self) -> dict[str, object]:
        return {"path": "/models/fake-model.gguf", "gpu_layers": 0, "n_ctx": 4096, "chat_template": False}

    def cancel(self) -> None:
        self.cancelled.set()

    def stream(self, question: str, history: Sequence[tuple[str, str]] = ()) -> Iterator[str | Answer]:
        self.cancelled.clear()
        self.calls.append((question, tuple(history)))
        answer = make_answer(question, self.text)
        pieces = [answer.answer[i : i + self.chunk] for i in range(0, len(answer.answer), self.chunk)]
        for n, piece in enumerate(pieces):
            if self.cancelled.is_set():
                return
            if self.fail is not None and n == len(pieces) // 2:
                raise self.fail
            if self.delay:
                time.sleep(self.delay)
            yield piece
            held = time.monotonic()
            # Bounded: a test that fails while holding must not leave a thread that blocks the app's exit.
            while n == 0 and self.hold is not None and not self.hold.wait(0.01) and time.monotonic() - held < 20:
                if self.cancelled.is_set():
                    return
        yield answer


class FakeIndex:
    """Stands in for ``index.Index`` where the app reads it (``AppIndex``)."""

    def __init__(self, repo: Path, status: dict[str, object] | None = None) -> None:
        self.repo = repo
        self._status = status or {"files": 3, "chunks": 7, "last_indexed": "2026-11-27T05:00:00+00:00", "stale_files": 0}
        self.closed = False

    def status(self) -> dict[str, object]:
        return dict(self._status)

    def search(self, query: str, k: int = 10, source: str = "all") -> list[Hit]:
        return HITS[:k]

    def close(self) -> None:
        self.closed = True


class AppParts(TypedDict):
    """The parts of ``MentorApp`` the fakes replace, typed as the app takes them."""

    index_opener: IndexOpener
    indexer: Indexer
    mentor_factory: MentorFactory
    reviewer: Reviewer
    card_loader: CardLoader


@dataclass
class FakeBackend:
    """Everything the app's constructor can swap, with switches for failures and call records."""

    repo: Path
    index_exists: bool = True
    busy: bool = False
    stale: int = 0
    model_error: Exception | None = None
    mentor_delay: float = 0.0
    mentor_fail: Exception | None = None
    load_delay: float = 0.0
    review_error: Exception | None = None
    built: list[float] = field(default_factory=list)
    gate: threading.Event | None = None  # when given, indexing pauses halfway until the test sets it
    load_gate: threading.Event | None = None  # when given, loading the model waits until the test sets it
    opened: int = 0
    mentors: list[ScriptedMentor] = field(default_factory=list)

    def open_index(self, repo: Path, index_dir: Path | None, settings: Settings,
                   previous: AppIndex | None = None) -> FakeIndex:
        self.opened += 1
        if self.busy:
            raise IndexBusyError("another process is indexing this repo", hint="wait for it, then press ctrl+r")
        if not self.index_exists:
            raise IndexMissingError(f"{repo} has no index yet", hint=f"run 'mentor index {repo}' first")
        status: dict[str, object] = {"files": 3, "chunks": 7, "last_indexed": "2026-11-27T05:00:00+00:00", "stale_files": self.stale}
        return FakeIndex(repo, status)

    def build_index(self, repo: Path, index_dir: Path | None, settings: Settings, progress: Progress) -> IndexReport:
        for stage, total in (("discover", 1), ("embed", 4), ("done", 1)):
            for done in range(total + 1):
                progress(stage, done, total)
                time.sleep(0.06)  # above the app's 50 ms progress throttle, so each step shows
                if self.gate is not None and stage == "embed" and done == 2:
                    self.gate.wait(10)
        self.index_exists = True
        self.stale = 0
        self.built.append(time.time())
        return IndexReport(str(repo), 3, 3, 0, 7, 7, 0, 0.1)

    def make_mentor(self, index: AppIndex, settings: Settings, previous: MentorLike | None = None) -> ScriptedMentor:
        if self.load_delay:
            time.sleep(self.load_delay)
        if self.load_gate is not None:
            self.load_gate.wait(30)
        if self.model_error is not None:
            raise self.model_error
        mentor = ScriptedMentor(index, delay=self.mentor_delay, fail=self.mentor_fail)
        self.mentors.append(mentor)
        return mentor

    def review(self, repo: Path) -> list[Finding]:
        if self.review_error is not None:
            raise self.review_error
        return list(FINDINGS)

    def load_cards(self) -> list[Card]:
        return list(CARDS)

    def app_kwargs(self) -> AppParts:
        return {
            "index_opener": self.open_index,
            "indexer": self.build_index,
            "mentor_factory": self.make_mentor,
            "reviewer": self.review,
            "card_loader": self.load_cards,
        }


MODEL_MISSING = ModelError("model file /nope.gguf does not exist", hint="pass an existing .gguf with --model")
