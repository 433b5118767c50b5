"""Golden files: every finding of the rule fixtures pinned by path, line, rule and message.

A finding that moves to another line, changes rule or wording, appears or disappears fails here, and every
rule id (ours and the ruff codes we map) is pinned by at least one golden finding.
After an intended change, regenerate with ``MENTOR_UPDATE_GOLDEN=1 pytest tests/analysis/test_golden.py``
and review the diff like code.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest

from mentor_local.analysis import rules
from mentor_local.analysis.review import review_report
from mentor_local.analysis.ruff_rules import RUFF_MAP

from .cases import CASES, RULE_CASES
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


def test_rule_cases_golden(tmp_path: Path) -> None:
    write_repo(tmp_path, {f"pkg/{name}": src for name, (src, _) in RULE_CASES.items()})
    _check("rule_cases", _rows(tmp_path))


def _rule_ids() -> set[str]:
    """The rule ids our checks can report (the second string argument of each ``RawFinding``), and ruff's codes.
    A rule id built at run time (``f"unclosed-{kind}"``) is kept as its constant prefix."""
    ids = set(RUFF_MAP)
    for path in Path(rules.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "RawFinding":
                rule = node.args[3] if len(node.args) > 3 else None
                if isinstance(rule, ast.Constant):
                    ids.add(str(rule.value))
                elif isinstance(rule, ast.JoinedStr) and rule.values and isinstance(rule.values[0], ast.Constant):
                    ids.add(str(rule.values[0].value))
    return ids


def test_every_rule_is_pinned_by_a_golden_finding() -> None:
    pinned = {json.loads(line)["rule"] for path in GOLDEN.glob("*.jsonl")
              for line in path.read_text(encoding="utf-8").splitlines()}
    ids = _rule_ids()
    assert len(ids) > 40
    unpinned = {r for r in ids if r not in pinned and not any(p.startswith(r) for p in pinned if r.endswith("-"))}
    assert not unpinned, f"rules no golden file pins: {sorted(unpinned)} (add a snippet to cases.RULE_CASES)"
