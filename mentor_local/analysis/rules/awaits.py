"""Independent awaits run one after another in a loop."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mentor_local.analysis import syntax as S
from mentor_local.analysis.context import FileContext, RawFinding
from mentor_local.analysis.rules.common import LOCK_WORDS, is_session_name, nearest_scope, receiver

if TYPE_CHECKING:
    from tree_sitter import Node


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
        scope = nearest_scope(loop)
        if not S.is_async_def(scope):
            continue
        nodes = [n for b in bodies for n in S.walk(b, skip_nested_functions=True)]
        if any(n.type in ("break_statement", "return_statement") for n in nodes):
            continue  # the loop stops early on a result: iterations depend on each other
        if any(n.type == "with_statement" and LOCK_WORDS.search(S.text(n)[:80]) for n in nodes):
            continue
        for m in inside:
            n, call = m["await"][0], m["awaited_call"][0]
            if nearest_scope(n) != scope:
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
