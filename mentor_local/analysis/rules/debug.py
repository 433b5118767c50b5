"""Debug mode switched on in code that ships."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mentor_local.analysis import syntax as S
from mentor_local.analysis.context import FileContext, RawFinding
from mentor_local.analysis.rules.common import cli_module, in_cli_command

if TYPE_CHECKING:
    from tree_sitter import Node


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
    if cli_module(ctx) or in_cli_command(node):
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
