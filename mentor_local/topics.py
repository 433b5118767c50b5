"""The closed list of finding topics: this module is its one source.

Every finding carries exactly one slug from ``TOPICS``; every pattern card in ``knowledge/``
names the topics it teaches in its front matter. The list is closed: a new slug is added here
first, with the cards that teach it (``tests/test_knowledge_cards.py`` checks both).
"""

from __future__ import annotations

TOPICS: dict[str, str] = {
    'blocking-call-in-async': 'synchronous I/O or sleep (requests, time.sleep, sync DB drivers, subprocess.run, blocking file reads of large files) inside `async def`',
    'swallowed-exception': 'bare `except:` or `except Exception` that passes, continues or returns a default without logging or re-raising',
    'missing-timeout': 'outbound HTTP/socket call (requests, httpx, urllib) with no timeout',
    'resource-leak': 'file, DB session, connection or client created without a context manager or a close in `finally`',
    'unbounded-memory': 'module-level cache, list or dict that grows per request without bound; `functools.lru_cache`/`cache` on methods',
    'shared-state-race': 'unsynchronised mutation of module-level or shared mutable state from async handlers or threads; check-then-act on shared state; `asyncio.create_task` without keeping a reference',
    'n-plus-one-query': 'an ORM or DB query issued inside a loop over the rows of another query',
    'row-wise-pandas': '`iterrows`/`itertuples`/`apply(axis=1)` loops, or DataFrame append/concat inside a loop, where a vectorised operation exists',
    'sequential-awaits': 'independent coroutines awaited one after another in a loop where `asyncio.gather` or a `TaskGroup` would run them concurrently',
    'sql-injection': 'SQL text built with f-strings, `%`, `.format` or `+` from variables',
    'hardcoded-secret': 'passwords, API keys or tokens written as string literals',
    'unsafe-deserialization': '`pickle.loads`, `yaml.load` without a safe loader, `eval`/`exec` on data',
    'weak-password-hash': 'md5/sha1 or unsalted fast hashes used for passwords',
    'insecure-random': 'the `random` module used for tokens, codes or secrets',
    'command-injection': '`subprocess` with `shell=True` and interpolated input, `os.system`, `os.popen`',
    'task-without-retry': 'a background task (Celery, RQ, Dramatiq, arq) doing network I/O with no retry/backoff policy',
    'mutable-default-argument': 'a list, dict or set literal (or call) as a parameter default',
    'print-instead-of-logging': '`print()` in application code instead of a logger',
    'unvalidated-input': 'a request body read as a raw dict (`await request.json()`, `request.get_json()`) instead of a validated schema',
    'sensitive-data-logging': 'passwords, tokens or personal data passed to a logger',
    'debug-enabled': 'debug mode switched on in code that runs in production (`app.run(debug=True)`, `DEBUG = True`)',
}

AREAS: tuple[str, ...] = (
    "api", "async", "data", "background-tasks", "database", "security", "testing",
    "typing", "dependencies", "logging", "performance", "reliability", "maintainability",
)
LEVELS: tuple[str, ...] = ("basic", "intermediate", "production")
