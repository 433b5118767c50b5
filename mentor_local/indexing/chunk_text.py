"""Chunk non-Python text files by their structure, with exact line ranges.

Markdown/reST by headings, TOML/INI/CFG by ``[section]``, YAML by top-level
keys, SQL by statements, everything else (Dockerfile, requirements, plain
text) by blank-line-separated blocks.  Long pieces are cut into windows.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from mentor_local.domain import Chunk
from mentor_local.indexing import markdown

MAX_CHARS = 1200
_MARKDOWN = (".md", ".markdown", ".rst")
_INI_SECTION = re.compile(r"^\s*\[\[?[^\]]+\]\]?\s*$")
_YAML_KEY = re.compile(r"^[A-Za-z0-9_\"'.-][^:#]*:(\s|$)")


def _pieces(lines: list[str], starts: Callable[[int, str], bool]) -> list[tuple[int, int]]:
    """Split into ``(first, last)`` 0-based row ranges, a new piece at each row where ``starts``."""
    out: list[tuple[int, int]] = []
    first = 0
    for i, line in enumerate(lines):
        if i > first and starts(i, line):
            out.append((first, i - 1))
            first = i
    if lines:
        out.append((first, len(lines) - 1))
    return out


def _windows(lines: list[str], first: int, last: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    size = 0
    start = first
    for i in range(first, last + 1):
        size += len(lines[i]) + 1
        if size >= MAX_CHARS and i < last:
            out.append((start, i))
            start, size = i + 1, 0
    out.append((start, last))
    return out


def _trim(lines: list[str], first: int, last: int) -> tuple[int, int] | None:
    while first <= last and not lines[first].strip():
        first += 1
    while last >= first and not lines[last].strip():
        last -= 1
    return (first, last) if first <= last else None


def _md_pieces(lines: list[str], rst: bool = False) -> tuple[list[tuple[int, int]], dict[int, str]]:
    """Markdown pieces, a new one at each top-level heading; and each heading's text by its line.

    In reST only ``#`` headings count (as they always have): its underlined titles are no Markdown.
    """
    doc = markdown.parse("\n".join(lines))
    titles = {h.line: h.text for h in doc.headings if not (rst and h.underlined)}
    return _pieces(lines, lambda i, line: i in titles), titles


def splitter_for(path: str) -> Callable[[list[str]], list[tuple[int, int]]]:
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(_MARKDOWN):
        return lambda lines: _md_pieces(lines, name.endswith(".rst"))[0]
    if name.endswith((".toml", ".ini", ".cfg")):
        return lambda lines: _pieces(lines, lambda i, line: bool(_INI_SECTION.match(line)))
    if name.endswith((".yaml", ".yml")):
        return lambda lines: _pieces(lines, lambda i, line: bool(_YAML_KEY.match(line)))
    if name.endswith(".sql"):
        return lambda lines: _pieces(lines, lambda i, line: lines[i - 1].rstrip().endswith(";"))
    return lambda lines: _pieces(lines, lambda i, line: not lines[i - 1].strip() and bool(line.strip()))


def chunk_text(path: str, text: str, source: str = "code", extra: dict[str, str] | None = None) -> list[Chunk]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    chunks: list[Chunk] = []
    # Merge small neighbouring pieces so that a file of one-liners is not a chunk per line.
    merged: list[tuple[int, int]] = []
    is_md = path.lower().endswith(_MARKDOWN)
    if is_md:
        pieces, titles = _md_pieces(lines, path.lower().endswith(".rst"))
    else:
        pieces, titles = splitter_for(path)(lines), {}
    for first, last in pieces:
        trimmed = _trim(lines, first, last)
        if trimmed is None:
            continue
        if merged and sum(len(lines[r]) + 1 for r in range(merged[-1][0], trimmed[1] + 1)) <= MAX_CHARS // 3:
            merged[-1] = (merged[-1][0], trimmed[1])
        else:
            merged.append(trimmed)
    for first, last in merged:
        for part, (a, b) in enumerate(_windows(lines, first, last)):
            body = "\n".join(lines[a:b + 1])
            title = titles.get(first, "") if is_md else lines[first].strip()[:80]
            kind = "section"
            header = f"# {path}\n# {kind} {title}\n" if title else f"# {path}\n"
            if part:
                header += f"# (continued, part {part + 1})\n"
            chunks.append(Chunk(path, a + 1, b + 1, kind, title, path, body, header + body,
                                source="knowledge" if source == "knowledge" else "code", part=part,
                                metadata=dict(extra or {})))
    seen: set[str] = set()
    return [c for c in chunks if not (c.chunk_id in seen or seen.add(c.chunk_id))]  # type: ignore[func-returns-value]
