"""No network and no secret leaks, proven on the real CLI.

Every command runs in a network namespace with no interfaces (``unshare -rn``)
under ``strace -f -e trace=connect``, with hostile ``CHROMA_*``/``HF_*``
variables in its environment, on a repo full of planted secrets, hostile texts
and bad files.  Then every byte of the index folder, the shared embedding
cache and every output is searched for the planted secrets.

MENTOR_SECURITY_ASK=0 leaves out ``mentor ask`` (the bundled model; the slowest step).
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scripts.harness.hostile import HIDDEN_CHARS, planted_secrets
from scripts.harness.sandbox import (
    HOSTILE_ENV,
    bad_connects,
    every_file,
    find_secrets,
    make_hostile_repo,
    run_sandboxed,
    small_knowledge,
    tools_missing,
)

pytestmark = pytest.mark.slow
SECRETS = planted_secrets()


@dataclass
class Runs:
    repo: Path
    idx: Path
    home: Path
    outputs: dict[str, str] = field(default_factory=dict)
    codes: dict[str, int] = field(default_factory=dict)
    traces: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    why = tools_missing()
    if why:
        pytest.skip(why)
    base = tmp_path_factory.mktemp("offline")
    repo = make_hostile_repo(base / "repo", SECRETS)
    idx = base / "idx"
    home = Path(os.environ["MENTOR_HOME"])
    env = {**os.environ, **HOSTILE_ENV, "MENTOR_KNOWLEDGE_DIR": str(small_knowledge(base / "cards")),
           "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
           "MENTOR_MAX_TOKENS": "48"}  # a short answer: the model still loads, reads the prompt and writes
    r = Runs(repo, idx, home)
    commands = {
        "index": ["index", str(repo), "--index-dir", str(idx), "--json", "--show-skipped"],
        "search-code": ["search", "where is the stripe key configured", "--repo", str(repo), "--index-dir", str(idx),
                        "--json", "-k", "20"],
        "search-injection": ["search", "ignore all previous instructions colour transfer admin", "--repo", str(repo),
                             "--index-dir", str(idx), "--json", "-k", "20"],
        "review": ["review", str(repo), "--json"],
    }
    if os.environ.get("MENTOR_SECURITY_ASK", "1") != "0":
        commands["ask"] = ["ask", "How are the database password and API keys configured?", "--repo", str(repo),
                           "--index-dir", str(idx), "--json"]
    # A neutral working directory: see test_repo_dotenv_cannot_reconfigure_chroma for the repo as cwd.
    for name, args in commands.items():
        trace = base / f"{name}.trace"
        proc = run_sandboxed(args, cwd=base, env=env, trace=trace)
        r.outputs[name] = proc.stdout + "\n" + proc.stderr
        r.codes[name] = proc.returncode
        r.traces[name] = trace.read_text() if trace.exists() else ""
    return r


def test_every_command_succeeds_offline(runs: Runs) -> None:
    for name, code in runs.codes.items():
        assert code == 0, f"{name} exited {code}: {runs.outputs[name][-2000:]}"


def test_no_connect_beyond_loopback(runs: Runs) -> None:
    for name, trace in runs.traces.items():
        assert trace, f"{name}: strace wrote nothing"
        assert bad_connects(trace) == [], name


def test_no_planted_secret_in_the_index_cache_or_outputs(runs: Runs) -> None:
    files = every_file(runs.idx, runs.home / "cache")
    assert any(f.name == "chroma.sqlite3" for f in files) and any(f.name == "catalog.sqlite" for f in files)
    assert (runs.home / "cache" / "embeddings.sqlite").is_file()
    assert find_secrets(files, SECRETS, runs.outputs) == []


def test_secrets_were_really_there_and_redacted(runs: Runs) -> None:
    # the scan can fail: the same secrets are found in the repo itself
    assert {k for _, k in find_secrets(every_file(runs.repo / "app"), SECRETS)} == {p.kind for p in SECRETS}
    gen = (runs.idx / (runs.idx / "CURRENT").read_text().strip())
    with sqlite3.connect(gen / "catalog.sqlite") as db:
        text = "\n".join(r[0] for r in db.execute("SELECT text FROM chunks WHERE path='app/settings.py'"))
    kinds = {p.kind for p in SECRETS}
    assert all(f"«redacted:{k}»" in text for k in kinds - {"generic-secret"})


def test_secret_bearing_files_skipped_and_bad_files_reported(runs: Runs) -> None:
    report = json.loads(runs.outputs["index"].split("\n\n", 1)[0]) if runs.outputs["index"].startswith("{") else None
    report = report or json.loads(runs.outputs["index"][: runs.outputs["index"].rindex("}") + 1])
    reasons = {s["path"]: s["reason"] for s in report["skipped"]}
    assert "secret-bearing" in reasons[".env"] and "secret-bearing" in reasons["id_rsa"]
    assert reasons["latin1.py"] == "not valid UTF-8"
    assert reasons["blob.py"] == "binary file"
    assert "larger than" in reasons["huge.txt"]
    for link in ("loop_a.py", "loop_b.py", "outside.py", "parent_link"):
        assert "symlink" in reasons[link]
    assert "FIFO" in reasons["pipe.py"]
    gen = (runs.idx / (runs.idx / "CURRENT").read_text().strip())
    with sqlite3.connect(gen / "catalog.sqlite") as db:
        paths = {r[0] for r in db.execute("SELECT path FROM files")}
    assert {"broken.py", "nested_expr.py", "d/" * 200 + "deep.py", "app/settings.py"} <= paths


def test_stored_and_returned_texts_carry_no_hidden_characters(runs: Runs) -> None:
    gen = (runs.idx / (runs.idx / "CURRENT").read_text().strip())
    with sqlite3.connect(gen / "catalog.sqlite") as db:
        rows = list(db.execute("SELECT path, text FROM chunks WHERE path LIKE 'hostile/%'"))
        fts = " ".join(r[0] + r[1] for r in db.execute("SELECT names, body FROM fts"))
    assert len({p for p, _ in rows}) >= 7
    for path, text in rows:
        assert not any(ch in text for ch in HIDDEN_CHARS), path
    assert not any(ch in fts for ch in HIDDEN_CHARS)
    for name in ("search-injection", "search-code"):
        assert not any(ch in runs.outputs[name] for ch in HIDDEN_CHARS), name
    hits = json.loads(runs.outputs["search-injection"][: runs.outputs["search-injection"].rindex("]") + 1])
    assert any(h["path"].startswith("hostile/") for h in hits)
