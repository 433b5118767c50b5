"""A .env file in the user's repo, and CHROMA_*/HF_* variables, change nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mentor_local import offline
from scripts.harness.sandbox import HOSTILE_ENV, bad_connects, small_knowledge, tools_missing
from tests.conftest import make_repo

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_DOTENV = "\n".join([
    "CHROMA_API_IMPL=chromadb.api.fastapi.FastAPI", "CHROMA_SERVER_HOST=203.0.113.9", "CHROMA_SERVER_HTTP_PORT=80",
    "ANONYMIZED_TELEMETRY=True", "IS_PERSISTENT=FALSE", "PERSIST_DIRECTORY=/tmp/elsewhere", "ALLOW_RESET=TRUE",
    "CHROMA_PRODUCT_TELEMETRY_IMPL=chromadb.telemetry.product.posthog.Posthog",
    "HF_ENDPOINT=http://203.0.113.9", "HF_HUB_OFFLINE=0",
]) + "\n"


def test_apply_scrubs_hostile_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in HOSTILE_ENV.items():
        monkeypatch.setenv(k, v)
    offline.apply()
    assert not [k for k in os.environ if k.startswith(("CHROMA_", "HF_ENDPOINT", "HUGGINGFACE_"))]
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["ANONYMIZED_TELEMETRY"] == "False"
    assert os.environ["DO_NOT_TRACK"] == "1" and os.environ["HF_HUB_DISABLE_TELEMETRY"] == "1"


_DOTENV_FIX = ("lead: chromadb's Settings reads '.env' from the working directory (model_config env_file='.env'), "
               "so a repo's .env with CHROMA_API_IMPL=...FastAPI turns the embedded store into an HTTP client to "
               "CHROMA_SERVER_HOST; fix in mentor_local/store/chroma.py: Settings(_env_file=None, ...) in _settings() "
               "and for the HttpClient")


def test_repo_dotenv_cannot_reconfigure_chroma(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text(HOSTILE_DOTENV)
    monkeypatch.chdir(tmp_path)
    from mentor_local.store.chroma import _settings

    s = _settings()
    assert s.anonymized_telemetry is False and s.is_persistent is True
    assert s.chroma_api_impl == "chromadb.api.rust.RustBindingsAPI"
    assert s.chroma_server_host is None and s.persist_directory != "/tmp/elsewhere"


DRIVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from mentor_local.index import build_index, open_index
    from mentor_local.settings import Settings
    from tests.security.fakes import HashingEmbedder
    st, emb = Settings(home=Path({home!r})), HashingEmbedder()
    build_index(".", {idx!r}, settings=st, embedder=emb)
    with open_index(".", {idx!r}, st, embedder=emb) as ix:
        print(len(ix.search("hash the password", k=5)))
""")


def test_index_and_search_from_inside_a_repo_with_a_hostile_dotenv_stay_offline(tmp_path: Path) -> None:
    why = tools_missing()
    if why:
        pytest.skip(why)
    repo = make_repo(tmp_path / "repo")
    (repo / ".env").write_text(HOSTILE_DOTENV)
    script = tmp_path / "driver.py"
    script.write_text(DRIVER.format(root=str(ROOT), home=str(tmp_path / "home"), idx=str(tmp_path / "idx")))
    trace = tmp_path / "trace"
    env = {**os.environ, **HOSTILE_ENV, "MENTOR_KNOWLEDGE_DIR": str(small_knowledge(tmp_path / "cards"))}
    proc = subprocess.run(["unshare", "-rn", "strace", "-f", "-qq", "-e", "trace=connect", "-o", str(trace),
                           sys.executable, str(script)], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert bad_connects(trace.read_text()) == []
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert int(proc.stdout.strip().splitlines()[-1]) > 0
