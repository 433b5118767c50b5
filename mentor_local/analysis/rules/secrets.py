"""Hardcoded credentials: secret literals, passwords inside connection URLs, passwords hashed with a fast digest."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from mentor_local.analysis import syntax as S
from mentor_local.analysis.context import FileContext, RawFinding
from mentor_local.security.secrets import is_credential_name, known_token, secret_value, url_password

_URL_CREDENTIALS = re.compile(r"^[a-z][a-z0-9+.-]*://[^/\s:@{}<>$]+:(?P<pw>[^/\s@{}<>$]{4,})@", re.I)
_URL_CREDENTIALS_ANYWHERE = re.compile(r"://[^/\s:@{}<>$'\"]+:[^/\s@{}<>$'\"]{4,}@")


def _url_with_password(value: str) -> bool:
    m = _URL_CREDENTIALS.match(value.strip())
    return m is not None and url_password(m.group("pw"), "report")


def url_credentials(ctx: FileContext) -> Iterator[RawFinding]:
    """``create_engine("postgresql://app:S3cret@db/app")``: a password inside a connection URL literal."""
    if "://" not in ctx.text or not _URL_CREDENTIALS_ANYWHERE.search(ctx.text):
        return
    seen: set[int] = set()
    for m in ctx.matches("assignments"):
        values = m.get("value", [])
        if values and values[0].type != "true" and S.is_string_literal(values[0]):
            if _url_with_password(S.string_value(values[0])):
                seen.add(S.line(values[0]))
    for call, _callee in ctx.calls():
        for arg in S.positional_args(call)[:2]:
            if S.is_string_literal(arg) and _url_with_password(S.string_value(arg)):
                seen.add(S.line(arg))
    for line in sorted(seen):
        yield RawFinding(
            line, line, "hardcoded-secret", "password-in-url",
            "a connection URL literal carries a password: anyone with the repo can log in to that service; "
            "build the URL from environment settings",
            hints=("settings", *ctx.framework_hints()),
        )


_EXAMPLE_KEYS = frozenset({"example", "examples", "x-example", "x-examples", "openapi_examples", "json_schema_extra"})


def in_docs_example(node: Node) -> bool:
    """Inside the value of an ``"example"`` key or an ``example=``/``examples=`` argument: a sample shown in
    API docs (an OpenAPI response, a schema's example), not a credential the code uses."""
    for anc in S.ancestors(node):
        if anc.type == "pair":
            key = anc.child_by_field_name("key")
            if key is not None and S.is_string_literal(key) and S.string_value(key).lower() in _EXAMPLE_KEYS:
                return True
        elif anc.type == "keyword_argument":
            name = anc.child_by_field_name("name")
            if name is not None and S.text(name).lower() in _EXAMPLE_KEYS:
                return True
    return False


def hardcoded_secrets(ctx: FileContext) -> Iterator[RawFinding]:
    for m in ctx.matches("assignments"):
        targets, values = m.get("target", []), m.get("value", [])
        if not targets or not values or values[0].type == "true":
            continue
        target, value = targets[0], values[0]
        if not S.is_string_literal(value) or in_docs_example(value):
            continue
        literal = S.string_value(value)
        if target.type == "string":
            name = S.string_value(target)
        elif target.type == "subscript":
            sub = target.child_by_field_name("subscript")
            name = S.string_value(sub) if sub is not None and S.is_string_literal(sub) else ""
        else:
            name = S.text(target).rsplit(".", 1)[-1]
        named = bool(name) and is_credential_name(name)
        if (named and secret_value(literal, "report", name=name)) or known_token(literal):
            yield RawFinding(
                S.line(value), S.line(value), "hardcoded-secret", "secret-literal",
                f"`{name or 'a string'}` holds a credential written into the source; anyone with the repo (or a "
                "leaked image) has it, and rotating it needs a deploy; read it from the environment or a secret store",
                hints=("settings", *ctx.framework_hints()),
            )


# --- weak-password-hash -----------------------------------------------------------------------

_FAST_HASH = re.compile(r"^(hashlib\.)?(md5|sha1|sha224|sha256|sha384|sha512|sha3_\d+|blake2b|blake2s|new)$")
_PASSWORD = re.compile(r"pass(word|wd|phrase)?|pwd|credential", re.I)


def weak_password_hash(ctx: FileContext) -> Iterator[RawFinding]:
    if "hashlib" not in ctx.text:
        return
    for call, callee in ctx.calls():
        if not _FAST_HASH.match(callee) or (callee in ("new", "md5", "sha1") and "hashlib" not in ctx.imports()):
            continue
        kw = S.keyword_args(call)
        if "usedforsecurity" in kw:
            continue
        args = S.positional_args(call)
        data = args[1:2] if S.last_name(callee) == "new" else args[:1]
        data_names = [n for a in data for n in S.identifiers(a)]
        fn = S.enclosing_function(call)
        fn_name = S.function_name(fn) if fn is not None else ""
        about_password = any(_PASSWORD.search(n) for n in data_names) or (
            bool(data) and _PASSWORD.search(fn_name) is not None and not re.search(r"token|reset|nonce|file|etag", fn_name)
        )
        if not about_password:
            continue
        algo = S.last_name(callee)
        yield RawFinding(
            S.line(call), S.line(call), "weak-password-hash", "fast-password-hash",
            f"`{callee}` hashes a password with a fast, unsalted digest ({algo}); a leaked table is cracked in hours; "
            "use bcrypt/argon2 (passlib, argon2-cffi) or hashlib.scrypt with a per-user salt",
            hints=("password",),
        )
