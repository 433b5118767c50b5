"""Outbound HTTP and socket calls with no timeout (what ruff's S113 does not see)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mentor_local.analysis import syntax as S
from mentor_local.analysis.context import FileContext, RawFinding
from mentor_local.analysis.rules.common import HTTP_METHODS, in_async_with_item, requests_sessions

if TYPE_CHECKING:
    pass


_NO_TIMEOUT_CALLS = {"urlopen", "urllib.request.urlopen", "request.urlopen", "socket.create_connection",
                     "http.client.HTTPConnection", "http.client.HTTPSConnection", "HTTPConnection", "HTTPSConnection"}


def missing_timeouts(ctx: FileContext) -> Iterator[RawFinding]:
    sessions = _requests_sessions(ctx)
    for call, callee in ctx.calls():
        method = S.last_name(callee)
        recv = callee.rsplit(".", 1)[0] if "." in callee else ""
        if not (callee in _NO_TIMEOUT_CALLS or (recv in sessions and method in HTTP_METHODS)):
            continue
        if S.has_splat(call) or "timeout" in S.keyword_args(call) or (recv in sessions and in_async_with_item(call)):
            continue  # `async with session.get(...)` is an aiohttp session of the same name
        nargs = len(S.positional_args(call))
        problem = None
        if callee in ("urlopen", "urllib.request.urlopen", "request.urlopen") and nargs < 3:
            problem = f"`{callee}(...)` has no timeout, so a stalled server hangs this worker forever"
        elif recv in sessions and method in HTTP_METHODS:
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
