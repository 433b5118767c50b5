"""Retrieval quality on scripts/bench/retrieval_dev/retrieval_dev.jsonl (scoring rules in its README): ours vs two localGPT-style baselines.

Run: .venv/bin/python scripts/bench/retrieval_eval.py [--dev PATH] [--per-question]

Ours: `build_index` + `Index.search(q, k=10, source="code")`.
Baseline (a), the classic localGPT pipeline: LangChain
`RecursiveCharacterTextSplitter.from_language(Language.PYTHON, chunk_size=880, chunk_overlap=200)`
over every .py file, the same MiniLM embedder, dense top-k by cosine.
Baseline (b): BM25 (rank_bm25.BM25Okapi) over those same chunks.
A result counts as a hit when its path equals a gold path, its range overlaps the
gold range, and it spans at most 150 lines (the dev set's README).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import wheel_corpus  # noqa: E402

CORPORA = {"fastapi_users": ("fastapi-users", "15.0.5"), "flask": ("flask", "3.1.3")}
Result = tuple[str, int, int]


def is_hit(res: Result, gold: list[dict[str, Any]]) -> bool:
    path, start, end = res
    if end - start + 1 > 150:
        return False
    return any(g["path"] == path and start <= g["end"] and end >= g["start"] for g in gold)


def score(results: list[Result], gold: list[dict[str, Any]]) -> tuple[float, float]:
    r5 = 1.0 if any(is_hit(r, gold) for r in results[:5]) else 0.0
    mrr = 0.0
    for rank, r in enumerate(results[:10], 1):
        if is_hit(r, gold):
            mrr = 1.0 / rank
            break
    return r5, mrr


def py_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if ".dist-info" not in str(p))


def langchain_chunks(root: Path) -> list[tuple[str, int, int, str]]:
    from langchain_text_splitters import Language, RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter.from_language(Language.PYTHON, chunk_size=880, chunk_overlap=200,
                                                            add_start_index=True)
    out = []
    for p in py_files(root):
        text = p.read_text(encoding="utf-8", errors="replace")
        rel = p.relative_to(root).as_posix()
        for doc in splitter.create_documents([text]):
            start_idx = doc.metadata["start_index"]
            first = text.count("\n", 0, start_idx) + 1
            last = first + doc.page_content.count("\n")
            out.append((rel, first, last, doc.page_content))
    return out


def tokenize(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dev", type=Path, default=Path(__file__).resolve().parent / "retrieval_dev" / "retrieval_dev.jsonl")
    ap.add_argument("--per-question", action="store_true", help="print each question's first-hit rank")
    ap.add_argument("--skip-baselines", action="store_true")
    ap.add_argument("--embedder", choices=("auto", "int8", "fp32"), default="auto",
                    help="which bundled embedder every system uses (default: what a new index gets here)")
    args = ap.parse_args()
    questions = [json.loads(line) for line in args.dev.read_text().splitlines() if line.strip()]

    from mentor_local import offline

    offline.apply()
    import numpy as np
    from rank_bm25 import BM25Okapi

    from mentor_local.index import build_index, open_index
    from mentor_local.settings import Settings
    from mentor_local.wiring import make_embedder

    settings = Settings(embedder=args.embedder)
    embedder = make_embedder(settings)
    print(f"embedder: {embedder.model_id}")
    systems = ["ours"] if args.skip_baselines else ["ours", "localgpt_dense", "bm25"]
    scores: dict[str, dict[str, list[tuple[float, float]]]] = {s: defaultdict(list) for s in systems}
    misses: list[str] = []
    from mentor_local.errors import IndexMismatchError

    cache = Path(__file__).resolve().parents[2] / "bench-data" / "eval-index"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = str(cache)  # kept between runs: re-runs are incremental
        for corpus, (pkg, version) in CORPORA.items():
            root = wheel_corpus(pkg, version, corpus)
            qs = [q for q in questions if q["corpus"] == corpus]
            t0 = time.perf_counter()
            try:
                build_index(root, Path(tmp) / corpus, settings=settings, embedder=embedder)
            except IndexMismatchError:
                build_index(root, Path(tmp) / corpus, settings=settings, embedder=embedder, rebuild=True)
            t_index = time.perf_counter() - t0
            index = open_index(root, Path(tmp) / corpus, settings=settings, embedder=embedder)
            if not args.skip_baselines:
                chunks = langchain_chunks(root)
                t0 = time.perf_counter()
                mat = np.array(embedder.embed([c[3] for c in chunks]))
                t_base = time.perf_counter() - t0
                bm25 = BM25Okapi([tokenize(c[3]) for c in chunks])
                print(f"[{corpus}] ours indexed in {t_index:.1f}s; baseline chunks={len(chunks)} embedded in {t_base:.1f}s")
            for q in qs:
                hits = index.search(q["q"], k=10, source="code")
                ours = [(h.path, h.start_line, h.end_line) for h in hits]
                r = score(ours, q["gold"])
                scores["ours"][corpus].append(r)
                if args.per_question or r[0] == 0:
                    misses.append(f"  {q['id']} ({q['kind']}) rr={r[1]:.2f} top: "
                                  + ", ".join(f"{h.path}:{h.start_line}-{h.end_line} {h.symbol}" for h in hits[:3])
                                  + f" | gold: {q['gold'][0]['symbol']}")
                if args.skip_baselines:
                    continue
                qv = np.array(embedder.embed([q["q"]])[0])
                order = np.argsort(-(mat @ qv))[:10]
                scores["localgpt_dense"][corpus].append(score([chunks[i][:3] for i in order], q["gold"]))
                bm = bm25.get_scores(tokenize(q["q"]))
                order = np.argsort(-bm)[:10]
                scores["bm25"][corpus].append(score([chunks[i][:3] for i in order], q["gold"]))
            index.close()

    def agg(rows: list[tuple[float, float]]) -> tuple[float, float]:
        return (sum(r[0] for r in rows) / len(rows), sum(r[1] for r in rows) / len(rows)) if rows else (0.0, 0.0)

    print(f"\n{'system':<16}{'corpus':<15}{'n':>4}{'Recall@5':>10}{'MRR@10':>9}")
    summary: dict[str, tuple[float, float]] = {}
    for s in systems:
        for corpus in [*CORPORA, "all"]:
            rows = [r for c in CORPORA for r in scores[s][c]] if corpus == "all" else scores[s][corpus]
            r5, mrr = agg(rows)
            if corpus == "all":
                summary[s] = (r5, mrr)
            print(f"{s:<16}{corpus:<15}{len(rows):>4}{r5:>10.3f}{mrr:>9.3f}")
    if misses:
        print("\nours — questions without a hit in the top 5" + (" (and all, --per-question)" if args.per_question else ""))
        print("\n".join(misses))
    ok = summary["ours"][0] >= 0.85 and summary["ours"][1] >= 0.70
    per_corpus = [agg(scores["ours"][c]) for c in CORPORA]
    ok = ok and all(r5 >= 0.75 for r5, _ in per_corpus)
    if not args.skip_baselines:
        best = max(summary["localgpt_dense"][0], summary["bm25"][0])
        print(f"\nRecall@5 margin over the better baseline: {summary['ours'][0] - best:+.3f} (goal ≥ +0.15)")
        ok = ok and summary["ours"][0] - best >= 0.15
    print("targets:", "MET" if ok else "NOT MET")
    return 0


if __name__ == "__main__":
    sys.exit(main())
