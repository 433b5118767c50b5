"""A read-only view of an index: hybrid search over code and pattern cards, and its status."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from mentor_local.domain import Hit
from mentor_local.errors import IndexCorruptError
from mentor_local.index.engines import Engines
from mentor_local.index.generations import CATALOG_FILE, VECTOR_DIR
from mentor_local.index.meta import check_meta
from mentor_local.index.ports import IndexAdapters
from mentor_local.indexing.discover import discover
from mentor_local.settings import Settings
from mentor_local.store.keyword import quick_check


def _quick_check_file(path: Path) -> str:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        return quick_check(db)
    finally:
        db.close()


class Index(Engines):
    """A read-only view of an index: hybrid search over code and pattern cards."""

    def __init__(self, repo: Path, index_dir: Path, gen: Path, settings: Settings, adapters: IndexAdapters) -> None:
        super().__init__(repo, gen, adapters)
        self.index_dir = index_dir
        self.settings = settings
        self.catalog = adapters.open_catalog(gen / CATALOG_FILE, True)
        try:
            self._check()
        except BaseException:
            self.catalog.close()
            raise

    def _check(self) -> None:
        have, self.embedder_id = check_meta(self.catalog, self.index_dir, self.adapters.pick_embedder)
        if all(v is None for v in have.values()):
            raise IndexCorruptError(f"the index in {self.index_dir} has no metadata (an interrupted first build?)",
                                    hint="run 'mentor index PATH' again")
        # Damaged pages are found here, at open, not by whichever query first reads them.
        problems = {CATALOG_FILE: self.catalog.quick_check()}
        vector_db = self.gen / VECTOR_DIR / "chroma.sqlite3"
        if self.adapters.local_vectors and vector_db.is_file():
            problems[f"{VECTOR_DIR}/chroma.sqlite3"] = _quick_check_file(vector_db)
        bad = {k: v for k, v in problems.items() if v != "ok"}
        if bad:
            detail = "; ".join(f"{k}: {v[:200]}" for k, v in bad.items())
            raise IndexCorruptError(f"the index in {self.index_dir} is damaged ({detail})",
                                    hint="run 'mentor index PATH --rebuild'")

    def search(self, query: str, k: int = 10, source: str = "all") -> list[Hit]:
        from mentor_local.retrieval import hybrid_search

        return hybrid_search(self, query, k=k, source=source)

    def status(self) -> dict[str, Any]:
        """Files, chunks, when it was last indexed, and how many files changed since."""
        counts = self.catalog.counts()
        known = self.catalog.files("code")
        found, _ = discover(self.repo, self.settings.max_file_bytes)
        stale = sum(1 for f in found if known.get(f.path, ("", -1, -1))[1:] != (f.size, f.mtime_ns))
        stale += len(set(known) - {f.path for f in found})
        return {"files": counts["code_files"], "chunks": counts["code_chunks"],
                "knowledge_chunks": counts["knowledge_chunks"], "last_indexed": self.catalog.get_meta("last_indexed"),
                "stale_files": stale, "index_dir": str(self.index_dir)}

    def close(self) -> None:
        self.catalog.close()
        self.close_vectors()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
