"""The real thing: tree-sitter + Chroma index, review, the bundled instruct models (slow).

The mechanics run on the small preset (0.5B) with capped tokens; one real question is answered by
the default 1.5B model.
"""

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


def unbacked(answer: Answer) -> list[tuple[str, int, int]]:
    ranges = [SourceRange(h.path, h.start_line, h.end_line) for h in answer.sources if h.source == "code"]
    ranges += [SourceRange(f.path, f.line, max(f.line, f.end_line)) for f in answer.findings]
    return [c for c in find_citations(answer.answer) if not is_backed(*c, ranges)]


def check_shape(answer: Answer, repo: Path) -> None:
    assert re.findall(r"^### (.+)$", answer.answer, flags=re.M) == list(SECTION_NAMES)
    assert all(answer.sections[n].strip() for n in SECTION_NAMES)
    assert unbacked(answer) == []
    for path in {c[0] for c in find_citations(answer.answer)}:
        assert (repo / path).is_file(), path  # the answer never shows a path that is not in the repo


@pytest.fixture(scope="module")
def mentor(saas_index: Any, llama_backend: Any) -> Mentor:
    return Mentor(saas_index, chat_model=llama_backend, max_tokens=96)


def test_the_default_model_explains_the_code_it_read(saas_index: Any, bundled_gguf: Path) -> None:
    from mentor_local.answer.backends.llama import LlamaBackend

    backend = LlamaBackend(bundled_gguf, n_ctx=4096, gpu_layers="0", threads=2, probe=False)
    m = Mentor(saas_index, chat_model=backend, max_tokens=220)
    answer = m.ask("How are passwords stored and checked?")
    check_shape(answer, Path(saas_index.repo))
    assert answer.model["chat_template"] is True and answer.timings["completion_tokens"] > 50
    model_text = answer.checks["model_text"]
    read = {h.symbol.rsplit(".", 1)[-1] for h in answer.sources if h.source == "code"}
    assert any(name in model_text for name in read), "the model names the code it was shown"


def test_six_sections_and_findings_in_code_quality_issues(mentor: Mentor) -> None:
    answer = mentor.ask("Where could the billing code hang or lose data?")
    assert mentor.index is not None
    check_shape(answer, Path(mentor.index.repo))
    assert any(h.source == "code" for h in answer.sources)
    for f in answer.findings:
        assert f"`{f.path}:{f.line}`" in answer.sections["Code Quality Issues"]
        assert any(h.path == f.path for h in answer.sources)  # only findings in the code read


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
    # The first eval call of each answer reads its prompt (what the cache did not hold).
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


def test_cli_ask_json(saas_index: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from mentor_local.cli import run

    monkeypatch.setenv("MENTOR_THREADS", "1")
    monkeypatch.setenv("MENTOR_MAX_TOKENS", "64")
    code = run(["ask", "How are passwords stored?", "--repo", str(saas_index.repo), "--model", "small",
                "--index-dir", str(saas_index.index_dir), "--n-ctx", "2048", "--gpu-layers", "0", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads(out)
    assert list(data["sections"]) == list(SECTION_NAMES)
    assert data["model"]["n_ctx"] == 2048 and data["model"]["gpu_layers"] == 0
    assert data["model"]["chat_template"] is True
    assert all(c["valid"] for c in data["citations"] if f"{c['path']}:{c['start_line']}" in data["answer"])


def test_cli_ask_without_index_says_what_to_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mentor_local.cli import run

    (tmp_path / "app.py").write_text("print('hi')\n")
    code = run(["ask", "why?", "--repo", str(tmp_path), "--index-dir", str(tmp_path / "no-index"), "--model", "small"])
    err = capsys.readouterr().err
    assert code == 2
    assert "mentor index" in err
