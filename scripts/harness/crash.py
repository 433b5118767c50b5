"""kill -9 during indexing: the driver that is killed, the repo it indexes, and the state compared after resuming.

Used by tests/indexing/test_crash.py and scripts/bench/reliability_report.py.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from mentor_local.index import open_index
from mentor_local.index.generations import CATALOG_FILE
from scripts.harness.integrity import catalog_integrity_ok

# ``python -c DRIVER REPO INDEX_DIR``: indexes REPO, printing a PROGRESS line per indexing step (the first one
# says the model is loaded and work has begun, so a kill from then on lands mid-run).
DRIVER = textwrap.dedent("""
    import sys
    from mentor_local.index import build_index
    def progress(stage, done, total):
        if stage.startswith("index"):
            print("PROGRESS", stage, done, total, flush=True)
    build_index(sys.argv[1], sys.argv[2], progress)
    print("DONE", flush=True)
""")


def make_crash_repo(root: Path, n: int = 40) -> Path:
    """``n`` modules of eight small handlers each: enough work that a kill lands mid-run."""
    for i in range(n):
        body = "\n\n".join(
            f"def handler_{i}_{j}(request, limit={j}):\n    \"\"\"Handle case {j} of module {i}.\"\"\"\n"
            f"    items = [x * {j} for x in range(limit)]\n    return sum(items) + {i}\n" for j in range(8))
        (root / f"mod_{i}.py").parent.mkdir(parents=True, exist_ok=True)
        (root / f"mod_{i}.py").write_text(body + "\n")
    return root


def index_state(repo: Path, idx: Path) -> tuple[set[str], set[str], set[str], bool]:
    """(code chunk ids in the catalog, ids in the code vector store, knowledge chunk ids, catalog integrity ok)."""
    with open_index(repo, idx) as index:
        cat = index.catalog.all_chunk_ids("code")
        vec = index.store("code").ids()
        kn = index.catalog.all_chunk_ids("knowledge")
        ok = catalog_integrity_ok(index.gen / CATALOG_FILE)
    return cat, vec, kn, ok
