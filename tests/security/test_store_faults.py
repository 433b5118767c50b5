"""A corrupted store is detected and rebuilt; a full disk leaves the last good index usable.

kill -9 during indexing: tests/indexing/test_crash.py (MENTOR_KILL_ROUNDS; the reliability report runs 20+).
A second writer gets exit 3 within 2 s: tests/indexing/test_index.py::test_second_writer_gets_busy_within_two_seconds.
A stale lock is recovered: tests/indexing/test_crash.py::test_lock_of_a_killed_process_is_recovered.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from mentor_local.errors import IndexCorruptError
from mentor_local.index import build_index, open_index
from mentor_local.index.generations import CATALOG_FILE
from mentor_local.settings import Settings
from scripts.harness.integrity import catalog_integrity_ok
from scripts.harness.sandbox import small_knowledge
from tests.conftest import make_repo
from tests.security.fakes import HashingEmbedder

ROOT = Path(__file__).resolve().parents[2]

Env = tuple[Path, Path, Settings, HashingEmbedder]  # repo, index dir, settings, embedder


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    monkeypatch.setenv("MENTOR_KNOWLEDGE_DIR", str(small_knowledge(tmp_path / "cards")))
    repo = make_repo(tmp_path / "repo")
    settings = Settings(home=tmp_path / "home")  # fake vectors stay out of the shared embedding cache
    emb = HashingEmbedder()
    build_index(repo, tmp_path / "idx", settings=settings, embedder=emb)
    return repo, tmp_path / "idx", settings, emb


def _gen(idx: Path) -> Path:
    return idx / (idx / "CURRENT").read_text().strip()


def _smash(path: Path, offset: int, n: int) -> None:
    n = min(n, path.stat().st_size - offset)
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(os.urandom(n))


def _results(repo: Path, idx: Path, settings: Settings, emb: HashingEmbedder) -> list[tuple[str, int]]:
    with open_index(repo, idx, settings, embedder=emb) as index:
        return [(h.path, h.start_line) for h in index.search("hash the password before storing it", k=5)]


@pytest.mark.parametrize(("target", "offset", "size"), [
    ("catalog.sqlite", 0, 100),  # header: not a database
    ("catalog.sqlite", 8192, 60000),  # pages: malformed
    ("catalog.sqlite", 8192, 4096),  # one page: found at open by quick_check, not by a later query
    ("chroma/chroma.sqlite3", 0, 100),
    ("chroma/chroma.sqlite3", 8192, 4096),  # one page of the vector store's database
    ("chroma/chroma.sqlite3", 4096, 1 << 20),
])
def test_corruption_is_detected_then_rebuild_recovers(env: Env, target: str, offset: int, size: int) -> None:
    repo, idx, settings, emb = env
    good = _results(repo, idx, settings, emb)
    old = _gen(idx)
    _smash(old / target, offset, size)
    with pytest.raises(IndexCorruptError) as err:  # at open, before any query
        open_index(repo, idx, settings, embedder=emb)
    assert "mentor index" in err.value.one_line() and "--rebuild" in err.value.one_line()

    seen: list[str] = []

    def progress(stage: str, done: int, total: int) -> None:
        # while the fresh generation is built, CURRENT still names the old one: the swap is the last step
        seen.append((idx / "CURRENT").read_text().strip())

    report = build_index(repo, idx, progress, settings=settings, embedder=emb, rebuild=True)
    assert report.chunks_total > 0
    assert set(seen[:-1]) == {old.name}
    assert _gen(idx) != old and not old.exists()
    assert _results(repo, idx, settings, emb) == good
    with open_index(repo, idx, settings, embedder=emb) as index:
        assert catalog_integrity_ok(index.gen / CATALOG_FILE)


def test_cli_reports_a_corrupt_catalog_in_one_line_with_exit_2(env: Env) -> None:
    repo, idx, _, _ = env
    _smash(_gen(idx) / "catalog.sqlite", 0, 100)
    out = subprocess.run([sys.executable, "-m", "mentor_local.cli", "search", "password", "--repo", str(repo),
                          "--index-dir", str(idx)], capture_output=True, text=True, env={**os.environ})
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "mentor index" in lines[0] and "--rebuild" in lines[0], out.stderr
    assert "Traceback" not in out.stderr


REBUILD = ("import sys; sys.path.insert(0, {root!r}); from pathlib import Path; from mentor_local.index import build_index; "
           "from mentor_local.settings import Settings; from tests.security.fakes import HashingEmbedder; "
           "build_index({repo!r}, {idx!r}, settings=Settings(home=Path({home!r})), embedder=HashingEmbedder(), rebuild=True)")


def test_missing_generation_is_reported_as_corrupt(env: Env) -> None:
    repo, idx, settings, emb = env
    shutil.rmtree(_gen(idx))
    with pytest.raises(IndexCorruptError) as err:
        open_index(repo, idx, settings, embedder=emb)
    assert "--rebuild" in err.value.one_line()
    # as `mentor index --rebuild` does it: a fresh process
    code = REBUILD.format(root=str(ROOT), repo=str(repo), idx=str(idx), home=str(settings.home))
    code += (f"; from mentor_local.index import open_index; ix = open_index({str(repo)!r}, {str(idx)!r}, Settings(home=Path({str(settings.home)!r})), "
             "embedder=HashingEmbedder()); print(len(ix.search('hash the password', k=5)))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert int(out.stdout.strip().splitlines()[-1]) > 0


def test_rebuild_in_the_same_process_after_the_generation_was_deleted(env: Env) -> None:
    repo, idx, settings, emb = env
    _results(repo, idx, settings, emb)  # this process now holds a Chroma client for gen-1
    shutil.rmtree(_gen(idx))
    build_index(repo, idx, settings=settings, embedder=emb, rebuild=True)
    assert _results(repo, idx, settings, emb)


FULL_DISK_DRIVER = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from mentor_local.index import build_index, open_index
    from mentor_local.settings import Settings
    from mentor_local.index.generations import CATALOG_FILE
    from scripts.harness.integrity import catalog_integrity_ok
    from tests.security.fakes import HashingEmbedder
    repo, idx, home = Path({repo!r}), Path({idx!r}), Path({home!r})
    st, emb = Settings(home=home), HashingEmbedder()
    q = "hash the password before storing it"
    def state():
        with open_index(repo, idx, st, embedder=emb) as ix:
            hits = [(h.path, h.start_line) for h in ix.search(q, k=5)]
            ids = set().union(*(ix.catalog.all_chunk_ids(s) for s in ("code", "knowledge")))
            vecs = set().union(*(ix.store(s).ids() for s in ("code", "knowledge")))
            return hits, ids, vecs, catalog_integrity_ok(ix.gen / CATALOG_FILE)
    build_index(repo, idx, settings=st, embedder=emb)
    before, ids0, _, _ = state()
    out = {{"before": before, "errors": [], "after": []}}
    # a burst of new files that cannot fit on the disk
    for i in range(400):
        (repo / f"bulk_{{i}}.py").write_text("\\n\\n".join(
            f"def bulk_{{i}}_{{j}}(value):\\n    '''Bulk function {{j}} of file {{i}}.'''\\n    return value * {{j}}\\n"
            for j in range(40)))
    for rebuild in (False, True):
        try:
            build_index(repo, idx, settings=st, embedder=emb, rebuild=rebuild)
            out["errors"].append(None)
        except Exception as exc:
            out["errors"].append(f"{{type(exc).__name__}}: {{exc}}")
        # the disk is still (nearly) full: the index must open, answer and be consistent
        hits, ids, vecs, ok = state()
        out["after"].append({{"hits": len(hits), "lost": len(ids0 - ids), "added": len(ids - ids0),
                             "vectors_match": ids == vecs, "integrity": ok}})
    out["leftover"] = sorted(p.name for p in idx.iterdir())
    # the user frees space (the burst goes): the next run completes and nothing was lost
    for p in repo.glob("bulk_*.py"):
        p.unlink()
    build_index(repo, idx, settings=st, embedder=emb)
    final, ids, vecs, ok = state()
    out["final"] = {{"hits": final, "same_ids": ids == ids0, "vectors_match": ids == vecs, "integrity": ok}}
    print("RESULT " + json.dumps(out))
""")


