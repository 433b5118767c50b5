"""Tree-sitter plumbing shared by the review rules: the parser, the queries and node helpers.

Queries live in ``rules/*.scm`` as package data and are compiled once per process.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Language, Node, Parser, Query

FUNCTION_TYPES = ("function_definition", "lambda")
LOOP_TYPES = ("for_statement", "while_statement")
COMPREHENSION_TYPES = ("list_comprehension", "set_comprehension", "dictionary_comprehension", "generator_expression")


@functools.cache
def language() -> Language:
    import tree_sitter_python
    from tree_sitter import Language

    return Language(tree_sitter_python.language())


def parser() -> Parser:
    from tree_sitter import Parser

    return Parser(language())


QUERY_FILES = ("calls", "imports", "functions", "loops", "handlers", "containers", "assignments", "globals",
               "mutations", "awaits", "conditions")


def _query_source(name: str) -> str:
    return resources.files("mentor_local.analysis.rules").joinpath(f"{name}.scm").read_text(encoding="utf-8")


@functools.cache
def query(name: str) -> Query:
    """The compiled query ``rules/<name>.scm`` on its own."""
    from tree_sitter import Query

    return Query(language(), _query_source(name))


@functools.cache
def combined_query() -> tuple[Query, tuple[tuple[str, int, int], ...]]:
    """All rule queries as one, so each file's tree is traversed once: (query, (name, first, end) pattern ranges)."""
    from tree_sitter import Query

    sources = [_query_source(n) for n in QUERY_FILES]
    combined = "\n".join(sources)
    q = Query(language(), combined)
    # which file each pattern came from, by where the pattern starts in the combined source
    bounds = []
    offset = 0
    for name, src in zip(QUERY_FILES, sources, strict=True):
        size = len(src.encode("utf-8")) + 1
        bounds.append((name, offset, offset + size))
        offset += size
    owner = []
    for i in range(q.pattern_count):
        start = q.start_byte_for_pattern(i)
        owner.append(next(name for name, lo, hi in bounds if lo <= start < hi))
    ranges = []
    for name in QUERY_FILES:
        idx = [i for i, o in enumerate(owner) if o == name]
        ranges.append((name, idx[0], idx[-1] + 1) if idx else (name, 0, 0))
    return q, tuple(ranges)


def run_queries(node: Node) -> dict[str, list[dict[str, list[Node]]]]:
    """Run every rule query over ``node`` in one pass: query file name -> its matches."""
    from tree_sitter import QueryCursor

    q, ranges = combined_query()
    out: dict[str, list[dict[str, list[Node]]]] = {name: [] for name, _, _ in ranges}
    owner: dict[int, str] = {}
    for name, first, end in ranges:
        for i in range(first, end):
            owner[i] = name
    for index, caps in QueryCursor(q).matches(node):
        out[owner[index]].append(caps)
    return out


def captures(name: str, node: Node) -> dict[str, list[Node]]:
    from tree_sitter import QueryCursor

    return QueryCursor(query(name)).captures(node)


def matches(name: str, node: Node) -> list[tuple[int, dict[str, list[Node]]]]:
    from tree_sitter import QueryCursor

    return QueryCursor(query(name)).matches(node)


def text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def line(node: Node) -> int:
    """1-based first line."""
    return node.start_point[0] + 1


def end_line(node: Node) -> int:
    return node.end_point[0] + 1


def ancestors(node: Node) -> Iterator[Node]:
    cur = node.parent
    while cur is not None:
        yield cur
        cur = cur.parent


def enclosing_function(node: Node) -> Node | None:
    """The nearest ``def`` around ``node`` (lambdas are looked through)."""
    for anc in ancestors(node):
        if anc.type == "function_definition":
            return anc
    return None


def is_async_def(fn: Node | None) -> bool:
    return fn is not None and fn.type == "function_definition" and fn.child_count > 0 and fn.children[0].type == "async"


def is_async_with(node: Node) -> bool:
    return node.child_count > 0 and node.children[0].type == "async"


def in_async_function(node: Node) -> bool:
    return is_async_def(enclosing_function(node))


def function_name(fn: Node) -> str:
    return text(fn.child_by_field_name("name"))


def decorators(fn: Node) -> list[Node]:
    parent = fn.parent
    if parent is not None and parent.type == "decorated_definition":
        return [c for c in parent.children if c.type == "decorator"]
    return []


