"""The question box: multi-line, Enter sends, newline keys insert, up/down walk the history."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import TextArea

# Most terminals send the same byte for shift+enter and alt+enter as for Enter (Textual
# reads ESC CR as plain enter); only terminals with the kitty keyboard protocol (kitty,
# WezTerm, foot, Ghostty) tell them apart.  ctrl+j sends a bare line feed, distinct from
# Enter's carriage return, in every terminal and in tmux: it is the newline key we document.
NEWLINE_KEYS = frozenset({"shift+enter", "ctrl+j", "alt+enter"})


class PromptInput(TextArea):
    """A TextArea that posts ``Submitted`` on Enter and keeps a question history."""

    class ScrollChat(Message):
        """PageUp/PageDown in the question box scroll the conversation (the box is only a few lines)."""

        def __init__(self, pages: int) -> None:
            super().__init__()
            self.pages = pages

    class Submitted(Message):
        def __init__(self, prompt: PromptInput, text: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self.questions: list[str] = []
        self._history_pos: int | None = None
        self._draft = ""

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text.strip()
            if text:
                self.post_message(self.Submitted(self, text))
            return
        if event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            start, end = self.selection
            self.replace("\n", start, end)
            return
        await super()._on_key(event)

    def remember(self, text: str) -> None:
        """Add a sent question to the history (consecutive repeats are kept once)."""
        if text and (not self.questions or self.questions[-1] != text):
            self.questions.append(text)
        self._history_pos = None

    def restore(self, text: str) -> None:
        """Put a question back (after a failure) unless the user already typed something new."""
        if not self.text.strip():
            self.load_text(text)
            self.move_cursor(self.document.end)

    def action_cursor_page_up(self) -> None:
        self.post_message(self.ScrollChat(-1))

    def action_cursor_page_down(self) -> None:
        self.post_message(self.ScrollChat(1))

    def action_cursor_up(self, select: bool = False) -> None:
        if select or self.cursor_location[0] > 0 or not self.questions:
            super().action_cursor_up(select)
            return
        if self._history_pos is None:
            self._draft = self.text
            self._history_pos = len(self.questions)
        if self._history_pos > 0:
            self._history_pos -= 1
            self.load_text(self.questions[self._history_pos])
            self.move_cursor((0, len(self.document[0])))

    def action_cursor_down(self, select: bool = False) -> None:
        last_row = self.document.line_count - 1
        if select or self.cursor_location[0] < last_row or self._history_pos is None:
            super().action_cursor_down(select)
            return
        self._history_pos += 1
        if self._history_pos >= len(self.questions):
            self._history_pos = None
            self.load_text(self._draft)
        else:
            self.load_text(self.questions[self._history_pos])
        self.move_cursor(self.document.end)
