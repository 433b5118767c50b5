"""Start-up, indexing, conversations, help, palette and themes (fakes, Pilot)."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.command import CommandPalette
from textual.widgets import ProgressBar

from mentor_local.tui.app import MentorApp
from mentor_local.tui.backend import IndexStatus
from mentor_local.tui.commands import COMMANDS
from mentor_local.tui.screens.dialogs import ConfirmScreen, InputScreen, PickScreen
from mentor_local.tui.screens.help import KEYS, HelpScreen
from mentor_local.tui.widgets.chat import ChatTurn
from mentor_local.tui.widgets.prompt import PromptInput
from mentor_local.tui.widgets.status import StatusBar

from .conftest import MakeApp, ask, ready, screen_text, wait_for, wait_for_screen
from .fakes import MODEL_MISSING, FakeBackend


@pytest.mark.asyncio
async def test_missing_index_is_offered_and_built_with_progress(make_app: MakeApp, backend: FakeBackend) -> None:
    backend.index_exists = False
    backend.gate = threading.Event()

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        dialog = await wait_for_screen(pilot, ConfirmScreen)
        assert "No index for repo yet" in dialog.question
        assert app.mentor is None and "no index yet" in (app.blocker or "")
        await pilot.press("y")
        bar = app.query_one("#index-bar", ProgressBar)
        await wait_for(pilot, lambda: bar.percentage == 0.5, what="half the embedding done")
        assert app.query_one("#index-progress").display
        assert "indexing: embed 2/4" in screen_text(app)
        assert app.is_running and app.query_one(PromptInput).has_focus  # the UI stays usable meanwhile
        backend.gate.set()
        await wait_for(pilot, lambda: app.mentor is not None, what="the model after indexing")
        assert backend.built and backend.opened == 2
        assert not app.query_one("#index-progress").display
        assert "3 files · 7 chunks" in app.query_one(StatusBar).plain
        assert app.blocker is None
        await ask(pilot, "works now?")


@pytest.mark.asyncio
async def test_declining_to_build_leaves_a_clear_message_and_restores_questions(make_app: MakeApp, backend: FakeBackend) -> None:
    backend.index_exists = False

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_screen(pilot, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert "press ctrl+r" in str(app.query_one("#notice").render())
        prompt = app.query_one(PromptInput)
        prompt.load_text("a question")
        await pilot.press("enter")
        assert prompt.text == "a question"  # kept for later
        assert not app.query(ChatTurn)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.mentor is not None, what="the model after ctrl+r")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.conversation.last_answer is not None, what="the answer")


@pytest.mark.asyncio
async def test_stale_index_is_offered_a_refresh(make_app: MakeApp, backend: FakeBackend) -> None:
    backend.stale = 4

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        dialog = await wait_for_screen(pilot, ConfirmScreen)
        assert "4 file(s) changed" in dialog.question and "2026-11-27 05:00" in dialog.question
        assert "4 stale" in app.query_one(StatusBar).plain
        await pilot.click("#yes")
        await wait_for(pilot, lambda: backend.built and app.mentor is not None and not app.indexer.running, what="refresh")
        await pilot.pause()
        assert "stale" not in app.query_one(StatusBar).plain


@pytest.mark.asyncio
async def test_locked_index_shows_the_fix(make_app: MakeApp, backend: FakeBackend) -> None:
    backend.busy = True

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.blocker is not None, what="the blocker")
        await pilot.pause()
        notice = app.query_one("#notice")
        assert notice.display and notice.region.height >= 2  # shown whole above the chat
        assert "another process is indexing this repo — wait for it, then press ctrl+r" in str(notice.render())
        assert "not available" in app.query_one(StatusBar).plain
        backend.busy = False
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.mentor is not None, what="recovery")
        assert not app.query_one("#notice").display


@pytest.mark.asyncio
async def test_missing_model_shows_the_fix_and_keeps_the_app(make_app: MakeApp, backend: FakeBackend) -> None:
    backend.model_error = MODEL_MISSING
    backend.load_gate = threading.Event()

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.query_one(PromptInput).load_text("early question")
        await pilot.press("enter")  # queued until the model loads ... which fails
        backend.load_gate.set()
        await wait_for(pilot, lambda: app.blocker is not None, what="the model problem")
        await pilot.pause()
        notice = app.query_one("#notice")
        assert notice.display and "pass an existing .gguf with --model" in str(notice.render())
        assert app.query_one(PromptInput).text == "early question"
        assert "pass an existing .gguf" in str(app.query_one(ChatTurn).query_one(".meta").render())
        assert "not loaded" in app.query_one(StatusBar).plain
        assert app.is_running


@pytest.mark.asyncio
async def test_unexpected_loader_error_is_a_message_not_a_crash(make_app: MakeApp, backend: FakeBackend) -> None:
    backend.model_error = OSError("mmap failed")

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.blocker is not None, what="the model problem")
        assert app.blocker is not None
        assert "OSError: mmap failed" in app.blocker and "mentor doctor" in app.blocker
        assert app.is_running


@pytest.mark.asyncio
async def test_conversations_are_saved_resumed_and_exported(make_app: MakeApp, backend: FakeBackend, tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await ask(pilot, "first question")
        await ask(pilot, "second question")
        conv = app.sessions.conversation_id
        assert conv is not None
        await pilot.press("ctrl+n")
        assert not app.query(ChatTurn) and app.conversation.history == [] and app.sessions.conversation_id is None
        await pilot.press("ctrl+o")
        picker = await wait_for_screen(pilot, PickScreen)
        assert "first question" in screen_text(app) and "2 turn(s)" in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app.query(ChatTurn)) == 2, what="the resumed turns")
        assert app.sessions.conversation_id == conv and [q for q, _ in app.conversation.history] == ["first question", "second question"]
        assert "### Learning Points" in app.query(ChatTurn).last().raw
        await ask(pilot, "third")  # continues the same conversation, with its history
        assert backend.mentors[-1].calls[-1][1][0][0] == "first question"
        await pilot.press("ctrl+s")
        dialog = await wait_for_screen(pilot, InputScreen)
        target = tmp_path / "out" / "chat.md"
        dialog.query_one("#dialog-input").value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, target.exists, what="the export")
        text = target.read_text()
        assert text.startswith("# first question") and "## Question 3" in text and "> third" in text
        assert picker is not None


@pytest.mark.asyncio
async def test_copy_last_answer_and_a_code_block(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("f4")
        assert any("No answer to copy" in n.message for n in app._notifications)
        await ask(pilot, "q")
        await pilot.press("f4")
        assert app.clipboard.startswith("### Backend Architecture Analysis")
        await pilot.press("f5")  # one block in the fake answer: copied at once
        assert app.clipboard == "def totals(ids: list[int]) -> dict[int, float]:\n    return {}\n"


@pytest.mark.asyncio
async def test_help_lists_every_binding_and_opens_with_f1_and_question_mark(make_app: MakeApp) -> None:
    listed = " ".join(k for k, _ in KEYS)
    for binding in MentorApp.BINDINGS:
        key = binding.key if isinstance(binding, Binding) else binding[0]
        assert key.replace("question_mark", "?") in listed, key

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await wait_for_screen(pilot, HelpScreen)
        assert "send the question" in screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        app.query_one("#sources").focus()
        await pilot.press("question_mark")
        await wait_for_screen(pilot, HelpScreen)
        await pilot.press("escape")
        app.query_one(PromptInput).focus()
        await pilot.press("question_mark")  # in the question box, ? is just a character
        assert app.query_one(PromptInput).text == "?"
        assert not isinstance(app.screen, HelpScreen)


@pytest.mark.asyncio
async def test_palette_lists_the_app_commands_and_runs_them(make_app: MakeApp, backend: FakeBackend) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")
        await pilot.press(*"re-index")
        await wait_for(pilot, lambda: "Re-index the repo" in screen_text(app), what="the command in the list")
        await pilot.pause(0.2)
        await pilot.press("enter")
        await wait_for(pilot, lambda: backend.built and app.mentor is not None and not app.indexer.running, what="index")
        assert len(backend.built) == 1


def test_every_palette_command_is_an_app_action() -> None:
    for title, _, action in COMMANDS:
        name = action.split("(")[0]
        assert hasattr(MentorApp, f"action_{name}"), title


@pytest.mark.asyncio
async def test_theme_and_side_panel_toggle(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.current_theme.dark
        await pilot.press("ctrl+t")
        assert not app.current_theme.dark
        await pilot.press("ctrl+t")
        assert app.current_theme.dark
        await pilot.press("f6")
        assert not app.query_one("#side").display
        assert app.query_one("#chat-column").size.width == 80
        await pilot.press("f3")
        assert app.query_one("#side").display


@pytest.mark.asyncio
async def test_worker_news_under_a_modal_or_after_teardown(make_app: MakeApp) -> None:
    """A report that lands while help is open updates the status bar; one that lands after teardown is dropped."""
    from mentor_local.tui import messages as msg

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        index = app.index
        assert index is not None
        status = dataclasses.replace(app.index_status or IndexStatus(), files=4242, stale_files=0)
        app.post_message(msg.IndexOpened(index, status))
        app.post_message(msg.ModelProblem("the model failed to load (test)"))
        await wait_for(pilot, lambda: app.index_status == status, what="the new index status")
        await pilot.pause(0.1)
        assert isinstance(app.screen, HelpScreen)  # the modal stays where the user left it
        assert "4242 files" in app.screen_stack[0].query_one(StatusBar).index
        # a report after the widgets are gone (the user quit while a worker ran) is dropped quietly
        await app.default_screen.query_one(StatusBar).remove()
        app.post_message(msg.IndexOpened(index, status))
        app.post_message(msg.ModelProblem("late news"))
        await pilot.pause(0.2)
