"""Hybrid search: dense (Chroma) and keyword (FTS5) results fused by reciprocal rank.

Then at most ``per_file_cap`` hits per file (one per card for the pattern
library), and hits of the same symbol whose line ranges overlap or touch are
merged into one, so a function split into parts comes back once.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mentor_local.domain import Hit, Source
from mentor_local.protocols import HybridIndex

RRF_K = 10  # a small k trusts the head of each list: measured on the dev set, 60 let weak keyword matches bury the dense rank-1 hit
CANDIDATES = 60
MAX_MERGED_LINES = 150


def rrf(lists: list[list[str]], weights: list[float] | None = None) -> dict[str, float]:
    scores: dict[str, float] = {}
    for n, ranked in enumerate(lists):
        w = 1.0 if weights is None else weights[n]
        for rank, cid in enumerate(ranked):
            scores[cid] = scores.get(cid, 0.0) + w / (RRF_K + rank + 1)
    return scores


@dataclass
class _Candidate:
    """One chunk found by either search, with its fused score; merged with its neighbours in place."""

    id: str
    path: str
    source: Source
    start_line: int
    end_line: int
    kind: str
    symbol: str
    qualname: str
    text: str
    meta: dict[str, object]  # the chunk's JSON metadata
    score: float

    @classmethod
    def from_row(cls, row: Mapping[str, Any], score: float) -> _Candidate:
        return cls(id=row["id"], path=row["path"], source=row["source"], start_line=row["start_line"],
                   end_line=row["end_line"], kind=row["kind"], symbol=row["symbol"], qualname=row["qualname"],
                   text=row["text"], meta=row["meta"], score=score)


def _merge(hits: list[_Candidate]) -> list[_Candidate]:
    """Merge hits of one file that overlap, or are parts of one symbol, while the span stays short.

    Repeated until nothing merges, so no two returned hits of a file overlap (unless merging
    them would exceed ``MAX_MERGED_LINES``).  The better-ranked hit keeps its place and symbol.
    """
    out = [dataclasses.replace(h) for h in hits]
    changed = True
    while changed:
        changed = False
        for i, m in enumerate(out):
            for j in range(i + 1, len(out)):
                h = out[j]
                overlap = h.start_line <= m.end_line and h.end_line >= m.start_line
                same = m.symbol == h.symbol and m.kind == h.kind
                span = max(m.end_line, h.end_line) - min(m.start_line, h.start_line) + 1
                if (same or overlap) and span <= MAX_MERGED_LINES:
                    if h.end_line < m.start_line or h.start_line > m.end_line:
                        m.text = (h.text + "\n" + m.text) if h.start_line < m.start_line else (m.text + "\n" + h.text)
                    elif h.start_line < m.start_line or h.end_line > m.end_line:
                        m.text = h.text if len(h.text) > len(m.text) else m.text
                    m.start_line = min(m.start_line, h.start_line)
                    m.end_line = max(m.end_line, h.end_line)
                    del out[j]
                    changed = True
                    break
            if changed:
                break
    return out


def hybrid_search(index: HybridIndex, query: str, k: int = 10, source: str = "all") -> list[Hit]:
    if source not in ("all", "code", "knowledge"):
        from mentor_local.errors import UserInputError

        raise UserInputError(f"unknown source {source!r}", hint="use code, knowledge or all")
    query = " ".join(query.split())
    if not query or k <= 0:
        return []
    sources = ["code", "knowledge"] if source == "all" else [source]
    t0 = time.perf_counter()
    vector = index.embedder().embed([query[:2000]])[0]
    lists: list[list[str]] = []
    for src in sources:
        dense = [cid for cid, _ in index.store(src).query(vector, CANDIDATES)]
        keyword = [cid for cid, _ in index.catalog.keyword_search(query, CANDIDATES, src)]
        lists.extend([dense, keyword])
    scores = rrf(lists)
    ranked = sorted(scores, key=lambda c: -scores[c])[: CANDIDATES * 2]
    rows = index.catalog.chunk_rows(ranked)
    per_file: dict[str, list[_Candidate]] = {}
    order: list[str] = []
    for cid in ranked:
        row = rows.get(cid)
        if row is None:  # a vector whose catalog row is gone (mid-update): skip it
            continue
        c = _Candidate.from_row(row, scores[cid])
        if c.path not in per_file:
            per_file[c.path] = []
            order.append(c.path)
        per_file[c.path].append(c)
    cap = max(1, int(index.settings.per_file_cap))
    merged: list[_Candidate] = []
    for path in order:
        rows_of_file = _merge(per_file[path])
        limit = 1 if rows_of_file[0].source == "knowledge" else cap
        merged.extend(rows_of_file[:limit])
    merged.sort(key=lambda r: -r.score)
    elapsed = (time.perf_counter() - t0) * 1000
    hits: list[Hit] = []
    for r in merged[:k]:
        meta = dict(r.meta)
        if "card_id" in meta:
            meta.setdefault("id", meta["card_id"])  # a card hit names its card as `id` too
        meta["search_ms"] = round(elapsed, 2)
        hits.append(Hit(path=r.path, start_line=r.start_line, end_line=r.end_line, symbol=r.symbol,
                        kind=r.kind, source=r.source, score=round(r.score, 6), qualname=r.qualname,
                        text=r.text, chunk_id=r.id, metadata=meta))
    return hits
