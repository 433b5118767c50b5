"""The OpenAI-compatible backend against a scripted HTTP server (httpx.MockTransport)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from mentor_local.answer.backends.openai_http import OpenAIHTTPBackend
from mentor_local.answer.mentor import Mentor
from mentor_local.domain import SECTION_NAMES
from mentor_local.errors import BackendError, ConfigError
from tests.answer import fakes


def sse(pieces: list[dict[str, Any]]) -> bytes:
    return b"".join(f"data: {json.dumps(p)}\n\n".encode() for p in pieces) + b"data: [DONE]\n\n"


class Server:
    def __init__(self, chat_template: str = "") -> None:
        self.chat_template = chat_template
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        body = json.loads(request.content) if request.content else {}
        self.requests.append((path, body))
        if path == "/v1/models":
            return httpx.Response(200, json={"data": [{"id": "test-model"}]})
        if path == "/props":
            return httpx.Response(200, json={"chat_template": self.chat_template})
        if path == "/tokenize":
            return httpx.Response(200, json={"tokens": list(range(fakes.count_tokens(body["content"])))})
        if path == "/v1/completions":
            words = "Batch the lookups in load_orders now.".split(" ")
            return httpx.Response(200, content=sse([{"choices": [{"text": (" " if i else "") + w}]}
                                                    for i, w in enumerate(words)]))
        if path == "/v1/chat/completions":
            text = "### Backend Architecture Analysis\nKeep `load_orders` to one query. Use magic_helper() too.\n"
            return httpx.Response(200, content=sse([{"choices": [{"delta": {"content": text[i: i + 5]}}]}
                                                    for i in range(0, len(text), 5)]))
        return httpx.Response(404, json={"error": "no"})


def backend(server: Server, **kw: Any) -> OpenAIHTTPBackend:
    client = httpx.Client(transport=httpx.MockTransport(server))
    return OpenAIHTTPBackend("http://127.0.0.1:9/v1", client=client, **kw)


def mentor(tmp_path: Path, b: OpenAIHTTPBackend) -> Mentor:
    return Mentor(fakes.FakeIndex(tmp_path), chat_model=b, cards=fakes.cards(), reviewer=lambda _: fakes.findings(),
                  profiler=fakes.profile)


def test_chat_server_gets_one_chat_request_and_the_same_checks(tmp_path: Path) -> None:
    server = Server(chat_template="{{ messages }}")
    b = backend(server)
    assert b.chat_template is True
    answer = mentor(tmp_path, b).ask("Why is the orders page slow?")
    assert [p for p, _ in server.requests].count("/v1/chat/completions") == 1
    assert "Keep `load_orders` to one query." in answer.answer
    assert "magic_helper" not in answer.answer and answer.checks["dropped_by_reason"] == {"identifier": 1}
    body = next(body for p, body in server.requests if p == "/v1/chat/completions")
    assert body["stream"] is True and body["model"] == "test-model"
    msgs = body["messages"]
    assert msgs[0]["role"] == "system" and "#### app/orders.py:1-5" in msgs[1]["content"]
    assert re.findall(r"^### (.+)$", answer.answer, flags=re.M) == list(SECTION_NAMES)


def test_a_server_without_chat_template_is_used_as_a_chat_model(tmp_path: Path) -> None:
    """A team server may not report its template (vLLM): it is asked through chat completions all the same."""
    server = Server()
    answer = mentor(tmp_path, backend(server)).ask("Why is the orders page slow?")
    assert "/v1/completions" not in [p for p, _ in server.requests]
    assert "Keep `load_orders` to one query." in answer.answer


def test_completion_mode_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no longer supported"):
        Mentor(fakes.FakeIndex(tmp_path), llm_mode="completion")


def test_tokens_are_counted_by_the_server() -> None:
    b = backend(Server())
    assert b.count_tokens("x" * 40) == 10
    assert b._tokenizer == "llama.cpp"


def test_unreachable_server_is_a_clear_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    with pytest.raises(BackendError, match="cannot reach"):
        OpenAIHTTPBackend("http://127.0.0.1:9/v1", client=client)


def test_bad_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        OpenAIHTTPBackend("127.0.0.1:8080")
