"""Markdown structure by a CommonMark parser (markdown-it-py): front matter, headings, fenced code.

Every element carries its line range, so chunks and cards keep exact line numbers, and a ``#``
line inside a code fence (of backticks or tildes, at any indent) is never taken for a heading.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    line: int
    """0-based line of the heading (the text line of an underlined one)."""
    underlined: bool = False
    """A setext heading (its text underlined with ``===`` or ``---``), not a ``#`` one."""


@dataclass(frozen=True)
class Fence:
    info: str
    code: str
    line: int
    """0-based line of the opening fence."""


@dataclass(frozen=True)
class Document:
    front_matter: str | None
    """The YAML between the opening and closing ``---`` lines, or ``None`` when the text has none."""
    body_line: int
    """0-based line where the body starts (after the front matter)."""
    headings: tuple[Heading, ...]
    """Top-level headings (not those inside a list or a quote), in order."""
    fences: tuple[Fence, ...]


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark").use(front_matter_plugin)


def _line(token: Token) -> int:
    return token.map[0] if token.map else 0


def parse(text: str) -> Document:
    tokens = _parser().parse(text)
    front: str | None = None
    body_line = 0
    headings: list[Heading] = []
    fences: list[Fence] = []
    for i, tok in enumerate(tokens):
        if tok.type == "front_matter" and tok.map:
            front, body_line = tok.content, tok.map[1]
        elif tok.type == "heading_open" and tok.level == 0:
            text = tokens[i + 1].content if i + 1 < len(tokens) and tokens[i + 1].type == "inline" else ""
            headings.append(Heading(int(tok.tag[1:]), text, _line(tok), underlined=not tok.markup.startswith("#")))
        elif tok.type == "fence":
            fences.append(Fence(tok.info.strip(), tok.content, _line(tok)))
    return Document(front, body_line, tuple(headings), tuple(fences))
