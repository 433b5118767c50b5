"""`mentor search QUERY --repo PATH`: hybrid search over the repo and the pattern library."""

from __future__ import annotations

import argparse
import sys

from mentor_local.commands.common import add_index_flags, add_json, emit_json, repo_path, settings_for


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "search", help="search the index (code and pattern cards)",
        description="Find code and pattern cards by meaning and by keyword (dense + FTS5, fused by reciprocal rank).",
        epilog="Examples:\n  mentor search 'where are passwords hashed' --repo .\n"
               "  mentor search 'retry a failing task' --repo . --source knowledge --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("query", help="what to look for, in your words or by name")
    p.add_argument("--repo", default=".", help="the indexed repo (default: the current directory)")
    p.add_argument("-k", type=int, default=10, help="how many results (default 10)")
    p.add_argument("--source", choices=("code", "knowledge", "all"), default="all", help="where to search")
    add_index_flags(p)
    add_json(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mentor_local.index import open_index

    repo = repo_path(args.repo)
    settings = settings_for(args, repo)
    with open_index(repo, args.index_dir, settings) as index:
        hits = index.search(args.query, k=args.k, source=args.source)
    if args.json:
        emit_json([h.to_json() for h in hits])
        return 0
    if not hits:
        print("No results.")
        return 0
    for n, h in enumerate(hits, 1):
        label = h.symbol or h.metadata.get("title") or h.kind
        sys.stdout.write(f"{n:>2}. {h.path}:{h.start_line}-{h.end_line}  {label}  [{h.source}, {h.score:.4f}]\n")
    return 0
