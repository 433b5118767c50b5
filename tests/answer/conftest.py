"""Real components for the slow answer tests: a small indexed repo and the bundled model, built once."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A few cards keep indexing quick; they match the fixture app's findings (timeouts, retries, N+1, blocking I/O).
CARDS = ("http-timeouts-retries", "celery-retries-backoff", "asyncio-to-thread-blocking", "fastapi-settings-pydantic")


@pytest.fixture(scope="session")
def saas_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from mentor_local.index import build_index, open_index

    base = tmp_path_factory.mktemp("answer-real")
    repo = base / "saas_app"
    shutil.copytree(ROOT / "tests" / "fixtures" / "saas_app", repo)
    cards = base / "knowledge"
    cards.mkdir()
    for name in CARDS:
        src = ROOT / "knowledge" / f"{name}.md"
        if src.is_file():
            shutil.copy(src, cards / src.name)
    old = os.environ.get("MENTOR_KNOWLEDGE_DIR")
    os.environ["MENTOR_KNOWLEDGE_DIR"] = str(cards)
    try:
        build_index(repo, index_dir=base / "index")
        index = open_index(repo, index_dir=base / "index")
        yield index
        index.close()
    finally:
        if old is None:
            os.environ.pop("MENTOR_KNOWLEDGE_DIR", None)
        else:
            os.environ["MENTOR_KNOWLEDGE_DIR"] = old


@pytest.fixture(scope="session")
def bundled_gguf() -> Path:
    """The default model (Qwen2.5-Coder-1.5B-Instruct): one real question is answered with it."""
    from mentor_local.models import prepare_bundled_model

    return prepare_bundled_model()


@pytest.fixture(scope="session")
def small_gguf() -> Path:
    """The small preset (0.5B): the mechanical tests run on it, three times faster."""
    from mentor_local.models import prepare_bundled_model

    return prepare_bundled_model(preset="small")


@pytest.fixture(scope="session")
def llama_backend(small_gguf: Path) -> Any:
    from mentor_local.answer.backends.llama import LlamaBackend

    # One thread: these tests check behaviour, not speed, and CI machines are shared (two threads on two
    # busy cores decode ~3x slower than one, measured here).
    return LlamaBackend(small_gguf, n_ctx=4096, gpu_layers="0", threads=1, probe=False)
