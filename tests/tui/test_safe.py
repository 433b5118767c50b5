"""Text from repos is shown as text; path:line citations become viewer links."""

from __future__ import annotations

from pathlib import Path

from mentor_local.tui.safe import Ref, clean, find_refs, linkify, parse_href, resolve_in


def test_clean_strips_escape_sequences_and_controls() -> None:
    raw = "ok \x1b[31mred\x1b[0m \x1b]8;;https://x.test\x07link\x1b]8;;\x07 bell\x07 csi\x9b2J tab\tnl\n"
    out = clean(raw)
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert "red" in out and "link" in out and "\t" in out and out.endswith("\n")
    assert clean("a\r\nb\rc") == "a\nb\nc"


def test_find_refs_ranges_and_dedup() -> None:
    text = "see app/db.py:9-11 and app/views.py:7, again app/db.py:9-11; not 3.11:5 or http://x.io:80"
    assert find_refs(text) == [Ref("app/db.py", 9, 11), Ref("app/views.py", 7, 7)]


def test_linkify_plain_code_span_and_fence() -> None:
    md = "Look at app/db.py:9-11.\n\n`app/views.py:7` and `x = app/views.py:7`\n\n```python\n# app/db.py:1\n```\n[a](b)"
    out = linkify(md)
    assert "[app/db.py:9-11](cite:app/db.py:9-11)" in out
    assert "[`app/views.py:7`](cite:app/views.py:7-7)" in out
    assert "`x = app/views.py:7`" in out  # a longer code span stays as it is
    assert "# app/db.py:1\n" in out  # nothing changes inside a fenced block
    assert out.endswith("[a](b)")


def test_parse_href_accepts_only_citations() -> None:
    assert parse_href("cite:app/db.py:9-11") == Ref("app/db.py", 9, 11)
    assert parse_href("app/db.py:4") == Ref("app/db.py", 4, 4)
    assert parse_href("https://example.com") is None
    assert parse_href("javascript:alert(1)") is None
    assert parse_href("cite://evil:3") is None


def test_resolve_in_refuses_escapes(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "a").mkdir(parents=True)
    (root / "a" / "x.py").write_text("x = 1\n")
    (tmp_path / "secret.txt").write_text("no")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    assert resolve_in(root, "a/x.py") == (root / "a" / "x.py").resolve()
    assert resolve_in(root, "../secret.txt") is None
    assert resolve_in(root, "link.txt") is None
    assert resolve_in(root, "a") is None
