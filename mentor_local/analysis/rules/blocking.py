"""Blocking calls inside ``async def`` (what ruff's ASYNC rules do not see)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mentor_local.analysis import syntax as S
from mentor_local.analysis.context import FileContext, RawFinding
from mentor_local.analysis.rules.common import (
    HTTP_METHODS,
    in_async_with_item,
    is_awaited,
    is_session_name,
    nearest_scope,
    receiver,
    requests_sessions,
)

if TYPE_CHECKING:
    from tree_sitter import Node


_SYNC_DB_METHODS = {"query", "execute", "scalar", "scalars", "commit", "flush", "refresh", "exec", "merge",
                    "bulk_save_objects", "executemany", "fetchall", "fetchone"}
_FILE_METHODS = {"read_text", "read_bytes", "write_text", "write_bytes"}
_BLOCKING_CALLS = re.compile(
    r"^((pd|pandas)\.read_(csv|excel|sql|sql_query|sql_table|parquet|json|feather|pickle)|"
    r"(psycopg2|sqlite3|pymysql|MySQLdb)\.connect|smtplib\.SMTP(_SSL)?|shutil\.(copy|copy2|copyfile|copytree|rmtree|move))$"
)
_REDIS_METHODS = {"get", "set", "setex", "incr", "incrby", "decr", "hget", "hset", "hgetall", "hincrby", "expire",
                  "lpush", "rpush", "lpop", "rpop", "lrange", "sadd", "smembers", "zadd", "zrange", "publish", "delete",
                  "exists", "mget", "mset", "ttl"}
_REDIS_RECEIVER = re.compile(r"(^|_)(redis|rds|redis_client|redis_conn|cache_redis)$|^redis", re.I)
_BOTO_METHODS = {"upload_file", "download_file", "upload_fileobj", "download_fileobj", "put_object", "get_object"}


def _param_annotation(fn: Node, name: str) -> str:
    params = fn.child_by_field_name("parameters")
    if params is None:
        return ""
    for p in params.named_children:
        if p.type in ("typed_parameter", "typed_default_parameter"):
            pname = p.child_by_field_name("name") or (p.named_children[0] if p.named_children else None)
            if pname is not None and S.text(pname) == name:
                return S.text(p.child_by_field_name("type"))
    return ""


def blocking_in_async(ctx: FileContext) -> Iterator[RawFinding]:
    seen_db: set[int] = set()
    if "async" not in ctx.text:
        return
    sessions = requests_sessions(ctx)
    for call, callee in ctx.calls():
        method = S.last_name(callee)
        if "(" in callee and method not in _FILE_METHODS:
            continue
        recv = receiver(callee)
        http_session = bool(sessions) and "." in callee and callee.rsplit(".", 1)[0] in sessions and method in HTTP_METHODS
        if not (method in _SYNC_DB_METHODS or method in _FILE_METHODS or method in _BOTO_METHODS or http_session
                or method in _REDIS_METHODS or _BLOCKING_CALLS.match(callee)) or is_awaited(call):
            continue
        scope = nearest_scope(call)
        if not S.is_async_def(scope):
            continue
        assert scope is not None
        if http_session and in_async_with_item(call):
            continue  # `async with session.get(...)`: an aiohttp session of the same name, not requests
        if http_session:
            yield RawFinding(
                S.line(call), S.line(call), "blocking-call-in-async", "sync-http-in-async",
                f"`{callee}(...)` is a blocking requests.Session call inside `async def {S.function_name(scope)}`: "
                "the event loop stops for the whole round trip; use httpx.AsyncClient",
                hints=("http", "client"),
            )
        elif method in _SYNC_DB_METHODS and is_session_name(recv) and not in_async_with_item(call):
            if "Async" in _param_annotation(scope, recv) or scope.id in seen_db:
                continue
            seen_db.add(scope.id)
            yield RawFinding(
                S.line(call), S.line(call), "blocking-call-in-async", "sync-db-in-async",
                f"`{callee}(...)` is a synchronous database call inside `async def {S.function_name(scope)}`: "
                "it blocks the event loop (and every other request) until the database answers",
                hints=("sqlalchemy", "async", "engine"),
            )
        elif method in _FILE_METHODS and "." in callee:
            yield RawFinding(
                S.line(call), S.line(call), "blocking-call-in-async", "blocking-file-io-in-async",
                f"`{callee}()` reads or writes a file synchronously inside `async def {S.function_name(scope)}`, "
                "blocking the event loop; use `await asyncio.to_thread(...)` or anyio/aiofiles",
                hints=("to_thread",),
            )
        elif method in _REDIS_METHODS and _REDIS_RECEIVER.search(recv):
            yield RawFinding(
                S.line(call), S.line(call), "blocking-call-in-async", "sync-redis-in-async",
                f"`{callee}(...)` is a synchronous Redis call (not awaited) inside `async def "
                f"{S.function_name(scope)}`, blocking the event loop on every round trip; use redis.asyncio",
                hints=("async",),
            )
        elif _BLOCKING_CALLS.match(callee) or (method in _BOTO_METHODS and "." in callee):
            yield RawFinding(
                S.line(call), S.line(call), "blocking-call-in-async", "blocking-io-in-async",
                f"`{callee}(...)` does blocking I/O inside `async def {S.function_name(scope)}`, "
                "stalling the event loop; run it with `await asyncio.to_thread(...)`",
                hints=("to_thread",),
            )
