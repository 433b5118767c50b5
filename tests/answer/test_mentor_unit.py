"""Mentor with a fake index and a scripted chat model: structure, checks, budget, cancel, follow-ups."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from mentor_local.answer.mentor import Mentor
from mentor_local.domain import SECTION_NAMES, Answer, Hit
from mentor_local.protocols import ChatModel, Searchable
from tests.answer import fakes


def make(tmp_path: Path, model: ChatModel | None = None, index: Searchable | None = None, **kw: Any) -> Mentor:
    return Mentor(index or fakes.FakeIndex(tmp_path), chat_model=model or fakes.ScriptedModel(), cards=fakes.cards(),
                  reviewer=lambda _: fakes.findings(), profiler=fakes.profile, **kw)


def headings(text: str) -> list[str]:
    return re.findall(r"^### (.+)$", text, flags=re.M)


def test_one_generation_six_sections_in_order_and_non_empty(tmp_path: Path) -> None:
    model = fakes.ScriptedModel()
    answer = make(tmp_path, model).ask("Why is the orders page slow?")
    assert len(model.calls) == 1, "one generation per question"
    assert headings(answer.answer) == list(SECTION_NAMES)
    assert list(answer.sections) == list(SECTION_NAMES)
    for name, body in answer.sections.items():
        assert body.strip(), name
        assert "###" not in body
    assert answer.checks["filled"] == []


def test_the_model_explains_and_the_tool_adds_what_it_knows(tmp_path: Path) -> None:
    s = make(tmp_path).ask("Why is the orders page slow?").sections
    assert s["Backend Architecture Analysis"].startswith("_Code read for this answer: `app/orders.py:1-5`")
    assert "runs one query per user id" in s["Backend Architecture Analysis"]
    assert "`app/orders.py:4` — query inside a loop" in s["Code Quality Issues"]  # the finding, with its line
    assert "app/other.py" not in s["Code Quality Issues"]  # a finding outside the code read is not shown
    assert "`n-plus-one-eager-loading`" in s["Python Patterns Taught"]
    assert "```python" in s["Implementation Guide"]


def test_prompt_keeps_code_findings_and_cards_apart(tmp_path: Path) -> None:
    model = fakes.ScriptedModel()
    make(tmp_path, model).ask("Why is the orders page slow?")
    system, user = model.calls[0][0]["content"], model.calls[0][1]["content"]
    assert "### Backend Architecture Analysis" in system and "## Repository profile" in system
    order = [user.index(s) for s in ("My question:", "## My code", "#### app/orders.py:1-5", "## Review findings",
                                     "## General guidance (from a pattern library, NOT from this repository)")]
    assert order == sorted(order)
    assert "1 | def load_orders(session, user_ids):" in user  # numbered: a def line, the first of a run
    assert "  |         out.append(session.query(Order)" in user  # the others keep the bar and their relative indent
    assert "5 |     return out" in user  # and every fifth line


def test_sentences_with_invented_names_and_bad_citations_are_dropped(tmp_path: Path) -> None:
    script = fakes.GOOD_ANSWER.replace(
        "It returns a list of lists.",
        "It returns a list of lists. Call `session.magic_fetch()` to load everything. "
        "See `app/orders.py:90-99` for the details. The FastQueryEngine would fix this.")
    answer = make(tmp_path, fakes.ScriptedModel(script)).ask("Why is the orders page slow?")
    for invented in ("magic_fetch", "app/orders.py:90", "FastQueryEngine"):
        assert invented not in answer.answer
    assert "It returns a list of lists." in answer.answer
    assert answer.checks["dropped_by_reason"] == {"identifier": 2, "citation": 1}
    assert all(c.valid for c in answer.citations)


def test_a_card_claim_attributed_to_the_code_is_dropped(tmp_path: Path) -> None:
    script = fakes.GOOD_ANSWER.replace(
        "- The function keeps", "- The code already uses `selectinload` for its queries.\n- The function keeps")
    answer = make(tmp_path, fakes.ScriptedModel(script)).ask("Why is the orders page slow?")
    assert "already uses `selectinload`" not in answer.answer
    assert answer.checks["dropped_by_reason"] == {"card-claim": 1}


def test_every_citation_in_the_answer_is_backed(tmp_path: Path) -> None:
    answer = make(tmp_path).ask("Why is the orders page slow?")
    assert answer.citations
    assert all(c.valid for c in answer.citations)
    given = {(h.path, h.start_line, h.end_line) for h in answer.sources if h.source == "code"}
    for c in answer.citations:
        assert any(p == c.path and s <= c.start_line and c.end_line <= e for p, s, e in given) or any(
            f.path == c.path and f.line == c.start_line for f in answer.findings)


def test_stream_shows_facts_first_then_the_answer(tmp_path: Path) -> None:
    items = list(make(tmp_path).stream("Why is the orders page slow?"))
    assert isinstance(items[-1], Answer)
    assert all(isinstance(i, str) for i in items[:-1])
    assert str(items[0]).startswith("### Backend Architecture Analysis\n\n_Code read for this answer:")
    joined = "".join(str(i) for i in items[:-1])
    assert headings(joined) == list(SECTION_NAMES)


def test_a_model_that_skips_sections_gets_them_filled_from_facts(tmp_path: Path) -> None:
    script = "### Backend Architecture Analysis\n`load_orders` loops over `user_ids`.\n\n### Code Evolution Path\n1. Batch it.\n"
    answer = make(tmp_path, fakes.ScriptedModel(script)).ask("Why is the orders page slow?")
    assert headings(answer.answer) == list(SECTION_NAMES)
    assert all(body.strip() for body in answer.sections.values())
    assert set(answer.checks["filled"]) == {"Learning Points", "Code Quality Issues", "Implementation Guide",
                                            "Python Patterns Taught"}


def test_huge_question_and_long_history_fit_the_window(tmp_path: Path) -> None:
    big = "\n".join(f"    line_{i} = compute_{i}(value) + other_{i}" for i in range(3000))
    index = fakes.FakeIndex(tmp_path, code=[fakes.code_hit(f"app/m{i}.py", 1, 3000, f"f{i}", big) for i in range(8)])
    model = fakes.ScriptedModel(n_ctx=2048)
    mentor = make(tmp_path, model, index=index, n_ctx=2048, max_tokens=400)
    history = [(f"question {i} " + "why " * 300, "### Learning Points\n" + "An answer sentence. " * 400) for i in range(50)]
    answer = mentor.ask("x" * 20_000, history=history)  # the fake asserts prompt + answer <= n_ctx
    assert headings(answer.answer) == list(SECTION_NAMES)
    assert all(c.valid for c in answer.citations)
    assert answer.checks["partial_excerpts"] >= 1  # a huge hit is shown in part, and said to be


def test_cancel_stops_within_one_token(tmp_path: Path) -> None:
    model = fakes.ScriptedModel(repeat=20)
    mentor = make(tmp_path, model)
    out: list[object] = []
    produced_before = -1
    for item in mentor.stream("Why is the orders page slow?"):
        out.append(item)
        if isinstance(item, str) and "Learning Points" in item and produced_before < 0:
            produced_before = model.produced
            mentor.cancel()
    answer = out[-1]
    assert isinstance(answer, Answer)
    assert answer.timings["cancelled"] is True
    assert model.produced <= produced_before + 1


def test_follow_up_reuses_the_previous_turn_verbatim(tmp_path: Path) -> None:
    model = fakes.ScriptedModel()
    index = fakes.FakeIndex(tmp_path)
    mentor = make(tmp_path, model, index=index)
    first = mentor.ask("Why is the orders page slow?")
    index.code = [fakes.code_hit("app/billing.py", 10, 11, "charge", "def charge(x):\n    return x\n"), *index.code]
    mentor.ask("And how does charge work?", history=[(first.question, first.answer)])
    one, two = model.calls
    assert two[: len(one)] == one  # system and first question unchanged: the model's cache serves them
    assert two[len(one)] == {"role": "assistant", "content": fakes.GOOD_ANSWER}  # the model's own reply
    assert "#### app/billing.py:10-11" in two[-1]["content"]
    assert "#### app/orders.py" not in two[-1]["content"]  # code shown before is not sent again


def test_history_the_model_never_saw_goes_in_as_gist(tmp_path: Path) -> None:
    model = fakes.ScriptedModel()
    make(tmp_path, model).ask("And then?", history=[("What does load_orders do?", "### Learning Points\nIt loops.")])
    assert len(model.calls[0]) == 2
    assert "Earlier in this conversation" in model.calls[0][1]["content"]


def test_retrieval_uses_separate_quotas(tmp_path: Path) -> None:
    index = fakes.FakeIndex(tmp_path)
    make(tmp_path, index=index, code_k=5, card_k=2).ask("slow orders")
    assert ("slow orders", 5, "code") in index.queries
    assert ("slow orders", 2, "knowledge") in index.queries


def test_facts_only_without_a_model(tmp_path: Path) -> None:
    answer = make(tmp_path, use_model=False).ask("Why is the orders page slow?")
    assert headings(answer.answer) == list(SECTION_NAMES)
    assert answer.timings["completion_tokens"] == 0
    assert all(body.strip() for body in answer.sections.values())


def test_nothing_retrieved_still_gives_six_sections(tmp_path: Path) -> None:
    index = fakes.FakeIndex(tmp_path, code=[], knowledge=[])
    mentor = Mentor(index, chat_model=fakes.ScriptedModel(""), cards=[], reviewer=lambda _: [], profiler=fakes.profile)
    answer = mentor.ask("anything?")
    assert headings(answer.answer) == list(SECTION_NAMES)
    assert all(body.strip() for body in answer.sections.values())


def test_warm_primes_the_persona_once(tmp_path: Path) -> None:
    model = fakes.ScriptedModel()
    mentor = make(tmp_path, model)
    mentor.warm()
    mentor.warm()
    assert len(model.calls) == 1 and model.max_tokens == [1]
    mentor.ask("Why is the orders page slow?")
    assert model.calls[1][0] == model.calls[0][0]  # the question's prompt opens with the primed system message


def test_warm_lets_a_local_model_keep_the_persona_on_disk(tmp_path: Path) -> None:
    class Primer(fakes.ScriptedModel):
        def __init__(self) -> None:
            super().__init__()
            self.primes: list[tuple[list[dict[str, str]], str | None]] = []

        def wait_ready(self) -> Primer:
            return self

        def prime(self, messages: Sequence[dict[str, str]], cache_dir: str | None = None) -> bool:
            self.primes.append(([dict(m) for m in messages], cache_dir))
            return True

    model = Primer()
    mentor = make(tmp_path, model)
    mentor.warm()
    [(messages, cache_dir)] = model.primes
    assert model.calls == []  # primed from the saved state: nothing read through chat
    assert cache_dir == str(mentor.prompt_cache_dir()) and mentor.primed is not None and mentor.primed[0] == "disk"
    mentor.ask("Why is the orders page slow?")
    assert model.calls[0][0] == messages[0]  # the question opens with the primed system message


def test_a_model_without_chat_template_is_refused(tmp_path: Path) -> None:
    from mentor_local.errors import ModelError

    model = fakes.ScriptedModel()
    model.chat_template = False
    with pytest.raises(ModelError, match="chat template"):
        make(tmp_path, model).ask("Why is the orders page slow?")


def test_answer_json_has_the_contract_fields(tmp_path: Path) -> None:
    data = make(tmp_path).ask("Why is the orders page slow?").to_json()
    assert {"question", "answer", "sections", "sources", "findings", "citations", "model", "timings"} <= set(data)
    assert {"path", "chat_template", "n_ctx", "gpu_layers"} <= set(data["model"])
    assert {"retrieval_ms", "prompt_tokens", "ttft_s", "completion_tokens", "decode_tokens_per_s", "total_s"} <= set(
        data["timings"])
    assert {"kept", "dropped", "dropped_by_reason", "filled"} <= set(data["checks"])
    assert all(isinstance(h, dict) and "text" not in h for h in data["sources"])


def test_unknown_option_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        Mentor(fakes.FakeIndex(tmp_path), chat_model=fakes.ScriptedModel(), bogus=1)  # type: ignore[call-arg]


def test_hits_are_plain_records(tmp_path: Path) -> None:
    answer = make(tmp_path).ask("Why is the orders page slow?")
    assert all(isinstance(h, Hit) for h in answer.sources)
    assert {h.source for h in answer.sources} == {"code", "knowledge"}
