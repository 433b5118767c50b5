"""Regression cases cut from the real-code dev set (scripts/bench/review_real), true and false, lines pinned.

Sources and licences (short excerpts, lightly trimmed to stand alone):
  open-webui 0.12.4   Open WebUI License (BSD-3-Clause with a branding clause), (c) Open WebUI Inc.
  celery 5.7.0        BSD-3-Clause, (c) Ask Solem & contributors
  django-allauth 65.22.1  MIT, (c) Raymond Penners and contributors
  dramatiq 2.2.1      LGPL-3.0-or-later, (c) CLEARTYPE SRL and contributors (a few lines quoted for a test)
  litestar 2.25.0     MIT, (c) Litestar Organization (held-out corpus: cases cut from it are marked so)
  fastapi-users 15.0.5  MIT, (c) François Voron; flask 3.1.3  BSD-3-Clause, (c) Pallets — from the unseen set
                      labelled after tuning (session 17): the rules were changed after it, so marked "was unseen"
The noqa and --debug cases are written here (no licence needed).
Each case: source, then the (line, topic, severity, confidence) findings that must appear; nothing else may.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import review_files

SNIPPETS: dict[str, tuple[str, set[tuple[int, str, str, str]]]] = {
    # open-webui models/chats.py: only a bind-parameter name is interpolated -> not injection
    "owui_bind_name.py": ("""
        def chat_search_message_content_match_sql(dialect_name: str, key: str) -> str:
            return f\"\"\"
            EXISTS (SELECT 1 FROM json_each(Chat.chat, '$.history.messages') AS m
                    WHERE LOWER(m.value->>'content') LIKE '%' || :{key} || '%')
            \"\"\"
        """, set()),
    # mariadb_vector.py: WHERE assembled from constant fragments with '?' placeholders -> not injection
    "owui_where_fragments.py": ("""
        def query(cur, collection_name, fsql, fparams):
            where = 'collection_name = ?'
            params = [collection_name]
            if fsql:
                where = where + ' AND ' + fsql
                params.extend(fparams)
            sql = f'SELECT id, text, vmetadata FROM document_chunk WHERE {where}'
            cur.execute(sql, params)
        """, set()),
    # celery utils/serialization.py: a picklability probe -> not unsafe deserialization
    "celery_pickle_probe.py": ("""
        import pickle
        def get_pickleable_exception(exc):
            try:
                pickle.loads(pickle.dumps(exc))
            except Exception:  # pylint: disable=broad-except
                pass
            else:
                return exc
        """, set()),
    # django-allauth: a session-key name and a JWT claim value are not secrets
    "allauth_names.py": ("""
        INTERNAL_RESET_SESSION_KEY = "_password_reset_key"
        def claims(iat):
            return {"iat": iat, "token_use": "access"}
        """, set()),
    # open-webui events.py: fire-and-forget create_task (true: untracked task)
    "owui_create_task.py": ("""
        import asyncio
        def schedule_webhook_dispatch(app, event):
            try:
                asyncio.create_task(dispatch_webhook_event(app, event))
            except RuntimeError:
                pass
        """, {(4, "shared-state-race", "medium", "high")}),
    # open-webui migration: each INSERT swallows its error (true, high: data loss on PostgreSQL)
    "migrations/versions/owui_grants.py": ("""
        import sqlalchemy as sa
        def upgrade(conn, rows):
            for key, resource_id in rows:
                try:
                    conn.execute(sa.text("INSERT INTO access_grant (id, resource_id) VALUES (:id, :rid)"),
                                 {"id": key, "rid": resource_id})
                except Exception:
                    pass
        """, {(7, "swallowed-exception", "high", "high")}),
    # open-webui models/files.py: the data layer turns a DB error into "not found" (true, medium)
    "owui_data_layer.py": ("""
        async def get_file_by_id(db, id):
            try:
                file = await db.get(File, id)
                return file
            except Exception:
                return None
        """, {(5, "swallowed-exception", "medium", "high")}),
    # open-webui utils/memory.py: fallback to a default when a setting does not parse (not reported)
    "owui_fallback.py": ("""
        def interval(config):
            try:
                return max(1, int(config.get('memories.review_interval_turns', 10)))
            except Exception:
                return 10
        """, set()),
    # open-webui retrieval/web/utils.py: `async with session.get(...)` is aiohttp even if the file has requests
    "owui_aiohttp_session.py": ("""
        import requests
        session = requests.Session()
        async def fetch(url, aio):
            async with aio as session:
                async with session.get(url) as response:
                    return await response.text()
        """, set()),
    # open-webui models: a `filter: dict = {}` default that is only read (not reported)
    "owui_readonly_default.py": ("""
        def search_notes(user_id, filter: dict = {}, skip=0):
            if filter:
                return filter.get('query')
            return None
        """, set()),
    # open-webui config.py: an import-time request with no timeout (true, high: the app never starts)
    "owui_import_time.py": ("""
        import requests
        r = requests.get('https://api.example.com/custom/name')
        def later(url):
            return requests.get(url)
        """, {(2, "missing-timeout", "high", "high"), (4, "missing-timeout", "medium", "high")}),
    # the is_sensitive_name bug: api_key / secret_key / auth_header were never reportable
    "log_keys.py": ("""
        import logging
        log = logging.getLogger(__name__)
        def call(api_key, secret_key, auth_header, user_id, cache_key):
            log.info("key %s", api_key)
            log.info("secret %s", secret_key)
            log.info("header %s", auth_header)
            log.info("user %s cache %s", user_id, cache_key)
        """, {(4, "sensitive-data-logging", "high", "high"), (5, "sensitive-data-logging", "high", "high"),
              (6, "sensitive-data-logging", "high", "high")}),
    # --- round 2 (labels "round 2" in scripts/bench/review_real/labels.jsonl) ---
    # open-webui models/chats.py: the try runs inside a transaction context -> data layer (true, medium)
    "owui_chat_transaction.py": ("""
        class ChatTable:
            async def update_chat_by_id(self, id, chat):
                try:
                    async with self._chat_transaction(id) as (session, chat_item):
                        chat_item.chat = chat
                        updated_chat = ChatModel.model_validate(chat_item)
                    return updated_chat
                except Exception:
                    return None
        """, {(8, "swallowed-exception", "medium", "high")}),
    # open-webui vector/dbs/weaviate.py: a delete reached through the client -> data layer (true, medium)
    "owui_client_chain.py": ("""
        class WeaviateClient:
            def reset(self) -> None:
                try:
                    for collection_name in self.client.collections.list_all().keys():
                        self.client.collections.delete(collection_name)
                except Exception:
                    pass
        """, {(6, "swallowed-exception", "medium", "high")}),
    # open-webui utils/models.py: `except Exception: priority = 0` is a fallback value (false)
    "owui_fallback_value.py": ("""
        def get_action_priority(action_id, functions_cache, all_function_valves):
            priority = 0
            try:
                function_module = functions_cache.get(action_id)
                valves = function_module.Valves(**(all_function_valves.get(action_id) or {}))
                priority = getattr(valves, 'priority', 0)
            except Exception:
                priority = 0
            return priority
        """, set()),
    # open-webui routers/retrieval.py: the handler says why the error is ignored (false)
    "owui_commented_handler.py": ("""
        async def process_file(client, name):
            try:
                await client_registry.drop_collection(collection_name=name)
            except Exception:
                # Audio file upload pipeline: the collection may not exist yet
                pass
        """, set()),
    # celery utils/threads.py: a crash report written to stderr on purpose (false)
    "celery_crash_report.py": ("""
        import sys
        import traceback
        class bgThread:
            def on_crash(self, msg, *fmt, **kwargs):
                print(msg.format(*fmt), file=sys.stderr)
                traceback.print_exc(None, sys.stderr)
        """, set()),
    # celery worker/state.py: `request` is a task's request in the consumer thread, not a web view (false)
    "celery_task_request.py": ("""
        all_total_count = [0]
        def task_accepted(request, _all_total_count=None):
            add_request(request.id, request)
            all_total_count[0] += 1
        """, set()),
    # a noqa comment naming S105 on a line our own secret rule fires on silences it; the same value without it is reported
    "noqa_s105.py": ("""
        DEPLOY_TOKEN = "ghp_4fQ9zX2mL7pR8vK3tY6wB1nC5hJ0dS2aE9uI"  # noqa: S105
        OTHER_TOKEN = "ghp_4fQ9zX2mL7pR8vK3tY6wB1nC5hJ0dS2aE9uI"
        """, {(2, "hardcoded-secret", "high", "high")}),
    # a command-line tool's own --debug flag is the operator's choice, not debug mode shipped on
    "cli_debug_flag.py": ("""
        import click
        @click.command()
        @click.option("--debug", is_flag=True)
        def serve(debug):
            app = create_app()
            if debug:
                app.debug = True
            app.run()
        """, set()),
    # open-webui socket/main.py: a best-effort close while cleaning up, under suppress(Exception): judged like the
    # try/except it stands for, work that is neither I/O nor parsing -> low, not shown by default
    "owui_suppress_cleanup.py": ("""
        from contextlib import suppress
        async def listen(pubsub):
            try:
                await pubsub.run()
            finally:
                if pubsub:
                    with suppress(Exception):
                        await pubsub.aclose()
        """, {(7, "swallowed-exception", "low", "low")}),
    # suppress(Exception) around a lookup that only assigns keeps the value set before it: a fallback, like
    # `except Exception: x = default` -> not reported (written here, in the shape of litestar's OpenAPI responses)
    "suppress_fallback.py": ("""
        from contextlib import suppress
        from http import HTTPStatus
        def describe(code):
            description = "Additional response"
            with suppress(Exception):
                description = HTTPStatus(code).description
            return description
        """, set()),
    # suppress(Exception) around a database call: an outage reads as success -> medium, high confidence
    "suppress_db_call.py": ("""
        import contextlib
        def purge(db):
            with contextlib.suppress(Exception):
                db.execute_cache_purge()
            return {"ok": True}
        """, {(3, "swallowed-exception", "medium", "high")}),
    # django-allauth idp/oidc request_validator.py: a filtered bulk delete per revoked token is a write, not an
    # N+1 read -> not reported
    "allauth_delete_per_token.py": ("""
        def revoke_token(self, token, request):
            for instance in Token.objects.by_value(token).filter(client=request.client):
                if instance.user_id is not None and (grant_id := instance.get_grant_id()):
                    Token.objects.filter(
                        client=request.client, user_id=instance.user_id, data__grant_id=grant_id,
                    ).delete()
        """, set()),
    # open-webui retrieval/vector/dbs/oracle23ai.py: a MERGE per item is a write per row -> not N+1
    "owui_merge_per_item.py": ("""
        def upsert(self, collection_name, items):
            with self.get_connection() as connection:
                with connection.cursor() as cursor:
                    for item in items:
                        cursor.execute(
                            \"\"\"
                            MERGE INTO document_chunk d
                            USING (SELECT :merge_id as id FROM dual) s
                            ON (d.id = s.id)
                            WHEN MATCHED THEN UPDATE SET d.text = :text
                            \"\"\", {"merge_id": item["id"], "text": item["text"]})
        """, set()),
    # open-webui models/config.py: loops over a config key and its aliases from a module constant -> bounded by
    # the code, not N+1; the membership SELECT per row of a previous query (models/channels.py) stays
    "owui_config_aliases.py": ("""
        from sqlalchemy import select
        DICT_CONFIG_KEY_ALIASES = {'openai.api_configs': ('OPENAI_API_CONFIGS',)}
        async def repair(db):
            for config_key, aliases in DICT_CONFIG_KEY_ALIASES.items():
                prefixes = (config_key, *aliases)
                rows = []
                for key_prefix in prefixes:
                    result = await db.execute(select(Config).where(Config.key.like(f'{key_prefix}.%')))
                    rows.extend(result.scalars().all())
                existing = await db.get(Config, config_key)
        async def memberships(db, user_id):
            channels = (await db.execute(select(Channel))).scalars().all()
            for channel in channels:
                member = await db.execute(select(Member).where(Member.channel_id == channel.id))
        """, {(14, "n-plus-one-query", "medium", "medium")}),
    # litestar channels/backends/psycopg.py (held-out): LISTEN per channel on the one listener connection is a
    # command, not a read -> not reported
    "litestar_listen_per_channel.py": ("""
        from psycopg.sql import SQL, Identifier
        async def subscribe(self, channels):
            for channel in set(channels) - self._subscribed_channels:
                await self._listener_conn.execute(SQL("LISTEN {channel}").format(channel=Identifier(channel)))
                self._subscribed_channels.add(channel)
        """, set()),
    # open-webui routers/openai.py: an OpenAI-compatible proxy copies the raw body, adjusts it and sends it
    # upstream whole -> not reported; routers/tasks.py reads form_data['model'] from a raw dict -> reported
    "owui_proxy_body.py": ("""
        from fastapi import APIRouter, Depends, Request
        router = APIRouter()
        @router.post('/chat/completions')
        async def generate_chat_completion(request: Request, form_data: dict, user=Depends(get_verified_user)):
            payload = {**form_data}
            metadata = payload.pop('metadata', None)
            model_id = form_data.get('model')
            payload = apply_model_params_to_body_openai(params, payload)
            payload = JSONCodec.dumps(payload)
            session = await get_session()
            r = await session.request(method='POST', url=request_url, data=payload, headers=headers)
            return await r.json()
        @router.post('/emoji/completions')
        async def generate_emoji(request: Request, form_data: dict, user=Depends(get_verified_user)):
            model_id = form_data['model']
            payload = {'model': model_id, 'messages': [{'role': 'user', 'content': form_data['prompt']}]}
            return await generate_chat_completion(request, form_data=payload, user=user)
        """, {(14, "unvalidated-input", "medium", "medium")}),
    # open-webui routers/ollama.py: the raw dict is parsed into a pydantic form in the handler -> validated
    "owui_validated_in_handler.py": ("""
        from fastapi import APIRouter, HTTPException
        from pydantic import BaseModel
        router = APIRouter()
        class GenerateChatCompletionForm(BaseModel):
            model: str
        @router.post('/api/chat')
        async def generate_chat_completion(request, form_data: dict, url_idx: int | None = None):
            metadata = form_data.pop('metadata', None)
            try:
                form_data = GenerateChatCompletionForm(**form_data)
            except Exception as exc:
                raise HTTPException(status_code=400, detail=str(exc))
            return form_data.model
        """, set()),
    # open-webui routers/terminals.py: the proxy's session is closed on the buffered path, by a background
    # cleanup on the streaming path, and in every except clause (one catches Exception) -> not a leak
    "owui_session_closed_in_handlers.py": ("""
        import aiohttp
        from starlette.background import BackgroundTask
        from starlette.responses import Response, StreamingResponse
        async def proxy(request, target_url):
            session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300, connect=10), trust_env=True)
            try:
                upstream = await session.request(method=request.method, url=target_url, data=await request.body())
                if upstream.headers.get('content-type', '').startswith('text/event-stream'):
                    async def cleanup():
                        await upstream.release()
                        await session.close()
                    return StreamingResponse(content=upstream.content.iter_any(), background=BackgroundTask(cleanup))
                body = await upstream.read()
                await session.close()
                return Response(content=body, status_code=upstream.status)
            except (aiohttp.ClientConnectionError, TimeoutError):
                await session.close()
                return Response(status_code=502)
            except Exception as error:
                await session.close()
                log.exception('Terminal proxy error: %s', error)
                return Response(status_code=502)
        """, set()),
    # celery events/snapshot.py: the snapshot command's entry point sets up logging, then prints its start-up
    # line to the console -> the command's output, not logging
    "celery_evcam.py": ("""
        def evcam(camera, freq=1.0, maxrate=None, loglevel=0, logfile=None, pidfile=None, timer=None, app=None):
            app = app_or_default(app)
            if pidfile:
                platforms.create_pidlock(pidfile)
            app.log.setup_logging_subsystem(loglevel, logfile)
            print(f'-> evcam: Taking snapshots with {camera} (every {freq} secs.)')
            state = app.events.State()
            return state
        """, set()),
    # celery utils/debug.py: memory samples are cleared with `_mem_sample[:] = []` when dumped -> bounded
    "celery_mem_sample.py": ("""
        _mem_sample = []
        def sample_mem():
            current_rss = mem_rss()
            _mem_sample.append(current_rss)
            return current_rss
        def _memdump(samples=10):
            S = _mem_sample
            prev = list(S) if len(S) <= samples else sample(S, samples)
            _mem_sample[:] = []
            return prev
        """, set()),
    # dramatiq results/backends/stub.py: the in-memory test backend keeps results on purpose -> not reported
    "dramatiq_stub_backend.py": ("""
        import time
        class StubBackend(ResultBackend):
            results: dict[str, tuple] = {}
            def _store(self, message_key, result, ttl):
                result_data = self.encoder.encode(result)
                expiration = time.monotonic() + int(ttl / 1000)
                self.results[message_key] = (result_data, expiration)
        """, set()),
    # litestar dto/base_dto.py (held-out): DTO backends keyed by route handler id: as many as the app's handlers
    "litestar_dto_backends.py": ("""
        from typing import ClassVar
        class AbstractDTO:
            _dto_backends: ClassVar[dict[str, dict]] = {}
            @classmethod
            def create_for_field_definition(cls, field_definition, handler_id, backend_cls=None):
                if handler_id not in cls._dto_backends:
                    cls._dto_backends[handler_id] = {}
                backend_context = cls._dto_backends[handler_id]
                return backend_context
        """, set()),
    # open-webui routers/auths.py: URL-unquoting a display name falls back to the raw header value -> a fallback
    "owui_unquote_fallback.py": ("""
        import urllib.parse
        def trusted_name(request, header, email):
            name = request.headers.get(header, email)
            try:
                name = urllib.parse.unquote(name, encoding='utf-8')
            except Exception as e:
                pass
            return name
        """, set()),
    # open-webui utils/auth.py: a signature check returns False on malformed input -> fails closed, on purpose
    "owui_verify_signature.py": ("""
        import base64, hashlib, hmac
        def verify_signature(payload: str, signature: str) -> bool:
            try:
                expected_signature = base64.b64encode(
                    hmac.new(TRUSTED_SIGNATURE_KEY, payload.encode(), hashlib.sha256).digest()
                ).decode()
                return hmac.compare_digest(expected_signature, signature)
            except Exception:
                return False
        """, set()),
    # open-webui routers/pipelines.py: parsing an upstream error body inside the handler that raises the error
    # anyway -> only a detail is lost
    "owui_error_detail.py": ("""
        import aiohttp
        from fastapi import HTTPException
        async def call_pipeline(session, url):
            try:
                async with session.post(url, timeout=10) as response:
                    response.raise_for_status()
                    return await response.json()
            except aiohttp.ClientResponseError as e:
                try:
                    res = await response.json() if 'application/json' in response.content_type else {}
                    if 'detail' in res:
                        raise HTTPException(status_code=response.status, detail=res['detail'])
                except HTTPException:
                    raise
                except Exception:
                    pass
                raise HTTPException(status_code=response.status, detail='Pipeline call failed')
        """, set()),
    # celery utils/threads.py: a teardown helper documented as best-effort that never raises
    "celery_best_effort_teardown.py": ("""
        def _set_socket_timeouts(connection, timeout):
            \"\"\"Set a timeout on the broker sockets. Best effort: never raises, as both callers are teardown paths.\"\"\"
            try:
                for sock in _open_broker_sockets(connection):
                    try:
                        sock.settimeout(timeout)
                    except Exception:  # pylint: disable=broad-except
                        pass
            except Exception:  # pylint: disable=broad-except
                pass
        """, set()),
    # open-webui utils/plugin.py: an admin-installed tool's source is written to a temp file (its __file__) and
    # executed as a new module -> a module loader, neither unsafe deserialisation nor a loop-blocking write
    "owui_plugin_loader.py": ("""
        import sys, tempfile, types, uuid
        async def load_tool_module_by_id(tool_id, content=None):
            module_name = f'tool_{tool_id}_{uuid.uuid4().hex}'
            module = types.ModuleType(module_name)
            sys.modules[module_name] = module
            temp_file = tempfile.NamedTemporaryFile(delete=False)
            temp_file.close()
            try:
                with open(temp_file.name, 'w', encoding='utf-8') as f:
                    f.write(content)
                module.__dict__['__file__'] = temp_file.name
                exec(content, module.__dict__)
                if hasattr(module, 'Tools'):
                    return module.Tools(), module
                raise Exception('No Tools class found in the module')
            finally:
                del sys.modules[module_name]
        """, set()),
    # fastapi-users authentication/transport/bearer.py (was unseen): a sample JWT in an OpenAPI response's
    # "example" is documentation, not a credential (labelled false; the issue names this very case)
    "fastapi_users_openapi_example.py": ("""
        class BearerTransport:
            @staticmethod
            def get_openapi_login_responses_success():
                return {
                    200: {
                        "content": {
                            "application/json": {
                                "example": {
                                    "access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJ1"
                                    "c2VyX2lkIjoiOTIyMWZmYzktNjQwZi00MzcyLTg2Z"
                                    "DMtY2U2NDJjYmE1NjAzIiwiYXVkIjoiZmFzdGFwaS"
                                    "11c2VyczphdXRoIiwiZXhwIjoxNTcxNTA0MTkzfQ."
                                    "M10bjOe45I5Ncu_uXvOmVV8QxnL-nZfcH96U90JaocI",
                                    "token_type": "bearer",
                                }
                            }
                        },
                    },
                }
        """, set()),
    # the same token outside an example is still a credential written into the source
    "jwt_literal_in_code.py": ("""
        ACCESS_TOKEN = ("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiOTIyMWZmYzktNjQwZi00MzcyLTg2Z"
                        "DMtY2U2NDJjYmE1NjAzIiwiZXhwIjoxNTcxNTA0MTkzfQ.M10bjOe45I5Ncu_uXvOmVV8QxnL-nZfcH96U90JaocI")
        """, {(1, "hardcoded-secret", "high", "high")}),
    # fastapi-users authentication/strategy/jwt.py (was unseen): a list default stored on the instance and never
    # changed: shared by every instance, harmless today -> low confidence, not shown by default (labelled debatable)
    "fastapi_users_audience_default.py": ("""
        class JWTStrategy:
            def __init__(self, secret, lifetime_seconds, token_audience: list[str] = ["fastapi-users:auth"]):
                self.secret = secret
                self.lifetime_seconds = lifetime_seconds
                self.token_audience = token_audience

            def read_token(self, token):
                return decode_jwt(token, self.secret, self.token_audience)
        """, {(2, "mutable-default-argument", "low", "low")}),
    # the same default, then changed through the instance: every instance shares the change
    "audience_default_mutated.py": ("""
        class JWTStrategy:
            def __init__(self, token_audience: list[str] = ["auth"]):
                self.token_audience = token_audience

            def allow(self, audience):
                self.token_audience.append(audience)
        """, {(2, "mutable-default-argument", "low", "high")}),
    # flask cli.py shell_command (was unseen): the shell runs the file PYTHONSTARTUP names, as the REPL does
    # (labelled false; the issue names this very case)
    "flask_shell_startup.py": ("""
        import os
        def shell_command():
            ctx = {}
            startup = os.environ.get("PYTHONSTARTUP")
            if startup and os.path.isfile(startup):
                with open(startup) as f:
                    eval(compile(f.read(), startup, "exec"), ctx)
        """, set()),
}


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[tuple[int, str, str, str]]]:
    root: Path = tmp_path_factory.mktemp("real")
    report = review_files(root, {name: src for name, (src, _) in SNIPPETS.items()})
    out: dict[str, set[tuple[int, str, str, str]]] = {name: set() for name in SNIPPETS}
    for f in report.findings:
        out[f.path].add((f.line, f.topic, f.severity, f.confidence))
    return out


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_real_snippet(findings: dict[str, set[tuple[int, str, str, str]]], name: str) -> None:
    assert findings[name] == SNIPPETS[name][1]
