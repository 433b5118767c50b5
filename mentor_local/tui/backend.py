"""The app's default wiring to the library: every heavy import happens inside these functions.

Each callable runs in a thread worker, never at import time and never before
the first paint.  Tests replace them through ``MentorApp``'s constructor.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from mentor_local.domain import Finding
from mentor_local.settings import Settings

Progress = Callable[[str, int, int], None]


class MentorLike(Protocol):
    def stream(self, question: str, history: Sequence[tuple[str, str]] = ()) -> Iterator[Any]: ...


IndexOpener = Callable[[Path, Path | None, Settings, Any], Any]
Indexer = Callable[[Path, Path | None, Settings, Progress], Any]
MentorFactory = Callable[[Any, Settings, Any], MentorLike]
Reviewer = Callable[[Path], list[Finding]]
CardLoader = Callable[[], list[Any]]


def open_index(repo: Path, index_dir: Path | None, settings: Settings, previous: Any = None) -> Any:
    """Open the index; after a re-index the previous index's loaded embedder is handed over."""
    from mentor_local.index import open_index as _open

    embedder = previous.embedder() if previous is not None and hasattr(previous, "embedder") else None
    return _open(repo, index_dir=index_dir, settings=settings, embedder=embedder)


def build_index(repo: Path, index_dir: Path | None, settings: Settings, progress: Progress) -> Any:
    from mentor_local.index import build_index as _build

    return _build(repo, index_dir=index_dir, progress=progress, settings=settings)


def make_mentor(index: Any, settings: Settings, previous: Any = None, reviewer: Reviewer | None = None,
                opened: list[Any] | None = None) -> MentorLike:
    """A Mentor over ``index`` with its model loaded and the embedder warm, so the first question starts at once.

    After a re-index the previous Mentor's loaded model is handed over instead of loading it again.
    The local model is a child process (``answer.backends.local``), added to ``opened`` as soon as it
    starts; ``close_model`` stops it.
    """
    from mentor_local.answer.mentor import Mentor

    chat_model = getattr(previous, "chat_model", None) if previous is not None else None
    if chat_model is None and not settings.llm_url:
        # The model runs in its own process: a native crash there fails one answer, never the app.
        from mentor_local.answer.backends.local import local_model_for

        chat_model = local_model_for(settings)
        if opened is not None:  # the app can stop it even while it loads (a quit must not wait for the load)
            opened.append(chat_model)
    options: dict[str, Any] = {"reviewer": reviewer} if reviewer is not None else {}
    mentor = Mentor(index, model_path=settings.model, chat_model=chat_model, settings=settings, **options)
    warm = getattr(index, "embedder", None)
    if callable(warm):
        warm()
    mentor.warm()  # the model loaded, the review and profile ready, the persona in the model's cache
    return mentor


def close_model(mentor: Any = None, opened: Sequence[Any] = ()) -> None:
    """Stop the model processes of ``mentor`` and of ``opened`` (the app calls this as it closes)."""
    for model in [getattr(mentor, "chat_model", None), *opened]:
        close = getattr(model, "close", None)
        if callable(close):
            close()


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


def load_cards() -> list[Any]:
    from mentor_local.knowledge import load_cards as _load

    return list(_load())


def index_status(index: Any) -> dict[str, Any] | None:
    """``Index.status()`` when the index offers it; ``None`` otherwise."""
    status = getattr(index, "status", None)
    if not callable(status):
        return None
    result = status()
    return dict(result) if isinstance(result, dict) else None


def describe_model(mentor: Any, settings: Settings) -> dict[str, Any]:
    """Model name and device for the status bar, from whatever the Mentor exposes."""
    info: dict[str, Any] = {}
    for attr in ("model_info", "model"):
        value = getattr(mentor, attr, None)
        value = value() if callable(value) else value
        if isinstance(value, dict):
            info.update(value)
            break
    path = info.get("path") or settings.model or ""
    name = Path(str(path)).name if path else (settings.llm_url or "model")
    if settings.llm_url:
        name, device = settings.llm_url, "server"
    else:
        layers = info.get("gpu_layers", 0)
        device = "GPU" if isinstance(layers, int) and layers != 0 else "CPU"
    return {"name": name, "device": device, **{k: v for k, v in info.items() if k not in {"name", "device"}}}
