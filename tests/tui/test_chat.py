"""The chat pane and the prompt: streaming, history, cancel, failures (fakes, Pilot)."""

from __future__ import annotations

import threading

import pytest
from textual.widgets import Markdown

from mentor_local.domain import SECTION_NAMES
from mentor_local.errors import BackendError
from mentor_local.tui.widgets.chat import ChatTurn
from mentor_local.tui.widgets.prompt import PromptInput
from mentor_local.tui.widgets.sources import SourcesPane
from mentor_local.tui.widgets.status import StatusBar

from .conftest import MakeApp, ask, ready, wait_for
from .fakes import HITS, FakeBackend


def _headings(md: Markdown) -> list[str]:
    return [label for _, label, _ in md.table_of_contents]


@pytest.mark.asyncio
async def test_question_streams_an_answer_with_six_sections_and_sources(make_app: MakeApp, backend: FakeBackend) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await ask(pilot, "Why is the invoices page slow?")
        turn = app.query_one(ChatTurn)
        assert turn.question == "Why is the invoices page slow?"
        assert _headings(turn.markdown) == list(SECTION_NAMES)
        # The final update turns citations into viewer links.
        assert "(cite:app/db.py:9-11)" in turn.markdown.source
        assert [h.path for h in app.query_one(SourcesPane).hits] == [h.path for h in HITS]
        assert "64.5 tok/s" in app.query_one(StatusBar).plain
        assert "fake-model (CPU)" in app.query_one(StatusBar).plain
        assert "3 files · 7 chunks" in app.query_one(StatusBar).plain
        assert app.query_one(PromptInput).text == ""
        # The second question carries the first as history.
        await ask(pilot, "And how do I fix it?")
        mentor = backend.mentors[-1]
        assert mentor.calls[1][0] == "And how do I fix it?"
        assert mentor.calls[1][1][0][0] == "Why is the invoices page slow?"
        assert "### Backend Architecture Analysis" in mentor.calls[1][1][0][1]


@pytest.mark.asyncio
async def test_stream_shows_partial_text_and_ui_stays_responsive(make_app: MakeApp, backend: FakeBackend) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        hold = backend.mentors[-1].hold = threading.Event()  # the model stalls after its first piece
        await pilot.press(*"slow?", "enter")
        await wait_for(pilot, lambda: app.query(ChatTurn) and app.query_one(ChatTurn).raw, what="first tokens")
        assert app.conversation.last_answer is None  # still streaming
        # Keys are handled while the answer streams: type the next question.
        await pilot.press(*"next one")
        assert app.query_one(PromptInput).text == "next one"
        assert app.query_one(ChatTurn).markdown.source  # partial Markdown is on screen
        assert app.conversation.last_answer is None  # ... while the answer is still being written
        hold.set()
        await wait_for(pilot, lambda: app.conversation.last_answer is not None, what="the end of the answer")
        assert app.query_one(PromptInput).text == "next one"


@pytest.mark.asyncio
async def test_enter_sends_newline_keys_insert(make_app: MakeApp, backend: FakeBackend) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        prompt = app.query_one(PromptInput)
        await pilot.press(*"line one", "ctrl+j", *"line two", "alt+enter", *"three", "shift+enter", "x")
        assert prompt.text == "line one\nline two\nthree\nx"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.conversation.last_answer is not None, what="the answer")
        assert backend.mentors[-1].calls[0][0] == "line one\nline two\nthree\nx"
        await pilot.press("enter")  # an empty box sends nothing
        await pilot.pause()
        assert len(backend.mentors[-1].calls) == 1


@pytest.mark.asyncio
async def test_up_down_walk_the_question_history(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await ask(pilot, "first")
        await ask(pilot, "second")
        prompt = app.query_one(PromptInput)
        await pilot.press(*"draft")
        await pilot.press("up")
        assert prompt.text == "second"
        await pilot.press("up")
        assert prompt.text == "first"
        await pilot.press("up")
        assert prompt.text == "first"
        await pilot.press("down")
        assert prompt.text == "second"
        await pilot.press("down")
        assert prompt.text == "draft"


@pytest.mark.asyncio
async def test_escape_cancels_and_restores_the_question(make_app: MakeApp, backend: FakeBackend) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        backend.mentors[-1].hold = threading.Event()  # never set: only the cancel ends this answer
        app.query_one(PromptInput).load_text("long one")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.query(ChatTurn) and app.query_one(ChatTurn).raw, what="first tokens")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.conversation.answering is None, what="the cancel")
        assert backend.mentors[-1].cancelled.is_set()
        assert app.conversation.last_answer is None and app.conversation.history == []
        meta = str(app.query_one(ChatTurn).query_one(".meta").render())
        assert app.query_one(PromptInput).text == "long one", meta
        assert "Cancelled" in str(app.query_one(ChatTurn).query_one(".meta").render())
        # The app answers again afterwards.
        backend.mentors[-1].hold = None
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.conversation.last_answer is not None, what="a fresh answer")


@pytest.mark.asyncio
async def test_failed_generation_shows_the_error_and_restores_the_question(make_app: MakeApp, backend: FakeBackend) -> None:
    backend.mentor_fail = BackendError("the model server stopped", hint="restart it with 'make serve'")

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press(*"will fail", "enter")
        await wait_for(pilot, lambda: app.conversation.answering is None and app.query(ChatTurn), what="the failure")
        await pilot.pause()
        meta = str(app.query_one(ChatTurn).query_one(".meta").render())
        assert "the model server stopped — restart it with 'make serve'" in meta
        assert app.query_one(PromptInput).text == "will fail"
        assert app.is_running
        assert any("model server stopped" in n.message for n in app._notifications)


@pytest.mark.asyncio
async def test_unexpected_exception_in_generation_does_not_close_the_app(make_app: MakeApp, backend: FakeBackend) -> None:
    backend.mentor_fail = RuntimeError("boom")

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press(*"q", "enter")
        await wait_for(pilot, lambda: app.conversation.answering is None and app.query(ChatTurn), what="the failure")
        await pilot.pause(0.1)
        assert app.is_running
        assert "generation failed: RuntimeError: boom" in str(app.query_one(ChatTurn).query_one(".meta").render())


@pytest.mark.asyncio
async def test_question_before_the_model_is_loaded_is_sent_when_ready(make_app: MakeApp, backend: FakeBackend) -> None:
    backend.load_gate = threading.Event()

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.mentor is None
        await pilot.press(*"early", "enter")
        await pilot.pause()
        assert "waiting for the model" in str(app.query_one(ChatTurn).query_one(".meta").render())
        backend.load_gate.set()
        await wait_for(pilot, lambda: app.conversation.last_answer is not None, what="the queued answer")
        assert backend.mentors[-1].calls[0][0] == "early"


@pytest.mark.asyncio
async def test_second_question_while_answering_is_refused(make_app: MakeApp, backend: FakeBackend) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        hold = backend.mentors[-1].hold = threading.Event()
        prompt = app.query_one(PromptInput)
        prompt.load_text("one")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.query(ChatTurn) and app.query_one(ChatTurn).raw, what="first tokens")
        prompt.load_text("two")
        await pilot.press("enter")
        assert prompt.text == "two"  # kept, not lost
        assert any("being written" in n.message for n in app._notifications)
        hold.set()
        await wait_for(pilot, lambda: app.conversation.last_answer is not None, what="the first answer")
        assert len(app.query(ChatTurn)) == 1
