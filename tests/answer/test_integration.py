"""The real thing: tree-sitter + Chroma index, review, the bundled GGUF (slow)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from mentor_local.answer.citations import SourceRange, find_citations, is_backed
from mentor_local.answer.mentor import Mentor
from mentor_local.domain import SECTION_NAMES, Answer

pytestmark = pytest.mark.slow

QUESTIONS = (
    "Where could the billing code hang or lose data?",
    "How are passwords stored and checked?",
)


def unbacked(answer: Answer) -> list[tuple[str, int, int]]:
    ranges = [SourceRange(h.path, h.start_line, h.end_line) for h in answer.sources if h.source == "code"]
    ranges += [SourceRange(f.path, f.line, max(f.line, f.end_line)) for f in answer.findings]
    return [c for c in find_citations(answer.answer) if not is_backed(*c, ranges)]


@pytest.fixture(scope="module")
def mentor(saas_index: Any, llama_backend: Any) -> Mentor:
    return Mentor(saas_index, chat_model=llama_backend, section_tokens=24)


@pytest.mark.parametrize("question", QUESTIONS)
def test_six_sections_in_order_with_no_unbacked_citation(mentor: Mentor, question: str) -> None:
    answer = mentor.ask(question)
    assert re.findall(r"^### (.+)$", answer.answer, flags=re.M) == list(SECTION_NAMES)
    assert all(answer.sections[n].strip() for n in SECTION_NAMES)
    assert unbacked(answer) == []
    assert answer.citations, "the composed facts cite the retrieved code"
    assert any(h.source == "code" for h in answer.sources)
    repo = Path(mentor.index.repo)
    for path in {c[0] for c in find_citations(answer.answer)}:
        assert (repo / path).is_file(), path  # the answer never shows a path that is not in the repo
    assert answer.model["chat_template"] is False and answer.model["n_ctx"] == 4096


def test_findings_reach_code_quality_issues(mentor: Mentor) -> None:
    answer = mentor.ask("Where could the billing code hang or lose data?")
    assert answer.findings, "the fixture app has known problems in billing"
    f = answer.findings[0]
    assert f"`{f.path}:{f.line}`" in answer.sections["Code Quality Issues"]


def test_follow_up_reuses_the_kv_cache(mentor: Mentor, llama_backend: Any) -> None:
    """Counts the tokens llama.cpp evaluates: a follow-up re-reads far less than a cold question."""
    llm = llama_backend.llm
    evaluated: list[int] = []
    original = llm.eval

    def counting_eval(tokens: Any) -> None:
        evaluated.append(len(tokens))
        original(tokens)

    llm.eval = counting_eval
    try:
        llm.reset()
        evaluated.clear()
        first = mentor.ask("Where could the billing code hang or lose data?")
        cold = list(evaluated)
        evaluated.clear()
        mentor.ask("How do I fix the first one?", history=[(first.question, first.answer)])
        warm = list(evaluated)
    finally:
        del llm.eval
    # The first eval call of each answer reads the prompt of its first section.
    assert cold and warm
    assert warm[0] <= 0.5 * cold[0], (cold[0], warm[0])


def test_cancel_during_real_generation(mentor: Mentor) -> None:
    seen = 0
    answer = None
    for item in mentor.stream("What should I fix first in the background tasks?"):
        if isinstance(item, Answer):
            answer = item
        else:
            seen += 1
            if seen == 1:
                mentor.cancel()
    assert answer is not None and answer.timings["cancelled"] is True
    assert seen == 1
    assert re.findall(r"^### (.+)$", answer.answer, flags=re.M) == list(SECTION_NAMES)


def test_cli_ask_json(saas_index: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from mentor_local.cli import run

    monkeypatch.setenv("MENTOR_THREADS", "1")
    code = run(["ask", "How are passwords stored?", "--repo", str(saas_index.repo),
                "--index-dir", str(saas_index.index_dir), "--n-ctx", "2048", "--gpu-layers", "0", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads(out)
    assert list(data["sections"]) == list(SECTION_NAMES)
    assert data["model"]["n_ctx"] == 2048 and data["model"]["gpu_layers"] == 0
    assert all(c["valid"] for c in data["citations"] if f"{c['path']}:{c['start_line']}" in data["answer"])


def test_cli_ask_without_index_says_what_to_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mentor_local.cli import run

    (tmp_path / "app.py").write_text("print('hi')\n")
    code = run(["ask", "why?", "--repo", str(tmp_path), "--index-dir", str(tmp_path / "no-index")])
    err = capsys.readouterr().err
    assert code == 2
    assert "mentor index" in err


def test_chat_template_path_through_create_chat_completion(saas_index: Any, llama_backend: Any) -> None:
    """The route a chat GGUF takes (per-section chat turns), run mechanically on the bundled model."""
    llama_backend.chat_template = True
    try:
        m = Mentor(saas_index, chat_model=llama_backend, section_tokens=12)
        answer = m.ask("How are passwords stored and checked?")
    finally:
        llama_backend.chat_template = False
    assert "messages" in m.last_trace[0] and m.last_trace[0]["messages"][0]["role"] == "system"
    assert re.findall(r"^### (.+)$", answer.answer, flags=re.M) == list(SECTION_NAMES)
    assert unbacked(answer) == []
