"""Score review findings against labels: recall and precision per topic, false positives on look-alikes.

Labels are comments in a labelled repo's files:

    requests.get(url)  # expect: missing-timeout            a problem the review must find (topics comma-separated)
    requests.get(url, timeout=5)  # ok: missing-timeout     a correct look-alike it must not flag

A finding matches a label when path and topic agree and the label's line lies in the finding's
``line..end_line`` (one line of slack either side).

Used by scripts/bench/review_eval.py and tests/analysis/test_review.py.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from mentor_local.domain import Finding
from mentor_local.topics import TOPICS

_LABEL = re.compile(r"#\s*(expect|ok):\s*([a-z0-9\-]+(?:\s*,\s*[a-z0-9\-]+)*)")

def comment_labels(repo: Path) -> list[dict[str, Any]]:
    labels = []
    for path in sorted(repo.rglob("*.py")):
        rel = path.relative_to(repo).as_posix()
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = _LABEL.search(line)
            if m:
                for topic in (t.strip() for t in m.group(2).split(",")):
                    if topic not in TOPICS:
                        raise SystemExit(f"{rel}:{lineno}: unknown topic {topic!r}")
                    labels.append({"path": rel, "line": lineno, "topic": topic, "kind": m.group(1)})
    return labels


def matches(f: Finding, label: dict[str, Any], slack: int = 1) -> bool:
    return bool(f.path == label["path"] and f.topic == label["topic"]
                and f.line - slack <= label["line"] <= max(f.end_line, f.line) + slack)


def score(findings: list[Finding], labels: list[dict[str, Any]]) -> dict[str, Any]:
    expect = [lb for lb in labels if lb["kind"] == "expect"]
    ok = [lb for lb in labels if lb["kind"] == "ok"]
    per: dict[str, dict[str, int]] = defaultdict(lambda: {"labels": 0, "found": 0, "findings": 0, "tp_findings": 0})
    for lb in expect:
        per[lb["topic"]]["labels"] += 1
        if any(matches(f, lb) for f in findings):
            per[lb["topic"]]["found"] += 1
    unmatched = []
    for f in findings:
        per[f.topic]["findings"] += 1
        if any(matches(f, lb) for lb in expect):
            per[f.topic]["tp_findings"] += 1
        else:
            unmatched.append(f)
    # a look-alike counts as flagged only when a finding covers its very line
    fp_ok = [lb for lb in ok if any(matches(f, lb, slack=0) for f in findings)]
    missed = [lb for lb in expect if not any(matches(f, lb) for f in findings)]
    total_labels = sum(v["labels"] for v in per.values())
    total_found = sum(v["found"] for v in per.values())
    total_findings = sum(v["findings"] for v in per.values())
    total_tp = sum(v["tp_findings"] for v in per.values())
    topics = {
        t: {
            **v,
            "recall": round(v["found"] / v["labels"], 3) if v["labels"] else None,
            "precision": round(v["tp_findings"] / v["findings"], 3) if v["findings"] else None,
        }
        for t, v in sorted(per.items())
    }
    return {
        "recall": round(total_found / total_labels, 3) if total_labels else None,
        "precision": round(total_tp / total_findings, 3) if total_findings else None,
        "lookalike_fp_rate": round(len(fp_ok) / len(ok), 3) if ok else None,
        "labels": total_labels,
        "lookalikes": len(ok),
        "findings": total_findings,
        "topics": topics,
        "topics_without_labels": sorted(set(TOPICS) - {lb["topic"] for lb in expect}),
        "missed": missed,
        "lookalikes_flagged": fp_ok,
        "unlabelled_findings": [f.to_json() for f in unmatched],
    }
