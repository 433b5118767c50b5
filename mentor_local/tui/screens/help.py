"""The help screen (F1 or ``?``): keys and panes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

# (keys, what they do); tests check every app binding is listed here.
KEYS: list[tuple[str, str]] = [
    ("enter", "send the question"),
    ("ctrl+j", "new line in the question (shift+enter / alt+enter too, in terminals with the kitty keyboard protocol)"),
    ("up / down", "previous / next question (on the first / last line of the box)"),
    ("pageup / pagedown", "scroll the conversation (from the question box)"),
    ("escape", "cancel the answer being written"),
    ("f1 / ?", "this help (`?` when the question box is not focused)"),
    ("ctrl+p", "command palette: every command below, searchable"),
    ("ctrl+r", "re-index the repo (a progress bar shows the stages)"),
    ("ctrl+n", "new conversation"),
    ("ctrl+o", "open a saved conversation"),
    ("ctrl+s", "export the conversation to a Markdown file"),
    ("f4", "copy the last answer"),
    ("f5", "copy a code block of the last answer"),
    ("f2", "show the sources pane"),
    ("f3", "show the findings pane"),
    ("ctrl+f", "filter the findings"),
    ("f6", "hide or show the side panel"),
    ("ctrl+l", "focus the question box"),
    ("ctrl+t", "dark / light theme"),
    ("ctrl+q", "quit"),
]

PANES = """\
## Panes

- **Chat** (left): your questions and the mentor's answers, streamed as Markdown with six
  sections. `path:line` references in an answer are links: click one (or select its source)
  to open the code viewer there. Nothing in an answer ever opens a browser or runs a command.
- **Sources** (F2): the code and pattern-card hits behind the last answer: `path:line`,
  symbol, kind, code or card, score. Enter opens the code viewer with those lines marked.
- **Findings** (F3): what the review found in the repo, by topic and severity. Type in the
  filter box (words match topic, severity, rule, path, message). Enter on a finding opens
  the code and its pattern card.
- **Status bar**: the model and where it runs (CPU/GPU), the index (files, chunks, when it was
  last built, files changed since), and the speed of the last answer.

In the code viewer: Esc or q goes back, c copies the marked lines.
"""


def help_markdown() -> str:
    rows = "\n".join(f"| `{keys}` | {what} |" for keys, what in KEYS)
    return f"# mentor-tui\n\n## Keys\n\n| keys | action |\n|---|---|\n{rows}\n\n{PANES}"


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,f1,question_mark", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Markdown(help_markdown(), open_links=False)

    def action_close(self) -> None:
        self.dismiss(None)
