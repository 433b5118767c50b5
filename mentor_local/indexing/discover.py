"""Find the files worth indexing, and say why every other one was skipped.

Honours ``.gitignore`` files at every level and a ``.mentorignore`` at the
root; skips VCS folders, virtualenvs, caches, ``node_modules``, build output,
binary files, files over the size limit and secret-bearing files (which are
never opened).  Never follows a symlink: a linked file or folder is recorded
as skipped, so a link loop or a link out of the repo cannot be walked.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pathspec import PathSpec

from mentor_local.domain import SkippedFile

SKIP_DIRS = {
    ".git", ".hg", ".svn", ".bzr", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis", "build", "dist", ".eggs", "site-packages",
    ".idea", "htmlcov", ".ipynb_checkpoints", ".terraform", ".cache",
}
SECRET_PATTERNS = (
    ".env", ".env.*", "*.env", "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.kdbx", "*.crt",
    "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "*.ppk", ".netrc", "_netrc", ".pgpass", ".npmrc", ".pypirc",
    ".htpasswd", "credentials", "credentials.*", "*credentials*.json", "*service-account*.json",
    "*service_account*.json", "client_secret*.json", "secrets.json", "secrets.yaml", "secrets.yml", "secrets.toml",
    "*.tfstate", "*.tfvars", ".git-credentials", ".dockercfg", ".docker/config.json", "*.ovpn",
)
TEXT_SUFFIXES = {".py", ".pyi", ".md", ".markdown", ".rst", ".toml", ".yaml", ".yml", ".ini", ".cfg", ".sql", ".txt"}
TEXT_NAMES = {"Dockerfile", "Containerfile", "Makefile", "Procfile"}


@dataclass(frozen=True)
class SourceFile:
    path: str  # POSIX, relative to the repo root
    abspath: Path
    size: int
    mtime_ns: int


_SECRET_RE = re.compile("|".join(fnmatch.translate(p) for p in SECRET_PATTERNS))


def is_secret_name(name: str) -> bool:
    return _SECRET_RE.match(name.lower()) is not None


def is_text_candidate(name: str) -> bool:
    if name in TEXT_NAMES or name.startswith(("Dockerfile.", "requirements")):
        return True
    return Path(name).suffix.lower() in TEXT_SUFFIXES


def _read_spec(path: Path) -> tuple[PathSpec[Any], PathSpec[Any]] | None:
    """Two specs from one ignore file: for folders, and for files.

    A negated folder pattern (``!**/``) re-includes folders only; git never lets it
    un-ignore a file, so the file spec leaves such patterns out.
    """
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    good: list[str] = []
    for line in lines:  # git ignores a line it cannot parse; so do we, instead of failing the walk
        try:
            PathSpec.from_lines("gitignore", [line])
        except Exception:  # noqa: BLE001,S112
            continue
        good.append(line)
    files_only = [ln for ln in good if not (ln.strip().startswith("!") and ln.strip().endswith("/"))]
    return PathSpec.from_lines("gitignore", good), PathSpec.from_lines("gitignore", files_only)


class _Ignores:
    """Stack of (folder, spec) pairs; a deeper file's patterns win, as in git."""

    def __init__(self) -> None:
        self.stack: list[tuple[str, tuple[PathSpec[Any], PathSpec[Any]]]] = []

    def ignored(self, rel: str, is_dir: bool) -> bool:
        verdict = False
        for base, (dir_spec, file_spec) in self.stack:
            sub = rel[len(base) + 1:] if base else rel
            if is_dir:
                sub += "/"
            for pattern in (dir_spec if is_dir else file_spec).patterns:
                if pattern.include is not None and _matches_itself(pattern, sub):
                    verdict = bool(pattern.include)
        return verdict


def _matches_itself(pattern: Any, path: str) -> bool:
    """Whether a gitignore pattern matches ``path`` itself, not only a folder above it.

    pathspec's regexes also match every path under a matched folder (``x.py`` matches
    ``x.py/y.md``); git judges each path by the patterns that match *it*, and the walk has
    already pruned the folders that are excluded. So a match must reach the end of the path,
    except for a contents pattern (``dir/**``), which matches whatever is inside.
    """
    regex = getattr(pattern, "regex", None)
    if regex is None:
        return False
    body = str(getattr(pattern, "pattern", "")).strip().lstrip("!").rstrip("/")
    if body == "**" or body.endswith("/**"):
        return regex.search(path) is not None
    return any(m.end() == len(path) for m in regex.finditer(path))


def discover(repo: Path, max_file_bytes: int = 1_000_000) -> tuple[list[SourceFile], list[SkippedFile]]:
    """Walk ``repo``; return the files to index and the skipped ones with reasons."""
    repo = repo.resolve()
    files: list[SourceFile] = []
    skipped: list[SkippedFile] = []
    ignores = _Ignores()
    root_extra = repo / ".mentorignore"
    if root_extra.is_file():
        spec = _read_spec(root_extra)
        if spec:
            ignores.stack.append(("", spec))

    def walk(folder: Path, rel: str) -> None:
        pushed = 0
        gi = folder / ".gitignore"
        if gi.is_file() and not gi.is_symlink():
            spec = _read_spec(gi)
            if spec:
                ignores.stack.append((rel, spec))
                pushed = 1
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            skipped.append(SkippedFile(rel or ".", f"unreadable folder: {exc.strerror or exc}"))
            entries = []
        for entry in entries:
            name = entry.name
            child = f"{rel}/{name}" if rel else name
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                skipped.append(SkippedFile(child, f"cannot stat: {exc.strerror or exc}"))
                continue
            if stat.S_ISLNK(st.st_mode):
                skipped.append(SkippedFile(child, "symlink (links are never followed)"))
                continue
            if stat.S_ISDIR(st.st_mode):
                if name in SKIP_DIRS or name.endswith(".egg-info"):
                    skipped.append(SkippedFile(child + "/", "tool, cache or build folder"))
                elif (Path(entry.path) / "pyvenv.cfg").exists():
                    skipped.append(SkippedFile(child + "/", "virtualenv"))
                elif ignores.ignored(child, True):
                    skipped.append(SkippedFile(child + "/", "ignored by .gitignore/.mentorignore"))
                else:
                    walk(Path(entry.path), child)
                continue
            if not stat.S_ISREG(st.st_mode):
                skipped.append(SkippedFile(child, "not a regular file (FIFO, socket or device)"))
                continue
            if name == ".gitignore" or name == ".mentorignore":
                continue
            if is_secret_name(name):
                skipped.append(SkippedFile(child, "secret-bearing file (never read)"))
                continue
            if ignores.ignored(child, False):
                skipped.append(SkippedFile(child, "ignored by .gitignore/.mentorignore"))
                continue
            if not is_text_candidate(name):
                skipped.append(SkippedFile(child, "not a supported file type"))
                continue
            if st.st_size > max_file_bytes:
                skipped.append(SkippedFile(child, f"larger than the {max_file_bytes:,}-byte limit (max_file_bytes)"))
                continue
            files.append(SourceFile(child, Path(entry.path), st.st_size, st.st_mtime_ns))
        del ignores.stack[len(ignores.stack) - pushed:]

    walk(repo, "")
    return files, skipped


def read_text(path: Path) -> tuple[str | None, str | None]:
    """``(text, None)`` or ``(None, reason)`` for binary, non-UTF-8 or unreadable files."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, f"unreadable: {exc.strerror or exc}"
    if b"\0" in data[:8192]:
        return None, "binary file"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not valid UTF-8"
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, None
