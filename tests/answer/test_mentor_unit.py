"""Mentor with a fake index and a scripted model: structure, checks, budget, cancel, follow-ups."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mentor_local.answer.mentor import NOTE_PREFIX, Mentor
from mentor_local.domain import SECTION_NAMES, Answer, Hit
from tests.answer import fakes


def make(tmp_path: Path, model: object | None = None, **kw: object) -> Mentor:
    index = kw.pop("index", None) or fakes.FakeIndex(tmp_path)
    return Mentor(index, chat_model=model or fakes.ScriptedModel(), cards=fakes.cards(), reviewer=lambda _: fakes.findings(),
                  profiler=fakes.profile, **kw)


def headings(text: str) -> list[str]:
    return re.findall(r"^### (.+)$", text, flags=re.M)


def test_six_sections_in_order_and_non_empty(tmp_path: Path) -> None:
    answer = make(tmp_path).ask("Why is the orders page slow?")
    assert headings(answer.answer) == list(SECTION_NAMES)
    assert list(answer.sections) == list(SECTION_NAMES)
    for name, body in answer.sections.items():
        assert body.strip(), name
        assert "###" not in body


def test_facts_come_from_profile_findings_cards_and_code(tmp_path: Path) -> None:
    s = make(tmp_path).ask("Why is the orders page slow?").sections
    assert "3.11" in s["Backend Architecture Analysis"] and "fastapi" in s["Backend Architecture Analysis"]
    assert "`app/orders.py:4`" in s["Code Quality Issues"]
    assert "selectinload" in s["Code Quality Issues"]  # the finding's card's Consider
    assert "app.orders.load_orders" in s["Learning Points"] and "app/orders.py:1-5" in s["Learning Points"]
    assert "n-plus-one-eager-loading" in s["Python Patterns Taught"]
    assert "```python" in s["Implementation Guide"]
    assert "Intermediate" in s["Code Evolution Path"]


def test_model_note_is_kept_when_it_names_only_sources(tmp_path: Path) -> None:
    answer = make(tmp_path).ask("Why is the orders page slow?")
    assert NOTE_PREFIX + "Batch the lookups in load_orders" in answer.sections["Learning Points"]


def test_sentences_with_invented_identifiers_or_paths_are_dropped(tmp_path: Path) -> None:
    model = fakes.ScriptedModel([
        "Call session.magic_fetch() to load everything. Keep the loop in load_orders short and simple please.",
        "Move the code to services/cache_layer.py for speed. Read app/orders.py:90-99 for the details first.",
        "The FastQueryEngine would fix this problem for you.",
    ])
    answer = make(tmp_path, model).ask("Why is the orders page slow?")
    text = answer.answer
    for invented in ("magic_fetch", "services/cache_layer.py", "app/orders.py:90", "FastQueryEngine"):
        assert invented not in text
    assert "Keep the loop in load_orders short" in text
    assert all(c.valid for c in answer.citations)


def test_every_citation_in_the_answer_is_backed(tmp_path: Path) -> None:
    answer = make(tmp_path).ask("Why is the orders page slow?")
    assert answer.citations, "the composed facts cite the retrieved code"
    assert all(c.valid for c in answer.citations)
    given = {(h.path, h.start_line, h.end_line) for h in answer.sources if h.source == "code"}
    for c in answer.citations:
        assert any(p == c.path and s <= c.start_line and c.end_line <= e for p, s, e in given) or any(
            f.path == c.path and f.line == c.start_line for f in answer.findings)


def test_stream_yields_the_answer_text_then_the_answer(tmp_path: Path) -> None:
    items = list(make(tmp_path).stream("Why is the orders page slow?"))
    assert isinstance(items[-1], Answer)
    assert all(isinstance(i, str) for i in items[:-1])
    assert "".join(items[:-1]) == items[-1].answer  # type: ignore[arg-type]


def test_huge_question_and_long_history_fit_the_window(tmp_path: Path) -> None:
    big = "\n".join(f"    line_{i} = compute_{i}(value) + other_{i}" for i in range(3000))
    index = fakes.FakeIndex(tmp_path, code=[fakes.code_hit(f"app/m{i}.py", 1, 3000, f"f{i}", big) for i in range(8)])
    model = fakes.ScriptedModel(n_ctx=2048)
    mentor = make(tmp_path, model, index=index, n_ctx=2048)
    history = [(f"question {i} " + "why " * 300, "### Learning Points\n" + "An answer sentence. " * 400) for i in range(50)]
    answer = mentor.ask("x" * 20_000, history=history)
    assert headings(answer.answer) == list(SECTION_NAMES)
    assert model.prompts, "the model was asked"
    for p in model.prompts:
        assert fakes.count_tokens(p) + mentor.section_tokens <= 2048
    # a truncated hit is cited with the lines actually shown, and those citations are valid
    assert all(c.valid for c in answer.citations)
    assert answer.timings["sources_dropped"] > 0


@pytest.mark.parametrize("n_ctx", [256, 512, 1024])
def test_small_windows_never_error(tmp_path: Path, n_ctx: int) -> None:
    model = fakes.ScriptedModel(n_ctx=n_ctx)
    answer = make(tmp_path, model, n_ctx=n_ctx).ask("orders " * 500, history=[("q", "a" * 5000)] * 5)
    assert headings(answer.answer) == list(SECTION_NAMES)


def test_cancel_stops_within_one_token(tmp_path: Path) -> None:
    model = fakes.ScriptedModel(["Keep the loop in load_orders short and simple please."], repeat=40)
    mentor = make(tmp_path, model, section_tokens=400)
    out: list[object] = []
    for item in mentor.stream("Why is the orders page slow?"):
        out.append(item)
        if isinstance(item, str) and item.startswith("\n\n" + NOTE_PREFIX):
            produced_before = model.produced
            mentor.cancel()
    answer = out[-1]
    assert isinstance(answer, Answer)
    assert answer.timings["cancelled"] is True
    assert model.produced <= produced_before + 1
    assert headings(answer.answer) == list(SECTION_NAMES)  # the rest is facts only
    texts = [i for i in out[:-1] if isinstance(i, str)]
    assert not any(i.startswith("\n\n### Implementation Guide") for i in texts)


def test_follow_up_keeps_the_previous_context_as_prompt_prefix(tmp_path: Path) -> None:
    model = fakes.ScriptedModel()
    index = fakes.FakeIndex(tmp_path)
    mentor = make(tmp_path, model, index=index)
    first = mentor.ask("Why is the orders page slow?")
    first_prompt = model.prompts[0]
    index.code = [fakes.code_hit("app/billing.py", 10, 20, "charge", "def charge(x):\n    return x\n")]
    second = mentor.ask("And billing?", history=[(first.question, first.answer)])
    second_prompt = model.prompts[len(SECTION_NAMES)]
    shared = len(first_prompt[: first_prompt.index("## Question")])
    assert second_prompt[:shared] == first_prompt[:shared]
    assert "app/billing.py:10-20" in second_prompt
    assert "charge" in second.sections["Backend Architecture Analysis"]


def test_retrieval_uses_separate_quotas(tmp_path: Path) -> None:
    index = fakes.FakeIndex(tmp_path)
    make(tmp_path, index=index, code_k=5, card_k=2).ask("slow orders")
    assert ("slow orders", 5, "code") in index.queries
    assert ("slow orders", 2, "knowledge") in index.queries


def test_facts_only_without_a_model(tmp_path: Path) -> None:
    answer = make(tmp_path, use_model=False).ask("Why is the orders page slow?")
    assert headings(answer.answer) == list(SECTION_NAMES)
    assert NOTE_PREFIX not in answer.answer
    assert answer.timings["completion_tokens"] == 0


def test_nothing_retrieved_still_gives_six_sections(tmp_path: Path) -> None:
    index = fakes.FakeIndex(tmp_path, code=[], knowledge=[])
    mentor = Mentor(index, chat_model=fakes.ScriptedModel(), cards=[], reviewer=lambda _: [], profiler=fakes.profile)
    answer = mentor.ask("anything?")
    assert headings(answer.answer) == list(SECTION_NAMES)
    assert all(body.strip() for body in answer.sections.values())


def test_answer_json_has_the_contract_fields(tmp_path: Path) -> None:
    data = make(tmp_path).ask("Why is the orders page slow?").to_json()
    assert set(data) == {"question", "answer", "sections", "sources", "findings", "citations", "model", "timings"}
    assert {"path", "chat_template", "n_ctx", "gpu_layers"} <= set(data["model"])
    assert {"retrieval_ms", "prompt_tokens", "ttft_s", "completion_tokens", "decode_tokens_per_s", "total_s"} <= set(
        data["timings"])
    assert all(isinstance(h, dict) and "text" not in h for h in data["sources"])


def test_unknown_option_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        Mentor(fakes.FakeIndex(tmp_path), chat_model=fakes.ScriptedModel(), bogus=1)


def test_hits_are_plain_records(tmp_path: Path) -> None:
    answer = make(tmp_path).ask("Why is the orders page slow?")
    assert all(isinstance(h, Hit) for h in answer.sources)
    assert {h.source for h in answer.sources} == {"code", "knowledge"}
