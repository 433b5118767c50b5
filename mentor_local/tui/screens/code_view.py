"""A read-only code viewer: the file as syntax-highlighted text, the cited lines marked, and a card beside it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.style import Style
from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Markdown, Static

from mentor_local.tui.safe import clean

if TYPE_CHECKING:
    from mentor_local.knowledge import Card

WINDOW = 400  # lines shown either side of the cited range; enough context, bounded cost for huge files


def card_markdown(card: Card) -> str:
    """A pattern card as Markdown, in the card's own section order."""
    parts = [f"# {card.title}", "", f"`{card.id}` · {card.level} · topics: {', '.join(card.topics) or '-'}", ""]
    for name, body in card.sections.items():
        parts += [f"## {name}", "", body, ""]
    return "\n".join(parts)


class CodeViewer(Screen[None]):
    """Shows ``text`` (already read from disk) with lines ``start..end`` highlighted."""

    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("c", "copy_lines", "Copy lines"),
        Binding("tab", "focus_next", "Next pane", show=False),
    ]

    def __init__(
        self, path: str, text: str, start: int, end: int, *, card: Card | None = None, note: str = "", lexer: str | None = None
    ) -> None:
        super().__init__(classes="viewer")
        self.path = path
        self.lines = clean(text).split("\n")
        self.start = max(1, start)
        self.end = max(self.start, end)
        self.card = card
        self.note = note
        self.lexer = lexer or Syntax.guess_lexer(path, "\n".join(self.lines[:50]))

    def compose(self) -> ComposeResult:
        span = f"{self.start}" if self.start == self.end else f"{self.start}-{self.end}"
        title = Content.assemble((f" {clean(self.path)}:{span} ", "bold reverse"))
        if self.note:
            title = Content.assemble(title, "  ", (clean(self.note), "$text-muted"))
        yield Static(title, id="viewer-title")
        with Horizontal(id="viewer-body"):
            with ScrollableContainer(id="viewer-code"):
                yield Static(self._syntax(), id="viewer-syntax", expand=True)
            if self.card is not None:
                with VerticalScroll(id="viewer-card"):
                    yield Markdown(card_markdown(self.card), open_links=False)
        yield Footer()

    def _syntax(self) -> Syntax:
        first = max(1, self.start - WINDOW)
        last = min(len(self.lines), self.end + WINDOW)
        dark = self.app.current_theme.dark if self.is_attached else True
        syntax = Syntax(
            "\n".join(self.lines),
            self.lexer,
            theme="monokai" if dark else "friendly",
            line_numbers=True,
            line_range=(first, last),
            highlight_lines=set(range(self.start, self.end + 1)),
            word_wrap=False,
            indent_guides=False,
        )
        # A background on the whole cited range, not just the gutter marker Rich draws.
        mark = Style(bgcolor="#4a4400" if dark else "#fff0a8")
        syntax.stylize_range(mark, (self.start, 0), (self.end + 1, 0))
        return syntax

    def on_mount(self) -> None:
        self.query_one("#viewer-syntax", Static).update(self._syntax())
        first = max(1, self.start - WINDOW)
        code = self.query_one("#viewer-code", ScrollableContainer)
        code.focus()
        # Leave three lines of context above the cited range.
        self.call_after_refresh(code.scroll_to, y=max(0, self.start - first - 3), animate=False)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy_lines(self) -> None:
        self.app.copy_to_clipboard("\n".join(self.lines[self.start - 1 : self.end]))
        self.notify(f"Copied lines {self.start}-{self.end}", markup=False)
