"""Chunk Python source with tree-sitter: one chunk per function, method and class.

* A definition's chunk holds its own lines; nested definitions (methods in a
  class, closures in a function) appear there as their signature only and get
  chunks of their own.  Decorators belong to their definition.
* Qualified names: ``symbol`` inside the file (``Class.method``,
  ``outer.inner``) and ``qualname`` with the module (``pkg.mod.Class.method``).
* A definition larger than the embedder's window is split at statement
  boundaries; every later part repeats the signature.  Line ranges stay exact.
* Module-level code between definitions is grouped into ``module`` chunks.
* Files with syntax errors still yield chunks (tree-sitter recovers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from mentor_local.domain import Chunk

CHUNKER_VERSION = "py-2"
# About the embedder's 256-token window for code (~3.5 characters a token), less the header.
MAX_CHARS = 900
SOFT_LIMIT = int(MAX_CHARS * 1.3)


@cache
def _language_and_query() -> tuple[Any, Any]:
    import tree_sitter
    import tree_sitter_python

    lang = tree_sitter.Language(tree_sitter_python.language())
    src = resources.files("mentor_local.indexing").joinpath("queries/python.scm").read_text(encoding="utf-8")
    return lang, tree_sitter.Query(lang, src)


def parse(source: bytes) -> Any:
    import tree_sitter

    lang, _ = _language_and_query()
    return tree_sitter.Parser(lang).parse(source)


@dataclass
class _Def:
    name: str
    kind: str  # class | function | method
    start: int  # 0-based first row, decorators included
    end: int  # 0-based last row
    sig_end: int  # last row of the signature (before the body)
    body: Any  # tree-sitter block node or None
    parent: _Def | None = None
    children: list[_Def] = field(default_factory=list)
    symbol: str = ""


def module_name(path: str) -> str:
    parts = path[:-3].split("/") if path.endswith(".py") else path.split("/")
    if parts and parts[0] == "src" and len(parts) > 1:
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(p for p in parts if p) or path


def _end_row(node: Any) -> int:
    row: int = node.end_point[0]
    if node.end_point[1] == 0 and row > node.start_point[0]:
        row -= 1
    return row


def _collect_defs(root: Any) -> list[_Def]:
    _, query = _language_and_query()
    import tree_sitter

    defs: list[_Def] = []
    for _, caps in tree_sitter.QueryCursor(query).matches(root):
        nodes: list[Any] = caps.get("definition.function") or caps.get("definition.class") or []
        names: list[Any] = caps.get("name") or []
        node = nodes[0] if nodes else None
        name_node = names[0] if names else None
        if node is None or name_node is None:
            continue
        outer = node.parent if node.parent is not None and node.parent.type == "decorated_definition" else node
        body = node.child_by_field_name("body")
        start = outer.start_point[0]
        if body is not None and body.start_point[0] > node.start_point[0]:
            sig_end = body.start_point[0] - 1
        else:
            sig_end = node.start_point[0]
        kind = "class" if node.type == "class_definition" else "function"
        text = name_node.text.decode("utf-8", "replace") if name_node.text else "?"
        defs.append(_Def(text, kind, start, max(_end_row(node), start), max(sig_end, start), body))
    defs.sort(key=lambda d: (d.start, -d.end))
    stack: list[_Def] = []
    for d in defs:
        while stack and not (stack[-1].start <= d.start and d.end <= stack[-1].end and stack[-1] is not d):
            stack.pop()
        if stack:
            d.parent = stack[-1]
            stack[-1].children.append(d)
            if d.kind == "function" and d.parent.kind == "class":
                d.kind = "method"
            d.symbol = f"{d.parent.symbol}.{d.name}"
        else:
            d.symbol = d.name
        stack.append(d)
    return defs


@dataclass
class _Stmt:
    start: int
    end: int
    lines: list[str]  # text lines shown for this statement (nested defs reduced to signatures)


def _reduce(start: int, end: int, lines: list[str], nested: list[_Def]) -> list[str]:
    """Lines ``start..end`` with each nested definition cut to its signature and ``...``."""
    out: list[str] = []
    row = start
    for child in sorted(nested, key=lambda c: c.start):
        if child.start < row or child.start > end:
            continue
        out.extend(lines[row:child.start])
        out.extend(lines[child.start:child.sig_end + 1])
        if child.end > child.sig_end:
            indent = _indent_of(lines, child.sig_end + 1, child.end)
            out.append(f"{indent}...")
        row = child.end + 1
    out.extend(lines[row:end + 1])
    return out


def _indent_of(lines: list[str], first: int, last: int) -> str:
    for r in range(first, min(last, len(lines) - 1) + 1):
        s = lines[r]
        if s.strip():
            return s[: len(s) - len(s.lstrip())]
    return "    "


def _split_long(stmt: _Stmt, limit: int) -> list[_Stmt]:
    """A single huge statement is cut into line windows so no chunk is unbounded."""
    if sum(len(s) + 1 for s in stmt.lines) <= 3 * limit or stmt.end - stmt.start + 1 != len(stmt.lines):
        return [stmt]
    out: list[_Stmt] = []
    buf: list[str] = []
    first = stmt.start
    for i, line in enumerate(stmt.lines):
        buf.append(line)
        if sum(len(s) + 1 for s in buf) >= limit:
            out.append(_Stmt(first, stmt.start + i, buf))
            buf, first = [], stmt.start + i + 1
    if buf:
        out.append(_Stmt(first, stmt.end, buf))
    return out


def _group(stmts: list[_Stmt], limit: int) -> list[list[_Stmt]]:
    groups: list[list[_Stmt]] = []
    cur: list[_Stmt] = []
    size = 0
    for st in stmts:
        n = sum(len(s) + 1 for s in st.lines)
        if cur and size + n > limit:
            groups.append(cur)
            cur, size = [], 0
        cur.append(st)
        size += n
    if cur:
        groups.append(cur)
    return groups


def _header(path: str, qualname: str, kind: str, context: list[str]) -> str:
    head = f"# {path}\n# {kind} {qualname}\n"
    if context:
        head += "\n".join(context) + "\n"
    return head


def _def_chunks(d: _Def, path: str, mod: str, lines: list[str]) -> list[Chunk]:
    qual = f"{mod}.{d.symbol}"
    context: list[str] = []
    p = d.parent
    while p is not None:  # enclosing class/function signatures, outermost first
        context = lines[p.start if p.kind == "class" else p.sig_end:p.sig_end + 1] + context
        p = p.parent
    own = _reduce(d.start, d.end, lines, d.children)
    text = "\n".join(own)
    meta = {"module": mod}
    if len(text) <= SOFT_LIMIT or d.body is None:
        return [Chunk(path, d.start + 1, d.end + 1, d.kind, d.symbol, qual, text,
                      _header(path, qual, d.kind, context) + text, metadata=meta)]
    signature = lines[d.start:d.sig_end + 1]
    stmts: list[_Stmt] = []
    for node in d.body.named_children:
        s, e = node.start_point[0], max(_end_row(node), node.start_point[0])
        if node.type == "decorated_definition" or node.type in ("function_definition", "class_definition"):
            child = next((c for c in d.children if c.start == s), None)
            shown = _reduce(s, e, lines, [child]) if child else lines[s:e + 1]
        else:
            shown = _reduce(s, e, lines, [c for c in d.children if s <= c.start <= e])
        stmts.extend(_split_long(_Stmt(s, e, shown), MAX_CHARS))
    if not stmts:
        return [Chunk(path, d.start + 1, d.end + 1, d.kind, d.symbol, qual, text,
                      _header(path, qual, d.kind, context) + text, metadata=meta)]
    groups = _group(stmts, MAX_CHARS)
    chunks: list[Chunk] = []
    for i, grp in enumerate(groups):
        first_row = d.start if i == 0 else grp[0].start
        last_row = d.end if i == len(groups) - 1 else grp[-1].end
        body = _reduce(grp[0].start, grp[-1].end, lines, d.children)
        shown = (lines[d.start:grp[0].start] if i == 0 else []) + body
        part_text = "\n".join(shown)
        embed_body = part_text if i == 0 else "\n".join(signature) + f"\n    # (part {i + 1} of {len(groups)})\n" + part_text
        chunks.append(Chunk(path, first_row + 1, last_row + 1, d.kind, d.symbol, qual, part_text,
                            _header(path, qual, d.kind, context) + embed_body, part=i, metadata=meta))
    return chunks


def _module_chunks(root: Any, top_defs: list[_Def], path: str, mod: str, lines: list[str]) -> list[Chunk]:
    def_starts = {d.start for d in top_defs}
    runs: list[list[_Stmt]] = [[]]
    for node in root.children:
        if not node.is_named and node.type != "ERROR":
            continue
        s, e = node.start_point[0], max(_end_row(node), node.start_point[0])
        if node.type in ("function_definition", "class_definition", "decorated_definition") and s in def_starts:
            runs.append([])
            continue
        nested = [d for d in top_defs if s <= d.start and d.end <= e]
        shown = _reduce(s, e, lines, nested)
        if not any(x.strip() for x in shown):
            continue
        runs[-1].extend(_split_long(_Stmt(s, e, shown), MAX_CHARS))
    chunks: list[Chunk] = []
    for run in runs:
        for i, grp in enumerate(_group(run, MAX_CHARS)):
            first, last = grp[0].start, grp[-1].end
            body = "\n".join(_reduce(first, last, lines, top_defs))
            chunks.append(Chunk(path, first + 1, last + 1, "module", "", mod, body,
                                _header(path, mod, "module", []) + body, part=i, metadata={"module": mod}))
    return chunks


def chunk_python(path: str, text: str) -> list[Chunk]:
    """All chunks of one Python file, in file order."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    tree = parse(text.encode("utf-8", "surrogatepass"))
    mod = module_name(path)
    defs = _collect_defs(tree.root_node)
    chunks: list[Chunk] = []
    for d in defs:
        chunks.extend(_def_chunks(d, path, mod, lines))
    chunks.extend(_module_chunks(tree.root_node, [d for d in defs if d.parent is None], path, mod, lines))
    chunks.sort(key=lambda c: (c.start_line, c.end_line, c.part))
    # Two chunks with identical ids would collide in the store: keep the first.
    seen: set[str] = set()
    unique = []
    for c in chunks:
        if c.chunk_id not in seen:
            seen.add(c.chunk_id)
            unique.append(c)
    return unique
