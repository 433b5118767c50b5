"""Request bodies read as raw dicts instead of a validated schema."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mentor_local.analysis import syntax as S
from mentor_local.analysis.context import FileContext, RawFinding
from mentor_local.analysis.rules.common import body_nodes, is_route_handler

if TYPE_CHECKING:
    from tree_sitter import Node


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
    return _validated_later(ctx, fn, S.text(left), stmt.end_byte)


def _validated_later(ctx: FileContext, fn: Node, var: str, after: int) -> bool:
    """``var`` is handed to a validator later in ``fn``: ``Schema(**var)``, ``Schema.model_validate(var)``."""
    for n in body_nodes(fn):
        if n.type == "call" and n.start_byte > after:
            if _is_validator(ctx, S.call_name(n)) and re.search(
                rf"(\*\*|\(|,\s*){re.escape(var)}\b", S.text(n.child_by_field_name("arguments"))
            ):
                return True
    return False


_SEND = re.compile(r"^(request|post|put|patch|send|send_request|stream|fetch|urlopen|forward\w*|proxy\w*)$")
_BODY_KEYWORDS = ("json", "data", "content", "body", "payload")


def _whole_copy_of(node: Node, names: set[str]) -> bool:
    """``node`` is one of ``names`` as a whole, or a whole copy or serialisation of one: ``x``, ``{**x}``,
    ``dict(x)``, ``x.copy()``, ``deepcopy(x)``, ``json.dumps(x)``."""
    while node.type in ("parenthesized_expression", "await") and node.named_children:
        node = node.named_children[-1]
    if node.type == "identifier":
        return S.text(node) in names
    if node.type == "dictionary":
        items = [c for c in node.named_children if c.type != "comment"]
        return any(c.type == "dictionary_splat" and _whole_copy_of(c.named_children[0], names) for c in items)
    if node.type == "call":
        callee = S.call_name(node)
        method = S.last_name(callee)
        args = S.positional_args(node)
        if method == "copy" and not args and "." in callee:
            return callee.rsplit(".", 1)[0] in names
        if method in ("dict", "deepcopy", "copy", "dumps", "dumps_bytes", "encode") and len(args) == 1:
            return _whole_copy_of(args[0], names)
    return False


def _forwarded_upstream(fn: Node, param: str) -> bool:
    """A proxy: the raw body (or a copy of it, however reshaped) is sent whole as the body of an outgoing
    request (``client.post(url, json=body)``, ``send_request(payload=json.dumps(payload))``) and no key of it
    is read with ``body[...]`` (which fails with a KeyError on a missing key). The upstream service owns and
    validates the schema; a pydantic model here would only duplicate it."""
    nodes = body_nodes(fn)
    for n in nodes:
        if n.type == "subscript" and S.text(n.child_by_field_name("value")) == param:
            parent = n.parent
            if not (parent is not None and parent.type == "assignment" and parent.child_by_field_name("left") == n):
                return False
    names = {param}
    for _ in range(2):
        for n in nodes:
            if n.type != "assignment":
                continue
            left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
            if left is None or right is None or left.type != "identifier":
                continue
            mentions = any(i.type == "identifier" and S.text(i) in names for i in S.walk(right))
            if mentions and (S.text(left) in names or _whole_copy_of(right, names)):
                names.add(S.text(left))
    for n in nodes:
        if n.type == "call" and _SEND.match(S.last_name(S.call_name(n))):
            for kw, value in S.keyword_args(n).items():
                if kw in _BODY_KEYWORDS and _whole_copy_of(value, names):
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
            if _validated_later(ctx, fn, S.text(pname), params.end_byte) or _forwarded_upstream(fn, S.text(pname)):
                continue
            yield RawFinding(
                S.line(fn), S.line(p), "unvalidated-input", "raw-dict-param",
                f"`{S.text(pname)}: {ann}` in `{S.function_name(fn)}` accepts any JSON object as the body; declare a "
                "pydantic model so FastAPI validates it and documents it",
                hints=("request", "models", "fastapi"),
            )
