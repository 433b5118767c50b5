#!/usr/bin/env python3
"""Check the answer-quality question set (scripts/bench/answer_questions.jsonl).

Stdlib only. Verifies, for every line of the set:
  * valid JSON with the required fields and types;
  * at least 10 questions per corpus, exactly 12 "test" ones (4 per corpus);
  * every fact occurs as a whole word (grep -w semantics) in that corpus's .py
    sources and in no knowledge/*.md card, and no question text names one of its
    own facts;
  * every `where` entry names an existing file and a symbol that `ast` finds there
    with exactly those 1-based inclusive lines (start at the first decorator).

Usage (from the repository root):
    python3 scripts/bench/answer_questions_check.py --data bench-data/answer

Exit status 0 when the set is clean, 1 on any problem, 2 when the corpora are missing.
See scripts/bench/answer_questions.md for how to download the corpora.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

CORPORA = ("flask", "rq", "allauth")
SPLITS = ("dev", "test")
KINDS = ("how", "why", "risk", "change")
REQUIRED = {
    "id": str,
    "corpus": str,
    "split": str,
    "kind": str,
    "q": str,
    "facts": list,
    "where": list,
}
MIN_PER_CORPUS = 10
TEST_PER_CORPUS = 4
TEST_TOTAL = 12
FACTS_MIN, FACTS_MAX = 2, 5
WHERE_MIN, WHERE_MAX = 1, 3
ID_RE = re.compile(r"^(flask|rq|allauth)-\d{2}$")


def word_re(word: str) -> re.Pattern[str]:
    """A whole-word match as `grep -w` does it: no word character either side."""
    return re.compile(r"(?<![A-Za-z0-9_])" + re.escape(word) + r"(?![A-Za-z0-9_])")


def symbol_spans(path: Path) -> dict[str, list[tuple[int, int]]]:
    """Dotted qualified names of classes/functions (and module-level assigned
    names) in a file, each with its (start, end) lines; start includes decorators."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    spans: dict[str, list[tuple[int, int]]] = {}

    def walk(node: ast.AST, prefix: str, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + child.name
                start = min([child.lineno] + [d.lineno for d in child.decorator_list])
                spans.setdefault(name, []).append((start, child.end_lineno or child.lineno))
                walk(child, name + ".", False)
            elif top and isinstance(child, (ast.Assign, ast.AnnAssign)):
                targets = child.targets if isinstance(child, ast.Assign) else [child.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        spans.setdefault(target.id, []).append(
                            (child.lineno, child.end_lineno or child.lineno)
                        )

    walk(tree, "", True)
    return spans


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="bench-data/answer",
                        help="folder holding the corpus roots flask/, rq/, allauth/")
    parser.add_argument("--questions", default=str(HERE / "answer_questions.jsonl"))
    parser.add_argument("--knowledge", default=str(REPO / "knowledge"),
                        help="pattern-library folder whose *.md cards facts must avoid")
    args = parser.parse_args(argv)

    data = Path(args.data)
    if not data.is_absolute() and not data.exists():
        data = REPO / args.data
    missing = [c for c in CORPORA if not (data / c).is_dir()]
    if missing:
        print(f"corpora missing under {data}: {', '.join(missing)} "
              "(see scripts/bench/answer_questions.md for the download commands)",
              file=sys.stderr)
        return 2

    knowledge_dir = Path(args.knowledge)
    cards = sorted(knowledge_dir.glob("*.md"))
    if not cards:
        print(f"no knowledge cards found in {knowledge_dir}", file=sys.stderr)
        return 2
    card_text = {p.name: p.read_text(encoding="utf-8") for p in cards}

    sources: dict[str, str] = {}
    for corpus in CORPORA:
        files = sorted((data / corpus).rglob("*.py"))
        sources[corpus] = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files)

    problems: list[str] = []
    rows: list[dict] = []
    seen_ids: set[str] = set()
    span_cache: dict[Path, dict[str, list[tuple[int, int]]]] = {}

    lines = Path(args.questions).read_text(encoding="utf-8").splitlines()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            problems.append(f"line {lineno}: blank line")
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {lineno}: invalid JSON ({exc})")
            continue
        if not isinstance(row, dict):
            problems.append(f"line {lineno}: not a JSON object")
            continue
        where_id = f"line {lineno} ({row.get('id', '?')})"
        bad_fields = [k for k, t in REQUIRED.items() if not isinstance(row.get(k), t)]
        if bad_fields:
            problems.append(f"{where_id}: missing or mistyped fields {bad_fields}")
            continue
        extra = set(row) - set(REQUIRED)
        if extra:
            problems.append(f"{where_id}: unexpected fields {sorted(extra)}")
        rows.append(row)

        qid, corpus = row["id"], row["corpus"]
        if qid in seen_ids:
            problems.append(f"{where_id}: duplicate id")
        seen_ids.add(qid)
        if corpus not in CORPORA:
            problems.append(f"{where_id}: corpus {corpus!r} not one of {CORPORA}")
            continue
        if not ID_RE.match(qid) or not qid.startswith(corpus + "-"):
            problems.append(f"{where_id}: id should look like '{corpus}-NN'")
        if row["split"] not in SPLITS:
            problems.append(f"{where_id}: split {row['split']!r} not one of {SPLITS}")
        if row["kind"] not in KINDS:
            problems.append(f"{where_id}: kind {row['kind']!r} not one of {KINDS}")
        if not row["q"].strip():
            problems.append(f"{where_id}: empty question")

        facts = row["facts"]
        if not FACTS_MIN <= len(facts) <= FACTS_MAX:
            problems.append(f"{where_id}: {len(facts)} facts, want {FACTS_MIN}-{FACTS_MAX}")
        if len(set(map(str, facts))) != len(facts):
            problems.append(f"{where_id}: repeated fact")
        for fact in facts:
            if not isinstance(fact, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", fact):
                problems.append(f"{where_id}: fact {fact!r} is not an identifier")
                continue
            pattern = word_re(fact)
            if not pattern.search(sources[corpus]):
                problems.append(f"{where_id}: fact {fact!r} not found in {corpus} sources")
            in_cards = [name for name, text in card_text.items() if pattern.search(text)]
            if in_cards:
                problems.append(f"{where_id}: fact {fact!r} appears in knowledge cards {in_cards}")
            if pattern.search(row["q"]):
                problems.append(f"{where_id}: question text gives away fact {fact!r}")

        where = row["where"]
        if not WHERE_MIN <= len(where) <= WHERE_MAX:
            problems.append(f"{where_id}: {len(where)} where entries, want {WHERE_MIN}-{WHERE_MAX}")
        for loc in where:
            if not (isinstance(loc, dict)
                    and isinstance(loc.get("path"), str)
                    and isinstance(loc.get("symbol"), str)
                    and isinstance(loc.get("start"), int)
                    and isinstance(loc.get("end"), int)):
                problems.append(f"{where_id}: where entry {loc!r} needs path, symbol, start, end")
                continue
            path = data / corpus / loc["path"]
            if not path.is_file():
                problems.append(f"{where_id}: where path {loc['path']} not in {corpus}")
                continue
            if path not in span_cache:
                try:
                    span_cache[path] = symbol_spans(path)
                except SyntaxError as exc:
                    problems.append(f"{where_id}: cannot parse {loc['path']} ({exc})")
                    span_cache[path] = {}
            spans = span_cache[path].get(loc["symbol"])
            if not spans:
                problems.append(f"{where_id}: symbol {loc['symbol']} not in {loc['path']}")
            elif (loc["start"], loc["end"]) not in spans:
                problems.append(
                    f"{where_id}: {loc['path']}:{loc['symbol']} spans {spans}, "
                    f"not {loc['start']}-{loc['end']}"
                )

    per_corpus = Counter(r["corpus"] for r in rows)
    per_test = Counter(r["corpus"] for r in rows if r["split"] == "test")
    for corpus in CORPORA:
        if per_corpus[corpus] < MIN_PER_CORPUS:
            problems.append(f"{corpus}: {per_corpus[corpus]} questions, want at least {MIN_PER_CORPUS}")
        if per_test[corpus] != TEST_PER_CORPUS:
            problems.append(f"{corpus}: {per_test[corpus]} test questions, want {TEST_PER_CORPUS}")
    if sum(per_test.values()) != TEST_TOTAL:
        problems.append(f"{sum(per_test.values())} test questions in all, want {TEST_TOTAL}")

    for problem in problems:
        print(f"FAIL {problem}")
    summary = ", ".join(
        f"{c} {per_corpus[c]} ({per_corpus[c] - per_test[c]} dev / {per_test[c]} test)"
        for c in CORPORA
    )
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(Counter(r["kind"] for r in rows).items()))
    status = "OK" if not problems else f"{len(problems)} problem(s)"
    print(f"{status}: {len(rows)} questions: {summary}; kinds: {kinds}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
