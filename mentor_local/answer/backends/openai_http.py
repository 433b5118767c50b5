"""An OpenAI-compatible model server (llama.cpp's server, llama_cpp.server, vLLM) over HTTP.

The mentor needs an instruction-tuned model: every answer is one streamed
``/v1/chat/completions`` request (Server-Sent Events, read line by line); the
server applies the model's own chat template. ``chat_template`` reports whether
the server says it has one (llama.cpp's ``/props``; other servers do not say).
Token counts come from the server's tokenizer when it exposes one
(``/tokenize`` or ``/extras/tokenize/count``), else from a cautious estimate.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

from mentor_local.answer.excerpts import estimate_tokens
from mentor_local.errors import BackendError, ConfigError
from mentor_local.protocols import Message, TokenStream, no_tokens


class OpenAIHTTPBackend:
    def __init__(self, base_url: str, *, n_ctx: int = 4096, mode: str = "auto", model: str | None = None,
                 timeout: float = 300.0, temperature: float = 0.2, client: httpx.Client | None = None) -> None:
        import httpx

        url = base_url.rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"--llm-url must start with http:// or https://, not {base_url!r}",
                              hint="for example http://127.0.0.1:8080/v1")
        if not url.endswith("/v1"):
            url += "/v1"
        self.base_url = url
        self.root = url[: -len("/v1")]
        self.n_ctx = n_ctx
        self.temperature = temperature
        self._client = client or httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0))
        self._model = model
        self._tokenizer: str | None = None  # which endpoint counts tokens, once found
        self._mode = mode
        # Every request is a chat completion and the server applies its own template; whether it said it has
        # one (llama.cpp's /props does, vLLM does not) is shown by `info`, and the server is reachable or this fails.
        self.server_template = self._detect_chat() if mode == "auto" else mode == "chat"
        self.chat_template = True

    # -- discovery ---------------------------------------------------------------------------
    def _get_json(self, url: str) -> object:
        import httpx

        try:
            r = self._client.get(url)
        except httpx.HTTPError as exc:
            raise BackendError(f"cannot reach the model server at {self.base_url}: {exc}",
                               hint="start the server or fix --llm-url") from exc
        if r.status_code != 200:
            return None
        try:
            return r.json()
        except ValueError:
            return None

    def model_name(self) -> str:
        if self._model is None:
            data = self._get_json(f"{self.base_url}/models")
            items = data.get("data") if isinstance(data, dict) else None
            self._model = str(items[0].get("id", "")) if items else ""
        return self._model

    def _detect_chat(self) -> bool:
        """llama.cpp's server reports its chat template at /props; others are treated as base models."""
        self.model_name()  # also checks that the server answers
        props = self._get_json(f"{self.root}/props")
        return bool(isinstance(props, dict) and props.get("chat_template"))

    def info(self) -> dict[str, object]:
        return {"path": self.base_url, "chat_template": self.server_template, "n_ctx": self.n_ctx,
                "gpu_layers": None, "backend": "openai-http", "model": self._model or ""}

    # -- tokens ------------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        import httpx

        candidates = [self._tokenizer] if self._tokenizer else ["llama.cpp", "llama_cpp.server", "vllm"]
        for kind in candidates:
            if kind == "none":
                break
            try:
                if kind == "llama_cpp.server":
                    r = self._client.post(f"{self.root}/extras/tokenize/count", json={"input": text})
                    ok = r.status_code == 200 and "count" in r.json()
                    n = int(r.json()["count"]) if ok else -1
                else:
                    body = {"content": text} if kind == "llama.cpp" else {"prompt": text, "model": self.model_name()}
                    r = self._client.post(f"{self.root}/tokenize", json=body)
                    ok = r.status_code == 200 and "tokens" in r.json()
                    n = len(r.json()["tokens"]) if ok else -1
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                ok, n = False, -1
            if ok:
                self._tokenizer = kind
                return n
        self._tokenizer = "none"
        return estimate_tokens(text, upper=True)  # no tokenizer to ask: stay on the safe side of the window

    # -- generation --------------------------------------------------------------------------
    def _stream(self, path: str, body: dict[str, object], pick: str) -> TokenStream:
        import httpx

        body = {**body, "stream": True, "temperature": self.temperature}
        if self.model_name():
            body["model"] = self.model_name()
        try:
            with self._client.stream("POST", f"{self.base_url}/{path}", json=body) as r:
                if r.status_code != 200:
                    r.read()
                    raise BackendError(f"the model server answered {r.status_code}: {r.text[:200]}",
                                       hint="check the server's log and its context size (--n-ctx)")
                for line in r.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    try:
                        choice = json.loads(data)["choices"][0]
                    except (ValueError, KeyError, IndexError, TypeError):
                        continue
                    text = choice.get("text") if pick == "text" else (choice.get("delta") or {}).get("content")
                    if text:
                        yield str(text)
        except httpx.HTTPError as exc:
            raise BackendError(f"the model server at {self.base_url} failed: {exc}",
                               hint="start the server or fix --llm-url") from exc

    def chat(self, messages: Sequence[Message], *, max_tokens: int, stop: Sequence[str] = ()) -> TokenStream:
        n_prompt = self.count_tokens("\n".join(m["content"] for m in messages)) + 8 * len(messages)
        budget = min(max_tokens, self.n_ctx - n_prompt - 2)
        if budget <= 0:
            return no_tokens()
        return self._stream("chat/completions", {"messages": list(messages), "max_tokens": budget,
                                                  "stop": list(stop)}, "delta")

    def wait_ready(self) -> OpenAIHTTPBackend:
        """The server answered in the constructor: ready at once."""
        return self

    def close(self) -> None:
        self._client.close()
