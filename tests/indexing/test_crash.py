"""kill -9 at random points of an index run, resume, and end exactly as a clean run.

MENTOR_KILL_ROUNDS sets how many kills (default 3; the reliability report runs 20).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mentor_local.index import build_index, open_index
from mentor_local.settings import Settings
from scripts.harness.crash import DRIVER, index_state, make_crash_repo


def test_kill_minus_9_then_resume_equals_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rounds = int(os.environ.get("MENTOR_KILL_ROUNDS", "3"))
    # a frozen copy of the pattern library, so both indexes see the same cards
    from mentor_local.paths import knowledge_dir

    cards = tmp_path / "knowledge"
    shutil.copytree(knowledge_dir(), cards)
    monkeypatch.setenv("MENTOR_KNOWLEDGE_DIR", str(cards))
    repo = make_crash_repo(tmp_path / "repo")
    idx = tmp_path / "idx"
    rng = random.Random(1234)
    kills = 0
    for _ in range(rounds):
        proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(repo), str(idx)], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout is not None
        line = proc.stdout.readline()  # wait for the first progress line: the model is loaded, work has begun
        if not line.startswith("PROGRESS"):
            proc.wait()
            break
        time.sleep(rng.uniform(0.0, 1.5))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        # mutate the repo between some runs, as a user would
        if rng.random() < 0.3:
            victim = repo / f"mod_{rng.randrange(40)}.py"
            victim.write_text(victim.read_text() + f"\n\ndef extra_{kills}():\n    return {kills}\n")
    assert kills >= 1
    resumed = build_index(repo, idx)
    clean_idx = tmp_path / "clean"
    build_index(repo, clean_idx)
    a = index_state(repo, idx)
    b = index_state(repo, clean_idx)
    assert a[3] and b[3]
    assert a[0] == b[0] and a[1] == a[0] and b[1] == b[0] and a[2] == b[2]
    assert resumed.chunks_total == len(b[0])
    with open_index(repo, idx) as ia, open_index(repo, clean_idx) as ib:
        for q in ("handle case 3 of module 7", "sum of items", "extra"):
            assert [(h.path, h.start_line) for h in ia.search(q, k=5)] == [(h.path, h.start_line) for h in ib.search(q, k=5)]


def test_lock_of_a_killed_process_is_recovered(tmp_path: Path) -> None:
    repo = make_crash_repo(tmp_path / "repo", 2)
    idx = tmp_path / "idx"
    idx.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        from filelock import FileLock
        import time
        lock = FileLock({str(idx / '.lock')!r}); lock.acquire(); print('held', flush=True); time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    report = build_index(repo, idx, settings=Settings())
    assert report.files_indexed == 2


