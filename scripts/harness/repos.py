"""Small sample repos written to disk, shared by the tests and the benchmarks."""

from __future__ import annotations

import textwrap
from pathlib import Path

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


# A billing app for the TUI: a slow view (one query per customer) and text that looks like markup or escapes.
TUI_REPO_FILES = {
    "app/__init__.py": "",
    "app/db.py": (
        '"""Database access."""\nimport sqlite3\n\n\nclass InvoiceRepository:\n'
        '    def __init__(self, path: str) -> None:\n        self.conn = sqlite3.connect(path)\n\n'
        "    def total_for_customer(self, customer_id: int) -> float:\n"
        '        row = self.conn.execute("SELECT SUM(amount) FROM invoices WHERE customer_id = ?", (customer_id,))\n'
        "        return float(row.fetchone()[0] or 0)\n"
    ),
    "app/views.py": (
        "from app.db import InvoiceRepository\n\n\n"
        "def invoices_page(customers):\n"
        "    # [bold red]not markup[/] \x1b[31mnot a colour\x1b[0m [link=https://example.com]x[/link]\n"
        "    repo = InvoiceRepository('db.sqlite3')\n"
        "    return [repo.total_for_customer(c) for c in customers]\n"
    ),
}


def make_tui_repo(root: Path) -> Path:
    for rel, body in TUI_REPO_FILES.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(body, encoding="utf-8")
    return root
