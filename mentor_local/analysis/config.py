"""The ``[tool.mentor]`` table of the reviewed repo's ``pyproject.toml``.

    [tool.mentor]
    disable = ["print-instead-of-logging", "S311"]   # topics or rule ids never reported
    exclude = ["migrations/*", "legacy/**"]          # path globs (repo-relative) not reviewed
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from mentor_local.errors import ConfigError


@dataclass(frozen=True)
class ReviewConfig:
    disable: frozenset[str] = field(default_factory=frozenset)
    exclude: tuple[str, ...] = ()

    def disabled(self, topic: str, rule: str) -> bool:
        return topic.lower() in self.disable or rule.lower() in self.disable

    def excluded(self, path: str) -> bool:
        return any(fnmatch.fnmatch(path, pat) or path.startswith(pat.rstrip("/") + "/") for pat in self.exclude)


def load_review_config(repo: Path) -> ReviewConfig:
    pyproject = repo / "pyproject.toml"
    if not pyproject.is_file():
        return ReviewConfig()
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {pyproject}: {exc}", hint="fix the file, or review another folder") from exc
    table = data.get("tool", {}).get("mentor", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.mentor] must be a table")
    disable = table.get("disable", [])
    exclude = table.get("exclude", [])
    if not isinstance(disable, list) or not all(isinstance(x, str) for x in disable):
        raise ConfigError(f"{pyproject}: [tool.mentor] disable must be a list of topic or rule names")
    if not isinstance(exclude, list) or not all(isinstance(x, str) for x in exclude):
        raise ConfigError(f"{pyproject}: [tool.mentor] exclude must be a list of path globs")
    return ReviewConfig(frozenset(x.lower() for x in disable), tuple(exclude))
