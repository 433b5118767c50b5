"""mentor-local: an offline Python mentor for SaaS backend developers.

The public API::

    from mentor_local import build_index, open_index, Mentor, review, profile

Names are imported lazily so that ``import mentor_local`` stays light (the TUI
paints before any heavy library loads).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = [
    "Answer",
    "Finding",
    "Hit",
    "Index",
    "IndexReport",
    "Mentor",
    "RepoProfile",
    "build_index",
    "open_index",
    "profile",
    "review",
]

_LAZY = {
    "Answer": "mentor_local.domain",
    "Finding": "mentor_local.domain",
    "Hit": "mentor_local.domain",
    "IndexReport": "mentor_local.domain",
    "RepoProfile": "mentor_local.domain",
    "Index": "mentor_local.index",
    "build_index": "mentor_local.index",
    "open_index": "mentor_local.index",
    "Mentor": "mentor_local.answer.mentor",
    "review": "mentor_local.analysis.review",
    "profile": "mentor_local.analysis.profile",
}

if TYPE_CHECKING:
    from mentor_local.analysis.profile import profile
    from mentor_local.analysis.review import review
    from mentor_local.answer.mentor import Mentor
    from mentor_local.domain import Answer, Finding, Hit, IndexReport, RepoProfile
    from mentor_local.index import Index, build_index, open_index


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mentor_local' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
