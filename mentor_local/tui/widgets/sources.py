"""The sources pane: the code and card hits behind the current answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from mentor_local.tui.safe import clean

if TYPE_CHECKING:
    from mentor_local.domain import Hit


def hit_label(n: int, hit: Hit) -> Content:
    """Two lines: ``n. path:a-b`` then ``symbol · kind · source · score`` (all as plain text)."""
    lines = f"{hit.start_line}" if hit.start_line == hit.end_line else f"{hit.start_line}-{hit.end_line}"
    kind = "card" if hit.source == "knowledge" else "code"
    title = hit.metadata.get("title") if kind == "card" else None
    what = clean(str(title or hit.symbol or "(module)"))
    return Content.assemble(
        (f"{n:>2}. ", "$text-muted"),
        (clean(f"{hit.path}:{lines}"), "bold"),
        "\n    ",
        (what, "$text-accent" if kind == "code" else "$text-success"),
        (f" · {kind if kind == 'card' else hit.kind} · {hit.score:.3f}", "$text-muted"),
    )


class SourcesPane(OptionList):
    """Selecting a hit posts ``OpenHit``; the app opens the code viewer on it."""

    class OpenHit(Message):
        def __init__(self, hit: Hit) -> None:
            super().__init__()
            self.hit = hit

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.hits: list[Hit] = []

    def on_mount(self) -> None:
        self.set_hits([])

    def set_hits(self, hits: list[Hit]) -> None:
        self.hits = list(hits)
        self.clear_options()
        if not self.hits:
            self.add_option(Option(Content("Sources of the answer appear here."), disabled=True))
            return
        self.add_options([Option(hit_label(n, h), id=f"hit-{n}") for n, h in enumerate(self.hits, 1)])
        self.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_id and event.option_id.startswith("hit-"):
            self.post_message(self.OpenHit(self.hits[int(event.option_id[4:]) - 1]))
