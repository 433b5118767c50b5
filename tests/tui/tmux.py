"""Drive a program in a detached tmux session on a private server: ``Tmux`` lives in scripts/harness/tmux.py,
shared with the runtime benchmark."""

from __future__ import annotations

from scripts.harness.tmux import Tmux

__all__ = ["Tmux"]
