"""Name patterns and small predicates shared by the Python checks."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from mentor_local.analysis import syntax as S

if TYPE_CHECKING:
    from tree_sitter import Node

    from mentor_local.analysis.context import FileContext

SESSION_NAME = re.compile(r"^(db|session|sess|s|conn|connection|cursor|cur|tx|database|db_session|dbsession|uow)$", re.I)
SESSION_SUFFIX = re.compile(r"_(db|session|conn|connection|cursor)$", re.I)
DB_READ_METHODS = {"query", "execute", "scalar", "scalars", "exec", "fetch", "fetchrow", "fetchval",
                   "fetch_one", "fetch_all", "fetch_val", "get", "execute_many", "executemany", "stream",
                   "stream_scalars", "refresh"}
DJANGO_QUERY_METHODS = {"get", "filter", "exclude", "all", "count", "first", "last", "exists", "values",
                        "values_list", "aggregate", "get_or_create", "update_or_create", "create", "in_bulk"}
_ANY_QUERY_METHOD = DB_READ_METHODS | DJANGO_QUERY_METHODS | {"query", "filter_by", "one", "one_or_none", "scalar_one"}
LOGGER_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}
ROUTE_DECORATOR = re.compile(r"\.(get|post|put|patch|delete|head|options|route|api_route|websocket)\s*\(")
LOCK_WORDS = re.compile(r"lock|mutex|semaphore|\bsem\b|_sem\b|condition", re.I)
# The request methods of an HTTP client (requests, httpx, a requests.Session).
HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"})
_CLI_PATH = re.compile(r"(^|/)(cli|commands?|management/commands|console)(/|\.py$)|(^|/)(cli|__main__)\.py$")


def receiver(dotted: str) -> str:
    """``self.db.query`` -> ``db``; ``db.query`` -> ``db``; ``query`` -> ``""``."""
    parts = dotted.split(".")
    return parts[-2] if len(parts) >= 2 else ""


def is_session_name(name: str) -> bool:
    return bool(SESSION_NAME.match(name) or SESSION_SUFFIX.search(name))


def first_arg_is_model(call: Node) -> bool:
    args = S.positional_args(call)
    if not args:
        return False
    t = S.text(args[0])
    last = t.rsplit(".", 1)[-1]
    return bool(last[:1].isupper()) and "(" not in t


def is_db_query_call(call: Node, callee: str) -> bool:
    """A call that issues a database round trip: ORM session calls, raw cursors, Django managers."""
    if "(" in callee:
        # a chained call such as ``db.query(X).filter(...).all``: the inner call is judged on its own
        return False
    method = S.last_name(callee)
    if method not in _ANY_QUERY_METHOD:
        return False
    recv = receiver(callee)
    if ".objects." in f".{callee}" and method in DJANGO_QUERY_METHODS:
        return True
    if re.match(r"^[A-Z]\w*\.query\.\w+$", callee):  # Flask-SQLAlchemy: User.query.filter_by(...)
        return True
    if method == "query":
        return is_session_name(recv) or first_arg_is_model(call)
    if not is_session_name(recv):
        return False
    if method == "get":
        return first_arg_is_model(call)
    return method in DB_READ_METHODS


def is_logger_call(callee: str) -> bool:
    method = S.last_name(callee)
    if method not in LOGGER_METHODS:
        return False
    recv = receiver(callee).lower()
    return "log" in recv or recv in {"structlog"}


def is_awaited(node: Node) -> bool:
    parent = node.parent
    return parent is not None and parent.type == "await"


def in_with_item(node: Node) -> bool:
    """The node is (part of) the value of a ``with``/``async with`` item, e.g. ``closing(make())``."""
    for anc in S.ancestors(node):
        if anc.type == "with_item":
            return True
        if anc.type in ("block", "module", "function_definition", "lambda"):
            return False
    return False


def in_async_with_item(node: Node) -> bool:
    """The node is (part of) the value of an ``async with`` item: an async context manager (aiohttp), not requests."""
    for anc in S.ancestors(node):
        if anc.type == "with_item":
            stmt = anc.parent.parent if anc.parent is not None else None
            return stmt is not None and S.is_async_with(stmt)
        if anc.type in ("block", "function_definition"):
            return False
    return False


def under_lock(node: Node) -> bool:
    """Inside ``with <lock>:`` / ``async with <lock>:`` (anything whose name says lock/semaphore) in the same def."""
    for anc in S.ancestors(node):
        if anc.type == "function_definition":
            return False
        if anc.type == "with_statement":
            clause = next((c for c in anc.children if c.type == "with_clause"), None)
            if clause is not None and LOCK_WORDS.search(S.text(clause)):
                return True
    return False


def is_route_handler(fn: Node) -> bool:
    return any(ROUTE_DECORATOR.search(S.decorator_text(d)) for d in S.decorators(fn))


def body_nodes(fn: Node) -> list[Node]:
    body = fn.child_by_field_name("body")
    return list(S.walk(body, skip_nested_functions=True)) if body is not None else []


def nearest_scope(node: Node) -> Node | None:
    """The innermost ``def`` or ``lambda`` around ``node``."""
    for anc in S.ancestors(node):
        if anc.type in ("function_definition", "lambda"):
            return anc
    return None


def requests_sessions(ctx: FileContext) -> set[str]:
    """Names bound to a ``requests.Session()`` in this file (``s``, ``self.http``, ``http``)."""
    if "requests" not in ctx.imports():
        return set()
    bare = bool(re.search(r"from\s+requests\s+import[^\n]*\bSession\b", ctx.imports()))
    names: set[str] = set()
    for call, callee in ctx.calls():
        if callee in ("requests.Session", "requests.session") or (bare and callee == "Session"):
            parent = call.parent
            if parent is not None and parent.type == "assignment":
                names.add(S.text(parent.child_by_field_name("left")))
            elif parent is not None and parent.type == "as_pattern":
                alias = parent.child_by_field_name("alias")
                if alias is not None:
                    names.add(S.text(alias))
    return names


def cli_module(ctx: FileContext) -> bool:
    """A command-line front end: printing is its output, not logging; a ``--debug`` flag is the operator's choice."""
    return bool(_CLI_PATH.search(ctx.path)) or ctx.imports_module("argparse", "click", "typer")


def in_cli_command(node: Node) -> bool:
    """Inside a click/typer command or a ``main``/``cli`` function (or a function nested in one)."""
    fn = S.enclosing_function(node)
    while fn is not None:
        if any(re.search(r"\.(command|group)\b|^@(click|typer)\b|app\.command", S.decorator_text(d)) for d in S.decorators(fn)):
            return True
        if S.function_name(fn) in ("main", "cli", "_main", "run_cli"):
            return True
        fn = S.enclosing_function(fn)
    return False
