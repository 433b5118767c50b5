"""``review(path)``: findings that matter in a SaaS codebase, each with the card that teaches the fix.

Pipeline: discover the files exactly as indexing does (``.gitignore``, size limit,
secret files) -> read and parse each Python file with tree-sitter (non-UTF-8 and
syntax errors are reported as skipped) -> start ruff on the parsed files in a
subprocess -> meanwhile run the tree-sitter checks -> map ruff's codes onto topics
-> drop what ``# noqa`` or ``[tool.mentor] disable`` silences -> one finding per
line and topic -> attach a card -> sort by severity, path, line.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mentor_local.analysis.config import ReviewConfig, load_review_config
from mentor_local.analysis.context import NOT_IN_MIGRATIONS, FileContext, RawFinding, relationship_names, schema_names
from mentor_local.domain import Finding, SkippedFile
from mentor_local.errors import BadPathError, MentorError
from mentor_local.knowledge import Card
from mentor_local.topics import TOPICS

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
TOPIC_SEVERITY: dict[str, str] = {
    "blocking-call-in-async": "high", "missing-timeout": "high", "shared-state-race": "high",
    "sql-injection": "high", "command-injection": "high", "unsafe-deserialization": "high",
    "hardcoded-secret": "high", "weak-password-hash": "high", "insecure-random": "high",
    "debug-enabled": "high", "sensitive-data-logging": "high",
    "swallowed-exception": "medium", "resource-leak": "medium", "unbounded-memory": "medium",
    "n-plus-one-query": "medium", "task-without-retry": "medium", "sequential-awaits": "medium",
    "unvalidated-input": "medium",
    "row-wise-pandas": "low", "mutable-default-argument": "low", "print-instead-of-logging": "low",
}
_NOQA = re.compile(r"#\s*noqa\b(?::\s*(?P<codes>[A-Za-z0-9_\-]+(?:[\s,]+[A-Za-z0-9_\-]+)*))?", re.I)

Check = Callable[[FileContext], Iterable[RawFinding]]


@dataclass(frozen=True)
class ReviewReport:
    repo: str
    findings: list[Finding]
    skipped: list[SkippedFile]
    files_reviewed: int
    seconds: float
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "repo": self.repo,
            "findings": [f.to_json() for f in self.findings],
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "files_reviewed": self.files_reviewed,
            "seconds": self.seconds,
            "notes": list(self.notes),
        }


def checks() -> tuple[Check, ...]:
    from mentor_local.analysis.rules import app, concurrency, data

    return (
        data.n_plus_one, data.row_wise_pandas, data.resource_leak,
        concurrency.blocking_in_async, concurrency.sequential_awaits, concurrency.shared_state,
        app.hardcoded_secrets, app.weak_password_hash, app.debug_enabled, app.missing_timeouts,
        app.shell_commands, app.sensitive_logging, app.unvalidated_input, app.task_without_retry,
        app.suppress_exception, app.rq_enqueue_without_retry, app.url_credentials,
    )


def review(path: str | Path, *, max_file_bytes: int | None = None, cards: list[Card] | None = None) -> list[Finding]:
    """Findings for the repo at ``path``, most severe first (see ``review_report`` for skipped files)."""
    return review_report(path, max_file_bytes=max_file_bytes, cards=cards).findings


def review_report(
    path: str | Path,
    *,
    max_file_bytes: int | None = None,
    cards: list[Card] | None = None,
    config: ReviewConfig | None = None,
) -> ReviewReport:
    started = time.perf_counter()
    repo = _repo(path)
    cfg = config if config is not None else load_review_config(repo)
    if max_file_bytes is None:
        from mentor_local.settings import load_settings

        max_file_bytes = load_settings(repo).max_file_bytes
    notes: list[str] = []
    contexts, skipped = load_files(repo, max_file_bytes)
    reviewed = [c for c in contexts if not c.is_test and not cfg.excluded(c.path)]
    texts = [c.text for c in contexts]
    relationships, schemas = relationship_names(texts), schema_names(texts)
    for c in reviewed:
        c.relationships, c.schemas = relationships, schemas

    from mentor_local.analysis import ruff_rules

    proc = ruff_rules.start_ruff(repo, [c.path for c in reviewed])
    raw: list[tuple[FileContext, RawFinding]] = []
    all_checks = checks()
    for ctx in reviewed:
        for check in all_checks:
            raw.extend((ctx, f) for f in check(ctx))
    ruff = ruff_rules.collect_ruff(repo, proc)
    if ruff.error:
        notes.append(ruff.error)
    by_path = {c.path: c for c in reviewed}
    for rel, items in ruff.by_path.items():
        found = by_path.get(rel)
        if found is not None:
            raw.extend((found, f) for f in ruff_rules.ruff_findings(found, items))

    if cards is None:
        cards = _load_cards(notes)
    findings = _finish(raw, cfg, cards)
    return ReviewReport(str(repo), findings, skipped, len(reviewed), round(time.perf_counter() - started, 3), notes)


def _repo(path: str | Path) -> Path:
    repo = Path(path).expanduser()
    if not repo.exists():
        raise BadPathError(f"{repo} does not exist", hint="pass the folder of a Python project")
    if not repo.is_dir():
        raise BadPathError(f"{repo} is not a directory", hint="pass the folder of a Python project, not a file")
    return repo.resolve()


def load_files(repo: Path, max_file_bytes: int) -> tuple[list[FileContext], list[SkippedFile]]:
    """Parse every Python file indexing would see; report the others that cannot be reviewed, with the reason."""
    from mentor_local.analysis import syntax
    from mentor_local.indexing.discover import discover, read_text

    files, skipped_all = discover(repo, max_file_bytes=max_file_bytes)
    skipped = [s for s in skipped_all if s.path.endswith((".py", ".pyi")) and "ignored by" not in s.reason]
    parser = syntax.parser()
    contexts: list[FileContext] = []
    for f in files:
        if not f.path.endswith(".py"):
            continue
        text, reason = read_text(f.abspath)
        if text is None:
            skipped.append(SkippedFile(f.path, reason or "unreadable"))
            continue
        src = text.encode("utf-8", "surrogatepass")
        tree = parser.parse(src)
        if tree.root_node.has_error:
            error = _syntax_error(text, f.path)
            if error:
                skipped.append(SkippedFile(f.path, error))
                continue
        contexts.append(FileContext(f.path, text, src, tree, text.splitlines()))
    return contexts, sorted(skipped, key=lambda s: s.path)


def _syntax_error(text: str, path: str) -> str | None:
    """tree-sitter is error-tolerant; CPython decides whether the file really does not parse."""
    import ast
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text, filename=path)
    except SyntaxError as exc:
        return f"syntax error at line {exc.lineno}: {exc.msg}"
    except (ValueError, RecursionError, MemoryError) as exc:
        return f"cannot parse: {exc}"
    return None


def _noqa_codes(ctx: FileContext, line: int) -> set[str] | None:
    """None when the line has no noqa; an empty set for a bare ``# noqa``; else the lower-cased codes."""
    if not 0 < line <= len(ctx.lines):
        return None
    src_line = ctx.lines[line - 1]
    if "noqa" not in src_line.lower():
        return None
    m = _NOQA.search(src_line)
    if m is None:
        return None
    codes = m.group("codes")
    return {c.lower() for c in re.split(r"[\s,]+", codes) if c} if codes else set()


