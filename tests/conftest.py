"""Shared fixtures. Sockets are blocked (pytest-socket, see pyproject) except loopback."""

from __future__ import annotations

import os
import shutil
import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as _hypothesis_settings

# `make test` (CI) runs the property tests on a fixed seed, so a pass or a failure is reproducible and a rare
# random example never fails an unrelated change; the reliability report (and MENTOR_FUZZ_RANDOM=1) explores.
_hypothesis_settings.register_profile("fixed", derandomize=True, database=None)
_hypothesis_settings.register_profile("explore")
_hypothesis_settings.load_profile("explore" if os.environ.get("MENTOR_FUZZ_RANDOM") == "1" else "fixed")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test writes its app data under a temp folder, never the user's home."""
    home = tmp_path_factory.mktemp("mentor-home")
    old = os.environ.get("MENTOR_HOME")
    os.environ["MENTOR_HOME"] = str(home)
    # A frozen copy of the pattern library: indexes built in one session all see the same cards.
    if not os.environ.get("MENTOR_KNOWLEDGE_DIR"):
        cards = home / "knowledge"
        shutil.copytree(ROOT / "knowledge", cards)
        os.environ["MENTOR_KNOWLEDGE_DIR"] = str(cards)
    from mentor_local import offline

    offline.apply()
    yield home
    if old is None:
        os.environ.pop("MENTOR_HOME", None)
    else:
        os.environ["MENTOR_HOME"] = old


SAMPLE_FILES = {
    "app/__init__.py": "",
    "app/db.py": '''
        """Database access for the billing service."""
        import sqlite3


        class InvoiceRepository:
            """Stores invoices in SQLite."""

            def __init__(self, path: str) -> None:
                self.conn = sqlite3.connect(path)

            def total_for_customer(self, customer_id: int) -> float:
                """Sum the amounts of every invoice of one customer."""
                row = self.conn.execute(
                    "SELECT SUM(amount) FROM invoices WHERE customer_id = ?", (customer_id,)
                ).fetchone()
                return float(row[0] or 0)
        ''',
    "app/auth.py": '''
        import hashlib
        import secrets


        def hash_password(password: str, salt: bytes | None = None) -> str:
            """Derive a slow salted hash for storing a user's password."""
            salt = salt or secrets.token_bytes(16)
            digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 200_000)
            return salt.hex() + ":" + digest.hex()


        def verify_password(password: str, stored: str) -> bool:
            salt_hex, _ = stored.split(":")
            return secrets.compare_digest(hash_password(password, bytes.fromhex(salt_hex)), stored)
        ''',
    "app/email.py": '''
        import smtplib


        def send_welcome_email(address: str) -> None:
            """Send the onboarding message to a newly registered user."""
            with smtplib.SMTP("localhost") as smtp:
                smtp.sendmail("noreply@example.com", [address], "Welcome aboard!")
        ''',
    "README.md": "# Billing\n\nA tiny billing service.\n\n## Running\n\nStart it with `python -m app`.\n",
}


def make_repo(root: Path, files: dict[str, str] | None = None) -> Path:
    for rel, body in (files or SAMPLE_FILES).items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture()
def sample_repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def have(cmd: str) -> bool:
    return shutil.which(cmd) is not None
