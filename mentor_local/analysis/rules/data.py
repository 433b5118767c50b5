"""Database and data checks: N+1 queries, row-wise pandas, leaked sessions/clients/connections."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mentor_local.analysis import syntax as S
from mentor_local.analysis.context import FileContext, RawFinding
from mentor_local.analysis.rules.common import in_with_item, is_db_query_call

if TYPE_CHECKING:
    from tree_sitter import Node


# --- n-plus-one-query -------------------------------------------------------------------------

def _loop_parts(loop: Node) -> tuple[list[Node], list[Node], list[str]]:
    """(iterables, body nodes, loop variable names) of a for loop or comprehension."""
    if loop.type == "for_statement":
        right = loop.child_by_field_name("right")
        left = loop.child_by_field_name("left")
        body = loop.child_by_field_name("body")
        found = [S.text(n) for n in S.walk(left) if n.type == "identifier"] if left is not None else []
        return ([right] if right is not None else []), ([body] if body is not None else []), found
    iters: list[Node] = []
    names: list[str] = []
    bodies: list[Node] = []
    for child in loop.named_children:
        if child.type == "for_in_clause":
            right = child.child_by_field_name("right")
            left = child.child_by_field_name("left")
            if right is not None:
                iters.append(right)
            if left is not None:
                names += [S.text(n) for n in S.walk(left) if n.type == "identifier"]
        elif child.type != "comment":
            bodies.append(child)
    return iters, bodies, names


def _within(node: Node, roots: list[Node]) -> bool:
    return any(r.start_byte <= node.start_byte and node.end_byte <= r.end_byte for r in roots)


def _derived_names(ctx: FileContext, fn_body: Node, qcalls: list[Node]) -> set[str]:
    """Names bound (directly or through other such names) to the result of a query in this def."""
    derived: set[str] = set()
    assigns = [a for a in ctx.nodes("mutations", "mut") if a.type == "assignment" and _within(a, [fn_body])]
    for _ in range(2):
        for a in assigns:
            left, right = a.child_by_field_name("left"), a.child_by_field_name("right")
            if left is None or right is None or left.type != "identifier":
                continue
            if any(_within(q, [right]) for q in qcalls) or any(
                S.text(i) in derived for i in S.walk(right) if i.type == "identifier"
            ):
                derived.add(S.text(left))
    return derived


def _over_query_rows(ctx: FileContext, fn_body: Node, iters: list[Node], qcalls: list[Node],
                     derived_cache: dict[int, set[str]]) -> bool:
    """The loop walks the rows of a query: an iterable is a query call, or a name bound from one in this function."""
    if fn_body.id not in derived_cache:
        derived_cache[fn_body.id] = _derived_names(ctx, fn_body, qcalls)
    derived = derived_cache[fn_body.id]
    return any(
        any(_within(q, [i]) for q in qcalls) or any(S.text(n) in derived for n in S.walk(i) if n.type == "identifier")
        for i in iters
    )


_WRITE = re.compile(r"^\s*(\w+\.)?(insert|update|delete|upsert)\b|^\s*[\w.]+\.(insert|update|delete)\(", re.I)
_WRITE_METHODS = {"create", "update_or_create", "bulk_create", "bulk_update", "delete", "update", "add", "add_all",
                  "merge", "flush", "commit", "save", "upsert"}
# the first keyword of a SQL statement that writes or commands rather than reads rows
_SQL_NOT_READ = {"insert", "update", "delete", "merge", "upsert", "replace", "truncate", "create", "drop", "alter",
                 "notify", "listen", "unlisten", "set", "reset", "grant", "revoke", "vacuum", "analyze", "lock",
                 "begin", "commit", "rollback", "savepoint", "release", "call", "do", "copy", "discard", "comment"}
_SQL_HEAD = re.compile(r"^(?:\s+|--[^\n]*\n|/\*.*?\*/)*(\w+)", re.S)


def _statement_literal(call: Node) -> str | None:
    """The SQL text a call runs when its first argument holds a string literal: ``execute("...")``,
    ``execute(text("..."))``, ``execute(SQL("...").format(...))`` (the first string in the argument)."""
    args = S.positional_args(call)
    if not args:
        return None
    for n in S.walk(args[0], skip_nested_functions=True):
        if n.type == "string":
            return "".join(S.text(c) for c in n.named_children if c.type == "string_content")
    return None


def _sql_is_read(sql: str) -> bool:
    """A SQL statement that reads rows: not a write or a command, and a SELECT that reads a table (a SELECT
    with no FROM, such as ``SELECT pg_notify(...)`` or ``SELECT 1``, evaluates an expression and reads no rows)."""
    m = _SQL_HEAD.match(sql)
    if m is None:
        return True
    head = m.group(1).lower()
    if head in _SQL_NOT_READ:
        return False
    if head == "select" and not re.search(r"\bfrom\b", sql, re.I):
        return False
    return True


def _chained_write(call: Node) -> bool:
    """The query's result is handed straight to a write: ``Model.objects.filter(...).delete()``."""
    cur = call
    while cur.parent is not None and cur.parent.type == "attribute" and cur.parent.parent is not None \
            and cur.parent.parent.type == "call":
        if S.text(cur.parent.child_by_field_name("attribute")) in _WRITE_METHODS:
            return True
        cur = cur.parent.parent
    return False


