"""Ask through a real OpenAI-compatible server: python -m llama_cpp.server on 127.0.0.1 (slow)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mentor_local.answer.backends.openai_http import OpenAIHTTPBackend
from mentor_local.answer.mentor import Mentor
from mentor_local.domain import SECTION_NAMES
from tests.conftest import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server_url(small_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import httpx

    pytest.importorskip("uvicorn")
    pytest.importorskip("sse_starlette")
    port = free_port()
    log = tmp_path_factory.mktemp("llm-server") / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(small_gguf), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "2048", "--n_gpu_layers", "0", "--n_threads", "1", "--verbose", "False"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server did not start in 180 s")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_ask_through_llama_cpp_server(saas_index: Any, server_url: str) -> None:
    mentor = Mentor(saas_index, llm_url=server_url, n_ctx=2048, max_tokens=64)
    backend = mentor.load().backend
    assert isinstance(backend, OpenAIHTTPBackend)
    pieces = []
    answer = None
    for item in mentor.stream("Where could the billing code hang or lose data?"):
        if isinstance(item, str):
            pieces.append(item)
        else:
            answer = item
    assert answer is not None and len(pieces) >= 2  # the facts first, then the checked text as it streams
    assert re.findall(r"^### (.+)$", answer.answer, flags=re.M) == list(SECTION_NAMES)
    assert all(answer.sections[n].strip() for n in SECTION_NAMES)
    assert answer.timings["completion_tokens"] > 0  # the server did generate
    assert backend._tokenizer == "llama_cpp.server"  # budget measured with the server's tokenizer
    assert answer.model["path"] == server_url and answer.model["n_ctx"] == 2048
    cited = {c.path for c in answer.citations if c.valid}
    assert cited and all((Path(saas_index.repo) / p).is_file() for p in cited)
    assert not [c for c in answer.citations if not c.valid and f"{c.path}:{c.start_line}" in answer.answer]


def test_long_question_and_history_fit_the_server_window(saas_index: Any, server_url: str) -> None:
    mentor = Mentor(saas_index, llm_url=server_url, n_ctx=2048, max_tokens=48)
    history = [("earlier " * 200, "### Learning Points\n" + "A sentence. " * 300)] * 20
    answer = mentor.ask("billing " * 3000, history=history)  # a 24k-character question
    assert re.findall(r"^### (.+)$", answer.answer, flags=re.M) == list(SECTION_NAMES)
