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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mentor_local.analysis.config import ReviewConfig, load_review_config
from mentor_local.analysis.context import NOT_IN_MIGRATIONS, FileContext, RawFinding, relationship_names, schema_names
from mentor_local.domain import Finding, SkippedFile, severity_rank
from mentor_local.errors import MentorError
from mentor_local.knowledge import Card
from mentor_local.paths import check_repo
from mentor_local.topics import TOPICS

if TYPE_CHECKING:
    from mentor_local.indexing.discover import SourceFile

# Severity rule (README "Severity"): high = data loss, a security hole, or an outage when it happens;
# medium = a real defect with a bounded cost (a slow or stuck request, a lost background job, a hidden error);
# low = hygiene that makes the next bug likelier. These are the topic defaults; a rule that knows more
# (an import-time request with no timeout, a swallowed write in a migration) sets its own.
TOPIC_SEVERITY: dict[str, str] = {
    "sql-injection": "high", "command-injection": "high", "unsafe-deserialization": "high",
    "hardcoded-secret": "high", "weak-password-hash": "high", "insecure-random": "high",
    "debug-enabled": "high", "sensitive-data-logging": "high", "blocking-call-in-async": "high",
    "missing-timeout": "medium", "shared-state-race": "medium", "swallowed-exception": "medium",
    "resource-leak": "medium", "unbounded-memory": "medium", "n-plus-one-query": "medium",
    "task-without-retry": "medium", "sequential-awaits": "low", "unvalidated-input": "medium",
    "row-wise-pandas": "low", "mutable-default-argument": "low", "print-instead-of-logging": "low",
}
# Confidence: how often the rule is right on real code (scripts/bench/review_real). `mentor review` shows
# high-confidence findings; `--all` shows every one. A rule that knows more sets its own per finding.
TOPIC_CONFIDENCE: dict[str, str] = {topic: "high" for topic in TOPIC_SEVERITY} | {
    "sequential-awaits": "low", "unbounded-memory": "low", "n-plus-one-query": "medium",
    "unvalidated-input": "medium", "print-instead-of-logging": "medium", "mutable-default-argument": "medium",
}
# `# nosec` is bandit's marker for "a reviewer checked this line": it silences the security topics.
NOSEC_TOPICS = frozenset({"sql-injection", "command-injection", "unsafe-deserialization", "hardcoded-secret",
                          "weak-password-hash", "insecure-random", "debug-enabled", "sensitive-data-logging"})
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
    """Every tree-sitter check, in a fixed order: the first finding on a line and topic wins (ruff's come after)."""
    from mentor_local.analysis.rules import (
        awaits,
        blocking,
        data,
        debug,
        exceptions,
        http,
        injection,
        logging,
        secrets,
        shared_state,
        tasks,
        validation,
    )

    return (
        data.n_plus_one, data.row_wise_pandas, data.resource_leak,
        blocking.blocking_in_async, awaits.sequential_awaits, shared_state.shared_state,
        secrets.hardcoded_secrets, secrets.weak_password_hash, debug.debug_enabled, http.missing_timeouts,
        injection.shell_commands, logging.sensitive_logging, validation.unvalidated_input, tasks.task_without_retry,
        exceptions.suppress_exception, tasks.rq_enqueue_without_retry, secrets.url_credentials,
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
    workers: int = 1,
) -> ReviewReport:
    """Review the repo at ``path``: findings, skipped files and notes.

    ``workers > 1`` splits the files between forked processes (POSIX only). Only callers that know their
    process has no other threads should ask for it (the ``mentor review`` command does); the default is serial.
    """
    started = time.perf_counter()
    repo = _repo(path)
    cfg = config if config is not None else load_review_config(repo)
    if max_file_bytes is None:
        from mentor_local.settings import load_settings

        max_file_bytes = load_settings(repo).max_file_bytes
    notes: list[str] = []
    files, skipped = discover_python(repo, max_file_bytes)
    facts = repo_facts(files)
    chunks = _split(files, workers if _can_fork() and len(files) >= 2 * _MIN_FILES_PER_WORKER else 1)
    results: list[ChunkResult] = []
    if len(chunks) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(len(chunks) - 1, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(review_chunk, repo, chunk, cfg, facts) for chunk in chunks[1:]]
            results.append(review_chunk(repo, chunks[0], cfg, facts))
            results += [f.result() for f in futures]
    else:
        results.append(review_chunk(repo, files, cfg, facts))
    raw = [item for r in results for item in r.raw]
    skipped += [s for r in results for s in r.skipped]
    for r in results:
        notes += [n for n in r.notes if n not in notes]
    if cards is None:
        cards = _load_cards(notes)
    findings = _finish(raw, cards)
    return ReviewReport(str(repo), findings, sorted(skipped, key=lambda s: s.path), sum(r.reviewed for r in results),
                        round(time.perf_counter() - started, 3), notes)


_MIN_FILES_PER_WORKER = 40


@dataclass(frozen=True)
class RepoFacts:
    """What the per-file rules need to know about the whole repo."""

    relationships: frozenset[str] = frozenset()
    schemas: frozenset[str] = frozenset()


@dataclass
class ChunkResult:
    raw: list[tuple[str, RawFinding]]
    skipped: list[SkippedFile]
    reviewed: int
    notes: list[str]


