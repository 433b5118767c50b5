"""Hidden characters and terminal escapes never survive; line breaks always do."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentor_local.security.sanitize import has_hidden, sanitize
from scripts.harness.hostile import HIDDEN_CHARS, HOSTILE_TEXTS


@pytest.mark.parametrize("name", sorted(HOSTILE_TEXTS))
def test_hostile_texts_lose_every_hidden_character(name: str) -> None:
    text = HOSTILE_TEXTS[name]
    out = sanitize(text)
    assert not any(ch in out for ch in HIDDEN_CHARS)
    assert out.count("\n") == text.count("\n")
    assert sanitize(out) == out


def test_visible_text_of_escapes_is_kept() -> None:
    assert sanitize("a\x1b[1;31mred\x1b[0m b") == "ared b"
    assert sanitize("\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\") == "click"
    assert sanitize("\x1b]0;title\x07rest") == "rest"
    assert sanitize("tra\u200bnsfer") == "transfer"
    assert sanitize("if x != 'user\u202e \u2066# admin\u2069 \u2066':") == "if x != 'user # admin ':"
    assert sanitize("ok\U000e0049\U000e0047") == "ok"


def test_ordinary_text_is_unchanged() -> None:
    text = "def f(x):\n\treturn x  # café, 日本語, emoji 🙂, «quotes»\r\n"
    assert sanitize(text) == text and not has_hidden(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(HIDDEN_CHARS + list("ab \n\r\t[]/;\\"))) | st.text(max_size=200))
def test_fuzz_sanitize(text: str) -> None:
    out = sanitize(text)
    assert out.count("\n") == text.count("\n") and out.count("\r") == text.count("\r")
    assert not any(ch in out for ch in HIDDEN_CHARS)
    assert sanitize(out) == out
