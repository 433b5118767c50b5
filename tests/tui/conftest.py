"""Fixtures for the TUI tests: a small repo on disk, a fake backend, an app factory and waiting helpers."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen

from mentor_local.settings import Settings
from mentor_local.tui.app import MentorApp
from mentor_local.tui.backend import MentorFactory
from mentor_local.tui.sessions import SessionStore
from mentor_local.tui.widgets.prompt import PromptInput

from .fakes import CARD_FILE, FakeBackend, make_repo

S = TypeVar("S", bound=Screen[Any])  # Any: a screen of any result type


class MakeApp(Protocol):
    """The ``make_app`` fixture: a ``MentorApp`` over the fakes, with any of their parts replaced."""

    def __call__(self, *, mentor_factory: MentorFactory | None = ..., settings: Settings | None = ...) -> MentorApp: ...


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "n-plus-one.md").write_text(CARD_FILE, encoding="utf-8")
    monkeypatch.setenv("MENTOR_KNOWLEDGE_DIR", str(knowledge))
    return make_repo(tmp_path / "repo")


@pytest.fixture()
def backend(repo: Path) -> FakeBackend:
    return FakeBackend(repo)


@pytest.fixture()
def make_app(repo: Path, backend: FakeBackend, tmp_path: Path) -> MakeApp:
    def factory(*, mentor_factory: MentorFactory | None = backend.make_mentor,
                settings: Settings | None = None) -> MentorApp:
        parts = backend.app_kwargs()
        return MentorApp(repo, settings=settings or Settings(home=tmp_path / "home"),
                         sessions=SessionStore(tmp_path / "home" / "sessions.sqlite3"), home=tmp_path / "home",
                         index_opener=parts["index_opener"], indexer=parts["indexer"], reviewer=parts["reviewer"],
                         card_loader=parts["card_loader"], mentor_factory=mentor_factory)

    return factory


def mentor_app(pilot: Pilot[None]) -> MentorApp:
    app = pilot.app
    assert isinstance(app, MentorApp)
    return app


async def wait_for(pilot: Pilot[None], condition: Callable[[], object], limit: float = 15.0,
                   what: str = "condition") -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {limit}s waiting for {what}")
        await pilot.pause(0.02)


async def ready(pilot: Pilot[None]) -> None:
    """Until the fake model is loaded and the review has reported."""
    app = mentor_app(pilot)
    await wait_for(pilot, lambda: app.mentor is not None and app.findings, what="mentor and findings")
    await pilot.pause()


async def ask(pilot: Pilot[None], question: str, limit: float = 15.0) -> None:
    app = mentor_app(pilot)
    before = len(app.conversation.history)
    prompt = app.query_one(PromptInput)
    prompt.focus()
    prompt.load_text(question)  # typing key by key is tested elsewhere; this keeps the tests fast
    await pilot.press("enter")
    await wait_for(pilot, lambda: len(app.conversation.history) > before, limit, what="the answer")
    await pilot.pause()


def screen_text(app: App[None]) -> str:
    """What the terminal shows now, as plain text lines (what a user would read)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def wait_for_screen(pilot: Pilot[None], kind: type[S], limit: float = 15.0) -> S:
    """Until a screen of ``kind`` is on top and has drawn something."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, kind), limit, what=kind.__name__)
    await wait_for(pilot, lambda: screen_text(app).strip(), limit, what=f"{kind.__name__} drawn")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, kind)
    return screen


REAL_CARDS = ("batch-lookups-not-loop-queries.md", "sqlalchemy-eager-loading.md", "db-pool-sizing.md")


@pytest.fixture(scope="session")
def real_setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A real index (tree-sitter, bundled embedder, Chroma) of the fake repo, built once per session.

    Three real pattern cards stand in for the whole library: the TUI's end-to-end tests
    need real retrieval and a real model, not the 400 card chunks that take minutes to embed.
    """
    import shutil

    from mentor_local.index import build_index
    from mentor_local.paths import PROJECT_ROOT

    root = tmp_path_factory.mktemp("tui-real")
    knowledge = root / "knowledge"
    knowledge.mkdir()
    for name in REAL_CARDS:
        src = PROJECT_ROOT / "knowledge" / name
        if src.is_file():
            shutil.copy(src, knowledge / name)
    repo = make_repo(root / "repo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MENTOR_KNOWLEDGE_DIR", str(knowledge))
        build_index(repo, index_dir=root / "index")
    return {"repo": repo, "index": root / "index", "knowledge": knowledge, "home": root / "home"}
