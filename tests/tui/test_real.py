"""End to end in Pilot: the real index, the bundled GGUF, the real Mentor and review (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Markdown

from mentor_local.domain import SECTION_NAMES
from mentor_local.settings import load_settings
from mentor_local.tui.app import MentorApp
from mentor_local.tui.screens.code_view import CodeViewer
from mentor_local.tui.widgets.chat import ChatTurn
from mentor_local.tui.widgets.prompt import PromptInput
from mentor_local.tui.widgets.sources import SourcesPane
from mentor_local.tui.widgets.status import StatusBar

from .conftest import wait_for, wait_for_screen

pytestmark = pytest.mark.slow


@pytest.mark.asyncio
async def test_real_question_end_to_end(real_setup: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENTOR_KNOWLEDGE_DIR", str(real_setup["knowledge"]))
    repo = real_setup["repo"]
    settings = load_settings(repo, index_dir=real_setup["index"])

    app = MentorApp(repo, settings=settings, home=real_setup["home"])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.mentor is not None or app.blocker, 300, "the model")
        assert app.blocker is None, app.blocker
        assert "qwen2.5-coder" in app.query_one(StatusBar).plain
        prompt = app.query_one("#prompt", PromptInput)
        prompt.load_text("Why is the invoices page slow and how do I fix it?")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.conversation.answering is None and app.conversation.pending is None, 900, "the answer")
        answer = app.conversation.last_answer
        assert answer is not None, str(app.query_one(ChatTurn).query_one(".meta").render())
        turn = app.query_one(ChatTurn)
        headings = [label for _, label, _ in turn.markdown.table_of_contents]
        assert headings == list(SECTION_NAMES)
        hits = app.query_one(SourcesPane).hits
        assert hits and any(h.path.startswith("app/") for h in hits)
        for h in hits:
            if h.source == "code":
                assert (repo / h.path).is_file()
        # A citation in the answer opens the viewer on a real file of the repo.
        cites = [c for c in answer.citations if c.valid and (repo / c.path).is_file()]
        assert cites, answer.answer
        c = cites[0]
        turn.markdown.post_message(Markdown.LinkClicked(turn.markdown, f"cite:{c.path}:{c.start_line}-{c.end_line}"))
        viewer = await wait_for_screen(pilot, CodeViewer)
        assert (viewer.path, viewer.start) == (c.path, c.start_line)
