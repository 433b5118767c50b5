"""Shell subprocesses built from input (what ruff's S602-S605 do not cover)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from mentor_local.analysis import syntax as S
from mentor_local.analysis.context import FileContext, RawFinding

if TYPE_CHECKING:
    pass


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
