"""Grounded answers: retrieval + facts + a local model, in the persona's six sections.

``Mentor`` is the entry point; see ``mentor.py`` for which part of an answer
comes from where.  Nothing heavy is imported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["Mentor"]

if TYPE_CHECKING:
    from mentor_local.answer.mentor import Mentor


def __getattr__(name: str) -> type[Mentor]:
    if name == "Mentor":
        from mentor_local.answer.mentor import Mentor

        return Mentor
    raise AttributeError(name)
