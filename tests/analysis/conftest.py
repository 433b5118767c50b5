"""Helpers for the review/profile tests: write a small repo, review it once."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

from mentor_local.analysis.review import ReviewReport, review_report

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "saas_app"


def write_repo(root: Path, files: Mapping[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def review_files(root: Path, files: Mapping[str, str | bytes]) -> ReviewReport:
    write_repo(root, files)
    return review_report(root, cards=[])