def _silenced(ctx: FileContext, f: RawFinding) -> bool:
    for line in {f.line, f.end_line}:
        codes = _noqa_codes(ctx, line)
        if codes is None:
            continue
        if not codes or f.rule.lower() in codes or f.topic in codes:
            return True
    return False


def _finish(raw: list[tuple[FileContext, RawFinding]], cfg: ReviewConfig, cards: list[Card]) -> list[Finding]:
    picked: dict[tuple[str, int, str], Finding] = {}
    for ctx, f in raw:
        if f.topic not in TOPICS:
            raise MentorError(f"internal: rule {f.rule} produced unknown topic {f.topic!r}")
        if cfg.disabled(f.topic, f.rule) or _silenced(ctx, f):
            continue
        if ctx.is_migration and f.topic in NOT_IN_MIGRATIONS:
            continue
        key = (ctx.path, f.line, f.topic)
        if key in picked:
            continue
        picked[key] = Finding(
            path=ctx.path, line=f.line, end_line=max(f.line, f.end_line), topic=f.topic, rule=f.rule,
            severity=f.severity or TOPIC_SEVERITY[f.topic], message=f.message,
            card=best_card(f.topic, f.hints, cards),
        )
    return sorted(picked.values(), key=lambda x: (SEVERITY_ORDER.get(x.severity, 9), x.path, x.line, x.topic))


def _load_cards(notes: list[str]) -> list[Card]:
    from mentor_local.knowledge import load_cards

    try:
        return load_cards()
    except MentorError as exc:
        notes.append(f"pattern cards not loaded ({exc.one_line()}); findings carry no card")
        return []


def best_card(topic: str, hints: tuple[str, ...], cards: list[Card]) -> str | None:
    """The card that teaches ``topic``: prefer cards whose id/title match the rule's hints, then focused cards."""
    best: tuple[float, str] | None = None
    for card in cards:
        if topic not in card.topics:
            continue
        words = f"{card.id} {card.title}".lower()
        score = sum(3.0 for h in hints if h.lower() in words)
        score += 2.0 if card.topics[0] == topic else 0.0
        score -= 0.5 * (len(card.topics) - 1)
        score += {"intermediate": 0.2, "basic": 0.1}.get(card.level, 0.0)
        if best is None or score > best[0] or (score == best[0] and card.id < best[1]):
            best = (score, card.id)
    return best[1] if best else None


def iter_topics(findings: Iterable[Finding]) -> Iterator[str]:
    seen: set[str] = set()
    for f in findings:
        if f.topic not in seen:
            seen.add(f.topic)
            yield f.topic
