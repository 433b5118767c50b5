"""Saved conversations: the SQLite store (``store``) and what the app does with it (``service``)."""

from mentor_local.tui.sessions.store import ConversationInfo, SessionStore, Turn, default_path

__all__ = ["ConversationInfo", "SessionStore", "Turn", "default_path"]
