"""The SQLite conversation store."""

from __future__ import annotations

from pathlib import Path

from mentor_local.tui.sessions import SessionStore, default_path


def test_roundtrip_list_and_export(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.sqlite3")
    a = store.new_conversation("/r1", "How do I add   retries\nto the email sender?")
    store.add_turn(a, "How do I add retries?", "### Learning Points\n\nUse backoff.", {"sources": ["app/email.py:1-5"]})
    store.add_turn(a, "And timeouts?", "Set them.")
    b = store.new_conversation("/r2", "other")
    convs = store.list_conversations()
    assert [c.id for c in convs] == [b, a]
    assert store.list_conversations("/r1")[0].turns == 2
    assert store.list_conversations("/r1")[0].title == "How do I add retries to the email sender?"
    turns = store.turns(a)
    assert [(t.question, t.answer) for t in turns][1] == ("And timeouts?", "Set them.")
    assert turns[0].meta == {"sources": ["app/email.py:1-5"]}
    md = store.export_markdown(a)
    assert md.startswith("# How do I add retries to the email sender?")
    assert "## Question 2\n\n> And timeouts?" in md and "- `app/email.py:1-5`" in md
    store.delete(a)
    assert store.turns(a) == [] and [c.id for c in store.list_conversations()] == [b]
    store.close()
    again = SessionStore(tmp_path / "s.sqlite3")  # persisted on disk
    assert [c.id for c in again.list_conversations()] == [b]
    again.close()


def test_default_path_is_in_app_home(tmp_path: Path) -> None:
    assert default_path(tmp_path) == tmp_path / "sessions.sqlite3"
