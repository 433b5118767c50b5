"""Prompt assembly: golden files for the messages, excerpts that keep the lines that answer."""

from __future__ import annotations

import os
from pathlib import Path

from mentor_local.answer.compose import CardFacts
from mentor_local.answer.excerpts import pack_excerpts, question_terms, select
from mentor_local.answer.prompting import Material, Turn, build_messages, fit_material, render_user, system_prompt
from tests.answer import fakes

GOLDEN = Path(__file__).parent / "golden"


def golden(name: str, text: str) -> None:
    """Compare with the golden file; ``MENTOR_UPDATE_GOLDEN=1`` rewrites it (then review the diff)."""
    path = GOLDEN / name
    if os.environ.get("MENTOR_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.read_text() == text, f"{name} changed: review it and rerun with MENTOR_UPDATE_GOLDEN=1"


def material(question: str = "Why is the orders page slow?") -> Material:
    index = fakes.FakeIndex(Path("."))
    cards = [CardFacts.from_card(c) for c in fakes.cards()]
    return Material(question, pack_excerpts(index.code, question, 400), fakes.findings()[:2], cards)


def test_golden_system_prompt() -> None:
    golden("system.txt", system_prompt(fakes.profile(Path("."))))


def test_golden_first_question() -> None:
    golden("user_first.txt", render_user(material()))


def test_golden_follow_up_with_earlier_turns_the_model_did_not_see() -> None:
    m = Material("And billing?", pack_excerpts([fakes.code_hit("app/billing.py", 10, 11, "charge",
                                                                 "def charge(x):\n    return x\n")], "billing", 200))
    golden("user_follow_up.txt", render_user(m, follow_up=True, earlier=[("Why slow?", "### A\nIt loops. A lot.")]))


def test_messages_put_the_stable_parts_first() -> None:
    system = system_prompt(None)
    first = Turn(user=render_user(material()), reply="### Backend Architecture Analysis\nIt loops.", material=material())
    msgs = build_messages(system, [first], "My question: and then?")
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert msgs[1]["content"] == first.user and msgs[2]["content"] == first.reply


def test_fit_material_drops_cards_then_findings_then_code() -> None:
    m = material()
    fitted = fit_material(m, 200)
    assert len(fitted.cards) <= 1 and fitted.excerpts
    assert fit_material(m, 100_000) == m


# A 110-line function whose check sits 60 lines in: the case that made a model say "there is no CSRF check".
CALLBACK = "\n".join(
    ["async def callback(request, code, state):"]
    + [f"    step_{i} = await prepare_{i}(request)" for i in range(1, 58)]
    + ["    token_state = decode_state(state)", "    if token_state['csrftoken'] != request.cookies.get('csrf'):",
       "        raise HTTPException(400, 'OAUTH_INVALID_STATE')"]
    + [f"    more_{i} = finish_{i}(step_1)" for i in range(1, 50)]
    + ["    return response"]
)


def test_the_line_that_answers_is_kept_and_the_excerpt_says_it_is_partial() -> None:
    hit = fakes.code_hit("app/oauth.py", 100, 100 + len(CALLBACK.splitlines()) - 1, "callback", CALLBACK)
    ex = select(hit, question_terms("Does the OAuth callback protect against CSRF with the state?"), 220)
    assert ex is not None and ex.partial
    shown = dict(ex.lines)
    assert shown[100].startswith("async def callback")
    assert any("csrftoken" in text for text in shown.values())
    assert ex.cost() <= 220
    rendered = ex.render()
    assert "(excerpt: lines marked … are not shown)" in rendered and "| …" in rendered
    # file line numbers, not excerpt positions: on the first line of a run and every fifth, the bar elsewhere
    assert f"{156:>3} |     step_56 = await prepare_56(request)" in rendered
    assert "    |     if token_state['csrftoken'] != request.cookies.get('csrf'):" in rendered
    assert f"{160:>3} |         raise HTTPException(400, 'OAUTH_INVALID_STATE')" in rendered


def test_a_method_loses_its_common_indent_and_its_long_signature() -> None:
    src = "\n".join(["    def work(", *(f"        arg_{i}: int = {i}," for i in range(8)), "    ) -> bool:",
                     '        """Run it."""', *(f"        step_{i}()" for i in range(30)),
                     "        flush_cache()", "        return True"])
    hit = fakes.code_hit("app/worker.py", 10, 10 + len(src.splitlines()) - 1, "Worker.work", src)
    ex = select(hit, question_terms("When is the cache flushed?"), 120)
    assert ex is not None
    shown = dict(ex.lines)
    assert 10 in shown and 19 in shown and not any(n in shown for n in range(11, 19))  # first and last header line
    rendered = ex.render()
    assert "10 | def work(\n   | …\n19 | ) -> bool:\n20 |     \"\"\"Run it.\"\"\"" in rendered  # 4 spaces of indent cut
    assert "50 |     step_29()\n   |     flush_cache()" in rendered


def test_a_hit_that_fits_is_shown_whole() -> None:
    hit = fakes.code_hit("app/orders.py", 1, 5, "load_orders", fakes.ORDERS_SRC)
    ex = select(hit, question_terms("orders"), 400)
    assert ex is not None and not ex.partial and len(ex.lines) == 5
