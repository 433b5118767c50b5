"""Regression cases cut from the real-code dev set (scripts/bench/review_real), true and false, lines pinned.

Sources and licences (short excerpts, lightly trimmed to stand alone):
  open-webui 0.12.4   Open WebUI License (BSD-3-Clause with a branding clause), (c) Open WebUI Inc.
  celery 5.7.0        BSD-3-Clause, (c) Ask Solem & contributors
  django-allauth 65.22.1  MIT, (c) Raymond Penners and contributors
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
