"""Score `review()` against a labelled repo: precision and recall per topic, and false positives on look-alikes.

Labels are comments in the labelled repo's files:

    requests.get(url)  # expect: missing-timeout            a problem the review must find (topics comma-separated)
    requests.get(url, timeout=5)  # ok: missing-timeout     a correct look-alike it must not flag

or a JSON file (``--labels``) with a list of ``{"path", "line", "topic", "kind": "expect"|"ok"}``.
A finding matches a label when path and topic agree and the label's line lies in the finding's
``line..end_line`` (one line of slack either side); the scoring is scripts/harness/review_scoring.py.

    python scripts/bench/review_eval.py [REPO] [--labels FILE] [--json] [--check]

Goals: recall >= 0.85 overall and >= 0.5 per topic; look-alike false-positive rate <= 5%.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from mentor_local.analysis.review import review_report  # noqa: E402
from scripts.harness.review_scoring import comment_labels, score  # noqa: E402


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
