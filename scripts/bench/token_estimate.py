#!/usr/bin/env python
"""How close ``excerpts.estimate_tokens`` is to the bundled model's own tokenizer.

Budgets for the prompt's parts are set with the estimate (cheap, no model); the whole prompt is counted
exactly once. Over seeded 5–25-line pieces of the answer corpora's code (flask, rq, django-allauth, under
bench-data/answer/) and of the pattern cards, prints estimate / real per kind: mean, 5th and 95th
percentile, for the estimate and for the cautious bound (``upper=True``).

    .venv/bin/python scripts/bench/token_estimate.py [--pieces 400]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pieces", type=int, default=400)
    args = ap.parse_args()
    from llama_cpp import Llama

    from mentor_local.answer.excerpts import estimate_tokens
    from mentor_local.models import bundled_model_path

    tok = Llama(model_path=str(bundled_model_path()), vocab_only=True, verbose=False)
    code = sorted((ROOT / "bench-data" / "answer").glob("*/**/*.py"))
    cards = sorted((ROOT / "knowledge").glob("*.md"))
    if not code:
        raise SystemExit("bench-data/answer/ is empty: run scripts/bench/answer_quality.py --context-only once first")
    rnd = random.Random(5)
    for kind, pool in (("code", code), ("cards", cards)):
        est: list[float] = []
        upper: list[float] = []
        while len(est) < args.pieces:
            lines = rnd.choice(pool).read_text(encoding="utf-8", errors="replace").splitlines()
            if len(lines) < 30:
                continue
            start = rnd.randrange(0, len(lines) - 25)
            piece = "\n".join(lines[start:start + rnd.randint(5, 25)])
            if not piece.strip():
                continue
            real = len(tok.tokenize(piece.encode("utf-8"), add_bos=False, special=False))
            est.append(estimate_tokens(piece) / real)
            upper.append(estimate_tokens(piece, upper=True) / real)
        for name, xs in (("estimate", est), ("upper bound", upper)):
            q = statistics.quantiles(xs, n=20)
            print(f"{kind:<6} {name:<12} estimate/real: mean {statistics.fmean(xs):.2f}  p5 {q[0]:.2f}  p95 {q[-1]:.2f}"
                  f"  ({len(xs)} pieces)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
