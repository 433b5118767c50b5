"""`mentor ask` when the model's process dies mid-answer: exit 1 and one line on stderr, no traceback.

A real `mentor ask` in a subprocess, over a real index of a small repo; the model is the child's scripted
stand-in (``MENTOR_WORKER_FAKE``), which kills its own process with a real signal mid-stream.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.tui.fakes import make_repo

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from mentor_local.index import build_index

    base = tmp_path_factory.mktemp("ask-crash")
    knowledge = base / "knowledge"
    knowledge.mkdir()
    shutil.copy(ROOT / "knowledge" / "batch-lookups-not-loop-queries.md", knowledge)
    repo = make_repo(base / "repo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MENTOR_KNOWLEDGE_DIR", str(knowledge))
        build_index(repo, index_dir=base / "index")
    gguf = base / "fake.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 28)
    return {"repo": repo, "index": base / "index", "knowledge": knowledge, "gguf": gguf, "home": base / "home"}


def ask(indexed: dict[str, Path], spec: dict[str, Any], *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MENTOR_KNOWLEDGE_DIR": str(indexed["knowledge"]),
           "MENTOR_HOME": str(indexed["home"]), "MENTOR_WORKER_FAKE": json.dumps(spec)}
    env.pop("MENTOR_MODEL_PROCESS", None)
    cmd = [sys.executable, "-c", "import sys; from mentor_local.cli import main; main()", "ask",
           "Why is the invoices page slow?", "--repo", str(indexed["repo"]), "--index-dir", str(indexed["index"]),
           "--model", str(indexed["gguf"]), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.mark.parametrize(("how", "expect"), [("SIGILL", "SIGILL: illegal instruction"),
                                             ("SIGSEGV", "SIGSEGV: segmentation fault"),
                                             ("SIGKILL", "SIGKILL: killed")])
def test_mentor_ask_exits_1_with_one_line_when_the_model_dies(indexed: dict[str, Path], how: str, expect: str) -> None:
    # No marker: this fake dies on every stream, after two pieces.
    out = ask(indexed, {"tokens": ["The views ", "loop over ", "customers. "], "die": how, "die_after": 2})
    assert out.returncode == 1, (out.returncode, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("mentor: error: the model process died (" + expect), lines[0]
    assert "mentor doctor" in lines[0] and "Traceback" not in out.stderr
    assert "### " in out.stdout and out.stdout.endswith("\n")  # what was written before the death stays, ended


def test_mentor_ask_works_through_the_model_process(indexed: dict[str, Path]) -> None:
    out = ask(indexed, {"tokens": ["The views ", "loop over ", "customers. "]}, "--json")
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["answer"].startswith("### ")
    assert answer["model"].get("process") == "child"


def test_a_model_that_fails_to_load_still_exits_2_before_the_index_matters(tmp_path: Path,
                                                                           indexed: dict[str, Path]) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MENTOR_HOME": str(tmp_path / "home"),
           "MENTOR_WORKER_FAKE": json.dumps({"load_error": "llama.cpp cannot load fake.gguf: bad tensor"})}
    cmd = [sys.executable, "-c", "import sys; from mentor_local.cli import main; main()", "ask", "why?",
           "--repo", str(tmp_path), "--model", str(indexed["gguf"])]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1 and "bad tensor" in lines[0], out.stderr
