"""The app's default wiring to the library: every heavy import happens inside these functions.

Each callable runs in a thread worker, never at import time and never before
the first paint.  Tests replace them through ``MentorApp``'s constructor; the
protocols here say what a stand-in must offer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from mentor_local.domain import Answer, Finding, IndexReport
from mentor_local.protocols import ChatModel, Searchable
from mentor_local.settings import Settings

if TYPE_CHECKING:
    from mentor_local.knowledge import Card

Progress = Callable[[str, int, int], None]


class AppIndex(Searchable, Protocol):
    """What the app reads of an index: the mentor's search, and counts for the status bar."""

    def status(self) -> Mapping[str, object]:
        """Counts (``files``, ``chunks``, ``stale_files``) and ``last_indexed``, among others."""
        ...


class MentorLike(Protocol):
    """What the app asks of a mentor: ``answer.mentor.Mentor`` in the app, scripted stand-ins in tests."""

    @property
    def chat_model(self) -> ChatModel | None: ...

    def stream(self, question: str, history: Sequence[tuple[str, str]] = ()) -> Iterator[str | Answer]: ...

    def cancel(self) -> None: ...

    def model_info(self) -> Mapping[str, object]: ...


IndexOpener = Callable[[Path, Path | None, Settings, AppIndex | None], AppIndex]
Indexer = Callable[[Path, Path | None, Settings, Progress], IndexReport]
MentorFactory = Callable[[AppIndex, Settings, MentorLike | None], MentorLike]
Reviewer = Callable[[Path], list[Finding]]
CardLoader = Callable[[], list["Card"]]


@dataclass(frozen=True)
class IndexStatus:
    """The index's counts as the status bar shows them (``None``: the index did not say)."""

    files: int | None = None
    chunks: int | None = None
    last_indexed: str | None = None
    stale_files: int = 0

    @classmethod
    def from_mapping(cls, status: Mapping[str, object]) -> IndexStatus:
        def count(key: str) -> int | None:
            value = status.get(key)
            return value if isinstance(value, int) else None

        when = status.get("last_indexed")
        return cls(count("files"), count("chunks"), str(when) if when else None, count("stale_files") or 0)

    @property
    def when(self) -> str:
        """``2026-11-27T05:40:12+00:00`` as ``2026-11-27 05:40``."""
        return (self.last_indexed or "")[:16].replace("T", " ")


@dataclass(frozen=True)
class ModelInfo:
    """The model's name and where it runs, for the status bar; ``details`` is what the mentor told."""

    name: str
    device: str
    details: Mapping[str, object] = field(default_factory=dict)


def open_index(repo: Path, index_dir: Path | None, settings: Settings, previous: AppIndex | None = None) -> AppIndex:
    """Open the index; after a re-index the previous index's loaded embedder is handed over."""
    from mentor_local.index import Index
    from mentor_local.index import open_index as _open

    embedder = previous.embedder() if isinstance(previous, Index) else None
    return _open(repo, index_dir=index_dir, settings=settings, embedder=embedder)


def build_index(repo: Path, index_dir: Path | None, settings: Settings, progress: Progress) -> IndexReport:
    from mentor_local.index import build_index as _build

    return _build(repo, index_dir=index_dir, progress=progress, settings=settings)


def make_mentor(index: AppIndex, settings: Settings, previous: MentorLike | None = None,
                reviewer: Reviewer | None = None, opened: list[ChatModel] | None = None) -> MentorLike:
    """A Mentor over ``index`` with its model loaded and the embedder warm, so the first question starts at once.

    After a re-index the previous Mentor's loaded model is handed over instead of loading it again.
    The local model is a child process (``answer.backends.local``), added to ``opened`` as soon as it
    starts; ``close_model`` stops it.
    """
    from mentor_local.answer.mentor import Mentor
    from mentor_local.index import Index

    chat_model = previous.chat_model if previous is not None else None
    if chat_model is None and not settings.llm_url:
        # The model runs in its own process: a native crash there fails one answer, never the app.
        from mentor_local.wiring import make_chat_model

        chat_model = make_chat_model(settings)
        if opened is not None:  # the app can stop it even while it loads (a quit must not wait for the load)
            opened.append(chat_model)
    mentor = Mentor(index, model_path=settings.model, chat_model=chat_model, settings=settings, reviewer=reviewer)
    if isinstance(index, Index):
        index.embedder()
    mentor.warm()  # the model loaded, the review and profile ready, the persona in the model's cache
    return mentor


def close_model(mentor: MentorLike | None = None, opened: Sequence[ChatModel] = ()) -> None:
    """Stop the model processes of ``mentor`` and of ``opened`` (the app calls this as it closes)."""
    for model in [mentor.chat_model if mentor is not None else None, *opened]:
        if model is not None:
            model.close()


class SharedReview:
    """One review of the repo, shared by the findings pane and the Mentor (each would otherwise run it)."""

    def __init__(self, review: Reviewer) -> None:
        self._review = review
        self._lock = threading.Lock()
        self._result: list[Finding] | None = None

    def __call__(self, repo: Path) -> list[Finding]:
        with self._lock:
            if self._result is None:
                self._result = list(self._review(repo))
            return list(self._result)

    def invalidate(self) -> None:
        with self._lock:
            self._result = None


def review(repo: Path) -> list[Finding]:
    from mentor_local.analysis.review import review as _review

    return list(_review(repo))


def load_cards() -> list[Card]:
    from mentor_local.knowledge import load_cards as _load

    return list(_load())


def index_status(index: AppIndex) -> IndexStatus:
    """The index's counts, as the status bar shows them."""
    return IndexStatus.from_mapping(index.status())


def describe_model(mentor: MentorLike, settings: Settings) -> ModelInfo:
    """Model name and device for the status bar, from what the Mentor tells of its model."""
    info = dict(mentor.model_info())
    path = info.get("path") or settings.model or ""
    name = Path(str(path)).name if path else (settings.llm_url or "model")
    if settings.llm_url:
        name, device = settings.llm_url, "server"
    else:
        layers = info.get("gpu_layers", 0)
        device = "GPU" if isinstance(layers, int) and layers != 0 else "CPU"
    return ModelInfo(name, device, {k: v for k, v in info.items() if k not in {"name", "device"}})