def _is_read(call: Node, callee: str) -> bool:
    """N+1 is a read per item; a write or a command per item (INSERT/MERGE/DELETE, NOTIFY/LISTEN, ``.delete()``
    on the filtered rows) is a different lesson (batch the writes) and is not reported here."""
    if S.last_name(callee) in _WRITE_METHODS or _chained_write(call):
        return False
    args = S.positional_args(call)
    if args and _WRITE.match(S.text(args[0])):
        return False
    sql = _statement_literal(call)
    return sql is None or _sql_is_read(sql)


_GROWERS = {"append", "extend", "add", "update", "insert", "setdefault", "appendleft", "extendleft", "__setitem__"}


def _bounded(ctx: FileContext, expr: Node, fn: Node, depth: int = 0) -> bool:
    """The loop walks a collection written in the code, so the number of queries is fixed by the code, not by
    the data: a tuple/list/set/dict display (its starred parts bounded too), a module-level constant, a name
    bound in this function only to such a display (and filled only under literal keys), ``.items()``/``.keys()``/
    ``.values()`` of one, or the loop variable of a loop over one."""
    if depth > 4:
        return False
    while expr.type == "parenthesized_expression" and expr.named_children:
        expr = expr.named_children[0]
    if expr.type in ("tuple", "list", "set", "dictionary", "expression_list"):
        for e in expr.named_children:
            if e.type == "comment":
                continue
            if e.type in ("list_splat", "dictionary_splat"):
                inner = e.named_children[0] if e.named_children else None
                if inner is None or not _bounded(ctx, inner, fn, depth + 1):
                    return False
            elif e.type in ("list_comprehension", "generator_expression", "set_comprehension",
                            "dictionary_comprehension"):
                return False
        return True
    if expr.type == "call":
        func = expr.child_by_field_name("function")
        if func is not None and func.type == "attribute" and not S.positional_args(expr) \
                and S.text(func.child_by_field_name("attribute")) in ("items", "keys", "values"):
            obj = func.child_by_field_name("object")
            return obj is not None and _bounded(ctx, obj, fn, depth + 1)
        return False
    if expr.type != "identifier":
        return False
    name = S.text(expr)
    body = fn.child_by_field_name("body")
    if body is None:
        return False
    bound = False
    for n in S.walk(body, skip_nested_functions=True):
        if n.type == "assignment" or n.type == "augmented_assignment":
            left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
            if left is not None and left.type == "identifier" and S.text(left) == name:
                if n.type == "augmented_assignment" or right is None or not _bounded(ctx, right, fn, depth + 1):
                    return False
                bound = True
            elif left is not None and left.type == "subscript" and S.text(left.child_by_field_name("value")) == name:
                key = left.child_by_field_name("subscript")
                if key is None or not S.is_string_literal(key):
                    return False
        elif n.type == "attribute" and S.text(n.child_by_field_name("object")) == name \
                and S.text(n.child_by_field_name("attribute")) in _GROWERS:
            return False
        elif n.type in ("for_statement", "for_in_clause") and n.start_byte < expr.start_byte:
            left = n.child_by_field_name("left")
            if left is not None and any(i.type == "identifier" and S.text(i) == name for i in S.walk(left)):
                right = n.child_by_field_name("right")
                if right is None or not _bounded(ctx, right, fn, depth + 1):
                    return False
                bound = True
    if bound:
        return True
    return _module_constant(ctx, name)


def _module_constant(ctx: FileContext, name: str) -> bool:
    """An UPPER_CASE name bound at module level to a display: configuration written in the code."""
    if not re.fullmatch(r"_?[A-Z][A-Z0-9_]*", name):
        return False
    for stmt in ctx.root.named_children:
        node = stmt.named_children[0] if stmt.type == "expression_statement" and stmt.named_children else None
        if node is not None and node.type == "assignment" and S.text(node.child_by_field_name("left")) == name:
            right = node.child_by_field_name("right")
            return right is not None and right.type in ("tuple", "list", "set", "dictionary")
    return False


