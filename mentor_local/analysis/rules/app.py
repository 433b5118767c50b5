"""Web-app checks: secrets, password hashing, debug flags, timeouts, shell commands, logging of secrets,
unvalidated request bodies, background tasks without retries, swallowed exceptions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mentor_local.analysis import syntax as S
from mentor_local.analysis.context import FileContext, RawFinding
from mentor_local.analysis.rules.common import (
    body_nodes,
    in_async_with_item,
    is_logger_call,
    is_route_handler,
    name_parts,
)

if TYPE_CHECKING:
    from tree_sitter import Node

# --- hardcoded-secret -------------------------------------------------------------------------

_SECRET_WORDS = {"password", "passwd", "pwd", "passphrase", "secret", "token", "apikey", "credential", "credentials"}
_KEY_QUALIFIERS = {"api", "access", "secret", "private", "signing", "encryption", "auth", "client", "app", "master",
                   "webhook", "jwt", "session", "license", "service", "account", "stripe", "aws", "openai", "sendgrid"}
_NOT_SECRET_PARTS = {"type", "url", "uri", "endpoint", "field", "name", "header", "prefix", "len", "length", "path",
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
    if not parts or parts[-1] in _NOT_SECRET_PARTS - {"key"}:
        return False
    if parts[-1] in _SECRET_WORDS:  # the name must end in what it holds: `token_use` holds a use, not a token
        return not (set(parts) & (_NOT_SECRET_PARTS - {"key"}))
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


# --- debug-enabled ----------------------------------------------------------------------------

_DEV_FILE = re.compile(r"(^|/)(dev|develop|development|local|test|testing|example|sample)[\w.-]*\.py$|"
                       r"(^|/)settings/(dev|local|test)\w*\.py$|_(dev|local|test)\.py$")
_DEBUG_NAME = re.compile(r"^(DEBUG|debug|[A-Z_]*_DEBUG|TEMPLATE_DEBUG)$")
_APP_CTORS = {"FastAPI", "Starlette", "Flask", "Quart", "Sanic", "Litestar", "run", "run_server", "run_app",
              "create_app", "make_app", "Application"}


def debug_enabled(ctx: FileContext) -> Iterator[RawFinding]:
    if _DEV_FILE.search(ctx.path):
        return
    for m in ctx.matches("assignments"):
        targets, values, assigns = m.get("target", []), m.get("value", []), m.get("assign", [])
        if not targets or not values or values[0].type != "true" or not assigns:
            continue
        target, assign = targets[0], assigns[0]
        if _operator_choice(ctx, assign):
            continue
        if assign.type == "keyword_argument":
            call = assign.parent.parent if assign.parent is not None else None
            if S.text(target) != "debug" or call is None or call.type != "call":
                continue
            callee = S.call_name(call)
            if S.last_name(callee) not in _APP_CTORS:
                continue
            yield _debug_finding(target, f"`{callee}(debug=True)`", ctx)
        elif assign.type == "assignment":
            name = S.text(target)
            scope = assign.parent.parent if assign.parent is not None else None
            level_ok = scope is not None and (scope.type == "module" or (
                scope.type == "block" and scope.parent is not None and scope.parent.type == "class_definition"))
            if target.type == "identifier" and _DEBUG_NAME.match(name) and level_ok:
                yield _debug_finding(target, f"`{name} = True`", ctx)
            elif target.type == "attribute" and name.endswith(".debug"):
                yield _debug_finding(target, f"`{name} = True`", ctx)
            elif target.type == "subscript" and re.search(r"config\[\s*['\"]DEBUG['\"]\s*\]", name):
                yield _debug_finding(target, f"`{name} = True`", ctx)


_FLAG_CONDITION = re.compile(r"debug|verbose|args\b|options?\b|opts\b|flags?\b|environ|getenv|settings\.", re.I)


def _operator_choice(ctx: FileContext, node: Node) -> bool:
    """Debug switched on by whoever runs the program: in a command-line front end (its own ``--debug`` flag), or
    under an ``if`` on a flag, option or environment variable. Not debug mode shipped switched on."""
    from mentor_local.analysis.ruff_rules import _cli_module, _in_cli_command

    if _cli_module(ctx) or _in_cli_command(node):
        return True
    for anc in S.ancestors(node):
        if anc.type in ("if_statement", "elif_clause", "conditional_expression"):
            cond = anc.child_by_field_name("condition")
            if cond is not None and _FLAG_CONDITION.search(S.text(cond)) and "__main__" not in S.text(cond):
                return True
    return False


def _debug_finding(node: Node, what: str, ctx: FileContext) -> RawFinding:
    return RawFinding(
        S.line(node), S.line(node), "debug-enabled", "debug-flag",
        f"{what} switches debug mode on in code that ships: tracebacks, settings and (in Flask/Werkzeug) an "
        "interactive console are exposed to anyone who triggers an error; drive it from the environment",
        hints=("settings", "config", *ctx.framework_hints()),
    )


# --- missing-timeout (what S113 does not see) ----------------------------------------------------

_HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "request"}
_NO_TIMEOUT_CALLS = {"urlopen", "urllib.request.urlopen", "request.urlopen", "socket.create_connection",
                     "http.client.HTTPConnection", "http.client.HTTPSConnection", "HTTPConnection", "HTTPSConnection"}


def missing_timeouts(ctx: FileContext) -> Iterator[RawFinding]:
    sessions = _requests_sessions(ctx)
    for call, callee in ctx.calls():
        method = S.last_name(callee)
        recv = callee.rsplit(".", 1)[0] if "." in callee else ""
        if not (callee in _NO_TIMEOUT_CALLS or (recv in sessions and method in _HTTP_METHODS)):
            continue
        if S.has_splat(call) or "timeout" in S.keyword_args(call) or (recv in sessions and in_async_with_item(call)):
            continue  # `async with session.get(...)` is an aiohttp session of the same name
        nargs = len(S.positional_args(call))
        problem = None
        if callee in ("urlopen", "urllib.request.urlopen", "request.urlopen") and nargs < 3:
            problem = f"`{callee}(...)` has no timeout, so a stalled server hangs this worker forever"
        elif recv in sessions and method in _HTTP_METHODS:
            problem = f"`{callee}(...)` (a requests.Session) has no timeout=, so a stalled server hangs this worker forever"
        elif callee in ("socket.create_connection",) and nargs < 2:
            problem = "`socket.create_connection(...)` has no timeout, so a stalled peer blocks forever"
        elif callee in ("http.client.HTTPConnection", "http.client.HTTPSConnection", "HTTPConnection",
                        "HTTPSConnection") and nargs < 3:
            problem = f"`{callee}(...)` has no timeout, so a stalled server blocks forever"
        if problem:
            yield RawFinding(S.line(call), S.line(call), "missing-timeout", "no-timeout", problem,
                             hints=("timeout", "http"))


def _requests_sessions(ctx: FileContext) -> set[str]:
    if re.search(r"\.mount\(", ctx.text) and "timeout" in ctx.text:
        return set()  # a mounted adapter that sets a default timeout (the TimeoutHTTPAdapter pattern)
    return requests_sessions(ctx)


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


# --- command-injection (shell subprocesses that ruff does not cover) ----------------------------

def shell_commands(ctx: FileContext) -> Iterator[RawFinding]:
    for call, callee in ctx.calls():
        if callee not in ("asyncio.create_subprocess_shell", "create_subprocess_shell"):
            continue
        args = S.positional_args(call)
        if args and not S.is_string_literal(args[0]):
            yield RawFinding(
                S.line(call), S.line(call), "command-injection", "shell-subprocess",
                f"`{callee}` runs `{S.text(args[0])[:40]}` through a shell; any quote or `;` in the interpolated "
                "input runs extra commands; use create_subprocess_exec with an argument list",
                hints=("subprocess",),
            )


# --- sensitive-data-logging -------------------------------------------------------------------

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
    if set(parts) & ((_NOT_SECRET_PARTS - {"key", "id", "header"}) | {"hashed", "masked", "redacted", "last4", "is",
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


# --- unvalidated-input ------------------------------------------------------------------------

_REQUEST_NAME = re.compile(r"^(self\.)?(request|req|_request|http_request|flask\.request)$")
_VALIDATORS = re.compile(r"^(model_validate\w*|parse_obj|parse_raw|validate\w*|load|loads_validated|from_dict|"
                         r"structure|deserialize|TypeAdapter|check_schema|marshal|parse)$")
_RAW_DICT = re.compile(r"^(dict|Dict|dict\[.*\]|Dict\[.*\]|typing\.Dict\[.*\]|Mapping\[.*\]|JSONDict|Json)$")


def _raw_body_reads(ctx: FileContext) -> Iterator[tuple[Node, str]]:
    for call, callee in ctx.calls():
        recv = callee.rsplit(".", 1)[0] if "." in callee else ""
        method = S.last_name(callee)
        if _REQUEST_NAME.match(recv) and method in ("json", "get_json"):
            yield call, f"{callee}()"
        elif callee in ("json.loads", "loads") and S.positional_args(call):
            arg = S.text(S.positional_args(call)[0])
            if re.search(r"request\.(body|data|get_data\(\))|await\s+request\.body\(\)", arg):
                yield call, f"json.loads({arg[:30]})"
    flask = "request.json" in ctx.text and ctx.imports_module("flask")
    drf = "request.data" in ctx.text and ctx.imports_module("rest_framework")
    if flask or drf:
        wanted = ({"request.json", "flask.request.json"} if flask else set()) | ({"request.data", "self.request.data"}
                                                                                 if drf else set())
        for n in S.walk(ctx.root):
            if n.type == "attribute" and S.text(n) in wanted:
                p = n.parent
                if p is not None and p.type != "call":
                    yield n, S.text(n)


_SCHEMA_NAME = re.compile(r"(In|Create|Update|Schema|Request|Payload|DTO|Dto|Form|Body|Params|Input|Command|Event)$")


def _is_validator(ctx: FileContext, callee: str) -> bool:
    """A call that validates: ``model_validate``/``load``/..., or constructing a schema class (pydantic model),
    but not an ORM model (``User(**data)`` assigns raw input to columns)."""
    name = S.last_name(callee)
    if _VALIDATORS.match(name):
        return True
    if not name[:1].isupper():
        return False
    if ctx.schemas or ctx.relationships:
        return name in ctx.schemas or bool(_SCHEMA_NAME.search(name))
    return True  # nothing known about the repo's classes: give it the benefit of the doubt


def _validated(ctx: FileContext, node: Node) -> bool:
    """The raw body flows straight into a schema: ``Model.model_validate(await request.json())``, ``Model(**...)``."""
    cur = node.parent
    while cur is not None and cur.type not in ("expression_statement", "block", "module"):
        if cur.type == "call" and _is_validator(ctx, S.call_name(cur)):
            return True
        cur = cur.parent
    # assigned to a name that is later validated in the same function
    stmt = S.statement_of(node)
    fn = S.enclosing_function(node)
    assign = stmt.named_children[0] if stmt.named_children else None
    if fn is None or assign is None or assign.type != "assignment":
        return False
    left = assign.child_by_field_name("left")
    if left is None or left.type != "identifier":
        return False
    var = S.text(left)
    for n in body_nodes(fn):
        if n.type == "call" and n.start_byte > stmt.end_byte:
            if _is_validator(ctx, S.call_name(n)) and re.search(
                rf"(\*\*|\(|,\s*){re.escape(var)}\b", S.text(n.child_by_field_name("arguments"))
            ):
                return True
    return False


def unvalidated_input(ctx: FileContext) -> Iterator[RawFinding]:
    for node, what in _raw_body_reads(ctx):
        if _validated(ctx, node):
            continue
        yield RawFinding(
            S.line(node), S.line(node), "unvalidated-input", "raw-json-body",
            f"`{what}` takes the request body as a raw dict: missing keys become KeyErrors (500s) and unexpected "
            "types flow into the database; parse it into a pydantic/marshmallow schema",
            hints=("validation", "request", *ctx.framework_hints()),
        )
    if not ctx.imports_module("fastapi"):
        return
    for fn in ctx.nodes("functions", "function"):
        if not is_route_handler(fn):
            continue
        params = fn.child_by_field_name("parameters")
        if params is None:
            continue
        for p in params.named_children:
            if p.type not in ("typed_parameter", "typed_default_parameter"):
                continue
            ann = S.text(p.child_by_field_name("type")).replace(" ", "")
            default = S.text(p.child_by_field_name("value"))
            if not _RAW_DICT.match(ann) or re.match(r"(Depends|Query|Header|Cookie|Path|Security)\(", default):
                continue
            pname = p.child_by_field_name("name") or p.named_children[0]
            yield RawFinding(
                S.line(fn), S.line(p), "unvalidated-input", "raw-dict-param",
                f"`{S.text(pname)}: {ann}` in `{S.function_name(fn)}` accepts any JSON object as the body; declare a "
                "pydantic model so FastAPI validates it and documents it",
                hints=("request", "models", "fastapi"),
            )


# --- task-without-retry -----------------------------------------------------------------------

_TASK_DECORATOR = re.compile(r"^@\s*((\w+\.)*task|shared_task|(\w+\.)*periodic_task|huey\.\w*task|(\w+\.)*actor)\s*(\(|$)")
_NETWORK_CALL = re.compile(
    r"^(requests|httpx|urllib\.request|urllib3|aiohttp|smtplib|stripe|boto3|sendgrid|twilio|slack_sdk|paramiko|"
    r"ftplib|openai|mailchimp\w*|pusher|firebase_admin)\.|"
    r"(^|\.)(urlopen|send_message|sendmail|send_mail|send_email|send_sms|upload_file|put_object|post_message|"
    r"chat_postMessage)$"
)
_CLIENT_RECEIVER = re.compile(r"(client|session|http|api|requests|stripe|s3|sns|sqs|smtp|mailer|slack)$", re.I)


def _network_functions(ctx: FileContext) -> dict[str, str]:
    """Functions defined in this file that call the network: name -> the first network call."""
    out: dict[str, str] = {}
    for fn in ctx.nodes("functions", "function"):
        for n in body_nodes(fn):
            if n.type == "call":
                callee = S.call_name(n)
                if "(" not in callee and _is_network_call(callee):
                    out[S.function_name(fn)] = callee
                    break
    return out


def _is_network_call(callee: str) -> bool:
    recv = callee.rsplit(".", 1)[0] if "." in callee else ""
    return bool(_NETWORK_CALL.search(callee)) or (
        S.last_name(callee) in ("get", "post", "put", "patch", "delete", "request", "send")
        and bool(_CLIENT_RECEIVER.search(recv.rsplit(".", 1)[-1]))
    )


_SELF_RETRYING = re.compile(r"@\s*(\w+\.)*(retry|retrying|backoff\.on_exception|on_exception|stamina\.retry)\b")


def rq_enqueue_without_retry(ctx: FileContext) -> Iterator[RawFinding]:
    """RQ ``queue.enqueue(send_receipt, ...)`` with no ``retry=Retry(...)``, or FastAPI/Starlette
    ``background_tasks.add_task(send_receipt, ...)`` (which never retries), for a job that calls the network."""
    if ".enqueue" not in ctx.text and ".add_task" not in ctx.text:
        return
    network = _network_functions(ctx)
    retrying = {S.function_name(fn) for fn in ctx.nodes("functions", "function")
                if any(_SELF_RETRYING.match(S.decorator_text(d)) for d in S.decorators(fn))}
    for call, callee in ctx.calls():
        method = S.last_name(callee)
        if method not in ("enqueue", "enqueue_call", "enqueue_in", "enqueue_at", "add_task"):
            continue
        if method == "add_task" and not re.search(r"background|tasks$|^bg", callee.rsplit(".", 1)[0], re.I):
            continue
        kw = S.keyword_args(call)
        if "retry" in kw:
            continue
        args = S.positional_args(call)
        target = kw.get("func") or (args[0] if args else None)
        name = S.text(target).rsplit(".", 1)[-1] if target is not None else ""
        # background tasks run in-process: only a job defined here, seen to call the network, counts
        job_net = network.get(name) or (name if method != "add_task" and _NETWORK_NAME.search(name) else None)
        if not job_net or name in retrying:
            continue
        if method == "add_task":
            yield RawFinding(
                S.line(call), S.line(call), "task-without-retry", "background-task-no-retry",
                f"`{callee}({name}, ...)` runs a network job as an in-process background task: it is never retried "
                "and is lost if the request's worker restarts; use a queue with retries (or retry inside the job)",
                hints=("background", "fastapi", "retries"),
            )
            continue
        yield RawFinding(
            S.line(call), S.line(call), "task-without-retry", "rq-no-retry",
            f"`{callee}({name}, ...)` queues a job that calls the network with no `retry=Retry(max=..., interval=[...])`: "
            "one failed request and the job lands in the failed registry for good",
            hints=("retries", "backoff", "queue"),
        )


_NETWORK_NAME = re.compile(r"(send|deliver|notify|webhook|sync|charge|email|sms|fetch)_?", re.I)


def task_without_retry(ctx: FileContext) -> Iterator[RawFinding]:
    if "task" not in ctx.text:
        return
    for fn in ctx.nodes("functions", "function"):
        decos = S.decorators(fn)
        task_decos = [d for d in decos if _TASK_DECORATOR.match(S.decorator_text(d))]
        if not task_decos:
            continue
        deco_text = S.decorator_text(task_decos[0])
        if re.search(r"autoretry_for|retry_backoff|\bretry\s*=|\bretries\s*=|base\s*=", deco_text):
            continue
        if re.match(r"@\s*(\w+\.)*actor\b", deco_text) and not re.search(r"max_retries\s*=\s*0\b", deco_text):
            continue  # Dramatiq retries by default (up to 20 times with backoff)
        body = body_nodes(fn)
        if any(n.type == "call" and S.last_name(S.call_name(n)) == "retry" for n in body):
            continue
        network = None
        for n in body:
            if n.type != "call":
                continue
            callee = S.call_name(n)
            if "(" not in callee and _is_network_call(callee):
                network = callee
                break
        if network is None:
            continue
        yield RawFinding(
            S.line(task_decos[0]), S.line(fn), "task-without-retry", "task-no-retry",
            f"task `{S.function_name(fn)}` calls the network (`{network}`) but has no retry policy: one timeout or "
            "503 and the job is lost; add autoretry_for with retry_backoff and a max_retries",
            hints=("celery", "retries", "backoff"),
        )


# --- swallowed-exception ----------------------------------------------------------------------

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
            yield RawFinding(
                S.line(calls[0]), S.line(calls[0]), "swallowed-exception", "suppress-exception",
                "`suppress(Exception)` silently discards every error in this block, including bugs; catch the "
                "specific exception you expect, or log it",
                hints=("exception", "handlers", *ctx.framework_hints()),
            )