def decorator_text(decorator: Node) -> str:
    """``@app.get("/x")`` without a trailing comment."""
    expr = next((c for c in decorator.named_children if c.type != "comment"), None)
    return "@" + text(expr) if expr is not None else text(decorator)


def decorated_start(fn: Node) -> Node:
    """The decorated definition when ``fn`` has decorators, else ``fn`` itself."""
    parent = fn.parent
    return parent if parent is not None and parent.type == "decorated_definition" else fn


def call_name(call: Node) -> str:
    """Dotted text of a call's callee, e.g. ``requests.get`` or ``self.session.post``."""
    return text(call.child_by_field_name("function"))


def last_name(dotted: str) -> str:
    return dotted.rsplit(".", 1)[-1]


def keyword_args(call: Node) -> dict[str, Node]:
    args = call.child_by_field_name("arguments")
    out: dict[str, Node] = {}
    if args is None:
        return out
    for child in args.named_children:
        if child.type == "keyword_argument":
            name = child.child_by_field_name("name")
            value = child.child_by_field_name("value")
            if name is not None and value is not None:
                out[text(name)] = value
    return out


def positional_args(call: Node) -> list[Node]:
    args = call.child_by_field_name("arguments")
    if args is None:
        return []
    return [c for c in args.named_children if c.type not in ("keyword_argument", "comment")]


def has_splat(call: Node) -> bool:
    args = call.child_by_field_name("arguments")
    return args is not None and any(c.type in ("dictionary_splat", "list_splat") for c in args.named_children)


def walk(node: Node, skip_nested_functions: bool = False) -> Iterator[Node]:
    """Every node under ``node`` (pre-order, ``node`` first); optionally not entering nested defs/lambdas/classes."""
    cursor = node.walk()
    depth = 0
    while True:
        current = cursor.node
        assert current is not None
        yield current
        enter = not (skip_nested_functions and depth > 0 and current.type in _SCOPES)
        if enter and cursor.goto_first_child():
            depth += 1
            continue
        while not cursor.goto_next_sibling():
            if depth == 0 or not cursor.goto_parent():
                return
            depth -= 1
            if depth == 0:
                return


_SCOPES = ("function_definition", "class_definition", "lambda")


def descendants_of_type(node: Node, types: tuple[str, ...] | str, skip_nested_functions: bool = True) -> list[Node]:
    wanted = (types,) if isinstance(types, str) else types
    return [n for n in walk(node, skip_nested_functions) if n.type in wanted and n != node]


def is_string_literal(node: Node) -> bool:
    """A plain string (or implicit concatenation of plain strings) with no interpolation."""
    if node.type == "concatenated_string":
        return all(is_string_literal(c) for c in node.named_children)
    if node.type != "string":
        return False
    return not any(c.type == "interpolation" for c in node.named_children)


def string_value(node: Node) -> str:
    """The content of a plain string literal (without quotes or prefix)."""
    if node.type == "concatenated_string":
        return "".join(string_value(c) for c in node.named_children)
    return "".join(text(c) for c in node.named_children if c.type == "string_content")


def identifiers(node: Node) -> Iterator[str]:
    """Identifier-ish names used in an expression: plain names, attribute names and string subscript keys."""
    for n in walk(node):
        if n.type == "identifier":
            yield text(n)
        elif n.type == "subscript":
            sub = n.child_by_field_name("subscript")
            if sub is not None and is_string_literal(sub):
                yield string_value(sub)
        elif n.type == "keyword_argument":
            name = n.child_by_field_name("name")
            if name is not None:
                yield text(name)


def statement_of(node: Node) -> Node:
    """The simple or compound statement that contains ``node``."""
    cur = node
    while cur.parent is not None and cur.parent.type not in ("block", "module"):
        cur = cur.parent
    return cur


def is_main_guard(node: Node) -> bool:
    """``if __name__ == "__main__":``."""
    if node.type != "if_statement":
        return False
    cond = text(node.child_by_field_name("condition")).replace("'", '"').replace(" ", "")
    return cond in ('__name__=="__main__"', '"__main__"==__name__')


def under_main_guard(node: Node) -> bool:
    return any(is_main_guard(a) for a in ancestors(node))
