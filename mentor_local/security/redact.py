"""Replace secrets in repo text with fixed markers, in the spirit of gitleaks' rule set.

Each rule names a kind of secret; a match is replaced by ``«redacted:<rule>»``.
Every line break inside a match is kept after the marker, so the text keeps
its line count and every other line stays where it was: line numbers cited
from redacted text are the file's own.  Redaction is idempotent (a marker
never matches a rule) and runs before chunking, so secrets never reach the
embedder, the keyword index, the vector store, the model or the screen.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate

MARK = "«redacted:{}»"
_MARK_PREFIX = "«redacted:"
_BREAKS = frozenset("\n\r")


@dataclass(frozen=True)
class Rule:
    """``group`` is the part replaced (0: the whole match); ``check`` may veto a match (a placeholder)."""

    id: str
    pattern: re.Pattern[str]
    group: int = 0
    check: Callable[[str], bool] | None = None
    needles: tuple[str, ...] = ()  # lowercase literals one of which every match contains: a cheap pre-filter


def _shannon(value: str) -> float:
    counts: dict[str, int] = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values()) if n else 0.0


_PLACEHOLDER_WORDS = frozenset(
    "password passwd pass pwd secret secrets token apikey api_key key changeme change_me changeit example "
    "sample dummy test testing fake placeholder none null nil true false redacted hidden masked todo fixme "
    "xxx yyy zzz foo bar baz qux foobar admin root user username guest default empty string value your".split()
)
_TEMPLATE = re.compile(r"^(?:\$\{?\w+\}?|\{\{.*\}\}|\{[\w.]*\}|%\(?\w*\)?s|<[^>]*>|\[[^\]]*\]|\*+|x+|\.+|-+|#+)$", re.I)


def is_placeholder(value: str) -> bool:
    """An empty, templated, masked or dictionary-word value is a placeholder, not a secret."""
    v = value.strip()
    if len(v) < 4 or _MARK_PREFIX in v or _TEMPLATE.match(v):
        return True
    low = v.lower()
    if low in _PLACEHOLDER_WORDS or re.fullmatch(r"(?:your|my|some|an?|the|enter|insert|put)[-_ ].*", low):
        return True
    if low.startswith(("env:", "vault:", "secret:", "os.environ", "getenv")):
        return True
    if " " in v:  # prose ("Enter your password"), not a credential
        return True
    return len(set(low)) <= 2  # "aaaa", "xxxx-xxxx"


def _generic_ok(value: str) -> bool:
    return not is_placeholder(value) and not re.fullmatch(r"[a-z]+(?:[._-][a-z]+)*", value) or (
        len(value) >= 12 and _shannon(value) >= 3.5 and not is_placeholder(value))


def _unquoted_ok(value: str) -> bool:
    # An unquoted value is usually an expression (``password = form.password``); only credential-looking ones count.
    if is_placeholder(value) or re.search(r"[()\[\]{}]", value) or re.fullmatch(r"[A-Za-z_][\w.]*", value) and not (
            re.search(r"\d", value) and re.search(r"[A-Za-z]", value) and len(value) >= 8 and "." not in value):
        return False
    return len(value) >= 8 and (_shannon(value) >= 3.0 or bool(re.search(r"\d", value)))


_SENSITIVE_NAME_RE = (r"[A-Za-z0-9_.\-]*(?:passw(?:or)?d|passwd|pwd|secret|api[_\-.]?key|apikey|access[_\-.]?key|auth[_\-.]?key"
                r"|auth[_\-.]?token|access[_\-.]?token|refresh[_\-.]?token|bearer[_\-.]?token|client[_\-.]?secret"
                r"|private[_\-.]?key|signing[_\-.]?key|encryption[_\-.]?key|token|credential)s?")
# Names that merely mention a secret: where it lives or what it is called, not the secret itself.
_NOT_SENSITIVE_NAME_RE = re.compile(r"(?:_|-|\.)(?:url|uri|endpoint|name|names|field|fields|type|header|prefix|suffix|path|file"
                              r"|env|var|len|length|min|max|expiry|expires|ttl|timeout|algorithm|alg|id|kind|label|help"
                              r"|hint|regex|pattern|format|policy|rotation|count)$", re.I)

_BEGIN = ("-----begin",)
RULES: tuple[Rule, ...] = (
    Rule("private-key", re.compile(
        r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----"),
        needles=_BEGIN),
    # A block cut off before its END line: the header and the base64 lines after it.
    Rule("private-key", re.compile(
        r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?:[^\n]*\n(?:[A-Za-z0-9+/=:\-, \t\r]*\n)*[A-Za-z0-9+/=]*)?"),
        needles=_BEGIN),
    Rule("aws-access-key", re.compile(r"(?<![A-Z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)"
                                      r"[A-Z2-7]{16}(?![A-Z0-9])"),
         needles=("a3t", "akia", "asia", "abia", "acca", "agpa", "aida", "aroa", "aipa", "anpa", "anva", "apka")),
    Rule("aws-secret-key", re.compile(
        r"(?i)aws[\w.\-]{0,20}?(?:secret|private)[\w.\-]{0,20}?[\"']?\s*(?:=|:|=>|:=|,)\s*[\"']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"),
        group=1, needles=("aws",)),
    Rule("anthropic-api-key", re.compile(r"\bsk-ant-(?:api|admin|sid)\d{2}-[A-Za-z0-9_\-]{20,}"), needles=("sk-ant-",)),
    Rule("openai-api-key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_\-]*T3BlbkFJ[A-Za-z0-9_\-]{20,}"
                                      r"|\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}|\bsk-[A-Za-z0-9]{40,}"), needles=("sk-",)),
    Rule("github-token", re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b|\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
         needles=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")),
    Rule("gitlab-token", re.compile(r"\bgl(?:pat|dt|ptt|rt|oas|cbt|imt|agent|ft|soat|ffct)-[A-Za-z0-9_\-]{20,}"), needles=("glpat-", "gldt-", "glptt-", "glrt-", "gloas-", "glcbt-", "glimt-", "glagent-", "glft-",
                                                                               "glsoat-", "glffct-")),
    Rule("slack-token", re.compile(r"\bxox[abposre]-(?:\d+-)?[A-Za-z0-9\-]{10,}|\bxapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+"),
         needles=("xox", "xapp-")),
    Rule("slack-webhook", re.compile(r"https?://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_\-]{20,}"),
         needles=("hooks.slack.com",)),
    Rule("stripe-key", re.compile(r"\b(?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,99}\b|\bwhsec_[A-Za-z0-9]{24,}\b"),
         needles=("sk_", "rk_", "whsec_")),
    Rule("sendgrid-api-key", re.compile(r"\bSG\.[A-Za-z0-9_\-]{20,24}\.[A-Za-z0-9_\-]{39,50}\b"), needles=("sg.",)),
    Rule("twilio-api-key", re.compile(r"\bSK[0-9a-fA-F]{32}\b")),
    Rule("gcp-api-key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])"), needles=("aiza",)),
    Rule("gcp-oauth-secret", re.compile(r"\bGOCSPX-[A-Za-z0-9_\-]{28}\b"), needles=("gocspx-",)),
    Rule("azure-storage-key", re.compile(r"(?i)(?:AccountKey|SharedAccessKey|SharedAccessSignature|sig)=([A-Za-z0-9+/%]{20,}={0,2})"),
         group=1, needles=("accountkey=", "sharedaccess", "sig=")),
    Rule("azure-ad-client-secret", re.compile(
        r"(?<![A-Za-z0-9_~.\-])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}(?![A-Za-z0-9_~.\-])"), needles=("q~",)),
    Rule("huggingface-token", re.compile(r"\bhf_[A-Za-z]{34}\b"), needles=("hf_",)),
    Rule("npm-token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), needles=("npm_",)),
    Rule("pypi-token", re.compile(r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}"), needles=("pypi-",)),
    Rule("jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"), needles=("eyj",)),
    Rule("connection-password", re.compile(
        r"\b[A-Za-z][A-Za-z0-9+.\-]{1,30}://[^\s:/@\"'`<>]{0,128}:([^\s@/\"'`<>]{1,256})@[A-Za-z0-9_.\-\[\]]"),
        group=1, check=lambda v: not is_placeholder(v) or v.lower() in {"pass", "password", "secret", "admin", "root"},
        needles=("://",)),
)
# Assignments to secret-named variables: run line by line, on lines that mention such a name.
_NAME_HINT = re.compile(r"(?i)pass|pwd|secret|key|token|credential")
GENERIC_RULES: tuple[Rule, ...] = (
    Rule("generic-secret", re.compile(
        rf"(?i)(?<![A-Za-z0-9_.\-])(?:--)?({_SENSITIVE_NAME_RE})[\"']?[ \t]*(?::[ \t]*[A-Za-z_][\w\[\], |.]{{0,60}}?[ \t]*)?"
        r"(?:=|:|=>|:=|==)[ \t]*[bruf]{0,2}([\"'`])([^\"'`\n]{1,400})\2"),
        group=3, check=_generic_ok),
    Rule("generic-secret", re.compile(
        rf"(?i)^[ \t]*(?:export[ \t]+|set[ \t]+|-[ \t]+)?({_SENSITIVE_NAME_RE})[ \t]*(?:=|:)[ \t]*([^\s\"'`#,;]{{4,400}})[ \t]*(?:#.*)?$"),
        group=2, check=_unquoted_ok),
)


def _name_allows(match: re.Match[str]) -> bool:
    name = match.group(1) if match.re.groups >= 2 else ""
    return not (name and _NOT_SENSITIVE_NAME_RE.search(name))


def _marker(rule_id: str, secret: str) -> str:
    return MARK.format(rule_id) + "".join(ch for ch in secret if ch in _BREAKS)


class _Counter:
    def __init__(self) -> None:
        self.n = 0

    def replacer(self, rule: Rule) -> Callable[[re.Match[str]], str]:
        def repl(m: re.Match[str]) -> str:
            secret = m.group(rule.group)
            if not secret or _MARK_PREFIX in secret:
                return m.group(0)
            if rule.group and not _name_allows(m):
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


def _candidate_offsets(text: str) -> list[int]:
    low = text.lower()
    out: list[int] = []
    for needle in _NEEDLES:
        i = low.find(needle)
        while i != -1:
            out.append(i)
            i = low.find(needle, i + 1)
    out.extend(m.start() for m in _TWILIO_HINT.finditer(text))
    return out


_MULTILINE = tuple(r for r in RULES if r.id == "private-key")
_SINGLE_LINE = tuple(r for r in RULES if r.id != "private-key") + GENERIC_RULES


def redact(text: str) -> tuple[str, int]:
    """Return ``text`` with every secret replaced by ``«redacted:<rule>»``, and how many were replaced."""
    counter = _Counter()
    if "-----BEGIN" in text:
        for rule in _MULTILINE:
            text = rule.pattern.sub(counter.replacer(rule), text)
    lines = text.splitlines(keepends=True)
    ends = list(accumulate(len(line) for line in lines))
    todo = sorted({bisect_right(ends, m) for m in _candidate_offsets(text)})
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
