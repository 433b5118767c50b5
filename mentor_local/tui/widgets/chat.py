"""The chat pane: each turn shows the question and the answer streaming in as Markdown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from mentor_local.tui.safe import clean, linkify

if TYPE_CHECKING:
    from textual.widgets import Markdown
    from textual.widgets.markdown import MarkdownStream

WELCOME = (
    "Ask about your repo: architecture, a bug, how to add a feature.\n"
    "Enter sends · ctrl+j newline · Esc cancels · F1 help · ctrl+p commands"
)


class ChatTurn(Vertical):
    """One question and its answer; the answer is Markdown that links ``path:line`` citations."""

    def __init__(self, turn_id: int, question: str) -> None:
        super().__init__(classes="turn", id=f"turn-{turn_id}")
        self.turn_id = turn_id
        self.question = question
        self.raw = ""
        self._stream: MarkdownStream | None = None

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown  # markdown-it loads with the first answer, not before the first paint

        yield Static(Content.assemble(("You ", "bold $accent"), clean(self.question)), classes="question")
        yield Markdown(open_links=False, classes="answer")
        yield Static(Content(""), classes="meta")

    @property
    def markdown(self) -> Markdown:
        from textual.widgets import Markdown

        return self.query_one(".answer", Markdown)

    def set_meta(self, text: str, *, error: bool = False) -> None:
        meta = self.query_one(".meta", Static)
        meta.update(Content(text))
        meta.set_class(error, "error")

    async def write(self, text: str) -> None:
        if self._stream is None:
            self._stream = self.markdown.get_stream(self.markdown)
        self.raw += text
        await self._stream.write(text)

    async def stop_stream(self) -> None:
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None

    async def finish(self, answer_markdown: str) -> None:
        """Stop streaming and render the final answer once, with citations as links."""
        await self.stop_stream()
        self.raw = clean(answer_markdown)
        await self.markdown.update(linkify(self.raw))


MAX_TURNS = 8  # drawn at once; every Markdown answer on screen costs each layout and repaint


class ChatPane(VerticalScroll):
    """Scrolls with new output (anchored to the bottom) unless the user scrolls up.

    Only the last ``MAX_TURNS`` turns are drawn: a long session would otherwise slow every key and
    every streamed token (measured: 9x slower key echo after 50 answers). Older turns stay in the
    conversation (SQLite), for export and resume; a line at the top says how many are not drawn.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.undrawn = 0

    def compose(self) -> ComposeResult:
        yield Static(Content(WELCOME), id="welcome")
        yield Static(Content(""), id="earlier", classes="meta")

    def on_mount(self) -> None:
        self.query_one("#earlier", Static).display = False
        self.anchor()

    async def add_turn(self, turn_id: int, question: str) -> ChatTurn:
        turn = ChatTurn(turn_id, question)
        await self.mount(turn)
        await self._prune()
        self.anchor()
        return turn

    async def _prune(self) -> None:
        turns = self.turns()
        old = turns[: max(0, len(turns) - MAX_TURNS)]
        if not old:
            return
        self.undrawn += len(old)
        await self.remove_children(old)
        note = self.query_one("#earlier", Static)
        note.update(Content(f"{self.undrawn} earlier turn(s) of this conversation are saved but not drawn "
                            "(ctrl+s exports the whole conversation, ctrl+o resumes it)"))
        note.display = True

    def turns(self) -> list[ChatTurn]:
        return list(self.query(ChatTurn))

    async def clear_turns(self) -> None:
        await self.query(ChatTurn).remove()
        self.undrawn = 0
        self.query_one("#earlier", Static).display = False