def n_plus_one(ctx: FileContext) -> Iterator[RawFinding]:
    qcalls = [c for c, callee in ctx.calls() if is_db_query_call(c, callee) and _is_read(c, callee)]
    if not qcalls:
        return
    reported: set[int] = set()
    derived_cache: dict[int, set[str]] = {}
    for loop in ctx.nodes("loops", "loop"):
        if loop.type == "while_statement":
            continue
        iters, bodies, loop_vars = _loop_parts(loop)
        if not iters or any(S.text(i).startswith(("range(", "enumerate(range(")) for i in iters):
            continue
        candidates = [c for c in qcalls if S.line(c) not in reported and _within(c, bodies)]
        if not candidates and not ctx.relationships:
            continue
        fn = S.enclosing_function(loop)
        if fn is None or all(_bounded(ctx, i, fn) for i in iters):
            continue
        inner = [c for c in candidates if S.enclosing_function(c) == fn]
        body = fn.child_by_field_name("body")
        if body is None:
            continue
        if not inner:
            lazy = _lazy_load(ctx, loop, fn, body, iters, bodies, loop_vars, qcalls, derived_cache)
            if lazy is not None:
                yield lazy
            continue
        from_query = _over_query_rows(ctx, body, iters, qcalls, derived_cache)
        per_item = [c for c in inner if any(S.text(n) in loop_vars for n in S.walk(c) if n.type == "identifier")]
        hits = inner if from_query else per_item
        if not hits:
            continue
        first = hits[0]
        reported.update(S.line(c) for c in hits)
        what = "the rows of another query" if from_query else f"`{S.text(iters[0])[:40]}`"
        yield RawFinding(
            S.line(first), S.line(first), "n-plus-one-query", "query-in-loop",
            f"`{S.call_name(first)}(...)` runs once per item of a loop over {what}: "
            "one database round trip per row instead of one query (batch it with IN/join or eager loading)",
            hints=("batch", "eager", *ctx.framework_hints()),
        )


_EAGER = re.compile(r"joinedload|selectinload|subqueryload|contains_eager|immediateload|select_related|"
                    r"prefetch_related|\.join\(|outerjoin|raiseload|noload")


def _lazy_load(ctx: FileContext, loop: Node, fn: Node, body: Node, iters: list[Node], bodies: list[Node],
               loop_vars: list[str], qcalls: list[Node], derived_cache: dict[int, set[str]]) -> RawFinding | None:
    """``for o in orders: o.customer.name`` where ``orders`` came from a query without eager loading."""
    if not loop_vars:
        return None
    if not _over_query_rows(ctx, body, iters, qcalls, derived_cache):
        return None
    before = ctx.src[fn.start_byte:loop.end_byte].decode("utf-8", "replace")
    if _EAGER.search(before):
        return None
    for b in bodies:
        for n in S.walk(b, skip_nested_functions=True):
            if n.type != "attribute":
                continue
            obj = n.child_by_field_name("object")
            attr = S.text(n.child_by_field_name("attribute"))
            if obj is None or obj.type != "identifier" or S.text(obj) not in loop_vars or attr not in ctx.relationships:
                continue
            parent = n.parent
            if parent is not None and parent.type == "assignment" and parent.child_by_field_name("left") == n:
                continue
            return RawFinding(
                S.line(n), S.line(n), "n-plus-one-query", "lazy-load-in-loop",
                f"`{S.text(n)}` lazy-loads the `{attr}` relationship once per row of a query that did not eager-load "
                "it: one extra SELECT per row (add selectinload/joinedload, or select_related/prefetch_related)",
                hints=("eager", "loading", *ctx.framework_hints()),
            )
    return None


# --- row-wise-pandas --------------------------------------------------------------------------

_APPEND_IN_LOOP = re.compile(r"^(pd|pandas)\.concat$|\.(append|_append)$")


