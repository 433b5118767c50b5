"""Long runs: resident memory stays flat over many search (and optionally ask) cycles in one process.

MENTOR_MEMORY_CYCLES (default 200) search cycles; MENTOR_MEMORY_ASK_CYCLES (default 0) ask cycles with the
bundled model (the reliability report runs some).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from mentor_local.index import build_index, open_index
from mentor_local.settings import Settings
from tests.conftest import make_repo
from tests.security.harness import small_knowledge

pytestmark = pytest.mark.slow
QUERIES = ("where is the password hashed", "send the welcome email", "sum of invoices for a customer",
           "retry with backoff", "secrets from the environment", "database access in sqlite", "redact logs")


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def run_cycles(tmp: Path, search_cycles: int, ask_cycles: int = 0) -> dict[str, Any]:
    from mentor_local.wiring import make_embedder

    repo = make_repo(tmp / "repo")
    settings = Settings()
    emb = make_embedder(settings)
    build_index(repo, tmp / "idx", settings=settings, embedder=emb)
    out: dict[str, Any] = {}
    with open_index(repo, tmp / "idx", settings, embedder=emb) as index:
        for i in range(20):  # warm-up: model, Chroma and SQLite caches reach their working size
            index.search(QUERIES[i % len(QUERIES)], k=10)
        start = rss_mb()
        for i in range(search_cycles):
            assert index.search(QUERIES[i % len(QUERIES)] + f" {i}", k=10)
        out.update(search_cycles=search_cycles, search_start_mb=start, search_end_mb=rss_mb())
        if ask_cycles:
            from mentor_local.answer.mentor import Mentor

            mentor = Mentor(index)
            mentor.ask(QUERIES[0])
            start = rss_mb()
            for i in range(ask_cycles):
                assert mentor.ask(QUERIES[i % len(QUERIES)]).answer
            out.update(ask_cycles=ask_cycles, ask_start_mb=start, ask_end_mb=rss_mb())
    return out


def test_rss_stays_flat_over_search_cycles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENTOR_KNOWLEDGE_DIR", str(small_knowledge(tmp_path / "cards")))
    res = run_cycles(tmp_path, int(os.environ.get("MENTOR_MEMORY_CYCLES", "200")),
                     int(os.environ.get("MENTOR_MEMORY_ASK_CYCLES", "0")))
    assert res["search_end_mb"] - res["search_start_mb"] <= 50, res
    if "ask_cycles" in res:
        assert res["ask_end_mb"] - res["ask_start_mb"] <= 50, res
