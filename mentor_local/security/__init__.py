"""Text hygiene for everything read from the user's repo.

``sanitize`` strips invisible Unicode and terminal control sequences;
``redact`` replaces secrets with fixed markers.  Both keep every line break,
so line numbers computed on the cleaned text are the file's own.
"""

from __future__ import annotations

from mentor_local.security.redact import redact
from mentor_local.security.sanitize import sanitize


def clean(text: str) -> tuple[str, int]:
    """``sanitize`` then ``redact``: the form in which repo text may be stored, embedded or shown."""
    return redact(sanitize(text))


__all__ = ["clean", "redact", "sanitize"]
