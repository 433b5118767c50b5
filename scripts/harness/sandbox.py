"""Sandboxed runs, hostile repos and secret searches, shared by the security tests and the reliability report."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from scripts.harness.hostile import HOSTILE_TEXTS, Planted, plant_repo

ROOT = Path(__file__).resolve().parents[2]
CARDS = ("secrets-from-environment.md", "log-redaction.md", "fastapi-settings-pydantic.md")
# Variables that would reconfigure a dependency (or turn telemetry on) if anything honoured them.
HOSTILE_ENV = {
    "CHROMA_API_IMPL": "chromadb.api.fastapi.FastAPI", "CHROMA_SERVER_HOST": "203.0.113.9",
    "CHROMA_SERVER_HTTP_PORT": "80", "ANONYMIZED_TELEMETRY": "True", "HF_ENDPOINT": "http://203.0.113.9",
    "HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0", "HF_HUB_DISABLE_TELEMETRY": "0", "DO_NOT_TRACK": "0",
    "HUGGINGFACE_HUB_CACHE": "/nonexistent", "SENTENCE_TRANSFORMERS_HOME": "/nonexistent",
}
BAD_FILES = ("latin1.py", "blob.py", "huge.txt", "broken.py", "nested_expr.py", "loop_a.py", "loop_b.py",
             "outside.py", "parent_link", "pipe.py")


def small_knowledge(dest: Path) -> Path:
    """Three real cards, so indexing them costs seconds, not minutes."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in CARDS:
        shutil.copy(ROOT / "knowledge" / name, dest / name)
    return dest


def add_hostile_texts(root: Path) -> None:
    (root / "hostile").mkdir(parents=True, exist_ok=True)
    for name, text in HOSTILE_TEXTS.items():
        (root / "hostile" / f"{name}.py").write_text(text, encoding="utf-8")


def add_bad_files(root: Path, depth: int = 200) -> list[str]:
    """Files that must be skipped with a reason (or indexed without harm); returns their repo paths."""
    (root / "latin1.py").write_bytes("# café résumé\nname = 'Zoë'\n".encode("latin-1"))
    (root / "blob.py").write_bytes(b"\x7fELF\x02\x01\x01\0\0\0" + os.urandom(4096))
    with open(root / "huge.txt", "wb") as fh:  # 50 MB (sparse), over every size limit
        fh.truncate(50 * 1024 * 1024)
    (root / "broken.py").write_text("def broken(:\n    return [1, 2\nclass Also(:\n    pass\n")
    (root / "nested_expr.py").write_text("x = " + "[" * depth + "]" * depth + "\n"
                                         + "".join("    " * i + f"def f{i}():\n" for i in range(60))
                                         + "    " * 60 + "return 1\n")
    deep = root.joinpath(*["d"] * depth)
    deep.mkdir(parents=True)
    (deep / "deep.py").write_text("def deepest():\n    return 'bottom'\n")
    os.symlink("loop_b.py", root / "loop_a.py")
    os.symlink("loop_a.py", root / "loop_b.py")
    os.symlink("/etc/passwd", root / "outside.py")
    os.symlink("..", root / "parent_link")
    os.mkfifo(root / "pipe.py")
    return list(BAD_FILES)


def make_hostile_repo(root: Path, secrets: Sequence[Planted]) -> Path:
    plant_repo(root, list(secrets))
    add_hostile_texts(root)
    add_bad_files(root)
    return root


def tools_missing() -> str | None:
    """Why the sandbox cannot run here, or None."""
    if not shutil.which("unshare"):
        return "unshare (util-linux) is not installed"
    if not shutil.which("strace"):
        return "strace is not installed (apt-get install strace)"
    probe = subprocess.run(["unshare", "-rn", "strace", "-f", "-qq", "-e", "trace=connect", "-o", "/dev/null", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"unshare -rn / strace cannot run here: {probe.stderr.strip()[:200]}"
    return None


def run_sandboxed(args: Sequence[str], *, cwd: Path, env: dict[str, str], trace: Path,
                  timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """``python -m mentor_local.cli ARGS`` in a network namespace without interfaces, its connect() calls traced."""
    # execve is traced too, so every trace shows at least the start of Python: an empty trace means strace failed.
    cmd = ["unshare", "-rn", "strace", "-f", "-qq", "-e", "trace=connect,execve", "-o", str(trace),
           sys.executable, "-m", "mentor_local.cli", *args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


_CONNECT = re.compile(r"connect\(\d+, \{sa_family=(AF_\w+)(.*?)\}")
_LOOPBACK = re.compile(r'inet_addr\("127\.|inet_pton\(AF_INET6, "(?:::1|::ffff:127\.[0-9.]+)"')


def bad_connects(trace_text: str) -> list[str]:
    """connect() calls to anything but loopback or a local socket."""
    bad = []
    for line in trace_text.splitlines():
        m = _CONNECT.search(line)
        if not m:
            continue
        family, rest = m.group(1), m.group(2)
        if family in ("AF_UNIX", "AF_LOCAL", "AF_NETLINK", "AF_UNSPEC"):
            continue
        if family in ("AF_INET", "AF_INET6") and _LOOPBACK.search(rest):
            continue
        bad.append(line.strip())
    return bad


def count_connects(trace_text: str) -> int:
    return sum(1 for line in trace_text.splitlines() if _CONNECT.search(line))


def needles_for(secret: str) -> list[bytes]:
    """Forms a secret could take in a store: as written, lowercased (FTS terms), and its long alphanumeric runs."""
    forms = {secret, secret.lower()}
    forms.update(run.lower() for run in re.findall(r"[A-Za-z0-9]{16,}", secret))
    return [f.encode() for f in forms]


def find_secrets(files: Iterable[Path], secrets: Sequence[Planted], extra_texts: dict[str, str] | None = None
                 ) -> list[tuple[str, str]]:
    """(where, kind) for every planted secret found in any byte of ``files`` or in ``extra_texts``."""
    found: list[tuple[str, str]] = []
    blobs: list[tuple[str, bytes]] = [(name, text.encode()) for name, text in (extra_texts or {}).items()]
    for f in files:
        if f.is_file() and not f.is_symlink():
            blobs.append((str(f), f.read_bytes()))
    for where, data in blobs:
        low = data.lower()
        for p in secrets:
            if any(n in data or n in low for n in needles_for(p.secret)):
                found.append((where, p.kind))
    return found


def every_file(*roots: Path) -> list[Path]:
    out: list[Path] = []
    for r in roots:
        if r.is_file():
            out.append(r)
        elif r.is_dir():
            out.extend(p for p in r.rglob("*") if p.is_file() and not p.is_symlink())
    return out
