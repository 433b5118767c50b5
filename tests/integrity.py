"""SQLite's full integrity check of an index's catalog file, for the crash and disk-fault tests; it lives in
scripts/harness/integrity.py, shared with the reliability report."""

from __future__ import annotations

from scripts.harness.integrity import catalog_integrity_ok

__all__ = ["catalog_integrity_ok"]
