"""The ``[tool.mentor]`` table of the reviewed repo's ``pyproject.toml``.

    [tool.mentor]
    disable = ["print-instead-of-logging", "S311"]   # topics or rule ids never reported
    exclude = ["migrations/*", "legacy/**"]          # path globs (repo-relative) not reviewed

``exclude`` patterns follow ``.gitignore`` rules: ``**`` spans folders, ``*`` does not, a pattern
without a slash matches at any depth, and a matched folder excludes everything inside it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pathspec import PathSpec

from mentor_local.errors import ConfigError


@dataclass(frozen=True)
class ReviewConfig:
    disable: frozenset[str] = field(default_factory=frozenset)
    exclude: tuple[str, ...] = ()

    def disabled(self, topic: str, rule: str) -> bool:
        return topic.lower() in self.disable or rule.lower() in self.disable

    @cached_property
    def _exclude_spec(self) -> PathSpec[Any]:
        return PathSpec.from_lines("gitignore", self.exclude)

    def excluded(self, path: str) -> bool:
        """Whether the repo-relative POSIX ``path``, or a folder above it, matches an ``exclude`` pattern."""
        if not self.exclude:
            return False
        parts = path.split("/")
        folders = ["/".join(parts[:i]) + "/" for i in range(1, len(parts))]
        return any(self._exclude_spec.match_file(p) for p in (*folders, path))


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
