"""Show text from the user's repo (and the model) as text, and find ``path:line`` citations.

Nothing read from a repo may drive the terminal: escape sequences and other
control characters are replaced by visible stand-ins before anything is drawn,
and every widget gets ``Content``/``Text`` objects, never a markup string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

# The checker's grammar: the viewer links exactly the citations that answer.citations validated.
from mentor_local.answer.citations import CITATION_RE

# C0 controls except tab and newline, DEL, and C1 controls (0x80-0x9f, e.g. CSI 0x9b).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")

_CITE_HREF = re.compile(r"^(?:cite:)?(?P<path>[^\s:]+):(?P<start>\d+)(?:-(?P<end>\d+))?$")
# Inline code spans and existing links are left alone (or wrapped whole) by linkify.
_INLINE = re.compile(r"(?P<code>`[^`\n]+`)|(?P<link>!?\[[^\]\n]*\]\([^)\n]*\))|" + CITATION_RE.pattern)
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def clean(text: str) -> str:
    """Strip ANSI escape sequences and replace other control characters with U+FFFD."""
    text = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("\ufffd", text)


@dataclass(frozen=True)
class Ref:
    """A ``path:start-end`` reference found in text (1-based, inclusive)."""

    path: str
    start: int
    end: int

    @property
    def label(self) -> str:
        return f"{self.path}:{self.start}" if self.start == self.end else f"{self.path}:{self.start}-{self.end}"

    @property
    def href(self) -> str:
        return f"cite:{quote(self.path)}:{self.start}-{self.end}"


def _ref(path: str, start: str, end: str | None) -> Ref:
    a = int(start)
    b = int(end) if end else a
    return Ref(path, a, max(a, b))


def find_refs(text: str) -> list[Ref]:
    """Every ``path:line`` / ``path:a-b`` in ``text``, in order, without duplicates."""
    seen: dict[Ref, None] = {}
    for m in CITATION_RE.finditer(text):
        seen.setdefault(_ref(m["path"], m["start"], m["end"]), None)
    return list(seen)


def parse_href(href: str) -> Ref | None:
    """The reference behind a link our answers carry (``cite:path:a-b``); ``None`` for anything else."""
    m = _CITE_HREF.match(href.strip())
    if not m or "//" in m["path"]:
        return None
    return _ref(m["path"], m["start"], m["end"])


def linkify(markdown: str) -> str:
    """Turn ``path:line`` references outside code blocks into ``cite:`` links for the viewer."""
    out: list[str] = []
    in_fence = False
    for line in markdown.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            out.append(line)
            continue
        out.append(line if in_fence else _INLINE.sub(_link_one, line))
    return "\n".join(out)


def _link_one(m: re.Match[str]) -> str:
    if m["link"]:
        return m.group(0)
    if m["code"]:
        inner = m["code"][1:-1].strip()
        whole = CITATION_RE.fullmatch(inner)
        if whole:
            ref = _ref(whole["path"], whole["start"], whole["end"])
            return f"[{m['code']}]({ref.href})"
        return m.group(0)
    ref = _ref(m["path"], m["start"], m["end"])
    return f"[{m.group(0)}]({ref.href})"


def resolve_in(root: Path, rel: str) -> Path | None:
    """``root/rel`` if it is a file inside ``root`` (no ``..`` or symlink escapes), else ``None``."""
    try:
        base = root.resolve()
        target = (base / rel).resolve()
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target
