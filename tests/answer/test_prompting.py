"""Prompt assembly: layout for prefix reuse, truncation that keeps citations honest, budgets."""

from __future__ import annotations

from pathlib import Path

from mentor_local.answer.compose import CardFacts
from mentor_local.answer.prompting import Budget, Candidates, pack, truncate_code, truncate_tokens
from tests.answer import fakes


def cards() -> list[CardFacts]:
    return [CardFacts.from_card(c) for c in fakes.cards()]


def test_layout_puts_stable_material_first_and_the_question_last() -> None:
    index = fakes.FakeIndex(Path("."))
    blocks = [Candidates(code=index.code, cards=list(reversed(cards())), findings=fakes.findings())]
    p = pack(question="Why slow?", profile=fakes.profile(None), blocks=blocks,  # type: ignore[arg-type]
             history=[("first?", "### Learning Points\nAn earlier answer.")], budget=Budget(), count=fakes.count_tokens)
    doc = p.document()
    order = [doc.index(s) for s in ("Mentor notes", "## Repository profile", "### Card n-plus-one", "### Card timeouts",
                                    "#### app/client.py:1-3", "#### app/orders.py:1-5", "## Review findings",
                                    "## Earlier in this conversation", "## Question\nWhy slow?", "## Answer")]
    assert order == sorted(order)  # cards by id and code by path, whatever the ranking: stable prefixes
    assert p.prefix_tokens == fakes.count_tokens(doc) <= Budget().prefix_limit


def test_truncated_code_is_cited_with_the_lines_shown() -> None:
    text = "\n".join(f"x_{i} = {i}" for i in range(200))
    hit = fakes.code_hit("app/big.py", 10, 209, "big", text)
    cut = truncate_code(hit, 120, fakes.count_tokens)
    assert cut is not None and cut.start_line == 10
    shown = len(cut.text.splitlines())
    assert cut.end_line == 10 + shown - 1 < 209


def test_truncate_tokens_respects_the_limit() -> None:
    text = "word " * 5000
    out = truncate_tokens(text, 100, fakes.count_tokens)
    assert fakes.count_tokens(out) <= 100 and out.endswith("…")
    assert truncate_tokens("short", 100, fakes.count_tokens) == "short"
    assert truncate_tokens("anything", 0, fakes.count_tokens) == ""


def test_follow_up_blocks_keep_the_first_block_and_drop_new_material_first() -> None:
    index = fakes.FakeIndex(Path("."))
    first = Candidates(code=index.code, cards=cards(), findings=fakes.findings())
    big = "\n".join(f"y_{i} = {i}" for i in range(4000))
    new = Candidates(code=[fakes.code_hit(f"app/n{i}.py", 1, 4000, f"n{i}", big) for i in range(10)])
    budget = Budget.for_context(2048, 48)
    p = pack(question="and then?", profile=None, blocks=[first, new], history=[("q", "a")], budget=budget,
             count=fakes.count_tokens)
    assert [h.path for h in p.blocks[0].code] == [h.path for h in index.code]
    assert p.prefix_tokens <= budget.prefix_limit
    assert p.dropped > 0
    assert p.facts.code[0].path.startswith("app/n")  # the follow-up's own material leads the answer
