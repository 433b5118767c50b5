"""Widgets of the terminal app: prompt, chat, sources, findings, status bar."""
