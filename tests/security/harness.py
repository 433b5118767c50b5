"""Helpers of the security tests; they live in scripts/harness/sandbox.py, shared with the reliability report."""

from __future__ import annotations

from scripts.harness.sandbox import (
    BAD_FILES,
    CARDS,
    HOSTILE_ENV,
    ROOT,
    add_bad_files,
    add_hostile_texts,
    bad_connects,
    count_connects,
    every_file,
    find_secrets,
    make_hostile_repo,
    needles_for,
    run_sandboxed,
    small_knowledge,
    tools_missing,
)

__all__ = [
    "BAD_FILES", "CARDS", "HOSTILE_ENV", "ROOT", "add_bad_files", "add_hostile_texts", "bad_connects", "count_connects",
    "every_file", "find_secrets", "make_hostile_repo", "needles_for", "run_sandboxed", "small_knowledge",
    "tools_missing",
]
