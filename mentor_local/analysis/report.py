"""Human-readable terminal reports for ``mentor review`` and ``mentor profile``."""

from __future__ import annotations

from collections import defaultdict

from mentor_local.analysis.review import ReviewReport
from mentor_local.domain import SEVERITY_ORDER, Finding, RepoProfile, severity_rank


def review_text(report: ReviewReport, *, limit_per_topic: int = 0) -> str:
    """Findings grouped by severity, then topic; each with ``path:line``, the problem and the card to read."""
    findings = report.findings
    counts: dict[str, int] = defaultdict(int)
    for f in findings:
        counts[f.severity] += 1
    summary = ", ".join(f"{counts[s]} {s}" for s in SEVERITY_ORDER if counts[s])
    lines = [f"Reviewed {report.files_reviewed} Python files in {report.repo} ({report.seconds:.1f}s): "
             f"{len(findings)} finding{'s' if len(findings) != 1 else ''}" + (f" ({summary})" if summary else "")]
    grouped: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for f in findings:
        grouped[f.severity][f.topic].append(f)
    for severity in sorted(grouped, key=severity_rank):
        lines += ["", severity.upper()]
        topics = grouped[severity]
        for topic in sorted(topics, key=lambda t: (-len(topics[t]), t)):
            items = topics[topic]
            cards = sorted({f.card for f in items if f.card})
            read = f" — read: {', '.join(cards)}" if cards else ""
            lines.append(f"  {topic} ({len(items)}){read}")
            shown = items if limit_per_topic <= 0 else items[:limit_per_topic]
            for f in shown:
                sure = "" if f.confidence == "high" else f", {f.confidence} confidence"
                lines.append(f"    {f.path}:{f.line}  {f.message}  [{f.rule}{sure}]")
            if len(shown) < len(items):
                lines.append(f"    … {len(items) - len(shown)} more (use --json for all)")
    if not findings:
        lines += ["", "No findings: nothing from the checked topics was found."]
    if report.skipped:
        lines += ["", f"Skipped {len(report.skipped)} file{'s' if len(report.skipped) != 1 else ''}:"]
        lines += [f"  {s.path} — {s.reason}" for s in report.skipped]
    for note in report.notes:
        lines += ["", f"Note: {note}"]
    return "\n".join(lines)


def profile_text(p: RepoProfile) -> str:
    def show(value: str | None) -> str:
        return value if value else "not detected"

    rows = [
        ("Python", show(p.python_version)),
        ("Dependency manager", show(p.dependency_manager)),
        ("Frameworks", ", ".join(p.frameworks) if p.frameworks else "none detected"),
        ("Async functions", f"{p.async_share:.0%} of defs are async"),
        ("Tests", show(p.test_framework)),
        ("Type checker", show(p.type_checker)),
        ("Entry points", ", ".join(p.entry_points) if p.entry_points else "none detected"),
    ]
    width = max(len(k) for k, _ in rows) + 2
    return "\n".join(f"{k + ':':<{width}}{v}" for k, v in rows)
