"""Golden files: every finding of the rule fixtures pinned by path, line, rule and message.

A finding that moves to another line, changes rule or wording, appears or disappears fails here.
After an intended change, regenerate with ``MENTOR_UPDATE_GOLDEN=1 pytest tests/analysis/test_golden.py``
and review the diff like code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mentor_local.analysis.review import review_report

from .cases import CASES
from .conftest import FIXTURE, write_repo

GOLDEN = Path(__file__).resolve().parent / "golden"
FIELDS = ("path", "line", "end_line", "topic", "rule", "severity", "confidence", "message")


def _rows(root: Path) -> list[dict[str, object]]:
    report = review_report(root, cards=[])
    rows = [{k: f.to_json()[k] for k in FIELDS} for f in report.findings]
    return sorted(rows, key=lambda r: (str(r["path"]), int(str(r["line"])), str(r["topic"]), str(r["rule"])))


def _check(name: str, rows: list[dict[str, object]]) -> None:
    path = GOLDEN / f"{name}.jsonl"
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows)
    if os.environ.get("MENTOR_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8").splitlines()
    got = text.splitlines()
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    assert not missing and not extra, "golden mismatch\nmissing:\n" + "\n".join(missing) + "\nextra:\n" + "\n".join(extra)


def test_cases_golden(tmp_path: Path) -> None:
    write_repo(tmp_path, {f"pkg/{name}": src for name, (src, _, _) in CASES.items()})
    _check("cases", _rows(tmp_path))


@pytest.mark.parametrize("fixture", ["saas_app", "django_shop"])
def test_fixture_golden(fixture: str) -> None:
    _check(fixture, _rows(FIXTURE.parent / fixture))
