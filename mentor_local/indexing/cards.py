"""Chunk pattern cards: the teaching core, the trade-offs, and the code.

Every chunk carries the card's id, title, topics and areas as metadata, so a
knowledge hit says which card (and topics) it came from.
"""

from __future__ import annotations

from mentor_local.domain import Chunk
from mentor_local.indexing.chunk_text import _windows
from mentor_local.knowledge import Card

GROUPS = (("core", ("Consider", "Why")), ("tradeoffs", ("Trade-offs",)), ("code", ("Code",)), ("evolution", ("Evolution",)))


def chunk_card(card: Card, text: str) -> list[Chunk]:
    lines = text.replace("\r\n", "\n").split("\n")
    meta = {
        "card_id": card.id,
        "title": card.title,
        "topics": ",".join(card.topics),
        "areas": ",".join(card.areas),
        "level": card.level,
    }
    head = f"# {card.title}\n# topics: {', '.join(card.topics) or '-'}; areas: {', '.join(card.areas)}\n"
    chunks: list[Chunk] = []
    for group, names in GROUPS:
        spans = [card.section_lines[n] for n in names if n in card.section_lines]
        if not spans:
            continue
        first = 1 if group == "core" else min(s for s, _ in spans)
        last = max(e for _, e in spans)
        windows = _windows(lines, first - 1, last - 1) if group == "code" else [(first - 1, last - 1)]
        for part, (a, b) in enumerate(windows):
            body = "\n".join(lines[a:b + 1])
            if group == "core":
                embed = head + "\n".join(f"## {n}\n{card.sections[n]}" for n in names if n in card.sections)
            else:
                embed = head + body
            chunks.append(Chunk(card.path, a + 1, b + 1, "card", card.id, card.id, body, embed,
                                source="knowledge", part=part, metadata={**meta, "section": group}))
    return chunks
