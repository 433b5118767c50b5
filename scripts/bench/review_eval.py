"""Score `review()` against a labelled repo: precision and recall per topic, and false positives on look-alikes.

Labels are comments in the labelled repo's files:

    requests.get(url)  # expect: missing-timeout            a problem the review must find (topics comma-separated)
    requests.get(url, timeout=5)  # ok: missing-timeout     a correct look-alike it must not flag

or a JSON file (``--labels``) with a list of ``{"path", "line", "topic", "kind": "expect"|"ok"}``.
A finding matches a label when path and topic agree and the label's line lies in the finding's
``line..end_line`` (one line of slack either side).

    python scripts/bench/review_eval.py [REPO] [--labels FILE] [--json] [--check]

Goals: recall >= 0.85 overall and >= 0.5 per topic; look-alike false-positive rate <= 5%.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from mentor_local.analysis.review import review_report  # noqa: E402
from mentor_local.domain import Finding  # noqa: E402
from mentor_local.topics import TOPICS  # noqa: E402

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
    return (f.path == label["path"] and f.topic == label["topic"]
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo", nargs="?", default=str(ROOT / "tests/fixtures/saas_app"))
    ap.add_argument("--labels", type=Path, help="JSON labels file instead of # expect/# ok comments")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    args = ap.parse_args(argv)
    repo = Path(args.repo).resolve()
    labels = json.loads(args.labels.read_text()) if args.labels else comment_labels(repo)
    report = review_report(repo, cards=[])
    result = score(report.findings, labels)
    result["seconds"] = report.seconds
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print(f"repo: {repo}  ({report.files_reviewed} files, {report.seconds:.2f}s)")
        print(f"{'topic':28} {'labels':>6} {'found':>6} {'recall':>7} {'findings':>9} {'precision':>9}")
        for t, v in result["topics"].items():
            rec = "-" if v["recall"] is None else f"{v['recall']:.2f}"
            prec = "-" if v["precision"] is None else f"{v['precision']:.2f}"
            print(f"{t:28} {v['labels']:>6} {v['found']:>6} {rec:>7} {v['findings']:>9} {prec:>9}")
        print(f"{'OVERALL':28} {result['labels']:>6} {'':>6} {result['recall']:>7} {result['findings']:>9} "
              f"{result['precision']:>9}")
        print(f"look-alikes flagged: {len(result['lookalikes_flagged'])}/{result['lookalikes']} "
              f"= {result['lookalike_fp_rate']}")
        if result["topics_without_labels"]:
            print("topics without labels:", ", ".join(result["topics_without_labels"]))
        for lb in result["missed"]:
            print(f"  MISSED   {lb['path']}:{lb['line']} {lb['topic']}")
        for lb in result["lookalikes_flagged"]:
            print(f"  FLAGGED  {lb['path']}:{lb['line']} {lb['topic']} (a correct look-alike)")
        for f in result["unlabelled_findings"]:
            print(f"  EXTRA    {f['path']}:{f['line']} {f['topic']} [{f['rule']}]")
    per_topic_ok = all(v["recall"] is None or v["recall"] >= 0.5 for v in result["topics"].values())
    ok = (result["recall"] or 0) >= 0.85 and per_topic_ok and (result["lookalike_fp_rate"] or 0) <= 0.05
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
