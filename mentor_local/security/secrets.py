"""What looks like a secret: the one detector behind redaction and the review's hardcoded-secret rule.

It answers four questions from one set of tables:

* is this value a provider token (``TOKEN_FORMATS``, ``known_token``): a secret by its shape alone;
* how random is it (``shannon_entropy``);
* does this name hold a credential (``CREDENTIAL_NAME_PATTERN`` to find one in text, ``is_credential_name``
  for one identifier);
* is this value a placeholder, not a secret (``is_placeholder``).

Its two users need different amounts of evidence, and say which through ``secret_value``'s ``purpose``:
``"redact"`` (``security/redact.py``) hides whatever may be a credential, because a secret it misses reaches the
index, the model and the screen; ``"report"`` (``analysis/rules/secrets.py``) flags only what a person should
move out of the code, because a false finding teaches them to ignore the review.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

Purpose = Literal["redact", "report"]

MARK_PREFIX = "«redacted:"
"""How a redaction marker starts: a value holding one has been redacted already, so it is never a secret again."""


# --- provider tokens -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenFormat:
    """A kind of secret and its pattern. ``group`` is the part that is secret (0: the whole match);
    ``needles`` are lowercase literals one of which every match contains (a cheap pre-filter)."""

    id: str
    pattern: re.Pattern[str]
    group: int = 0
    needles: tuple[str, ...] = ()


_BEGIN = ("-----begin",)
# Secrets a provider issues with a recognisable shape, in the spirit of gitleaks' rule set. A format with
# ``group`` 0 is a secret by its shape alone; the others need what stands before the value (``AccountKey=``).
TOKEN_FORMATS: tuple[TokenFormat, ...] = (
    TokenFormat("private-key", re.compile(
        r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----"),
        needles=_BEGIN),
    # A block cut off before its END line: the header and the base64 lines after it.
    TokenFormat("private-key", re.compile(
        r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?:[^\n]*\n(?:[A-Za-z0-9+/=:\-, \t\r]*\n)*[A-Za-z0-9+/=]*)?"),
        needles=_BEGIN),
    TokenFormat("aws-access-key", re.compile(r"(?<![A-Z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA"
                                             r"|ANVA|APKA)[A-Z2-7]{16}(?![A-Z0-9])"),
                needles=("a3t", "akia", "asia", "abia", "acca", "agpa", "aida", "aroa", "aipa", "anpa", "anva", "apka")),
    TokenFormat("aws-secret-key", re.compile(
        r"(?i)aws[\w.\-]{0,20}?(?:secret|private)[\w.\-]{0,20}?[\"']?\s*(?:=|:|=>|:=|,)\s*[\"']?([A-Za-z0-9/+=]{40})"
        r"(?![A-Za-z0-9/+=])"), group=1, needles=("aws",)),
    TokenFormat("anthropic-api-key", re.compile(r"\bsk-ant-(?:api|admin|sid)\d{2}-[A-Za-z0-9_\-]{20,}"),
                needles=("sk-ant-",)),
    TokenFormat("openai-api-key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_\-]*T3BlbkFJ[A-Za-z0-9_\-]{20,}"
                                             r"|\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}|\bsk-[A-Za-z0-9]{40,}"),
                needles=("sk-",)),
    TokenFormat("github-token", re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b|\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
                needles=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")),
    TokenFormat("gitlab-token", re.compile(r"\bgl(?:pat|dt|ptt|rt|oas|cbt|imt|agent|ft|soat|ffct)-[A-Za-z0-9_\-]{20,}"),
                needles=("glpat-", "gldt-", "glptt-", "glrt-", "gloas-", "glcbt-", "glimt-", "glagent-", "glft-",
                         "glsoat-", "glffct-")),
    TokenFormat("slack-token", re.compile(r"\bxox[abposre]-(?:\d+-)?[A-Za-z0-9\-]{10,}|\bxapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+"),
                needles=("xox", "xapp-")),
    TokenFormat("slack-webhook", re.compile(r"https?://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_\-]{20,}"),
                needles=("hooks.slack.com",)),
    TokenFormat("stripe-key", re.compile(r"\b(?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,99}\b|\bwhsec_[A-Za-z0-9]{24,}\b"),
                needles=("sk_", "rk_", "whsec_")),
    TokenFormat("sendgrid-api-key", re.compile(r"\bSG\.[A-Za-z0-9_\-]{20,24}\.[A-Za-z0-9_\-]{39,50}\b"), needles=("sg.",)),
    TokenFormat("twilio-api-key", re.compile(r"\bSK[0-9a-fA-F]{32}\b")),
    TokenFormat("gcp-api-key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])"), needles=("aiza",)),
    TokenFormat("gcp-oauth-secret", re.compile(r"\bGOCSPX-[A-Za-z0-9_\-]{28}\b"), needles=("gocspx-",)),
    TokenFormat("azure-storage-key", re.compile(
        r"(?i)(?:AccountKey|SharedAccessKey|SharedAccessSignature|sig)=([A-Za-z0-9+/%]{20,}={0,2})"),
        group=1, needles=("accountkey=", "sharedaccess", "sig=")),
    TokenFormat("azure-ad-client-secret", re.compile(
        r"(?<![A-Za-z0-9_~.\-])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}(?![A-Za-z0-9_~.\-])"), needles=("q~",)),
    TokenFormat("huggingface-token", re.compile(r"\bhf_[A-Za-z]{34}\b"), needles=("hf_",)),
    TokenFormat("npm-token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), needles=("npm_",)),
    TokenFormat("pypi-token", re.compile(r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}"), needles=("pypi-",)),
    TokenFormat("jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"), needles=("eyj",)),
)


def known_token(value: str) -> bool:
    """``value`` starts with a provider token: a secret whatever name holds it."""
    return any(f.group == 0 and f.pattern.match(value) for f in TOKEN_FORMATS)


# --- randomness ------------------------------------------------------------------------------------------------


def shannon_entropy(value: str) -> float:
    """Bits per character: about 4 and more for random tokens, under 3 for words."""
    counts: dict[str, int] = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values()) if n else 0.0


# --- credential names ------------------------------------------------------------------------------------------

# A name in free text (config files, env files, code) that ends in what a credential is called: ``DB_PASSWORD``,
# ``stripe.api-key``, ``client_secret``. A regular-expression fragment, for finding ``name = value`` in text.
CREDENTIAL_NAME_PATTERN = (
    r"[A-Za-z0-9_.\-]*(?:passw(?:or)?d|passwd|pwd|secret|api[_\-.]?key|apikey|access[_\-.]?key|auth[_\-.]?key"
    r"|auth[_\-.]?token|access[_\-.]?token|refresh[_\-.]?token|bearer[_\-.]?token|client[_\-.]?secret"
    r"|private[_\-.]?key|signing[_\-.]?key|encryption[_\-.]?key|token|credential)s?"
)
CREDENTIAL_WORDS = frozenset({"password", "passwd", "pwd", "passphrase", "secret", "token", "apikey", "credential",
                              "credentials"})
"""Words a credential's name ends in (``db_password``, ``accessToken``)."""
KEY_QUALIFIERS = frozenset({"api", "access", "secret", "private", "signing", "encryption", "auth", "client", "app",
                            "master", "webhook", "jwt", "session", "license", "service", "account", "stripe", "aws",
                            "openai", "sendgrid"})
