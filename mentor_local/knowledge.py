"""The pattern library: parse ``knowledge/*.md`` cards.

A card is Markdown with YAML front matter (``id``, ``title``, ``topics``,
``areas``, ``level``) and five ``##`` sections: Consider, Why, Trade-offs,
Code, Evolution.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from mentor_local.errors import UserInputError
from mentor_local.topics import AREAS, LEVELS, TOPICS

SECTIONS: tuple[str, ...] = ("Consider", "Why", "Trade-offs", "Code", "Evolution")
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_HEADING = re.compile(r"^##\s+(.+?)\s*$")
_FENCE = re.compile(r"^```")


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

    def code_blocks(self) -> list[tuple[str, str, int]]:
        """``(info string, code, first line)`` for every fenced block in the card."""
        return code_blocks(self.sections.get("Code", ""), self.section_lines.get("Code", (1, 1))[0])


def code_blocks(text: str, first_line: int = 1) -> list[tuple[str, str, int]]:
    blocks: list[tuple[str, str, int]] = []
    info: str | None = None
    buf: list[str] = []
    start = 0
    for i, line in enumerate(text.splitlines()):
        if _FENCE.match(line.strip()):
            if info is None:
                info, buf, start = line.strip()[3:].strip(), [], first_line + i + 1
            else:
                blocks.append((info, "\n".join(buf) + "\n", start))
                info = None
        elif info is not None:
            buf.append(line)
    return blocks


def parse_card(path: Path, rel: str | None = None) -> Card:
    import yaml

    rel = rel or f"knowledge/{path.name}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CardError(f"{rel}: cannot read: {exc}") from exc
    m = _FRONT.match(text)
    if not m:
        raise CardError(f"{rel}: no YAML front matter (--- ... ---) at the top")
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise CardError(f"{rel}: bad front matter: {exc}") from exc
    if not isinstance(meta, dict):
        raise CardError(f"{rel}: front matter must be a mapping")
    for key in ("id", "title", "topics", "areas", "level"):
        if key not in meta:
            raise CardError(f"{rel}: front matter lacks {key!r}")
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

    front_lines = m.group(0).count("\n")
    lines = text[m.end():].splitlines()
    sections: dict[str, list[str]] = {}
    spans: dict[str, tuple[int, int]] = {}
    current: str | None = None
    in_fence = False
    for i, line in enumerate(lines):
        lineno = front_lines + i + 1
        if _FENCE.match(line.strip()):
            in_fence = not in_fence
        h = None if in_fence else _HEADING.match(line)
        if h:
            current = h.group(1)
            sections[current] = []
            spans[current] = (lineno, lineno)
        elif current is not None:
            sections[current].append(line)
            spans[current] = (spans[current][0], lineno)
    missing = [s for s in SECTIONS if s not in sections]
    if missing:
        raise CardError(f"{rel}: missing sections {missing}")
    return Card(
        id=str(meta["id"]),
        title=str(meta["title"]),
        topics=topics,
        areas=areas,
        level=str(meta["level"]),
        path=rel,
        sections={k: "\n".join(v).strip() for k, v in sections.items()},
        section_lines=spans,
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
