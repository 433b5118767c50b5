from __future__ import annotations

import os
from pathlib import Path

from mentor_local.indexing.discover import discover, read_text


def _write(root: Path, rel: str, data: str | bytes = "x = 1\n") -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        p.write_bytes(data)
    else:
        p.write_text(data)


def test_gitignore_nested_and_mentorignore(tmp_path: Path) -> None:
    _write(tmp_path, ".gitignore", "*.log\nsecret_dir/\n!keep.py\n")
    _write(tmp_path, "app/main.py")
    _write(tmp_path, "app/debug.log", "log")
    _write(tmp_path, "secret_dir/a.py")
    _write(tmp_path, "pkg/.gitignore", "generated_*.py\n")
    _write(tmp_path, "pkg/generated_api.py")
    _write(tmp_path, "pkg/real.py")
    _write(tmp_path, "other/generated_api.py")  # the nested rule applies only under pkg/
    _write(tmp_path, ".mentorignore", "vendor/\n")
    _write(tmp_path, "vendor/lib.py")
    files, skipped = discover(tmp_path)
    paths = {f.path for f in files}
    assert paths == {"app/main.py", "pkg/real.py", "other/generated_api.py"}
    reasons = {s.path: s.reason for s in skipped}
    assert "ignored" in reasons["secret_dir/"]
    assert "ignored" in reasons["pkg/generated_api.py"]
    assert "ignored" in reasons["vendor/"]
    assert "ignored" in reasons["app/debug.log"] or "not a supported" in reasons["app/debug.log"]


def test_skips_tool_folders_venvs_secrets_and_big_files(tmp_path: Path) -> None:
    _write(tmp_path, "ok.py")
    _write(tmp_path, ".git/config", "[core]")
    _write(tmp_path, "node_modules/x/index.py")
    _write(tmp_path, "myenv/pyvenv.cfg", "home = /usr")
    _write(tmp_path, "myenv/lib/site.py")
    _write(tmp_path, ".env", "API_KEY=abc")
    _write(tmp_path, ".env.production", "API_KEY=abc")
    _write(tmp_path, "deploy/server.pem", "-----BEGIN")
    _write(tmp_path, "id_rsa", "-----BEGIN")
    _write(tmp_path, "gcp-service-account.json", "{}")
    _write(tmp_path, "big.py", "x = 1\n" * 300_000)
    files, skipped = discover(tmp_path, max_file_bytes=1_000_000)
    assert [f.path for f in files] == ["ok.py"]
    reasons = {s.path: s.reason for s in skipped}
    for secret in (".env", ".env.production", "deploy/server.pem", "id_rsa", "gcp-service-account.json"):
        assert "secret" in reasons[secret], secret
    assert reasons["myenv/"] == "virtualenv"
    assert "larger than" in reasons["big.py"]
    assert ".git/" in reasons and "node_modules/" in reasons


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    outside = tmp_path / "outside"
    _write(outside, "leak.py", "SECRET = 1\n")
    _write(repo, "a.py")
    os.symlink(outside, repo / "link_out")
    os.symlink(repo, repo / "loop")
    os.symlink(outside / "leak.py", repo / "leak.py")
    files, skipped = discover(repo)
    assert [f.path for f in files] == ["a.py"]
    assert {s.path for s in skipped if "symlink" in s.reason} == {"link_out", "loop", "leak.py"}


def test_fifo_is_skipped(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    files, skipped = discover(tmp_path)
    assert files == [] and "not a regular file" in skipped[0].reason


def test_read_text_rejects_binary_and_non_utf8(tmp_path: Path) -> None:
    (tmp_path / "b.py").write_bytes(b"\x00\x01\x02")
    (tmp_path / "l.py").write_bytes("caf\xe9 = 1\n".encode("latin-1"))
    (tmp_path / "ok.py").write_bytes("\ufeffx = 'é'\n".encode())
    assert read_text(tmp_path / "b.py") == (None, "binary file")
    assert read_text(tmp_path / "l.py") == (None, "not valid UTF-8")
    assert read_text(tmp_path / "ok.py") == ("x = 'é'\n", None)
