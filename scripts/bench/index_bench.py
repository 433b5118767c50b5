"""Indexing speed and memory on the open-webui 0.12.4 wheel's Python files, against localGPT's pipeline.

Run: .venv/bin/python scripts/bench/index_bench.py [--corpus DIR] [--queries N]

Each pipeline runs in its own subprocess (so peak RSS is its own), on the same
files, in the same run:
  ours      build_index (tree-sitter chunks, MiniLM, Chroma + FTS5), a fresh index and an empty
            embedding cache; the 100 pattern cards' vectors come from models/embeddings-seed.sqlite,
            which `make setup` embeds once per machine (without it, ours also embeds ~510 card texts)
  localgpt  LangChain RecursiveCharacterTextSplitter.from_language(PYTHON, 880, 200)
            + the same MiniLM (same batch size) + Chroma PersistentClient add
Then: a no-op re-index, a touched file, an edited file, and warm Index.search latency.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
from _common import DATA, wheel_corpus  # noqa: E402

OURS = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from mentor_local.index import build_index
t = time.perf_counter()
r = build_index({corpus!r}, {idx!r})
print(json.dumps({{"seconds": time.perf_counter() - t, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "embedded": r.chunks_embedded, "chunks": r.chunks_total, "files": r.files_indexed,
                  "from_cache": r.embeddings_from_cache}}))
"""

LOCALGPT = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from mentor_local import offline
offline.apply()
t = time.perf_counter()
from langchain_text_splitters import Language, RecursiveCharacterTextSplitter
import chromadb
from chromadb.config import Settings
from sentence_transformers import SentenceTransformer
from mentor_local.models import embedder_path
model = SentenceTransformer(str(embedder_path()), device="cpu", local_files_only=True)
splitter = RecursiveCharacterTextSplitter.from_language(Language.PYTHON, chunk_size=880, chunk_overlap=200)
texts, metas = [], []
for p in sorted(Path({corpus!r}).rglob("*.py")):
    for d in splitter.create_documents([p.read_text(encoding="utf-8", errors="replace")]):
        texts.append(d.page_content); metas.append({{"source": str(p)}})
vecs = model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
client = chromadb.PersistentClient(path={idx!r}, settings=Settings(anonymized_telemetry=False))
col = client.get_or_create_collection("localgpt", embedding_function=None)
step = client.get_max_batch_size()
for i in range(0, len(texts), step):
    col.add(ids=[str(j) for j in range(i, min(i + step, len(texts)))], embeddings=vecs[i:i + step],
            documents=texts[i:i + step], metadatas=metas[i:i + step])
print(json.dumps({{"seconds": time.perf_counter() - t, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "chunks": len(texts)}}))
"""

SEARCH = r"""
import json, statistics, sys, time
sys.path.insert(0, {root!r})
from mentor_local.index import open_index
idx = open_index({corpus!r}, {idx!r})
queries = {queries!r}
for q in queries[:3]:
    idx.search(q, k=10)
times = []
for q in queries:
    t = time.perf_counter(); idx.search(q, k=10); times.append((time.perf_counter() - t) * 1000)
times.sort()
print(json.dumps({{"p50": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))], "n": len(times)}}))
"""

QUERIES = [
    "how are chat messages stored in the database", "where is the user authenticated with a JWT",
    "upload a file and extract its text", "which function calls the OpenAI chat completions endpoint",
    "how are model permissions checked for a user", "send a webhook notification", "rate limit requests",
    "delete a user and their chats", "configure the retrieval embedding model", "websocket event for a new message",
    "how are API keys generated", "parse a PDF document", "search the web for a query", "admin settings endpoint",
    "store a memory for the user", "create a new knowledge base collection", "OAuth login callback",
    "stream the response tokens to the client", "update a folder name", "export all chats as JSON",
]


def run(code: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def py_only_copy(src: Path) -> Path:
    dest = DATA / "corpora" / (src.name + "-py")
    if not dest.is_dir():
        for p in src.rglob("*.py"):
            target = dest / p.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, target)
    return dest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=None, help="a folder of Python files (default: open-webui 0.12.4)")
    ap.add_argument("--queries", type=int, default=100, help="search latency samples")
    args = ap.parse_args()
    corpus = args.corpus or py_only_copy(wheel_corpus("open-webui", "0.12.4", "open-webui"))
    files = list(corpus.rglob("*.py"))
    lines = sum(p.read_text(encoding="utf-8", errors="replace").count("\n") for p in files)
    print(f"corpus: {corpus} — {len(files)} Python files, {lines:,} lines; {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        idx = str(Path(tmp) / "ours")
        os.environ["MENTOR_HOME"] = str(Path(tmp) / "home")
        fmt = {"root": str(ROOT), "corpus": str(corpus)}
        base = run(LOCALGPT.format(idx=str(Path(tmp) / "localgpt"), **fmt))
        full = run(OURS.format(idx=idx, **fmt))
        noop = run(OURS.format(idx=idx, **fmt))
        victim = sorted(files, key=lambda p: p.stat().st_size)[len(files) // 2]
        os.utime(victim)
        touched = run(OURS.format(idx=idx, **fmt))
        original = victim.read_text(encoding="utf-8")
        victim.write_text(original + "\n\ndef added_by_bench(x):\n    return x * 2\n", encoding="utf-8")
        try:
            edited = run(OURS.format(idx=idx, **fmt))
        finally:
            victim.write_text(original, encoding="utf-8")
        restored = run(OURS.format(idx=idx, **fmt))
        queries = (QUERIES * (args.queries // len(QUERIES) + 1))[: args.queries]
        lat = run(SEARCH.format(idx=idx, queries=queries, **fmt))

    print(f"\n{'step':<34}{'seconds':>9}{'peak RSS MB':>13}  notes")
    print(f"{'localGPT split+embed+Chroma add':<34}{base['seconds']:>9.1f}{base['rss_mb']:>13.0f}  {base['chunks']} chunks")
    print(f"{'ours, full index':<34}{full['seconds']:>9.1f}{full['rss_mb']:>13.0f}  {full['chunks']} chunks, {full['embedded']} vectors written, "
          f"{full['from_cache']} of them from the card seed/cache")
    print(f"{'ours, no-op re-index':<34}{noop['seconds']:>9.2f}{noop['rss_mb']:>13.0f}  {noop['embedded']} embedded")
    print(f"{'ours, one file touched':<34}{touched['seconds']:>9.2f}{touched['rss_mb']:>13.0f}  {touched['embedded']} embedded")
    print(f"{'ours, one file edited':<34}{edited['seconds']:>9.2f}{edited['rss_mb']:>13.0f}  {edited['embedded']} embedded, {edited['files']} file re-chunked")
    print(f"{'ours, edit reverted':<34}{restored['seconds']:>9.2f}{restored['rss_mb']:>13.0f}  {restored['embedded']} embedded")
    print(f"\nfull index time ratio ours/localGPT: {full['seconds'] / base['seconds']:.2f} (goal ≤ 1.00)")
    print(f"no-op re-index / full index:         {noop['seconds'] / full['seconds']:.3f} (goal ≤ 0.03)")
    print(f"peak RSS while indexing:             {full['rss_mb']:.0f} MB (goal ≤ 1536)")
    print(f"warm Index.search over {lat['n']} queries: p50 {lat['p50']:.1f} ms (goal ≤ 50), p95 {lat['p95']:.1f} ms (goal ≤ 120)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
