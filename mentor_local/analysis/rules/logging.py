"""Secrets and personal data written to logs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mentor_local.analysis import syntax as S
from mentor_local.analysis.context import FileContext, RawFinding
from mentor_local.analysis.rules.common import is_logger_call
from mentor_local.security.secrets import NOT_SECRET_PARTS, name_parts

if TYPE_CHECKING:
    from tree_sitter import Node


_SENSITIVE = {"password", "passwd", "pwd", "passphrase", "secret", "token", "apikey", "authorization", "cookie",
              "cookies", "ssn", "cvv", "cvc", "otp", "creditcard", "pin_code"}
_SENSITIVE_PAIRS = {("api", "key"), ("private", "key"), ("secret", "key"), ("credit", "card"), ("card", "number"),
                    ("access", "key"), ("session", "id"), ("refresh", "token"), ("access", "token"), ("auth", "header")}
_SAFE_WRAPPERS = re.compile(r"^(len|bool|type|mask\w*|redact\w*|hash\w*|sha\d*|md5|_?obfuscate\w*|truncate|"
                            r"isinstance|is_\w+|id)$")


_MAYBE_SENSITIVE = re.compile(r"pass|pwd|secret|token|key|auth|cookie|ssn|cvv|cvc|otp|card|header|session|pin", re.I)


def is_sensitive_name(name: str) -> bool:
    parts = name_parts(name)
    if not parts:
        return False
    # "key", "id" and "header" alone say nothing, but api_key, session_id and auth_header are secrets:
    # they are judged by the pairs below, never excluded outright
    if set(parts) & ((NOT_SECRET_PARTS - {"key", "id", "header"}) | {"hashed", "masked", "redacted", "last4", "is",
                                                                     "has", "valid", "used", "prefix", "count",
                                                                     "tokens"}):
        return False
    if any(p in _SENSITIVE for p in parts):
        return True
    return any((a, b) in _SENSITIVE_PAIRS for a, b in zip(parts, parts[1:], strict=False))


def _sensitive_refs(arg: Node) -> list[str]:
    out: list[str] = []
    for n in S.walk(arg):
        if any(a.type == "call" and _SAFE_WRAPPERS.match(S.last_name(S.call_name(a))) for a in _ancestors_until(n, arg)):
            continue
        if n.type == "identifier":
            parent = n.parent
            # only the last name of an attribute chain matters: user.password, not password.strip
            if parent is not None and parent.type == "attribute" and parent.child_by_field_name("object") == n:
                continue
            if parent is not None and parent.type == "keyword_argument" and parent.child_by_field_name("name") == n:
                continue
            if is_sensitive_name(S.text(n)):
                out.append(S.text(n))
        elif n.type == "subscript":
            sub = n.child_by_field_name("subscript")
            if sub is not None and S.is_string_literal(sub) and is_sensitive_name(S.string_value(sub)):
                out.append(S.string_value(sub))
        elif n.type == "attribute" and S.text(n.child_by_field_name("attribute")) == "headers":
            obj = S.text(n.child_by_field_name("object"))
            parent = n.parent
            if re.search(r"request|req$", obj) and parent is not None and parent.type not in ("attribute", "subscript"):
                out.append(f"{obj}.headers")
    return out


def _ancestors_until(node: Node, stop: Node) -> Iterator[Node]:
    cur = node.parent
    while cur is not None and cur != stop:
        yield cur
        cur = cur.parent
    if cur is not None:
        yield cur


def sensitive_logging(ctx: FileContext) -> Iterator[RawFinding]:
    for call, callee in ctx.calls():
        if "(" in callee or not is_logger_call(callee):
            continue
        args = call.child_by_field_name("arguments")
        if args is None or not _MAYBE_SENSITIVE.search(S.text(args)):
            continue
        refs: list[str] = []
        for arg in args.named_children:
            if arg.type == "string" and S.is_string_literal(arg):
                continue
            if arg.type == "keyword_argument" and S.text(arg.child_by_field_name("name")) in ("exc_info", "stack_info",
                                                                                            "stacklevel"):
                continue
            refs += _sensitive_refs(arg)
        if refs:
            # a session id is a credential only when it is a web session's cookie value; many are lock,
            # socket or row ids (0 of 5 true on the dev corpora), so it is hidden by default (low confidence)
            only_ids = all(name_parts(r)[-1:] == ["id"] for r in refs)
            yield RawFinding(
                S.line(call), S.line(call), "sensitive-data-logging", "secret-in-log",
                f"`{callee}` writes `{refs[0]}` to the logs, where it is kept, shipped to log services and read by "
                "people who should never see it; log an id or a masked value instead",
                hints=("logging",), severity="medium" if only_ids else None,
                confidence="low" if only_ids else "high", why=f"`{refs[0]}` names a credential",
            )
