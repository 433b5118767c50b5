"""The catalog: one SQLite file with the manifest, the chunk rows and the FTS5 keyword index.

Keeping the manifest and the keyword index in one database means one
transaction moves both together; only the vector store lives apart, and the
``pending`` table (a write-ahead list of vector ids) lets a killed run be
reconciled exactly on the next open.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from mentor_local.domain import Chunk
from mentor_local.errors import IndexCorruptError

SCHEMA_VERSION = "1"
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*|[0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
STOPWORDS = frozenset(
    "a an and are as at be by can code does do for from how i in is it its of on or that the this to what when "
    "where which who why with my we our you your me get set should there their then than into used use using "
    "way make made so if not no any all was were will would could has have had via about".split()
)


def split_identifier(word: str) -> list[str]:
    """``HTTPServerError`` -> http server error; ``reset_password`` -> reset password."""
    return list(_split_cached(word))


@functools.lru_cache(maxsize=1 << 16)
def _split_cached(word: str) -> tuple[str, ...]:
    # Identifiers repeat a great deal in code (self, request, session...): indexing open-webui splits
    # 730k words, most of them seen before.
    out: list[str] = []
    for piece in word.split("_"):
        out.extend(p.lower() for p in _CAMEL.findall(piece))
    return tuple(out)


def terms(text: str) -> list[str]:
    """Identifier-aware tokens: every identifier, plus its snake_case/CamelCase parts."""
    out: list[str] = []
    for word in _IDENT.findall(text):
        out.extend(_word_terms(word))
    return out


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")


@functools.lru_cache(maxsize=1 << 16)
def _word_terms(word: str) -> tuple[str, ...]:
    parts = _split_cached(word)
    whole = word.lower().strip("_")
    if whole and (len(parts) != 1 or parts[0] != whole):
        return (whole.replace("_", ""), *parts)
    return parts


def query_terms(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for t in terms(text):
        if t not in STOPWORDS and len(t) > 1:
            seen.setdefault(t, None)
    return list(seen)


def quick_check(db: sqlite3.Connection) -> str:
    """Run ``PRAGMA quick_check`` (every page read, O(N)); return ``ok`` or the first problems."""
    try:
        rows = [str(r[0]) for r in db.execute("PRAGMA quick_check(5)")]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return "ok" if rows == ["ok"] else "; ".join(rows)


class Catalog:
    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        try:
            if readonly:
                self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5, check_same_thread=False)
            else:
                self.db = sqlite3.connect(path, timeout=5, check_same_thread=False)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self._create()
        except sqlite3.DatabaseError as exc:
            raise IndexCorruptError(f"the index catalog {path} cannot be read: {exc}",
                                    hint="run 'mentor index PATH --rebuild'") from exc

    def _create(self) -> None:
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS files(
                path TEXT PRIMARY KEY, source TEXT NOT NULL, hash TEXT NOT NULL,
                size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, n_chunks INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS chunks(
                id TEXT PRIMARY KEY, path TEXT NOT NULL, source TEXT NOT NULL,
                start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, kind TEXT NOT NULL,
                symbol TEXT NOT NULL, qualname TEXT NOT NULL, part INTEGER NOT NULL,
                text TEXT NOT NULL, meta TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path);
            CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
                id UNINDEXED, source UNINDEXED, names, body, tokenize='porter unicode61');
            CREATE TABLE IF NOT EXISTS pending(id TEXT PRIMARY KEY, source TEXT NOT NULL, op TEXT NOT NULL);
            """
        )
        self.db.commit()

    # --- meta -------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, values: dict[str, str]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", list(values.items()))

    # --- manifest ---------------------------------------------------------
    def files(self, source: str) -> dict[str, tuple[str, int, int]]:
        rows = self.db.execute("SELECT path, hash, size, mtime_ns FROM files WHERE source=?", (source,))
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def touch_file(self, path: str, size: int, mtime_ns: int) -> None:
        with self.db:
            self.db.execute("UPDATE files SET size=?, mtime_ns=? WHERE path=?", (size, mtime_ns, path))

    def chunk_ids(self, paths: Iterable[str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for p in paths:
            out[p] = {r[0] for r in self.db.execute("SELECT id FROM chunks WHERE path=?", (p,))}
        return out

    def all_chunk_ids(self, source: str) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM chunks WHERE source=?", (source,))}

    # --- write-ahead list for the vector store ------------------------------
    def add_pending(self, ids: Sequence[str], source: str, op: str) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO pending(id, source, op) VALUES(?, ?, ?)",
                                [(i, source, op) for i in ids])

    def pending(self) -> list[tuple[str, str, str]]:
        return [(r[0], r[1], r[2]) for r in self.db.execute("SELECT id, source, op FROM pending")]

    def clear_pending(self, ids: Sequence[str] | None = None) -> None:
        with self.db:
            if ids is None:
                self.db.execute("DELETE FROM pending")
            else:
                self.db.executemany("DELETE FROM pending WHERE id=?", [(i,) for i in ids])

    # --- the one transaction that makes a batch of files current ---------
    def commit_files(
        self,
        source: str,
        files: Sequence[tuple[str, str, int, int]],
        chunks: Sequence[Chunk],
        stale_ids: Sequence[str],
        added_ids: Sequence[str],
    ) -> None:
        """Replace the rows of ``files`` (path, hash, size, mtime) with ``chunks``.

        ``stale_ids`` (vectors to delete next) are recorded as pending in the
        same transaction; ``added_ids`` (vectors already written) stop being pending.
        """
        with self.db:
            for path, _, _, _ in files:
                # a new file has no rows: skip the FTS delete, which scans the keyword index
                if self.db.execute("SELECT 1 FROM chunks WHERE path=? LIMIT 1", (path,)).fetchone():
                    self._delete_path(path)
            self.db.executemany(
                "INSERT OR REPLACE INTO files(path, source, hash, size, mtime_ns, n_chunks) VALUES(?,?,?,?,?,?)",
                [(p, source, h, s, m, sum(1 for c in chunks if c.path == p)) for p, h, s, m in files],
            )
            self._insert_chunks(chunks)
            self.db.executemany("DELETE FROM pending WHERE id=?", [(i,) for i in added_ids])
            self.db.executemany("INSERT OR REPLACE INTO pending(id, source, op) VALUES(?, ?, 'delete')",
                                [(i, source) for i in stale_ids])

    def remove_files(self, paths: Sequence[str], source: str) -> list[str]:
        """Forget deleted files; return their chunk ids (recorded as pending deletes)."""
        ids: list[str] = []
        with self.db:
            for p in paths:
                ids.extend(r[0] for r in self.db.execute("SELECT id FROM chunks WHERE path=?", (p,)))
                self._delete_path(p)
                self.db.execute("DELETE FROM files WHERE path=?", (p,))
            self.db.executemany("INSERT OR REPLACE INTO pending(id, source, op) VALUES(?, ?, 'delete')",
                                [(i, source) for i in ids])
        return ids

    def _delete_path(self, path: str) -> None:
        self.db.execute("DELETE FROM fts WHERE id IN (SELECT id FROM chunks WHERE path=?)", (path,))
        self.db.execute("DELETE FROM chunks WHERE path=?", (path,))

    def _insert_chunks(self, chunks: Sequence[Chunk]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO chunks(id, path, source, start_line, end_line, kind, symbol, qualname, part, "
            "text, meta) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
            [(c.chunk_id, c.path, c.source, c.start_line, c.end_line, c.kind, c.symbol, c.qualname, c.part, c.text,
              json.dumps(c.metadata, sort_keys=True)) for c in chunks],
        )
        self.db.executemany(
            "INSERT INTO fts(id, source, names, body) VALUES(?,?,?,?)",
            [(c.chunk_id, c.source, " ".join(terms(f"{c.path} {c.qualname} {c.metadata.get('title', '')}")),
              " ".join(terms(c.embed_text))) for c in chunks],
        )

    # --- reading ------------------------------------------------------------
    def keyword_search(self, query: str, k: int, source: str | None) -> list[tuple[str, float]]:
        words = query_terms(query)
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in words)
        sql = "SELECT id, bm25(fts, 0.0, 0.0, 4.0, 1.0) AS r FROM fts WHERE fts MATCH ?"
        args: list[Any] = [match]
        if source:
            sql += " AND source=?"
            args.append(source)
        sql += " ORDER BY r LIMIT ?"
        args.append(k)
        return [(r[0], -float(r[1])) for r in self.db.execute(sql, args)]

    def chunk_rows(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            marks = ",".join("?" * len(part))
            for r in self.db.execute(
                f"SELECT id, path, source, start_line, end_line, kind, symbol, qualname, part, text, meta "  # noqa: S608
                f"FROM chunks WHERE id IN ({marks})", list(part)
            ):
                out[r[0]] = {
                    "id": r[0], "path": r[1], "source": r[2], "start_line": r[3], "end_line": r[4], "kind": r[5],
                    "symbol": r[6], "qualname": r[7], "part": r[8], "text": r[9], "meta": json.loads(r[10]),
                }
        return out

    def counts(self) -> dict[str, int]:
        c = dict(self.db.execute("SELECT source, COUNT(*) FROM chunks GROUP BY source").fetchall())
        f = dict(self.db.execute("SELECT source, COUNT(*) FROM files GROUP BY source").fetchall())
        return {"code_chunks": int(c.get("code", 0)), "knowledge_chunks": int(c.get("knowledge", 0)),
                "code_files": int(f.get("code", 0)), "knowledge_files": int(f.get("knowledge", 0))}

    def quick_check(self) -> str:
        """``ok``, or what SQLite's ``quick_check`` found (a damaged page, a broken index)."""
        return quick_check(self.db)

    def close(self) -> None:
        self.db.close()
