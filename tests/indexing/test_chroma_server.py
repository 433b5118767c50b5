"""The same store against a Chroma server started on 127.0.0.1 (`chroma run`)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mentor_local.index import build_index, open_index
from mentor_local.settings import Settings
from tests.conftest import free_port


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    log = (data / "server.log").open("w")
    proc = subprocess.Popen([exe, "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"chroma run exited: {(data / 'server.log').read_text()[-2000:]}")
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma server did not start within 60 s")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_index_and_search_against_a_chroma_server(sample_repo: Path, tmp_path: Path, chroma_url: str) -> None:
    from mentor_local.wiring import make_embedder

    settings = Settings(chroma_url=chroma_url)
    embedder: Any = make_embedder(settings)
    report = build_index(sample_repo, tmp_path / "idx", settings=settings, embedder=embedder)
    assert report.chunks_total > 0
    assert not (tmp_path / "idx" / (tmp_path / "idx" / "CURRENT").read_text().strip() / "chroma").exists()
    with open_index(sample_repo, tmp_path / "idx", settings, embedder=embedder) as index:
        hits = index.search("hash a password for storage", k=3, source="code")
        assert hits[0].path == "app/auth.py"
        assert index.store("code").ids() == index.catalog.all_chunk_ids("code")
    (sample_repo / "app" / "email.py").unlink()
    again = build_index(sample_repo, tmp_path / "idx", settings=settings, embedder=embedder)
    assert again.chunks_deleted >= 1 and again.chunks_embedded == 0
