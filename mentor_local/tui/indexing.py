"""Re-indexing the repo from the app (ctrl+r): a thread worker builds the index while a progress bar shows the stages.

When the build is done, the app opens the new index and hands it the loaded model and
embedder, and the review runs again.
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Label, ProgressBar

from mentor_local.tui import messages as msg
from mentor_local.tui.safe import clean
from mentor_local.tui.widgets.status import StatusBar

if TYPE_CHECKING:
    from mentor_local.tui.app import MentorApp
    from mentor_local.tui.backend import AppIndex, Indexer

PROGRESS_EVERY_S = 0.05  # the UI needs ~20 updates/s at most


class IndexingController:
    def __init__(self, app: MentorApp, indexer: Indexer) -> None:
        self._app = app
        self._build_index = indexer
        self.running = False

    def start(self) -> None:
        app = self._app
        if self.running:
            app.notify("Indexing is already running.", markup=False)
            return
        if app.conversation.busy:
            app.notify("Wait for the answer to finish (or Esc) before re-indexing.", markup=False)
            return
        self.running = True
        previous, app.index = app.index, None
        app.query_one("#index-progress").display = True
        app.query_one("#index-stage", Label).update(Content("indexing: starting"))
        app.query_one("#index-bar", ProgressBar).update(total=None, progress=0)
        app.query_one(StatusBar).set_index(None, "indexing…")
        app.run_worker(functools.partial(self._index_repo, previous), name="index", group="index", exclusive=True,
                       thread=True, exit_on_error=False)

    def _index_repo(self, previous: AppIndex | None) -> None:
        """In a thread worker: build the index, then open it and load the model again."""
        app = self._app
        last = [0.0]

        def progress(stage: str, done: int, total: int) -> None:
            now = time.perf_counter()
            if now - last[0] >= PROGRESS_EVERY_S or done >= total:
                last[0] = now
                app.post_message(msg.IndexProgress(stage, done, total))

        try:
            report = self._build_index(app.repo, app.index_dir, app.settings, progress)
        except Exception as exc:
            app.post_message(msg.IndexBuilt(None, msg.error_text(exc, "indexing failed")))
            return
        app.post_message(msg.IndexBuilt(report))
        app.open_and_load(previous, app.mentor)

    def progressed(self, message: msg.IndexProgress) -> None:
        app = self._app
        app.query_one("#index-bar", ProgressBar).update(total=max(1, message.total), progress=message.done)
        app.query_one("#index-stage", Label).update(
            Content(f"indexing: {clean(message.stage)} {message.done}/{message.total}")
        )

    def built(self, message: msg.IndexBuilt) -> None:
        app = self._app
        self.running = False
        app.query_one("#index-progress").display = False
        if message.error:
            app.blocker = app.blocker or message.error
            app.query_one(StatusBar).set_index(None, "indexing failed")
            app.set_notice(f"Index: {message.error}")
            app.notify(message.error, title="Indexing failed", severity="error", timeout=10, markup=False)
            return
        report = message.report
        done = report.files_indexed if report is not None else "?"
        secs = report.seconds if report is not None else 0.0
        app.notify(f"Indexed: {done} file(s) updated in {secs:.1f} s.", title="Index", markup=False)
        app.review_again()
