"""`mentor review PATH [--json] [--all]`: findings grouped by severity and topic, each with the card to read."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

from mentor_local.commands.common import add_json, emit_json, repo_path, settings_for

EPILOG = """\
Checks 21 topics: blocking calls in async code, swallowed exceptions,
missing timeouts, leaks, unbounded caches, races, N+1 queries, row-wise pandas, sequential
awaits, SQL/command injection, secrets, unsafe deserialisation, weak password hashes,
insecure randomness, tasks without retries, mutable defaults, print, raw request bodies,
secrets in logs, debug mode. Uses ruff (pinned, run isolated) plus tree-sitter rules.

Silencing:
  # noqa                          on the reported line silences every finding there
  # noqa: S113, missing-timeout   silences by rule id or by topic
  pyproject.toml of the reviewed repo:
    [tool.mentor]
    disable = ["print-instead-of-logging", "S311"]   # topics or rule ids, never reported
    exclude = ["migrations/*", "legacy/**"]          # repo-relative globs not reviewed

Each finding has a severity (high: data loss, a security hole or an outage; medium: a real defect
with a bounded cost; low: hygiene) and a confidence (how often the rule is right on real code).
Only high-confidence findings are shown unless you pass --all; --json shows `confidence` and `why`.

Files that indexing skips (.gitignore, virtualenvs, over max_file_bytes) are not reviewed;
tests are not reviewed; non-UTF-8 files and files with syntax errors are listed as skipped.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "review",
        help="find production problems in a repo (each with a card to read)",
        description="Review a Python repo for what breaks SaaS backends in production, precisely.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", help="the repo folder to review")
    add_json(p)
    p.add_argument("--all", action="store_true", dest="all_findings",
                   help="also show medium- and low-confidence findings (default: high-confidence only)")
    p.add_argument("--max-file-bytes", type=int, default=None, metavar="N",
                   help="skip files larger than N bytes (default: the max_file_bytes setting, 1,000,000)")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from mentor_local.analysis.report import review_text
    from mentor_local.analysis.review import review_report

    repo = repo_path(args.path)
    settings = settings_for(args, repo)
    # this process runs no other threads, so it may fork: two processes use both cores of a small machine
    workers = max(1, min(2, os.cpu_count() or 1))
    report = review_report(repo, max_file_bytes=settings.max_file_bytes, workers=workers)
    hidden = 0
    if not args.all_findings:
        shown = [f for f in report.findings if f.confidence == "high"]
        hidden = len(report.findings) - len(shown)
        report = dataclasses.replace(report, findings=shown)
    if args.json:
        emit_json([f.to_json() for f in report.findings])
        for s in report.skipped:
            print(f"mentor: skipped {s.path}: {s.reason}", file=sys.stderr)
        for note in report.notes:
            print(f"mentor: note: {note}", file=sys.stderr)
    else:
        print(review_text(report))
        if hidden:
            print(f"\n{hidden} lower-confidence finding{'s' if hidden != 1 else ''} not shown: mentor review --all")
    return 0
