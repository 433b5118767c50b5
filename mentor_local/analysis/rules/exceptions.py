"""Swallowed exceptions: the handler tests ruff's BLE001/E722/S110/S112 need, and ``suppress(Exception)``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mentor_local.analysis import syntax as S
from mentor_local.analysis.context import FileContext, RawFinding
from mentor_local.analysis.rules import precision as P
from mentor_local.analysis.rules.common import is_logger_call

if TYPE_CHECKING:
    from tree_sitter import Node


_HANDLES = re.compile(r"^(exception|error|warning|warn|critical|fatal|log|print_exc|print_exception|format_exc|"
                      r"capture_exception|capture_message|captureException|report_exception|record_exception|"
                      r"set_exception|notify|report|abort|exit|_exit|fail|rollback_and_log)$")


def handler_is_broad(handler: Node) -> bool:
    value = handler.child_by_field_name("value")
    if value is None:
        named = [c for c in handler.named_children if c.type != "block" and c.type != "comment"]
        if not named:
            return True
        value = named[0]
    if value.type == "as_pattern":
        value = value.named_children[0] if value.named_children else value
    names = {S.text(n).rsplit(".", 1)[-1] for n in S.walk(value) if n.type in ("identifier", "attribute")}
    return bool(names & {"Exception", "BaseException"})


def handler_handles(handler: Node) -> bool:
    """The except body re-raises, logs, reports, or hands the exception object on."""
    value = handler.child_by_field_name("value")
    alias = None
    if value is not None and value.type == "as_pattern":
        a = value.child_by_field_name("alias")
        alias = S.text(a) if a is not None else None
    else:
        for c in handler.named_children:
            if c.type == "as_pattern":
                a = c.child_by_field_name("alias")
                alias = S.text(a) if a is not None else None
    body = next((c for c in handler.named_children if c.type == "block"), None)
    if body is None:
        return False
    for n in S.walk(body, skip_nested_functions=True):
        if n.type == "raise_statement":
            return True
        if n.type == "call":
            callee = S.call_name(n)
            if _HANDLES.match(S.last_name(callee)) or is_logger_call(callee) or re.search(r"sentry|logger|logging|log\b",
                                                                                           callee):
                return True
        if alias and n.type == "identifier" and S.text(n) == alias:
            return True  # the error is passed on or reported back (even as text): not silently dropped
    return False


def suppress_exception(ctx: FileContext) -> Iterator[RawFinding]:
    if "suppress" not in ctx.text:
        return
    for m in ctx.matches("handlers"):
        fns, calls = m.get("fn", []), m.get("call", [])
        if not fns or not calls or S.last_name(S.text(fns[0])) != "suppress":
            continue
        args = {S.text(a).rsplit(".", 1)[-1] for a in S.positional_args(calls[0])}
        if args & {"Exception", "BaseException"}:
            with_stmt = next((a for a in S.ancestors(calls[0]) if a.type == "with_statement"), None)
            judged = P.suppressed(ctx, with_stmt.child_by_field_name("body") if with_stmt is not None else None)
            if judged is None:
                continue
            yield RawFinding(
                S.line(calls[0]), S.line(calls[0]), "swallowed-exception", "suppress-exception",
                "`suppress(Exception)` silently discards every error in this block, including bugs; catch the "
                "specific exception you expect, or log it",
                severity=judged.severity, hints=("exception", "handlers", *ctx.framework_hints()),
                confidence=judged.confidence, why=judged.why,
            )