def _run_on_tmpfs(tmp_path: Path, driver: str, size: str) -> dict[str, Any]:
    """Run ``driver`` (a template over root/repo/idx/home) with the index on a tmpfs of ``size``; its RESULT."""
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=1m tmpfs {tmp_path}"],
                           capture_output=True, text=True) if shutil.which("unshare") else None
    if probe is None or probe.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs in a user namespace here: {probe.stderr if probe else 'no unshare'}")
    cards = small_knowledge(tmp_path / "cards")
    repo = make_repo(tmp_path / "repo")
    disk = tmp_path / "disk"
    disk.mkdir()
    script = tmp_path / "driver.py"
    script.write_text(driver.format(root=str(ROOT), repo=str(repo), idx=str(disk / "idx"), home=str(tmp_path / "home")))
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size={size} tmpfs {disk} && "
                           f"{sys.executable} {script}"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MENTOR_KNOWLEDGE_DIR": str(cards)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))[7:])
    return result


def test_full_disk_leaves_the_last_good_index_usable(tmp_path: Path) -> None:
    # 16 MB: the first index (about 0.8 MB) fits with the 8 MB to spare that a batch needs; the burst of 16,000 chunks does not
    res = _run_on_tmpfs(tmp_path, FULL_DISK_DRIVER, "16m")
    assert res["before"], "the first index must have results"
    assert all(e and e.startswith("DiskFullError: the disk holding") for e in res["errors"]), res["errors"]
    incremental, rebuild = res["after"]
    # the incremental run kept the batches it finished (a consistent, newer index); nothing old was lost
    assert incremental["hits"] == 5 and incremental["lost"] == 0, incremental
    assert incremental["vectors_match"] and incremental["integrity"], incremental
    # the failed rebuild changed nothing: the live generation is still the one the incremental run left
    assert rebuild == incremental
    gens = [n for n in res["leftover"] if n.startswith("gen-")]
    assert len(gens) == 1, f"a half-built generation was kept: {res['leftover']}"
    assert res["final"] == {"hits": res["before"], "same_ids": True, "vectors_match": True, "integrity": True}


