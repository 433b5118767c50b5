"""Long runs: resident memory over many search (and optionally ask) cycles in one process.

Used by tests/security/test_long_run.py and scripts/bench/reliability_report.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mentor_local.index import build_index, open_index
from mentor_local.settings import Settings
from scripts.harness.repos import make_repo

QUERIES = ("where is the password hashed", "send the welcome email", "sum of invoices for a customer",
           "retry with backoff", "secrets from the environment", "database access in sqlite", "redact logs")


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def run_cycles(tmp: Path, search_cycles: int, ask_cycles: int = 0, sample_every: int = 20) -> dict[str, Any]:
    """``max(search_cycles, ask_cycles)`` cycles in one process; a cycle is a search and (while asks last) an ask.

    Asks use the bundled GGUF with short answers (``max_tokens`` 48, ``n_ctx`` 2048): what is measured is what
    each cycle leaves behind, not how long the model talks.
    """
    from mentor_local.wiring import make_embedder

    repo = make_repo(tmp / "repo")
    settings = Settings(n_ctx=2048, max_tokens=48)
    emb = make_embedder(settings)
    build_index(repo, tmp / "idx", settings=settings, embedder=emb)
    out: dict[str, Any] = {}
    with open_index(repo, tmp / "idx", settings, embedder=emb) as index:
        for i in range(20):  # warm-up: model, Chroma and SQLite caches reach their working size
            index.search(QUERIES[i % len(QUERIES)], k=10)
        mentor = None
        if ask_cycles:
            from mentor_local.answer.mentor import Mentor

            mentor = Mentor(index, settings=settings)
            for q in QUERIES[:2]:  # warm-up: the GGUF loaded, its KV cache and the review/profile cached
                mentor.ask(q)
        start = rss_mb()
        samples = [round(start, 1)]
        cycles = max(search_cycles, ask_cycles)
        for i in range(cycles):
            if i < search_cycles:
                assert index.search(QUERIES[i % len(QUERIES)] + f" {i}", k=10)
            if mentor is not None and i < ask_cycles:
                history = [] if i % 3 == 0 else [(QUERIES[(i - 1) % len(QUERIES)], "An earlier answer.")]
                assert mentor.ask(QUERIES[i % len(QUERIES)] + f" ({i})", history=history).answer
            if (i + 1) % sample_every == 0:
                samples.append(round(rss_mb(), 1))
        end = rss_mb()
        out.update(cycles=cycles, search_cycles=search_cycles, ask_cycles=ask_cycles, start_mb=start, end_mb=end,
                   growth_mb=round(end - start, 1), samples_mb=samples)
    return out
