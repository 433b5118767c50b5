"""`python scripts/index.py PATH` — the same as `mentor index PATH`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mentor_local.cli import main  # noqa: E402

if __name__ == "__main__":
    main(["index", *sys.argv[1:]])
