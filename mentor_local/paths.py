"""Where things live: the app home, per-repo index folders, models, knowledge."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from mentor_local.errors import BadPathError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def app_home(home: Path | None = None) -> Path:
    """``home`` if given, else ``$MENTOR_HOME``, else the platform's user data dir."""
    if home is not None:
        return home
    if os.environ.get("MENTOR_HOME"):
        return Path(os.environ["MENTOR_HOME"]).expanduser()
    from platformdirs import user_data_path

    return user_data_path("mentor-local", appauthor=False)


def check_repo(value: str | Path) -> Path:
    """A repo argument, resolved: it must exist and be a directory (else ``BadPathError`` says what to pass)."""
    path = Path(value).expanduser()
    if not path.exists():
        raise BadPathError(f"{path} does not exist", hint="pass the folder of a Python project")
    if not path.is_dir():
        raise BadPathError(f"{path} is not a directory", hint="pass the folder of a Python project, not a file")
    return path.resolve()


def repo_key(repo: Path) -> str:
    """A readable, collision-free folder name for a repo: ``<name>-<hash of its path>``."""
    resolved = str(repo.resolve())
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", repo.resolve().name)[:40] or "repo"
    return f"{name}-{hashlib.sha256(resolved.encode()).hexdigest()[:10]}"


def default_index_dir(repo: Path, home: Path | None = None) -> Path:
    return app_home(home) / "indexes" / repo_key(repo)


def knowledge_dir() -> Path:
    """The pattern library: ``$MENTOR_KNOWLEDGE_DIR``, else ``knowledge/`` of this project."""
    env = os.environ.get("MENTOR_KNOWLEDGE_DIR")
    if env:
        return Path(env).expanduser()
    bundled = Path(__file__).resolve().parent / "_knowledge"
    if (PROJECT_ROOT / "knowledge").is_dir():
        return PROJECT_ROOT / "knowledge"
    return bundled


def models_dir() -> Path:
    """User-dropped GGUF files: ``$MENTOR_MODELS_DIR``, else ``models/`` of this project."""
    env = os.environ.get("MENTOR_MODELS_DIR")
    return Path(env).expanduser() if env else PROJECT_ROOT / "models"
