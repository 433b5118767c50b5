"""Score `mentor review` on real codebases against findings judged by hand.

    python scripts/bench/review_real/score.py [--split dev|held-out|all] [--before] [--unlabelled] [--json] [--fetch]

Data (this folder):
  corpora.json    the codebases (PyPI wheels unpacked under bench-data/), their split and licence
  labels.jsonl    one judged finding a line: corpus, path, line, rule, topic, severity_reported, verdict
                  (true / false / debatable), right_severity, reason, split
  defects.jsonl   real defects found by reading the code (for recall): corpus, path, line, topic
  before.jsonl    every finding of the review before the precision work (to reproduce the "before" table)

A finding matches a label when corpus, path, line and topic agree (the rule id may change). Precision is
true / judged: a debatable verdict does not count as true. A finding with no label is reported as
unlabelled, never counted as true or false; `--unlabelled` lists them so they can be judged. A defect is
recalled when a finding of its topic covers its line.

`--before` scores before.jsonl instead of running the review. `--fetch` downloads and unpacks missing
corpora with pip (network). Severity and confidence groups use what the review reports now.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

Row = dict[str, Any]


def load_jsonl(path: Path) -> list[Row]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def corpora() -> list[Row]:
    data: list[Row] = json.loads((HERE / "corpora.json").read_text(encoding="utf-8"))["corpora"]
    return data


def fetch(corpus: Row) -> None:
    root = ROOT / corpus["root"]
    wheels = ROOT / "bench-data" / "wheels"
    wheel = wheels / corpus["wheel"]
    if not wheel.is_file():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", corpus["pip"], "-d", str(wheels)],
                       check=True)
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(root)


def run_review(selected: list[Row], do_fetch: bool) -> list[Row]:
    from mentor_local.analysis.review import review_report

    out: list[Row] = []
    for c in selected:
        root = ROOT / c["root"]
        if not root.is_dir():
            if not do_fetch:
                raise SystemExit(f"{root} is missing: run with --fetch, or: pip download --no-deps {c['pip']} "
                                 f"-d bench-data/wheels && unzip bench-data/wheels/{c['wheel']} -d {c['root']}")
            fetch(c)
        report = review_report(root, cards=[])
        for f in report.findings:
            row = f.to_json()
            row.update(corpus=c["name"], split=c["split"])
            out.append(row)
    return out


def _key(row: Row) -> tuple[str, str, int, str]:
    return (row["corpus"], row["path"], int(row["line"]), row["topic"])


def score(findings: list[Row], labels: list[Row], defects: list[Row]) -> dict[str, Any]:
    by_key = {_key(lb): lb for lb in labels}
    tables: dict[str, dict[str, dict[str, dict[str, int]]]] = {}
    unlabelled: list[Row] = []
    for view in ("high", "all", "shown"):
        tables[view] = defaultdict(lambda: defaultdict(lambda: {"judged": 0, "true": 0, "false": 0, "debatable": 0,
                                                                 "unlabelled": 0, "reported": 0}))
    for f in findings:
        label = by_key.get(_key(f))
        views = ["all"]
        if f["severity"] == "high":
            views.append("high")
        if f.get("confidence", "high") == "high":
            views.append("shown")
        for view in views:
            cell = tables[view][f["split"]][f["topic"]]
            cell["reported"] += 1
            if label is None:
                cell["unlabelled"] += 1
            else:
                cell["judged"] += 1
                cell[label["verdict"]] += 1
        if label is None:
            unlabelled.append(f)
    recall: dict[str, dict[str, Any]] = {}
    for split in sorted({d["split"] for d in defects}):
        wanted = [d for d in defects if d["split"] == split]
        found = [d for d in wanted if any(
            f["corpus"] == d["corpus"] and f["path"] == d["path"] and f["topic"] == d["topic"]
            and int(f["line"]) <= int(d["line"]) <= max(int(f["line"]), int(f.get("end_line", f["line"])))
            for f in findings)]
        missed = [d for d in wanted if d not in found]
        recall[split] = {"defects": len(wanted), "found": len(found),
                         "recall": round(len(found) / len(wanted), 3) if wanted else None,
                         "missed": [f"{d['corpus']}:{d['path']}:{d['line']} {d['topic']}" for d in missed]}
    return {"tables": {v: {s: dict(t) for s, t in sp.items()} for v, sp in tables.items()},
            "recall": recall, "unlabelled": unlabelled}


def _totals(rows: dict[str, dict[str, int]]) -> dict[str, int]:
    tot: dict[str, int] = defaultdict(int)
    for cell in rows.values():
        for k, v in cell.items():
            tot[k] += v
    return dict(tot)


def _prec(cell: dict[str, int]) -> str:
    return f"{cell['true'] / cell['judged']:.2f}" if cell.get("judged") else "-"


def print_tables(result: dict[str, Any]) -> None:
    names = {"high": "HIGH severity", "all": "ALL severities", "shown": "SHOWN by default (confidence high)"}
    for view in ("high", "all", "shown"):
        for split, rows in sorted(result["tables"][view].items()):
            print(f"\n{names[view]} — {split}")
            print(f"  {'topic':26} {'reported':>8} {'judged':>6} {'true':>5} {'false':>5} {'debat.':>6} "
                  f"{'unlab.':>6} {'prec.':>6}")
            for topic, cell in sorted(rows.items()):
                print(f"  {topic:26} {cell['reported']:>8} {cell['judged']:>6} {cell['true']:>5} {cell['false']:>5} "
                      f"{cell['debatable']:>6} {cell['unlabelled']:>6} {_prec(cell):>6}")
            tot = _totals(rows)
            print(f"  {'TOTAL':26} {tot['reported']:>8} {tot['judged']:>6} {tot['true']:>5} {tot['false']:>5} "
                  f"{tot['debatable']:>6} {tot['unlabelled']:>6} {_prec(tot):>6}")
    for split, r in result["recall"].items():
        print(f"\nrecall of real defects — {split}: {r['found']}/{r['defects']} = {r['recall']}")
        for m in r["missed"]:
            print(f"  MISSED {m}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=("dev", "held-out", "all"), default="all")
    ap.add_argument("--before", action="store_true", help="score before.jsonl (the review before tuning)")
    ap.add_argument("--unlabelled", action="store_true", help="list findings that have no label")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--fetch", action="store_true", help="download missing corpora with pip")
    args = ap.parse_args(argv)
    selected = [c for c in corpora() if args.split in ("all", c["split"])]
    names = {c["name"] for c in selected}
    labels = [lb for lb in load_jsonl(HERE / "labels.jsonl") if lb["corpus"] in names]
    defects = [d for d in load_jsonl(HERE / "defects.jsonl") if d["corpus"] in names]
    if args.before:
        findings = [f for f in load_jsonl(HERE / "before.jsonl") if f["corpus"] in names]
    else:
        findings = run_review(selected, args.fetch)
    result = score(findings, labels, defects)
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "unlabelled" or args.unlabelled}, indent=1))
        return 0
    print_tables(result)
    unl = result["unlabelled"]
    high_unl = [f for f in unl if f["severity"] == "high"]
    print(f"\nunlabelled findings: {len(unl)} ({len(high_unl)} high); they count neither as true nor as false")
    if args.unlabelled:
        for f in unl:
            print(f"  {f['corpus']}:{f['path']}:{f['line']} {f['severity']}/{f.get('confidence', '?')} {f['topic']} "
                  f"[{f['rule']}] {f['message'][:100] if 'message' in f else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
