"""The pattern library: parse ``knowledge/*.md`` cards.

A card is Markdown with YAML front matter (``id``, ``title``, ``topics``,
``areas``, ``level``) and five ``##`` sections: Consider, Why, Trade-offs,
Code, Evolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mentor_local.errors import UserInputError
from mentor_local.indexing import markdown
from mentor_local.topics import AREAS, LEVELS, TOPICS

SECTIONS: tuple[str, ...] = ("Consider", "Why", "Trade-offs", "Code", "Evolution")


class CardError(UserInputError):
    """A card that does not follow the format."""


@dataclass(frozen=True)
class Card:
    id: str
    title: str
    topics: tuple[str, ...]
    areas: tuple[str, ...]
    level: str
    path: str  # "knowledge/<file>.md"
    sections: dict[str, str] = field(default_factory=dict)
    section_lines: dict[str, tuple[int, int]] = field(default_factory=dict)
    """1-based inclusive line range of each section, heading included."""
    blocks: tuple[tuple[str, str, int], ...] = ()
    """``(info string, code, first code line)`` of every fenced block in the Code section."""

    def code_blocks(self) -> list[tuple[str, str, int]]:
        """``(info string, code, first line)`` for every fenced block in the card's Code section."""
        return list(self.blocks)


def code_blocks(text: str, first_line: int = 1) -> list[tuple[str, str, int]]:
    """``(info string, code, line of the code's first line)`` for every fenced block in Markdown ``text``.

    ``first_line`` is the line number of the text's first line.
    """
    return [(f.info, f.code, first_line + f.line + 1) for f in markdown.parse(text).fences]


def _front_matter(doc: markdown.Document, rel: str) -> dict[str, Any]:
    import yaml

    if doc.front_matter is None:
        raise CardError(f"{rel}: no YAML front matter (--- ... ---) at the top")
    try:
        meta = yaml.safe_load(doc.front_matter) or {}
    except yaml.YAMLError as exc:
        raise CardError(f"{rel}: bad front matter: {exc}") from exc
    if not isinstance(meta, dict):
        raise CardError(f"{rel}: front matter must be a mapping")
    for key in ("id", "title", "topics", "areas", "level"):
        if key not in meta:
            raise CardError(f"{rel}: front matter lacks {key!r}")
    return meta


def parse_card(path: Path, rel: str | None = None) -> Card:
    rel = rel or f"knowledge/{path.name}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CardError(f"{rel}: cannot read: {exc}") from exc
    doc = markdown.parse(text)
    meta = _front_matter(doc, rel)
    topics = tuple(meta.get("topics") or ())
    areas = tuple(meta.get("areas") or ())
    bad_topics = [t for t in topics if t not in TOPICS]
    bad_areas = [a for a in areas if a not in AREAS]
    if bad_topics:
        raise CardError(f"{rel}: unknown topics {bad_topics}")
    if bad_areas:
        raise CardError(f"{rel}: unknown areas {bad_areas}")
    if meta["level"] not in LEVELS:
        raise CardError(f"{rel}: level must be one of {LEVELS}")

    # A section runs from its ``##`` heading to the line before the next one (or the end of the card).
    lines = text.splitlines()
    starts = [h for h in doc.headings if h.level == 2 and h.line >= doc.body_line]
    sections: dict[str, str] = {}
    spans: dict[str, tuple[int, int]] = {}
    for h, after in zip(starts, [*(h.line for h in starts[1:]), len(lines)], strict=True):
        sections[h.text] = "\n".join(lines[h.line + 1:after]).strip()
        spans[h.text] = (h.line + 1, max(after, h.line + 1))
    missing = [s for s in SECTIONS if s not in sections]
    if missing:
        raise CardError(f"{rel}: missing sections {missing}")
    first, last = spans["Code"]
    blocks = tuple((f.info, f.code, f.line + 2) for f in doc.fences if first <= f.line + 1 <= last)
    return Card(
        id=str(meta["id"]),
        title=str(meta["title"]),
        topics=topics,
        areas=areas,
        level=str(meta["level"]),
        path=rel,
        sections=sections,
        section_lines=spans,
        blocks=blocks,
    )


def load_cards(directory: Path | None = None) -> list[Card]:
    """Every card in the pattern library, sorted by id."""
    from mentor_local.paths import knowledge_dir

    root = directory or knowledge_dir()
    if not root.is_dir():
        return []
    cards = [parse_card(p, f"knowledge/{p.name}") for p in sorted(root.glob("*.md")) if p.name.lower() != "readme.md"]
    return sorted(cards, key=lambda c: c.id)


def cards_by_topic(cards: list[Card]) -> dict[str, list[Card]]:
    out: dict[str, list[Card]] = {t: [] for t in TOPICS}
    for card in cards:
        for t in card.topics:
            out.setdefault(t, []).append(card)
    return out