"""Words that make a ``..._key`` name a credential (``api_key``, ``signing_key``; not ``cache_key``)."""
NOT_SECRET_PARTS = frozenset({
    "type", "url", "uri", "endpoint", "field", "name", "header", "prefix", "len", "length", "path", "file", "env", "var",
    "expire", "expires", "expiry", "ttl", "min", "max", "pattern", "regex", "param", "label", "id", "key", "column",
    "col", "algorithm", "alg", "kind", "format", "hint", "placeholder", "help", "message", "msg", "text", "title",
    "description", "error", "template", "reset", "policy", "scheme", "location", "dir", "count", "limit", "version",
    "attr", "attribute", "validator", "strength", "rule", "rules", "salt_rounds", "rounds", "hash", "hashed",
    "lifetime", "minutes", "seconds", "days", "hours", "timeout", "audience", "issuer", "scope", "scopes", "class",
})
"""Name parts that say the name is about a credential, not one: ``password_field``, ``token_url``, ``secret_ttl``."""


def name_parts(name: str) -> list[str]:
    """``accessToken`` / ``access_token`` / ``ACCESS-TOKEN`` -> ``["access", "token"]``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [p for p in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if p]


def is_credential_name(name: str) -> bool:
    """An identifier that holds a credential: it ends in what it holds (``token_use`` holds a use, not a token)
    and no part of it says it is about one (``password_field``)."""
    parts = name_parts(name)
    about = NOT_SECRET_PARTS - {"key"}
    if not parts or parts[-1] in about:
        return False
    if parts[-1] in CREDENTIAL_WORDS:
        return not (set(parts) & about)
    return parts[-1] == "key" and len(parts) >= 2 and parts[-2] in KEY_QUALIFIERS


# --- placeholders ----------------------------------------------------------------------------------------------

PLACEHOLDER_WORDS = frozenset(
    "password passwd pass pwd secret secrets token apikey api_key key changeme change_me changeit example "
    "sample dummy test testing fake placeholder none null nil true false redacted hidden masked todo fixme "
    "xxx yyy zzz foo bar baz qux foobar admin root user username guest default empty string value your".split()
)
_TEMPLATE = re.compile(r"^(?:\$\{?\w+\}?|\{\{.*\}\}|\{[\w.]*\}|%\(?\w*\)?s|<[^>]*>|\[[^\]]*\]|\*+|x+|\.+|-+|#+)$", re.I)


def is_placeholder(value: str) -> bool:
    """An empty, templated, masked or dictionary-word value is a placeholder, not a secret."""
    v = value.strip()
    if len(v) < 4 or MARK_PREFIX in v or _TEMPLATE.match(v):
        return True
    low = v.lower()
    if low in PLACEHOLDER_WORDS or re.fullmatch(r"(?:your|my|some|an?|the|enter|insert|put)[-_ ].*", low):
        return True
    if low.startswith(("env:", "vault:", "secret:", "os.environ", "getenv")):
        return True
    if " " in v:  # prose ("Enter your password"), not a credential
        return True
    return len(set(low)) <= 2  # "aaaa", "xxxx-xxxx"


# --- the verdict on a value ------------------------------------------------------------------------------------

# Values the review never reports even under a credential's name: auth schemes, flags and type names.
_NOT_A_VALUE = frozenset({"bearer", "basic", "token", "password", "secret", "none", "null", "true", "false", "required",
                          "optional", "string", "str", "hidden", "redacted", "masked", "changed", "unset", "empty",
                          "default", "oauth", "oauth2", "jwt", "hmac", "api_key", "apikey", "x-api-key", "header",
                          "query", "cookie"})


def secret_value(value: str, purpose: Purpose, *, name: str = "", quoted: bool = True) -> bool:
    """Whether ``value``, found as the value of the credential name ``name``, is a secret.

    ``purpose="redact"``: anything but a placeholder or a plain word counts (a long random word counts too);
    an unquoted value must look like a credential, not an expression (``password = form.password``).
    ``purpose="report"``: a provider token, a mixed-character string that is not a path, URL or identifier,
    or, under a credential's name, a short word (``SECRET_KEY = "changeme"`` ships a guessable key).
    """
    if purpose == "redact":
        return _redactable(value) if quoted else _redactable_unquoted(value)
    return looks_secret(value) or bool(name) and _weak_literal(value, name)


def _redactable(value: str) -> bool:
    return not is_placeholder(value) and not re.fullmatch(r"[a-z]+(?:[._-][a-z]+)*", value) or (
        len(value) >= 12 and shannon_entropy(value) >= 3.5 and not is_placeholder(value))


def _redactable_unquoted(value: str) -> bool:
    if is_placeholder(value) or re.search(r"[()\[\]{}]", value) or re.fullmatch(r"[A-Za-z_][\w.]*", value) and not (
            re.search(r"\d", value) and re.search(r"[A-Za-z]", value) and len(value) >= 8 and "." not in value):
        return False
    return len(value) >= 8 and (shannon_entropy(value) >= 3.0 or bool(re.search(r"\d", value)))


def looks_secret(value: str) -> bool:
    """A literal that could be a real credential whatever holds it (not a path, URL, field name, placeholder or empty)."""
    if known_token(value):
        return True
    v = value.strip()
    if len(v) < 8 or any(c.isspace() for c in v) or is_placeholder(v):
        return False
    if v.startswith(("/", "./", "http://", "https://", "${", "{", "<", "%(", "$", "env:", "vault:")) and "@" not in v:
        return False
    if re.fullmatch(r"_*[a-z]+([_.:-][a-z]+)*", v) or re.fullmatch(r"[A-Z]+(_[A-Z]+)*", v):
        return False  # an identifier, cookie/header/session-key name or JWT audience ("fastapi-users:reset")
    if len(set(v)) <= 2:  # "********", "xxxxxxxx"
        return False
    if re.fullmatch(r"[\w.-]*(/[\w.,-]*)+", v):
        return False  # a path, route or rate-limit spec ("5/m/user")
    classes = sum(bool(re.search(p, v)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    return classes >= 2


def _weak_literal(value: str, name: str) -> bool:
    """``SECRET_KEY = "changeme"``: a short or plain-word literal still counts when the name says credential."""
    v = value.strip()
    if len(v) < 6 or any(c.isspace() for c in v) or v.lower() in _NOT_A_VALUE:
        return False
    if v.lower() in name.lower() or v.startswith(("/", "http", "$", "{", "<", "%")):
        return False
    if re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+", v):  # an env var name such as "DB_PASSWORD"
        return False
    if re.fullmatch(r"_*[a-z0-9]+([._:-][a-z0-9]+)+", v) or "/" in v:  # a config key, field name or path
        return False
    return len(set(v)) > 2


# --- passwords inside URLs -------------------------------------------------------------------------------------

# Sample passwords of documentation URLs (``postgres://user:password@localhost``): the review does not report them.
_SAMPLE_URL_PASSWORD = re.compile(r"^(password|passwd|pass|pwd|secret|changeme|xxx+|\*+|user|postgres|example)$", re.I)
# Weak words that are still real passwords when they stand in a URL: redaction hides them.
_REAL_WEAK_PASSWORDS = frozenset({"pass", "password", "secret", "admin", "root"})


def url_password(password: str, purpose: Purpose) -> bool:
    """Whether the password part of a connection URL is a secret."""
    if purpose == "redact":
        return not is_placeholder(password) or password.lower() in _REAL_WEAK_PASSWORDS
    return not _SAMPLE_URL_PASSWORD.match(password)
