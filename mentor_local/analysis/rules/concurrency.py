"""Async and concurrency checks: blocking calls in ``async def``, sequential awaits, shared-state races,
unbounded module-level caches."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mentor_local.analysis import syntax as S
from mentor_local.analysis.context import FileContext, RawFinding
from mentor_local.analysis.rules.common import (
    LOCK_WORDS,
    in_async_with_item,
    is_awaited,
    is_route_handler,
    is_session_name,
    receiver,
    under_lock,
)

if TYPE_CHECKING:
    from tree_sitter import Node

# --- blocking-call-in-async (what ruff's ASYNC rules do not see) ---------------------------------

_SYNC_DB_METHODS = {"query", "execute", "scalar", "scalars", "commit", "flush", "refresh", "exec", "merge",
                    "bulk_save_objects", "executemany", "fetchall", "fetchone"}
_HTTP = {"get", "post", "put", "patch", "delete", "head", "options", "request"}
_FILE_METHODS = {"read_text", "read_bytes", "write_text", "write_bytes"}
_BLOCKING_CALLS = re.compile(
    r"^((pd|pandas)\.read_(csv|excel|sql|sql_query|sql_table|parquet|json|feather|pickle)|"
    r"(psycopg2|sqlite3|pymysql|MySQLdb)\.connect|smtplib\.SMTP(_SSL)?|shutil\.(copy|copy2|copyfile|copytree|rmtree|move))$"
)
_REDIS_METHODS = {"get", "set", "setex", "incr", "incrby", "decr", "hget", "hset", "hgetall", "hincrby", "expire",
                  "lpush", "rpush", "lpop", "rpop", "lrange", "sadd", "smembers", "zadd", "zrange", "publish", "delete",
                  "exists", "mget", "mset", "ttl"}
_REDIS_RECEIVER = re.compile(r"(^|_)(redis|rds|redis_client|redis_conn|cache_redis)$|^redis", re.I)
_BOTO_METHODS = {"upload_file", "download_file", "upload_fileobj", "download_fileobj", "put_object", "get_object"}


def _nearest_scope(node: Node) -> Node | None:
    for anc in S.ancestors(node):
        if anc.type in ("function_definition", "lambda"):
            return anc
    return None


def _param_annotation(fn: Node, name: str) -> str:
    params = fn.child_by_field_name("parameters")
    if params is None:
        return ""
    for p in params.named_children:
        if p.type in ("typed_parameter", "typed_default_parameter"):
            pname = p.child_by_field_name("name") or (p.named_children[0] if p.named_children else None)
            if pname is not None and S.text(pname) == name:
                return S.text(p.child_by_field_name("type"))
    return ""


def blocking_in_async(ctx: FileContext) -> Iterator[RawFinding]:
    seen_db: set[int] = set()
    if "async" not in ctx.text:
        return
    from mentor_local.analysis.rules.app import requests_sessions

    sessions = requests_sessions(ctx)
    for call, callee in ctx.calls():
        method = S.last_name(callee)
        if "(" in callee and method not in _FILE_METHODS:
            continue
        recv = receiver(callee)
        http_session = bool(sessions) and "." in callee and callee.rsplit(".", 1)[0] in sessions and method in _HTTP
        if not (method in _SYNC_DB_METHODS or method in _FILE_METHODS or method in _BOTO_METHODS or http_session
                or method in _REDIS_METHODS or _BLOCKING_CALLS.match(callee)) or is_awaited(call):
            continue
        scope = _nearest_scope(call)
        if not S.is_async_def(scope):
            continue
        assert scope is not None
        if http_session and in_async_with_item(call):
            continue  # `async with session.get(...)`: an aiohttp session of the same name, not requests
        if http_session:
            yield RawFinding(
                S.line(call), S.line(call), "blocking-call-in-async", "sync-http-in-async",
                f"`{callee}(...)` is a blocking requests.Session call inside `async def {S.function_name(scope)}`: "
                "the event loop stops for the whole round trip; use httpx.AsyncClient",
                hints=("http", "client"),
            )
        elif method in _SYNC_DB_METHODS and is_session_name(recv) and not in_async_with_item(call):
            if "Async" in _param_annotation(scope, recv) or scope.id in seen_db:
                continue
            seen_db.add(scope.id)
            yield RawFinding(
                S.line(call), S.line(call), "blocking-call-in-async", "sync-db-in-async",
                f"`{callee}(...)` is a synchronous database call inside `async def {S.function_name(scope)}`: "
                "it blocks the event loop (and every other request) until the database answers",
                hints=("sqlalchemy", "async", "engine"),
            )
        elif method in _FILE_METHODS and "." in callee:
            yield RawFinding(
                S.line(call), S.line(call), "blocking-call-in-async", "blocking-file-io-in-async",
                f"`{callee}()` reads or writes a file synchronously inside `async def {S.function_name(scope)}`, "
                "blocking the event loop; use `await asyncio.to_thread(...)` or anyio/aiofiles",
                hints=("to_thread",),
            )
        elif method in _REDIS_METHODS and _REDIS_RECEIVER.search(recv):
            yield RawFinding(
                S.line(call), S.line(call), "blocking-call-in-async", "sync-redis-in-async",
                f"`{callee}(...)` is a synchronous Redis call (not awaited) inside `async def "
                f"{S.function_name(scope)}`, blocking the event loop on every round trip; use redis.asyncio",
                hints=("async",),
            )
        elif _BLOCKING_CALLS.match(callee) or (method in _BOTO_METHODS and "." in callee):
            yield RawFinding(
                S.line(call), S.line(call), "blocking-call-in-async", "blocking-io-in-async",
                f"`{callee}(...)` does blocking I/O inside `async def {S.function_name(scope)}`, "
                "stalling the event loop; run it with `await asyncio.to_thread(...)`",
                hints=("to_thread",),
            )


# --- sequential-awaits ------------------------------------------------------------------------

_ORDERED_RECEIVERS = re.compile(
    r"(^|_)(db|session|sess|conn|connection|cursor|cur|tx|ws|websocket|socket|sock|stream|writer|reader|queue|q|"
    r"lock|sem|semaphore|event|cond|channel|chan|pipe|pipeline|response|resp|request|req|file|f|fh|proc|process|"
    r"producer|consumer|bus|sender|receiver|send_stream|receive_stream|uow)$",
    re.I,
)
_ORDERED_METHODS = re.compile(
    r"^(sleep|send|send_\w+|sendall|receive|receive_\w+|recv|recv_\w+|write|writelines|read|readline|readexactly|"
    r"drain|acquire|release|wait|wait_for|join|put|put_nowait|get_nowait|commit|rollback|flush|refresh|close|aclose|"
    r"json|text|body|ack|nack|emit|gather|wait_closed|shield|to_thread|run_in_executor|run_sync|begin|start|stop|"
    r"__aenter__|__aexit__|execute|scalar|scalars|delete|add|merge)$"
)


_NETWORK_CLIENT = re.compile(r"(^|_)(client|http|api)$", re.I)
# events, messages and stream chunks must reach the consumer in order
_ORDERED_NAMES = re.compile(r"emit|publish|broadcast|stream|yield|progress", re.I)


def _loop_vars(loop: Node) -> tuple[Node | None, list[str], list[Node]]:
    if loop.type == "for_statement":
        left = loop.child_by_field_name("left")
        found = [S.text(n) for n in S.walk(left) if n.type == "identifier"] if left is not None else []
        body = loop.child_by_field_name("body")
        return loop.child_by_field_name("right"), found, ([body] if body is not None else [])
    right: Node | None = None
    names: list[str] = []
    bodies: list[Node] = []
    for child in loop.named_children:
        if child.type == "for_in_clause":
            right = right or child.child_by_field_name("right")
            left = child.child_by_field_name("left")
            if left is not None:
                names += [S.text(n) for n in S.walk(left) if n.type == "identifier"]
        elif child.type not in ("if_clause", "comment"):
            bodies.append(child)
    return right, names, bodies


def sequential_awaits(ctx: FileContext) -> Iterator[RawFinding]:
    awaited = sorted((m for m in ctx.matches("awaits") if m.get("await") and m.get("awaited_call")),
                     key=lambda m: m["await"][0].start_byte)
    if not awaited:
        return
    starts = [m["await"][0].start_byte for m in awaited]
    for loop in ctx.nodes("loops", "loop"):
        if loop.type == "while_statement" or (loop.type == "for_statement" and S.is_async_with(loop)):
            continue
        iterable, names, bodies = _loop_vars(loop)
        if iterable is None or not names or S.text(iterable).startswith("range("):
            continue
        inside = [m for b in bodies
                  for m in awaited[bisect.bisect_left(starts, b.start_byte):bisect.bisect_left(starts, b.end_byte)]]
        if not inside:
            continue
        scope = _nearest_scope(loop)
        if not S.is_async_def(scope):
            continue
        nodes = [n for b in bodies for n in S.walk(b, skip_nested_functions=True)]
        if any(n.type in ("break_statement", "return_statement") for n in nodes):
            continue  # the loop stops early on a result: iterations depend on each other
        if any(n.type == "with_statement" and LOCK_WORDS.search(S.text(n)[:80]) for n in nodes):
            continue
        for m in inside:
            n, call = m["await"][0], m["awaited_call"][0]
            if _nearest_scope(n) != scope:
                continue
            callee = S.call_name(call)
            if "(" in callee or _ORDERED_METHODS.match(S.last_name(callee)) or _ORDERED_NAMES.search(S.last_name(callee)):
                continue
            if _ORDERED_RECEIVERS.search(receiver(callee)) or is_session_name(receiver(callee)):
                continue
            used = {S.text(i) for i in S.walk(call) if i.type == "identifier"}
            if not used & set(names) or any(is_session_name(u) for u in used):
                continue  # not per item, or every call shares one DB session/connection (must stay sequential)
            if _conditional_in_loop(n, loop) or _feeds_itself(n, used):
                continue
            if not (_NETWORK_CLIENT.search(receiver(callee)) or any(_NETWORK_CLIENT.search(u) for u in used)):
                continue  # only a per-item round trip through an HTTP/API client is known to be independent work
            yield RawFinding(
                S.line(n), S.line(n), "sequential-awaits", "await-in-loop",
                f"`await {callee}(...)` runs once per item of `{S.text(iterable)[:40]}`, one after another; "
                "the calls are independent, so `asyncio.gather` or a `TaskGroup` (with a semaphore) would overlap them",
                hints=("gather", "taskgroup"),
            )
            break


def _conditional_in_loop(node: Node, loop: Node) -> bool:
    """The await only runs for some items (under an ``if`` inside the loop)."""
    for anc in S.ancestors(node):
        if anc == loop:
            return False
        if anc.type in ("if_statement", "conditional_expression", "elif_clause", "else_clause"):
            return True
    return False


def _feeds_itself(await_node: Node, used: set[str]) -> bool:
    """``state = await step(state)``: each iteration needs the previous result."""
    parent = await_node.parent
    if parent is None or parent.type != "assignment":
        return False
    left = parent.child_by_field_name("left")
    targets = {S.text(i) for i in S.walk(left) if i.type == "identifier"} if left is not None else set()
    return bool(targets & used)


# --- module-level state: unbounded-memory and shared-state-race ----------------------------------

_CONTAINER_CALL = re.compile(r"^(dict|list|set|defaultdict|OrderedDict|Counter|collections\.\w+)\(")
_REGISTRY_NAME = re.compile(r"registry|registered|installed|finali[sz]ers|handlers?$|routes?$|plugins?$|hooks?$|"
                            r"callbacks?$|commands?$|__all__|choices|mapping|_map$|pool$|"
                            r"^[A-Z_]*(MAP|TABLE|CODES|TYPES|FIELDS|NAMES|POOL)$", re.I)
_GROW_METHODS = {"append", "extend", "add", "update", "setdefault", "insert", "appendleft", "extendleft"}
_SHRINK_METHODS = {"pop", "popitem", "clear", "remove", "discard", "popleft", "expire", "evict"}
_BOUNDED_VALUE = re.compile(r"maxlen\s*=|maxsize\s*=|TTLCache|LRUCache|LFUCache|WeakValueDictionary|WeakKeyDictionary|"
                            r"WeakSet|deque\(")


def module_containers(ctx: FileContext, with_classes: bool = False) -> dict[str, Node]:
    """Module-level (and, optionally, class-level) names bound to a mutable container -> the assignment node.

    A class attribute is returned under ``self.NAME``, ``cls.NAME`` and ``Class.NAME``."""
    out: dict[str, Node] = {}
    for m in ctx.matches("containers"):
        name_nodes, value_nodes, assign_nodes = m.get("name", []), m.get("value", []), m.get("assign", [])
        if not name_nodes or not value_nodes or not assign_nodes:
            continue
        assign = assign_nodes[0]
        scope = assign.parent.parent.parent if assign.parent is not None and assign.parent.parent is not None else None
        at_module = assign.parent is not None and assign.parent.parent is not None and assign.parent.parent.type == "module"
        in_class = scope is not None and scope.type == "class_definition"
        if not at_module and not (with_classes and in_class):
            continue
        value = value_nodes[0]
        vtext = S.text(value)
        if value.type == "call" and not _CONTAINER_CALL.match(vtext):
            continue
        if _BOUNDED_VALUE.search(vtext):
            continue
        name = S.text(name_nodes[0])
        if at_module:
            out[name] = assign
        elif scope is not None:
            cls = S.text(scope.child_by_field_name("name"))
            for alias in (f"self.{name}", f"cls.{name}", f"{cls}.{name}"):
                out[alias] = assign  # a class attribute is shared by every instance
    return out


def _mutations(ctx: FileContext, names: set[str]) -> list[tuple[str, Node, str]]:
    """(name, node, kind) for each grow/shrink/rmw/write of the given module names inside functions."""
    found: list[tuple[str, Node, str]] = []
    if not names:
        return found
    firsts = {n.split(".", 1)[0] for n in names}
    candidates = [c for c, callee in ctx.calls()
                  if callee.split(".", 1)[0].split("[", 1)[0] in firsts and _base(callee) in names]
    candidates += [m for m in ctx.nodes("mutations", "mut") if _mentions(m, names)]
    for n in candidates:
        t = n.type
        if t == "call":
            fn = n.child_by_field_name("function")
            if fn is None or fn.type != "attribute":
                continue
            obj = S.text(fn.child_by_field_name("object"))
            base = obj.split("[", 1)[0]
            if base not in names:
                continue
            method = S.text(fn.child_by_field_name("attribute"))
            if method in _GROW_METHODS:
                found.append((base, n, "grow"))
            elif method in _SHRINK_METHODS:
                found.append((base, n, "shrink"))
        elif t in ("assignment", "augmented_assignment"):
            left = n.child_by_field_name("left")
            if left is None:
                continue
            if left.type == "subscript":
                base = S.text(left.child_by_field_name("value")).split("[", 1)[0]
                if base not in names:
                    continue
                right = S.text(n.child_by_field_name("right"))
                if t == "augmented_assignment" or re.search(rf"\b{re.escape(base)}\b", right):
                    found.append((base, n, "rmw"))
                key = left.child_by_field_name("subscript")
                if key is not None and not S.is_string_literal(key) and key.type not in ("integer", "true", "false", "slice"):
                    found.append((base, n, "grow"))
            elif left.type == "attribute" and S.text(left) in names and S.enclosing_function(n) is not None:
                found.append((S.text(left), n, "rebind" if t == "assignment" else "rmw"))
            elif left.type == "identifier" and S.text(left) in names and S.enclosing_function(n) is not None:
                kind = "rmw" if t == "augmented_assignment" else "rebind"
                found.append((S.text(left), n, kind))
        elif t == "delete_statement":
            target = S.text(n)[3:].strip().split("[", 1)[0]
            if target in names:
                found.append((target, n, "shrink"))
    return found


def _shrink_referenced(ctx: FileContext, name: str) -> bool:
    """``task.add_done_callback(tasks.discard)``: an eviction passed as a callback counts as a bound."""
    return bool(re.search(rf"\b{re.escape(name)}\.(pop|popitem|clear|remove|discard|popleft)\b", ctx.text))


def _mentions(node: Node, names: set[str]) -> bool:
    target = node.child_by_field_name("left") if node.type != "delete_statement" else node
    if target is None:
        return False
    head = S.text(target)
    if node.type == "delete_statement":
        head = head[3:].strip()
    return _base(head) in names


def _base(expr: str) -> str:
    """``cache[k]`` -> ``cache``; ``self._hits.setdefault`` -> ``self._hits``; ``Cls.items[0]`` -> ``Cls.items``."""
    parts = re.split(r"[\[(\s]", expr, maxsplit=1)[0].split(".")
    if len(parts) >= 2 and (parts[0] in ("self", "cls") or (parts[0][:1].isupper() and not parts[0].isupper())):
        return f"{parts[0]}.{parts[1]}"
    return parts[0]


def _len_checked(ctx: FileContext, name: str) -> bool:
    return bool(re.search(rf"\blen\(\s*(?:[\w.]+\.)?{re.escape(name)}\s*\)", ctx.text))


def _thread_targets(ctx: FileContext) -> set[str]:
    targets: set[str] = set()
    for call, callee in ctx.calls():
        method = S.last_name(callee)
        # threads share memory; processes (and Celery's apply_async, a message) do not race on module state
        if method in ("submit", "run_in_executor", "to_thread", "start_new_thread", "Thread", "Timer"):
            args = S.positional_args(call)
            idx = 1 if method == "run_in_executor" else 0
            if len(args) > idx:
                targets.add(S.text(args[idx]).rsplit(".", 1)[-1])
            target = S.keyword_args(call).get("target")
            if target is not None:
                targets.add(S.text(target).rsplit(".", 1)[-1])
    return targets


def _is_concurrent(fn: Node, thread_targets: set[str], web_module: bool = True) -> bool:
    return S.is_async_def(fn) or is_route_handler(fn) or S.function_name(fn) in thread_targets or (
        web_module and _is_view(fn))


def _web_module(ctx: FileContext) -> bool:
    """A module of a web app: a first parameter named ``request`` is then an HTTP request (a view), not a task's
    request object in a worker."""
    return bool(re.search(r"(^|/)(views?|api|routes?|endpoints?|handlers?)(/|\.py$)", ctx.path)) or ctx.imports_module(
        "django", "rest_framework", "flask", "fastapi", "starlette", "litestar", "quart", "sanic", "tornado", "aiohttp")


def _is_view(fn: Node) -> bool:
    """A Django/DRF-style view ``def view(request, ...)``: WSGI servers run these in threads."""
    params = fn.child_by_field_name("parameters")
    first = next((p for p in params.named_children if p.type != "comment"), None) if params is not None else None
    if first is not None and first.type in ("typed_parameter", "typed_default_parameter"):
        first = first.named_children[0] if first.named_children else None
    if first is not None and S.text(first) == "self":
        rest = [p for p in params.named_children if p.type != "comment"][1:] if params is not None else []
        first = rest[0] if rest else None
    return first is not None and S.text(first).split(":", 1)[0].strip() in ("request", "req")


def shared_state(ctx: FileContext) -> Iterator[RawFinding]:
    containers = module_containers(ctx, with_classes=True)
    globals_declared: set[str] = set()
    for g in ctx.nodes("globals", "global"):
        globals_declared.update(S.text(i) for i in g.named_children if i.type == "identifier")
    names = set(containers) | globals_declared
    muts = _mutations(ctx, names)
    threads = _thread_targets(ctx)
    web = _web_module(ctx)

    # unbounded-memory: a module-level container that only ever grows, from inside functions
    by_name: dict[str, list[tuple[Node, str]]] = {}
    for name, node, kind in muts:
        by_name.setdefault(name, []).append((node, kind))
    aliases: dict[int, list[str]] = {}
    for name, assign in containers.items():
        aliases.setdefault(assign.id, []).append(name)
    for names_of in aliases.values():
        assign = containers[names_of[0]]
        name = names_of[0].split(".")[-1]
        events = [e for alias in names_of for e in by_name.get(alias, [])]
        grows = sorted((n for n, k in events if k == "grow" and _grows_at_runtime(n) and not _config_keyed(n)),
                       key=lambda n: n.start_byte)
        if not grows or _REGISTRY_NAME.search(name):
            continue
        if any(k in ("shrink", "rebind") for _, k in events) or _len_checked(ctx, name) or _shrink_referenced(ctx, name):
            continue
        where = S.enclosing_function(grows[0])
        fname = S.function_name(where) if where is not None else "?"
        yield RawFinding(
            S.line(assign), S.line(assign), "unbounded-memory", "module-cache-growth",
            f"{'class' if '.' in names_of[0] else 'module'}-level `{name}` grows in `{fname}()` (line "
            f"{S.line(grows[0])}) and nothing ever evicts entries, "
            "so the process's memory grows with traffic until it is killed; bound it (LRU/TTL) or move it to Redis",
            hints=("cache", "bounded"),
        )

    # shared-state-race: read-modify-write of module state from concurrent code, outside a lock
    reported_fns: set[tuple[int, str]] = set()
    for name, node, kind in muts:
        if kind != "rmw" or "." in name:
            continue
        fn = S.enclosing_function(node)
        if fn is None or not _is_concurrent(fn, threads, web) or under_lock(node):
            continue
        if name in globals_declared and name not in containers and not _declares_global(fn, name):
            continue
        key = (fn.id, name)
        if key in reported_fns:
            continue
        reported_fns.add(key)
        how = "an async handler" if S.is_async_def(fn) else ("a request handler (runs in a thread pool)"
                                                          if is_route_handler(fn) else "a function run in worker threads")
        yield RawFinding(
            S.line(node), S.line(node), "shared-state-race", "unlocked-shared-update",
            f"`{S.text(node)[:60]}` updates module-level `{name}` from {how} without a lock; concurrent "
            "updates interleave and lose writes (and each worker process keeps its own copy)",
            hints=("lock",),
        )

    yield from _check_then_act(ctx, set(containers), globals_declared)


_CONFIG_KEY = re.compile(r"settings|config|cfg|\bpath\b|_path\b|device|dsn|engine|model_name|model_id|url\b|offset|tz")


def _config_keyed(node: Node) -> bool:
    """``_EMBEDDERS[(path, settings.device)] = ...``: a memo keyed by configuration has a handful of entries."""
    if node.type not in ("assignment", "augmented_assignment"):
        return False
    left = node.child_by_field_name("left")
    key = left.child_by_field_name("subscript") if left is not None and left.type == "subscript" else None
    if key is None:
        return False
    text = S.text(key)
    fn = S.enclosing_function(node)
    if key.type == "identifier" and fn is not None:
        body = fn.child_by_field_name("body")
        for n in S.walk(body, skip_nested_functions=True) if body is not None else []:
            if n.type == "assignment" and S.text(n.child_by_field_name("left")) == text:
                text += " " + S.text(n.child_by_field_name("right"))
                break
    return bool(_CONFIG_KEY.search(text))


def _grows_at_runtime(node: Node) -> bool:
    """Growth inside a plain function (not a decorator/registration helper run at import time)."""
    fns = [a for a in S.ancestors(node) if a.type == "function_definition"]
    if not fns or len(fns) > 1:
        return False
    name = S.function_name(fns[0]).lower()
    return not re.search(r"register|decorat|wrapper|^on_|hook|plugin|setup|configure|^init|^load", name)


def _declares_global(fn: Node, name: str) -> bool:
    body = fn.child_by_field_name("body")
    if body is None:
        return False
    for n in S.walk(body, skip_nested_functions=True):
        if n.type == "global_statement" and name in {S.text(i) for i in n.named_children}:
            return True
    return False


_CHECK = re.compile(r"^(not\s+)?\(?\s*(?P<a>[\w.]+)\s+(is\s+None|is\s+not\s+None)|"
                    r"^(?P<key>.+?)\s+not\s+in\s+(?P<b>[\w.]+)$|^not\s+(?P<c>[\w.]+)$|"
                    r"^(?P<d>[\w.]+)\.get\(.*\)\s+is\s+None$")


def _check_then_act(ctx: FileContext, containers: set[str], globals_declared: set[str]) -> Iterator[RawFinding]:
    for match in ctx.matches("conditions"):
        if not match.get("if") or not match.get("condition"):
            continue
        node = match["if"][0]
        cond = " ".join(S.text(match["condition"][0]).split())
        m = _CHECK.match(cond)
        if not m:
            continue
        fn = S.enclosing_function(node)
        if fn is None or not S.is_async_def(fn) or under_lock(node):
            continue
        state = m.group("a") or m.group("b") or m.group("c") or m.group("d") or ""
        shared = state in containers or (state in globals_declared and _declares_global(fn, state))
        if not shared:
            continue
        consequence = node.child_by_field_name("consequence")
        if consequence is None:
            continue
        inner = list(S.walk(consequence, skip_nested_functions=True))
        awaits = [n for n in inner if n.type == "await"]
        writes = [n for n in inner if n.type == "assignment" and S.text(n.child_by_field_name("left")).split("[", 1)[0]
                  == state]
        if not awaits or not writes or awaits[0].start_byte > writes[-1].end_byte:
            continue
        yield RawFinding(
            S.line(node), S.line(writes[-1]), "shared-state-race", "check-then-act",
            f"`if {cond[:50]}` checks shared `{state}` and only writes it after an `await`: concurrent requests "
            "all pass the check and race (duplicate work, last write wins); guard it with an `asyncio.Lock`",
            hints=("lock",),
        )
