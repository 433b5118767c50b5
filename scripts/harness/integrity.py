"""SQLite's full integrity check of an index's catalog file, for the crash and disk-fault checks."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def catalog_integrity_ok(catalog: Path) -> bool:
    """Every page and every index checked against its table (``PRAGMA integrity_check``), read-only."""
    db = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)
    try:
        return [tuple(r) for r in db.execute("PRAGMA integrity_check")] == [("ok",)]
    finally:
        db.close()
