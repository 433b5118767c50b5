"""Replace secrets in repo text with fixed markers, in the spirit of gitleaks' rule set.

What counts as a secret (provider token formats, credential names, placeholders) is decided in
``security/secrets.py``, the detector the review's hardcoded-secret rule uses too; this module finds
the secrets in text and replaces them.  Each rule names a kind of secret; a match is replaced by ``«redacted:<rule>»``.
Every line break inside a match is kept after the marker, so the text keeps
its line count and every other line stays where it was: line numbers cited
from redacted text are the file's own.  Redaction is idempotent (a marker
never matches a rule) and runs before chunking, so secrets never reach the
embedder, the keyword index, the vector store, the model or the screen.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate

from mentor_local.security.secrets import (
    CREDENTIAL_NAME_PATTERN,
    MARK_PREFIX,
    TOKEN_FORMATS,
    secret_value,
    url_password,
)

MARK = MARK_PREFIX + "{}»"
_BREAKS = frozenset("\n\r")


@dataclass(frozen=True)
class Rule:
    """``group`` is the part replaced (0: the whole match); ``check`` may veto a match (a placeholder)."""

    id: str
    pattern: re.Pattern[str]
    group: int = 0
    check: Callable[[str], bool] | None = None
    needles: tuple[str, ...] = ()  # lowercase literals one of which every match contains: a cheap pre-filter


RULES: tuple[Rule, ...] = (
    *(Rule(f.id, f.pattern, f.group, needles=f.needles) for f in TOKEN_FORMATS),
    Rule("connection-password", re.compile(
        r"\b[A-Za-z][A-Za-z0-9+.\-]{1,30}://[^\s:/@\"'`<>]{0,128}:([^\s@/\"'`<>]{1,256})@[A-Za-z0-9_.\-\[\]]"),
        group=1, check=lambda v: url_password(v, "redact"), needles=("://",)),
)
# Assignments to secret-named variables: run line by line, on lines that mention such a name.
_NAME_HINT = re.compile(r"(?i)pass|pwd|secret|key|token|credential")
GENERIC_RULES: tuple[Rule, ...] = (
    Rule("generic-secret", re.compile(
        rf"(?i)(?<![A-Za-z0-9_.\-])(?:--)?({CREDENTIAL_NAME_PATTERN})[\"']?[ \t]*(?::[ \t]*[A-Za-z_][\w\[\], |.]{{0,60}}?[ \t]*)?"
        r"(?:=|:|=>|:=|==)[ \t]*[bruf]{0,2}([\"'`])([^\"'`\n]{1,400})\2"),
        group=3, check=lambda v: secret_value(v, "redact")),
    Rule("generic-secret", re.compile(
        rf"(?i)^[ \t]*(?:export[ \t]+|set[ \t]+|-[ \t]+)?({CREDENTIAL_NAME_PATTERN})[ \t]*(?:=|:)[ \t]*([^\s\"'`#,;]{{4,400}})[ \t]*(?:#.*)?$"),
        group=2, check=lambda v: secret_value(v, "redact", quoted=False)),
)


def _marker(rule_id: str, secret: str) -> str:
    return MARK.format(rule_id) + "".join(ch for ch in secret if ch in _BREAKS)


class _Counter:
    def __init__(self) -> None:
        self.n = 0

    def replacer(self, rule: Rule) -> Callable[[re.Match[str]], str]:
        def repl(m: re.Match[str]) -> str:
            secret = m.group(rule.group)
            if not secret or MARK_PREFIX in secret:
                return m.group(0)
            if rule.check is not None and not rule.check(secret):
                return m.group(0)
            self.n += 1
            if rule.group == 0:
                return _marker(rule.id, secret)
            base = m.start(0)
            start, end = m.span(rule.group)
            whole = m.group(0)
            return whole[:start - base] + _marker(rule.id, secret) + whole[end - base:]

        return repl


# Every single-line rule's match contains one of these (lowercased) or matches _TWILIO_HINT: other lines are skipped.
_NEEDLES = tuple(sorted({n for r in RULES if r.id != "private-key" for n in r.needles} - {"sk", "gl"} | {
    "glpat-", "gldt-", "glptt-", "glrt-", "gloas-", "glcbt-", "glimt-", "glagent-", "glft-", "glsoat-", "glffct-",
    "pass", "pwd", "secret", "key", "token", "credential"}))
_TWILIO_HINT = re.compile(r"SK[0-9a-fA-F]{32}")


def _candidate_lines(text: str, lines: list[str]) -> list[int]:
    """The indexes of the lines that hold a needle or a Twilio-shaped key: only these can hold a single-line secret."""
    low = text.lower()
    if len(low) != len(text):
        # a character whose lower case is longer ("İ" -> "i̇") would shift every offset after it: go line by line
        return [i for i, line in enumerate(lines)
                if any(n in line.lower() for n in _NEEDLES) or _TWILIO_HINT.search(line)]
    offsets: list[int] = []
    for needle in _NEEDLES:
        i = low.find(needle)
        while i != -1:
            offsets.append(i)
            i = low.find(needle, i + 1)
    offsets.extend(m.start() for m in _TWILIO_HINT.finditer(text))
    ends = list(accumulate(len(line) for line in lines))
    return sorted({bisect_right(ends, m) for m in offsets})


_MULTILINE = tuple(r for r in RULES if r.id == "private-key")
_SINGLE_LINE = tuple(r for r in RULES if r.id != "private-key") + GENERIC_RULES


def redact(text: str) -> tuple[str, int]:
    """Return ``text`` with every secret replaced by ``«redacted:<rule>»``, and how many were replaced."""
    counter = _Counter()
    if "-----BEGIN" in text:
        for rule in _MULTILINE:
            text = rule.pattern.sub(counter.replacer(rule), text)
    lines = text.splitlines(keepends=True)
    todo = _candidate_lines(text, lines)
    for i in todo:
        line = lines[i]
        low = line.lower()
        for rule in _SINGLE_LINE:
            if rule.needles and not any(n in low for n in rule.needles):
                continue
            if rule in GENERIC_RULES and not _NAME_HINT.search(line):
                continue
            line = rule.pattern.sub(counter.replacer(rule), line)
        lines[i] = line
    return ("".join(lines) if todo else text), counter.n
