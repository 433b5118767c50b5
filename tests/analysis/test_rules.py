"""Each rule fires on its problems and stays quiet on the correct look-alikes."""

from __future__ import annotations

from pathlib import Path

import pytest

from mentor_local.analysis.review import ReviewReport
from mentor_local.domain import SEVERITY_ORDER, severity_rank
from mentor_local.topics import TOPICS

from .cases import CASES, RULE_CASES
from .conftest import review_files


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ReviewReport:
    root = tmp_path_factory.mktemp("cases")
    return review_files(root, {f"pkg/{name}": src for name, (src, _, _) in CASES.items()})


def test_every_topic_has_a_problem_case_and_a_lookalike_case() -> None:
    expected = {t for _, exp, _ in CASES.values() for t in exp}
    forbidden = {t for _, _, forb in CASES.values() for t in forb}
    assert expected == set(TOPICS)
    assert forbidden == set(TOPICS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_case(report: ReviewReport, name: str) -> None:
    _, expect, forbid = CASES[name]
    topics = {f.topic for f in report.findings if f.path == f"pkg/{name}"}
    missing = expect - topics
    wrong = forbid & topics
    assert not missing, f"{name}: expected {sorted(missing)}; got {sorted(topics)}"
    assert not wrong, f"{name}: flagged a correct look-alike as {sorted(wrong)}: " + "; ".join(
        f"{f.line}: {f.message}" for f in report.findings if f.path == f"pkg/{name}" and f.topic in wrong
    )


def test_findings_are_well_formed(report: ReviewReport) -> None:
    assert report.findings
    assert {f.severity for f in report.findings} <= set(SEVERITY_ORDER)
    keys = [(severity_rank(f.severity), f.path, f.line) for f in report.findings]
    assert keys == sorted(keys)
    for f in report.findings:
        assert f.topic in TOPICS
        assert 1 <= f.line <= f.end_line
        assert not Path(f.path).is_absolute() and "\\" not in f.path
        assert f.message and f.rule


@pytest.fixture(scope="module")
def rule_report(tmp_path_factory: pytest.TempPathFactory) -> ReviewReport:
    root = tmp_path_factory.mktemp("rule_cases")
    return review_files(root, {f"pkg/{name}": src for name, (src, _) in RULE_CASES.items()})


@pytest.mark.parametrize("name", sorted(RULE_CASES))
def test_rule_case(rule_report: ReviewReport, name: str) -> None:
    _, expect = RULE_CASES[name]
    found = {f.rule for f in rule_report.findings if f.path == f"pkg/{name}"}
    assert expect <= found, f"{name}: expected rules {sorted(expect - found)}; got {sorted(found)}"
