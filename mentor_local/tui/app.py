"""``mentor-tui``: chat with the mentor about a repo, see the sources and findings, jump into the code.

Startup paints first; opening the index, loading the model and reviewing the
repo run in thread workers afterwards.  Workers report through messages
(``messages.py``); every worker error becomes a message in the app, never a crash.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Footer, Label, ProgressBar, Static, TabbedContent, TabPane
from textual.worker import Worker, get_current_worker

from mentor_local.errors import IndexMissingError, MentorError, ModelCrashed
from mentor_local.settings import Settings
from mentor_local.tui import backend
from mentor_local.tui import messages as msg
from mentor_local.tui.safe import Ref, clean, parse_href, resolve_in
from mentor_local.tui.sessions import SessionStore
from mentor_local.tui.widgets.chat import ChatPane, ChatTurn
from mentor_local.tui.widgets.findings import FindingsPane
from mentor_local.tui.widgets.prompt import PromptInput
from mentor_local.tui.widgets.sources import SourcesPane
from mentor_local.tui.widgets.status import StatusBar

if TYPE_CHECKING:
    from textual.command import Provider
    from textual.widgets import Markdown


# Screens, the palette provider, Markdown and Syntax are imported when first used, not here:
# what the first frame does not show must not delay it (markdown-it, pygments, the palette).

MAX_VIEW_BYTES = 4_000_000


def _after_teardown_ok(handler: Any) -> Any:
    """For news from workers: a report that lands while the app tears its widgets down is dropped.

    A worker (index, model, review) can post after the user quit; its handler then finds no
    widgets to update. That is not an error; any other missing widget still raises.
    """
    from textual.css.query import NoMatches

    @functools.wraps(handler)
    def wrapper(self: Any, message: Any) -> Any:
        try:
            return handler(self, message)
        except NoMatches:
            if self.default_screen.query(StatusBar):
                raise
            return None

    return wrapper


def _mentor_commands() -> type[Provider]:
    from mentor_local.tui.commands import MentorCommands

    return MentorCommands


def _error_text(exc: BaseException, what: str) -> str:
    if isinstance(exc, MentorError):
        return exc.one_line()
    return f"{what}: {type(exc).__name__}: {exc}"


class MentorApp(App[None]):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses (tests, benches) live elsewhere
    TITLE = "mentor"
    COMMANDS = App.COMMANDS | {_mentor_commands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("escape", "cancel", "Cancel", show=False),
        Binding("ctrl+r", "reindex", "Re-index"),
        Binding("ctrl+n", "new_conversation", "New"),
        Binding("ctrl+o", "sessions", "Sessions"),
        Binding("ctrl+s", "export", "Export"),
        Binding("f2", "show_tab('sources-tab')", "Sources", show=False),
        Binding("f3", "show_tab('findings-tab')", "Findings", show=False),
        Binding("f4", "copy_answer", "Copy answer", show=False),
        Binding("f5", "copy_code", "Copy code", show=False),
        # priority: the question box (a TextArea) binds f6 to "select line".
        Binding("f6", "toggle_side", "Side panel", show=False, priority=True),
        Binding("ctrl+f", "filter_findings", "Filter", show=False),
        Binding("ctrl+l", "focus_prompt", "Prompt", show=False),
        Binding("ctrl+t", "toggle_theme", "Theme"),
    ]

    def __init__(
        self,
        repo: Path,
        *,
        model: str | None = None,
        index_dir: Path | None = None,
        llm_url: str | None = None,
        settings: Settings | None = None,
        mentor_factory: backend.MentorFactory | None = None,
        index_opener: backend.IndexOpener | None = None,
        indexer: backend.Indexer | None = None,
        reviewer: backend.Reviewer | None = None,
        card_loader: backend.CardLoader | None = None,
        sessions: SessionStore | None = None,
        home: Path | None = None,
    ) -> None:
        super().__init__()
        self.repo = repo.resolve()
        if settings is None:
            from mentor_local.settings import load_settings

            settings = load_settings(self.repo, model=model, index_dir=index_dir, llm_url=llm_url)
        self.settings = settings
        self.index_dir = index_dir or settings.index_dir
        self._open_index = index_opener or backend.open_index
        self._build_index = indexer or backend.build_index
        self._review = backend.SharedReview(reviewer or backend.review)
        self._models: list[Any] = []  # local model processes started by the default factory (stopped on quit)
        self._make_mentor = mentor_factory or functools.partial(backend.make_mentor, reviewer=self._review,
                                                                opened=self._models)
        self._load_cards = card_loader or backend.load_cards
        self._store = sessions
        self._home = home
        self.index: Any = None
        self.index_status: dict[str, Any] | None = None
        self.mentor: Any = None
        self.model_info: dict[str, Any] | None = None
        self.findings: list[Any] = []
        self.cards: dict[str, Any] | None = None
        self.blocker: str | None = None  # why questions cannot be answered now, with the fix
        self.history: list[tuple[str, str]] = []
        self.conversation_id: int | None = None
        self.last_answer: Any = None
        self.indexing = False
        self._turn_seq = 0
        self._answering: ChatTurn | None = None
        self._pending: ChatTurn | None = None
        self._answer_worker: Worker[None] | None = None
        self._offered_refresh = False
        self.first_paint_at: float | None = None
        self.ready_at: float | None = None

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="chat-column"):
                yield Static(Content(""), id="notice", markup=False)
                yield ChatPane(id="chat")
                with Horizontal(id="index-progress"):
                    yield Label(Content("indexing"), id="index-stage")
                    yield ProgressBar(id="index-bar", show_eta=False)
                yield PromptInput(id="prompt")
            with TabbedContent(id="side", initial="sources-tab"):
                with TabPane("Sources", id="sources-tab"):
                    yield SourcesPane(id="sources")
                with TabPane("Findings", id="findings-tab"):
                    yield FindingsPane(id="findings")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(PromptInput).focus()
        self.query_one(PromptInput).border_title = "Ask (Enter sends · ctrl+j new line)"
        # Heavy work starts only after the first frame is on screen.
        self.call_after_refresh(self._after_first_paint)

    def _after_first_paint(self) -> None:
        self.first_paint_at = time.perf_counter()
        self._open_and_load()
        self._run_review()

    @property
    def store(self) -> SessionStore | None:
        if self._store is None:
            from mentor_local.tui.sessions import default_path

            try:
                self._store = SessionStore(default_path(self._home or self.settings.home))
            except Exception as exc:  # an unwritable data dir must not stop the chat
                self.notify(f"Conversations are not saved: {exc}", severity="warning", markup=False)
                return None
        return self._store

    def set_notice(self, text: str | None) -> None:
        notice = self.query_one("#notice", Static)
        notice.update(Content(text or ""))
        notice.display = bool(text)

    # ------------------------------------------------------------ startup work
    @work(thread=True, exclusive=True, group="startup", exit_on_error=False)
    def _open_and_load(self, previous_index: Any = None, previous_mentor: Any = None) -> None:
        try:
            index = self._open_index(self.repo, self.index_dir, self.settings, previous_index)
        except IndexMissingError as exc:
            self.post_message(msg.IndexMissing(exc.one_line()))
            return
        except Exception as exc:
            self.post_message(msg.IndexProblem(_error_text(exc, "cannot open the index")))
            return
        try:
            status = backend.index_status(index)
        except Exception:
            status = None  # counts are nice to have; the index itself opened fine
        self.post_message(msg.IndexOpened(index, status))
        try:
            mentor = self._make_mentor(index, self.settings, previous_mentor)
            info = backend.describe_model(mentor, self.settings)
        except Exception as exc:
            error = _error_text(exc, "the model failed to load")
            if not isinstance(exc, MentorError):
                error += " — check --model (a .gguf file) or run 'mentor doctor'"
            self.post_message(msg.ModelProblem(error))
            return
        self.post_message(msg.MentorReady(mentor, info))

    @work(thread=True, exclusive=True, group="review", exit_on_error=False)
    def _run_review(self) -> None:
        try:
            findings = list(self._review(self.repo))
        except Exception as exc:
            self.post_message(msg.FindingsReady([], _error_text(exc, "the review failed")))
            return
        self.post_message(msg.FindingsReady(findings))

    @_after_teardown_ok
    def on_index_opened(self, message: msg.IndexOpened) -> None:
        from mentor_local.tui.screens.dialogs import ConfirmScreen

        self.index = message.index
        self.index_status = message.status
        self.query_one(StatusBar).set_index(message.status)
        stale = int((message.status or {}).get("stale_files") or 0)
        if stale and not self._offered_refresh and not self.indexing:
            self._offered_refresh = True
            when = str((message.status or {}).get("last_indexed") or "")[:16].replace("T", " ")
            self.push_screen(
                ConfirmScreen(
                    f"{stale} file(s) changed since the index was built ({when}).\n"
                    "Refresh the index now? Answers use the indexed code.",
                    yes="Refresh",
                    no="Later",
                ),
                self._maybe_reindex,
            )

    @_after_teardown_ok
    def on_index_missing(self, message: msg.IndexMissing) -> None:
        from mentor_local.tui.screens.dialogs import ConfirmScreen

        self.blocker = "This repo has no index yet: press ctrl+r (or 'Re-index' in ctrl+p) to build it."
        self.query_one(StatusBar).set_index(None, "none yet (ctrl+r builds it)")
        self.query_one(StatusBar).set_model(None, problem="waiting for an index")
        self.set_notice(self.blocker)
        self._fail_pending(self.blocker)
        self.push_screen(
            ConfirmScreen(
                f"No index for {self.repo.name} yet.\nBuild it now? It reads and embeds every source file "
                "(about a minute for a small repo); answers need it.",
                yes="Build index",
                no="Not now",
            ),
            self._maybe_reindex,
        )

    @_after_teardown_ok
    def on_index_problem(self, message: msg.IndexProblem) -> None:
        self.blocker = message.error
        self.query_one(StatusBar).set_index(None, "not available")
        self.set_notice(f"Index: {message.error}")
        self.notify(message.error, title="Index", severity="error", timeout=10, markup=False)
        self._fail_pending(message.error)

    @_after_teardown_ok
    def on_model_problem(self, message: msg.ModelProblem) -> None:
        self.blocker = message.error
        self.query_one(StatusBar).set_model(None, problem=message.error)
        self.set_notice(f"Model: {message.error}")
        self.notify(message.error, title="Model", severity="error", timeout=10, markup=False)
        self._fail_pending(message.error)

    @_after_teardown_ok
    def on_mentor_ready(self, message: msg.MentorReady) -> None:
        self.mentor = message.mentor
        self.model_info = message.info
        self.blocker = None
        self.ready_at = time.perf_counter()
        self.set_notice(None)
        self.query_one(StatusBar).set_model(message.info)
        if self._pending is not None:
            turn, self._pending = self._pending, None
            self._start_answer(turn)

    @_after_teardown_ok
    def on_findings_ready(self, message: msg.FindingsReady) -> None:
        self.findings = message.findings
        pane = self.query_one(FindingsPane)
        pane.set_findings(message.findings, note=f"Review: {message.error}" if message.error else None)
        label = f"Findings ({len(message.findings)})" if message.findings else "Findings"
        self.query_one(TabbedContent).get_tab("findings-tab").label = Content(label)
        if message.error:
            self.notify(message.error, title="Review", severity="warning", markup=False)

    # --------------------------------------------------------------- indexing
    def _maybe_reindex(self, yes: bool | None) -> None:
        if yes:
            self.action_reindex()

    def action_reindex(self) -> None:
        if self.indexing:
            self.notify("Indexing is already running.", markup=False)
            return
        if self._answering is not None:
            self.notify("Wait for the answer to finish (or Esc) before re-indexing.", markup=False)
            return
        self.indexing = True
        previous = self.index
        self.index = None
        self.query_one("#index-progress").display = True
        self.query_one("#index-stage", Label).update(Content("indexing: starting"))
        self.query_one("#index-bar", ProgressBar).update(total=None, progress=0)
        self.query_one(StatusBar).set_index(None, "indexing…")
        self._index_repo(previous)

    @work(thread=True, exclusive=True, group="index", exit_on_error=False)
    def _index_repo(self, previous: Any) -> None:
        last = [0.0]

        def progress(stage: str, done: int, total: int) -> None:
            now = time.perf_counter()
            if now - last[0] >= 0.05 or done >= total:  # the UI needs ~20 updates/s at most
                last[0] = now
                self.post_message(msg.IndexProgress(stage, done, total))

        try:
            report = self._build_index(self.repo, self.index_dir, self.settings, progress)
        except Exception as exc:
            self.post_message(msg.IndexBuilt(None, _error_text(exc, "indexing failed")))
            return
        self.post_message(msg.IndexBuilt(report))
        self._open_and_load(previous, self.mentor)

    @_after_teardown_ok
    def on_index_progress(self, message: msg.IndexProgress) -> None:
        bar = self.query_one("#index-bar", ProgressBar)
        bar.update(total=max(1, message.total), progress=message.done)
        self.query_one("#index-stage", Label).update(
            Content(f"indexing: {clean(message.stage)} {message.done}/{message.total}")
        )

    @_after_teardown_ok
    def on_index_built(self, message: msg.IndexBuilt) -> None:
        self.indexing = False
        self.query_one("#index-progress").display = False
        if message.error:
            self.blocker = self.blocker or message.error
            self.query_one(StatusBar).set_index(None, "indexing failed")
            self.set_notice(f"Index: {message.error}")
            self.notify(message.error, title="Indexing failed", severity="error", timeout=10, markup=False)
            return
        report = message.report
        done = getattr(report, "files_indexed", "?")
        secs = getattr(report, "seconds", 0.0)
        self.notify(f"Indexed: {done} file(s) updated in {secs:.1f} s.", title="Index", markup=False)
        self._review.invalidate()
        self._run_review()

    # ---------------------------------------------------------------- asking
    async def on_prompt_input_submitted(self, message: PromptInput.Submitted) -> None:
        question = message.text
        prompt = self.query_one(PromptInput)
        if self._answering is not None or self._pending is not None:
            self.notify("An answer is being written: wait, or press Esc to cancel it.", markup=False)
            return
        if self.blocker is not None and not self.indexing:
            self.set_notice(self.blocker)
            self.notify(self.blocker, severity="error", timeout=8, markup=False)
            return
        prompt.remember(question)
        prompt.clear()
        self._turn_seq += 1
        turn = await self.query_one(ChatPane).add_turn(self._turn_seq, question)
        if self.mentor is None or self.indexing:
            self._pending = turn
            turn.set_meta("waiting for the model and index to be ready…")
            return
        self._start_answer(turn)

    def on_prompt_input_scroll_chat(self, message: PromptInput.ScrollChat) -> None:
        chat = self.query_one(ChatPane)
        if message.pages < 0:
            chat.scroll_page_up(animate=False)
        else:
            chat.scroll_page_down(animate=False)

    def _start_answer(self, turn: ChatTurn) -> None:
        self._answering = turn
        turn.set_meta("thinking… (Esc cancels)")
        self._answer_worker = self._answer(turn.turn_id, turn.question, tuple(self.history))

    def _fail_pending(self, error: str) -> None:
        if self._pending is not None:
            turn, self._pending = self._pending, None
            turn.set_meta(error, error=True)
            self.query_one(PromptInput).restore(turn.question)

    @work(thread=True, exclusive=True, group="answer", exit_on_error=False)
    def _answer(self, turn_id: int, question: str, history: Sequence[tuple[str, str]]) -> None:
        worker = get_current_worker()
        mentor = self.mentor
        answer: Any = None
        error: str | None = None
        crashed = False
        stream = None
        try:
            stream = mentor.stream(question, history)
            for item in stream:
                if worker.is_cancelled:
                    break
                if isinstance(item, str):
                    # Posted at once: a model can pause for seconds between pieces (reading the next
                    # section's prompt), and MarkdownStream already merges pieces that arrive quickly.
                    self.post_message(msg.TokensArrived(turn_id, clean(item)))
                else:
                    answer = item
        except Exception as exc:
            error = _error_text(exc, "generation failed")
            crashed = isinstance(exc, ModelCrashed)
        finally:
            close = getattr(stream, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:  # a generator that fails to close must not hide the real outcome
                    error = error or "generation failed while stopping"
        if worker.is_cancelled:
            self.post_message(msg.AnswerFailed(turn_id, question, "Cancelled.", cancelled=True))
        elif error is not None:
            self.post_message(msg.AnswerFailed(turn_id, question, error, crashed=crashed))
        elif answer is None:
            self.post_message(msg.AnswerFailed(turn_id, question, "the model stopped without an answer"))
        else:
            self.post_message(msg.AnswerFinished(turn_id, question, answer))

    def _turn(self, turn_id: int) -> ChatTurn | None:
        found = [t for t in self.query_one(ChatPane).turns() if t.turn_id == turn_id]
        return found[0] if found else None

    async def on_tokens_arrived(self, message: msg.TokensArrived) -> None:
        turn = self._turn(message.turn_id)
        if turn is not None:
            if not turn.raw:
                turn.set_meta("writing… (Esc cancels)")
            await turn.write(message.text)

    async def on_answer_finished(self, message: msg.AnswerFinished) -> None:
        answer = message.answer
        turn = self._turn(message.turn_id)
        text = clean(str(getattr(answer, "answer", "")))
        if turn is not None:
            await turn.finish(text)  # a long answer takes a moment to lay out: still "answering" until done
            turn.set_meta(self._answer_meta(answer))
        self._answering = None
        self._answer_worker = None
        self.last_answer = answer
        self.history.append((message.question, text))
        sources = list(getattr(answer, "sources", []) or [])
        self.query_one(SourcesPane).set_hits(sources)
        timings = getattr(answer, "timings", {}) or {}
        self.query_one(StatusBar).set_speed(timings.get("decode_tokens_per_s"))
        if self.model_info is not None:
            self.query_one(StatusBar).set_model(self.model_info)  # after a crash: running again
        self._save_turn(message.question, text, answer)

    def _answer_meta(self, answer: Any) -> str:
        timings = getattr(answer, "timings", {}) or {}
        citations = list(getattr(answer, "citations", []) or [])
        parts = [f"{len(getattr(answer, 'sources', []) or [])} sources (F2)"]
        if citations:
            valid = sum(1 for c in citations if getattr(c, "valid", False))
            parts.append(f"{valid}/{len(citations)} citations checked")
        if timings.get("decode_tokens_per_s"):
            parts.append(f"{float(timings['decode_tokens_per_s']):.1f} tok/s")
        if timings.get("total_s"):
            parts.append(f"{float(timings['total_s']):.1f} s")
        return " · ".join(parts)

    def _save_turn(self, question: str, text: str, answer: Any) -> None:
        store = self.store
        if store is None:
            return
        try:
            if self.conversation_id is None:
                self.conversation_id = store.new_conversation(str(self.repo), question)
            sources = [f"{h.path}:{h.start_line}-{h.end_line}" for h in getattr(answer, "sources", []) or []]
            store.add_turn(self.conversation_id, question, text, {"sources": sources,
                                                                   "timings": getattr(answer, "timings", {})})
        except Exception as exc:
            self.notify(f"Could not save the conversation: {exc}", severity="warning", markup=False)

    async def on_answer_failed(self, message: msg.AnswerFailed) -> None:
        turn = self._turn(message.turn_id)
        self._answering = None
        self._answer_worker = None
        if turn is not None:
            await turn.stop_stream()
            note = "Cancelled — your question is back in the box." if message.cancelled else message.error
            turn.set_meta(note, error=not message.cancelled)
        self.query_one(PromptInput).restore(message.question)
        if message.crashed:
            self.query_one(StatusBar).set_model(None, note="stopped · restarts with the next question")
        if not message.cancelled:
            self.notify(message.error, title="Answer failed", severity="error", timeout=10, markup=False)

    def action_cancel(self) -> None:
        if self._pending is not None:
            turn, self._pending = self._pending, None
            turn.set_meta("Cancelled — your question is back in the box.")
            self.query_one(PromptInput).restore(turn.question)
            return
        if self._answering is None:
            return
        self._answering.set_meta("cancelling…")
        # The worker first, so it reads as cancelled even if the Mentor then ends its stream with a partial Answer.
        if self._answer_worker is not None:
            self._answer_worker.cancel()
        cancel = getattr(self.mentor, "cancel", None)
        if callable(cancel):
            cancel()

    # ------------------------------------------------------- viewer and links
    def on_markdown_link_clicked(self, message: Markdown.LinkClicked) -> None:  # from any Markdown, bubbled up
        message.stop()
        ref = parse_href(message.href)
        if ref is None:
            self.notify(f"Links are not opened from mentor-tui: {clean(message.href)}", markup=False)
            return
        self.open_ref(ref)

    def on_sources_pane_open_hit(self, message: SourcesPane.OpenHit) -> None:
        hit = message.hit
        note = f"{hit.symbol or hit.kind} · {hit.source} · score {hit.score:.3f}"
        self.open_location(hit.path, hit.start_line, hit.end_line, note=note, knowledge=hit.source == "knowledge")

    def on_findings_pane_open_finding(self, message: FindingsPane.OpenFinding) -> None:
        f = message.finding
        card = self.card(f.card) if f.card else None
        note = f"{f.severity} · {f.topic} · {f.rule}: {f.message}"
        self.open_location(f.path, f.line, f.end_line or f.line, note=note, card=card)

    def card(self, card_id: str) -> Any:
        if self.cards is None:
            try:
                self.cards = {c.id: c for c in self._load_cards()}
            except Exception as exc:
                self.notify(f"Cannot read the pattern cards: {exc}", severity="warning", markup=False)
                self.cards = {}
        return self.cards.get(card_id)

    def open_ref(self, ref: Ref) -> None:
        hit = next((h for h in getattr(self.last_answer, "sources", []) or [] if h.path == ref.path), None)
        note = "cited in the answer" + (f" · {hit.symbol}" if hit is not None and hit.symbol else "")
        self.open_location(ref.path, ref.start, ref.end, note=note, knowledge=ref.path.startswith("knowledge/"))

    def open_location(
        self, path: str, start: int, end: int, *, note: str = "", card: Any = None, knowledge: bool = False
    ) -> None:
        target = resolve_in(self.repo, path)
        if target is None and knowledge:
            from mentor_local.paths import knowledge_dir

            target = resolve_in(knowledge_dir(), path.split("/", 1)[-1])
        if target is None:
            self.notify(f"Cannot open {path}: not a file inside {self.repo}", severity="error", markup=False)
            return
        try:
            if target.stat().st_size > MAX_VIEW_BYTES:
                raise OSError(f"larger than {MAX_VIEW_BYTES // 1_000_000} MB")
            text = target.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            self.notify(f"Cannot read {path}: {exc}", severity="error", markup=False)
            return
        from mentor_local.tui.screens.code_view import CodeViewer

        self.push_screen(CodeViewer(path, text, start, end, card=card, note=note))

    # ------------------------------------------------------ conversations
    async def action_new_conversation(self) -> None:
        if self._answering is not None:
            self.notify("Wait for the answer to finish (or Esc) first.", markup=False)
            return
        await self.query_one(ChatPane).clear_turns()
        self.history.clear()
        self.conversation_id = None
        self.last_answer = None
        self.query_one(SourcesPane).set_hits([])
        self.query_one(PromptInput).focus()

    def action_sessions(self) -> None:
        from mentor_local.tui.screens.dialogs import PickScreen

        store = self.store
        if store is None:
            return
        convs = store.list_conversations()
        mine = [c for c in convs if c.repo == str(self.repo)] + [c for c in convs if c.repo != str(self.repo)]
        choices: list[tuple[Content, Any]] = []
        for c in mine:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(c.updated))
            where = "" if c.repo == str(self.repo) else f" · {Path(c.repo).name}"
            choices.append((Content.assemble((clean(c.title), "bold"), (f"\n  {when} · {c.turns} turn(s){where}",
                                                                         "$text-muted")), c.id))
        self.push_screen(PickScreen("Resume a conversation", choices, "No saved conversations yet."), self._resume)

    async def _resume(self, conversation_id: Any) -> None:
        if conversation_id is None or self.store is None:
            return
        if self._answering is not None:
            self.notify("Wait for the answer to finish (or Esc) first.", markup=False)
            return
        turns = self.store.turns(int(conversation_id))
        chat = self.query_one(ChatPane)
        await chat.clear_turns()
        self.history = [(t.question, t.answer) for t in turns]
        self.conversation_id = int(conversation_id)
        self.last_answer = None
        self.query_one(SourcesPane).set_hits([])
        for t in turns:
            self._turn_seq += 1
            turn = await chat.add_turn(self._turn_seq, t.question)
            await turn.finish(t.answer)
            turn.set_meta(f"saved {time.strftime('%Y-%m-%d %H:%M', time.localtime(t.created))}")
        self.notify(f"Resumed a conversation of {len(turns)} turn(s).", markup=False)

    def action_export(self) -> None:
        if self.conversation_id is None or self.store is None:
            self.notify("Nothing to export yet: ask a question first.", markup=False)
            return
        from mentor_local.paths import app_home
        from mentor_local.tui.screens.dialogs import InputScreen

        default = app_home(self._home or self.settings.home) / "exports" / f"conversation-{self.conversation_id}.md"
        self.push_screen(InputScreen("Export this conversation to (Markdown file):", str(default)), self._export_to)

    def _export_to(self, path: str | None) -> None:
        if not path or self.conversation_id is None or self.store is None:
            return
        target = Path(path).expanduser()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(self.store.export_markdown(self.conversation_id), encoding="utf-8")
        except OSError as exc:
            self.notify(f"Cannot write {target}: {exc}", severity="error", markup=False)
            return
        self.notify(f"Exported to {target}", title="Export", markup=False)

    def _last_text(self) -> str:
        turns = [t for t in self.query_one(ChatPane).turns() if t.raw]
        return turns[-1].raw if turns else ""

    def action_copy_answer(self) -> None:
        text = self._last_text()
        if not text:
            self.notify("No answer to copy yet.", markup=False)
            return
        self.copy_to_clipboard(text)
        self.notify(f"Copied the last answer ({len(text)} characters).", markup=False)

    def action_copy_code(self) -> None:
        from mentor_local.knowledge import code_blocks
        from mentor_local.tui.screens.dialogs import PickScreen

        blocks = code_blocks(self._last_text())
        if not blocks:
            self.notify("The last answer has no code block.", markup=False)
            return
        if len(blocks) == 1:
            self._copy_block(blocks[0][1])
            return
        choices: list[tuple[Content, Any]] = []
        for info, code, _ in blocks:
            first = next((ln for ln in code.splitlines() if ln.strip()), "")
            choices.append((Content.assemble((info or "code", "bold"), " ", clean(first[:60])), code))
        self.push_screen(PickScreen("Copy which code block?", choices), self._copy_block)

    def _copy_block(self, code: Any) -> None:
        if code:
            self.copy_to_clipboard(str(code))
            self.notify(f"Copied a code block ({len(str(code).splitlines())} lines).", markup=False)

    # ------------------------------------------------------------- the rest
    def action_help(self) -> None:
        from mentor_local.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_show_tab(self, tab: str) -> None:
        side = self.query_one("#side", TabbedContent)
        side.display = True
        side.active = tab
        if tab == "sources-tab":
            self.query_one(SourcesPane).focus()
        else:
            self.query_one("#findings-tree").focus()

    def action_filter_findings(self) -> None:
        self.action_show_tab("findings-tab")
        self.query_one("#findings-filter").focus()

    def action_rereview(self) -> None:
        self.query_one(FindingsPane).set_findings([], note="Reviewing the repo…")
        self._review.invalidate()
        self._run_review()

    def action_toggle_side(self) -> None:
        side = self.query_one("#side", TabbedContent)
        side.display = not side.display

    def action_focus_prompt(self) -> None:
        self.query_one(PromptInput).focus()

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def on_unmount(self) -> None:
        if self._store is not None:
            self._store.close()
        # The model's process ends with the app (atexit would, later); closing never turns a quit into a traceback.
        with contextlib.suppress(Exception):
            backend.close_model(self.mentor, self._models)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mentor-tui", description="Chat with an offline mentor about a repo.")
    parser.add_argument("--repo", default=".", help="the repo to mentor (default: the current directory)")
    parser.add_argument("--model", default=None, metavar="GGUF|small",
                        help="a GGUF model file, or a bundled preset: default (1.5B) or small (0.5B, for slow machines)")
    parser.add_argument("--index-dir", type=Path, default=None, metavar="DIR", help="where the index lives")
    parser.add_argument("--llm-url", default=None, metavar="URL", help="an OpenAI-compatible server (http://HOST:PORT/v1)")
    args = parser.parse_args(argv)
    try:
        from mentor_local.commands.common import repo_path
        from mentor_local.offline import apply

        apply()  # before any worker imports a heavy library
        repo = repo_path(args.repo)
        app = MentorApp(repo, model=args.model, index_dir=args.index_dir, llm_url=args.llm_url)
    except MentorError as exc:
        print(f"mentor-tui: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
