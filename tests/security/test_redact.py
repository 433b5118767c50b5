"""The redactor: every planted kind is caught, placeholders are left, lines never move."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mentor_local.security import clean, redact
from tests.security.corpus import planted_secrets

SECRETS = planted_secrets()
KINDS = sorted({p.kind for p in SECRETS})


@pytest.mark.parametrize("planted", [p for p in SECRETS if p.line], ids=lambda p: p.kind)
def test_each_planted_secret_is_replaced_by_its_marker(planted) -> None:
    text = f"before = 1\n{planted.line}\nafter = 2\n"
    out, n = redact(text)
    assert planted.secret not in out
    assert n >= 1
    assert "«redacted:" in out
    assert out.count("\n") == text.count("\n")
    assert out.startswith("before = 1\n") and out.endswith("after = 2\n")


def test_every_rule_family_is_exercised() -> None:
    assert len(KINDS) >= 18
    text = "\n".join(p.line for p in SECRETS if p.line)
    out, _ = redact(text)
    for kind in ("aws-access-key", "aws-secret-key", "gcp-api-key", "azure-storage-key", "github-token", "gitlab-token",
                 "slack-token", "stripe-key", "openai-api-key", "anthropic-api-key", "sendgrid-api-key",
                 "twilio-api-key", "jwt", "private-key", "connection-password", "generic-secret"):
        assert f"«redacted:{kind}»" in out, kind


def test_private_key_block_keeps_its_lines() -> None:
    key = next(p.line for p in SECRETS if p.line.startswith("KEY ="))
    text = "x = 1\n" + key + "\ny = 2\n"
    out, n = redact(text)
    assert n == 1
    assert out.count("\n") == text.count("\n")
    assert out.splitlines()[-1] == "y = 2"
    assert out.splitlines()[1] == 'KEY = """«redacted:private-key»'
    assert all(p.secret not in out for p in SECRETS if p.kind == "private-key")


def test_truncated_private_key_block_is_still_redacted() -> None:
    text = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACD\n"
    out, n = redact(text)
    assert n == 1 and "b3BlbnNz" not in out and "QyNTUxOQ" not in out
    assert out.count("\n") == 3


def test_crlf_lines_are_kept() -> None:
    key = "-----BEGIN EC PRIVATE KEY-----\r\nMHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY/PuoAoGCCqGSM49\r\n-----END EC PRIVATE KEY-----\r\n"
    out, _ = redact(key)
    assert out == "«redacted:private-key»\r\n\r\n\r\n"


@pytest.mark.parametrize("text", [
    'password = "changeme"',
    'password = os.environ["DB_PASSWORD"]',
    "password = form.cleaned_data['password']",
    'token_url = "https://auth.example.com/oauth/token"',
    'PASSWORD_FIELD = "password"',
    'api_key_header = "X-API-Key"',
    'secret_name = "prod/db/password"',
    'DATABASE_URL = "postgresql://user:${DB_PASSWORD}@localhost/app"',
    'url = "postgresql://localhost:5432/app"',
    'password: str = ""',
    'help="the password to use"',
    'api_key = "<your-api-key>"',
    'token = "{{ token }}"',
    "def check_password(password: str) -> bool:",
    'secret = "xxxxxxxxxxxx"',
    "token = request.headers.get('Authorization')",
    "    token: str | None = None",
])
def test_placeholders_and_code_are_left_alone(text: str) -> None:
    assert redact(text) == (text, 0)


def test_idempotent_and_marker_never_matches() -> None:
    text = "\n".join(p.line for p in SECRETS if p.line) + "\n"
    once, n = redact(text)
    assert n >= len(KINDS)
    assert redact(once) == (once, 0)


_lines = st.lists(st.sampled_from([p.line for p in SECRETS if p.line and "\n" not in p.line])
                  | st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60), max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_lines)
def test_fuzz_redactor_line_count_idempotence_and_no_survivors(lines: list[str]) -> None:
    text = "\n".join(lines)
    out, _ = clean(text)
    # line count as the chunkers count lines (\n, \r\n, lone \r), and as editors do
    assert out.count("\n") == text.count("\n")
    assert clean(out) == (out, 0)
    for p in SECRETS:
        if p.line and p.line in text:
            assert p.secret not in out


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_redactor_never_moves_a_line(text: str) -> None:
    out, _ = redact(text)
    assert out.count("\n") == text.count("\n") and out.count("\r") == text.count("\r")
    assert redact(out)[0] == out
