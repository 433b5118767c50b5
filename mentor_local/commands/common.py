"""Flags and output helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mentor_local.paths import check_repo
from mentor_local.settings import Settings, load_settings


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON only")


def add_index_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index-dir", type=Path, default=None, metavar="DIR",
                   help="where the index lives (default: a folder per repo under the app data dir; env MENTOR_INDEX_DIR)")
    p.add_argument("--chroma-url", default=None, metavar="URL",
                   help="use a Chroma server (http://HOST:PORT) instead of the embedded store; env MENTOR_CHROMA_URL")


repo_path = check_repo
"""A repo argument: must exist and be a directory (the one check, :func:`mentor_local.paths.check_repo`)."""


def settings_for(args: argparse.Namespace, repo: Path | None) -> Settings:
    flags = {
        name: getattr(args, name, None)
        for name in ("index_dir", "chroma_url", "llm_url", "model", "device", "embedder", "max_file_bytes", "gpu_layers", "n_ctx")
    }
    return load_settings(repo, **flags)


def emit_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")
