"""Long runs: resident memory stays flat over many search (and optionally ask) cycles in one process.

MENTOR_MEMORY_CYCLES (default 200) search cycles; MENTOR_MEMORY_ASK_CYCLES (default 0) ask cycles with the
bundled model (the reliability report runs some).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scripts.harness.memory import run_cycles
from scripts.harness.sandbox import small_knowledge

pytestmark = pytest.mark.slow


def test_rss_stays_flat_over_search_and_ask_cycles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENTOR_KNOWLEDGE_DIR", str(small_knowledge(tmp_path / "cards")))
    res = run_cycles(tmp_path, int(os.environ.get("MENTOR_MEMORY_CYCLES", "200")),
                     int(os.environ.get("MENTOR_MEMORY_ASK_CYCLES", "0")))
    assert res["growth_mb"] <= 50, res