UNGUARDED_DRIVER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    import mentor_local.index as mi
    from mentor_local.index import build_index, open_index
    from mentor_local.settings import Settings
    from tests.security.fakes import HashingEmbedder
    mi.SPARE_BYTES = mi.VECTOR_BYTES = mi.TEXT_FACTOR = 0  # as if another process filled the disk mid-write
    repo, idx, home = Path({repo!r}), Path({idx!r}), Path({home!r})
    st, emb = Settings(home=home), HashingEmbedder()
    q = "hash the password before storing it"
    def hits():
        with open_index(repo, idx, st, embedder=emb) as ix:
            return [(h.path, h.start_line) for h in ix.search(q, k=5)]
    build_index(repo, idx, settings=st, embedder=emb)
    out = {{"before": hits(), "errors": []}}
    import shutil
    filler = idx.parent / "filler"  # fill the disk up to 1.5 MB (someone else's files)
    filler.write_bytes(bytes(shutil.disk_usage(idx).free - (3 << 19)))
    for i in range(400):
        (repo / f"bulk_{{i}}.py").write_text("\\n\\n".join(f"def bulk_{{i}}_{{j}}(v):\\n    return v * {{j}}\\n" for j in range(40)))
    for rebuild in (False, True):
        try:
            build_index(repo, idx, settings=st, embedder=emb, rebuild=rebuild)
            out["errors"].append(None)
        except Exception as exc:
            out["errors"].append(f"{{type(exc).__name__}}: {{exc}}")
    out["gens"] = len(list(idx.glob("gen-*")))
    for p in repo.glob("bulk_*.py"):
        p.unlink()
    filler.unlink()  # the user frees space
    build_index(repo, idx, settings=st, embedder=emb, rebuild=True)  # and follows the hint
    out["final"] = hits()
    print("RESULT " + json.dumps(out))
""")


def test_enospc_inside_the_vector_store_is_a_clear_error_not_a_hang(tmp_path: Path) -> None:
    """The guard off: Chroma itself meets ENOSPC. One clear error, no half generation, --rebuild recovers."""
    # the burst meets ENOSPC inside Chroma or SQLite; once the filler goes, the rebuild fits
    res = _run_on_tmpfs(tmp_path, UNGUARDED_DRIVER, "12m")
    assert all(e and e.startswith("DiskFullError: the disk holding") for e in res["errors"]), res["errors"]
    assert res["gens"] == 1
    assert res["final"] == res["before"]
