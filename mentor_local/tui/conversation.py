"""The conversation: asking, streaming the answer into the chat, cancelling, follow-ups, a model that crashes.

``ConversationController`` owns the turns of the conversation on screen and the history the
Mentor gets with a follow-up.  The answer is written by a thread worker that reports through
``messages``; the app hands those messages (and the prompt's) to the controller.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING

from textual.worker import Worker, get_current_worker

from mentor_local.errors import ModelCrashed
from mentor_local.tui import messages as msg
from mentor_local.tui.safe import clean
from mentor_local.tui.widgets.chat import ChatPane, ChatTurn
from mentor_local.tui.widgets.prompt import PromptInput
from mentor_local.tui.widgets.sources import SourcesPane
from mentor_local.tui.widgets.status import StatusBar

if TYPE_CHECKING:
    from mentor_local.domain import Answer
    from mentor_local.tui.app import MentorApp
    from mentor_local.tui.sessions.store import Turn

CANCELLED = "Cancelled — your question is back in the box."


def answer_meta(answer: Answer) -> str:
    """The line under a finished answer: sources, checked citations, speed, time."""
    timings = answer.timings
    parts = [f"{len(answer.sources)} sources (F2)"]
    if answer.citations:
        valid = sum(1 for c in answer.citations if c.valid)
        parts.append(f"{valid}/{len(answer.citations)} citations checked")
    if timings.get("decode_tokens_per_s"):
        parts.append(f"{float(timings['decode_tokens_per_s']):.1f} tok/s")
    if timings.get("total_s"):
        parts.append(f"{float(timings['total_s']):.1f} s")
    return " · ".join(parts)


class ConversationController:
    """Questions in, answers streamed out: one answer at a time, queued while the model loads."""

    def __init__(self, app: MentorApp) -> None:
        self._app = app
        self.history: list[tuple[str, str]] = []  # (question, answer) pairs, oldest first: the follow-ups' context
        self.last_answer: Answer | None = None
        self._turn_seq = 0
        self._answering: ChatTurn | None = None
        self._pending: ChatTurn | None = None  # asked before the model and index were ready
        self._worker: Worker[None] | None = None

    @property
    def answering(self) -> ChatTurn | None:
        """The turn whose answer is being written, if any."""
        return self._answering

    @property
    def pending(self) -> ChatTurn | None:
        """The question waiting for the model and index, if any."""
        return self._pending

    @property
    def busy(self) -> bool:
        return self._answering is not None

    # ------------------------------------------------------------------ asking
    async def ask(self, question: str) -> None:
        app = self._app
        prompt = app.query_one(PromptInput)
        if self._answering is not None or self._pending is not None:
            app.notify("An answer is being written: wait, or press Esc to cancel it.", markup=False)
            return
        if app.blocker is not None and not app.indexer.running:
            app.set_notice(app.blocker)
            app.notify(app.blocker, severity="error", timeout=8, markup=False)
            return
        prompt.remember(question)
        prompt.clear()
        turn = await self._add_turn(question)
        if app.mentor is None or app.indexer.running:
            self._pending = turn
            turn.set_meta("waiting for the model and index to be ready…")
            return
        self._start(turn)

    async def _add_turn(self, question: str) -> ChatTurn:
        self._turn_seq += 1
        return await self._app.query_one(ChatPane).add_turn(self._turn_seq, question)

    def model_ready(self) -> None:
        """The model and index are ready: a question asked while they loaded is answered now."""
        if self._pending is not None:
            turn, self._pending = self._pending, None
            self._start(turn)

    def fail_pending(self, error: str) -> None:
        """The model or index will not be ready: the waiting question goes back in the box."""
        if self._pending is not None:
            turn, self._pending = self._pending, None
            turn.set_meta(error, error=True)
            self._app.query_one(PromptInput).restore(turn.question)

    def _start(self, turn: ChatTurn) -> None:
        self._answering = turn
        turn.set_meta("thinking… (Esc cancels)")
        work = functools.partial(self._write_answer, turn.turn_id, turn.question, tuple(self.history))
        self._worker = self._app.run_worker(work, name="answer", group="answer", exclusive=True, thread=True,
                                            exit_on_error=False)

    def _write_answer(self, turn_id: int, question: str, history: Sequence[tuple[str, str]]) -> None:
        """In a thread worker: stream the Mentor's answer to the app as messages."""
        app = self._app
        worker = get_current_worker()
        mentor = app.mentor
        answer: Answer | None = None
        error: str | None = None
        crashed = False
        stream = None
        try:
            if mentor is None:
                raise RuntimeError("no model is loaded")
            stream = mentor.stream(question, history)
            for item in stream:
                if worker.is_cancelled:
                    break
                if isinstance(item, str):
                    # Posted at once: a model can pause for seconds between pieces (reading the next
                    # section's prompt), and MarkdownStream already merges pieces that arrive quickly.
                    app.post_message(msg.TokensArrived(turn_id, clean(item)))
                else:
                    answer = item
        except Exception as exc:
            error = msg.error_text(exc, "generation failed")
            crashed = isinstance(exc, ModelCrashed)
        finally:
            if isinstance(stream, Generator):
                try:
                    stream.close()
                except Exception:  # a generator that fails to close must not hide the real outcome
                    error = error or "generation failed while stopping"
        if worker.is_cancelled:
            app.post_message(msg.AnswerFailed(turn_id, question, "Cancelled.", cancelled=True))
        elif error is not None:
            app.post_message(msg.AnswerFailed(turn_id, question, error, crashed=crashed))
        elif answer is None:
            app.post_message(msg.AnswerFailed(turn_id, question, "the model stopped without an answer"))
        else:
            app.post_message(msg.AnswerFinished(turn_id, question, answer))

    # ------------------------------------------------------- the worker's news
    def _turn(self, turn_id: int) -> ChatTurn | None:
        found = [t for t in self._app.query_one(ChatPane).turns() if t.turn_id == turn_id]
        return found[0] if found else None

    async def tokens_arrived(self, message: msg.TokensArrived) -> None:
        turn = self._turn(message.turn_id)
        if turn is not None:
            if not turn.raw:
                turn.set_meta("writing… (Esc cancels)")
            await turn.write(message.text)

    async def answer_finished(self, message: msg.AnswerFinished) -> None:
        app = self._app
        answer = message.answer
        turn = self._turn(message.turn_id)
        text = clean(answer.answer)
        if turn is not None:
            await turn.finish(text)  # a long answer takes a moment to lay out: still "answering" until done
            turn.set_meta(answer_meta(answer))
        self._answering = None
        self._worker = None
        self.last_answer = answer
        self.history.append((message.question, text))
        app.query_one(SourcesPane).set_hits(list(answer.sources))
        app.query_one(StatusBar).set_speed(answer.timings.get("decode_tokens_per_s"))
        if app.model_info is not None:
            app.query_one(StatusBar).set_model(app.model_info)  # after a crash: running again
        app.sessions.save_turn(message.question, text, answer)

    async def answer_failed(self, message: msg.AnswerFailed) -> None:
        app = self._app
        turn = self._turn(message.turn_id)
        self._answering = None
        self._worker = None
        if turn is not None:
            await turn.stop_stream()
            turn.set_meta(CANCELLED if message.cancelled else message.error, error=not message.cancelled)
        app.query_one(PromptInput).restore(message.question)
        if message.crashed:
            app.query_one(StatusBar).set_model(None, note="stopped · restarts with the next question")
        if not message.cancelled:
            app.notify(message.error, title="Answer failed", severity="error", timeout=10, markup=False)

    def cancel(self) -> None:
        """Esc: a waiting question goes back in the box; an answer being written stops."""
        if self._pending is not None:
            turn, self._pending = self._pending, None
            turn.set_meta(CANCELLED)
            self._app.query_one(PromptInput).restore(turn.question)
            return
        if self._answering is None:
            return
        self._answering.set_meta("cancelling…")
        # The worker first, so it reads as cancelled even if the Mentor then ends its stream with a partial Answer.
        if self._worker is not None:
            self._worker.cancel()
        if self._app.mentor is not None:
            self._app.mentor.cancel()

    # -------------------------------------------------- a fresh or saved one
    async def clear(self) -> None:
        """A new conversation: no turns on screen, no history, no sources."""
        await self._app.query_one(ChatPane).clear_turns()
        self.history.clear()
        self.last_answer = None
        self._app.query_one(SourcesPane).set_hits([])

    async def show_saved(self, turns: Sequence[Turn]) -> None:
        """Replace the conversation with saved turns (their answers become the follow-ups' history)."""
        chat = self._app.query_one(ChatPane)
        await chat.clear_turns()
        self.history = [(t.question, t.answer) for t in turns]
        self.last_answer = None
        self._app.query_one(SourcesPane).set_hits([])
        for t in turns:
            turn = await self._add_turn(t.question)
            await turn.finish(t.answer)
            turn.set_meta(f"saved {time.strftime('%Y-%m-%d %H:%M', time.localtime(t.created))}")
