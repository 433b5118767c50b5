"""How often does the pattern library answer a developer's question?

For each question in ``knowledge_questions.jsonl`` (``{"q", "topic"}`` or
``{"q", "area"}``, optionally ``"set"``: ``main`` questions were written first and
seen while titles were tuned; each ``lateN`` set was written, unseen, after a later
round of card edits, so the newest set's rate is the least biased one), search the knowledge source for the top 3 hits and count a
hit when one of them is a card carrying that topic (or area) in its metadata.

Usage:
    .venv/bin/python scripts/bench/knowledge_eval.py [--k 3] [--questions FILE] [--json]

It builds a fresh index (a tiny one-file repo plus the pattern library) in a
temp dir with the real bundled embedder, so it measures what users get.
Exit status: 0 when the overall hit rate reaches --goal (default 0.85), else 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DEFAULT_QUESTIONS = Path(__file__).with_name("knowledge_questions.jsonl")


def load_questions(path: Path) -> list[dict[str, str]]:
    questions = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        item = json.loads(line)
        if "q" not in item or ("topic" in item) == ("area" in item):
            raise SystemExit(f"{path}:{n}: need 'q' and exactly one of 'topic' or 'area'")
        questions.append(item)
    return questions


def _labels(hit_meta: dict[str, object], key: str) -> set[str]:
    raw = str(hit_meta.get(key) or "")
    return {s.strip() for s in raw.split(",") if s.strip()}


def evaluate(index: object, questions: list[dict[str, str]], k: int) -> list[dict[str, object]]:
    rows = []
    for item in questions:
        kind = "topic" if "topic" in item else "area"
        want = item[kind]
        hits = index.search(item["q"], k=k, source="knowledge")  # type: ignore[attr-defined]
        cards = [(str(h.metadata.get("card_id")), _labels(h.metadata, kind + "s")) for h in hits]
        rank = next((i + 1 for i, (_, labels) in enumerate(cards) if want in labels), None)
        rows.append(
            {
                "q": item["q"],
                "kind": kind,
                "want": want,
                "rank": rank,
                "cards": [c for c, _ in cards],
                "set": item.get("set", "main"),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--goal", type=float, default=0.85)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = ap.parse_args(argv)

    from mentor_local.index import build_index, open_index

    questions = load_questions(args.questions)
    with tempfile.TemporaryDirectory(prefix="knowledge-eval-") as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        (repo / "app.py").write_text('def hello() -> str:\n    return "hello"\n', encoding="utf-8")
        t0 = time.perf_counter()
        report = build_index(repo, index_dir=Path(tmp) / "index")
        build_s = time.perf_counter() - t0
        index = open_index(repo, index_dir=Path(tmp) / "index")
        try:
            t1 = time.perf_counter()
            rows = evaluate(index, questions, args.k)
            search_s = time.perf_counter() - t1
        finally:
            index.close()

    def rate(sel: list[dict[str, object]]) -> float:
        return sum(r["rank"] is not None for r in sel) / len(sel) if sel else 0.0

    by_kind = {kind: [r for r in rows if r["kind"] == kind] for kind in ("topic", "area")}
    by_set: dict[str, list[dict[str, object]]] = {}
    for r in rows:
        by_set.setdefault(str(r["set"]), []).append(r)
    overall = rate(rows)
    summary = {
        "k": args.k,
        "questions": len(rows),
        "hit_rate": round(overall, 4),
        "by_kind": {kind: {"n": len(sel), "hit_rate": round(rate(sel), 4)} for kind, sel in by_kind.items()},
        "by_set": {s: {"n": len(sel), "hit_rate": round(rate(sel), 4)} for s, sel in by_set.items()},
        "mrr": round(sum(1 / r["rank"] for r in rows if r["rank"]) / len(rows), 4) if rows else 0.0,
        "knowledge_chunks": getattr(report, "knowledge_chunks", None),
        "build_s": round(build_s, 1),
        "search_ms_per_question": round(search_s * 1000 / max(1, len(rows)), 1),
        "misses": [{"q": r["q"], "want": r["want"], "got": r["cards"]} for r in rows if r["rank"] is None],
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"pattern-library retrieval: {len(rows)} questions, top-{args.k} knowledge hits")
        print(
            f"  overall  {overall:6.1%}  ({sum(r['rank'] is not None for r in rows)}/{len(rows)})  MRR {summary['mrr']}"
        )
        for kind, sel in by_kind.items():
            print(f"  {kind:<7}  {rate(sel):6.1%}  ({sum(r['rank'] is not None for r in sel)}/{len(sel)})")
        for s, sel in by_set.items():
            print(f"  set {s:<5} {rate(sel):6.1%}  ({sum(r['rank'] is not None for r in sel)}/{len(sel)})")
        print(f"  index build {build_s:.1f}s, {summary['search_ms_per_question']} ms per search")
        if summary["misses"]:
            print("misses:")
            for m in summary["misses"]:
                print(f"  [{m['want']}] {m['q']}\n      got: {', '.join(m['got']) or '-'}")
    return 0 if overall >= args.goal else 1


if __name__ == "__main__":
    raise SystemExit(main())
