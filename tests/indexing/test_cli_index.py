"""`mentor index` / `scripts/index.py` / `mentor doctor` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=ROOT)


def test_index_json_report_and_bad_inputs(sample_repo: Path, tmp_path: Path) -> None:
    (sample_repo / "bad_syntax.py").write_text("def broken(:\n    pass\n")
    (sample_repo / "latin1.py").write_bytes("caf\xe9 = 1\n".encode("latin-1"))
    (sample_repo / "blob.py").write_bytes(b"\x00\x01binary")
    (sample_repo / "huge.py").write_text("x = 1\n" * 400_000)
    (sample_repo / ".env").write_text("SECRET=1\n")
    out = _run("scripts/index.py", str(sample_repo), "--index-dir", str(tmp_path / "idx"), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)  # nothing but JSON on stdout
    assert set(report) >= {"repo", "files_seen", "files_indexed", "files_skipped", "chunks_total",
                           "chunks_embedded", "chunks_deleted", "seconds", "skipped"}
    reasons = {s["path"]: s["reason"] for s in report["skipped"]}
    assert reasons["latin1.py"] == "not valid UTF-8"
    assert reasons["blob.py"] == "binary file"
    assert "larger than" in reasons["huge.py"]
    assert "secret" in reasons[".env"]
    assert "bad_syntax.py" not in reasons  # syntax errors still yield chunks
    assert report["files_skipped"] == len(report["skipped"])


def test_doctor_reports_each_check(sample_repo: Path, tmp_path: Path) -> None:
    out = _run("-m", "mentor_local.cli", "doctor", "--repo", str(sample_repo), "--index-dir",
               str(tmp_path / "none"), "--json")
    checks = {c["name"]: c for c in json.loads(out.stdout)}
    assert checks["model"]["ok"] and "qwen2.5-coder-1.5b" in checks["model"]["detail"]
    assert checks["embedder"]["ok"]
    assert checks["llama-cpp"]["ok"] and "GPU offload compiled in" in checks["llama-cpp"]["detail"]
    assert checks["index"]["ok"] is False and "mentor index" in checks["index"]["detail"]


def test_help_teaches() -> None:
    out = _run("-m", "mentor_local.cli", "index", "--help")
    assert out.returncode == 0 and "Examples:" in out.stdout and "--rebuild" in out.stdout
