"""Strip invisible Unicode and terminal control sequences from repo text.

Repo text is data: it must not hide instructions from a reader (tag
characters, bidi overrides, zero-width characters) nor drive a terminal
(ANSI/OSC escape sequences, C0/C1 controls).  Line breaks (``\\n`` and
``\\r``, the ones the chunkers count) and tabs are kept, so line numbers do
not move.
"""

from __future__ import annotations

import re

# Escape sequences first (so their parameters go with them), then single characters.
_ESCAPES = re.compile(
    r"""
      \x1b\][^\x07\x1b\x9c\n\r]*(?:\x07|\x1b\\|\x9c)?      # OSC (hyperlinks, titles), BEL/ST terminated
    | \x1b[P^_X][^\x1b\x9c\n\r]*(?:\x1b\\|\x9c)?           # DCS / PM / APC / SOS strings
    | \x1b\[[0-?]*[ -/]*[@-~]?                            # CSI (colours, cursor moves, erase)
    | \x9b[0-?]*[ -/]*[@-~]?                              # 8-bit CSI
    | \x9d[^\x07\x1b\x9c\n\r]*(?:\x07|\x1b\\|\x9c)?         # 8-bit OSC
    | \x1b[ -/]*[0-~]?                                    # any other ESC sequence (or a lone ESC)
    """,
    re.VERBOSE,
)
_INVISIBLE = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f"  # C0 controls except \t \n \r; DEL
    "\x80-\x9f"  # C1 controls
    "\u00ad"  # soft hyphen
    "\u061c"  # Arabic letter mark (bidi)
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers (render as blanks)
    "\u180e"  # Mongolian vowel separator
    "\u200b-\u200f"  # zero-width space/joiners, LRM, RLM
    "\u2028\u2029"  # line/paragraph separators (not line breaks for our chunkers)
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2060-\u2064"  # word joiner, invisible operators
    "\u2066-\u2069"  # bidi isolates
    "\u206a-\u206f"  # deprecated format characters
    "\ufeff"  # BOM / zero-width no-break space
    "\ufff9-\ufffb"  # interlinear annotations
    "\U0001d173-\U0001d17a"  # musical invisible format characters
    "\U000e0000-\U000e007f"  # tag characters (invisible ASCII smuggling)
)
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")


def sanitize(text: str) -> str:
    """Return ``text`` without escape sequences, control characters or invisible format characters."""
    if text.isascii() and text.isprintable():
        return text  # fast path: nothing to strip (a line break makes isprintable() false)
    return _INVISIBLE_RE.sub("", _ESCAPES.sub("", text))


def has_hidden(text: str) -> bool:
    """Whether ``sanitize`` would change ``text``."""
    return sanitize(text) != text
