"""Unit cases for the precision judgements of the rules (issue #13): each rule change has a case it must still
report and a case it must now leave alone. Written here (no licence needed); the real-code regressions they came
from are in test_real_snippets.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import review_files

# name -> (source, {(line, rule)} that must be reported; every other finding of the case's topic is forbidden)
CASES: dict[str, tuple[str, str, set[tuple[int, str]]]] = {
    # --- n-plus-one-query: a read per item is N+1; a write/command per item, or a loop over a collection
    # written in the code, is not
    "nplus_read_per_row.py": ("n-plus-one-query", """
        def owners(session, ids):
            out = []
            for i in ids:
                out.append(session.execute("SELECT * FROM owner WHERE id = :i", {"i": i}))
            return out
        """, {(4, "query-in-loop")}),
    "nplus_select_from_after_comment.py": ("n-plus-one-query", """
        def owners(cursor, ids):
            for i in ids:
                cursor.execute(\"\"\"
                    -- one owner
                    SELECT name FROM owner WHERE id = %s\"\"\", (i,))
        """, {(3, "query-in-loop")}),
    "nplus_write_per_row.py": ("n-plus-one-query", """
        def upsert(cursor, items):
            for item in items:
                cursor.execute(\"\"\"
                    MERGE INTO chunk d USING (SELECT :id AS id FROM dual) s ON (d.id = s.id)
                    WHEN MATCHED THEN UPDATE SET d.text = :text\"\"\", item)
        """, set()),
    "nplus_command_per_channel.py": ("n-plus-one-query", """
        from psycopg.sql import SQL, Identifier
        async def listen(conn, channels):
            for channel in channels:
                await conn.execute(SQL("LISTEN {channel}").format(channel=Identifier(channel)))
            for channel in channels:
                await conn.execute("SELECT pg_notify($1, $2);", channel, "x")
        """, set()),
    "nplus_filtered_delete.py": ("n-plus-one-query", """
        def revoke(Token, tokens):
            for t in tokens:
                Token.objects.filter(user_id=t.user_id, kind="access").delete()
        """, set()),
    "nplus_filtered_read.py": ("n-plus-one-query", """
        def grants(Token, tokens):
            return [Token.objects.filter(user_id=t.user_id).first() for t in tokens]
        """, {(2, "query-in-loop")}),
    "nplus_constant_collections.py": ("n-plus-one-query", """
        ALIASES = {"a.b": ("A_B",), "c.d": ("C_D", "OLD_C_D")}
        async def repair(db, Config):
            for key, aliases in ALIASES.items():
                prefixes = (key, *aliases)
                for prefix in prefixes:
                    await db.execute(Config.select(prefix))
                await db.get(Config, key)
            for key in ("ui.models", "ui.pinned"):
                await db.get(Config, key)
            sources = {}
            sources["chat"] = Config
            sources["note"] = Config
            for name, model in sources.items():
                await db.execute(model.select(name))
        """, set()),
    "nplus_starred_data.py": ("n-plus-one-query", """
        async def load(db, Config, first, rest):
            for key in (first, *rest):
                await db.get(Config, key)
        """, {(3, "query-in-loop")}),
    "nplus_grown_collection.py": ("n-plus-one-query", """
        async def load(db, Config, extra):
            keys = ["a", "b"]
            keys.extend(extra)
            for key in keys:
                await db.get(Config, key)
        """, {(5, "query-in-loop")}),
    # --- unvalidated-input / raw-dict-param: validated in the handler, or forwarded whole upstream (a proxy),
    # is not reported; reading keys with [] or storing the dict is
    "raw_dict_validated.py": ("unvalidated-input", """
        from fastapi import APIRouter
        from pydantic import BaseModel
        router = APIRouter()
        class ChatForm(BaseModel):
            model: str
        @router.post("/chat")
        async def chat(form_data: dict):
            meta = form_data.pop("metadata", None)
            form = ChatForm(**form_data)
            return form.model
        """, set()),
    "raw_dict_proxy.py": ("unvalidated-input", """
        import json
        import httpx
        from fastapi import APIRouter
        router = APIRouter()
        @router.post("/v1/chat")
        async def proxy(form_data: dict):
            payload = {**form_data}
            payload["model"] = payload.get("model", "").removeprefix("x.")
            payload = json.dumps(payload)
            async with httpx.AsyncClient(timeout=30) as client:
                return (await client.post("http://up/v1/chat", content=payload)).json()
        @router.post("/v1/embed")
        async def embed(form_data: dict):
            async with httpx.AsyncClient(timeout=30) as client:
                return (await client.post("http://up/v1/embed", json=form_data)).json()
        """, set()),
    "raw_dict_proxy_reads_key.py": ("unvalidated-input", """
        import httpx
        from fastapi import APIRouter
        router = APIRouter()
        @router.post("/v1/chat")
        async def proxy(form_data: dict):
            model = form_data["model"]
            async with httpx.AsyncClient(timeout=30) as client:
                return (await client.post(f"http://up/{model}", json=form_data)).json()
        """, {(5, "raw-dict-param")}),
    "raw_dict_stored.py": ("unvalidated-input", """
        import json
        from fastapi import APIRouter
        router = APIRouter()
        @router.patch("/chats/{id}/params")
        async def update_params(id: str, form_data: dict):
            await Chats.update_params(id, json.dumps(form_data))
            await publish_event(id, data=form_data)
            return {"ok": True}
        """, {(5, "raw-dict-param")}),
    # --- resource-leak: a client closed on success and in every handler of a try that catches Exception is
    # closed on every path; a narrow handler, or one that does not close, still leaks
    "leak_closed_in_handlers.py": ("resource-leak", """
        import aiohttp
        async def fetch(url):
            session = aiohttp.ClientSession()
            try:
                r = await session.get(url)
                body = await r.read()
                await session.close()
                return body
            except aiohttp.ClientError:
                await session.close()
                return None
            except Exception:
                await session.close()
                raise
        """, set()),
    "leak_narrow_handler.py": ("resource-leak", """
        import aiohttp
        async def fetch(url):
            session = aiohttp.ClientSession()
            try:
                r = await session.get(url)
                body = await r.read()
                await session.close()
                return body
            except aiohttp.ClientError:
                await session.close()
                return None
        """, {(3, "unclosed-client")}),
    "leak_handler_forgets.py": ("resource-leak", """
        import aiohttp
        async def fetch(url):
            session = aiohttp.ClientSession()
            try:
                r = await session.get(url)
                await session.close()
                return await r.read()
            except aiohttp.ClientError:
                await session.close()
                return None
            except Exception:
                return None
        """, {(3, "unclosed-client")}),
    # --- print-instead-of-logging: a function that sets up logging is a program's entry point, its prints are
    # the command's console output; a print in a helper is still reported
    "print_entry_point.py": ("print-instead-of-logging", """
        import logging
        def start_recorder(camera, loglevel=0):
            logging.basicConfig(level=loglevel)
            print(f"-> recording with {camera}")
        def record(camera, frame):
            print(f"frame {frame} from {camera}")
        """, {(6, "T201")}),
    # --- unbounded-memory / module-cache-growth: a cache cleared by slice assignment, keyed by code objects, or
    # held by a test double is bounded; a cache keyed by request data still grows
    "cache_cleared_by_slice.py": ("unbounded-memory", """
        _samples = []
        def sample(value):
            _samples.append(value)
        def dump():
            out = list(_samples)
            _samples[:] = []
            return out
        """, set()),
    "cache_keyed_by_handler.py": ("unbounded-memory", """
        class Factory:
            _backends: dict = {}
            @classmethod
            def create_for(cls, handler_id, field):
                if handler_id not in cls._backends:
                    cls._backends[handler_id] = {}
                return cls._backends[handler_id]
        """, set()),
    "cache_in_test_double.py": ("unbounded-memory", """
        class StubStore:
            results: dict = {}
            def store(self, key, value):
                self.results[key] = value
        """, set()),
    "cache_keyed_by_user.py": ("unbounded-memory", """
        _seen = {}
        def remember(user_id, profile):
            _seen[user_id] = profile
        """, {(1, "module-cache-growth")}),
    # --- swallowed-exception, the low tier: a fallback to the prior value, a predicate that fails closed, a
    # detail lost while the error is raised anyway, a documented best-effort function are not reported; other
    # silent work still is (low), and awaited work kept out of the fallback rule
    "swallow_judgements.py": ("swallowed-exception", """
        import hmac
        from urllib.parse import unquote
        def display_name(raw):
            name = raw
            try:
                name = unquote(name)
            except Exception:
                pass
            return name
        def is_signed(payload: str, signature: str, key: bytes) -> bool:
            try:
                return hmac.compare_digest(hmac.new(key, payload.encode(), "sha256").hexdigest(), signature)
            except Exception:
                return False
        def fetch_error(e):
            try:
                raise_for(e)
            except ValueError as err:
                detail = str(err)
                try:
                    detail += e.response.text_of()
                except Exception:
                    pass
                raise RuntimeError(detail)
        def close_all(socks):
            \"\"\"Best effort: never raises, both callers are teardown paths.\"\"\"
            for s in socks:
                try:
                    s.settimeout(1)
                except Exception:
                    pass
        def tidy(items):
            try:
                items.sort_inplace()
            except Exception:
                pass
        async def render(body, prompt):
            try:
                body = await apply_prompt(prompt, body)
            except Exception:
                pass
            return body
        """, {(35, "S110"), (40, "S110")}),
    # --- unsafe-deserialization / blocking-call-in-async: exec of source into a new module is a module loader
    # (what import does), and its source file write goes with it; exec into a plain dict, and open() in other
    # async code, are still reported
    "exec_module_loader.py": ("unsafe-deserialization", """
        import types
        def load_plugin(plugin_id, content):
            module = types.ModuleType(f"plugin_{plugin_id}")
            exec(content, module.__dict__)
            return module
        def run_snippet(content):
            scope = {}
            exec(content, scope)
            return scope
        """, {(8, "S102")}),
    "open_in_module_loader.py": ("blocking-call-in-async", """
        import tempfile
        import types
        async def load_plugin(plugin_id, content):
            module = types.ModuleType(f"plugin_{plugin_id}")
            path = tempfile.mktemp()
            with open(path, "w") as f:
                f.write(content)
            exec(content, module.__dict__)
            return module
        async def save(path, content):
            with open(path, "w") as f:
                f.write(content)
        """, {(11, "ASYNC230")}),
}


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[tuple[int, str, str]]]:
    root: Path = tmp_path_factory.mktemp("precision")
    report = review_files(root, {name: src for name, (_, src, _) in CASES.items()})
    out: dict[str, set[tuple[int, str, str]]] = {name: set() for name in CASES}
    for f in report.findings:
        out[f.path].add((f.line, f.rule, f.topic))
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_precision_case(found: dict[str, set[tuple[int, str, str]]], name: str) -> None:
    topic, _, expect = CASES[name]
    got = {(line, rule) for line, rule, t in found[name] if t == topic}
    assert got == expect
