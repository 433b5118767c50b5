"""What the app does with conversations beyond the screen: save each turn, resume one, export it, copy answers.

``SessionService`` opens the store on first use (an unwritable data directory costs the saving,
never the chat) and knows which saved conversation the chat on screen continues.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from textual.content import Content

from mentor_local.tui.safe import clean
from mentor_local.tui.sessions.store import SessionStore, default_path
from mentor_local.tui.widgets.chat import ChatPane

if TYPE_CHECKING:
    from mentor_local.domain import Answer
    from mentor_local.tui.app import MentorApp

WAIT_FOR_ANSWER = "Wait for the answer to finish (or Esc) first."


class SessionService:
    def __init__(self, app: MentorApp, store: SessionStore | None = None, home: Path | None = None) -> None:
        self._app = app
        self._store = store
        self._home = home
        self.conversation_id: int | None = None  # the saved conversation the chat continues

    @property
    def home(self) -> Path | None:
        return self._home or self._app.settings.home

    @property
    def store(self) -> SessionStore | None:
        if self._store is None:
            try:
                self._store = SessionStore(default_path(self.home))
            except Exception as exc:  # an unwritable data dir must not stop the chat
                self._app.notify(f"Conversations are not saved: {exc}", severity="warning", markup=False)
                return None
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

    # ------------------------------------------------------------------ saving
    def save_turn(self, question: str, text: str, answer: Answer) -> None:
        store = self.store
        if store is None:
            return
        try:
            if self.conversation_id is None:
                self.conversation_id = store.new_conversation(str(self._app.repo), question)
            sources = [f"{h.path}:{h.start_line}-{h.end_line}" for h in answer.sources]
            store.add_turn(self.conversation_id, question, text, {"sources": sources, "timings": answer.timings})
        except Exception as exc:
            self._app.notify(f"Could not save the conversation: {exc}", severity="warning", markup=False)

    def forget(self) -> None:
        """A new conversation starts: the next answer opens a new saved conversation."""
        self.conversation_id = None

    # ---------------------------------------------------------------- resuming
    def pick(self) -> None:
        """The saved conversations, this repo's first; the one chosen replaces the chat."""
        from mentor_local.tui.screens.dialogs import PickScreen

        store = self.store
        if store is None:
            return
        repo = str(self._app.repo)
        convs = store.list_conversations()
        mine = [c for c in convs if c.repo == repo] + [c for c in convs if c.repo != repo]
        choices: list[tuple[Content, int]] = []
        for c in mine:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(c.updated))
            where = "" if c.repo == repo else f" · {Path(c.repo).name}"
            choices.append((Content.assemble((clean(c.title), "bold"), (f"\n  {when} · {c.turns} turn(s){where}",
                                                                         "$text-muted")), c.id))
        self._app.push_screen(PickScreen("Resume a conversation", choices, "No saved conversations yet."), self.resume)

    async def resume(self, conversation_id: int | None) -> None:
        if conversation_id is None or self.store is None:
            return
        if self._app.conversation.busy:
            self._app.notify(WAIT_FOR_ANSWER, markup=False)
            return
        turns = self.store.turns(conversation_id)
        self.conversation_id = conversation_id
        await self._app.conversation.show_saved(turns)
        self._app.notify(f"Resumed a conversation of {len(turns)} turn(s).", markup=False)

    # --------------------------------------------------------------- exporting
    def export(self) -> None:
        """Ask where to write the conversation as Markdown, then write it."""
        if self.conversation_id is None or self.store is None:
            self._app.notify("Nothing to export yet: ask a question first.", markup=False)
            return
        from mentor_local.paths import app_home
        from mentor_local.tui.screens.dialogs import InputScreen

        default = app_home(self.home) / "exports" / f"conversation-{self.conversation_id}.md"
        self._app.push_screen(InputScreen("Export this conversation to (Markdown file):", str(default)),
                              self.export_to)

    def export_to(self, path: str | None) -> None:
        if not path or self.conversation_id is None or self.store is None:
            return
        target = Path(path).expanduser()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(self.store.export_markdown(self.conversation_id), encoding="utf-8")
        except OSError as exc:
            self._app.notify(f"Cannot write {target}: {exc}", severity="error", markup=False)
            return
        self._app.notify(f"Exported to {target}", title="Export", markup=False)

    # ---------------------------------------------------------------- copying
    def _last_text(self) -> str:
        turns = [t for t in self._app.query_one(ChatPane).turns() if t.raw]
        return turns[-1].raw if turns else ""

    def copy_answer(self) -> None:
        text = self._last_text()
        if not text:
            self._app.notify("No answer to copy yet.", markup=False)
            return
        self._app.copy_to_clipboard(text)
        self._app.notify(f"Copied the last answer ({len(text)} characters).", markup=False)

    def copy_code(self) -> None:
        """One code block of the last answer copies at once; with several, the user picks one."""
        from mentor_local.knowledge import code_blocks
        from mentor_local.tui.screens.dialogs import PickScreen

        blocks = code_blocks(self._last_text())
        if not blocks:
            self._app.notify("The last answer has no code block.", markup=False)
            return
        if len(blocks) == 1:
            self._copy_block(blocks[0][1])
            return
        choices: list[tuple[Content, str]] = []
        for info, code, _ in blocks:
            first = next((ln for ln in code.splitlines() if ln.strip()), "")
            choices.append((Content.assemble((info or "code", "bold"), " ", clean(first[:60])), code))
        self._app.push_screen(PickScreen("Copy which code block?", choices), self._copy_block)

    def _copy_block(self, code: str | None) -> None:
        if code:
            self._app.copy_to_clipboard(code)
            self._app.notify(f"Copied a code block ({len(code.splitlines())} lines).", markup=False)
