"""Conversations kept in SQLite in the app data directory (``<app home>/sessions.sqlite3``).

One row per turn (a question and its answer), so a resumed conversation gives
the Mentor its ``history`` as ``(question, answer)`` pairs, oldest first.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo TEXT NOT NULL,
    title TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_by_conversation ON turns(conversation_id, id);
"""


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str
    created: float
    meta: dict[str, object] = field(default_factory=dict)  # JSON: the sources and timings of the answer


@dataclass(frozen=True)
class ConversationInfo:
    id: int
    repo: str
    title: str
    created: float
    updated: float
    turns: int


def default_path(home: Path | None = None) -> Path:
    from mentor_local.paths import app_home

    return app_home(home) / "sessions.sqlite3"


class SessionStore:
    """A small SQLite store; used from the app's main thread only."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path))
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def new_conversation(self, repo: str, title: str) -> int:
        now = time.time()
        with self._db:
            cur = self._db.execute(
                "INSERT INTO conversations(repo, title, created, updated) VALUES (?, ?, ?, ?)",
                (repo, _title(title), now, now),
            )
        assert cur.lastrowid is not None
        return int(cur.lastrowid)

    def add_turn(self, conversation_id: int, question: str, answer: str, meta: Mapping[str, object] | None = None) -> None:
        now = time.time()
        with self._db:
            self._db.execute(
                "INSERT INTO turns(conversation_id, question, answer, meta, created) VALUES (?, ?, ?, ?, ?)",
                (conversation_id, question, answer, json.dumps(dict(meta or {}), default=str), now),
            )
            self._db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id))

    def list_conversations(self, repo: str | None = None, limit: int = 100) -> list[ConversationInfo]:
        sql = (
            "SELECT c.id, c.repo, c.title, c.created, c.updated, COUNT(t.id) FROM conversations c "
            "LEFT JOIN turns t ON t.conversation_id = c.id {where} GROUP BY c.id ORDER BY c.updated DESC, c.id DESC LIMIT ?"
        )
        if repo is None:
            rows = self._db.execute(sql.format(where=""), (limit,)).fetchall()
        else:
            rows = self._db.execute(sql.format(where="WHERE c.repo = ?"), (repo, limit)).fetchall()
        return [ConversationInfo(int(r[0]), r[1], r[2], r[3], r[4], int(r[5])) for r in rows]

    def info(self, conversation_id: int) -> ConversationInfo | None:
        found = [c for c in self.list_conversations(limit=1_000_000) if c.id == conversation_id]
        return found[0] if found else None

    def turns(self, conversation_id: int) -> list[Turn]:
        rows = self._db.execute(
            "SELECT question, answer, created, meta FROM turns WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        ).fetchall()
        return [Turn(r[0], r[1], r[2], json.loads(r[3] or "{}")) for r in rows]

    def delete(self, conversation_id: int) -> None:
        with self._db:
            self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def export_markdown(self, conversation_id: int) -> str:
        """The conversation as a Markdown document (questions as quotes, answers as written)."""
        info = self.info(conversation_id)
        if info is None:
            raise KeyError(conversation_id)
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created))
        parts = [f"# {info.title}", "", f"Repo: `{info.repo}` · started {stamp}", ""]
        for n, turn in enumerate(self.turns(conversation_id), 1):
            quoted = "\n".join(f"> {line}" if line else ">" for line in turn.question.splitlines())
            parts += [f"## Question {n}", "", quoted, "", turn.answer.rstrip(), ""]
            sources = turn.meta.get("sources")
            if isinstance(sources, list) and sources:
                parts += ["Sources:", ""] + [f"- `{s}`" for s in sources] + [""]
        return "\n".join(parts)


def _title(question: str) -> str:
    first = " ".join(question.split())
    return first[:77] + "…" if len(first) > 78 else first or "(untitled)"
