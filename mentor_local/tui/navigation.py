"""From a citation, a source or a finding to the code viewer, with the finding's pattern card beside the code.

Only files inside the repo (or the pattern library, for card hits) are opened; a link to
anywhere else is named in a notification, never followed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mentor_local.tui.safe import Ref, clean, parse_href, resolve_in

if TYPE_CHECKING:
    from mentor_local.domain import Finding, Hit
    from mentor_local.knowledge import Card
    from mentor_local.tui.app import MentorApp
    from mentor_local.tui.backend import CardLoader

MAX_VIEW_BYTES = 4_000_000


class CodeNavigator:
    def __init__(self, app: MentorApp, card_loader: CardLoader) -> None:
        self._app = app
        self._load_cards = card_loader
        self._cards: dict[str, Card] | None = None  # read on first use

    def open_href(self, href: str) -> None:
        """A link clicked in an answer: a ``path:line`` citation opens the viewer; nothing else is opened."""
        ref = parse_href(href)
        if ref is None:
            self._app.notify(f"Links are not opened from mentor-tui: {clean(href)}", markup=False)
            return
        self.open_ref(ref)

    def open_ref(self, ref: Ref) -> None:
        last = self._app.conversation.last_answer
        hit = next((h for h in last.sources if h.path == ref.path), None) if last is not None else None
        note = "cited in the answer" + (f" · {hit.symbol}" if hit is not None and hit.symbol else "")
        self.open_location(ref.path, ref.start, ref.end, note=note, knowledge=ref.path.startswith("knowledge/"))

    def open_hit(self, hit: Hit) -> None:
        note = f"{hit.symbol or hit.kind} · {hit.source} · score {hit.score:.3f}"
        self.open_location(hit.path, hit.start_line, hit.end_line, note=note, knowledge=hit.source == "knowledge")

    def open_finding(self, f: Finding) -> None:
        card = self.card(f.card) if f.card else None
        note = f"{f.severity} · {f.topic} · {f.rule}: {f.message}"
        self.open_location(f.path, f.line, f.end_line or f.line, note=note, card=card)

    def card(self, card_id: str) -> Card | None:
        if self._cards is None:
            try:
                self._cards = {c.id: c for c in self._load_cards()}
            except Exception as exc:
                self._app.notify(f"Cannot read the pattern cards: {exc}", severity="warning", markup=False)
                self._cards = {}
        return self._cards.get(card_id)

    def open_location(
        self, path: str, start: int, end: int, *, note: str = "", card: Card | None = None, knowledge: bool = False
    ) -> None:
        repo = self._app.repo
        target = resolve_in(repo, path)
        if target is None and knowledge:
            from mentor_local.paths import knowledge_dir

            target = resolve_in(knowledge_dir(), path.split("/", 1)[-1])
        if target is None:
            self._app.notify(f"Cannot open {path}: not a file inside {repo}", severity="error", markup=False)
            return
        try:
            if target.stat().st_size > MAX_VIEW_BYTES:
                raise OSError(f"larger than {MAX_VIEW_BYTES // 1_000_000} MB")
            text = target.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            self._app.notify(f"Cannot read {path}: {exc}", severity="error", markup=False)
            return
        from mentor_local.tui.screens.code_view import CodeViewer

        self._app.push_screen(CodeViewer(path, text, start, end, card=card, note=note))