def row_wise_pandas(ctx: FileContext) -> Iterator[RawFinding]:
    uses_pandas = ctx.imports_module("pandas", "polars", "modin") or "DataFrame" in ctx.text
    for call, callee in ctx.calls():
        method = S.last_name(callee)
        if method in ("iterrows", "itertuples") and not S.positional_args(call):
            yield RawFinding(
                S.line(call), S.line(call), "row-wise-pandas", "iterrows",
                f"`{callee}()` walks the DataFrame one Python row at a time; a vectorised column operation "
                "or groupby does the same work in C, often 100x faster",
                hints=("vectorise", "groupby"),
            )
        elif method == "apply" and uses_pandas:
            axis = S.keyword_args(call).get("axis")
            if axis is not None and S.text(axis).strip("'\"") in ("1", "columns"):
                yield RawFinding(
                    S.line(call), S.line(call), "row-wise-pandas", "apply-axis1",
                    f"`{callee}(..., axis=1)` calls a Python function for every row; express it as column arithmetic",
                    hints=("vectorise",),
                )
        elif uses_pandas and _APPEND_IN_LOOP.search(callee) and _inside_loop_body(call):
            stmt = call.parent
            if stmt is None or stmt.type != "assignment":
                continue
            target = S.text(stmt.child_by_field_name("left"))
            if callee.endswith(("append", "_append")):
                grows_itself = callee.rsplit(".", 1)[0] == target
            else:
                first = S.positional_args(call)[:1]
                grows_itself = bool(first) and first[0].type == "list" and any(
                    S.text(e) == target for e in first[0].named_children
                )
            if grows_itself:
                yield RawFinding(
                    S.line(call), S.line(call), "row-wise-pandas", "concat-in-loop",
                    f"`{target}` is rebuilt with `{callee}` on every loop iteration, copying all earlier rows each "
                    "time (quadratic); collect the pieces in a list and concatenate once",
                    hints=("build", "frames", "once"),
                )
    for loop in (ctx.nodes("loops", "loop") if uses_pandas else []):
        if loop.type != "for_statement":
            continue
        right = S.text(loop.child_by_field_name("right"))
        m = re.fullmatch(r"range\(len\((\w+)\)\)|(\w+)\.index", right)
        if not m:
            continue
        frame = m.group(1) or m.group(2)
        body = S.text(loop.child_by_field_name("body"))
        if re.search(rf"\b{re.escape(frame)}\.(iloc|loc|at|iat)\[", body):
            yield RawFinding(
                S.line(loop), S.line(loop), "row-wise-pandas", "index-loop",
                f"the loop indexes `{frame}` row by row with .loc/.iloc; use a vectorised column operation",
                hints=("vectorise",),
            )


def _inside_loop_body(node: Node) -> bool:
    for anc in S.ancestors(node):
        if anc.type in ("for_statement", "while_statement"):
            return True
        if anc.type in ("function_definition", "lambda", "module"):
            return False
    return False


# --- resource-leak ----------------------------------------------------------------------------

_CLIENT = re.compile(
    r"^(httpx\.(Client|AsyncClient)|requests\.(Session|session)|aiohttp\.ClientSession|"
    r"(psycopg2|psycopg|sqlite3|pymysql|MySQLdb|asyncpg|aiosqlite|cx_Oracle|oracledb|pyodbc)\.connect|"
    r"smtplib\.SMTP(_SSL)?|socket\.socket|ftplib\.FTP(_TLS)?|paramiko\.SSHClient|pika\.BlockingConnection|"
    r"urllib\.request\.urlopen|urlopen)$"
)
_SESSION_FACTORY = re.compile(r"^(\w+\.)?(SessionLocal|Session|ScopedSession|AsyncSessionLocal|SessionFactory|"
                              r"session_factory|session_maker|sessionmaker\(.*\)|async_session|async_session_maker|"
                              r"async_session_factory|get_session_factory\(\))$")
_ENGINE_CONNECT = re.compile(r"(^|\.)\w*engine\w*\.(connect|raw_connection)$", re.I)
_CLOSERS = ("close", "aclose", "dispose", "shutdown", "quit", "terminate", "release")


def _creation_kind(ctx: FileContext, callee: str) -> str | None:
    if _CLIENT.match(callee):
        return "client"
    if _ENGINE_CONNECT.search(callee):
        return "connection"
    if _SESSION_FACTORY.match(callee):
        if callee.endswith("Session") and callee != "Session" and not callee.startswith(("orm.", "sqlalchemy.")):
            return None
        if callee == "Session" and not ctx.imports_module("sqlalchemy", "sqlmodel"):
            return None
        return "session"
    return None


def resource_leak(ctx: FileContext) -> Iterator[RawFinding]:
    for call, callee in ctx.calls():
        kind = _creation_kind(ctx, callee)
        if kind is None:
            continue
        verdict = leak_verdict(call)
        if verdict is None:
            continue
        what = {"client": "client/connection", "connection": "connection", "session": "DB session"}[kind]
        yield RawFinding(
            S.line(call), S.line(call), "resource-leak", f"unclosed-{kind}",
            f"`{callee}()` opens a {what} that {verdict}; use `with`/`async with` or close it in `finally`",
            hints=(("session", "dependency") if kind == "session" else ("client", "lifespan")) + ctx.framework_hints(),
        )


