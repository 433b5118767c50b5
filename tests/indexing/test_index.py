"""Integration: the real embedder, real Chroma, real tree-sitter on a small repo."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mentor_local.errors import BadPathError, IndexBusyError, IndexMismatchError, IndexMissingError
from mentor_local.index import build_index, open_index
from mentor_local.index.generations import lock_index
from mentor_local.settings import Settings


@pytest.fixture(scope="session")
def embedder() -> Any:
    from mentor_local.wiring import make_embedder

    return make_embedder(Settings())


def _index(repo: Path, idx: Path, embedder: Any, **kw: Any) -> Any:
    return build_index(repo, idx, settings=Settings(), embedder=embedder, **kw)


def test_build_search_and_incremental_update(sample_repo: Path, tmp_path: Path, embedder: Any) -> None:
    idx = tmp_path / "idx"
    first = _index(sample_repo, idx, embedder)
    assert first.files_indexed == 5 and first.chunks_total > 0
    assert first.chunks_embedded == first.chunks_total + first.knowledge_chunks
    with open_index(sample_repo, idx, Settings(), embedder=embedder) as index:
        hits = index.search("where is the password hashed before storing it", k=5, source="code")
        assert hits[0].path == "app/auth.py" and hits[0].symbol == "hash_password"
        assert hits[0].qualname == "app.auth.hash_password"
        assert (hits[0].start_line, hits[0].end_line) == (5, 9)
        hits = index.search("InvoiceRepository total_for_customer", k=3, source="code")
        assert hits[0].symbol == "InvoiceRepository.total_for_customer"
        cards = index.search("retry a failed background task with backoff", k=5, source="knowledge")
        assert cards and all(h.source == "knowledge" and h.path.startswith("knowledge/") for h in cards)
        # a card hit carries its card's id, title, topics and areas
        assert all({"id", "title", "topics", "areas"} <= set(h.metadata) and h.metadata["id"] for h in cards)

    # no-op: nothing embedded, nothing deleted
    again = _index(sample_repo, idx, embedder)
    assert (again.files_indexed, again.chunks_embedded, again.chunks_deleted) == (0, 0, 0)

    # touching a file costs a hash and re-embeds nothing
    auth = sample_repo / "app" / "auth.py"
    auth.touch()
    touched = _index(sample_repo, idx, embedder)
    assert touched.chunks_embedded == 0

    # editing one function re-embeds only that file's changed chunks; deleting a file drops its chunks
    auth.write_text(auth.read_text().replace("200_000", "600_000"))
    (sample_repo / "app" / "email.py").unlink()
    edited = _index(sample_repo, idx, embedder)
    assert edited.files_indexed == 1
    assert edited.chunks_embedded == 1  # only hash_password changed
    assert edited.chunks_deleted >= 2  # the old hash_password chunk and email.py's chunks
    with open_index(sample_repo, idx, Settings(), embedder=embedder) as index:
        assert all(h.path != "app/email.py" for h in index.search("send welcome email", k=10))
        store_ids = index.store("code").ids()
        assert store_ids == index.catalog.all_chunk_ids("code")


def test_search_json_shape_via_cli(sample_repo: Path, tmp_path: Path, embedder: Any) -> None:
    idx = tmp_path / "idx"
    _index(sample_repo, idx, embedder)
    out = subprocess.run([sys.executable, "-m", "mentor_local.cli", "search", "send email to new users",
                          "--repo", str(sample_repo), "--index-dir", str(idx), "--json", "-k", "3",
                          "--source", "code"], capture_output=True, text=True, check=True)
    hits = json.loads(out.stdout)
    assert hits and set(hits[0]) >= {"path", "start_line", "end_line", "symbol", "kind", "source", "score"}
    assert hits[0]["path"] == "app/email.py"


def test_bad_paths_missing_index_and_mismatch(sample_repo: Path, tmp_path: Path, embedder: Any) -> None:
    with pytest.raises(BadPathError):
        build_index(tmp_path / "nope", tmp_path / "i")
    (tmp_path / "file.py").write_text("x = 1\n")
    with pytest.raises(BadPathError):
        build_index(tmp_path / "file.py", tmp_path / "i")
    with pytest.raises(IndexMissingError):
        open_index(sample_repo, tmp_path / "empty")
    idx = tmp_path / "idx"
    _index(sample_repo, idx, embedder)
    gen = (idx / "CURRENT").read_text().strip()
    db = sqlite3.connect(idx / gen / "catalog.sqlite")
    db.execute("UPDATE meta SET value='other-embedder' WHERE key='embedder'")
    db.commit()
    db.close()
    with pytest.raises(IndexMismatchError) as err:
        open_index(sample_repo, idx)
    assert "mentor index PATH --rebuild" in err.value.one_line()
    with pytest.raises(IndexMismatchError):
        _index(sample_repo, idx, embedder)
    rebuilt = _index(sample_repo, idx, embedder, rebuild=True)
    assert rebuilt.chunks_total > 0
    assert (idx / "CURRENT").read_text().strip() != gen and not (idx / gen).exists()
    open_index(sample_repo, idx).close()


def test_second_writer_gets_busy_within_two_seconds(sample_repo: Path, tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    lock = lock_index(idx)
    try:
        t0 = time.monotonic()
        with pytest.raises(IndexBusyError):
            build_index(sample_repo, idx)
        assert time.monotonic() - t0 < 3
        out = subprocess.run([sys.executable, "-m", "mentor_local.cli", "index", str(sample_repo), "--index-dir",
                              str(idx)], capture_output=True, text=True)
        assert out.returncode == 3
        assert len(out.stderr.strip().splitlines()) == 1 and "busy" in out.stderr
    finally:
        lock.release()


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    for argv, code in ((["index", str(tmp_path / "missing")], 2), (["search", "x", "--repo", str(tmp_path)], 2),
                       (["index", "--bogus-flag"], 2)):
        out = subprocess.run([sys.executable, "-m", "mentor_local.cli", *argv], capture_output=True, text=True)
        assert out.returncode == code, (argv, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert "Traceback" not in out.stderr
