"""``mentor-tui``: chat with the mentor about a repo, see the sources and findings, jump into the code.

Startup paints first; opening the index, loading the model and reviewing the
repo run in thread workers afterwards.  Workers report through messages
(``messages.py``); every worker error becomes a message in the app, never a crash.

``MentorApp`` is the screen (layout, keys, start-up); it hands each job to its own part:
``conversation`` (asking and answering), ``sessions.service`` (saved conversations, export,
clipboard), ``indexing`` (re-indexing) and ``navigation`` (the code viewer).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Footer, Label, ProgressBar, Static, TabbedContent, TabPane

from mentor_local.errors import IndexMissingError, MentorError
from mentor_local.settings import Settings
from mentor_local.tui import backend
from mentor_local.tui import messages as msg
from mentor_local.tui.conversation import ConversationController
from mentor_local.tui.indexing import IndexingController
from mentor_local.tui.navigation import CodeNavigator
from mentor_local.tui.sessions.service import SessionService
from mentor_local.tui.sessions.store import SessionStore
from mentor_local.tui.widgets.chat import ChatPane
from mentor_local.tui.widgets.findings import FindingsPane
from mentor_local.tui.widgets.prompt import PromptInput
from mentor_local.tui.widgets.sources import SourcesPane
from mentor_local.tui.widgets.status import StatusBar

if TYPE_CHECKING:
    from textual.command import Provider
    from textual.widgets import Markdown

    from mentor_local.domain import Finding
    from mentor_local.protocols import ChatModel


# Screens, the palette provider, Markdown and Syntax are imported when first used, not here:
# what the first frame does not show must not delay it (markdown-it, pygments, the palette).

_M = TypeVar("_M", bound=Message)


def _after_teardown_ok(handler: Callable[[MentorApp, _M], None]) -> Callable[[MentorApp, _M], None]:
    """For news from workers: a report that lands while the app tears its widgets down is dropped.

    A worker (index, model, review) can post after the user quit; its handler then finds no
    widgets to update. That is not an error; any other missing widget still raises.
    """
    from textual.css.query import NoMatches

    @functools.wraps(handler)
    def wrapper(self: MentorApp, message: _M) -> None:
        try:
            handler(self, message)
        except NoMatches:
            if self.default_screen.query(StatusBar):
                raise

    return wrapper


def _mentor_commands() -> type[Provider]:
    from mentor_local.tui.commands import MentorCommands

    return MentorCommands


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
        self._review = backend.SharedReview(reviewer or backend.review)
        self._models: list[ChatModel] = []  # local model processes started by the default factory (stopped on quit)
        self._make_mentor: backend.MentorFactory = mentor_factory or functools.partial(
            backend.make_mentor, reviewer=self._review, opened=self._models)
        self.index: backend.AppIndex | None = None
        self.index_status: backend.IndexStatus | None = None
        self.mentor: backend.MentorLike | None = None
        self.model_info: backend.ModelInfo | None = None
        self.findings: list[Finding] = []
        self.blocker: str | None = None  # why questions cannot be answered now, with the fix
        self._offered_refresh = False
        self.first_paint_at: float | None = None
        self.ready_at: float | None = None
        self.conversation = ConversationController(self)
        self.sessions = SessionService(self, sessions, home)
        self.indexer = IndexingController(self, indexer or backend.build_index)
        self.navigator = CodeNavigator(self, card_loader or backend.load_cards)

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
        self.open_and_load()
        self._run_review()

    def set_notice(self, text: str | None) -> None:
        notice = self.query_one("#notice", Static)
        notice.update(Content(text or ""))
        notice.display = bool(text)

    # ------------------------------------------------------------ startup work
    @work(thread=True, exclusive=True, group="startup", exit_on_error=False)
    def open_and_load(self, previous_index: backend.AppIndex | None = None,
                      previous_mentor: backend.MentorLike | None = None) -> None:
        """Open the index, then load the model over it (again after a re-index, handing the old ones over)."""
        try:
            index = self._open_index(self.repo, self.index_dir, self.settings, previous_index)
        except IndexMissingError as exc:
            self.post_message(msg.IndexMissing(exc.one_line()))
            return
        except Exception as exc:
            self.post_message(msg.IndexProblem(msg.error_text(exc, "cannot open the index")))
            return
        try:
            status: backend.IndexStatus | None = backend.index_status(index)
        except Exception:
            status = None  # counts are nice to have; the index itself opened fine
        self.post_message(msg.IndexOpened(index, status))
        try:
            mentor = self._make_mentor(index, self.settings, previous_mentor)
            info = backend.describe_model(mentor, self.settings)
        except Exception as exc:
            error = msg.error_text(exc, "the model failed to load")
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
            self.post_message(msg.FindingsReady([], msg.error_text(exc, "the review failed")))
            return
        self.post_message(msg.FindingsReady(findings))

    def review_again(self) -> None:
        """The repo changed (or the user asked): review it afresh."""
        self._review.invalidate()
        self._run_review()

    @_after_teardown_ok
    def on_index_opened(self, message: msg.IndexOpened) -> None:
        from mentor_local.tui.screens.dialogs import ConfirmScreen

        self.index = message.index
        self.index_status = message.status
        self.query_one(StatusBar).set_index(message.status)
        stale = message.status.stale_files if message.status is not None else 0
        if stale and not self._offered_refresh and not self.indexer.running:
            self._offered_refresh = True
            when = message.status.when if message.status is not None else ""
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
        self.conversation.fail_pending(self.blocker)
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
        self.conversation.fail_pending(message.error)

    @_after_teardown_ok
    def on_model_problem(self, message: msg.ModelProblem) -> None:
        self.blocker = message.error
        self.query_one(StatusBar).set_model(None, problem=message.error)
        self.set_notice(f"Model: {message.error}")
        self.notify(message.error, title="Model", severity="error", timeout=10, markup=False)
        self.conversation.fail_pending(message.error)

    @_after_teardown_ok
    def on_mentor_ready(self, message: msg.MentorReady) -> None:
        self.mentor = message.mentor
        self.model_info = message.info
        self.blocker = None
        self.ready_at = time.perf_counter()
        self.set_notice(None)
        self.query_one(StatusBar).set_model(message.info)
        self.conversation.model_ready()

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
        self.indexer.start()

    @_after_teardown_ok
    def on_index_progress(self, message: msg.IndexProgress) -> None:
        self.indexer.progressed(message)

    @_after_teardown_ok
    def on_index_built(self, message: msg.IndexBuilt) -> None:
        self.indexer.built(message)

    # ------------------------------------------------------- the conversation
    async def on_prompt_input_submitted(self, message: PromptInput.Submitted) -> None:
        await self.conversation.ask(message.text)

    def on_prompt_input_scroll_chat(self, message: PromptInput.ScrollChat) -> None:
        chat = self.query_one(ChatPane)
        if message.pages < 0:
            chat.scroll_page_up(animate=False)
        else:
            chat.scroll_page_down(animate=False)

    async def on_tokens_arrived(self, message: msg.TokensArrived) -> None:
        await self.conversation.tokens_arrived(message)

    async def on_answer_finished(self, message: msg.AnswerFinished) -> None:
        await self.conversation.answer_finished(message)

    async def on_answer_failed(self, message: msg.AnswerFailed) -> None:
        await self.conversation.answer_failed(message)

    def action_cancel(self) -> None:
        self.conversation.cancel()

    async def action_new_conversation(self) -> None:
        if self.conversation.busy:
            self.notify("Wait for the answer to finish (or Esc) first.", markup=False)
            return
        await self.conversation.clear()
        self.sessions.forget()
        self.query_one(PromptInput).focus()

    # ------------------------------------------------- saved conversations
    def action_sessions(self) -> None:
        self.sessions.pick()

    def action_export(self) -> None:
        self.sessions.export()

    def action_copy_answer(self) -> None:
        self.sessions.copy_answer()

    def action_copy_code(self) -> None:
        self.sessions.copy_code()

    # ------------------------------------------------------- viewer and links
    def on_markdown_link_clicked(self, message: Markdown.LinkClicked) -> None:  # from any Markdown, bubbled up
        message.stop()
        self.navigator.open_href(message.href)

    def on_sources_pane_open_hit(self, message: SourcesPane.OpenHit) -> None:
        self.navigator.open_hit(message.hit)

    def on_findings_pane_open_finding(self, message: FindingsPane.OpenFinding) -> None:
        self.navigator.open_finding(message.finding)

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
        self.review_again()

    def action_toggle_side(self) -> None:
        side = self.query_one("#side", TabbedContent)
        side.display = not side.display

    def action_focus_prompt(self) -> None:
        self.query_one(PromptInput).focus()

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def on_unmount(self) -> None:
        self.sessions.close()
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