def leak_verdict(call: Node) -> str | None:
    """Why the resource created by ``call`` can leak, or None when it is managed."""
    fn = S.enclosing_function(call)
    if fn is None:
        return None  # module level: a long-lived, process-wide object
    if in_with_item(call):
        return None
    parent = call.parent
    while parent is not None and parent.type in ("parenthesized_expression", "await"):
        parent = parent.parent
    if parent is None:
        return None
    if parent.type in ("return_statement", "yield"):
        return None
    if parent.type == "argument_list":
        outer = parent.parent
        name = S.last_name(S.call_name(outer)) if outer is not None and outer.type == "call" else ""
        if name in ("closing", "aclosing", "enter_context", "enter_async_context", "push", "callback") or name[:1].isupper():
            return None
        return "is never closed (it is created inline as an argument)"
    if parent.type == "attribute":
        return "is never closed (it is used once inline and dropped)"
    if parent.type != "assignment":
        return None
    target = parent.child_by_field_name("left")
    if target is None or target.type != "identifier":
        return None  # self.x = ..., d[k] = ...: owned by an object whose lifecycle is elsewhere
    var = S.text(target)
    body = fn.child_by_field_name("body")
    if body is None:
        return None
    closed_in_finally = False
    closed_somewhere = False
    for n in S.walk(body, skip_nested_functions=True):
        if n.type == "attribute" and S.text(n.child_by_field_name("object")) == var:
            attr = S.text(n.child_by_field_name("attribute"))
            if attr in _CLOSERS:
                closed_somewhere = True
                if any(a.type == "finally_clause" for a in S.ancestors(n)):
                    closed_in_finally = True
                if n.parent is not None and n.parent.type != "call":
                    closed_in_finally = True  # passed as a callback, e.g. atexit.register(x.close)
        elif n.type == "identifier" and S.text(n) == var and n.start_byte > call.end_byte:
            p = n.parent
            while p is not None and p.type in ("parenthesized_expression", "await", "expression_list"):
                p = p.parent
            if p is None:
                continue
            if p.type in ("return_statement", "with_item", "yield"):
                if p.type == "yield" and not closed_in_finally:
                    continue
                return None
            if in_with_item(n):
                return None
            if p.type == "assignment" and S.text(p.child_by_field_name("right")) == var:
                left = p.child_by_field_name("left")
                if left is not None and left.type != "identifier":
                    return None  # handed to an object: self.client = client
            if p.type == "argument_list":
                outer = p.parent
                name = S.last_name(S.call_name(outer)) if outer is not None else ""
                if name[:1].isupper() or name in ("closing", "aclosing", "enter_context", "enter_async_context",
                                                  "append", "add", "register", "push", "callback"):
                    return None
    if closed_in_finally:
        return None
    if closed_somewhere:
        if _closed_in_every_handler(body, var, call):
            return None
        return "is closed only on the success path (an exception before `.close()` leaks it)"
    return "is never closed"


def _closes(node: Node, var: str) -> bool:
    return any(
        n.type == "attribute" and S.text(n.child_by_field_name("object")) == var
        and S.text(n.child_by_field_name("attribute")) in _CLOSERS
        for n in S.walk(node, skip_nested_functions=True)
    )


def _closed_in_every_handler(body: Node, var: str, call: Node) -> bool:
    """Every use of ``var`` after its creation is inside one ``try`` that catches ``Exception`` (or everything)
    and closes ``var`` in each of its ``except`` clauses: with the close on the success path, that covers every
    path as a ``finally`` would (a handler that re-raises after closing still closes)."""
    uses = [n for n in S.walk(body, skip_nested_functions=True)
            if n.type == "identifier" and S.text(n) == var and n.start_byte > call.end_byte]
    for t in S.walk(body, skip_nested_functions=True):
        if t.type != "try_statement" or not uses:
            continue
        if not all(t.start_byte <= u.start_byte and u.end_byte <= t.end_byte for u in uses):
            continue
        handlers = [c for c in t.named_children if c.type == "except_clause"]
        if any(c.type == "finally_clause" for c in t.named_children) or not handlers:
            return False
        broad = False
        for h in handlers:
            kinds = [c for c in h.named_children if c.type != "block" and c.type != "comment"]
            if not kinds or re.search(r"\b(Base)?Exception\b", S.text(kinds[0])):
                broad = True
        return broad and all(_closes(h, var) for h in handlers)
    return False
