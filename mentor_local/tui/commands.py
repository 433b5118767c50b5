"""The command palette provider: every app command, searchable (ctrl+p)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (title, help, action); the app runs the action string, so the palette and the keys share one code path.
COMMANDS: list[tuple[str, str, str]] = [
    ("Re-index the repo", "Update the index of the repo and the pattern library (ctrl+r)", "reindex"),
    ("New conversation", "Start a fresh conversation (ctrl+n)", "new_conversation"),
    ("Open a saved conversation", "Resume a conversation kept in the app data dir (ctrl+o)", "sessions"),
    ("Export conversation to Markdown", "Write this conversation to a .md file (ctrl+s)", "export"),
    ("Copy last answer", "Copy the last answer to the clipboard (f4)", "copy_answer"),
    ("Copy a code block", "Copy a code block of the last answer (f5)", "copy_code"),
    ("Show sources", "The code and cards behind the last answer (f2)", "show_tab('sources-tab')"),
    ("Show findings", "Review findings by topic and severity (f3)", "show_tab('findings-tab')"),
    ("Filter findings", "Type words to narrow the findings (ctrl+f)", "filter_findings"),
    ("Re-run the review", "Review the repo again for findings", "rereview"),
    ("Toggle side panel", "Hide or show sources and findings (f6)", "toggle_side"),
    ("Toggle dark / light theme", "Switch between the dark and light theme (ctrl+t)", "toggle_theme"),
    ("Cancel the answer", "Stop the answer being written (escape)", "cancel"),
    ("Help", "Keys and panes (f1)", "help"),
]


class MentorCommands(Provider):
    async def discover(self) -> Hits:
        for title, help_text, action in COMMANDS:
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in COMMANDS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self.app.run_action, action), help=help_text)
