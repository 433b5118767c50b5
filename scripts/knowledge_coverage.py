"""Coverage of the pattern library: topic -> cards and area -> cards.

Usage: python scripts/knowledge_coverage.py [KNOWLEDGE_DIR]
Exits 1 when any finding topic is taught by fewer than 2 cards (and says which).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mentor_local.knowledge import cards_by_topic, load_cards  # noqa: E402
from mentor_local.topics import AREAS  # noqa: E402

MIN_PER_TOPIC = 2


def _table(title: str, rows: dict[str, list[str]]) -> None:
    width = max(len(k) for k in rows) if rows else 10
    print(f"\n{title}")
    print(f"{'':-<{width}}  -----  {'':-<40}")
    for key, ids in rows.items():
        print(f"{key:<{width}}  {len(ids):>5}  {', '.join(ids) or '-'}")


def main(argv: list[str]) -> int:
    directory = Path(argv[1]) if len(argv) > 1 else ROOT / "knowledge"
    cards = load_cards(directory)
    print(f"{len(cards)} cards in {directory}")
    by_topic = {t: [c.id for c in cs] for t, cs in cards_by_topic(cards).items()}
    by_area = {a: [c.id for c in cards if a in c.areas] for a in AREAS}
    by_level: dict[str, int] = {}
    for c in cards:
        by_level[c.level] = by_level.get(c.level, 0) + 1
    _table("topic -> cards", by_topic)
    _table("area -> cards", by_area)
    print("\nlevels: " + ", ".join(f"{k}={v}" for k, v in sorted(by_level.items())))
    no_topic = [c.id for c in cards if not c.topics]
    print(f"cards without a topic (area-only): {len(no_topic)}")
    thin = {t: ids for t, ids in by_topic.items() if len(ids) < MIN_PER_TOPIC}
    empty_areas = [a for a, ids in by_area.items() if not ids]
    if empty_areas:
        print(f"\nnote: areas without a card: {', '.join(empty_areas)}")
    if thin:
        print(f"\nFAIL: topics with fewer than {MIN_PER_TOPIC} cards:")
        for t, ids in thin.items():
            print(f"  {t}: {len(ids)} ({', '.join(ids) or 'none'})")
        return 1
    print(f"\nOK: every topic has at least {MIN_PER_TOPIC} cards")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
