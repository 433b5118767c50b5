"""`mentor profile PATH [--json]`: Python version, dependency manager, frameworks, async share, tests,
type checker and entry points of a repo."""

from __future__ import annotations

import argparse

from mentor_local.commands.common import add_json, emit_json, repo_path, settings_for


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "profile",
        help="describe a repo: Python version, dependency manager, frameworks, async share, tests, entry points",
        description=(
            "Describe a Python repo from its config files (pyproject.toml, lock files, .python-version, "
            "Dockerfile, requirements) and its imports."
        ),
    )
    p.add_argument("path", help="the repo folder to profile")
    add_json(p)
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from mentor_local.analysis.profile import profile
    from mentor_local.analysis.report import profile_text

    repo = repo_path(args.path)
    result = profile(repo, max_file_bytes=settings_for(args, repo).max_file_bytes)
    if args.json:
        emit_json(result.to_json())
    else:
        print(profile_text(result))
    return 0
