"""Hardcoded credentials: secret literals, passwords inside connection URLs, passwords hashed with a fast digest."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mentor_local.analysis import syntax as S
from mentor_local.analysis.context import FileContext, RawFinding
from mentor_local.analysis.rules.common import name_parts

if TYPE_CHECKING:
    pass


_SECRET_WORDS = {"password", "passwd", "pwd", "passphrase", "secret", "token", "apikey", "credential", "credentials"}
_KEY_QUALIFIERS = {"api", "access", "secret", "private", "signing", "encryption", "auth", "client", "app", "master",
                   "webhook", "jwt", "session", "license", "service", "account", "stripe", "aws", "openai", "sendgrid"}
NOT_SECRET_PARTS = {"type", "url", "uri", "endpoint", "field", "name", "header", "prefix", "len", "length", "path",
                     "file", "env", "var", "expire", "expires", "expiry", "ttl", "min", "max", "pattern", "regex",
                     "param", "label", "id", "key", "column", "col", "algorithm", "alg", "kind", "format", "hint",
                     "placeholder", "help", "message", "msg", "text", "title", "description", "error", "template",
                     "reset", "policy", "scheme", "location", "dir", "count", "limit", "version", "attr", "attribute",
                     "validator", "strength", "rule", "rules", "salt_rounds", "rounds", "hash", "hashed", "lifetime",
                     "minutes", "seconds", "days", "hours", "timeout", "audience", "issuer", "scope", "scopes", "class"}
_KNOWN_PREFIX = re.compile(
    r"^(sk_live_|rk_live_|sk-[A-Za-z0-9]{20}|AKIA[0-9A-Z]{16}|ghp_[A-Za-z0-9]{20}|gho_|github_pat_|xox[abpr]-|"
    r"SG\.[\w-]{16,}\.|AIza[0-9A-Za-z_-]{30}|-----BEGIN ([A-Z]+ )?PRIVATE KEY)"
)


def secret_name(name: str) -> bool:
    parts = name_parts(name)
    if not parts or parts[-1] in NOT_SECRET_PARTS - {"key"}:
        return False
    if parts[-1] in _SECRET_WORDS:  # the name must end in what it holds: `token_use` holds a use, not a token
        return not (set(parts) & (NOT_SECRET_PARTS - {"key"}))
    if parts[-1] == "key" and len(parts) >= 2 and parts[-2] in _KEY_QUALIFIERS:
        return True
    return False


def looks_secret(value: str) -> bool:
    """A literal that could be a real credential (not a path, URL, field name, placeholder or empty)."""
    if _KNOWN_PREFIX.match(value):
        return True
    v = value.strip()
    if len(v) < 8 or any(c.isspace() for c in v):
        return False
    if v.startswith(("/", "./", "http://", "https://", "${", "{", "<", "%(", "$", "env:", "vault:")) and "@" not in v:
        return False
    if re.fullmatch(r"_*[a-z]+([_.:-][a-z]+)*", v) or re.fullmatch(r"[A-Z]+(_[A-Z]+)*", v):
        return False  # an identifier, cookie/header/session-key name or JWT audience ("fastapi-users:reset")
    if len(set(v)) <= 2:  # "********", "xxxxxxxx"
        return False
    if re.fullmatch(r"[\w.-]*(/[\w.,-]*)+", v):
        return False  # a path, route or rate-limit spec ("5/m/user")
    classes = sum(bool(re.search(p, v)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    return classes >= 2


_NOT_A_VALUE = {"bearer", "basic", "token", "password", "secret", "none", "null", "true", "false", "required",
                "optional", "string", "str", "hidden", "redacted", "masked", "changed", "unset", "empty", "default",
                "oauth", "oauth2", "jwt", "hmac", "api_key", "apikey", "x-api-key", "header", "query", "cookie"}


def _weak_literal_secret(value: str, name: str) -> bool:
    """``SECRET_KEY = "changeme"``: a short or plain-word literal still counts when the name says credential."""
    v = value.strip()
    if len(v) < 6 or any(c.isspace() for c in v) or v.lower() in _NOT_A_VALUE:
        return False
    if v.lower() in name.lower() or v.startswith(("/", "http", "$", "{", "<", "%")):
        return False
    if re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+", v):  # an env var name such as "DB_PASSWORD"
        return False
    if re.fullmatch(r"_*[a-z0-9]+([._:-][a-z0-9]+)+", v) or "/" in v:  # a config key, field name or path
        return False
    return len(set(v)) > 2


_URL_CREDENTIALS = re.compile(r"^[a-z][a-z0-9+.-]*://[^/\s:@{}<>$]+:(?P<pw>[^/\s@{}<>$]{4,})@", re.I)
_URL_CREDENTIALS_ANYWHERE = re.compile(r"://[^/\s:@{}<>$'\"]+:[^/\s@{}<>$'\"]{4,}@")
_PLACEHOLDER_PW = re.compile(r"^(password|passwd|pass|pwd|secret|changeme|xxx+|\*+|user|postgres|example)$", re.I)


def _url_with_password(value: str) -> bool:
    m = _URL_CREDENTIALS.match(value.strip())
    return m is not None and not _PLACEHOLDER_PW.match(m.group("pw"))


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


def hardcoded_secrets(ctx: FileContext) -> Iterator[RawFinding]:
    for m in ctx.matches("assignments"):
        targets, values = m.get("target", []), m.get("value", [])
        if not targets or not values or values[0].type == "true":
            continue
        target, value = targets[0], values[0]
        if not S.is_string_literal(value):
            continue
        literal = S.string_value(value)
        if target.type == "string":
            name = S.string_value(target)
        elif target.type == "subscript":
            sub = target.child_by_field_name("subscript")
            name = S.string_value(sub) if sub is not None and S.is_string_literal(sub) else ""
        else:
            name = S.text(target).rsplit(".", 1)[-1]
        named = bool(name) and secret_name(name)
        if (named and (looks_secret(literal) or _weak_literal_secret(literal, name))) or _KNOWN_PREFIX.match(literal):
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