def repo_facts(files: list[SourceFile]) -> RepoFacts:
    from mentor_local.indexing.discover import read_text

    texts = [t for f in files if (t := read_text(f.abspath)[0]) is not None]
    return RepoFacts(relationship_names(texts), schema_names(texts))


def review_chunk(repo: Path, files: list[SourceFile], cfg: ReviewConfig, facts: RepoFacts) -> ChunkResult:
    """Parse, check and ruff-lint some of the repo's files; return raw findings that survive noqa and config."""
    from mentor_local.analysis import ruff_rules

    contexts, skipped = parse_files(files)
    reviewed = [c for c in contexts if not c.is_test and not cfg.excluded(c.path)]
    for c in reviewed:
        c.relationships, c.schemas = facts.relationships, facts.schemas
    proc = ruff_rules.start_ruff(repo, [c.path for c in reviewed])
    raw: list[tuple[FileContext, RawFinding]] = []
    all_checks = checks()
    for ctx in reviewed:
        for check in all_checks:
            raw.extend((ctx, f) for f in check(ctx))
    ruff = ruff_rules.collect_ruff(repo, proc)
    by_path = {c.path: c for c in reviewed}
    for rel, items in ruff.by_path.items():
        found = by_path.get(rel)
        if found is not None:
            raw.extend((found, f) for f in ruff_rules.ruff_findings(found, items))
    kept = [(ctx.path, f) for ctx, f in raw if _keep(ctx, f, cfg)]
    return ChunkResult(kept, skipped, len(reviewed), [ruff.error] if ruff.error else [])


def _can_fork() -> bool:
    import os
    import sys

    return hasattr(os, "fork") and sys.platform != "darwin"


def _split(files: list[SourceFile], n: int) -> list[list[SourceFile]]:
    """``n`` chunks of about equal total size (parse and query time follow file size)."""
    if n <= 1:
        return [files]
    chunks: list[list[SourceFile]] = [[] for _ in range(n)]
    sizes = [0] * n
    for f in sorted(files, key=lambda f: -f.size):
        i = sizes.index(min(sizes))
        chunks[i].append(f)
        sizes[i] += f.size
    return [c for c in chunks if c]


def _repo(path: str | Path) -> Path:
    return check_repo(path)


def discover_python(repo: Path, max_file_bytes: int) -> tuple[list[SourceFile], list[SkippedFile]]:
    """The Python files indexing would see, and the skipped ``.py`` files with their reasons."""
    from mentor_local.indexing.discover import discover

    files, skipped_all = discover(repo, max_file_bytes=max_file_bytes)
    skipped = [s for s in skipped_all if s.path.endswith((".py", ".pyi")) and "ignored by" not in s.reason]
    return [f for f in files if f.path.endswith(".py")], skipped


def parse_files(files: list[SourceFile]) -> tuple[list[FileContext], list[SkippedFile]]:
    """Read and parse files; non-UTF-8, binary and syntax-error files come back as skipped with the reason."""
    from mentor_local.analysis import syntax
    from mentor_local.indexing.discover import read_text

    parser = syntax.parser()
    contexts: list[FileContext] = []
    skipped: list[SkippedFile] = []
    for f in files:
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
    return contexts, skipped


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
    if f.topic in NOSEC_TOPICS and any(0 < n <= len(ctx.lines) and re.search(r"#.*\bnosec\b", ctx.lines[n - 1])
                                       for n in {f.line, f.end_line}):
        return True
    for line in {f.line, f.end_line}:
        codes = _noqa_codes(ctx, line)
        if codes is None:
            continue
        if not codes or f.rule.lower() in codes or f.topic in codes or codes & _topic_codes(f.topic):
            return True
    return False


def _topic_codes(topic: str) -> set[str]:
    """The ruff/bandit codes of a topic (``# noqa: S105`` silences our own secret rule on that line too)."""
    from mentor_local.analysis.ruff_rules import RUFF_MAP

    codes = {code.lower() for code, (t, _, _) in RUFF_MAP.items() if t == topic}
    # flake8-bandit's S1xx-S7xx are bandit's B1xx-B7xx
    return codes | {"b" + c[1:] for c in codes if re.fullmatch(r"s[1-7]\d\d", c)}


def _keep(ctx: FileContext, f: RawFinding, cfg: ReviewConfig) -> bool:
    if f.topic not in TOPICS:
        raise MentorError(f"internal: rule {f.rule} produced unknown topic {f.topic!r}")
    if cfg.disabled(f.topic, f.rule) or _silenced(ctx, f):
        return False
    return not (ctx.is_migration and f.topic in NOT_IN_MIGRATIONS)


def _finish(raw: list[tuple[str, RawFinding]], cards: list[Card]) -> list[Finding]:
    picked: dict[tuple[str, int, str], Finding] = {}
    for path, f in raw:
        key = (path, f.line, f.topic)
        if key in picked:
            continue
        picked[key] = Finding(
            path=path, line=f.line, end_line=max(f.line, f.end_line), topic=f.topic, rule=f.rule,
            severity=f.severity or TOPIC_SEVERITY[f.topic], message=f.message,
            card=best_card(f.topic, f.hints, cards), confidence=f.confidence or TOPIC_CONFIDENCE[f.topic],
            why=f.why or f"rule {f.rule}",
        )
    return sorted(picked.values(), key=lambda x: (severity_rank(x.severity), x.path, x.line, x.topic))


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
