"""The pattern library: every card follows the format, its code compiles, runnable blocks run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from mentor_local.knowledge import SECTIONS, Card, cards_by_topic, parse_card
from mentor_local.topics import AREAS, LEVELS, TOPICS

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
CARD_FILES = sorted(p for p in KNOWLEDGE.glob("*.md") if p.name.lower() != "readme.md")
MIN_CARDS = 60
MIN_CARDS_PER_TOPIC = 2


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def _python_blocks(card: Card) -> list[tuple[str, str, int]]:
    return [b for b in card.code_blocks() if b[0].split()[:1] == ["python"]]


def _runnable(info: str) -> bool:
    return info.split() == ["python", "runnable"]


@pytest.fixture(scope="module")
def cards() -> list[Card]:
    return [parse_card(p) for p in CARD_FILES]


def test_library_has_enough_cards() -> None:
    assert len(CARD_FILES) >= MIN_CARDS, f"only {len(CARD_FILES)} cards in {KNOWLEDGE}"


@pytest.mark.parametrize("path", CARD_FILES, ids=_ids(CARD_FILES))
def test_card_front_matter_and_sections(path: Path) -> None:
    card = parse_card(path)
    assert card.id == path.stem, "id must equal the file name without .md"
    assert card.title.strip(), "title is empty"
    assert set(card.topics) <= set(TOPICS), f"unknown topics {set(card.topics) - set(TOPICS)}"
    assert card.areas, "a card names at least one area"
    assert set(card.areas) <= set(AREAS), f"unknown areas {set(card.areas) - set(AREAS)}"
    assert card.level in LEVELS
    for name in SECTIONS:
        assert card.sections.get(name, "").strip(), f"section {name!r} is missing or empty"
    extra = set(card.sections) - set(SECTIONS)
    assert not extra, f"unexpected ## headings {extra}; use ### inside a section"
    # The answer engine quotes Consider verbatim next to a finding: it must read as a recommendation.
    assert card.sections["Consider"].startswith("Consider"), "Consider section must start with 'Consider'"
    assert _python_blocks(card), "the Code section holds at least one ```python block"


def _sentences(text: str) -> list[str]:
    text = re.sub(r"`[^`]*`", "X", text)  # code spans often contain dots
    text = re.sub(r"\b(e\.g|i\.e|vs|etc)\.", "x", text)
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z(`\"])", text.strip()) if s]


@pytest.mark.parametrize("path", CARD_FILES, ids=_ids(CARD_FILES))
def test_card_is_focused(path: Path) -> None:
    # The answer engine quotes Consider next to findings and Why as the reason: keep both short and whole.
    card = parse_card(path)
    assert 1 <= len(_sentences(card.sections["Consider"])) <= 3, "Consider: 1-3 sentences"
    assert 2 <= len(_sentences(card.sections["Why"])) <= 5, "Why: 2-5 sentences"
    lines = path.read_text(encoding="utf-8").count("\n")
    assert 40 <= lines <= 160, f"{lines} lines; a card teaches one pattern (aim for 60-140)"


def test_card_ids_are_unique(cards: list[Card]) -> None:
    seen: dict[str, str] = {}
    for card in cards:
        assert card.id not in seen, f"{card.id} in {card.path} and {seen[card.id]}"
        seen[card.id] = card.path


@pytest.mark.parametrize("path", CARD_FILES, ids=_ids(CARD_FILES))
def test_card_python_blocks_compile(path: Path) -> None:
    card = parse_card(path)
    for info, code, line in _python_blocks(card):
        try:
            compile(code, f"{card.path}:{line}", "exec")
        except SyntaxError as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"{card.path}:{line} ({info}) does not compile: {exc}")


RUNNABLE = [
    pytest.param(p, code, id=f"{p.stem}:{line}")
    for p in CARD_FILES
    for info, code, line in parse_card(p).code_blocks()
    if _runnable(info)
]


@pytest.mark.parametrize(("path", "code"), RUNNABLE)
def test_runnable_blocks_run(path: Path, code: str, tmp_path: Path) -> None:
    # An empty cwd and no network: a runnable block must stand on the stdlib alone.
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert proc.returncode == 0, f"{path.name} runnable block failed:\n{proc.stderr[-2000:]}"


def test_runnable_blocks_exist_in_a_third_of_cards(cards: list[Card]) -> None:
    with_runnable = [c for c in cards if any(_runnable(info) for info, _, _ in c.code_blocks())]
    assert len(with_runnable) * 3 >= len(cards), (
        f"only {len(with_runnable)} of {len(cards)} cards have a runnable block"
    )


def test_runnable_blocks_use_only_the_stdlib(cards: list[Card]) -> None:
    stdlib = sys.stdlib_module_names
    for card in cards:
        for info, code, line in card.code_blocks():
            if not _runnable(info):
                continue
            for m in re.finditer(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", code, re.M):
                assert m.group(1) in stdlib or m.group(1) == "__future__", f"{card.path}:{line} imports {m.group(1)}"


def test_every_topic_is_taught_by_two_cards(cards: list[Card]) -> None:
    thin = {t: [c.id for c in cs] for t, cs in cards_by_topic(cards).items() if len(cs) < MIN_CARDS_PER_TOPIC}
    assert not thin, f"topics with fewer than {MIN_CARDS_PER_TOPIC} cards: {thin}"


def test_every_area_has_a_card(cards: list[Card]) -> None:
    used = {a for c in cards for a in c.areas}
    assert set(AREAS) <= used, f"areas without a card: {set(AREAS) - used}"


def test_topic_list_is_closed_and_well_formed() -> None:
    """``mentor_local.topics`` is the one source of the slugs; everything that names a topic must take it from there."""
    from mentor_local.analysis.review import NOSEC_TOPICS
    from mentor_local.analysis.ruff_rules import RUFF_MAP

    assert len(TOPICS) == 21
    for slug, what in TOPICS.items():
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)+", slug), slug
        assert what.strip() and "|" not in what, slug
    assert {topic for topic, _why, _hints in RUFF_MAP.values()} <= set(TOPICS)
    assert NOSEC_TOPICS <= set(TOPICS)
