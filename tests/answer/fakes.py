"""Deterministic fakes for the answer tests: an index, a scripted model, cards, findings.

``FakeIndex`` is a ``protocols.Searchable``, ``ScriptedModel`` a ``protocols.ChatModel`` and ``FakeCard`` an
``answer.compose.CardLike`` (``test_protocols`` checks it).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mentor_local.domain import Finding, Hit, RepoProfile
from mentor_local.protocols import Message, TokenStream

ORDERS_SRC = '''def load_orders(session, user_ids):
    out = []
    for uid in user_ids:
        out.append(session.query(Order).filter_by(user_id=uid).all())
    return out
'''
CLIENT_SRC = '''async def fetch_rates(url):
    resp = requests.get(url)
    return resp.json()
'''


def code_hit(path: str, start: int, end: int, symbol: str, text: str, score: float = 1.0) -> Hit:
    mod = path.removesuffix(".py").replace("/", ".")
    return Hit(path=path, start_line=start, end_line=end, symbol=symbol, kind="function", source="code",
               score=score, qualname=f"{mod}.{symbol}", text=text)


def card_hit(card_id: str, score: float = 1.0) -> Hit:
    return Hit(path=f"knowledge/{card_id}.md", start_line=1, end_line=40, symbol=card_id, kind="card",
               source="knowledge", score=score, text="", metadata={"card_id": card_id, "title": card_id})


@dataclass
class FakeCard:
    id: str
    title: str
    topics: tuple[str, ...]
    level: str = "intermediate"
    areas: tuple[str, ...] = ("database",)
    path: str = ""
    sections: dict[str, str] = field(default_factory=dict)


def cards() -> list[FakeCard]:
    return [
        FakeCard("n-plus-one-eager-loading", "Load related rows in one query", ("n-plus-one-query",),
                 path="knowledge/n-plus-one-eager-loading.md", sections={
                     "Consider": "Consider loading the related rows with one query using `selectinload`.",
                     "Why": "A query per row turns one page view into hundreds of round trips. Latency grows with the data.",
                     "Trade-offs": "- Eager loading fetches rows you may not use.",
                     "Code": "Basic:\n\n```python\nrows = [q(x) for x in xs]\n```\n\nProduction:\n\n```python\nstmt = select(User).options(selectinload(User.orders))\n```",
                     "Evolution": "1. Basic: a query per row.\n2. Intermediate: `selectinload`.\n3. Production: a query budget in tests.",
                 }),
        FakeCard("timeouts-everywhere", "Give every outbound call a timeout", ("missing-timeout",),
                 path="knowledge/timeouts-everywhere.md", sections={
                     "Consider": "Consider passing `timeout=` to every HTTP call.",
                     "Why": "A call without a timeout can hang a worker forever.",
                     "Trade-offs": "- Too short a timeout fails healthy calls.",
                     "Code": "```python\nhttpx.get(url, timeout=5)\n```",
                     "Evolution": "1. No timeout.\n2. A timeout per call.\n3. A shared client with timeouts and retries.",
                 }),
    ]


def findings() -> list[Finding]:
    return [
        Finding("app/orders.py", 4, 4, "n-plus-one-query", "n-plus-one", "high",
                "query inside a loop over user_ids", "n-plus-one-eager-loading"),
        Finding("app/client.py", 2, 2, "missing-timeout", "http-no-timeout", "medium",
                "requests.get without timeout", "timeouts-everywhere"),
        Finding("app/other.py", 9, 9, "hardcoded-secret", "secret-literal", "high", "API key in source", None),
    ]


def profile(_: Path) -> RepoProfile:
    return RepoProfile("3.11", "uv", ["fastapi", "sqlalchemy"], 0.4, "pytest", "mypy", ["app/main.py"])


class FakeIndex:
    def __init__(self, repo: Path, code: list[Hit] | None = None, knowledge: list[Hit] | None = None) -> None:
        self.repo = repo
        self.code = code if code is not None else [
            code_hit("app/orders.py", 1, 5, "load_orders", ORDERS_SRC, 0.9),
            code_hit("app/client.py", 1, 3, "fetch_rates", CLIENT_SRC, 0.8),
        ]
        self.knowledge = knowledge if knowledge is not None else [card_hit("n-plus-one-eager-loading"),
                                                                   card_hit("timeouts-everywhere")]
        self.queries: list[tuple[str, int, str]] = []

    def search(self, query: str, k: int = 10, source: str = "all") -> list[Hit]:
        self.queries.append((query, k, source))
        pool = self.code if source == "code" else self.knowledge if source == "knowledge" else self.code + self.knowledge
        return pool[:k]


def count_tokens(text: str) -> int:
    """A stand-in tokenizer: about four characters per token, never zero for non-empty text."""
    return (len(text) + 3) // 4


GOOD_ANSWER = """### Backend Architecture Analysis
`load_orders` at `app/orders.py:1-5` runs one query per user id inside its loop. It returns a list of lists.

### Learning Points
- The function keeps the session as a parameter, which makes it easy to test.

### Code Quality Issues
The loop in `load_orders` issues a query per user, so the page slows down as users grow.

### Implementation Guide
1. Consider loading every user's orders with one query filtered by `user_ids`.
2. Consider grouping the rows by `user_id` in Python afterwards.

```python
rows = session.query(Order).filter(Order.user_id.in_(user_ids)).all()
```

### Python Patterns Taught
- A list built in a loop; a single query plus grouping replaces it.

### Code Evolution Path
1. Today one query per user.
2. Next one query for all users.
3. Production adds a query budget in the tests.
"""


class ScriptedModel:
    """A chat model that writes a scripted answer a few characters at a time; records what it was asked."""

    def __init__(self, script: str | None = None, n_ctx: int = 4096, repeat: int = 1) -> None:
        self.script = (script if script is not None else GOOD_ANSWER) * repeat
        self.n_ctx = n_ctx
        self.chat_template = True
        self.calls: list[list[dict[str, str]]] = []
        self.max_tokens: list[int] = []
        self.produced = 0
        self.lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return count_tokens(text)

    def info(self) -> dict[str, object]:
        return {"path": "fake.gguf", "chat_template": True, "n_ctx": self.n_ctx, "gpu_layers": 0}

    def wait_ready(self) -> ScriptedModel:
        return self

    def close(self) -> None:
        """Nothing to release."""

    def chat(self, messages: Sequence[Message], *, max_tokens: int, stop: Sequence[str] = ()) -> TokenStream:
        prompt = sum(count_tokens(m["content"]) + 4 for m in messages)
        assert prompt + max_tokens <= self.n_ctx, f"prompt {prompt} + answer {max_tokens} must fit {self.n_ctx}"
        self.calls.append([dict(m) for m in messages])
        self.max_tokens.append(max_tokens)
        if max_tokens <= 1:  # a warm-up call
            yield "Hi"
            return
        for i in range(0, len(self.script), 4):
            if i // 4 >= max_tokens:
                return
            self.produced += 1
            yield self.script[i: i + 4]
