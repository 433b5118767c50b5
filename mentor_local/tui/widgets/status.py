"""The status bar: model and device, index state, speed of the last answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from mentor_local.tui.safe import clean

if TYPE_CHECKING:
    from mentor_local.tui.backend import IndexStatus, ModelInfo


def _when(iso: str | None) -> str:
    text = str(iso or "")
    # "2026-11-27T05:40:12+00:00" -> "2026-11-27 05:40": the seconds and zone only cost columns.
    return text[:16].replace("T", " ") if len(text) >= 16 else text or "?"


class StatusBar(Static):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Content(""), id=id, markup=False)
        self.model = "model: loading…"
        self.index = "index: opening…"
        self.speed = ""

    def on_mount(self) -> None:
        self._redraw()

    def set_model(self, info: ModelInfo | None, problem: str | None = None, *, note: str | None = None) -> None:
        if note:
            self.model = f"model: {note}"
        elif problem:
            self.model = "model: not loaded"
        elif info is None:
            self.model = "model: loading…"
        else:
            name = clean(info.name)
            name = name[:-5] if name.endswith(".gguf") else name
            self.model = f"{name} ({info.device})"
        self._redraw()

    def set_index(self, status: IndexStatus | None, state: str | None = None) -> None:
        if state is not None:
            self.index = f"index: {state}"
        elif status is None:
            self.index = "index: ready"
        else:
            parts = [
                f"{'?' if status.files is None else status.files} files",
                f"{'?' if status.chunks is None else status.chunks} chunks",
                _when(status.last_indexed),
            ]
            if status.stale_files:
                parts.append(f"{status.stale_files} stale")
            self.index = "index: " + " · ".join(parts)
        self._redraw()

    def set_speed(self, tokens_per_s: float | None) -> None:
        self.speed = f"{tokens_per_s:.1f} tok/s" if tokens_per_s else ""
        self._redraw()

    def _redraw(self) -> None:
        # The speed goes before the index state: at 80 columns the end of the line is what gets cut.
        pieces: list[str | tuple[str, str]] = [(self.model, "bold")]
        if self.speed:
            pieces += [" │ ", (self.speed, "$text-success")]
        pieces += [" │ ", self.index]
        self.update(Content.assemble(*pieces))

    @property
    def plain(self) -> str:
        return self.model + (f" │ {self.speed}" if self.speed else "") + f" │ {self.index}"
