"""Hypothesis fuzzing of the chunkers, the ignore matcher and the citation checker (the redactor: test_redact.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mentor_local.answer.citations import SourceRange, check_citations, find_citations
from mentor_local.domain import Chunk
from mentor_local.indexing.chunk_python import chunk_python
from mentor_local.indexing.chunk_text import chunk_text
from mentor_local.indexing.discover import discover

EXAMPLES = int(os.environ.get("MENTOR_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


_NAME = st.sampled_from(["a", "run", "Handler", "get", "_x", "ÿ", "async_", "Z9"])
_STMT = st.sampled_from(["pass", "return 1", "x = (", "    ", "# comment", "'''doc", "if x:", "@decorator",
                         "yield", "raise", "await y", "lambda: 0", "\t", "\x0c", "))]}", "class", "def"])


@st.composite
def python_source(draw: st.DrawFn) -> str:
    """Python-ish source: real structure (classes, methods, decorators, nesting) with breakage mixed in."""
    out: list[str] = []
    for _ in range(draw(st.integers(0, 14))):
        depth = draw(st.integers(0, 3))
        pad = "    " * depth
        kind = draw(st.sampled_from(["def", "async def", "class", "stmt", "deco", "raw"]))
        if kind in ("def", "async def"):
            out.append(f"{pad}{kind} {draw(_NAME)}(self, a=1):")
            out.extend(f"{pad}    {draw(_STMT)}" for _ in range(draw(st.integers(0, 4))))
        elif kind == "class":
            out.append(f"{pad}class {draw(_NAME)}:")
        elif kind == "deco":
            out.append(f"{pad}@{draw(_NAME)}")
        elif kind == "stmt":
            out.append(pad + draw(_STMT))
        else:
            out.append(draw(st.text(max_size=30)))
    sep = draw(st.sampled_from(["\n", "\r\n", "\n", "\r"]))
    return sep.join(out) + draw(st.sampled_from(["", "\n", sep]))


def _check_ranges(chunks: list[Chunk], text: str) -> None:
    lines = _lines(text)
    for c in chunks:
        assert 1 <= c.start_line <= c.end_line <= len(lines), (c.start_line, c.end_line, len(lines))


@FUZZ
@given(python_source() | st.binary(max_size=400).map(lambda b: b.decode("utf-8", "replace")))
def test_fuzz_chunk_python_ranges_and_texts(text: str) -> None:
    chunks = chunk_python("pkg/mod.py", text)
    _check_ranges(chunks, text)
    lines = _lines(text)
    for c in chunks:
        if c.kind not in ("function", "method"):
            continue
        src = lines[c.start_line - 1:c.end_line]
        got = c.text.split("\n")
        if len(got) == len(src):
            # the chunk is the file's lines, except nested definitions elided to "..."
            assert all(g == s or g.strip() == "..." for g, s in zip(got, src, strict=True)), (got, src)
        else:
            assert all(g in src or g.strip() == "..." for g in got), (got, src)


@FUZZ
@given(st.sampled_from(["README.md", "notes.txt", "conf.toml", "c.yaml", "q.sql", "Dockerfile", "setup.cfg"]),
       st.lists(st.sampled_from(["# Title", "## Sub", "", "text line", "key = 1", "[section]", "- item", "```",
                                 "SELECT 1;", "FROM x", "\t", "   "]) | st.text(max_size=20).map(lambda s: [s]),
                max_size=80).map(lambda xs: "\n".join(x if isinstance(x, str) else "".join(x) for x in xs)))
def test_fuzz_chunk_text_ranges(path: str, text: str) -> None:
    chunks = chunk_text(path, text)
    _check_ranges(chunks, text)
    lines = _lines(text)
    for c in chunks:
        assert c.text.strip() == "\n".join(lines[c.start_line - 1:c.end_line]).strip() or c.text.strip() in "\n".join(
            lines[c.start_line - 1:c.end_line])


_SEG = st.sampled_from(["a", "b", "build", "src", "x.py", "y.md", "z.txt", "node", ".hidden", "n.pyc"])
# Negated folder patterns ("!a/", "!**/") are left out: see test_a_negated_folder_pattern_does_not_unignore_files.
_PATTERN = st.sampled_from(["*.py", "*.md", "a/", "/b", "b", "!x.py", "**/z.txt", "src/**", "a/*.py", "*",
                            "!*.md", "build/", "[ab]", "?.py", "\\#x", "# comment", "", " ", "a/**/y.md", "!/b/x.py",
                            "**", "x.py/", "*/", "/", "!!", "***", "["])


def _git_ignored(root: Path, paths: list[str]) -> set[str]:
    out = subprocess.run(["git", "check-ignore", "--no-index", "--stdin"], cwd=root, input="\n".join(paths),
                         capture_output=True, text=True)
    assert out.returncode in (0, 1), out.stderr
    return set(out.stdout.split())


@pytest.mark.skipif(shutil.which("git") is None, reason="git is the oracle for .gitignore semantics")
@FUZZ
@given(st.lists(st.lists(_SEG, min_size=1, max_size=3).map("/".join), min_size=1, max_size=10, unique=True),
       st.lists(_PATTERN, max_size=6), st.lists(_PATTERN, max_size=3))
def test_fuzz_discover_never_returns_an_ignored_file(paths: list[str], root_patterns: list[str],
                                                     nested_patterns: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        made: list[str] = []
        for rel in paths:
            p = root / rel
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
                if p.exists():
                    continue
                p.write_text("x = 1\n")
            except (FileExistsError, NotADirectoryError, IsADirectoryError):
                continue  # a path that is a file in one entry and a folder in another
            made.append(rel)
        (root / ".gitignore").write_text("\n".join(root_patterns) + "\n")
        if (root / "a").is_dir():
            (root / "a" / ".gitignore").write_text("\n".join(nested_patterns) + "\n")
        files, skipped = discover(root)
        returned = {f.path for f in files}
        assert returned <= set(made)
        ignored = _git_ignored(root, sorted(returned))
        assert not ignored, (ignored, root_patterns, nested_patterns)
        # every file is accounted for: returned, or skipped with a reason (itself or a folder above it)
        skipped_paths = {s.path for s in skipped}
        for rel in made:
            parents = {"/".join(rel.split("/")[:i]) + "/" for i in range(1, rel.count("/") + 1)}
            assert rel in returned or rel in skipped_paths or parents & skipped_paths, rel


@pytest.mark.parametrize("line", ["!", "\\"])
def test_an_invalid_gitignore_line_does_not_stop_discovery(tmp_path: Path, line: str) -> None:
    (tmp_path / "keep.py").write_text("x = 1\n")
    (tmp_path / "drop.md").write_text("# x\n")
    (tmp_path / ".gitignore").write_text(f"{line}\n*.md\n")
    files, _ = discover(tmp_path)
    assert [f.path for f in files] == ["keep.py"]


def test_a_negated_folder_pattern_does_not_unignore_files(tmp_path: Path) -> None:
    (tmp_path / "a" / "a").mkdir(parents=True)
    (tmp_path / "a" / "a" / "y.md").write_text("# y\n")
    (tmp_path / "a" / ".gitignore").write_text("*.md\n!**/\n")
    files, _ = discover(tmp_path)
    assert files == []


_CITE = st.builds(lambda p, a, b: f"{p}:{a}" + (f"-{b}" if b else ""),
                  st.sampled_from(["app/db.py", "a.py", "pkg/mod/x.py", "README.md", "knowledge/card.md"]),
                  st.integers(0, 60), st.one_of(st.none(), st.integers(0, 60)))
_WORDS = st.sampled_from(["see", "the", "`", "(", ")", "[", "]", ",", ".", "\n", " ", "foo()", "x.y", "-", "–"])


@FUZZ
@given(st.lists(_CITE | _WORDS | st.text(max_size=8), max_size=40).map(" ".join),
       st.lists(st.builds(lambda p, a, n: (p, a, a + n), st.sampled_from(["app/db.py", "a.py", "README.md"]),
                          st.integers(1, 40), st.integers(0, 20)), max_size=4))
def test_fuzz_citation_checker(text: str, ranges: list[tuple[str, int, int]]) -> None:
    sources = [SourceRange(p, a, b) for p, a, b in ranges]
    cleaned, cites = check_citations(text, sources)
    for c in cites:
        backed = any(s.path == c.path and s.start_line <= c.start_line and c.end_line <= s.end_line for s in sources)
        assert c.valid == backed
        assert c.start_line <= c.end_line
    for path, start, end in find_citations(cleaned):
        assert any(s.path == path and s.start_line <= start and end <= s.end_line for s in sources), (path, start, end)
