"""Module- and class-level state: caches that grow without bound, and unsynchronised updates from concurrent code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mentor_local.analysis import syntax as S
from mentor_local.analysis.context import FileContext, RawFinding
from mentor_local.analysis.rules.common import is_route_handler, under_lock

if TYPE_CHECKING:
    from tree_sitter import Node


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
                elif key is not None and key.type == "slice" and t == "assignment" and (
                        S.text(key).replace(" ", "") == ":" or re.fullmatch(r"\[\s*\]|\(\s*\)", right)):
                    found.append((base, n, "shrink"))  # samples[:] = [] / items[:] = items[-100:]: cleared or trimmed
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
        if not grows or _REGISTRY_NAME.search(name) or _test_double(ctx, assign):
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


_CONFIG_KEY = re.compile(r"settings|config|cfg|\bpath\b|_path\b|device|dsn|engine|model_name|model_id|url\b|offset|tz|"
                         # keyed by code: a handler, function, class or type has as many entries as the program has
                         r"handler|\bfunc\b|\bfn\b|function|\bcls\b|klass|\bclass\b|__qualname__|__name__|\btype\(|"
                         r"annotation")


_DOUBLE = re.compile(r"^(Stub|Fake|Mock|Dummy)[A-Z_]|(Stub|Fake|Mock|Dummy)$")
_DOUBLE_MODULE = re.compile(r"(^|/)(stubs?|fakes?|mocks?|dummy|testing)\.py$")


def _test_double(ctx: FileContext, assign: Node) -> bool:
    """A test double (``StubBackend``, ``fakes.py``): it keeps everything in memory on purpose, and lives as long
    as a test does, not as long as a server."""
    owners = [S.text(a.child_by_field_name("name")) for a in S.ancestors(assign) if a.type == "class_definition"]
    return any(_DOUBLE.search(o) for o in owners) or bool(_DOUBLE_MODULE.search(ctx.path))


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
