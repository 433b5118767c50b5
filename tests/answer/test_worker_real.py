"""The real GGUF through the model process: it answers, stops when told, keeps its KV prefix, survives a kill."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mentor_local.answer.backends.worker import WorkerBackend
from mentor_local.errors import ModelCrashed
from mentor_local.protocols import TokenStream

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model(bundled_gguf: Path) -> Iterator[WorkerBackend]:
    # One thread, a small window: these tests check behaviour, not speed, on a shared machine.
    backend = WorkerBackend(bundled_gguf, n_ctx=2048, gpu_layers="0", threads=1).wait_ready()
    yield backend
    backend.close()


def ask(model: WorkerBackend, text: str, max_tokens: int, history: list[dict[str, str]] | None = None) -> TokenStream:
    return model.chat([*(history or []), {"role": "user", "content": text}], max_tokens=max_tokens)


def test_the_real_model_answers_through_its_process(model: WorkerBackend, bundled_gguf: Path) -> None:
    text = "".join(ask(model, "Name one Python web framework.", 8))
    assert text.strip()
    info = model.info()
    assert info["process"] == "child" and info["path"] == str(bundled_gguf) and info["backend"] == "llama.cpp"
    assert model.n_ctx == 2048 and model.threads == 1 and model.gpu_layers == 0
    n = model.count_tokens("def handler(request):\n    return request.json()\n")
    assert 5 < n < 40
    assert model.count_tokens_many(["a b c", "def handler(request):\n    return request.json()\n"])[1] == n


def test_closing_a_real_stream_stops_it_and_the_process_stays_loaded(model: WorkerBackend) -> None:
    pid = model.pid
    pieces = ask(model, "Explain Python decorators in detail, with three examples.", 200)
    next(pieces)
    next(pieces)
    t0 = time.monotonic()
    pieces.close()
    assert time.monotonic() - t0 < 3
    t0 = time.monotonic()
    assert "".join(ask(model, "Say yes.", 3)).strip()
    assert time.monotonic() - t0 < 30  # not the rest of the 200-token answer first
    assert model.pid == pid


def _ttft(pieces: TokenStream) -> float:
    t0 = time.perf_counter()
    next(pieces)
    elapsed = time.perf_counter() - t0
    pieces.close()
    return elapsed


def test_a_follow_up_reuses_the_kv_prefix_in_the_process(model: WorkerBackend) -> None:
    code = (ROOT / "mentor_local" / "answer" / "backends" / "probe.py").read_text(encoding="utf-8")[:1200]
    history = [{"role": "user", "content": f"{code}\n\nWhat does this code do?"}]
    cold = _ttft(ask(model, "Summarise it in one sentence.", 4, [{"role": "system", "content": "Be brief."}, *history]))
    history = [{"role": "system", "content": "Be brief."}, *history,
               {"role": "user", "content": "Summarise it in one sentence."},
               {"role": "assistant", "content": "It test-loads a model in a child process."}]
    follow = _ttft(ask(model, "How would I test that?", 4, history))
    assert follow <= 0.5 * cold, (cold, follow)


def test_a_killed_real_model_process_is_one_line_and_the_next_call_works(model: WorkerBackend) -> None:
    pid = model.pid
    assert pid is not None
    pieces = ask(model, "Write a long essay about databases.", 200)
    next(pieces)
    threading.Timer(0.2, os.kill, (pid, signal.SIGKILL)).start()
    with pytest.raises(ModelCrashed) as err:
        for _ in pieces:
            pass
    assert "SIGKILL" in err.value.one_line() and "mentor doctor" in err.value.one_line()
    assert "".join(ask(model, "Say yes.", 3)).strip()
    assert model.pid not in (None, pid)


def test_a_fresh_model_process_loads_the_persona_a_previous_one_saved(small_gguf: Path, tmp_path: Path) -> None:
    persona = [{"role": "system", "content": "You are a Python mentor who answers in one sentence. " * 10},
               {"role": "user", "content": "Hi"}]
    cache = str(tmp_path / "prompt-cache")
    first = WorkerBackend(small_gguf, n_ctx=1024, gpu_layers="0", threads=1).wait_ready()
    try:
        assert first.prime(persona, cache) is False  # read, then saved for the next process
    finally:
        first.close()
    second = WorkerBackend(small_gguf, n_ctx=1024, gpu_layers="0", threads=1).wait_ready()
    try:
        assert second.prime(persona, cache) is True
        assert "".join(second.chat([persona[0], {"role": "user", "content": "Say yes."}], max_tokens=3)).strip()
    finally:
        second.close()
