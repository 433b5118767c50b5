"""The two sources an index holds: the repo's files (code) and the pattern cards (knowledge)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mentor_local.domain import Chunk
from mentor_local.indexing.cards import chunk_card
from mentor_local.indexing.chunk_python import chunk_python
from mentor_local.indexing.chunk_text import chunk_text
from mentor_local.knowledge import parse_card
from mentor_local.paths import knowledge_dir

SOURCES = ("code", "knowledge")
SourceFile = tuple[str, Path, int, int]
"""``(repo-relative path, absolute path, size, mtime_ns)``."""
Chunker = Callable[[str, str], list[Chunk]]
"""``(repo-relative path, cleaned text) -> chunks``."""


def code_chunker(rel: str, text: str) -> list[Chunk]:
    if rel.endswith((".py", ".pyi")):
        return chunk_python(rel, text)
    return chunk_text(rel, text)


def knowledge_files() -> tuple[list[SourceFile], Chunker]:
    """The pattern cards (``knowledge/<file>.md``) and the chunker for them."""
    root = knowledge_dir()
    files: list[SourceFile] = []
    if root.is_dir():
        for p in sorted(root.glob("*.md")):
            if p.name.lower() == "readme.md" or not p.is_file():
                continue
            st = p.stat()
            files.append((f"knowledge/{p.name}", p, st.st_size, st.st_mtime_ns))

    def chunker(rel: str, text: str) -> list[Chunk]:
        card = parse_card(root / rel.split("/", 1)[1], rel)
        return chunk_card(card, text)

    return files, chunker
