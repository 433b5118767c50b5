"""Sources, citations as links, findings and the code viewer (fakes, Pilot)."""

from __future__ import annotations

import pytest
from textual.content import Content
from textual.widgets import Input, Markdown, Static, Tree

from mentor_local.domain import Finding
from mentor_local.topics import TOPICS
from mentor_local.tui.screens.code_view import CodeViewer
from mentor_local.tui.widgets.chat import ChatTurn
from mentor_local.tui.widgets.findings import FindingsPane, group, matches
from mentor_local.tui.widgets.sources import SourcesPane

from .conftest import MakeApp, ask, ready, screen_text, wait_for, wait_for_screen
from .fakes import CARDS, FINDINGS, FakeBackend


@pytest.mark.asyncio
async def test_selecting_a_source_opens_the_viewer_on_its_lines(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await ask(pilot, "slow page?")
        await pilot.press("f2")
        assert app.focused is app.query_one(SourcesPane)
        await pilot.press("enter")  # the first hit: app/views.py:4-7
        await wait_for_screen(pilot, CodeViewer)
        viewer = app.screen
        assert isinstance(viewer, CodeViewer)
        assert (viewer.path, viewer.start, viewer.end) == ("app/views.py", 4, 7)
        text = screen_text(app)
        assert "app/views.py:4-7" in text and "invoices_page" in text
        # Repo text is shown literally: markup stays visible, escape sequences are gone.
        assert "[bold red]not markup[/]" in text
        assert "[link=https://example.com]x[/link]" in text
        assert "\x1b" not in text and "[31m" not in text
        await pilot.press("escape")
        assert not isinstance(app.screen, CodeViewer)
        # The card hit opens the card file from the pattern library.
        app.query_one(SourcesPane).focus()
        app.query_one(SourcesPane).highlighted = 2
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CodeViewer)
        assert app.screen.path == "knowledge/n-plus-one.md"


@pytest.mark.asyncio
async def test_cited_path_line_is_a_link_into_the_viewer(make_app: MakeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []

    app = make_app()
    monkeypatch.setattr(app, "open_url", lambda url, **kw: opened.append(url))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await ask(pilot, "slow page?")
        md = app.query_one(ChatTurn).markdown
        md.post_message(Markdown.LinkClicked(md, "cite:app/db.py:9-11"))
        viewer = await wait_for_screen(pilot, CodeViewer)
        assert (viewer.path, viewer.start, viewer.end) == ("app/db.py", 9, 11)
        assert "cited in the answer" in screen_text(app)
        await pilot.press("q")
        # Links to anywhere else are never opened: no browser, no command.
        md.post_message(Markdown.LinkClicked(md, "https://example.com"))
        md.post_message(Markdown.LinkClicked(md, "cite:../../etc/passwd:1"))
        await pilot.pause()
        assert opened == []
        assert not isinstance(app.screen, CodeViewer)
        messages = [n.message for n in app._notifications]
        assert any("Links are not opened" in m for m in messages)
        assert any("not a file inside" in m for m in messages)


@pytest.mark.asyncio
async def test_clicking_a_citation_with_the_mouse(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await ask(pilot, "slow page?")
        turn = app.query_one(ChatTurn)
        para = turn.markdown.query("MarkdownParagraph").first()
        turn.scroll_visible(animate=False)
        await pilot.pause()
        # "A small billing app: views call `InvoiceRepository` (app/db.py:9-11)." -> click the citation.
        shown = para.content if isinstance(para, Static) else None
        offset = shown.plain.index("app/db.py") + 2 if isinstance(shown, Content) else 50
        await pilot.click(para, offset=(offset, 0))
        viewer = await wait_for_screen(pilot, CodeViewer)
        assert viewer.path == "app/db.py"


@pytest.mark.asyncio
async def test_findings_grouped_filtered_and_opened_with_their_card(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("f3")
        tree: Tree[Finding] = app.query_one("#findings-tree", Tree)
        topics = [str(n.label).split(" (")[0] for n in tree.root.children]
        assert topics == ["n-plus-one-query", "resource-leak", "hardcoded-secret"]  # high first
        assert "Findings (3)" in screen_text(app)
        await pilot.press("ctrl+f", *"low")
        await pilot.pause()
        assert [str(n.label).split(" (")[0] for n in tree.root.children] == ["hardcoded-secret"]
        await pilot.press("ctrl+a", "ctrl+k", *"nothing-like-this")  # Input: select to start, delete to end
        await pilot.pause()
        assert "No finding matches" in str(tree.root.children[0].label)
        app.query_one("#findings-filter", Input).value = "n-plus-one"
        await pilot.pause()
        leaf = tree.root.children[0].children[0].children[0]
        assert leaf.data is FINDINGS[0]
        tree.focus()
        tree.select_node(leaf)
        viewer = await wait_for_screen(pilot, CodeViewer)
        assert viewer is app.screen
        assert (viewer.path, viewer.start) == ("app/views.py", 7)
        text = screen_text(app)
        assert "Avoid N+1 queries" in text and "Consider" in text  # the card beside the code
        assert "high · n-plus-one-query · loop-query" in text


@pytest.mark.asyncio
async def test_review_failure_is_reported_in_the_pane(make_app: MakeApp, backend: FakeBackend) -> None:
    backend.review_error = RuntimeError("ruff not found")

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.query_one(FindingsPane).note.startswith("Review:"), what="the note")
        assert "ruff not found" in app.query_one(FindingsPane).note
        assert app.is_running


def test_group_and_match_helpers() -> None:
    grouped = group(FINDINGS)
    assert list(grouped) == ["n-plus-one-query", "resource-leak", "hardcoded-secret"]
    assert list(grouped["n-plus-one-query"]) == ["high"]
    assert matches(FINDINGS[0], "views HIGH") and not matches(FINDINGS[0], "views low")


def test_fakes_use_topics_from_the_closed_list() -> None:
    assert {f.topic for f in FINDINGS} <= set(TOPICS)
    assert {t for card in CARDS for t in card.topics} <= set(TOPICS)
